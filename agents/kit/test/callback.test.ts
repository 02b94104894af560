import { createHash, createHmac } from 'crypto';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createLogger, CredentialResolver, CredentialsError, isRetryableStatus, postCallback, signRequest, startHeartbeats } from '../src';
import { envelope, memoryLogger, TOKEN } from './fixtures';
import { callbackServer, closeAllServers, TestServer } from './servers';

// A failed test may leave its servers open: close them, so that jest can exit.
afterAll(closeAllServers);

const noCredentials = new CredentialResolver({ env: {} });

function request(server: TestServer | string, overrides: Partial<Parameters<typeof postCallback>[0]> = {}) {
  const log = memoryLogger();
  return {
    log,
    request: {
      url: `${typeof server === 'string' ? server : server.url}/callbacks/cb-1`,
      token: TOKEN,
      body: { status: 'succeeded', artifacts: {} },
      deadline: new Date(Date.now() + 60_000),
      logger: createLogger({ workflow_id: 'wf-1' }, { write: log.write }),
      kind: 'report',
      ...overrides,
    },
  };
}

describe('postCallback', () => {
  const servers: TestServer[] = [];
  const start = async (statuses: number[]) => {
    const s = await callbackServer(statuses);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  test('posts the body once with the token, unsigned over http, and reports it accepted', async () => {
    const server = await start([200]);
    const { request: req, log } = request(server);
    const delivery = await postCallback(req, { credentials: new CredentialResolver({ env: { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' } }) });
    expect(delivery).toEqual({ outcome: 'accepted', status: 200, attempts: 1 });
    expect(server.requests).toHaveLength(1);
    const [sent] = server.requests;
    expect(sent.path).toBe('/callbacks/cb-1');
    expect(sent.headers['x-callback-token']).toBe(TOKEN);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
    expect(JSON.parse(sent.body)).toEqual({ status: 'succeeded', artifacts: {} });
    expect(log.lines.map((l) => l.message)).toEqual(['report accepted']);
    expect(JSON.stringify(log.lines)).not.toContain(TOKEN);
  });

  test.each([400, 401, 403, 404, 409])('a %i is final: one request, no retry', async (status) => {
    const server = await start([status, 200]);
    const { request: req, log } = request(server);
    const sleep = jest.fn(async () => undefined);
    const delivery = await postCallback(req, { sleep, credentials: noCredentials });
    expect(delivery).toEqual({ outcome: 'refused', status, message: `scripted ${status}`, attempts: 1 });
    expect(server.requests).toHaveLength(1);
    expect(sleep).not.toHaveBeenCalled();
    expect(log.lines).toEqual([expect.objectContaining({ level: 'error', message: `report refused; not retrying (a ${status} is final)`, answer: `scripted ${status}` })]);
  });

  test('a 503 is retried with the same body, then accepted', async () => {
    const server = await start([503, 502, 200]);
    const { request: req } = request(server);
    const delivery = await postCallback(req, { baseDelayMs: 10, credentials: noCredentials });
    expect(delivery).toEqual({ outcome: 'accepted', status: 200, attempts: 3 });
    expect(server.requests.map((r) => r.body)).toEqual(Array(3).fill(server.requests[0].body));
    expect(isRetryableStatus(429)).toBe(true);
    expect(isRetryableStatus(409)).toBe(false);
  });

  test('backs off exponentially with jitter between half and all of each step', async () => {
    const server = await start([500]);
    const delays: number[][] = [];
    for (const random of [() => 0, () => 0.999999]) {
      const waits: number[] = [];
      const { request: req } = request(server);
      const delivery = await postCallback(req, { random, sleep: async (ms) => void waits.push(ms), credentials: noCredentials });
      expect(delivery).toEqual({ outcome: 'undelivered', status: 500, message: 'scripted 500', attempts: 5 });
      delays.push(waits);
    }
    expect(delays).toEqual([[250, 500, 1000, 2000], [500, 1000, 2000, 4000]]);
    expect(server.requests).toHaveLength(10);
  });

  test('retries network errors and gives up when the next try would come too close to the deadline', async () => {
    const closed = await callbackServer([200]);
    const base = closed.url;
    await closed.close();
    const { request: req, log } = request(base, { deadline: new Date(Date.now() + 1800) });
    const started = Date.now();
    const delivery = await postCallback(req, { credentials: noCredentials });
    expect(delivery.outcome).toBe('undelivered');
    expect(delivery.attempts).toBeGreaterThanOrEqual(2);
    expect(delivery.attempts).toBeLessThan(5);
    expect(Date.now() - started).toBeLessThan(1800);
    expect(log.lines.at(-1)).toMatchObject({ level: 'warn', message: 'report failed; no time left before the deadline for another try' });
  });

  test('signs https requests with SigV4 when credentials are found, and only then', async () => {
    const seen: Array<Record<string, string>> = [];
    const fetchImpl = (async (_url: URL, init: RequestInit) => {
      seen.push(init.headers as Record<string, string>);
      return new Response('{"accepted":true}', { status: 200 });
    }) as unknown as typeof fetch;
    const server = await start([200]);
    const { request: req, log } = request(server, { url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/callbacks/cb-1' });
    const env = { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'session' };

    await postCallback(req, { fetchImpl, env, credentials: new CredentialResolver({ env }) });
    expect(seen[0].authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-callback-token, Signature=[0-9a-f]{64}$/);
    expect(seen[0]).toMatchObject({ 'x-amz-security-token': 'session', 'x-callback-token': TOKEN, 'host': 'abc123.execute-api.eu-west-1.amazonaws.com' });

    await postCallback(req, { fetchImpl, env: {}, credentials: noCredentials });
    expect(seen[1].authorization).toBeUndefined();
    expect(seen[1]['x-callback-token']).toBe(TOKEN);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.message))
      .toEqual(['no AWS credentials found: sending the report to abc123.execute-api.eu-west-1.amazonaws.com unsigned (an IAM-authorized route will refuse it)']);

    await postCallback({ ...req, url: `${server.url}/callbacks/cb-1` }, { fetchImpl, env, credentials: new CredentialResolver({ env }) });
    expect(seen[2].authorization).toBeUndefined();
  });
});

describe('signRequest', () => {
  const input = {
    method: 'POST',
    url: new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/callbacks/cb-1?x=1&a=b'),
    headers: { 'content-type': 'application/json', 'x-callback-token': 'tok' },
    body: '{"status":"succeeded","artifacts":{}}',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session' },
    region: 'eu-west-1',
    signingDate: new Date('2025-01-02T03:04:05Z'),
  };

  test('signs as before (the signature of the hand-written adapter, pinned) and as SigV4 says, derived here', async () => {
    const headers = await signRequest(input);
    const signature = 'fb643a699d11cd77b7a679d4050bc7e5c6734f3f187badb70fe45831ddfe5c82';
    expect(headers).toEqual({
      ...input.headers,
      'host': 'abc123.execute-api.eu-west-1.amazonaws.com',
      'x-amz-date': '20250102T030405Z',
      'x-amz-security-token': 'session',
      'x-amz-content-sha256': sha256(input.body),
      'authorization': 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/eu-west-1/execute-api/aws4_request, ' +
        `SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-callback-token, Signature=${signature}`,
    });
    // Signature Version 4 by hand: canonical request, string to sign, derived key.
    const signed = Object.entries(headers).filter(([k]) => k !== 'authorization').sort(([a], [b]) => a.localeCompare(b));
    const canonical = ['POST', '/prod/callbacks/cb-1', 'a=b&x=1', ...signed.map(([k, v]) => `${k}:${v}`), '',
      signed.map(([k]) => k).join(';'), sha256(input.body)].join('\n');
    const scope = '20250102/eu-west-1/execute-api/aws4_request';
    const key = ['20250102', 'eu-west-1', 'execute-api', 'aws4_request'].reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${input.credentials.secretAccessKey}`);
    expect(hmac(key, ['AWS4-HMAC-SHA256', '20250102T030405Z', scope, sha256(canonical)].join('\n')).toString('hex')).toBe(signature);
  });
});

describe('CredentialResolver', () => {
  let server: TestServer;
  let calls = 0;
  let dir: string;
  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'creds-'));
    server = await TestServer.start((req) => {
      calls++;
      if (req.headers.authorization !== 'container-token') return { status: 403, body: 'forbidden' };
      return { status: 200, body: { AccessKeyId: 'ASIA1', SecretAccessKey: 'S1', Token: 'T1', Expiration: new Date(Date.now() + 3600_000).toISOString() } };
    });
  });
  afterAll(async () => {
    await server.close();
    await fsp.rm(dir, { recursive: true });
  });

  /** Runs `fn` with process.env holding only these AWS settings (no profile files, no instance metadata). */
  async function withAwsEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: path.join(dir, 'no-config'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-credentials'), AWS_EC2_METADATA_DISABLED: 'true',
    }, vars);
    try {
      return await fn();
    } finally {
      process.env = saved;
    }
  }

  test('an explicit env: its static keys, nothing else', async () => {
    expect(await new CredentialResolver({ env: { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' } }).resolve())
      .toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: undefined });
    expect(await new CredentialResolver({ env: {} }).resolve()).toBeUndefined();
    await expect(new CredentialResolver({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${server.url}/creds` } }).resolve())
      .rejects.toThrow(/reads static keys only, but that env sets AWS_CONTAINER_CREDENTIALS_FULL_URI: leave env out/);
    expect(() => new CredentialResolver({ env: {}, provider: async () => ({ accessKeyId: 'A', secretAccessKey: 'S' }) })).toThrow(/env or provider, not both/);
  });

  test('the SDK chain: environment keys first', async () => {
    const creds = await withAwsEnv({ AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', AWS_CONTAINER_CREDENTIALS_FULL_URI: `${server.url}/creds` },
      () => new CredentialResolver().resolve());
    expect(creds).toMatchObject({ accessKeyId: 'AK', secretAccessKey: 'SK' });
  });

  test('the SDK chain: container credentials with the authorization token from its file, cached until near expiry', async () => {
    await fsp.writeFile(path.join(dir, 'token'), 'container-token');
    calls = 0;
    await withAwsEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${server.url}/creds`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: path.join(dir, 'token') }, async () => {
      const resolver = new CredentialResolver();
      expect(await resolver.resolve()).toMatchObject({ accessKeyId: 'ASIA1', secretAccessKey: 'S1', sessionToken: 'T1', expiration: expect.any(Date) });
      expect(await resolver.resolve()).toMatchObject({ accessKeyId: 'ASIA1' });
    });
    expect(calls).toBe(1);
  });

  test('the SDK chain: nothing configured is undefined (sent unsigned); a failing provider is a CredentialsError', async () => {
    expect(await withAwsEnv({}, () => new CredentialResolver().resolve())).toBeUndefined();
    const failing = new CredentialResolver({ provider: async () => { throw new Error('SSO session expired'); } });
    const error = await failing.resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as Error).message).toBe('cannot get AWS credentials to sign with: SSO session expired');
  });
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: Buffer | string, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

describe('startHeartbeats', () => {
  const quiet = createLogger({}, { write: () => undefined });
  test('beats at the interval with the token until stopped', async () => {
    const server = await callbackServer([200]);
    const beats = startHeartbeats(envelope(server.url, { heartbeat_interval_seconds: 0.05 }), quiet, { credentials: noCredentials });
    await new Promise((r) => setTimeout(r, 300));
    beats.stop();
    const count = server.requests.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(count).toBeGreaterThanOrEqual(3);
    expect(server.requests).toHaveLength(count);
    expect(server.requests.every((r) => r.path === '/callbacks/cb-1/heartbeat' && r.headers['x-callback-token'] === TOKEN && r.body === '{}')).toBe(true);
    expect(beats.gone.aborted).toBe(false);
    await server.close();
  });

  test('stops and raises `gone` when the orchestrator no longer waits (409)', async () => {
    const server = await callbackServer([200, 409]);
    const beats = startHeartbeats(envelope(server.url, { heartbeat_interval_seconds: 0.05 }), quiet, { credentials: noCredentials });
    await new Promise((r) => setTimeout(r, 400));
    expect(server.requests).toHaveLength(2);
    expect(beats.gone.aborted).toBe(true);
    expect((beats.gone.reason as Error).message).toContain('no longer waits for this task: scripted 409');
    beats.stop();
    await server.close();
  });

  test('sends nothing when the envelope asks for no heartbeats', async () => {
    const server = await callbackServer([200]);
    const beats = startHeartbeats(envelope(server.url), quiet);
    await new Promise((r) => setTimeout(r, 100));
    beats.stop();
    expect(server.requests).toHaveLength(0);
    await server.close();
  });
});
