import hashlib
import threading
import unittest

from support import LoopbackServer, kit, require_module

SYSTEM = "Answer.\n## Summary\n## Themes\n## Risks\n"


class OfflineProviderTest(unittest.TestCase):
    def test_says_plainly_that_no_model_was_called_and_names_itself(self):
        answer = kit.OfflineProvider().complete(SYSTEM, "Topic: durable agents")
        self.assertTrue(answer.text.startswith("> **Offline draft.** " + kit.OFFLINE_NOTICE))
        self.assertEqual((answer.provider, answer.model, answer.offline), ("offline", kit.OFFLINE_MODEL, True))

    def test_is_deterministic_the_same_request_gives_the_same_text_another_request_another_text(self):
        provider = kit.OfflineProvider()
        first = provider.complete(SYSTEM, "a line\nanother line").text
        self.assertEqual(provider.complete(SYSTEM, "a line\nanother line").text, first)
        self.assertNotEqual(provider.complete(SYSTEM, "a line\nanother line!").text, first)
        fingerprint = hashlib.sha256(("%s\n\n%s" % (SYSTEM, "a line\nanother line")).encode()).hexdigest()[:16]
        self.assertIn("> Request fingerprint: `%s` (SHA-256 of the instructions and the prompt)." % fingerprint, first)

    def test_answers_with_the_sections_the_system_prompt_asks_for_filled_from_the_prompt(self):
        prompt = "# Title\n- one thing\n* two **things**\n1. three\nSources:\n---\nfour four\nfive\nsix six\nSummary\n"
        text = kit.offline_text(SYSTEM, prompt)
        self.assertEqual(text.split("\n")[3:], [
            "## Summary", "",
            'An outline of the 6 lines of input, starting with: "one thing".',
            "", "## Themes", "", "- one thing", "- three", "- five",
            "", "## Risks", "", "- two things", "- four four", "- six six",
            "",
        ])

    def test_caps_each_section_and_says_how_many_lines_are_left_out(self):
        text = kit.offline_text("## Only\n", "\n".join("line %d" % i for i in range(10)))
        self.assertIn("- line 5\n- ... and 4 more line(s) of input.\n", text)
        self.assertNotIn("- line 6", text)

    def test_does_not_repeat_the_notice_of_an_offline_input_it_outlines(self):
        first = kit.offline_text(SYSTEM, "some input line")
        second = kit.offline_text(SYSTEM, first)
        self.assertEqual(len(second.split(kit.OFFLINE_NOTICE)), 2)
        self.assertNotIn("Request fingerprint", second.split("\n", 2)[2])

    def test_uses_summary_and_details_when_the_system_prompt_names_no_sections(self):
        text = kit.offline_text("Be brief.", "alpha beta")
        self.assertIn("## Summary\n", text)
        self.assertIn("## Details\n\n- alpha beta\n", text)
        self.assertIn("The prompt had no content to outline.", kit.offline_text("x", ""))

    def test_clips_long_lines_as_the_node_kit_counts_characters(self):
        text = kit.offline_text("## A\n", "x" * 250)
        self.assertIn("- " + "x" * 197 + "...\n", text)


class OpenAICompatibleProviderTest(unittest.TestCase):
    def setUp(self):
        self.answer = (200, {"model": "served-model", "choices": [{"message": {"role": "assistant", "content": "## Summary\n\nOK"}}]})
        self.server = LoopbackServer(lambda req: self.answer)

    def tearDown(self):
        self.server.close()

    def provider(self, **kw):
        return kit.OpenAICompatibleProvider(self.server.url + "/v1/", kw.pop("model", "m"), **kw)

    def test_posts_the_system_prompt_and_the_prompt_to_chat_completions_and_returns_the_answer(self):
        answer = self.provider(api_key="sk-test").complete("sys", "the prompt", max_tokens=123)
        self.assertEqual((answer.text, answer.provider, answer.model, answer.offline), ("## Summary\n\nOK", "openai", "served-model", False))
        [req] = self.server.requests
        self.assertEqual((req.method, req.path), ("POST", "/v1/chat/completions"))
        self.assertEqual(req.headers["authorization"], "Bearer sk-test")
        self.assertEqual(req.json(), {"model": "m", "max_tokens": 123, "messages": [
            {"role": "system", "content": "sys"}, {"role": "user", "content": "the prompt"}]})

    def test_sends_no_authorization_header_without_an_api_key_and_4096_tokens_by_default(self):
        self.provider().complete("s", "p")
        self.assertNotIn("authorization", self.server.requests[0].headers)
        self.assertEqual(self.server.requests[0].json()["max_tokens"], 4096)

    def test_accepts_content_sent_as_text_parts(self):
        self.answer = (200, {"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}]})
        answer = self.provider().complete("s", "p")
        self.assertEqual((answer.text, answer.model), ("ab", "m"))

    def test_fails_with_a_model_error_naming_the_endpoint_and_its_answer(self):
        url = self.server.url + "/v1/chat/completions"
        cases = [
            ((401, {"error": {"message": "bad key"}}), "the OpenAI-compatible endpoint %s answered 401: bad key" % url),
            ((500, b"oops"), "the OpenAI-compatible endpoint %s answered 500: oops" % url),
            ((200, b"<html>"), "the OpenAI-compatible endpoint %s answered 200 with a body that is not JSON: <html>" % url),
            ((200, {"choices": []}), "the OpenAI-compatible endpoint %s answered without choices[0].message.content" % url),
            ((200, {"choices": [{"message": {"content": "  "}}]}), "the OpenAI-compatible endpoint %s returned an empty completion" % url),
        ]
        for answer, message in cases:
            self.answer = answer
            with self.assertRaises(kit.ModelError) as caught:
                self.provider().complete("s", "p")
            self.assertTrue(str(caught.exception).startswith(message), str(caught.exception))

    def test_fails_with_a_model_error_when_the_endpoint_cannot_be_reached_or_times_out(self):
        closed = LoopbackServer()
        closed.close()
        with self.assertRaisesRegex(kit.ModelError, r"^the OpenAI-compatible endpoint http://127\.0\.0\.1:\d+/chat/completions could not be reached: "):
            kit.OpenAICompatibleProvider(closed.url, "m").complete("s", "p")
        release = threading.Event()
        self.server.script = lambda req: (release.wait(5), (200, {}))[1]
        try:
            with self.assertRaisesRegex(kit.ModelError, "could not be reached: timed out$"):
                self.provider().complete("s", "p", timeout=0.2)
        finally:
            release.set()

    def test_refuses_a_base_url_or_model_it_cannot_use(self):
        with self.assertRaisesRegex(kit.ModelError, "OPENAI_BASE_URL is not a URL: 'nope'"):
            kit.OpenAICompatibleProvider("nope", "m")
        with self.assertRaisesRegex(kit.ModelError, "OPENAI_BASE_URL must be http\\(s\\), got 'ftp://x/v1'"):
            kit.OpenAICompatibleProvider("ftp://x/v1", "m")
        with self.assertRaisesRegex(kit.ModelError, "OPENAI_MODEL is required"):
            kit.OpenAICompatibleProvider("http://x/v1", "")


class BedrockProviderTest(unittest.TestCase):
    def setUp(self):
        require_module(self, "boto3")
        self.stub_module = require_module(self, "botocore.stub")
        import boto3
        self.client = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        self.stubber = self.stub_module.Stubber(self.client)

    def test_sends_one_converse_request_and_joins_the_text_blocks_of_the_answer(self):
        self.stubber.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": [{"text": "## Summary"}, {"text": "\n\nHello"}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}, "metrics": {"latencyMs": 1},
        }, {
            "modelId": "my-model",
            "system": [{"text": "sys"}],
            "messages": [{"role": "user", "content": [{"text": "prompt"}]}],
            "inferenceConfig": {"maxTokens": 77},
        })
        with self.stubber:
            answer = kit.BedrockProvider("my-model", self.client).complete("sys", "prompt", max_tokens=77)
        self.assertEqual((answer.text, answer.provider, answer.model), ("## Summary\n\nHello", "bedrock", "my-model"))

    def test_fails_with_a_model_error_when_the_call_fails_or_returns_no_text(self):
        self.stubber.add_client_error("converse", "ThrottlingException", "slow down")
        self.stubber.add_response("converse", {
            "output": {"message": {"role": "assistant", "content": []}}, "stopReason": "max_tokens",
            "usage": {"inputTokens": 1, "outputTokens": 0, "totalTokens": 1}, "metrics": {"latencyMs": 1},
        })
        provider = kit.BedrockProvider(None, self.client)
        with self.stubber:
            with self.assertRaisesRegex(kit.ModelError, "^Bedrock Converse with model '%s' failed: ThrottlingException: slow down$"
                                        % kit.DEFAULT_BEDROCK_MODEL_ID.replace(".", r"\.")):
                provider.complete("s", "p")
            with self.assertRaisesRegex(kit.ModelError, "returned no text \\(stop reason: max_tokens\\)$"):
                provider.complete("s", "p")


class ProviderFromEnvTest(unittest.TestCase):
    def test_is_offline_unless_told_otherwise(self):
        self.assertEqual(kit.provider_from_env({}).name, "offline")
        self.assertEqual(kit.provider_from_env({"AGENT_MODEL_PROVIDER": " Offline "}).name, "offline")

    def test_builds_bedrock_with_bedrock_model_id_or_the_default_model(self):
        self.assertEqual(kit.provider_from_env({"AGENT_MODEL_PROVIDER": "bedrock"}).model_id, kit.DEFAULT_BEDROCK_MODEL_ID)
        self.assertEqual(kit.provider_from_env({"AGENT_MODEL_PROVIDER": "bedrock", "BEDROCK_MODEL_ID": "m"}).model_id, "m")

    def test_needs_openai_base_url_and_openai_model_for_openai_and_says_so(self):
        with self.assertRaisesRegex(kit.ModelError, "^OPENAI_BASE_URL is required with AGENT_MODEL_PROVIDER=openai"):
            kit.provider_from_env({"AGENT_MODEL_PROVIDER": "openai"})
        with self.assertRaisesRegex(kit.ModelError, "^OPENAI_MODEL is required"):
            kit.provider_from_env({"AGENT_MODEL_PROVIDER": "openai", "OPENAI_BASE_URL": "http://x/v1"})
        provider = kit.provider_from_env({"AGENT_MODEL_PROVIDER": "openai", "OPENAI_BASE_URL": "http://x/v1", "OPENAI_MODEL": "m",
                                          "OPENAI_API_KEY": "k", "OPENAI_TIMEOUT_MS": "1500"})
        self.assertEqual((provider.url, provider.model, provider.api_key, provider.timeout), ("http://x/v1/chat/completions", "m", "k", 1.5))
        with self.assertRaisesRegex(kit.ModelError, "OPENAI_TIMEOUT_MS must be a positive number of milliseconds, got 'soon'"):
            kit.provider_from_env({"AGENT_MODEL_PROVIDER": "openai", "OPENAI_BASE_URL": "http://x/v1", "OPENAI_MODEL": "m",
                                   "OPENAI_TIMEOUT_MS": "soon"})

    def test_refuses_a_provider_it_does_not_know_listing_the_ones_it_does(self):
        with self.assertRaisesRegex(kit.ModelError, "^AGENT_MODEL_PROVIDER 'gpt' is not known: use one of offline, bedrock, openai$"):
            kit.provider_from_env({"AGENT_MODEL_PROVIDER": "gpt"})


if __name__ == "__main__":
    unittest.main()
