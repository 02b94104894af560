"""Tests of the python-minimal agent: run with `python3 -m unittest discover -s agents/python-minimal`.

The agent runs as a real process against a callback server on 127.0.0.1 and a temporary
local_dir; SigV4 is checked against signatures computed by @smithy/signature-v4 (the signer
the TypeScript agents use) for the same requests.
"""

import datetime
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import agent  # noqa: E402

AGENT = os.path.join(HERE, "agent.py")
TOKEN = "T" * 43


class CallbackServer:
    """Records every request; answers with the next status of `statuses` (the last one repeats)."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                outer.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                answer = json.dumps({"accepted": True} if status < 300 else {"error": "x", "message": "answer %d" % status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]

    def reports(self):
        return [r for r in self.requests if not r["path"].endswith("/heartbeat")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def make_envelope(base, local_dir, step="analysis", agent_name="analyst", input_=None, deadline_s=60, **extra):
    prefix = "agents/%s/wf-1/%s/attempt-1/" % (agent_name, step)
    envelope = {
        "envelope_version": 1,
        "workflow_id": "wf-1",
        "step_name": step,
        "attempt": 1,
        "agent": agent_name,
        "input": input_ if input_ is not None else {},
        "artifacts": {"prefix": prefix, "local_dir": local_dir},
        "callback": {"id": "cb-1", "url": base + "/callbacks/cb-1", "heartbeat_url": base + "/callbacks/cb-1/heartbeat", "token": TOKEN},
        "deadline": (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=deadline_s)).isoformat().replace("+00:00", "Z"),
    }
    envelope.update(extra)
    return envelope


def run_agent(envelope, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "AGENT_MODEL_PROVIDER"}
    if envelope is not None:
        full_env["TASK_ENVELOPE"] = envelope if isinstance(envelope, str) else json.dumps(envelope)
    full_env.update(env)
    return subprocess.run([sys.executable, AGENT], env=full_env, capture_output=True, text=True, timeout=60)


class ProcessTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pyagent-")
        self.server = CallbackServer()

    def tearDown(self):
        self.server.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_input(self, key, text):
        path = os.path.join(self.dir, *key.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def test_reads_inputs_writes_artifact_under_prefix_and_reports_once_with_token(self):
        research_key = "agents/researcher/wf-1/research/attempt-1/research.md"
        self.write_input(research_key, "# Notes\n\n- Durable functions checkpoint every step\n- Callbacks resume a workflow\n")
        envelope = make_envelope(self.server.base, self.dir, input_={"research": research_key})
        result = run_agent(envelope)
        self.assertEqual(result.returncode, 0, result.stderr)
        reports = self.server.reports()
        self.assertEqual(len(reports), 1)
        self.assertEqual(reports[0]["path"], "/callbacks/cb-1")
        self.assertEqual(reports[0]["headers"]["x-callback-token"], TOKEN)
        self.assertNotIn("authorization", reports[0]["headers"])
        body = json.loads(reports[0]["body"])
        key = "agents/analyst/wf-1/analysis/attempt-1/analysis.md"
        self.assertEqual(body["status"], "succeeded")
        self.assertEqual(body["artifacts"], {"analysis": key})
        self.assertEqual(body["output"]["provider"], "offline")
        self.assertTrue(body["output"]["offline"])
        with open(os.path.join(self.dir, *key.split("/")), encoding="utf-8") as f:
            text = f.read()
        self.assertIn(agent.OFFLINE_NOTICE, text)
        self.assertIn("Durable functions checkpoint every step", text)
        lines = [json.loads(line) for line in result.stderr.splitlines()]
        self.assertTrue(all(line["workflow_id"] == "wf-1" and line["step_name"] == "analysis" for line in lines))
        self.assertNotIn(TOKEN, result.stderr)

    def test_same_input_gives_the_same_artifact(self):
        envelope = make_envelope(self.server.base, self.dir, step="research", agent_name="researcher",
                                 input_={"topic": "Durable agents", "parameters": None})
        key = os.path.join(self.dir, "agents", "researcher", "wf-1", "research", "attempt-1", "research.md")
        texts = []
        for _ in range(2):
            self.assertEqual(run_agent(envelope).returncode, 0)
            with open(key, encoding="utf-8") as f:
                texts.append(f.read())
        self.assertEqual(texts[0], texts[1])
        self.assertTrue(texts[0].startswith("# Durable agents\n"))

    def test_refused_report_is_not_retried(self):
        self.server.statuses = [409]
        result = run_agent(make_envelope(self.server.base, self.dir, input_={"topic": "t"}))
        self.assertEqual(len(self.server.reports()), 1)
        self.assertEqual(result.returncode, 0)
        self.assertIn("a 409 is final", result.stderr)

    def test_server_error_is_retried_until_accepted(self):
        self.server.statuses = [503, 200]
        result = run_agent(make_envelope(self.server.base, self.dir, input_={"topic": "t"}))
        self.assertEqual(result.returncode, 0, result.stderr)
        reports = self.server.reports()
        self.assertEqual(len(reports), 2)
        self.assertEqual(reports[0]["body"], reports[1]["body"])

    def test_undeliverable_report_exits_non_zero(self):
        self.server.statuses = [503]
        result = run_agent(make_envelope(self.server.base, self.dir, input_={"topic": "t"}, deadline_s=1.5))
        self.assertEqual(result.returncode, 1)
        self.assertIn("no time left before the deadline", result.stderr)

    def test_missing_input_artifact_is_reported_as_input_error(self):
        result = run_agent(make_envelope(self.server.base, self.dir, input_={"research": "agents/researcher/wf-1/nothing.md"}))
        self.assertEqual(result.returncode, 0)
        body = json.loads(self.server.reports()[0]["body"])
        self.assertEqual(body["status"], "failed")
        self.assertEqual(body["error"]["code"], "InputError")
        self.assertIn("input 'research'", body["error"]["message"])

    def test_unsupported_provider_is_reported_as_model_error(self):
        run_agent(make_envelope(self.server.base, self.dir, input_={"topic": "t"}), AGENT_MODEL_PROVIDER="bedrock")
        body = json.loads(self.server.reports()[0]["body"])
        self.assertEqual(body["error"]["code"], "ModelError")

    def test_invalid_envelope_with_a_callback_reports_failure(self):
        envelope = make_envelope(self.server.base, self.dir)
        del envelope["workflow_id"]
        result = run_agent(envelope)
        self.assertEqual(result.returncode, 0)
        body = json.loads(self.server.reports()[0]["body"])
        self.assertEqual(body["error"]["code"], "InvalidEnvelope")
        self.assertIn("field 'workflow_id'", body["error"]["message"])

    def test_no_task_exits_2(self):
        result = run_agent(None)
        self.assertEqual(result.returncode, 2)
        self.assertIn("TASK_ENVELOPE", result.stderr)


class EnvelopeTest(unittest.TestCase):
    def test_names_each_missing_field(self):
        envelope = make_envelope("http://127.0.0.1:1", "/tmp")
        del envelope["callback"]["token"]
        envelope["attempt"] = 0
        with self.assertRaises(agent.EnvelopeError) as caught:
            agent.parse_envelope(json.dumps(envelope))
        self.assertIn("field 'callback.token'", str(caught.exception))
        self.assertIn("field 'attempt'", str(caught.exception))

    def test_needs_somewhere_to_write(self):
        envelope = make_envelope("http://127.0.0.1:1", "/tmp")
        envelope["artifacts"] = {"prefix": "agents/x/"}
        with self.assertRaisesRegex(agent.EnvelopeError, "neither 'bucket'"):
            agent.parse_envelope(envelope)

    def test_keys_that_leave_the_folder_are_refused(self):
        with self.assertRaises(agent.ArtifactError):
            agent.LocalStore(tempfile.gettempdir()).read("agents/../../etc/passwd")


class SigV4Test(unittest.TestCase):
    """Expected signatures computed by @smithy/signature-v4 5.7.5 for the same requests."""

    NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    CREDENTIALS = {"access_key": "AKIDEXAMPLE", "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

    def sign(self, method, url, headers, body, service, region, token=None):
        credentials = dict(self.CREDENTIALS, token=token)
        return agent.sigv4_headers(method, url, headers, body, service, region, credentials, self.NOW)["authorization"]

    def test_execute_api_with_session_token(self):
        auth = self.sign("POST", "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/callbacks/cb-abc_DEF-123",
                         {"Content-Type": "application/json", "X-Callback-Token": "tok"}, b'{"status":"succeeded"}',
                         "execute-api", "eu-west-1", token="session-token")
        self.assertEqual(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/eu-west-1/execute-api/aws4_request, "
                               "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-callback-token, "
                               "Signature=396a919efd197ed3a0e70daf5702320b0e0e55422ed29e00745f3eefca520454")

    def test_execute_api_path_is_encoded_twice(self):
        auth = self.sign("POST", "https://abc123.execute-api.eu-west-1.amazonaws.com/callbacks/cb-x%20y",
                         {"Content-Type": "application/json", "X-Callback-Token": "tok"}, b"", "execute-api", "eu-west-1")
        self.assertTrue(auth.endswith("Signature=f9b358a8d21790b3a42f0afd6e1d95ca4939fbb884d1bc02e1947787f6d71327"), auth)

    def test_s3_put(self):
        auth = self.sign("PUT", "https://bucket.s3.us-east-1.amazonaws.com/agents/a%20b/x.md",
                         {"Content-Type": "text/markdown; charset=utf-8"}, b"# hi\n", "s3", "us-east-1")
        self.assertEqual(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/us-east-1/s3/aws4_request, "
                               "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, "
                               "Signature=16af09c94c3b9a422484a8012775f1daf8ea56ef2f3fa6f4dc7f121bfe8b975a")

    def test_region_from_execute_api_host(self):
        self.assertEqual(agent.signing_region("abc.execute-api.ap-south-1.amazonaws.com", {}), "ap-south-1")


class HeartbeatTest(unittest.TestCase):
    def test_beats_with_the_token_until_stopped(self):
        server = CallbackServer()
        try:
            envelope = make_envelope(server.base, "/tmp", heartbeat_interval_seconds=0.05)
            beats = agent.Heartbeats(envelope, agent.Logger(stream=io.StringIO()))
            time.sleep(0.4)
            beats.stop()
            beats.thread.join(2)
            count = len(server.requests)
            time.sleep(0.2)
            self.assertGreaterEqual(count, 2)
            self.assertEqual(len(server.requests), count)
            self.assertTrue(all(r["path"] == "/callbacks/cb-1/heartbeat" and r["headers"]["x-callback-token"] == TOKEN for r in server.requests))
        finally:
            server.close()

    def test_container_credentials_are_fetched_with_the_authorization_token(self):
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.headers.get("Authorization"))
                body = json.dumps({"AccessKeyId": "AK", "SecretAccessKey": "SK", "Token": "ST", "Expiration": "2999-01-01T00:00:00Z"}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.handle_request, daemon=True).start()
        try:
            url = "http://127.0.0.1:%d/creds" % server.server_address[1]
            credentials = agent.resolve_credentials({"AWS_CONTAINER_CREDENTIALS_FULL_URI": url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "auth"})
            self.assertEqual(credentials, {"access_key": "AK", "secret_key": "SK", "token": "ST"})
            self.assertEqual(seen, ["auth"])
        finally:
            server.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(shutil.which("moto_server"), "moto_server is not installed on PATH: the S3 path is not tested")
class S3Test(unittest.TestCase):
    """The S3 GET and PUT of the agent against moto_server on loopback (moto does not check signatures)."""

    @classmethod
    def setUpClass(cls):
        port = free_port()
        cls.endpoint = "http://localhost:%d" % port
        cls.moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(cls.endpoint + "/moto-api/reset", method="POST"), timeout=1).read()
                break
            except OSError:
                if time.time() > deadline:
                    cls.moto.kill()
                    raise
                time.sleep(0.2)
        cls.env = {"AWS_ENDPOINT_URL_S3": cls.endpoint, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        urllib.request.urlopen(urllib.request.Request(cls.endpoint + "/artifacts", method="PUT"), timeout=5).read()

    @classmethod
    def tearDownClass(cls):
        cls.moto.terminate()
        cls.moto.wait(10)

    def test_reads_its_input_from_s3_and_writes_its_artifact_there(self):
        store = agent.S3Store("artifacts", self.env)
        store.write("agents/researcher/wf-1/research/attempt-1/research.md", "- Finding one\n", "text/markdown")
        server = CallbackServer()
        try:
            envelope = make_envelope(server.base, "unused", input_={"research": "agents/researcher/wf-1/research/attempt-1/research.md"})
            del envelope["artifacts"]["local_dir"]
            envelope["artifacts"]["bucket"] = "artifacts"
            result = run_agent(envelope, **self.env)
            self.assertEqual(result.returncode, 0, result.stderr)
            body = json.loads(server.reports()[0]["body"])
            self.assertEqual(body["status"], "succeeded", body)
            text = store.read(body["artifacts"]["analysis"])
            self.assertIn("Finding one", text)
            self.assertIn(agent.OFFLINE_NOTICE, text)
        finally:
            server.close()


if __name__ == "__main__":
    unittest.main()
