"""Reading and writing artifacts where the envelope says, as the Node kit does
(``agents/kit/src/artifacts.ts``): S3 (``artifacts.bucket``) when deployed, files under
``artifacts.local_dir`` in local runs (the key is the path below that folder)."""

import os
import re
import time
from typing import Any, Mapping, Optional, Union

from .aws import boto3_client

#: Largest input artifact read (prompts are built from them).
MAX_READ_BYTES = 5 * 1024 * 1024

Body = Union[str, bytes]


class ArtifactError(Exception):
    """An artifact that cannot be read or written. Reported with code ``ArtifactError``."""


def check_key(key: str) -> None:
    """Keys that name one object below the root: no empty, ``.`` or ``..`` segment, no backslash or NUL."""
    if not isinstance(key, str) or len(key) == 0 or len(key) > 1024:
        raise ArtifactError("artifact key must be 1 to 1024 characters, got %s" % (len(key) if isinstance(key, str) else type(key).__name__))
    if re.search(r"[\\\0]", key) or key.startswith("/") or any(s in ("", ".", "..") for s in key.split("/")):
        raise ArtifactError("artifact key '%s' is not a plain relative path (no leading '/', empty, '.' or '..' segments, backslashes)" % key)


def artifact_key(envelope: Mapping[str, Any], file_name: str) -> str:
    """The key of a file this task writes: the envelope's prefix plus the file name."""
    prefix = envelope["artifacts"]["prefix"]
    key = prefix + ("" if prefix.endswith("/") else "/") + file_name
    check_key(key)
    return key


def _as_bytes(body: Body) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


class LocalArtifactStore:
    """Files below a folder (local runs). Writes are atomic: a temporary file, then a rename."""

    def __init__(self, directory: str):
        self.root = os.path.realpath(directory)
        self.description = "local folder %s" % self.root

    def _file_of(self, key: str) -> str:
        check_key(key)
        path = os.path.realpath(os.path.join(self.root, *key.split("/")))
        if not path.startswith(self.root + os.sep):
            raise ArtifactError("artifact key '%s' leaves %s" % (key, self.root))
        return path

    def read_bytes(self, key: str) -> bytes:
        path = self._file_of(key)
        try:
            size = os.stat(path).st_size
            if size > MAX_READ_BYTES:
                raise ArtifactError("artifact '%s' is %d bytes; at most %d are read" % (key, size, MAX_READ_BYTES))
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise ArtifactError("artifact '%s' not found (no file %s)" % (key, path)) from None
        except OSError as e:
            raise ArtifactError("cannot read artifact '%s' from %s: %s" % (key, path, e)) from None

    def read(self, key: str) -> str:
        return _decode(key, self.read_bytes(key))

    def write(self, key: str, body: Body, content_type: Optional[str] = None) -> None:
        path = self._file_of(key)
        temp = "%s.%d.%d.tmp" % (path, os.getpid(), time.time_ns())
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(temp, "wb") as f:
                f.write(_as_bytes(body))
            os.replace(temp, path)
        except OSError as e:
            try:
                os.remove(temp)
            except OSError:
                pass
            raise ArtifactError("cannot write artifact '%s' to %s: %s" % (key, path, e)) from None


def _decode(key: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ArtifactError("artifact '%s' is not UTF-8 text (use read_bytes for binary artifacts)" % key) from None


def default_s3_client() -> Any:
    """An S3 client for AWS_REGION with the default credential chain; path-style addressing when
    ``AGENT_S3_FORCE_PATH_STYLE`` is ``true`` (an emulator at ``AWS_ENDPOINT_URL_S3``)."""
    if os.environ.get("AGENT_S3_FORCE_PATH_STYLE") == "true":
        from botocore.config import Config
        return boto3_client("s3", config=Config(s3={"addressing_style": "path"}))
    return boto3_client("s3")


def _error_name(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(e).__name__


class S3ArtifactStore:
    """One S3 bucket (GetObject, PutObject). The client is made at the first use unless given."""

    def __init__(self, bucket: str, client: Any = None):
        self.bucket = bucket
        self._client = client
        self.description = "s3://%s" % bucket

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = default_s3_client()
        return self._client

    def read_bytes(self, key: str) -> bytes:
        check_key(key)
        try:
            res = self.client.get_object(Bucket=self.bucket, Key=key)
            length = res.get("ContentLength")
            if length is not None and length > MAX_READ_BYTES:
                raise ArtifactError("artifact '%s' is %d bytes; at most %d are read" % (key, length, MAX_READ_BYTES))
            return res["Body"].read()
        except ArtifactError:
            raise
        except Exception as e:
            name = _error_name(e)
            if name in ("NoSuchKey", "404"):
                raise ArtifactError("artifact '%s' not found in s3://%s" % (key, self.bucket)) from None
            raise ArtifactError("cannot read artifact s3://%s/%s: %s: %s" % (self.bucket, key, name, e)) from None

    def read(self, key: str) -> str:
        return _decode(key, self.read_bytes(key))

    def write(self, key: str, body: Body, content_type: Optional[str] = None) -> None:
        check_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=_as_bytes(body),
                                   ContentType=content_type or "application/octet-stream")
        except Exception as e:
            raise ArtifactError("cannot write artifact s3://%s/%s: %s: %s" % (self.bucket, key, _error_name(e), e)) from None


def artifact_store_for(envelope: Mapping[str, Any], s3_client: Any = None):
    """The store of an envelope: S3 when it names a bucket, else its local folder."""
    artifacts = envelope["artifacts"]
    if artifacts.get("bucket"):
        return S3ArtifactStore(artifacts["bucket"], s3_client)
    if artifacts.get("local_dir"):
        return LocalArtifactStore(artifacts["local_dir"])
    raise ArtifactError("the envelope names neither artifacts.bucket nor artifacts.local_dir")
