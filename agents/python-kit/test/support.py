"""What the kit's tests share: the kit on sys.path, a loopback HTTP server that records requests and
answers as scripted, envelopes, polling with a deadline, and the rule for missing modules."""

import datetime
import importlib
import json
import os
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
KIT_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(KIT_ROOT, "src"))
EXAMPLES = os.path.join(KIT_ROOT, "examples")

import cdk_durable_agents_kit as kit  # noqa: E402


def is_ci():
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("CI") == "1"


def require_module(test, name):
    """Imports a module a test needs. Missing: the test fails under CI=true (CI installs it from
    .ci/requirements-ci.txt) and is skipped elsewhere, saying why."""
    try:
        return importlib.import_module(name)
    except ImportError:
        reason = ("python module %s is not installed; CI installs it from .ci/requirements-ci.txt "
                  "(python3 -m pip install --user -r .ci/requirements-ci.txt)" % name)
        if is_ci():
            test.fail(reason + ". CI=true, where a test that needs a missing module fails instead of being skipped.")
        test.skipTest(reason)


def wait_until(check, timeout=10.0, what="condition"):
    """Polls ``check`` until it holds; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("%s never held within %s s" % (what, timeout))
        threading.Event().wait(0.01)


def iso(seconds_from_now):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorded:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None


class LoopbackServer:
    """An HTTP server on 127.0.0.1 that records each request and answers from ``script``: a
    function ``(Recorded) -> (status, body)``, by default 200 ``{}``."""

    def __init__(self, script=None):
        self.requests = []
        self.script = script or (lambda req: (200, {}))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                outer.requests.append(recorded)
                status, answer, *extra = outer.script(recorded)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", "application/json")
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a request timeout under test)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def paths(self):
        return [r.path for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def envelope(base_url, local_dir, **overrides):
    """A valid envelope whose callback goes to ``base_url`` and artifacts to ``local_dir``."""
    value = {
        "envelope_version": 1,
        "workflow_id": "wf-python-kit",
        "step_name": "research",
        "attempt": 1,
        "agent": "researcher",
        "input": {"topic": "Durable agents"},
        "artifacts": {"prefix": "agents/researcher/wf-python-kit/research/attempt-1/", "local_dir": local_dir},
        "callback": {"id": "cb-1", "url": base_url + "/callbacks/cb-1", "token": "tok-secret",
                     "heartbeat_url": base_url + "/callbacks/cb-1/heartbeat"},
        "deadline": iso(300),
    }
    value.update(overrides)
    return value


def quiet_logger():
    """A logger that keeps its lines (as dicts) in ``.lines``."""
    lines = []
    logger = kit.Logger({"agent": "test"}, level="debug", write=lambda line: lines.append(json.loads(line)))
    logger.lines = lines
    return logger


def no_sleep(recorder):
    """Delivery options that record the pauses instead of waiting."""
    return lambda seconds: recorder.append(seconds)


class TempDirCase(unittest.TestCase):
    """A case with a temporary folder (``self.dir``) and a loopback server (``self.server``)."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        self.server = LoopbackServer()

    def tearDown(self):
        self.server.close()
        self._tmp.cleanup()
