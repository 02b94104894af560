"""The task envelope an agent receives, parsed and checked before anything else happens.

The same fields and checks as the Node kit (``agents/kit/src/envelope.ts``): a malformed task
fails with a message that names every bad field and what is expected. Fields this kit does not
know are ignored, so a newer runtime can add some.
"""

import datetime
import json
import math
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional

#: Environment variable that carries the envelope (JSON) to a container or process agent.
ENVELOPE_ENV = "TASK_ENVELOPE"

#: Header that carries the callback token (see src/contract/status.ts).
CALLBACK_TOKEN_HEADER = "X-Callback-Token"

#: The envelope version this kit understands.
ENVELOPE_VERSION = 1


class EnvelopeError(ValueError):
    """A task envelope that cannot be used. ``problems`` names each bad field."""

    def __init__(self, problems: List[str]):
        self.problems = list(problems)
        super().__init__("invalid task envelope: " + "; ".join(self.problems))


def js_length(text: str) -> int:
    """The length of a string as JavaScript counts it (UTF-16 code units), as the Node kit reports it."""
    return len(text.encode("utf-16-le")) // 2


def js_slice(text: str, end: int) -> str:
    """The first ``end`` UTF-16 code units of a string (``text.slice(0, end)`` in JavaScript)."""
    if js_length(text) <= end:
        return text
    return text.encode("utf-16-le")[: end * 2].decode("utf-16-le", errors="ignore")


def _js_number(value: Any) -> str:
    """A number as JSON.stringify writes it (1.0 is 1)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return json.dumps(value)


def _describe(value: Any, missing: bool = False) -> str:
    if missing:
        return "it is missing"
    if value is None:
        return "got null"
    if isinstance(value, list):
        return "got an array"
    if isinstance(value, str):
        return "got an empty string" if value == "" else "got the string %s" % json.dumps(js_slice(value, 60), ensure_ascii=False)
    if isinstance(value, dict):
        return "got an object"
    if isinstance(value, bool):
        return "got boolean %s" % ("true" if value else "false")
    if isinstance(value, (int, float)):
        return "got number %s" % _js_number(value)
    return "got %s" % type(value).__name__


_MISSING = object()


def _get(obj: Mapping[str, Any], key: str) -> Any:
    return obj.get(key, _MISSING)


def _describe_field(value: Any) -> str:
    return _describe(None, missing=True) if value is _MISSING else _describe(value)


def is_http_url(value: Any) -> bool:
    """Whether a value is an absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return False
    try:
        parsed = urllib.parse.urlsplit(value)
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def parse_time(text: Any) -> float:
    """Seconds since the epoch of an ISO 8601 timestamp such as ``2026-01-01T00:00:00.000Z``.

    A time without a zone is taken as UTC. Raises ``ValueError`` when it is not a timestamp.
    """
    if not isinstance(text, str) or text.strip() == "":
        raise ValueError("not a timestamp: %r" % (text,))
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _loads(raw: Any) -> Any:
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8")
    return json.loads(raw)


def parse_envelope(raw: Any) -> Dict[str, Any]:
    """Parses an envelope from its JSON text (the ``TASK_ENVELOPE`` variable) or a dict (a Lambda event).

    Returns the envelope (a dict). Raises :class:`EnvelopeError` listing every field that is
    missing or wrong.
    """
    value = raw
    if isinstance(raw, (str, bytes, bytearray)):
        try:
            value = _loads(raw)
        except ValueError as e:
            raise EnvelopeError(["the envelope is not valid JSON (%s)" % e]) from None
    if not isinstance(value, dict):
        raise EnvelopeError(["expected a JSON object, %s" % _describe(value)])
    problems: List[str] = []

    def field(path: str, v: Any, expected: str) -> None:
        problems.append("field '%s': expected %s, %s" % (path, expected, _describe_field(v)))

    def require_string(obj: Mapping[str, Any], key: str, path: Optional[str] = None) -> None:
        v = _get(obj, key)
        if not isinstance(v, str) or v == "":
            field(path or key, v, "a non-empty string")

    version = _get(value, "envelope_version")
    if not (_is_number(version) and version == ENVELOPE_VERSION):
        if _is_number(version):
            problems.append("field 'envelope_version': this agent understands version %d, got %s (update the agent)"
                            % (ENVELOPE_VERSION, _js_number(version)))
        else:
            problems.append("field 'envelope_version': expected %d, %s" % (ENVELOPE_VERSION, _describe_field(version)))
    require_string(value, "workflow_id")
    require_string(value, "step_name")
    require_string(value, "agent")
    attempt = _get(value, "attempt")
    if not (_is_number(attempt) and float(attempt).is_integer() and attempt >= 1):
        field("attempt", attempt, "a whole number from 1")
    if not isinstance(_get(value, "input"), dict):
        field("input", _get(value, "input"), "an object (the step input)")

    artifacts = _get(value, "artifacts")
    if not isinstance(artifacts, dict):
        field("artifacts", artifacts, "an object with prefix and bucket or local_dir")
    else:
        require_string(artifacts, "prefix", "artifacts.prefix")
        for key in ("bucket", "local_dir"):
            v = _get(artifacts, key)
            if v is not _MISSING and (not isinstance(v, str) or v == ""):
                field("artifacts.%s" % key, v, "a non-empty string when present")
        if "bucket" not in artifacts and "local_dir" not in artifacts:
            problems.append("field 'artifacts': neither 'bucket' (S3) nor 'local_dir' (local runs) is set, "
                            "so there is nowhere to write artifacts")

    callback = _get(value, "callback")
    if not isinstance(callback, dict):
        field("callback", callback, "an object with id, url, heartbeat_url and token")
    else:
        require_string(callback, "id", "callback.id")
        require_string(callback, "token", "callback.token")
        if not is_http_url(_get(callback, "url")):
            field("callback.url", _get(callback, "url"), "an http(s) URL")
        heartbeat_url = _get(callback, "heartbeat_url")
        if not isinstance(heartbeat_url, str):
            field("callback.heartbeat_url", heartbeat_url, "a string (the heartbeat URL)")
        elif "heartbeat_interval_seconds" in value and not is_http_url(heartbeat_url):
            field("callback.heartbeat_url", heartbeat_url, "an http(s) URL when heartbeat_interval_seconds is set")

    deadline = _get(value, "deadline")
    try:
        parse_time(deadline)
    except (TypeError, ValueError):
        field("deadline", deadline, "an ISO 8601 timestamp")
    interval = _get(value, "heartbeat_interval_seconds")
    if interval is not _MISSING and not (_is_number(interval) and math.isfinite(interval) and interval > 0):
        field("heartbeat_interval_seconds", interval, "a positive number of seconds when present")

    if problems:
        raise EnvelopeError(problems)
    return value


def salvage_callback(raw: Any) -> Optional[Dict[str, str]]:
    """The callback part of a value that failed :func:`parse_envelope`, when it is usable.

    A task whose envelope is broken elsewhere can still report that it failed.
    """
    value = raw
    if isinstance(raw, (str, bytes, bytearray)):
        try:
            value = _loads(raw)
        except ValueError:
            return None
    if not isinstance(value, dict) or not isinstance(value.get("callback"), dict):
        return None
    callback = value["callback"]
    token, url = callback.get("token"), callback.get("url")
    if not isinstance(token, str) or token == "" or not is_http_url(url):
        return None
    cid, heartbeat_url = callback.get("id"), callback.get("heartbeat_url")
    return {
        "id": cid if isinstance(cid, str) else "",
        "url": url,
        "token": token,
        "heartbeat_url": heartbeat_url if isinstance(heartbeat_url, str) else "",
    }
