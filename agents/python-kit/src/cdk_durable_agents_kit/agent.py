"""One task, start to end, around a handler function: parse the envelope, read the secrets and the
input artifacts, run ``handler(task)`` (with heartbeats while it runs, when the envelope asks for
them), report once. The counterpart of the Node kit's ``agents/kit/src/agent.ts``.

An agent is a function of a :class:`Task`::

    from cdk_durable_agents_kit import run_agent

    def summarize(task):
        document = task.text("document", "the key of a document artifact")
        answer = task.complete(system="Summarize.\\n## Summary\\n", prompt=document)
        task.write_artifact("summary", answer.text)   # <prefix>summary.md, reported as artifacts.summary
        return {"model": answer.model}                  # the report's output (or None)

    handler = lambda_handler(summarize, name="summarizer")   # a Lambda function's handler
    if __name__ == "__main__":
        run_agent(summarize, name="summarizer")           # a process or container: exits 0, 1 or 2
"""

import base64
import json
import math
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, MutableMapping, Optional, Union

from .artifacts import ArtifactError, artifact_key, artifact_store_for
from .callback import Delivery, DeliveryOptions, Heartbeats, send_report
from .envelope import ENVELOPE_ENV, EnvelopeError, js_length, js_slice, parse_envelope, parse_time, salvage_callback
from .lambda_runtime import run_lambda_runtime
from .log import Logger
from .model import ModelError, ModelProvider, ModelResponse, provider_from_env
from .secrets import SecretReader, resolve_secrets
from .usage import UsageMeter

#: Error codes the kit reports.
ERROR_CODES = {
    "input": "InputError",
    "model": "ModelError",
    "artifact": "ArtifactError",
    "envelope": "InvalidEnvelope",
    "other": "AgentError",
}

#: The event of a health check: the agent runs no task, calls no model and answers its health.
HEALTH_CHECK_EVENT = {"health_check": True}

#: Largest output a report may carry (src/runtime/api.ts MAX_OUTPUT_BYTES).
MAX_OUTPUT_BYTES = 16 * 1024

#: Artifact names the callback route takes (src/runtime/request-schemas.ts).
_ARTIFACT_NAME = "^[A-Za-z][A-Za-z0-9_-]{0,62}$"
#: Error codes the callback route takes.
_ERROR_CODE = "^[A-Za-z][A-Za-z0-9_.-]{0,63}$"


class InputError(Exception):
    """An input that is missing or has the wrong shape. Reported with code ``InputError``."""


class AgentFailure(Exception):
    """A failure the handler reports with a code of its own (letters, digits, ``_``, ``.``, ``-``)."""

    def __init__(self, message: str, code: str = "AgentError"):
        if not re.match(_ERROR_CODE, code or ""):
            raise ValueError("AgentFailure code '%s': use letters, digits, _, . and -, starting with a letter (at most 64)" % code)
        super().__init__(message)
        self.code = code


def is_artifact_key(value: Any) -> bool:
    """Input values that are artifact keys (the runtime resolves ``StepInput.fromArtifact`` to keys under ``agents/``)."""
    return isinstance(value, str) and re.match(r"^agents/\S+$", value) is not None and "\n" not in value


def clip(text: str, maximum: int) -> str:
    """Text cut to at most ``maximum`` characters, saying so when it was cut."""
    length = js_length(text)
    if length <= maximum:
        return text
    return "%s\n\n[... %d more characters not shown]" % (js_slice(text, maximum), length - maximum)


def model_output(completion: ModelResponse, text: str) -> Dict[str, Any]:
    """The report's output of an agent whose artifact is a model's answer: provider, model, offline, characters."""
    return {"provider": completion.provider, "model": completion.model, "offline": completion.offline,
            "characters": js_length(text)}


class Task:
    """What a handler gets: the task's input, its artifacts, heartbeats and the model.

    - ``input``: the step input as received (artifact keys as values); ``input_artifacts``: the
      content of every input that names an artifact, by input name (read before the handler runs).
    - ``text(name, what)``: an input's text (artifact content or string value), or ``InputError``.
    - ``read_artifact(key)`` / ``write_artifact(name, body)``: the artifact store of the envelope
      (a folder locally, S3 when deployed). Written artifacts are reported under their names.
    - ``complete(system, prompt, max_tokens)``: the model call (``AGENT_MODEL_PROVIDER``), bounded by the deadline.
    - ``heartbeat()``: one heartbeat now (they are also sent every ``heartbeat_interval_seconds``
      while the handler runs); ``gone``: set when the orchestrator no longer waits for the task.
    """

    def __init__(self, envelope: Mapping[str, Any], store: Any, logger: Logger, heartbeats: Heartbeats,
                 provider: Optional[ModelProvider], env: Mapping[str, str]):
        self.envelope = envelope
        self.workflow_id: str = envelope["workflow_id"]
        self.step_name: str = envelope["step_name"]
        self.agent: str = envelope["agent"]
        self.attempt: int = int(envelope["attempt"])
        self.deadline: float = parse_time(envelope["deadline"])
        self.input: Mapping[str, Any] = envelope["input"]
        self.input_artifacts: Dict[str, str] = {}
        self.artifacts: Dict[str, str] = {}
        self.logger = logger
        self.store = store
        self._heartbeats = heartbeats
        #: Adds up this task's model calls for its heartbeats and report (set by run_task).
        self.usage: Optional[UsageMeter] = None
        self._provider = provider
        self._env = env

    # -- inputs -----------------------------------------------------------------------------------

    def text(self, name: str, what: str) -> str:
        """The text of an input: an artifact's content, or a string value. Raises ``InputError`` when absent or empty."""
        value = self.input_artifacts[name] if name in self.input_artifacts else self.input.get(name)
        if not isinstance(value, str) or value.strip() == "":
            if name not in self.input_artifacts and name not in self.input:
                got = "it is missing"
            elif value is None:
                got = "got null"
            elif isinstance(value, str):
                got = "got an empty string"
            else:
                got = "got %s" % ("boolean" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "object")
            raise InputError("input '%s': expected %s, %s" % (name, what, got))
        return value

    # -- artifacts --------------------------------------------------------------------------------

    def artifact_key(self, file_name: str) -> str:
        """The key of a file this task writes: the envelope's prefix plus the file name."""
        return artifact_key(self.envelope, file_name)

    def read_artifact(self, key: str) -> str:
        """An artifact's text (UTF-8) by its key."""
        return self.store.read(key)

    def read_artifact_bytes(self, key: str) -> bytes:
        return self.store.read_bytes(key)

    def write_artifact(self, name: str, body: Union[str, bytes], file_name: Optional[str] = None,
                       content_type: str = "text/markdown; charset=utf-8") -> str:
        """Writes ``<prefix><file_name>`` (default ``<name>.md``) and reports it as ``artifacts.<name>``. Returns its key."""
        if not isinstance(name, str) or not re.match(_ARTIFACT_NAME, name):
            raise ArtifactError("artifact name '%s': use letters, digits, - and _, starting with a letter (at most 63)" % (name,))
        key = self.artifact_key(file_name or "%s.md" % name)
        self.store.write(key, body, content_type)
        size = len(body.encode("utf-8")) if isinstance(body, str) else len(body)
        self.logger.info("artifact written", artifact=name, key=key, store=self.store.description, bytes=size)
        self.artifacts[name] = key
        return key

    # -- heartbeats and time ----------------------------------------------------------------------

    def heartbeat(self) -> Optional[Delivery]:
        """Sends one heartbeat now (none when the envelope has no heartbeat URL, or one is in flight)."""
        return self._heartbeats.beat()

    @property
    def gone(self):
        """A ``threading.Event`` set when the orchestrator says it no longer waits for this task (404/409 to a heartbeat)."""
        return self._heartbeats.gone

    def time_left(self) -> float:
        """Seconds left before the task's deadline (after it, the report is refused as late)."""
        return self.deadline - time.time()

    # -- the model --------------------------------------------------------------------------------

    @property
    def model(self) -> ModelProvider:
        """The model provider ``AGENT_MODEL_PROVIDER`` names (made at the first use; ``ModelError`` when misconfigured)."""
        if self._provider is None:
            self._provider = provider_from_env(self._env)
        return self._provider

    def complete(self, system: str, prompt: str, max_tokens: Optional[int] = None) -> ModelResponse:
        """Calls the model. ``AGENT_MAX_TOKENS`` wins over ``max_tokens`` (default 4096).

        The call is bounded by the task's deadline; a failure is a ``ModelError`` (the kit does
        not retry the model: the step's RetryPolicy does).
        """
        provider = self.model
        tokens = _max_tokens_override(self._env) or max_tokens
        if self.gone.is_set():
            raise ModelError("model call stopped: %s" % self._heartbeats.gone_reason)
        left = self.time_left()
        if left <= 0:
            raise ModelError("model call stopped at the task's deadline %s" % self.envelope["deadline"])
        started = time.time()
        self.logger.info("model call started", provider=provider.name, prompt_characters=js_length(prompt))
        try:
            completion = provider.complete(system, prompt, max_tokens=tokens, timeout=left)
        except ModelError as e:
            raise self._stopped() or e
        except Exception as e:
            raise self._stopped() or ModelError(str(e) or type(e).__name__) from None
        if self.usage is not None:
            self.usage.add(completion)
        stopped = self._stopped()
        if stopped:
            raise stopped
        self.logger.info("model call finished", provider=completion.provider, model=completion.model,
                         ms=round((time.time() - started) * 1000), characters=js_length(completion.text))
        return completion

    def _stopped(self) -> Optional[ModelError]:
        if self.gone.is_set():
            return ModelError("model call stopped: %s" % self._heartbeats.gone_reason)
        if self.time_left() <= 0:
            return ModelError("model call stopped at the task's deadline %s" % self.envelope["deadline"])
        return None


Handler = Callable[[Task], Optional[Mapping[str, Any]]]


@dataclass(frozen=True)
class RunResult:
    """The outcome of one task: its status, what became of its report, its artifacts or its error."""

    status: str
    delivery: Delivery
    artifacts: Optional[Dict[str, str]] = None
    error: Optional[Dict[str, str]] = None
    output: Optional[Dict[str, Any]] = None


def _max_tokens_override(env: Mapping[str, str]) -> Optional[int]:
    """``AGENT_MAX_TOKENS``, for a model whose output limit is below what an agent asks for."""
    value = env.get("AGENT_MAX_TOKENS")
    if value is None or value == "":
        return None
    try:
        n = float(value)
    except ValueError:
        n = 0.0
    if not (math.isfinite(n) and n.is_integer() and n >= 1):
        raise ModelError("AGENT_MAX_TOKENS must be a whole number of tokens from 1, got '%s'" % value)
    return int(n)


def _code_of(e: BaseException) -> str:
    if isinstance(e, AgentFailure):
        return e.code
    if isinstance(e, InputError):
        return ERROR_CODES["input"]
    if isinstance(e, ModelError):
        return ERROR_CODES["model"]
    if isinstance(e, ArtifactError):
        return ERROR_CODES["artifact"]
    return ERROR_CODES["other"]


def _safe_message(message: str) -> str:
    """A message the callback route takes: at most 4000 characters."""
    text = message or "unknown error"
    return text if js_length(text) <= 4000 else js_slice(text, 3997) + "..."


def _message_of(e: BaseException) -> str:
    if isinstance(e, (InputError, ModelError, ArtifactError, AgentFailure, EnvelopeError)) or type(e).__name__ == "SecretError":
        return str(e)
    return "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__


def _agent_name(handler: Callable[..., Any], name: Optional[str]) -> str:
    return name or getattr(handler, "__name__", None) or "agent"


def run_task(handler: Handler, event: Any, name: Optional[str] = None, provider: Optional[ModelProvider] = None,
             env: Optional[MutableMapping[str, str]] = None, logger: Optional[Logger] = None,
             delivery: Optional[DeliveryOptions] = None, read_secret: Optional[SecretReader] = None,
             s3_client: Any = None) -> RunResult:
    """Runs one task (an envelope as JSON text or a dict). Never raises: every failure ends in a
    ``failed`` report, or an undelivered one.

    ``name`` is the agent's name (default: the handler's); ``provider`` the model (default:
    ``AGENT_MODEL_PROVIDER``); ``env`` the environment (default ``os.environ``); ``delivery`` the
    retries of the report and heartbeats; ``read_secret`` reads a secret by ARN (default
    Secrets Manager); ``s3_client`` the S3 client of a deployed task's artifacts.
    """
    agent_name = _agent_name(handler, name)
    env = os.environ if env is None else env
    base = logger or Logger({"agent": agent_name})
    options = delivery or DeliveryOptions(env=env)
    try:
        envelope = parse_envelope(event)
    except EnvelopeError as e:
        return _report_invalid_envelope(event, e, base, options)
    log = base.child(workflow_id=envelope["workflow_id"], step_name=envelope["step_name"], agent=envelope["agent"])
    if name and envelope["agent"] != name:
        log.warn("the envelope names agent '%s'; this is the %s agent (continuing)" % (envelope["agent"], name))
    deadline = parse_time(envelope["deadline"])
    log.info("task received", attempt=envelope["attempt"], deadline=envelope["deadline"], callback_id=envelope["callback"]["id"])

    meter = UsageMeter(env)
    heartbeats = Heartbeats(envelope, log, options, usage=meter.body)
    artifacts: Optional[Dict[str, str]] = None
    output: Optional[Dict[str, Any]] = None
    try:
        # The secrets the agent was given (e.g. its model's API key) become variables before anything reads them.
        secrets = resolve_secrets(env, read_secret)
        if secrets:
            log.info("secrets read", names=secrets)
        store = artifact_store_for(envelope, s3_client)
        task = Task(envelope, store, log, heartbeats, provider, env)
        task.usage = meter
        for input_name, value in envelope["input"].items():
            if not is_artifact_key(value):
                continue
            try:
                task.input_artifacts[input_name] = store.read(value)
            except ArtifactError as e:
                raise InputError("input '%s': %s" % (input_name, e)) from None
            log.info("input artifact read", input=input_name, key=value, characters=js_length(task.input_artifacts[input_name]))
        heartbeats.start()
        try:
            returned = handler(task)
        finally:
            heartbeats.stop()
        if returned is not None and not isinstance(returned, Mapping):
            raise AgentFailure("the handler returned %s; return a dict (the report's output) or None" % type(returned).__name__)
        output = dict(returned) if returned is not None else None
        if output is not None:
            try:
                size = len(json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
            except (TypeError, ValueError) as e:
                raise AgentFailure("the handler's output is not JSON: %s" % e) from None
            if size > MAX_OUTPUT_BYTES:
                raise AgentFailure("the handler's output is %d bytes; the callback route takes at most %d: "
                                   "write large results as artifacts and report their keys" % (size, MAX_OUTPUT_BYTES))
        artifacts = dict(task.artifacts)
        report: Dict[str, Any] = {"status": "succeeded", "artifacts": artifacts}
        if output is not None:
            report["output"] = output
    except Exception as e:
        error = {"code": _code_of(e), "message": _safe_message(_message_of(e))}
        fields: Dict[str, Any] = {"code": error["code"], "error": error["message"]}
        if error["code"] == ERROR_CODES["other"] and not isinstance(e, AgentFailure):
            fields["traceback"] = traceback.format_exc(limit=20)
        log.error("task failed", **fields)
        report = {"status": "failed", "error": error}
        artifacts, output = None, None
    used = meter.body()
    if used is not None:
        report["usage"] = used
    result = send_report(envelope["callback"], deadline, report, log, options)
    return RunResult(report["status"], result, artifacts, report.get("error"), output)


def _report_invalid_envelope(event: Any, error: EnvelopeError, logger: Logger, options: DeliveryOptions) -> RunResult:
    message = _safe_message(str(error))
    logger.error("cannot run the task", code=ERROR_CODES["envelope"], error=message)
    failure = {"code": ERROR_CODES["envelope"], "message": message}
    callback = salvage_callback(event)
    if callback is None:
        return RunResult("failed", Delivery("undelivered", 0, None, "the envelope has no usable callback to report to"), error=failure)
    delivery = send_report(callback, time.time() + 60, {"status": "failed", "error": failure}, logger, options)
    return RunResult("failed", delivery, error=failure)


# -------------------------------------------------------------------------------------------------
# Lambda
# -------------------------------------------------------------------------------------------------


def _is_health_check(event: Any) -> bool:
    return isinstance(event, dict) and event.get("health_check") is True


def _url_request(event: Any):
    """A function URL request (payload 2.0): it has ``requestContext.http.method`` and ``rawPath``."""
    if not isinstance(event, dict):
        return None
    http = ((event.get("requestContext") or {}) if isinstance(event.get("requestContext"), dict) else {}).get("http")
    method = http.get("method") if isinstance(http, dict) else None
    if not isinstance(method, str) or not isinstance(event.get("rawPath"), str):
        return None
    body = event.get("body")
    if isinstance(body, str) and event.get("isBase64Encoded") is True:
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return method.upper(), body if isinstance(body, str) else None


def _http_answer(status: int, body: Any) -> Dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def health(handler: Handler, name: Optional[str] = None, provider: Optional[ModelProvider] = None,
           env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The answer to a health check: ``ok`` with the model provider, or ``misconfigured`` with the reason."""
    agent_name = _agent_name(handler, name)
    try:
        chosen = provider or provider_from_env(os.environ if env is None else env)
        return {"status": "ok", "agent": agent_name, "model_provider": chosen.name}
    except ModelError as e:
        return {"status": "misconfigured", "agent": agent_name, "message": str(e)}


class ReportNotDelivered(RuntimeError):
    """A Lambda task whose report could not be delivered (raised, so that Lambda's retries of an asynchronous invoke try again)."""


def lambda_handler(handler: Handler, name: Optional[str] = None, **options: Any) -> Callable[[Any, Any], Dict[str, Any]]:
    """A Lambda handler ``(event, context) -> answer``. Its event is one of:

    - a task envelope (the orchestrator's asynchronous invoke): runs the task and reports it.
      It raises only when the report could not be delivered, so that Lambda's retries may try
      again; a refused report (4xx) would be refused again and is not raised;
    - :data:`HEALTH_CHECK_EVENT`: answers :func:`health` and runs nothing;
    - a function URL request: ``GET`` is a health check, ``POST`` carries a task envelope as its
      body (``200`` when the report was accepted or refused, ``502`` when it could not be
      delivered), any other method is ``405``.

    ``options`` are those of :func:`run_task`.
    """
    agent_name = _agent_name(handler, name)

    def run(event: Any) -> Dict[str, Any]:
        result = run_task(handler, event, name=name, **options)
        if result.delivery.outcome == "undelivered":
            raise ReportNotDelivered("the %s agent could not deliver its report: %s" % (agent_name, result.delivery.message))
        answer: Dict[str, Any] = {"status": result.status, "report": result.delivery.outcome}
        if result.delivery.status is not None:
            answer["report_status"] = result.delivery.status
        return answer

    def answer(event: Any, context: Any = None) -> Dict[str, Any]:
        if _is_health_check(event):
            return health(handler, name, options.get("provider"), options.get("env"))
        request = _url_request(event)
        if request is None:
            return run(event)
        method, body = request
        if method == "GET":
            return _http_answer(200, health(handler, name, options.get("provider"), options.get("env")))
        if method != "POST":
            return _http_answer(405, {"message": "%s is not served: GET is a health check, POST takes a task envelope" % method})
        try:
            envelope = json.loads(body or "")
        except ValueError:
            return _http_answer(400, {"message": "the body must be a task envelope (JSON)"})
        try:
            return _http_answer(200, run(envelope))
        except ReportNotDelivered as e:
            return _http_answer(502, {"message": str(e)})

    return answer


# -------------------------------------------------------------------------------------------------
# Process
# -------------------------------------------------------------------------------------------------


def run_as_process(handler: Handler, name: Optional[str] = None, env: Optional[MutableMapping[str, str]] = None,
                   **options: Any) -> int:
    """The entry point of a process or container: the task in ``TASK_ENVELOPE``, or, inside a Lambda
    container image (``AWS_LAMBDA_RUNTIME_API`` set), the Lambda Runtime API loop. Returns the exit
    code: 0 when the report was delivered (accepted, or refused with a final 4xx, which is
    logged), 1 when it could not be delivered, 2 when there is no task."""
    env = os.environ if env is None else env
    if env.get("AWS_LAMBDA_RUNTIME_API"):
        run_lambda_runtime(lambda_handler(handler, name, env=env, **options), env["AWS_LAMBDA_RUNTIME_API"])
        return 0
    raw = env.get(ENVELOPE_ENV)
    if not raw:
        (options.get("logger") or Logger({"agent": _agent_name(handler, name)})).error(
            "no task: set %s to the task envelope (JSON), or invoke the handler as a Lambda function" % ENVELOPE_ENV)
        return 2
    result = run_task(handler, raw, name=name, env=env, **options)
    return 1 if result.delivery.outcome == "undelivered" else 0


def run_agent(handler: Handler, name: Optional[str] = None, **options: Any) -> None:
    """Runs :func:`run_as_process` and exits with its code. For ``if __name__ == "__main__":``."""
    try:
        code = run_as_process(handler, name, **options)
    except Exception:
        Logger({"agent": _agent_name(handler, name)}).error("the agent crashed", error=traceback.format_exc())
        code = 1
    sys.exit(code)
