import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  AgentSpec, createLogger, CredentialResolver, HEALTH_CHECK_EVENT, InputError, lambdaHandler, ModelError, ModelProvider, ModelRequest, OFFLINE_NOTICE,
  requiredText, runAgent, runAsProcess, runLambdaRuntime,
} from '../src';
import { envelope, memoryLogger, TOKEN } from './fixtures';
import { callbackServer, closeAllServers, openAIServer, TestServer } from './servers';

// A failed test may leave its servers open: close them, so that jest can exit.
afterAll(closeAllServers);

const spec: AgentSpec = {
  name: 'researcher',
  artifactName: 'research',
  system: 'Sections:\n## Summary\n## Findings\n',
  buildPrompt: (inputs) => `Topic: ${requiredText(inputs, 'topic', 'a topic')}\n${inputs.artifacts.notes ?? ''}`,
};

/** A provider that waits before answering (or fails), and keeps the requests it got. */
function slowProvider(ms: number, fail?: Error): ModelProvider & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    name: 'slow',
    requests,
    complete: (request) => {
      requests.push(request);
      return new Promise((resolve, reject) => {
        const answer = { text: '## Summary\n\nslow answer\n', provider: 'slow', model: 'slow-1' };
        const timer = setTimeout(() => (fail ? reject(fail) : resolve(answer)), ms);
        request.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
    },
  };
}

describe('runAgent', () => {
  let dir: string;
  let server: TestServer;
  const log = memoryLogger();
  const delivery = { credentials: new CredentialResolver({ env: {} }), baseDelayMs: 10 };
  const options = () => ({ logger: createLogger({}, { write: log.write }), env: {}, delivery });
  const task = (overrides: Parameters<typeof envelope>[1] = {}) => {
    const env = envelope(server.url, overrides);
    return { ...env, artifacts: { ...env.artifacts, local_dir: dir } };
  };
  const reports = () => server.requests.filter((r) => !r.path.endsWith('/heartbeat')).map((r) => JSON.parse(r.body));

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'agent-'));
    server = await callbackServer([200]);
    log.lines.length = 0;
  });
  afterEach(async () => {
    await server.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('reads artifact inputs, writes its artifact under the prefix and reports it once', async () => {
    const notesKey = 'agents/other/wf-1/notes/attempt-1/notes.md';
    await fsp.mkdir(path.join(dir, 'agents/other/wf-1/notes/attempt-1'), { recursive: true });
    await fsp.writeFile(path.join(dir, notesKey), 'NOTES-CONTENT');
    const t = task({ input: { topic: 'Tides', notes: notesKey } });
    const result = await runAgent(spec, t, options());
    const key = `${t.artifacts.prefix}research.md`;
    expect(result).toMatchObject({ status: 'succeeded', delivery: { outcome: 'accepted', status: 200 }, artifacts: { research: key } });
    const text = await fsp.readFile(path.join(dir, key), 'utf-8');
    expect(text).toContain(OFFLINE_NOTICE);
    expect(text).toContain('NOTES-CONTENT');
    expect(reports()).toEqual([{
      status: 'succeeded',
      artifacts: { research: key },
      output: { provider: 'offline', model: 'offline-deterministic-v1', offline: true, characters: text.length },
      // Counted by the offline provider (4 characters a token), priced at 0.
      usage: { input_tokens: expect.any(Number), output_tokens: Math.ceil(text.length / 4), estimated_cost_usd: 0, model: 'offline-deterministic-v1' },
    }]);
    expect(log.lines.every((l) => l.workflow_id === t.workflow_id && l.step_name === 'research' && l.agent === 'researcher')).toBe(true);
    expect(log.lines.map((l) => l.message)).toEqual(['task received', 'input artifact read', 'model call started', 'model call finished', 'artifact written', 'report accepted']);
  });

  test('heartbeats during a long model call, and stops when it ends', async () => {
    const provider = slowProvider(300);
    const result = await runAgent(spec, task({ heartbeat_interval_seconds: 0.05 }), { ...options(), provider });
    expect(result.status).toBe('succeeded');
    const beats = server.requests.filter((r) => r.path === '/callbacks/cb-1/heartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.every((b) => b.headers['x-callback-token'] === TOKEN)).toBe(true);
    expect(server.requests.at(-1)!.path).toBe('/callbacks/cb-1');
    await new Promise((r) => setTimeout(r, 150));
    expect(server.requests.at(-1)!.path).toBe('/callbacks/cb-1');
  });

  test('stops the model call when a heartbeat says the task is gone', async () => {
    await server.close();
    server = await TestServer.start((req) => (req.path.endsWith('/heartbeat')
      ? { status: 409, body: { message: 'callback was already completed' } }
      : { status: 409, body: {} }));
    const provider = slowProvider(5000);
    const started = Date.now();
    const result = await runAgent(spec, task({ heartbeat_interval_seconds: 0.05 }), { ...options(), provider });
    // Well before the 5 s the model call would take, however loaded the machine.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.error).toEqual({ code: 'ModelError', message: 'model call stopped: the orchestrator no longer waits for this task: callback was already completed' });
    expect(result.delivery.outcome).toBe('refused');
  });

  test('reports a model error as failed with code ModelError and writes nothing', async () => {
    const t = task();
    const result = await runAgent(spec, t, { ...options(), provider: slowProvider(1, new ModelError('the endpoint answered 500: boom')) });
    expect(result).toMatchObject({ status: 'failed', delivery: { outcome: 'accepted' } });
    expect(reports()).toEqual([{ status: 'failed', error: { code: 'ModelError', message: 'the endpoint answered 500: boom' } }]);
    await expect(fsp.stat(path.join(dir, t.artifacts.prefix))).rejects.toThrow(/ENOENT/);
  });

  test('reports a misconfigured provider as a ModelError', async () => {
    await runAgent(spec, task(), { ...options(), env: { AGENT_MODEL_PROVIDER: 'openai' } });
    expect(reports()[0].error).toEqual({ code: 'ModelError', message: 'OPENAI_BASE_URL is required with AGENT_MODEL_PROVIDER=openai (e.g. https://api.openai.com/v1)' });
  });

  test('asks the model for AGENT_MAX_TOKENS tokens when set, else for what the agent asks', async () => {
    const provider = slowProvider(1);
    await runAgent({ ...spec, maxTokens: (inputs) => (inputs.values.topic === 'long' ? 8000 : 1000) }, task({ input: { topic: 'long' } }), { ...options(), provider });
    await runAgent({ ...spec, maxTokens: 8000 }, task(), { ...options(), provider, env: { AGENT_MAX_TOKENS: '512' } });
    await runAgent(spec, task(), { ...options(), provider, env: { AGENT_MAX_TOKENS: 'lots' } });
    expect(provider.requests.map((r) => r.maxTokens)).toEqual([8000, 512]);
    expect(reports().at(-1).error).toEqual({ code: 'ModelError', message: "AGENT_MAX_TOKENS must be a whole number of tokens from 1, got 'lots'" });
  });

  test('reports missing inputs and unreadable input artifacts as InputError', async () => {
    await runAgent(spec, task({ input: {} }), options());
    await runAgent(spec, task({ input: { topic: 't', notes: 'agents/x/missing.md' } }), options());
    expect(reports().map((r) => r.error)).toEqual([
      { code: 'InputError', message: "input 'topic': expected a topic, it is missing" },
      { code: 'InputError', message: expect.stringMatching(/^input 'notes': artifact 'agents\/x\/missing.md' not found/) },
    ]);
  });

  test('reads the model key from its secret before the model call, and never logs it', async () => {
    const llm = await openAIServer();
    try {
      const env: NodeJS.ProcessEnv = {
        AGENT_MODEL_PROVIDER: 'openai',
        OPENAI_BASE_URL: `${llm.url}/v1`,
        OPENAI_MODEL: 'test-model',
        AGENT_SECRETS: 'OPENAI_API_KEY',
        OPENAI_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:llm-AbCdEf',
      };
      const asked: string[] = [];
      const result = await runAgent(spec, task(), { ...options(), env, readSecret: async (arn) => { asked.push(arn); return 'sk-from-secret'; } });
      expect(result.status).toBe('succeeded');
      expect(asked).toEqual([env.OPENAI_API_KEY_SECRET_ARN]);
      expect(llm.requests[0].headers.authorization).toBe('Bearer sk-from-secret');
      expect(log.lines.find((l) => l.message === 'secrets read')).toMatchObject({ names: ['OPENAI_API_KEY'] });
      expect(JSON.stringify(log.lines)).not.toContain('sk-from-secret');
    } finally {
      await llm.close();
    }
  });

  test('reports a secret it cannot read as failed, before any work', async () => {
    const env = { AGENT_SECRETS: 'OPENAI_API_KEY', OPENAI_API_KEY_SECRET_ARN: 'arn:gone' };
    const result = await runAgent(spec, task(), { ...options(), env, readSecret: async () => { throw new Error('AccessDenied'); } });
    expect(result.status).toBe('failed');
    expect(reports()).toEqual([{ status: 'failed', error: { code: 'AgentError', message: 'could not read OPENAI_API_KEY from the secret arn:gone: Error: AccessDenied' } }]);
  });

  test('reports a write failure as ArtifactError, any other failure as AgentError', async () => {
    await fsp.writeFile(path.join(dir, 'agents'), 'a file where a folder should be');
    await runAgent(spec, task(), options());
    await runAgent({ ...spec, buildPrompt: () => { throw new TypeError('bug'); } }, task(), options());
    expect(reports().map((r) => r.error.code)).toEqual(['ArtifactError', 'AgentError']);
  });

  test('keeps error messages within what the callback route takes', async () => {
    await runAgent({ ...spec, buildPrompt: () => { throw new InputError(`x ${'y'.repeat(5000)}`); } }, task(), options());
    const { message } = reports()[0].error;
    expect(message).toBe(`x ${'y'.repeat(3995)}...`);
  });

  test('reports an invalid envelope as failed when it has a usable callback, naming the field', async () => {
    const broken = { ...task(), attempt: 'first' };
    const result = await runAgent(spec, JSON.stringify(broken), options());
    expect(result.delivery.outcome).toBe('accepted');
    expect(reports()).toEqual([{ status: 'failed', error: { code: 'InvalidEnvelope', message: "invalid task envelope: field 'attempt': expected a whole number from 1, got the string \"first\"" } }]);
  });

  test('cannot report an envelope without a callback', async () => {
    const result = await runAgent(spec, '{}', options());
    expect(result.delivery).toEqual({ outcome: 'undelivered', message: 'the envelope has no usable callback to report to', attempts: 0 });
    expect(server.requests).toHaveLength(0);
  });
});

describe('lambdaHandler and runAsProcess', () => {
  const quiet = {
    logger: createLogger({}, { write: () => undefined }),
    delivery: { credentials: new CredentialResolver({ env: {} }), baseDelayMs: 10 },
  };

  test('a handler returns on an accepted or refused report and throws when it cannot deliver it', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'agent-'));
    const handler = lambdaHandler(spec, { ...quiet, env: {} });
    for (const [status, expected] of [[200, 'accepted'], [409, 'refused']] as const) {
      const server = await callbackServer([status]);
      const env = envelope(server.url);
      await expect(handler({ ...env, artifacts: { ...env.artifacts, local_dir: dir } })).resolves.toEqual({ status: 'succeeded', report: expected, report_status: status });
      await server.close();
    }
    const down = await callbackServer([503]);
    const env = envelope(down.url, { deadline: new Date(Date.now() + 1200).toISOString() });
    await expect(handler({ ...env, artifacts: { ...env.artifacts, local_dir: dir } })).rejects.toThrow(/^the researcher agent could not deliver its report: scripted 503/);
    await down.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('a health check runs nothing and names the model provider, or what is misconfigured', async () => {
    const handler = lambdaHandler(spec, { ...quiet, env: { AGENT_MODEL_PROVIDER: 'offline' } });
    await expect(handler(HEALTH_CHECK_EVENT)).resolves.toEqual({ status: 'ok', agent: 'researcher', model_provider: 'offline' });
    const broken = lambdaHandler(spec, { ...quiet, env: { AGENT_MODEL_PROVIDER: 'openai' } });
    await expect(broken({ health_check: true })).resolves.toEqual({
      status: 'misconfigured', agent: 'researcher', message: expect.stringMatching(/OPENAI_BASE_URL is required/),
    });
  });

  test('a function URL request: GET is a health check, POST carries an envelope, other methods are refused', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'agent-'));
    const handler = lambdaHandler(spec, { ...quiet, env: {} });
    const request = (method: string, body?: string, isBase64Encoded = false) =>
      ({ version: '2.0', rawPath: '/', requestContext: { http: { method } }, ...(body === undefined ? {} : { body }), isBase64Encoded });
    const answer = async (event: unknown) => {
      const res = await handler(event) as { statusCode: number; body: string };
      return { statusCode: res.statusCode, body: JSON.parse(res.body) };
    };
    expect(await answer(request('GET'))).toEqual({ statusCode: 200, body: { status: 'ok', agent: 'researcher', model_provider: 'offline' } });
    expect(await answer(request('DELETE'))).toEqual({ statusCode: 405, body: { message: expect.stringMatching(/^DELETE is not served/) } });
    expect(await answer(request('POST', '{not json'))).toEqual({ statusCode: 400, body: { message: 'the body must be a task envelope (JSON)' } });

    const server = await callbackServer([200]);
    const env = envelope(server.url);
    const body = Buffer.from(JSON.stringify({ ...env, artifacts: { ...env.artifacts, local_dir: dir } })).toString('base64');
    expect(await answer(request('POST', body, true))).toEqual({ statusCode: 200, body: { status: 'succeeded', report: 'accepted', report_status: 200 } });
    expect(server.requests).toHaveLength(1);
    await server.close();

    const down = await callbackServer([503]);
    const late = envelope(down.url, { deadline: new Date(Date.now() + 1200).toISOString() });
    expect(await answer(request('POST', JSON.stringify({ ...late, artifacts: { ...late.artifacts, local_dir: dir } }))))
      .toEqual({ statusCode: 502, body: { message: expect.stringMatching(/^the researcher agent could not deliver its report/) } });
    await down.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('a process without a task exits 2 and says what to set', async () => {
    const log = memoryLogger();
    expect(await runAsProcess(spec, { env: {}, logger: createLogger({}, { write: log.write }) })).toBe(2);
    expect(log.lines[0].message).toMatch(/^no task: set TASK_ENVELOPE/);
  });

  test('inside a Lambda container it serves invocations from the Runtime API', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'agent-'));
    const callback = await callbackServer([200]);
    const env = envelope(callback.url);
    const event = JSON.stringify({ ...env, artifacts: { ...env.artifacts, local_dir: dir } });
    const runtime = await TestServer.start((req) => {
      if (req.path.endsWith('/invocation/next')) return { status: 200, body: event };
      return { status: 202, body: {} };
    });
    // Lambda-Runtime-Aws-Request-Id is a header: the test server cannot set it, so wrap fetch.
    const fetchImpl = (async (url: string, init?: RequestInit) => {
      const res = await fetch(url, init);
      if (!url.endsWith('/invocation/next')) return res;
      return new Response(await res.text(), { status: 200, headers: { 'lambda-runtime-aws-request-id': 'req-1', 'lambda-runtime-trace-id': 'Root=1-abc' } });
    }) as typeof fetch;
    await runLambdaRuntime(lambdaHandler(spec, { ...quiet, env: {} }), { api: runtime.url.replace('http://', ''), fetchImpl, maxInvocations: 1 });
    expect(runtime.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /2018-06-01/runtime/invocation/next', 'POST /2018-06-01/runtime/invocation/req-1/response']);
    expect(JSON.parse(runtime.requests[1].body)).toEqual({ status: 'succeeded', report: 'accepted', report_status: 200 });
    expect(callback.requests).toHaveLength(1);

    // A handler that throws is posted as an invocation error.
    runtime.requests.length = 0;
    await runLambdaRuntime(async () => { throw new RangeError('nope'); }, { api: runtime.url.replace('http://', ''), fetchImpl, maxInvocations: 1 });
    expect(runtime.requests[1].path).toBe('/2018-06-01/runtime/invocation/req-1/error');
    expect(runtime.requests[1].headers['lambda-runtime-function-error-type']).toBe('Unhandled');
    expect(JSON.parse(runtime.requests[1].body)).toEqual({ errorType: 'RangeError', errorMessage: 'nope' });
    await Promise.all([runtime.close(), callback.close()]);
    await fsp.rm(dir, { recursive: true, force: true });
  });
});
