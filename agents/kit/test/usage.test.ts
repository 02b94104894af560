import { BedrockProvider, createLogger, OfflineProvider, offlineText, OpenAICompatibleProvider, PRICE_TABLE_DATE, priceOf, startHeartbeats, UsageMeter } from '../src';
import { envelope, memoryLogger } from './fixtures';
import { callbackServer, closeAllServers, openAIAnswer, TestServer } from './servers';

afterAll(closeAllServers);

describe('usage from each provider', () => {
  test('offline: counted deterministically, 4 characters a token, and it says it is offline', async () => {
    const answer = await new OfflineProvider().complete({ system: 'You write. ## Summary', prompt: 'Topic: tides\nDepth: short' });
    const text = offlineText('You write. ## Summary', 'Topic: tides\nDepth: short');
    expect(answer.model).toBe('offline-deterministic-v1');
    expect(answer.usage).toEqual({ inputTokens: Math.ceil(21 / 4) + Math.ceil(25 / 4), outputTokens: Math.ceil(text.length / 4) });
    expect(await new OfflineProvider().complete({ system: 'You write. ## Summary', prompt: 'Topic: tides\nDepth: short' })).toEqual(answer);
  });

  test('openai: the response usage (prompt_tokens, completion_tokens)', async () => {
    const server = await TestServer.start((req) => {
      const answer = openAIAnswer(req);
      return { ...answer, body: { ...(answer.body as object), model: 'gpt-4o-mini-2024-07-18', usage: { prompt_tokens: 1200, completion_tokens: 345, total_tokens: 1545 } } };
    });
    const answer = await new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, model: 'gpt-4o-mini' }).complete({ system: 's', prompt: 'p' });
    expect(answer.usage).toEqual({ inputTokens: 1200, outputTokens: 345 });
    const meter = new UsageMeter({});
    meter.add(answer);
    // gpt-4o-mini: $0.15 in, $0.60 out per million.
    expect(meter.body()).toEqual({ input_tokens: 1200, output_tokens: 345, estimated_cost_usd: 0.000387, model: 'gpt-4o-mini-2024-07-18' });
  });

  test('openai: an endpoint that sends no usage gives none', async () => {
    const server = await TestServer.start((req) => openAIAnswer(req));
    const answer = await new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, model: 'local-llama' }).complete({ system: 's', prompt: 'p' });
    expect(answer.usage).toBeUndefined();
    const meter = new UsageMeter({});
    meter.add(answer);
    expect(meter.body()).toEqual({ input_tokens: 0, output_tokens: 0, model: 'local-llama' });
  });

  test('bedrock: the Converse usage (inputTokens, outputTokens), priced by the table', async () => {
    const client = {
      send: async () => ({
        output: { message: { role: 'assistant', content: [{ text: '## Summary\n\nok' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 2000, outputTokens: 500, totalTokens: 2500 },
      }),
    };
    const provider = new BedrockProvider({ modelId: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', client: client as never });
    const answer = await provider.complete({ system: 's', prompt: 'p' });
    expect(answer.usage).toEqual({ inputTokens: 2000, outputTokens: 500 });
    const meter = new UsageMeter({});
    meter.add(answer);
    meter.add(answer);
    // Sonnet 4.5: $3 in, $15 out per million; two calls.
    expect(meter.body()).toEqual({ input_tokens: 4000, output_tokens: 1000, estimated_cost_usd: 0.027, model: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0' });
  });

  test('the price table is dated; a model it lacks has no estimate unless the environment prices it', () => {
    expect(PRICE_TABLE_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(priceOf('some-new-model', {})).toBeUndefined();
    expect(priceOf('some-new-model', { AGENT_PRICE_INPUT_PER_MTOK: '2', AGENT_PRICE_OUTPUT_PER_MTOK: '8' })).toEqual({ inputPerMillion: 2, outputPerMillion: 8 });
    expect(() => priceOf('m', { AGENT_PRICE_INPUT_PER_MTOK: 'two' })).toThrow(/AGENT_PRICE_INPUT_PER_MTOK and AGENT_PRICE_OUTPUT_PER_MTOK must both be numbers/);
  });
});

describe('usage in heartbeats', () => {
  test('each heartbeat carries the usage so far; none before the first answer', async () => {
    const server = await callbackServer([200]);
    const meter = new UsageMeter({});
    const log = memoryLogger();
    const task = envelope(server.url, { heartbeat_interval_seconds: 0.05 });
    const beats = startHeartbeats(task, createLogger({}, { write: log.write }), {}, () => meter.body());
    const deadline = Date.now() + 10_000;
    while (server.requests.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    meter.add({ model: 'offline-deterministic-v1', usage: { inputTokens: 10, outputTokens: 4 } });
    const seen = server.requests.length;
    while (server.requests.length < seen + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    beats.stop();
    expect(JSON.parse(server.requests[0].body)).toEqual({});
    expect(JSON.parse(server.requests[server.requests.length - 1].body)).toEqual({
      usage: { input_tokens: 10, output_tokens: 4, estimated_cost_usd: 0, model: 'offline-deterministic-v1' },
    });
  });
});
