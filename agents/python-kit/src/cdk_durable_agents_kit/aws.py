"""What the kit needs from AWS, through boto3 and botocore (the ``aws`` extra), imported only when used.

- Credentials: botocore's default chain (environment variables, the shared config and
  credentials files and profiles, SSO, a credential process, a web identity token file, the
  container credentials endpoint of an ECS task or EKS Pod Identity, EC2 instance metadata),
  cached and refreshed by botocore before temporary credentials run out.
- SigV4: botocore's ``SigV4Auth`` for the callback route (API Gateway with IAM authorization,
  service ``execute-api``).
- Clients: S3 (artifacts), Bedrock Runtime (Converse), Secrets Manager (secrets at start).

Running locally needs none of this: the local server's callback is plain http and its
artifacts are files.
"""

import os
import re
import threading
import urllib.parse
from typing import Any, Dict, Mapping, Optional

INSTALL_HINT = "install the kit's AWS extra: pip install 'cdk-durable-agents-kit[aws]' (boto3 and botocore)"


class AwsUnavailableError(RuntimeError):
    """boto3/botocore are needed for this and are not installed."""


def _botocore():
    try:
        import botocore.session  # noqa: F401  (the submodules used below)
        import botocore.auth  # noqa: F401
        import botocore.awsrequest  # noqa: F401
        import botocore.credentials  # noqa: F401
    except ImportError as e:
        raise AwsUnavailableError("botocore is not installed: %s" % INSTALL_HINT) from e
    import botocore
    return botocore


def botocore_available() -> bool:
    """Whether botocore can be imported."""
    try:
        _botocore()
    except AwsUnavailableError:
        return False
    return True


def boto3_client(service: str, **kwargs: Any) -> Any:
    """A boto3 client (region from ``AWS_REGION``, endpoint overrides such as ``AWS_ENDPOINT_URL_S3`` honoured)."""
    try:
        import boto3
    except ImportError as e:
        raise AwsUnavailableError("boto3 is not installed, so %s cannot be called: %s" % (service, INSTALL_HINT)) from e
    return boto3.client(service, **kwargs)


class CredentialsError(RuntimeError):
    """A configured credential source that fails (not its absence)."""


class CredentialResolver:
    """Finds credentials to sign with: botocore's default chain, once per resolver (it caches and refreshes).

    ``resolve()`` returns botocore frozen credentials (``access_key``, ``secret_key``, ``token``),
    or ``None`` when no source is configured or botocore is not installed (``missing_reason`` says which).
    """

    def __init__(self, session: Any = None):
        self._session = session
        self._credentials: Any = None
        self._lock = threading.Lock()
        self.missing_reason = "no AWS credentials found"

    def resolve(self) -> Any:
        with self._lock:
            if self._credentials is None:
                try:
                    botocore = _botocore()
                except AwsUnavailableError as e:
                    self.missing_reason = str(e)
                    return None
                session = self._session or botocore.session.get_session()
                try:
                    self._credentials = session.get_credentials()
                except Exception as e:  # a configured source that fails: worth saying, and retrying
                    raise CredentialsError("cannot get AWS credentials to sign with: %s: %s" % (type(e).__name__, e)) from e
                if self._credentials is None:
                    self.missing_reason = "no AWS credentials found"
                    return None
            try:
                return self._credentials.get_frozen_credentials()
            except Exception as e:
                raise CredentialsError("cannot refresh the AWS credentials to sign with: %s: %s" % (type(e).__name__, e)) from e


class StaticCredentials:
    """Fixed credentials (tests, or keys an agent was given): the shape of botocore's frozen credentials."""

    def __init__(self, access_key: str, secret_key: str, token: Optional[str] = None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token

    def resolve(self) -> "StaticCredentials":
        return self


_EXECUTE_API_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


def signing_region(url: str, env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The region to sign for: AWS_REGION, AWS_DEFAULT_REGION, or the one in an execute-api host name."""
    env = os.environ if env is None else env
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        return region
    match = _EXECUTE_API_HOST.search(urllib.parse.urlsplit(url).hostname or "")
    return match.group(1) if match else None


def sign_request(method: str, url: str, headers: Mapping[str, str], body: bytes, credentials: Any,
                 region: str, service: str = "execute-api") -> Dict[str, str]:
    """The headers of a SigV4-signed request (the given ones plus host, x-amz-date, authorization, ...), by botocore."""
    botocore = _botocore()
    frozen = botocore.credentials.Credentials(credentials.access_key, credentials.secret_key, getattr(credentials, "token", None))
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    botocore.auth.SigV4Auth(frozen, service, region).add_auth(request)
    return {k: v for k, v in request.headers.items()}
