import base64
import json
import os
import subprocess
import sys
import threading
import unittest
from unittest import mock

from support import EXAMPLES, LoopbackServer, TempDirCase, envelope, iso, kit, quiet_logger, wait_until

FAST = kit.DeliveryOptions(sleep=lambda s: None, random=lambda: 0.0)


class RecordingProvider(kit.ModelProvider):
    name = "recording"

    def __init__(self, text="## Summary\n\nanswer", error=None, block=None):
        self.calls = []
        self.text, self.error, self.block = text, error, block

    def complete(self, system, prompt, max_tokens=None, timeout=None):
        self.calls.append({"system": system, "prompt": prompt, "max_tokens": max_tokens, "timeout": timeout})
        if self.block is not None:
            self.block()
        if self.error:
            raise self.error
        return kit.ModelResponse(self.text, "recording", "rec-1")


def summarize(task):
    """A handler as a team would write one: an input artifact and a string input, the model, one artifact."""
    document = task.text("document", "the key of a document artifact")
    answer = task.complete("Summarize.\n## Summary\n", "%s\n\n%s" % (task.text("topic", "a topic"), document), max_tokens=321)
    task.write_artifact("summary", answer.text)
    return kit.model_output(answer, answer.text)


class RunTaskTest(TempDirCase):
    def run_task(self, env_overrides=None, handler=summarize, **kw):
        value = envelope(self.server.url, self.dir, **(env_overrides or {}))
        kw.setdefault("delivery", FAST)
        kw.setdefault("logger", quiet_logger())
        kw.setdefault("env", {})
        return kit.run_task(handler, value, name="researcher", **kw), value

    def put(self, key, text):
        kit.LocalArtifactStore(self.dir).write(key, text)
        return key

    def reports(self):
        return [r.json() for r in self.server.requests if r.path == "/callbacks/cb-1"]

    def test_reads_artifact_inputs_writes_its_artifact_under_the_prefix_and_reports_it_once(self):
        key = self.put("agents/upstream/doc.md", "the document")
        provider = RecordingProvider()
        result, value = self.run_task({"input": {"topic": "T", "document": key}}, provider=provider)
        written = value["artifacts"]["prefix"] + "summary.md"
        self.assertEqual((result.status, result.delivery.outcome, result.artifacts), ("succeeded", "accepted", {"summary": written}))
        self.assertEqual(self.reports(), [{"status": "succeeded", "artifacts": {"summary": written}, "output": {
            "provider": "recording", "model": "rec-1", "offline": False, "characters": len("## Summary\n\nanswer")},
            # The recording provider says nothing of tokens: none counted, no cost estimated, the model named.
            "usage": {"input_tokens": 0, "output_tokens": 0, "model": "rec-1"}}])
        self.assertEqual(kit.LocalArtifactStore(self.dir).read(written), "## Summary\n\nanswer")
        self.assertEqual(provider.calls[0]["prompt"], "T\n\nthe document")
        self.assertEqual(provider.calls[0]["max_tokens"], 321)
        self.assertGreater(provider.calls[0]["timeout"], 250)  # bounded by the deadline, five minutes away
        self.assertEqual(self.server.requests[0].headers["x-callback-token"], "tok-secret")

    def test_a_handler_may_return_nothing_and_report_no_artifacts(self):
        result, _ = self.run_task(handler=lambda task: None)
        self.assertEqual(self.reports(), [{"status": "succeeded", "artifacts": {}}])
        self.assertEqual(result.output, None)

    def test_heartbeats_while_the_handler_runs_and_stops_when_it_ends(self):
        seen = threading.Event()

        def slow(task):
            wait_until(lambda: len([r for r in self.server.requests if r.path.endswith("/heartbeat")]) >= 2, 10, "two heartbeats")
            seen.set()
            return {"beats": "seen"}

        result, _ = self.run_task({"heartbeat_interval_seconds": 0.05}, handler=slow)
        self.assertTrue(seen.is_set())
        self.assertEqual(result.status, "succeeded")
        after = len(self.server.requests)
        self.assertEqual(self.server.requests[-1].path, "/callbacks/cb-1")
        threading.Event().wait(0.2)  # no beat may follow the report
        self.assertEqual(len(self.server.requests), after)

    def test_stops_the_model_call_when_a_heartbeat_says_the_task_is_gone(self):
        self.server.script = lambda req: (409, {"message": "not waiting"}) if req.path.endswith("/heartbeat") else (409, {"message": "late"})
        gone = threading.Event()
        provider = RecordingProvider(block=lambda: gone.wait(10))

        def handler(task):
            threading.Thread(target=lambda: (task.gone.wait(10), gone.set()), daemon=True).start()
            return summarize(task)

        key = self.put("agents/upstream/doc.md", "doc")
        result, _ = self.run_task({"heartbeat_interval_seconds": 0.05, "input": {"topic": "T", "document": key}}, handler=handler, provider=provider)
        self.assertEqual(result.error, {"code": "ModelError",
                                        "message": "model call stopped: the orchestrator no longer waits for this task: not waiting"})
        self.assertEqual(result.delivery.outcome, "refused")

    def test_reports_a_model_error_as_failed_with_code_model_error_and_writes_nothing(self):
        key = self.put("agents/upstream/doc.md", "doc")
        result, value = self.run_task({"input": {"topic": "T", "document": key}}, provider=RecordingProvider(error=kit.ModelError("the model broke")))
        self.assertEqual(self.reports(), [{"status": "failed", "error": {"code": "ModelError", "message": "the model broke"}}])
        self.assertFalse(os.path.exists(os.path.join(self.dir, *value["artifacts"]["prefix"].split("/"))))
        self.assertIsNone(result.artifacts)

    def test_reports_a_misconfigured_provider_as_a_model_error(self):
        key = self.put("agents/upstream/doc.md", "doc")
        self.run_task({"input": {"topic": "T", "document": key}}, env={"AGENT_MODEL_PROVIDER": "gpt"})
        self.assertEqual(self.reports()[0]["error"]["code"], "ModelError")
        self.assertIn("AGENT_MODEL_PROVIDER 'gpt' is not known", self.reports()[0]["error"]["message"])

    def test_asks_the_model_for_agent_max_tokens_tokens_when_set_else_for_what_the_agent_asks(self):
        key = self.put("agents/upstream/doc.md", "doc")
        provider = RecordingProvider()
        self.run_task({"input": {"topic": "T", "document": key}}, provider=provider, env={"AGENT_MAX_TOKENS": "1000"})
        self.assertEqual(provider.calls[0]["max_tokens"], 1000)
        self.run_task({"input": {"topic": "T", "document": key}}, provider=provider, env={"AGENT_MAX_TOKENS": "lots"})
        self.assertEqual(self.reports()[-1]["error"], {"code": "ModelError", "message": "AGENT_MAX_TOKENS must be a whole number of tokens from 1, got 'lots'"})

    def test_reports_missing_inputs_and_unreadable_input_artifacts_as_input_error(self):
        self.run_task({"input": {"topic": "T"}})
        self.assertEqual(self.reports()[0]["error"], {"code": "InputError", "message": "input 'document': expected the key of a document artifact, it is missing"})
        self.run_task({"input": {"topic": "T", "document": "agents/none.md"}})
        self.assertRegex(self.reports()[1]["error"]["message"], r"^input 'document': artifact 'agents/none\.md' not found")
        self.run_task({"input": {"topic": 7, "document": self.put("agents/d.md", "d")}})
        self.assertEqual(self.reports()[2]["error"]["message"], "input 'topic': expected a topic, got number")

    def test_reads_the_model_key_from_its_secret_before_the_handler_and_never_logs_it(self):
        env = {"AGENT_SECRETS": "MODEL_KEY", "MODEL_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:k"}
        seen = {}
        logger = quiet_logger()
        self.run_task(handler=lambda task: seen.update(key=env.get("MODEL_KEY")), env=env, logger=logger,
                      read_secret=lambda arn: "sk-very-secret")
        self.assertEqual(seen, {"key": "sk-very-secret"})
        self.assertNotIn("sk-very-secret", json.dumps(logger.lines))
        self.assertEqual([l["names"] for l in logger.lines if l["message"] == "secrets read"], [["MODEL_KEY"]])

    def test_reports_a_secret_it_cannot_read_as_failed_before_any_work(self):
        calls = []
        self.run_task(handler=lambda task: calls.append(1), env={"AGENT_SECRETS": "K"})
        self.assertEqual(calls, [])
        self.assertEqual(self.reports()[0]["error"]["code"], "AgentError")
        self.assertIn("K_SECRET_ARN is not set", self.reports()[0]["error"]["message"])

    def test_reports_a_write_failure_as_artifact_error_any_other_failure_as_agent_error_or_its_own_code(self):
        blocker = os.path.join(self.dir, "blocker")
        with open(blocker, "w") as f:
            f.write("x")
        value = envelope(self.server.url, blocker)
        kit.run_task(lambda task: task.write_artifact("out", "x"), value, delivery=FAST, logger=quiet_logger(), env={})
        self.assertEqual(self.reports()[0]["error"]["code"], "ArtifactError")
        logger = quiet_logger()
        self.run_task(handler=lambda task: {}["missing"], logger=logger)
        self.assertEqual(self.reports()[1]["error"], {"code": "AgentError", "message": "KeyError: 'missing'"})
        self.assertIn("Traceback", [l for l in logger.lines if l["message"] == "task failed"][0]["traceback"])

        def own(task):
            raise kit.AgentFailure("the source site is down", code="SourceUnavailable")

        self.run_task(handler=own)
        self.assertEqual(self.reports()[2]["error"], {"code": "SourceUnavailable", "message": "the source site is down"})
        with self.assertRaisesRegex(ValueError, "AgentFailure code 'no spaces'"):
            kit.AgentFailure("x", code="no spaces")
        self.run_task(handler=lambda task: task.write_artifact("bad name", "x"))
        self.assertIn("artifact name 'bad name'", self.reports()[3]["error"]["message"])
        self.run_task(handler=lambda task: ["not", "a", "dict"])
        self.assertEqual(self.reports()[4]["error"]["message"], "the handler returned list; return a dict (the report's output) or None")
        self.run_task(handler=lambda task: {"big": "x" * 16384})
        self.assertEqual(self.reports()[5]["error"], {"code": "AgentError", "message": "the handler's output is 16394 bytes; the callback route "
                                                      "takes at most 16384: write large results as artifacts and report their keys"})
        self.run_task(handler=lambda task: {"when": object()})
        self.assertRegex(self.reports()[6]["error"]["message"], "^the handler's output is not JSON: ")

    def test_keeps_error_messages_within_what_the_callback_route_takes(self):
        def long(task):
            raise kit.InputError("x" * 5000)

        self.run_task(handler=long)
        message = self.reports()[0]["error"]["message"]
        self.assertEqual(len(message), 4000)
        self.assertTrue(message.endswith("..."))

    def test_reports_an_invalid_envelope_as_failed_when_it_has_a_usable_callback_naming_the_field(self):
        value = envelope(self.server.url, self.dir)
        del value["workflow_id"]
        result = kit.run_task(summarize, json.dumps(value), delivery=FAST, logger=quiet_logger(), env={})
        self.assertEqual(result.delivery.outcome, "accepted")
        self.assertEqual(self.reports(), [{"status": "failed", "error": {
            "code": "InvalidEnvelope", "message": "invalid task envelope: field 'workflow_id': expected a non-empty string, it is missing"}}])

    def test_cannot_report_an_envelope_without_a_callback(self):
        result = kit.run_task(summarize, {"envelope_version": 1}, delivery=FAST, logger=quiet_logger(), env={})
        self.assertEqual((result.status, result.delivery.outcome, result.delivery.attempts), ("failed", "undelivered", 0))
        self.assertEqual(result.delivery.message, "the envelope has no usable callback to report to")
        self.assertEqual(self.server.requests, [])


class LambdaHandlerTest(TempDirCase):
    def handler(self, **kw):
        kw.setdefault("delivery", FAST)
        kw.setdefault("logger", quiet_logger())
        kw.setdefault("env", {})
        return kit.lambda_handler(lambda task: task.write_artifact("out", "x") and None, name="writer", **kw)

    def test_returns_on_an_accepted_or_refused_report_and_raises_when_it_cannot_deliver_it(self):
        value = envelope(self.server.url, self.dir)
        self.assertEqual(self.handler()(value, None), {"status": "succeeded", "report": "accepted", "report_status": 200})
        self.server.script = lambda req: (409, {"message": "duplicate"})
        self.assertEqual(self.handler()(value, None), {"status": "succeeded", "report": "refused", "report_status": 409})
        self.server.script = lambda req: (503, {})
        with self.assertRaisesRegex(kit.ReportNotDelivered, "^the writer agent could not deliver its report: "):
            self.handler()(value, None)

    def test_a_health_check_runs_nothing_and_names_the_model_provider_or_what_is_misconfigured(self):
        self.assertEqual(self.handler()(kit.HEALTH_CHECK_EVENT, None), {"status": "ok", "agent": "writer", "model_provider": "offline"})
        self.assertEqual(self.handler(env={"AGENT_MODEL_PROVIDER": "openai"})({"health_check": True}, None), {
            "status": "misconfigured", "agent": "writer",
            "message": "OPENAI_BASE_URL is required with AGENT_MODEL_PROVIDER=openai (e.g. https://api.openai.com/v1)"})
        self.assertEqual(self.server.requests, [])

    def test_a_function_url_request_get_is_a_health_check_post_carries_an_envelope_other_methods_are_refused(self):
        def url_event(method, body=None, b64=False):
            event = {"rawPath": "/", "requestContext": {"http": {"method": method}}, "isBase64Encoded": b64}
            if body is not None:
                event["body"] = base64.b64encode(body.encode()).decode() if b64 else body
            return event

        handler = self.handler()
        get = handler(url_event("GET"), None)
        self.assertEqual((get["statusCode"], json.loads(get["body"])), (200, {"status": "ok", "agent": "writer", "model_provider": "offline"}))
        post = handler(url_event("POST", json.dumps(envelope(self.server.url, self.dir)), b64=True), None)
        self.assertEqual((post["statusCode"], json.loads(post["body"])), (200, {"status": "succeeded", "report": "accepted", "report_status": 200}))
        self.assertEqual(handler(url_event("POST", "{nope"), None)["statusCode"], 400)
        self.assertEqual(handler(url_event("DELETE"), None)["statusCode"], 405)
        self.server.script = lambda req: (503, {})
        failed = handler(url_event("POST", json.dumps(envelope(self.server.url, self.dir))), None)
        self.assertEqual(failed["statusCode"], 502)


class LambdaRuntimeTest(TempDirCase):
    def test_inside_a_lambda_container_it_serves_invocations_from_the_runtime_api(self):
        callback = self.server
        task = envelope(callback.url, self.dir)
        events = [kit.HEALTH_CHECK_EVENT, task]

        def runtime(req):
            if req.path.endswith("/invocation/next"):
                event = events.pop(0)
                return 200, event, {"Lambda-Runtime-Aws-Request-Id": "req-%d" % (2 - len(events)), "Lambda-Runtime-Deadline-Ms": "1"}
            return 202, {}

        api = LoopbackServer(runtime)
        try:
            kit.run_lambda_runtime(kit.lambda_handler(lambda t: None, name="researcher", delivery=FAST, logger=quiet_logger(), env={}),
                                   api.url[len("http://"):], max_invocations=2)
        finally:
            api.close()
        posted = [(r.path, r.json()) for r in api.requests if r.method == "POST"]
        self.assertEqual(posted, [
            ("/2018-06-01/runtime/invocation/req-1/response", {"status": "ok", "agent": "researcher", "model_provider": "offline"}),
            ("/2018-06-01/runtime/invocation/req-2/response", {"status": "succeeded", "report": "accepted", "report_status": 200}),
        ])
        self.assertEqual(len(callback.requests), 1)


def run_example(name, task_envelope, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_", "AWS_", "OPENAI_"))}
    env.update({"TASK_ENVELOPE": json.dumps(task_envelope), "AGENT_MODEL_PROVIDER": "offline", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-B", os.path.join(EXAMPLES, name + ".py")], env=env, capture_output=True, text=True, timeout=60)


class ExampleAgentsTest(TempDirCase):
    """The reference agents written with the kit, run as processes (as the local server runs them)."""

    def step(self, agent, step, task_input):
        prefix = "agents/%s/wf-python-kit/%s/attempt-1/" % (agent, step)
        value = envelope(self.server.url, self.dir, agent=agent, step_name=step, input=task_input,
                         artifacts={"prefix": prefix, "local_dir": self.dir})
        before = len(self.server.requests)
        done = run_example(agent, value)
        self.assertEqual(done.returncode, 0, done.stderr)
        [report] = [r.json() for r in self.server.requests[before:]]
        return report, done

    def test_researcher_analyst_writer_hand_their_artifacts_on_and_the_report_says_it_was_written_offline(self):
        research, done = self.step("researcher", "research", {"topic": "Durable agents", "parameters": {"depth": "brief", "focus": "cost"}})
        self.assertEqual(research["status"], "succeeded", research)
        self.assertEqual(set(research["output"]), {"provider", "model", "offline", "characters"})
        self.assertTrue(research["output"]["offline"])
        notes = kit.LocalArtifactStore(self.dir).read(research["artifacts"]["research"])
        self.assertIn("## Key findings", notes)
        self.assertIn("- Depth: brief. Keep it short: the five most important findings.", notes)
        self.assertIn("- focus: cost", notes)
        lines = [json.loads(l) for l in done.stderr.splitlines()]
        self.assertIn("report accepted", [l["message"] for l in lines])
        self.assertTrue(all(l["agent"] == "researcher" for l in lines))

        analysis, _ = self.step("analyst", "analysis", {"research": research["artifacts"]["research"]})
        self.assertEqual(analysis["status"], "succeeded", analysis)
        self.assertIn("## Strength of the evidence", kit.LocalArtifactStore(self.dir).read(analysis["artifacts"]["analysis"]))

        report, _ = self.step("writer", "writing", {"analysis": analysis["artifacts"]["analysis"], "topic": "Durable  agents"})
        self.assertEqual(report["status"], "succeeded", report)
        text = kit.LocalArtifactStore(self.dir).read(report["artifacts"]["report"])
        self.assertTrue(text.startswith("# Durable agents\n\n*Written by the writer agent with offline (offline-deterministic-v1) "
                                        "for workflow wf-python-kit.*\n"), text[:200])
        for section in ("## Summary", "## Background", "## Findings", "## Recommendations", "## Conclusion"):
            self.assertIn(section, text)
        self.assertTrue(text.endswith("*%s This report is an outline of its inputs, not model-written analysis.*\n" % kit.OFFLINE_NOTICE))
        self.assertEqual(report["output"]["characters"], len(text))

    def test_a_bad_input_is_reported_as_input_error(self):
        report, _ = self.step("researcher", "research", {"topic": "x", "parameters": ["depth"]})
        self.assertEqual(report["error"], {"code": "InputError", "message":
                                           "input 'parameters': expected an object such as {\"depth\": \"comprehensive\"} or nothing, got an array"})

    def test_a_process_without_a_task_exits_2_and_says_what_to_set(self):
        done = subprocess.run([sys.executable, "-B", os.path.join(EXAMPLES, "analyst.py")], capture_output=True, text=True, timeout=60,
                              env={k: v for k, v in os.environ.items() if k not in ("TASK_ENVELOPE", "AWS_LAMBDA_RUNTIME_API")})
        self.assertEqual(done.returncode, 2)
        self.assertIn("no task: set TASK_ENVELOPE to the task envelope (JSON)", done.stderr)

    def test_a_process_whose_report_cannot_be_delivered_exits_1(self):
        closed = LoopbackServer()
        closed.close()
        value = envelope(closed.url, self.dir, deadline=iso(1.5))
        done = run_example("researcher", value)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("no time left before the deadline", done.stderr)


class ReadmeExampleTest(TempDirCase):
    """The handler example of the kit's README runs as written."""

    def test_the_readme_handler_summarizes_a_document_artifact(self):
        with open(os.path.join(os.path.dirname(EXAMPLES), "README.md"), encoding="utf-8") as f:
            self.check(f.read().split("```python\n", 1)[1].split("```", 1)[0])

    def test_the_example_in_the_main_readme_summarizes_a_document_artifact(self):
        main_readme = os.path.join(os.path.dirname(EXAMPLES), "..", "..", "README.md")
        with open(main_readme, encoding="utf-8") as f:
            section = f.read().split("\n## Agents in Python\n", 1)[1]
        self.check(section.split("```python\n", 1)[1].split("```", 1)[0])

    def check(self, code):
        namespace = {"__name__": "readme_example"}
        exec(compile(code, "README.md", "exec"), namespace)
        kit.LocalArtifactStore(self.dir).write("agents/upstream/doc.md", "A document about durable agents.")
        value = envelope(self.server.url, self.dir, agent="summarizer", input={"document": "agents/upstream/doc.md"})
        with mock.patch.dict(os.environ, {"AGENT_LOG_LEVEL": "error"}):  # the example logs to stderr: keep the test output quiet
            result = namespace["handler"](value, None)
        self.assertEqual(result, {"status": "succeeded", "report": "accepted", "report_status": 200})
        [report] = [r.json() for r in self.server.requests]
        key = value["artifacts"]["prefix"] + "summary.md"
        self.assertEqual(report["artifacts"], {"summary": key})
        self.assertEqual(report["output"]["provider"], "offline")
        self.assertIn("- A document about durable agents.", kit.LocalArtifactStore(self.dir).read(key))


if __name__ == "__main__":
    unittest.main()
