"""Model usage in the Python kit: each provider's token counts, the dated price table, and usage in
heartbeats (so far) and in the report, as the Node kit sends them (agents/kit/src/usage.ts)."""
import unittest

from support import LoopbackServer, envelope, kit  # noqa: F401


class ProviderUsageTest(unittest.TestCase):
    def test_offline_counts_four_characters_a_token_deterministically(self):
        answer = kit.OfflineProvider().complete("You write. ## Summary", "Topic: tides\nDepth: short")
        text = kit.offline_text("You write. ## Summary", "Topic: tides\nDepth: short")
        self.assertEqual(answer.usage, kit.ModelUsage(6 + 7, (len(text) + 3) // 4))
        self.assertEqual(kit.offline_tokens("😀"), 1)  # two UTF-16 units, as JavaScript counts them
        self.assertEqual(kit.offline_tokens("abcde"), 2)

    def test_openai_usage_and_its_estimate(self):
        server = LoopbackServer(lambda req: (200, {"model": "gpt-4o-mini-2024-07-18", "choices": [{"message": {"content": "## Summary\n\nOK"}}],
                                                   "usage": {"prompt_tokens": 1200, "completion_tokens": 345, "total_tokens": 1545}}))
        self.addCleanup(server.close)
        answer = kit.OpenAICompatibleProvider(server.url + "/v1", "gpt-4o-mini").complete("s", "p")
        self.assertEqual(answer.usage, kit.ModelUsage(1200, 345))
        meter = kit.UsageMeter({})
        meter.add(answer)
        self.assertEqual(meter.body(), {"input_tokens": 1200, "output_tokens": 345, "estimated_cost_usd": 0.000387, "model": "gpt-4o-mini-2024-07-18"})

    def test_openai_without_usage_counts_nothing_and_estimates_nothing(self):
        server = LoopbackServer(lambda req: (200, {"choices": [{"message": {"content": "OK"}}]}))
        self.addCleanup(server.close)
        answer = kit.OpenAICompatibleProvider(server.url + "/v1", "local-llama").complete("s", "p")
        self.assertIsNone(answer.usage)
        meter = kit.UsageMeter({})
        meter.add(answer)
        self.assertEqual(meter.body(), {"input_tokens": 0, "output_tokens": 0, "model": "local-llama"})

    def test_bedrock_converse_usage_priced_by_the_table(self):
        class Client:
            def converse(self, **kw):
                return {"output": {"message": {"content": [{"text": "## Summary\n\nok"}]}}, "stopReason": "end_turn",
                        "usage": {"inputTokens": 2000, "outputTokens": 500, "totalTokens": 2500}}
        provider = kit.BedrockProvider("global.anthropic.claude-sonnet-4-5-20250929-v1:0", client=Client())
        answer = provider.complete("s", "p")
        self.assertEqual(answer.usage, kit.ModelUsage(2000, 500))
        meter = kit.UsageMeter({})
        meter.add(answer)
        meter.add(answer)
        self.assertEqual(meter.body()["estimated_cost_usd"], 0.027)

    def test_the_price_table_is_dated_and_the_environment_may_price_a_model(self):
        self.assertRegex(kit.PRICE_TABLE_DATE, r"^\d{4}-\d{2}-\d{2}$")
        self.assertIsNone(kit.price_of("some-new-model", {}))
        self.assertEqual(kit.price_of("m", {"AGENT_PRICE_INPUT_PER_MTOK": "2", "AGENT_PRICE_OUTPUT_PER_MTOK": "8"}), kit.Price(2, 8))
        with self.assertRaisesRegex(ValueError, "must both be numbers"):
            kit.price_of("m", {"AGENT_PRICE_INPUT_PER_MTOK": "two"})


class HeartbeatUsageTest(unittest.TestCase):
    def test_each_beat_carries_the_usage_so_far(self):
        server = LoopbackServer()
        self.addCleanup(server.close)
        meter = kit.UsageMeter({})
        env = envelope(server.url, "/tmp", heartbeat_interval_seconds=60)
        beats = kit.Heartbeats(env, kit.Logger({}, write=lambda line: None), usage=meter.body)
        beats.beat()
        meter.add(kit.ModelResponse("x", "offline", kit.OFFLINE_MODEL, kit.ModelUsage(10, 4)))
        beats.beat()
        beats.stop()
        bodies = [r.json() for r in server.requests]
        self.assertEqual(bodies, [{}, {"usage": {"input_tokens": 10, "output_tokens": 4, "estimated_cost_usd": 0, "model": "offline-deterministic-v1"}}])


if __name__ == "__main__":
    unittest.main()
