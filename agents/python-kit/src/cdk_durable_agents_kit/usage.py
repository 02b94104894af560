"""What a task spends on its model: tokens as the provider counts them, and an estimated cost from a
small price table (the same as the Node kit's, agents/kit/src/usage.ts). Reported in heartbeats (the
figures so far) and in the report (the final ones) as
``usage: {input_tokens, output_tokens, estimated_cost_usd, model}``; the orchestrator adds them up
per step and per workflow and judges budgets by them.
"""

import re
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

#: The date the prices below were taken from the providers' public price lists.
PRICE_TABLE_DATE = "2025-10-01"


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""
    input_per_million: float
    output_per_million: float


#: List prices (on demand, US regions) by a pattern of the model id; the first match wins. A model
#: not listed has no estimate unless AGENT_PRICE_INPUT_PER_MTOK and AGENT_PRICE_OUTPUT_PER_MTOK price it.
PRICE_TABLE: List[Tuple["re.Pattern[str]", Price]] = [
    (re.compile(r"^offline-"), Price(0, 0)),
    (re.compile(r"anthropic\.claude-sonnet-4"), Price(3, 15)),
    (re.compile(r"anthropic\.claude-haiku-4-5"), Price(1, 5)),
    (re.compile(r"anthropic\.claude-opus-4"), Price(15, 75)),
    (re.compile(r"amazon\.nova-pro"), Price(0.8, 3.2)),
    (re.compile(r"amazon\.nova-lite"), Price(0.06, 0.24)),
    (re.compile(r"amazon\.nova-micro"), Price(0.035, 0.14)),
    (re.compile(r"^gpt-4o-mini"), Price(0.15, 0.6)),
    (re.compile(r"^gpt-4o"), Price(2.5, 10)),
]


def price_of(model: str, env: Optional[Mapping[str, str]] = None) -> Optional[Price]:
    """The price of ``model``: the environment's override, else the table's, else None."""
    env = env if env is not None else {}
    given_in, given_out = env.get("AGENT_PRICE_INPUT_PER_MTOK"), env.get("AGENT_PRICE_OUTPUT_PER_MTOK")
    if given_in is not None or given_out is not None:
        try:
            price = Price(float(given_in or "nan"), float(given_out or "nan"))
        except ValueError:
            price = Price(float("nan"), float("nan"))
        if not (price.input_per_million >= 0 and price.output_per_million >= 0):
            raise ValueError("AGENT_PRICE_INPUT_PER_MTOK and AGENT_PRICE_OUTPUT_PER_MTOK must both be numbers of US dollars "
                             "per million tokens (>= 0), got '%s' and '%s'" % (given_in, given_out))
        return price
    for pattern, price in PRICE_TABLE:
        if pattern.search(model):
            return price
    return None


class UsageMeter:
    """Adds up the model calls of one task (safe to read from the heartbeat thread)."""

    def __init__(self, env: Optional[Mapping[str, str]] = None):
        self._env = env
        self._lock = threading.Lock()
        self._input = 0
        self._output = 0
        self._cost: Optional[float] = 0.0
        self._model: Optional[str] = None

    def add(self, response: Any) -> None:
        """Counts one answer (a ModelResponse). One without usage counts no tokens and leaves the cost unknown."""
        usage = getattr(response, "usage", None)
        with self._lock:
            self._model = response.model
            if usage is None:
                self._cost = None
                return
            self._input += usage.input_tokens
            self._output += usage.output_tokens
            price = price_of(response.model, self._env)
            if price is None or self._cost is None:
                self._cost = None
            else:
                self._cost += (usage.input_tokens * price.input_per_million + usage.output_tokens * price.output_per_million) / 1e6

    def body(self) -> Optional[Dict[str, Any]]:
        """The figures so far, or None before any model answered."""
        with self._lock:
            if self._model is None:
                return None
            body: Dict[str, Any] = {"input_tokens": self._input, "output_tokens": self._output}
            if self._cost is not None:
                body["estimated_cost_usd"] = _round6(self._cost)
            body["model"] = self._model
            return body


def _round6(value: float) -> float:
    """Rounded to a millionth, as the Node kit's Math.round(x * 1e6) / 1e6 (0 as an int-like float)."""
    rounded = int(value * 1e6 + 0.5) / 1e6
    return int(rounded) if rounded == int(rounded) else rounded
