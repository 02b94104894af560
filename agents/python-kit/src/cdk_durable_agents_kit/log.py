"""Structured logs: one JSON object a line on stderr, with the task's workflow id, step name and
agent, so the lines of one task can be found among many. Tokens are never logged."""

import datetime
import json
import os
import sys
import threading
from typing import Any, Callable, Mapping, Optional

LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40}

_lock = threading.Lock()


def _now() -> str:
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _write_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Logger:
    """Writes JSON lines with ``time``, ``level``, ``message``, ``workflow_id``, ``step_name``, ``agent``.

    ``level`` is the lowest level written (default ``AGENT_LOG_LEVEL``, else ``info``); ``write``
    receives each line (default: stderr).
    """

    def __init__(self, context: Optional[Mapping[str, Any]] = None, level: Optional[str] = None,
                 write: Optional[Callable[[str], None]] = None):
        self.context = dict(context or {})
        from_env = (os.environ.get("AGENT_LOG_LEVEL") or "").lower()
        self.level = level or (from_env if from_env in LEVELS else "info")
        self.write = write or _write_stderr

    def child(self, **context: Any) -> "Logger":
        """A logger whose lines carry these fields too."""
        return Logger({**self.context, **context}, self.level, self.write)

    def log(self, level: str, message: str, /, **fields: Any) -> None:
        if LEVELS[level] < LEVELS.get(self.level, 20):
            return
        line = {
            "time": _now(),
            "level": level,
            "message": message,
            "workflow_id": self.context.get("workflow_id"),
            "step_name": self.context.get("step_name"),
            "agent": self.context.get("agent"),
        }
        for key, value in fields.items():
            if key not in line:
                line[key] = str(value) if isinstance(value, BaseException) else value
        text = json.dumps(line, default=str, ensure_ascii=False)
        with _lock:
            self.write(text)

    def debug(self, message: str, /, **fields: Any) -> None:
        self.log("debug", message, **fields)

    def info(self, message: str, /, **fields: Any) -> None:
        self.log("info", message, **fields)

    def warn(self, message: str, /, **fields: Any) -> None:
        self.log("warn", message, **fields)

    def error(self, message: str, /, **fields: Any) -> None:
        self.log("error", message, **fields)
