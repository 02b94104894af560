"""The model call of an agent, behind one interface with three providers, chosen by
``AGENT_MODEL_PROVIDER`` (as the Node kit, ``agents/kit/src/model.ts``):

- ``offline`` (default): deterministic, no network; its text says plainly that no model was
  called. The same request gives the same text as the Node kit's offline provider.
- ``bedrock``: Amazon Bedrock Converse API (boto3), model ``BEDROCK_MODEL_ID``.
- ``openai``: any OpenAI-compatible endpoint, ``POST {OPENAI_BASE_URL}/chat/completions`` (urllib).
"""

import hashlib
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional

from .aws import boto3_client
from .envelope import js_length, js_slice

DEFAULT_MAX_TOKENS = 4096

#: The sentence every offline answer carries.
OFFLINE_NOTICE = "Generated offline by the deterministic provider; no model was called."

#: Model name the offline provider reports.
OFFLINE_MODEL = "offline-deterministic-v1"

#: Default Bedrock model: Claude Sonnet 4.5 through its global cross-region inference profile.
DEFAULT_BEDROCK_MODEL_ID = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"

PROVIDER_NAMES = ("offline", "bedrock", "openai")

_MAX_LINES_PER_SECTION = 6


class ModelError(Exception):
    """A model call that failed, or a provider that is not configured. Reported with code ``ModelError``."""


@dataclass(frozen=True)
class ModelUsage:
    """Tokens of one model call."""
    input_tokens: int
    output_tokens: int


def offline_tokens(text: str) -> int:
    """How the offline provider counts tokens: one per four characters (JavaScript's count), rounded up."""
    return (js_length(text) + 3) // 4


@dataclass(frozen=True)
class ModelResponse:
    text: str
    #: The provider's name: 'offline', 'bedrock' or 'openai'.
    provider: str
    #: The model that answered.
    model: str
    #: Tokens of the call as the provider counted them (None when it did not say).
    usage: Optional[ModelUsage] = None

    @property
    def offline(self) -> bool:
        """Whether the offline provider wrote it (no model was called)."""
        return self.provider == "offline" and self.model == OFFLINE_MODEL


class ModelProvider:
    """A model: ``complete(system, prompt, max_tokens=None, timeout=None) -> ModelResponse``.

    ``timeout`` (seconds) bounds the call; the kit passes the time left before the task's deadline.
    """

    name = "provider"

    def complete(self, system: str, prompt: str, max_tokens: Optional[int] = None,
                 timeout: Optional[float] = None) -> ModelResponse:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Offline
# ---------------------------------------------------------------------------------------------

_OFFLINE_BOILERPLATE = [re.compile(p, re.IGNORECASE) for p in (
    r"^request fingerprint:",
    r"^offline draft\.?$",
    r"^an outline of the \d+ lines? of input",
    r"^the prompt had no content to outline\.$",
    r"^nothing in the input for this section\.$",
    r"^\.\.\. and \d+ more line\(s\) of input\.$",
)]
_HEADING = re.compile(r"^\s*#{1,6}\s")
_MARKERS = re.compile(r"^\s*(?:#{1,6}\s+|[-*+>]\s+|\d+[.)]\s+)+")
_SEPARATOR = re.compile(r"(?:-{3,}.*|={3,}|<!--.*-->)")
_SECTION = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)


def _search(pattern: "re.Pattern[str]", line: str) -> bool:
    # JavaScript's `$` (no m flag) matches only at the very end; Python's also before a final newline.
    match = pattern.search(line)
    return match is not None and (not pattern.pattern.endswith("$") or match.end() == len(line))


def _material_lines(prompt: str, sections: List[str]) -> List[str]:
    skip = {s.lower() for s in sections}
    seen = set()
    lines: List[str] = []
    for raw in re.split(r"\r?\n", prompt):
        # Headings of an input document are its structure, not its content.
        if _HEADING.match(raw):
            continue
        line = re.sub(r"[*_`]", "", _MARKERS.sub("", raw, count=1)).strip()
        # Separators, comments and labels that introduce the lines after them ("Sources:").
        if js_length(line) < 3 or _SEPARATOR.fullmatch(line) or line.endswith(":"):
            continue
        if OFFLINE_NOTICE in line or any(_search(p, line) for p in _OFFLINE_BOILERPLATE):
            continue
        if line.lower() in skip:
            continue
        clipped = js_slice(line, 197) + "..." if js_length(line) > 200 else line
        if clipped in seen:
            continue
        seen.add(clipped)
        lines.append(clipped)
    return lines


def offline_text(system: str, prompt: str) -> str:
    """The offline provider's text: an outline derived from the request alone.

    Its sections are the ``## `` headings the system prompt asks for (Summary and Details if it
    names none); their bullets are the prompt's lines, dealt out in order. The text opens with
    :data:`OFFLINE_NOTICE` and a fingerprint of the request.
    """
    fingerprint = hashlib.sha256(("%s\n\n%s" % (system, prompt)).encode("utf-8")).hexdigest()[:16]
    requested = [m.group(1) for m in _SECTION.finditer(system)]
    sections = list(dict.fromkeys(requested)) if requested else ["Summary", "Details"]
    material = _material_lines(prompt, sections)
    first, rest = sections[0], sections[1:]
    out = [
        "> **Offline draft.** %s" % OFFLINE_NOTICE,
        "> Request fingerprint: `%s` (SHA-256 of the instructions and the prompt)." % fingerprint,
        "",
        "## %s" % first,
        "",
        ('An outline of the %d line%s of input, starting with: "%s".' % (len(material), "" if len(material) == 1 else "s", material[0]))
        if material else "The prompt had no content to outline.",
    ]
    targets = rest if rest else [first]
    buckets: List[List[str]] = [[] for _ in targets]
    for i, line in enumerate(material):
        buckets[i % len(targets)].append(line)
    for i, title in enumerate(targets):
        if rest:
            out.extend(["", "## %s" % title])
        out.append("")
        lines = buckets[i][:_MAX_LINES_PER_SECTION]
        if not lines:
            out.append("- Nothing in the input for this section.")
        out.extend("- %s" % line for line in lines)
        if len(buckets[i]) > len(lines):
            out.append("- ... and %d more line(s) of input." % (len(buckets[i]) - len(lines)))
    return "\n".join(out) + "\n"


class OfflineProvider(ModelProvider):
    """Answers without a model (see :func:`offline_text`); the same request always gives the same text."""

    name = "offline"

    def complete(self, system: str, prompt: str, max_tokens: Optional[int] = None,
                 timeout: Optional[float] = None) -> ModelResponse:
        text = offline_text(system, prompt)
        usage = ModelUsage(offline_tokens(system) + offline_tokens(prompt), offline_tokens(text))
        return ModelResponse(text, self.name, OFFLINE_MODEL, usage)


# ---------------------------------------------------------------------------------------------
# Amazon Bedrock
# ---------------------------------------------------------------------------------------------


def _client_error(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        if error.get("Code"):
            return "%s: %s" % (error["Code"], error.get("Message", e))
    return "%s: %s" % (type(e).__name__, e)


class BedrockProvider(ModelProvider):
    """Amazon Bedrock, Converse API (one system block, one user message), through boto3."""

    name = "bedrock"

    def __init__(self, model_id: Optional[str] = None, client: Any = None):
        self.model_id = model_id or DEFAULT_BEDROCK_MODEL_ID
        self._client = client

    def _client_for(self, timeout: Optional[float]) -> Any:
        if self._client is not None:
            return self._client
        from botocore.config import Config
        # A model call may take minutes; no retries here (the step's RetryPolicy retries the task).
        read_timeout = max(1, int(timeout)) if timeout else 300
        return boto3_client("bedrock-runtime", config=Config(read_timeout=read_timeout, retries={"max_attempts": 1}))

    def complete(self, system: str, prompt: str, max_tokens: Optional[int] = None,
                 timeout: Optional[float] = None) -> ModelResponse:
        try:
            res = self._client_for(timeout).converse(
                modelId=self.model_id,
                system=[{"text": system}],
                messages=[{"role": "user", "content": [{"text": prompt}]}],
                inferenceConfig={"maxTokens": max_tokens or DEFAULT_MAX_TOKENS},
            )
        except Exception as e:
            raise ModelError("Bedrock Converse with model '%s' failed: %s" % (self.model_id, _client_error(e))) from None
        blocks = ((res.get("output") or {}).get("message") or {}).get("content") or []
        text = "".join(b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str))
        if text.strip() == "":
            raise ModelError("Bedrock model '%s' returned no text (stop reason: %s)" % (self.model_id, res.get("stopReason") or "unknown"))
        counted = res.get("usage") or {}
        usage = None
        if isinstance(counted.get("inputTokens"), int) and isinstance(counted.get("outputTokens"), int):
            usage = ModelUsage(counted["inputTokens"], counted["outputTokens"])
        return ModelResponse(text, self.name, self.model_id, usage)


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible
# ---------------------------------------------------------------------------------------------


def _describe_error(text: str) -> str:
    try:
        body = json.loads(text)
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, str):
                return error
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                return error["message"]
            if isinstance(body.get("message"), str):
                return body["message"]
    except ValueError:
        pass
    return text[:300] or "(empty body)"


def _completion_text(body: Any) -> Optional[str]:
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices:
        return None
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    # Some servers send content parts: [{"type": "text", "text": "..."}].
    if isinstance(content, list):
        parts = [p.get("text") if isinstance(p, dict) and isinstance(p.get("text"), str) else None for p in content]
        if all(p is not None for p in parts):
            return "".join(parts)  # type: ignore[arg-type]
    return None


class OpenAICompatibleProvider(ModelProvider):
    """Any endpoint that speaks the OpenAI chat completions API (OpenAI, vLLM, Ollama, LiteLLM, ...)."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: Optional[str] = None, timeout: float = 300.0):
        parsed = urllib.parse.urlsplit(base_url or "")
        if not parsed.scheme or not parsed.netloc:
            raise ModelError("OPENAI_BASE_URL is not a URL: '%s' (e.g. https://api.openai.com/v1)" % base_url)
        if parsed.scheme not in ("http", "https"):
            raise ModelError("OPENAI_BASE_URL must be http(s), got '%s'" % base_url)
        if not model:
            raise ModelError("OPENAI_MODEL is required with AGENT_MODEL_PROVIDER=openai (the model name the endpoint serves)")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def complete(self, system: str, prompt: str, max_tokens: Optional[int] = None,
                 timeout: Optional[float] = None) -> ModelResponse:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self.api_key:
            headers["authorization"] = "Bearer %s" % self.api_key
        body = json.dumps({
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
            "max_tokens": max_tokens or DEFAULT_MAX_TOKENS,
        }).encode("utf-8")
        limit = self.timeout if timeout is None else max(0.001, min(self.timeout, timeout))
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=limit) as res:
                status, text = res.status, res.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode("utf-8", errors="replace")
            e.close()
        except (socket.timeout, TimeoutError):
            raise ModelError("the OpenAI-compatible endpoint %s could not be reached: timed out" % self.url) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise ModelError("the OpenAI-compatible endpoint %s could not be reached: timed out" % self.url) from None
            raise ModelError("the OpenAI-compatible endpoint %s could not be reached: %s" % (self.url, reason)) from None
        if not 200 <= status < 300:
            raise ModelError("the OpenAI-compatible endpoint %s answered %d: %s" % (self.url, status, _describe_error(text)))
        try:
            parsed = json.loads(text)
        except ValueError:
            raise ModelError("the OpenAI-compatible endpoint %s answered %d with a body that is not JSON: %s" % (self.url, status, text[:200])) from None
        content = _completion_text(parsed)
        if content is None:
            raise ModelError("the OpenAI-compatible endpoint %s answered without choices[0].message.content: %s" % (self.url, text[:200]))
        if content.strip() == "":
            raise ModelError("the OpenAI-compatible endpoint %s returned an empty completion" % self.url)
        model = parsed.get("model") if isinstance(parsed.get("model"), str) else self.model
        counted = parsed.get("usage") if isinstance(parsed.get("usage"), dict) else {}
        usage = None
        if isinstance(counted.get("prompt_tokens"), int) and isinstance(counted.get("completion_tokens"), int):
            usage = ModelUsage(counted["prompt_tokens"], counted["completion_tokens"])
        return ModelResponse(content, self.name, model, usage)


# ---------------------------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------------------------


def _positive_seconds_from_ms(value: Optional[str], name: str) -> Optional[float]:
    if value is None or value == "":
        return None
    try:
        n = float(value)
    except ValueError:
        n = float("nan")
    if not (n > 0 and n != float("inf")):
        raise ModelError("%s must be a positive number of milliseconds, got '%s'" % (name, value))
    return n / 1000.0


def provider_from_env(env: Optional[Mapping[str, str]] = None) -> ModelProvider:
    """The provider ``AGENT_MODEL_PROVIDER`` names (``offline`` when unset). Raises :class:`ModelError` when misconfigured."""
    env = os.environ if env is None else env
    name = (env.get("AGENT_MODEL_PROVIDER") or "").strip().lower() or "offline"
    if name == "offline":
        return OfflineProvider()
    if name == "bedrock":
        return BedrockProvider(model_id=env.get("BEDROCK_MODEL_ID") or None)
    if name == "openai":
        if not env.get("OPENAI_BASE_URL"):
            raise ModelError("OPENAI_BASE_URL is required with AGENT_MODEL_PROVIDER=openai (e.g. https://api.openai.com/v1)")
        timeout = _positive_seconds_from_ms(env.get("OPENAI_TIMEOUT_MS"), "OPENAI_TIMEOUT_MS")
        return OpenAICompatibleProvider(env["OPENAI_BASE_URL"], env.get("OPENAI_MODEL") or "",
                                        api_key=env.get("OPENAI_API_KEY") or None,
                                        timeout=300.0 if timeout is None else timeout)
    raise ModelError("AGENT_MODEL_PROVIDER '%s' is not known: use one of %s" % (env.get("AGENT_MODEL_PROVIDER"), ", ".join(PROVIDER_NAMES)))
