#!/usr/bin/env python3
"""A minimal agent in Python, standard library only, that follows the cdk-durable-agents contract.

It receives one task envelope (the ``TASK_ENVELOPE`` environment variable of a process or
container, or the event of a Lambda function), reads its input artifacts, produces a Markdown
artifact with a deterministic offline "model", writes it under the envelope's prefix (a file
below ``artifacts.local_dir`` locally, an S3 object in ``artifacts.bucket`` on AWS) and reports
once to ``callback.url`` with the task's token. On AWS the report and the S3 requests are
signed with SigV4 (implemented here with hmac and hashlib); local http callbacks are not.

Exit codes: 0 when the report was delivered (accepted, or refused with a final 4xx, which is
logged), 1 when it could not be delivered, 2 when there is no task.
"""

import datetime
import hashlib
import hmac
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ENVELOPE_ENV = "TASK_ENVELOPE"
OFFLINE_NOTICE = "Generated offline by the deterministic provider; no model was called."
OFFLINE_MODEL = "offline-deterministic-v1"
MAX_READ_BYTES = 5 * 1024 * 1024
ECS_CREDENTIALS_HOST = "http://169.254.170.2"
# Artifact each step of the reference workflow hands on (ReferenceWorkflows.researchReport).
ARTIFACT_BY_STEP = {"research": "research", "analysis": "analysis", "writing": "report"}


# --------------------------------------------------------------------------------------------
# Errors and logs
# --------------------------------------------------------------------------------------------


class AgentError(Exception):
    """A failure reported to the orchestrator with ``code``."""

    code = "AgentError"


class EnvelopeError(AgentError):
    code = "InvalidEnvelope"


class InputError(AgentError):
    code = "InputError"


class ModelError(AgentError):
    code = "ModelError"


class ArtifactError(AgentError):
    code = "ArtifactError"


class Logger:
    """One JSON object a line on stderr, with the task's workflow id, step name and agent."""

    def __init__(self, context=None, stream=None):
        self.context = dict(context or {})
        self.stream = stream

    def child(self, **context):
        return Logger({**self.context, **context}, self.stream)

    def log(self, level, message, **fields):
        line = {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "message": message,
            "workflow_id": self.context.get("workflow_id"),
            "step_name": self.context.get("step_name"),
            "agent": self.context.get("agent"),
        }
        for key, value in fields.items():
            line.setdefault(key, value)
        stream = self.stream or sys.stderr
        stream.write(json.dumps(line) + "\n")
        stream.flush()

    def info(self, message, **fields):
        self.log("info", message, **fields)

    def warn(self, message, **fields):
        self.log("warn", message, **fields)

    def error(self, message, **fields):
        self.log("error", message, **fields)


# --------------------------------------------------------------------------------------------
# Envelope
# --------------------------------------------------------------------------------------------


def _is_http_url(value):
    if not isinstance(value, str):
        return False
    parsed = urllib.parse.urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _describe(value):
    if value is None:
        return "it is missing or null"
    if isinstance(value, str):
        return "got an empty string" if value == "" else "got the string %s" % json.dumps(value[:60])
    return "got %s" % type(value).__name__


def parse_envelope(raw):
    """The envelope from JSON text or a dict; raises EnvelopeError naming every bad field."""
    value = raw
    if isinstance(raw, (str, bytes)):
        try:
            value = json.loads(raw)
        except ValueError as e:
            raise EnvelopeError("invalid task envelope: the envelope is not valid JSON (%s)" % e)
    if not isinstance(value, dict):
        raise EnvelopeError("invalid task envelope: expected a JSON object, %s" % _describe(value))
    problems = []

    def need_string(obj, key, path):
        if not isinstance(obj.get(key), str) or obj.get(key) == "":
            problems.append("field '%s': expected a non-empty string, %s" % (path, _describe(obj.get(key))))

    if value.get("envelope_version") != 1:
        problems.append("field 'envelope_version': this agent understands version 1, %s" % _describe(value.get("envelope_version")))
    for key in ("workflow_id", "step_name", "agent"):
        need_string(value, key, key)
    attempt = value.get("attempt")
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        problems.append("field 'attempt': expected a whole number from 1, %s" % _describe(attempt))
    if not isinstance(value.get("input"), dict):
        problems.append("field 'input': expected an object (the step input), %s" % _describe(value.get("input")))
    artifacts = value.get("artifacts")
    if not isinstance(artifacts, dict):
        problems.append("field 'artifacts': expected an object with prefix and bucket or local_dir, %s" % _describe(artifacts))
    else:
        need_string(artifacts, "prefix", "artifacts.prefix")
        if not artifacts.get("bucket") and not artifacts.get("local_dir"):
            problems.append("field 'artifacts': neither 'bucket' (S3) nor 'local_dir' (local runs) is set, so there is nowhere to write artifacts")
    callback = value.get("callback")
    if not isinstance(callback, dict):
        problems.append("field 'callback': expected an object with id, url, heartbeat_url and token, %s" % _describe(callback))
    else:
        need_string(callback, "id", "callback.id")
        need_string(callback, "token", "callback.token")
        if not _is_http_url(callback.get("url")):
            problems.append("field 'callback.url': expected an http(s) URL, %s" % _describe(callback.get("url")))
        if not isinstance(callback.get("heartbeat_url"), str):
            problems.append("field 'callback.heartbeat_url': expected a string, %s" % _describe(callback.get("heartbeat_url")))
    try:
        parse_time(value.get("deadline"))
    except (TypeError, ValueError):
        problems.append("field 'deadline': expected an ISO 8601 timestamp, %s" % _describe(value.get("deadline")))
    interval = value.get("heartbeat_interval_seconds")
    if interval is not None and (not isinstance(interval, (int, float)) or isinstance(interval, bool) or interval <= 0):
        problems.append("field 'heartbeat_interval_seconds': expected a positive number of seconds, %s" % _describe(interval))
    if problems:
        raise EnvelopeError("invalid task envelope: " + "; ".join(problems))
    return value


def parse_time(text):
    """Seconds since the epoch of an ISO 8601 timestamp such as 2026-01-01T00:00:00.000Z."""
    if not isinstance(text, str):
        raise TypeError("not a string")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


# --------------------------------------------------------------------------------------------
# SigV4
# --------------------------------------------------------------------------------------------


def _quote(text, safe="-_.~"):
    return urllib.parse.quote(text, safe=safe)


def sigv4_headers(method, url, headers, body, service, region, credentials, now=None):
    """The headers of a SigV4-signed request (AWS Signature Version 4, header form).

    ``body`` is bytes; ``credentials`` a dict with access_key, secret_key and optional token.
    The payload hash goes in x-amz-content-sha256. For S3 the path is encoded once; for other
    services (execute-api) each path segment is encoded again, as AWS requires.
    """
    parsed = urllib.parse.urlsplit(url)
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    payload_hash = hashlib.sha256(body).hexdigest()
    all_headers = {k.lower(): str(v).strip() for k, v in headers.items()}
    all_headers["host"] = parsed.netloc
    all_headers["x-amz-date"] = amz_date
    if credentials.get("token"):
        all_headers["x-amz-security-token"] = credentials["token"]
    # Required by S3, accepted by every service (and sent by the AWS SDKs' signer too).
    all_headers["x-amz-content-sha256"] = payload_hash
    path = parsed.path or "/"
    if service == "s3":
        canonical_path = path
    else:
        canonical_path = "/".join(_quote(segment) for segment in path.split("/"))
    query = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    canonical_query = "&".join("%s=%s" % (_quote(k), _quote(v)) for k, v in sorted(query))
    names = sorted(all_headers)
    canonical_headers = "".join("%s:%s\n" % (n, " ".join(all_headers[n].split())) for n in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join([method, canonical_path, canonical_query, canonical_headers, signed_headers, payload_hash])
    scope = "%s/%s/%s/aws4_request" % (day, region, service)
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = ("AWS4" + credentials["secret_key"]).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    all_headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        credentials["access_key"], scope, signed_headers, signature)
    return all_headers


_cached_credentials = {}


def resolve_credentials(env=None):
    """Credentials from the environment, else the ECS container credentials endpoint; None if neither."""
    env = os.environ if env is None else env
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return {"access_key": env["AWS_ACCESS_KEY_ID"], "secret_key": env["AWS_SECRET_ACCESS_KEY"], "token": env.get("AWS_SESSION_TOKEN") or None}
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        url = ECS_CREDENTIALS_HOST + env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
    elif env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        url = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
    else:
        return None
    cached = _cached_credentials.get(url)
    if cached and cached["expires"] - time.time() > 300:
        return cached["credentials"]
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        with open(env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], encoding="utf-8") as f:
            token = f.read().strip()
    if token:
        request.add_header("Authorization", token)
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read().decode("utf-8"))
    credentials = {"access_key": body["AccessKeyId"], "secret_key": body["SecretAccessKey"], "token": body.get("Token")}
    expires = parse_time(body["Expiration"]) if body.get("Expiration") else time.time() + 3600
    _cached_credentials[url] = {"credentials": credentials, "expires": expires}
    return credentials


def signing_region(host, env=None):
    env = os.environ if env is None else env
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region and ".execute-api." in host:
        region = host.split(".execute-api.")[1].split(".")[0]
    return region


# --------------------------------------------------------------------------------------------
# Artifacts
# --------------------------------------------------------------------------------------------


def check_key(key):
    if not isinstance(key, str) or not key or len(key) > 1024 or key.startswith("/") or "\\" in key or "\0" in key \
            or any(part in ("", ".", "..") for part in key.split("/")):
        raise ArtifactError("artifact key %r is not a plain relative path" % (key,))


def artifact_key(envelope, file_name):
    prefix = envelope["artifacts"]["prefix"]
    key = prefix + ("" if prefix.endswith("/") else "/") + file_name
    check_key(key)
    return key


class LocalStore:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.description = "local folder " + self.root

    def _file(self, key):
        check_key(key)
        path = os.path.realpath(os.path.join(self.root, *key.split("/")))
        if not path.startswith(self.root + os.sep):
            raise ArtifactError("artifact key %r leaves %s" % (key, self.root))
        return path

    def read(self, key):
        path = self._file(key)
        try:
            if os.path.getsize(path) > MAX_READ_BYTES:
                raise ArtifactError("artifact %r is larger than %d bytes" % (key, MAX_READ_BYTES))
            with open(path, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            raise ArtifactError("artifact %r not found (no file %s)" % (key, path))

    def write(self, key, text, content_type):
        path = self._file(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(temp, path)
        except OSError as e:
            raise ArtifactError("cannot write artifact %r to %s: %s" % (key, path, e))


class S3Store:
    """GetObject and PutObject over HTTPS with SigV4; AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) for emulators."""

    def __init__(self, bucket, env=None):
        self.env = os.environ if env is None else env
        self.bucket = bucket
        self.region = self.env.get("AWS_REGION") or self.env.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.description = "s3://" + bucket

    def _url(self, key):
        quoted = _quote(key, safe="-_.~/")
        endpoint = self.env.get("AWS_ENDPOINT_URL_S3") or self.env.get("AWS_ENDPOINT_URL")
        if endpoint:
            return "%s/%s/%s" % (endpoint.rstrip("/"), _quote(self.bucket), quoted)
        return "https://%s.s3.%s.amazonaws.com/%s" % (self.bucket, self.region, quoted)

    def _request(self, method, key, body=b"", headers=None):
        check_key(key)
        url = self._url(key)
        credentials = resolve_credentials(self.env)
        if not credentials:
            raise ArtifactError("no AWS credentials for s3://%s (set AWS_ACCESS_KEY_ID or run with a task role)" % self.bucket)
        signed = sigv4_headers(method, url, headers or {}, body, "s3", self.region, credentials)
        request = urllib.request.Request(url, data=body if method == "PUT" else None, method=method, headers=signed)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read(MAX_READ_BYTES + 1)
        except urllib.error.HTTPError as e:
            detail = e.read(300).decode("utf-8", "replace")
            if e.code == 404:
                raise ArtifactError("artifact %r not found in s3://%s" % (key, self.bucket))
            raise ArtifactError("S3 %s s3://%s/%s answered %d: %s" % (method, self.bucket, key, e.code, detail))
        except (urllib.error.URLError, OSError) as e:
            raise ArtifactError("S3 %s s3://%s/%s failed: %s" % (method, self.bucket, key, e))

    def read(self, key):
        data = self._request("GET", key)
        if len(data) > MAX_READ_BYTES:
            raise ArtifactError("artifact %r is larger than %d bytes" % (key, MAX_READ_BYTES))
        return data.decode("utf-8")

    def write(self, key, text, content_type):
        self._request("PUT", key, text.encode("utf-8"), {"Content-Type": content_type})


def store_for(envelope, env=None):
    artifacts = envelope["artifacts"]
    if artifacts.get("bucket"):
        return S3Store(artifacts["bucket"], env)
    return LocalStore(artifacts["local_dir"])


# --------------------------------------------------------------------------------------------
# The offline "model"
# --------------------------------------------------------------------------------------------


def offline_text(title, material):
    """A deterministic outline of the input lines: the same input always gives the same text."""
    fingerprint = hashlib.sha256(("%s\n\n%s" % (title, "\n".join(material))).encode("utf-8")).hexdigest()[:16]
    lines = [
        "# %s" % title,
        "",
        "> **Offline draft.** %s" % OFFLINE_NOTICE,
        "> Request fingerprint: `%s` (SHA-256 of the input)." % fingerprint,
        "",
        "## Summary",
        "",
        "An outline of %d line(s) of input." % len(material),
        "",
        "## Input",
        "",
    ]
    lines.extend("- %s" % line for line in material[:20])
    if not material:
        lines.append("- Nothing in the input to outline.")
    return "\n".join(lines) + "\n"


def material_lines(texts):
    seen, out = set(), []
    for text in texts:
        for raw in text.splitlines():
            line = raw.strip().lstrip("#>-*+ ").strip()
            if len(line) < 3 or OFFLINE_NOTICE in line or line.lower().startswith("request fingerprint") or line in seen:
                continue
            seen.add(line)
            out.append(line[:200])
    return out


# --------------------------------------------------------------------------------------------
# Callback
# --------------------------------------------------------------------------------------------


def post_callback(url, token, body, deadline, logger, kind="report", max_attempts=5, base_delay=0.5,
                  max_delay=8.0, margin=1.0, env=None):
    """POSTs JSON with the token. 2xx accepted; 4xx (but 408/429) final; 5xx and network errors retried.

    Returns a dict: outcome ('accepted', 'refused' or 'undelivered'), status, message, attempts.
    """
    payload = json.dumps(body).encode("utf-8")
    last = {"status": None, "error": "not sent"}
    for attempt in range(1, max_attempts + 1):
        try:
            headers = {"Content-Type": "application/json", "X-Callback-Token": token}
            parsed = urllib.parse.urlsplit(url)
            if parsed.scheme == "https":
                credentials = resolve_credentials(env)
                if credentials:
                    region = signing_region(parsed.hostname or "", env)
                    if not region:
                        raise RuntimeError("cannot sign the %s for %s: set AWS_REGION" % (kind, parsed.netloc))
                    headers = sigv4_headers("POST", url, headers, payload, "execute-api", region, credentials)
            request = urllib.request.Request(url, data=payload, method="POST", headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                logger.info("%s accepted" % kind, status=response.status, attempts=attempt)
                return {"outcome": "accepted", "status": response.status, "attempts": attempt}
        except urllib.error.HTTPError as e:
            message = _error_message(e.read(2000).decode("utf-8", "replace"))
            if not (e.code >= 500 or e.code in (408, 429)):
                logger.error("%s refused; not retrying (a %d is final)" % (kind, e.code), status=e.code, answer=message, attempts=attempt)
                return {"outcome": "refused", "status": e.code, "message": message, "attempts": attempt}
            last = {"status": e.code, "error": message}
        except Exception as e:  # network errors, timeouts, credential endpoint failures
            last = {"status": None, "error": str(e)}
        if attempt == max_attempts:
            break
        ceiling = min(max_delay, base_delay * 2 ** (attempt - 1))
        delay = ceiling / 2 + random.random() * ceiling / 2
        if time.time() + delay > deadline - margin:
            logger.warn("%s failed; no time left before the deadline for another try" % kind, attempts=attempt, **last)
            return {"outcome": "undelivered", "status": last["status"], "message": last["error"], "attempts": attempt}
        logger.warn("%s failed; retrying" % kind, attempt=attempt, retry_in_s=round(delay, 3), **last)
        time.sleep(delay)
    logger.error("%s could not be delivered" % kind, attempts=max_attempts, **last)
    return {"outcome": "undelivered", "status": last["status"], "message": last["error"], "attempts": max_attempts}


def _error_message(text):
    try:
        body = json.loads(text)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"]
    except ValueError:
        pass
    return text[:500] or "(empty answer)"


class Heartbeats:
    """Heartbeats every heartbeat_interval_seconds in a background thread while the work runs."""

    def __init__(self, envelope, logger, env=None):
        self.stopped = threading.Event()
        self.thread = None
        interval = envelope.get("heartbeat_interval_seconds")
        url = envelope["callback"].get("heartbeat_url")
        if not interval or not url:
            return
        deadline = parse_time(envelope["deadline"])

        def run():
            while not self.stopped.wait(interval):
                result = post_callback(url, envelope["callback"]["token"], {}, deadline, logger, "heartbeat", max_attempts=2, env=env)
                if result["outcome"] == "refused":
                    return

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopped.set()


# --------------------------------------------------------------------------------------------
# The task
# --------------------------------------------------------------------------------------------


def is_artifact_key(value):
    return isinstance(value, str) and value.startswith("agents/") and not any(c.isspace() for c in value)


def work(envelope, store, logger, env):
    """Reads the inputs, runs the offline model, writes the artifact; returns the report."""
    provider = (env.get("AGENT_MODEL_PROVIDER") or "offline").strip().lower()
    if provider != "offline":
        raise ModelError("AGENT_MODEL_PROVIDER %r is not supported by the python-minimal agent: it has only the offline provider" % provider)
    texts = []
    for name, value in sorted(envelope["input"].items()):
        if is_artifact_key(value):
            try:
                content = store.read(value)
            except ArtifactError as e:
                raise InputError("input '%s': %s" % (name, e))
            logger.info("input artifact read", input=name, key=value, characters=len(content))
            texts.append(content)
        elif value is not None:
            texts.append("%s: %s" % (name, value if isinstance(value, str) else json.dumps(value, sort_keys=True)))
    topic = envelope["input"].get("topic")
    title = topic.strip() if isinstance(topic, str) and topic.strip() else "%s of %s" % (envelope["step_name"], envelope["workflow_id"])
    text = offline_text(title, material_lines(texts))
    name = env.get("AGENT_ARTIFACT_NAME") or ARTIFACT_BY_STEP.get(envelope["step_name"], "output")
    key = artifact_key(envelope, name + ".md")
    store.write(key, text, "text/markdown; charset=utf-8")
    logger.info("artifact written", artifact=name, key=key, store=store.description, bytes=len(text.encode("utf-8")))
    return {
        "status": "succeeded",
        "artifacts": {name: key},
        "output": {"provider": "offline", "model": OFFLINE_MODEL, "offline": True, "characters": len(text)},
    }


def run(raw, env=None):
    """Runs one task from its envelope (JSON text or dict). Returns the delivery of the report."""
    env = os.environ if env is None else env
    logger = Logger({"agent": "python-minimal"})
    try:
        envelope = parse_envelope(raw)
    except EnvelopeError as e:
        logger.error("cannot run the task", code=e.code, error=str(e))
        callback = raw.get("callback") if isinstance(raw, dict) else None
        if callback is None and isinstance(raw, (str, bytes)):
            try:
                callback = json.loads(raw).get("callback")
            except (ValueError, AttributeError):
                callback = None
        if isinstance(callback, dict) and _is_http_url(callback.get("url")) and isinstance(callback.get("token"), str) and callback["token"]:
            report = {"status": "failed", "error": {"code": e.code, "message": str(e)[:4000]}}
            return post_callback(callback["url"], callback["token"], report, time.time() + 60, logger, env=env)
        return {"outcome": "undelivered", "status": None, "message": "the envelope has no usable callback", "attempts": 0}
    logger = logger.child(workflow_id=envelope["workflow_id"], step_name=envelope["step_name"], agent=envelope["agent"])
    logger.info("task received", attempt=envelope["attempt"], deadline=envelope["deadline"], callback_id=envelope["callback"]["id"])
    heartbeats = Heartbeats(envelope, logger, env)
    try:
        report = work(envelope, store_for(envelope, env), logger, env)
    except AgentError as e:
        logger.error("task failed", code=e.code, error=str(e))
        report = {"status": "failed", "error": {"code": e.code, "message": str(e)[:4000]}}
    except Exception as e:  # anything else still ends in one report
        logger.error("task failed", code="AgentError", error=repr(e))
        report = {"status": "failed", "error": {"code": "AgentError", "message": repr(e)[:4000]}}
    finally:
        heartbeats.stop()
    return post_callback(envelope["callback"]["url"], envelope["callback"]["token"], report,
                         parse_time(envelope["deadline"]), logger, env=env)


def handler(event, context=None):
    """Lambda entry point (handler ``agent.handler``): the event is the envelope."""
    delivery = run(event)
    if delivery["outcome"] == "undelivered":
        raise RuntimeError("the report could not be delivered: %s" % delivery.get("message"))
    return {"report": delivery["outcome"], "report_status": delivery.get("status")}


def main():
    raw = os.environ.get(ENVELOPE_ENV)
    if not raw:
        Logger({"agent": "python-minimal"}).error("no task: set %s to the task envelope (JSON)" % ENVELOPE_ENV)
        return 2
    return 1 if run(raw)["outcome"] == "undelivered" else 0


if __name__ == "__main__":
    sys.exit(main())
