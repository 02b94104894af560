import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import {
  BedrockProvider, DEFAULT_BEDROCK_MODEL_ID, ModelError, OFFLINE_MODEL, OFFLINE_NOTICE, OfflineProvider, offlineText,
  OpenAICompatibleProvider, providerFromEnv,
} from '../src';
import { closeAllServers, openAIAnswer, openAIServer, TestServer } from './servers';

// A failed test may leave its servers open: close them, so that jest can exit.
afterAll(closeAllServers);

const SYSTEM = 'You write notes with these sections:\n\n## Summary\n## Findings\n## Open questions\n';

describe('OfflineProvider', () => {
  const provider = new OfflineProvider();

  test('says plainly that no model was called, and names itself', async () => {
    const answer = await provider.complete({ system: SYSTEM, prompt: 'Topic: tides' });
    expect(answer.text).toContain(OFFLINE_NOTICE);
    expect(answer).toMatchObject({ provider: 'offline', model: OFFLINE_MODEL });
  });

  test('is deterministic: the same request gives the same text, another request another text', async () => {
    const a = await provider.complete({ system: SYSTEM, prompt: 'Topic: tides\n- the moon pulls the sea' });
    const b = await provider.complete({ system: SYSTEM, prompt: 'Topic: tides\n- the moon pulls the sea' });
    const c = await provider.complete({ system: SYSTEM, prompt: 'Topic: winds' });
    expect(a.text).toBe(b.text);
    expect(c.text).not.toBe(a.text);
    expect(a.text.match(/fingerprint: `([0-9a-f]{16})`/)?.[1]).not.toBe(c.text.match(/fingerprint: `([0-9a-f]{16})`/)?.[1]);
  });

  test('answers with the sections the system prompt asks for, filled from the prompt', () => {
    const text = offlineText(SYSTEM, 'Topic: tides\nSources:\n- the moon pulls the sea\n- **spring** tides are larger\n- the moon pulls the sea');
    expect([...text.matchAll(/^## (.+)$/gm)].map((m) => m[1])).toEqual(['Summary', 'Findings', 'Open questions']);
    expect(text).toContain('An outline of the 3 lines of input, starting with: "Topic: tides".');
    expect(text).toContain('- Topic: tides');
    expect(text).toContain('- spring tides are larger');
    expect(text).not.toContain('Sources:');
    expect(text.match(/the moon pulls the sea/g)).toHaveLength(1);
  });

  test('does not repeat the notice of an offline input it outlines', () => {
    const first = offlineText(SYSTEM, 'Topic: tides');
    const second = offlineText(SYSTEM, first);
    expect(second.split(OFFLINE_NOTICE)).toHaveLength(2);
  });

  test('uses Summary and Details when the system prompt names no sections', () => {
    expect([...offlineText('Be brief.', 'x y z').matchAll(/^## (.+)$/gm)].map((m) => m[1])).toEqual(['Summary', 'Details']);
  });
});

describe('OpenAICompatibleProvider against a local server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await openAIServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.answerWith(openAIAnswer);
  });

  test('posts the system prompt and the prompt to /chat/completions and returns the answer', async () => {
    const provider = new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1/`, model: 'test-model', apiKey: 'sk-test' });
    const answer = await provider.complete({ system: 'sys', prompt: 'Topic: tides\nmore', maxTokens: 123 });
    expect(answer).toEqual({ text: '## Summary\n\nMODEL-ANSWER for: Topic: tides\n', provider: 'openai', model: 'test-model' });
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(JSON.parse(req.body)).toEqual({
      model: 'test-model',
      messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'Topic: tides\nmore' }],
      max_tokens: 123,
    });
  });

  test('sends no Authorization header without an API key', async () => {
    await new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, model: 'm' }).complete({ system: 's', prompt: 'p' });
    expect(server.requests[0].headers.authorization).toBeUndefined();
  });

  test('accepts content sent as text parts', async () => {
    server.answerWith(() => ({ status: 200, body: { choices: [{ message: { content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] } }] } }));
    const answer = await new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, model: 'm' }).complete({ system: 's', prompt: 'p' });
    expect(answer.text).toBe('ab');
  });

  test.each([
    ['a 500 with an OpenAI error body', { status: 500, body: { error: { message: 'the GPU caught fire' } } }, /answered 500: the GPU caught fire/],
    ['a 401', { status: 401, body: { error: { message: 'Incorrect API key' } } }, /answered 401: Incorrect API key/],
    ['a body that is not JSON', { status: 200, body: '<html>' }, /with a body that is not JSON: <html>/],
    ['no choices', { status: 200, body: { choices: [] } }, /without choices\[0\]\.message\.content/],
    ['content that is not text', { status: 200, body: { choices: [{ message: { content: 42 } }] } }, /without choices\[0\]\.message\.content/],
    ['an empty completion', { status: 200, body: { choices: [{ message: { content: '  ' } }] } }, /returned an empty completion/],
  ])('fails with a ModelError on %s', async (_name, answer, message) => {
    server.answerWith(() => answer);
    const provider = new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, model: 'm' });
    const error = await provider.complete({ system: 's', prompt: 'p' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(message);
  });

  test('fails with a ModelError when the endpoint cannot be reached', async () => {
    const closed = await openAIServer();
    const url = closed.url;
    await closed.close();
    const error = await new OpenAICompatibleProvider({ baseUrl: `${url}/v1`, model: 'm' }).complete({ system: 's', prompt: 'p' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toContain('could not be reached');
  });

  test('stops when the request is aborted or times out', async () => {
    server.answerWith((req) => ({ ...openAIAnswer(req), delayMs: 2000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    // Each call ends before the 2 s the server takes to answer.
    let started = Date.now();
    const aborted = await new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, model: 'm' })
      .complete({ system: 's', prompt: 'p', signal: controller.signal }).catch((e: Error) => e);
    expect(aborted).toBeInstanceOf(ModelError);
    expect(Date.now() - started).toBeLessThan(1900);
    started = Date.now();
    const timedOut = await new OpenAICompatibleProvider({ baseUrl: `${server.url}/v1`, model: 'm', timeoutMs: 50 })
      .complete({ system: 's', prompt: 'p' }).catch((e: Error) => e);
    expect((timedOut as Error).message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(1900);
  });
});

describe('BedrockProvider', () => {
  function fakeClient(answer: () => unknown) {
    const sent: Array<{ input: unknown; options: unknown }> = [];
    return {
      sent,
      client: { send: async (command: ConverseCommand, options: unknown) => { sent.push({ input: command.input, options }); return answer(); } },
    };
  }

  test('sends one Converse request and joins the text blocks of the answer', async () => {
    const { client, sent } = fakeClient(() => ({ output: { message: { role: 'assistant', content: [{ text: 'Hello ' }, { text: 'world' }] } }, stopReason: 'end_turn' }));
    const provider = new BedrockProvider({ modelId: 'my-model', client: client as never });
    const signal = new AbortController().signal;
    const answer = await provider.complete({ system: 'sys', prompt: 'prompt', maxTokens: 99, signal });
    expect(answer).toEqual({ text: 'Hello world', provider: 'bedrock', model: 'my-model' });
    expect(sent).toEqual([{
      input: { modelId: 'my-model', system: [{ text: 'sys' }], messages: [{ role: 'user', content: [{ text: 'prompt' }] }], inferenceConfig: { maxTokens: 99 } },
      options: { abortSignal: signal },
    }]);
  });

  test('fails with a ModelError when the call fails or returns no text', async () => {
    const failing = fakeClient(() => {
      throw Object.assign(new Error('Invocation of model ID x with on-demand throughput is not supported'), { name: 'ValidationException' });
    });
    await expect(new BedrockProvider({ modelId: 'x', client: failing.client as never }).complete({ system: 's', prompt: 'p' }))
      .rejects.toThrow(/Bedrock Converse with model 'x' failed: ValidationException: Invocation/);
    const empty = fakeClient(() => ({ output: { message: { content: [] } }, stopReason: 'max_tokens' }));
    await expect(new BedrockProvider({ modelId: 'x', client: empty.client as never }).complete({ system: 's', prompt: 'p' }))
      .rejects.toThrow(new ModelError("Bedrock model 'x' returned no text (stop reason: max_tokens)"));
  });
});

describe('providerFromEnv', () => {
  test('is offline unless told otherwise', () => {
    expect(providerFromEnv({}).name).toBe('offline');
    expect(providerFromEnv({ AGENT_MODEL_PROVIDER: ' Offline ' }).name).toBe('offline');
  });

  test('builds Bedrock with BEDROCK_MODEL_ID or the default model', () => {
    expect((providerFromEnv({ AGENT_MODEL_PROVIDER: 'bedrock', AWS_REGION: 'us-east-1' }) as BedrockProvider).modelId).toBe(DEFAULT_BEDROCK_MODEL_ID);
    expect((providerFromEnv({ AGENT_MODEL_PROVIDER: 'bedrock', AWS_REGION: 'us-east-1', BEDROCK_MODEL_ID: 'm' }) as BedrockProvider).modelId).toBe('m');
  });

  test('needs OPENAI_BASE_URL and OPENAI_MODEL for openai, and says so', () => {
    expect(() => providerFromEnv({ AGENT_MODEL_PROVIDER: 'openai', OPENAI_MODEL: 'm' })).toThrow(/OPENAI_BASE_URL is required/);
    expect(() => providerFromEnv({ AGENT_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' })).toThrow(/OPENAI_MODEL is required/);
    expect(() => providerFromEnv({ AGENT_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: 'nope', OPENAI_MODEL: 'm' })).toThrow(/OPENAI_BASE_URL is not a URL/);
    expect(() => providerFromEnv({ AGENT_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://h/v1', OPENAI_MODEL: 'm', OPENAI_TIMEOUT_MS: 'soon' })).toThrow(/OPENAI_TIMEOUT_MS must be a positive number/);
    expect(providerFromEnv({ AGENT_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://h/v1', OPENAI_MODEL: 'm' }).name).toBe('openai');
  });

  test('refuses a provider it does not know, listing the ones it does', () => {
    expect(() => providerFromEnv({ AGENT_MODEL_PROVIDER: 'gpt' })).toThrow(new ModelError("AGENT_MODEL_PROVIDER 'gpt' is not known: use one of offline, bedrock, openai"));
  });
});
