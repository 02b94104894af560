/**
 * The ApiCanary's script, run as Synthetics runs it: the generated JavaScript text, loaded as a
 * CommonJS module whose `require('Synthetics')` is a stub, against a loopback HTTP server (or an
 * injected `https` module). Its SigV4 signature is compared with the AWS SDK's signer.
 */
import * as crypto from 'crypto';
import { EventEmitter } from 'events';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo } from 'net';
import { PassThrough } from 'stream';
import * as vm from 'vm';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { canaryScript, ScriptCredentials, ScriptExports, ScriptSigningInput } from '../../src/monitoring/canary-script';

/** The only Node modules the script may load (anything else is missing in the canary's runtime). */
const NODE_MODULES: Record<string, unknown> = { crypto, http, https };

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzE//session+token=' };

interface StepCall {
  readonly name: string;
  readonly config: unknown;
}

interface Loaded {
  readonly script: ScriptExports;
  readonly steps: StepCall[];
  /** What the script logged. */
  readonly logs: string[];
}

/**
 * Loads the generated script as a module, with `env` as its environment, a stub Synthetics module
 * (with or without executeStep) and optionally other modules standing in for Node's.
 */
function loadScript(env: Record<string, string>, options: { executeStep?: boolean; modules?: Record<string, unknown> } = {}): Loaded {
  const steps: StepCall[] = [];
  const stub = options.executeStep === false ? {} : {
    executeStep: async (name: string, fn: () => Promise<unknown>, config: unknown) => {
      steps.push({ name, config });
      return fn();
    },
  };
  const load = (id: string): unknown => {
    if (id === 'Synthetics') return stub;
    if (options.modules?.[id]) return options.modules[id];
    if (NODE_MODULES[id]) return NODE_MODULES[id];
    throw new Error(`the script loaded '${id}', which the canary's runtime may not have`);
  };
  // Node's module wrapper, with the environment and the console of the test.
  const wrapper = vm.runInThisContext(`(function (exports, require, module, process, console) {\n${canaryScript()}\n})`) as
    (e: object, r: (id: string) => unknown, m: object, p: object, c: object) => void;
  const exports: Partial<ScriptExports> = {};
  const logs: string[] = [];
  wrapper(exports, load, { exports }, { env }, { log: (line: string) => logs.push(line) });
  return { script: exports as ScriptExports, steps, logs };
}

/** What the loopback server received. */
interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** The AWS SDK's signature (SignatureV4 of @smithy/signature-v4) of a GET, as an authorization header. */
async function sdkAuthorization(url: URL, headers: Record<string, string>, region: string, date: Date,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = CREDENTIALS): Promise<string> {
  const query: Record<string, string | string[]> = {};
  url.searchParams.forEach((value, name) => {
    const previous = query[name];
    query[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  });
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers,
  }, { signingDate: date });
  return signed.headers.authorization;
}

/** `20240229T235959Z` as a Date. */
function dateOf(amzDate: string): Date {
  const d = amzDate;
  return new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
}

describe('the ApiCanary script against a loopback API', () => {
  let server: http.Server;
  let base: string;
  const received: Received[] = [];
  let reply: { status: number; body: string; hang?: boolean } = { status: 200, body: '{"status":"ok"}' };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      if (reply.hang) return; // never answers (closed by the client's timeout)
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    received.length = 0;
    reply = { status: 200, body: '{"status":"ok"}' };
  });

  const env = (more: Record<string, string> = {}) => ({
    API_CANARY_URL: `${base}/`, API_CANARY_PATH: '/health', API_CANARY_SIGNED: 'false', API_CANARY_EXPECTED_STATUS: '200', AWS_REGION: 'eu-west-1', ...more,
  });

  test('passes when the API answers the expected status, as one Synthetics step without screenshots, unsigned', async () => {
    const { script, steps, logs } = loadScript(env());
    await expect(script.handler()).resolves.toEqual({ status: 200, durationMs: expect.any(Number) });
    expect(steps).toEqual([{ name: 'GET /health', config: { screenshotOnStepStart: false, screenshotOnStepSuccess: false, screenshotOnStepFailure: false } }]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'GET', url: '/health' });
    expect(received[0].headers.authorization).toBeUndefined();
    expect(received[0].headers['x-amz-security-token']).toBeUndefined();
    expect(logs).toEqual([expect.stringMatching(/^GET \/health of 127\.0\.0\.1:\d+ answered 200 in \d+ ms$/)]);
  });

  test('fails (throws out of the step) on any other status, with the status, the expectation and the body', async () => {
    reply = { status: 503, body: '{"message":"Service Unavailable"}' };
    const { script } = loadScript(env());
    await expect(script.handler()).rejects.toThrow(/GET \/health of 127\.0\.0\.1:\d+ answered 503, expected 200 \(\d+ ms\): \{"message":"Service Unavailable"\}/);
    reply = { status: 200, body: '{}' };
    await expect(loadScript(env({ API_CANARY_EXPECTED_STATUS: '204' })).script.handler()).rejects.toThrow(/answered 200, expected 204/);
  });

  test('passes on another expected status', async () => {
    reply = { status: 204, body: '' };
    await expect(loadScript(env({ API_CANARY_EXPECTED_STATUS: '204' })).script.handler()).resolves.toMatchObject({ status: 204 });
  });

  test('without executeStep in the runtime, the handler itself passes or throws', async () => {
    await expect(loadScript(env(), { executeStep: false }).script.handler()).resolves.toMatchObject({ status: 200 });
    reply = { status: 500, body: 'boom' };
    await expect(loadScript(env(), { executeStep: false }).script.handler()).rejects.toThrow(/answered 500, expected 200/);
  });

  test('signs the call with SigV4 exactly as the AWS SDK signs it (base path, query, session token)', async () => {
    reply = { status: 200, body: '{"workflows":[]}' };
    const { script, steps } = loadScript(env({
      API_CANARY_URL: `${base}/research`,
      API_CANARY_PATH: '/workflows?limit=1',
      API_CANARY_SIGNED: 'true',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    }));
    await expect(script.handler()).resolves.toMatchObject({ status: 200 });
    expect(steps.map((s) => s.name)).toEqual(['GET /workflows']);
    const [got] = received;
    expect(got.url).toBe('/research/workflows?limit=1');
    expect(got.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    const authorization = String(got.headers.authorization);
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    const url = new URL(got.url, base);
    const expected = await sdkAuthorization(url, { host: String(got.headers.host) }, 'eu-west-1', dateOf(String(got.headers['x-amz-date'])));
    expect(authorization).toBe(expected);
  });

  test('a signed call without the Lambda credentials in the environment fails, naming the variable', async () => {
    const { script } = loadScript(env({ API_CANARY_SIGNED: 'true' }));
    await expect(script.handler()).rejects.toThrow('The canary\'s environment has no AWS_ACCESS_KEY_ID');
    expect(received).toHaveLength(0);
  });

  test('gives up on an API that does not answer within the timeout', async () => {
    reply = { status: 200, body: '', hang: true };
    const { script } = loadScript(env({ API_CANARY_TIMEOUT_MS: '300' }));
    await expect(script.handler()).rejects.toThrow(/GET \/health of 127\.0\.0\.1:\d+ failed: no answer within 300 ms/);
  });

  test('refuses plain HTTP to anything but loopback', async () => {
    const { script } = loadScript(env({ API_CANARY_URL: 'http://example.com' }));
    await expect(script.handler()).rejects.toThrow('The canary calls HTTPS URLs only, not http://example.com');
  });

  test('a connection refused fails the run with the reason', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { script } = loadScript(env({ API_CANARY_URL: `http://127.0.0.1:${port}` }));
    await expect(script.handler()).rejects.toThrow(/GET \/health of 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  });
});

describe('the ApiCanary script over HTTPS (an injected https module)', () => {
  /** An `https` module that answers every request with `status` and records the request options. */
  function fakeHttps(status: number) {
    const requests: http.RequestOptions[] = [];
    const request = (options: http.RequestOptions, callback: (res: http.IncomingMessage) => void) => {
      requests.push(options);
      const req = new EventEmitter() as EventEmitter & { end: () => void; destroy: (e: Error) => void };
      req.destroy = (e) => req.emit('error', e);
      req.end = () => {
        const res = new PassThrough() as PassThrough & { statusCode: number };
        res.statusCode = status;
        callback(res as unknown as http.IncomingMessage);
        res.end('{}');
      };
      return req;
    };
    return { module: { request }, requests };
  }

  test('signs for the region of an execute-api host, over https, without a session token when there is none', async () => {
    const fake = fakeHttps(200);
    const { script } = loadScript({
      API_CANARY_URL: 'https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/',
      API_CANARY_PATH: '/workflows?limit=1',
      API_CANARY_SIGNED: 'true',
      API_CANARY_EXPECTED_STATUS: '200',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
    }, { modules: { https: fake.module } });
    await expect(script.handler()).resolves.toMatchObject({ status: 200 });
    const [options] = fake.requests;
    expect(options).toMatchObject({ method: 'GET', hostname: 'a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com', path: '/workflows?limit=1' });
    const headers = options.headers as Record<string, string>;
    expect(headers.host).toBe('a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com');
    expect(headers['x-amz-security-token']).toBeUndefined();
    expect(headers.authorization).toMatch(/Credential=AKID\/\d{8}\/ap-southeast-2\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date, /);
    const expected = await sdkAuthorization(new URL('https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/workflows?limit=1'),
      { host: headers.host }, 'ap-southeast-2', dateOf(headers['x-amz-date']), { accessKeyId: 'AKID', secretAccessKey: 'secret' });
    expect(headers.authorization).toBe(expected);
  });

  test('signs for the canary\'s own region on a custom domain', async () => {
    const fake = fakeHttps(403);
    const { script } = loadScript({
      API_CANARY_URL: 'https://api.example.com/v1',
      API_CANARY_PATH: '/workflows',
      API_CANARY_SIGNED: 'true',
      API_CANARY_EXPECTED_STATUS: '200',
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
    }, { modules: { https: fake.module } });
    await expect(script.handler()).rejects.toThrow('GET /v1/workflows of api.example.com answered 403, expected 200');
    expect((fake.requests[0].headers as Record<string, string>).authorization).toMatch(/\/eu-central-1\/execute-api\/aws4_request/);
  });
});

describe('the ApiCanary script\'s signRequest', () => {
  const { script } = loadScript({});
  const date = new Date('2024-02-29T23:59:59.123Z');

  const cases: Array<[string, string]> = [
    ['a plain path', 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/health'],
    ['the root', 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/'],
    ['a query to sort, repeated names, and characters to escape', 'https://api.example.com/research/workflows?status=RUNNING&limit=5&b=2&b=1&q=a%20b%2Bc!*\'()~'],
    ['an encoded path segment (encoded again, as execute-api expects)', 'https://api.example.com/workflows/wf%20one/cancel?x='],
    ['dot segments and a trailing slash', 'https://api.example.com/a/./b/../c/'],
    ['a port', 'https://127.0.0.1:8443/health?limit=1'],
  ];

  test.each(cases)('equals the AWS SDK\'s signature: %s', async (_name, href) => {
    const url = new URL(href);
    const both: ScriptCredentials[] = [CREDENTIALS, { accessKeyId: 'AKID', secretAccessKey: 'secret' }];
    for (const credentials of both) {
      const input: ScriptSigningInput = { method: 'GET', url: url.href, headers: { host: url.host }, credentials, region: 'eu-west-1', service: 'execute-api', date };
      const headers = script.signRequest(input);
      expect(headers['x-amz-date']).toBe('20240229T235959Z');
      expect(headers['x-amz-security-token']).toBe(credentials.sessionToken);
      expect(headers.authorization).toBe(await sdkAuthorization(url, { host: url.host }, 'eu-west-1', date, credentials));
    }
  });

  test('refuses to sign without the host header', () => {
    expect(() => script.signRequest({ method: 'GET', url: 'https://h/', headers: {}, credentials: CREDENTIALS, region: 'eu-west-1', service: 'execute-api', date }))
      .toThrow('signRequest: the host header must be signed');
  });
});
