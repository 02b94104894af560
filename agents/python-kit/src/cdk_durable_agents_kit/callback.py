"""Talking to the orchestrator: the one report of a task and its heartbeats.

The same semantics as the Node kit (``agents/kit/src/callback.ts``). An answer 2xx is accepted.
A 4xx is final (400 bad report, 401/403 token, 404 unknown callback, 409 duplicate, late or no
longer waiting): it is logged and never retried, because sending the same thing again cannot
change it. 429 (throttled), 408, 5xx and network errors are retried with exponential backoff
and jitter until the tries run out or the next try would come too close to the task's deadline.
Requests to https URLs are SigV4-signed when credentials are found (the route uses IAM
authorization; botocore's credential chain); plain http (local runs) is not.
"""

import json
import random as _random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Mapping, Optional

from .aws import CredentialResolver, sign_request, signing_region
from .envelope import CALLBACK_TOKEN_HEADER, parse_time
from .log import Logger


@dataclass(frozen=True)
class Delivery:
    """What became of a request to the orchestrator.

    ``outcome`` is ``accepted`` (2xx), ``refused`` (a final 4xx: the orchestrator will not take
    it) or ``undelivered`` (every try failed with a 5xx or a network error, or the deadline came
    too close).
    """

    outcome: str
    attempts: int
    status: Optional[int] = None
    message: Optional[str] = None


class HttpAnswer:
    """The status and body of an HTTP answer."""

    def __init__(self, status: int, body: bytes):
        self.status = status
        self.body = body


def urllib_send(method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> HttpAnswer:
    """Sends one request with urllib (no proxies, as Node's fetch); any HTTP status is an answer, not an error."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    try:
        with opener.open(request, timeout=timeout) as res:
            return HttpAnswer(res.status, res.read())
    except urllib.error.HTTPError as e:
        try:
            return HttpAnswer(e.code, e.read())
        finally:
            e.close()


_shared_resolver: Optional[CredentialResolver] = None
_shared_lock = threading.Lock()


def _default_resolver() -> CredentialResolver:
    """One botocore chain per process, so that its cached credentials serve every report and heartbeat."""
    global _shared_resolver
    with _shared_lock:
        if _shared_resolver is None:
            _shared_resolver = CredentialResolver()
        return _shared_resolver


@dataclass(frozen=True)
class DeliveryOptions:
    """Retries of the report and heartbeats (the Node kit's defaults)."""

    #: Tries in all, the first included.
    max_attempts: int = 5
    #: Pause before the second try (seconds); it doubles for each further one (with jitter).
    base_delay: float = 0.5
    #: Longest pause between tries (seconds).
    max_delay: float = 8.0
    #: Timeout of one request (seconds).
    request_timeout: float = 10.0
    #: No try starts later than this before the deadline (seconds).
    deadline_margin: float = 1.0
    #: Sends one request: ``send(method, url, headers, body, timeout) -> HttpAnswer``.
    send: Callable[..., HttpAnswer] = urllib_send
    #: Where credentials come from: an object with ``resolve()`` (``CredentialResolver``, ``StaticCredentials``).
    credentials: Any = None
    #: Environment read for the signing region. Default: ``os.environ``.
    env: Optional[Mapping[str, str]] = None
    #: A number in [0, 1) for the jitter.
    random: Callable[[], float] = _random.random
    #: Waits between tries (seconds).
    sleep: Callable[[float], None] = time.sleep
    #: The clock (seconds since the epoch).
    clock: Callable[[], float] = time.time


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth another try."""
    return status >= 500 or status == 429 or status == 408


def _error_message(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            return parsed["message"]
    except ValueError:
        pass
    return text[:500] or "(empty answer)"


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % int((seconds % 1) * 1000)


def post_callback(url: str, token: str, body: Any, deadline: float, logger: Logger, kind: str,
                  options: Optional[DeliveryOptions] = None) -> Delivery:
    """POSTs a JSON body with the callback token, retrying as described above. Never raises.

    ``deadline`` is in seconds since the epoch: tries stop when the next one would start after
    it (less the margin). ``kind`` names the request in the logs (``report`` or ``heartbeat``).
    """
    o = options or DeliveryOptions()
    payload = json.dumps(body if body is not None else {}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    last: Dict[str, Any] = {"message": "not sent"}
    for attempt in range(1, o.max_attempts + 1):
        try:
            answer = _send(url, token, payload, kind, logger, o)
            if 200 <= answer.status < 300:
                logger.info("%s accepted" % kind, status=answer.status, attempts=attempt)
                return Delivery("accepted", attempt, answer.status)
            message = _error_message(answer.body)
            if not is_retryable_status(answer.status):
                logger.error("%s refused; not retrying (a %d is final)" % (kind, answer.status),
                             status=answer.status, answer=message, attempts=attempt)
                return Delivery("refused", attempt, answer.status, message)
            last = {"status": answer.status, "message": message}
        except Exception as e:  # network errors, timeouts, credentials that cannot be had: all worth another try
            last = {"message": _network_message(e)}
        if attempt == o.max_attempts:
            break
        ceiling = min(o.max_delay, o.base_delay * 2 ** (attempt - 1))
        delay = ceiling / 2 + o.random() * (ceiling / 2)
        remaining = deadline - o.deadline_margin - o.clock()
        if delay > remaining:
            logger.warn("%s failed; no time left before the deadline for another try" % kind,
                        **last, attempts=attempt, deadline=_iso(deadline))
            return Delivery("undelivered", attempt, last.get("status"), last["message"])
        logger.warn("%s failed; retrying" % kind, **last, attempt=attempt, retry_in_ms=round(delay * 1000))
        o.sleep(delay)
    logger.error("%s could not be delivered" % kind, **last, attempts=o.max_attempts)
    return Delivery("undelivered", o.max_attempts, last.get("status"), last["message"])


def _network_message(e: Exception) -> str:
    if isinstance(e, urllib.error.URLError):
        return "request failed: %s" % (e.reason,)
    if isinstance(e, TimeoutError):
        return "request timed out"
    return str(e) or type(e).__name__


def _send(url: str, token: str, payload: bytes, kind: str, logger: Logger, o: DeliveryOptions) -> HttpAnswer:
    headers = {"content-type": "application/json", CALLBACK_TOKEN_HEADER.lower(): token}
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https":
        resolver = o.credentials or _default_resolver()
        credentials = resolver.resolve()
        if credentials is not None:
            region = signing_region(url, o.env)
            if not region:
                raise RuntimeError("cannot sign the %s for %s: set AWS_REGION" % (kind, parsed.netloc))
            headers = sign_request("POST", url, headers, payload, credentials, region)
        else:
            reason = getattr(resolver, "missing_reason", "no AWS credentials found")
            logger.warn("%s: sending the %s to %s unsigned (an IAM-authorized route will refuse it)" % (reason, kind, parsed.netloc))
    return o.send("POST", url, headers, payload, o.request_timeout)


def send_report(callback: Mapping[str, str], deadline: float, report: Mapping[str, Any], logger: Logger,
                options: Optional[DeliveryOptions] = None) -> Delivery:
    """Sends the task's one report (``POST /callbacks/{callback_id}``)."""
    return post_callback(callback["url"], callback["token"], report, deadline, logger, "report", options)


class Heartbeats:
    """Heartbeats every ``heartbeat_interval_seconds`` while the work runs, when the envelope asks for them.

    A beat is tried twice at most and never overlaps the next one. A 404 or 409 stops the beats
    and sets ``gone`` (the orchestrator no longer waits: the work is wasted); another 4xx stops
    them. ``beat()`` sends one now (and is what the background thread calls).
    """

    def __init__(self, envelope: Mapping[str, Any], logger: Logger, options: Optional[DeliveryOptions] = None,
                 usage: Optional[Callable[[], Optional[Mapping[str, Any]]]] = None):
        self.gone = threading.Event()
        #: The usage so far, sent with each beat (a budget the task goes over stops it with a 409).
        self._usage = usage
        self.gone_reason: Optional[str] = None
        self.beats = 0
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._logger = logger
        self._envelope = envelope
        self._seconds = envelope.get("heartbeat_interval_seconds")
        self._url = envelope["callback"].get("heartbeat_url") or ""
        base = options or DeliveryOptions()
        seconds = self._seconds or 0
        self._options = replace(base, max_attempts=min(2, base.max_attempts),
                                request_timeout=max(1.0, min(10.0, seconds * 0.5)) if seconds else base.request_timeout)
        self._thread: Optional[threading.Thread] = None

    @property
    def enabled(self) -> bool:
        """Whether the envelope asks for heartbeats."""
        return bool(self._seconds) and bool(self._url)

    def start(self) -> "Heartbeats":
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="heartbeats", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.wait(self._seconds):
            self.beat()

    def beat(self) -> Optional[Delivery]:
        """Sends one heartbeat now, unless one is in flight or the beats were stopped."""
        if not self._url or self._stopped.is_set() or not self._lock.acquire(blocking=False):
            return None
        try:
            so_far = self._usage() if self._usage else None
            body = {"usage": dict(so_far)} if so_far else {}
            delivery = post_callback(self._url, self._envelope["callback"]["token"], body, parse_time(self._envelope["deadline"]),
                                     self._logger, "heartbeat", self._options)
            self.beats += 1
            if delivery.outcome == "refused":
                self._stopped.set()
                if delivery.status in (404, 409):
                    self.gone_reason = "the orchestrator no longer waits for this task: %s" % delivery.message
                    self.gone.set()
            return delivery
        finally:
            self._lock.release()

    def stop(self) -> None:
        """Stops sending (idempotent)."""
        self._stopped.set()


def start_heartbeats(envelope: Mapping[str, Any], logger: Logger, options: Optional[DeliveryOptions] = None) -> Heartbeats:
    """Starts :class:`Heartbeats` for a task (they send nothing when the envelope asks for none)."""
    return Heartbeats(envelope, logger, options).start()
