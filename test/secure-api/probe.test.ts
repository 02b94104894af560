/**
 * The SecureApi integration test's probe, run as it runs in Lambda (bundled), against a local
 * server standing in for the API: it signs its call with SigV4 for execute-api (the server checks
 * the signature by signing the same request again) and returns the status and the body.
 */
import { createHash, createHmac, Hash, Hmac } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { SignatureV4 } from '@smithy/signature-v4';
import { bundleTestAgent } from '../../integ/integ-helpers';

const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'session' };

/** SHA-256 (or HMAC-SHA-256 with a secret) for the signer, on Node's crypto. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly signatureValid: boolean;
}

describe('integ probe (integ/agents/secure-api-probe.ts)', () => {
  let server: http.Server;
  let baseUrl: string;
  const received: Received[] = [];
  let reply: { status: number; type: string; body: string; location?: string } = { status: 200, type: 'application/json', body: '{"message":"hi"}' };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', baseUrl);
        const headers: Record<string, string> = {};
        const signedHeaders = /SignedHeaders=([^,]+)/.exec(req.headers.authorization ?? '')?.[1].split(';') ?? [];
        for (const name of signedHeaders) headers[name] = String(req.headers[name]);
        const amzDate = String(req.headers['x-amz-date']);
        const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
        const query: Record<string, string> = {};
        url.searchParams.forEach((v, k) => { query[k] = v; });
        const again = await new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials: CREDENTIALS, sha256: Sha256 })
          .sign({ method: req.method ?? 'GET', protocol: 'http:', hostname: url.hostname, path: url.pathname, query, headers }, { signingDate });
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, signatureValid: again.headers.authorization === req.headers.authorization });
        res.writeHead(reply.status, { 'content-type': reply.type, ...(reply.location ? { location: reply.location } : {}) }).end(reply.body);
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    received.length = 0;
  });

  async function probe(event: unknown): Promise<{ status: number; body: unknown }> {
    const saved = { ...process.env };
    Object.assign(process.env, {
      API_URL: baseUrl,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    });
    try {
      let handler: (e: unknown) => Promise<{ status: number; body: unknown }>;
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        handler = require(path.join(bundleTestAgent('secure-api-probe'), 'index.js')).handler;
      });
      return await handler!(event);
    } finally {
      process.env = saved;
    }
  }

  test('a signed GET of the path under API_URL; a JSON body comes back parsed', async () => {
    reply = { status: 200, type: 'application/json', body: '{"message":"hello from lambda"}' };
    expect(await probe({ path: '/hello' })).toEqual({ status: 200, body: { message: 'hello from lambda' } });
    expect(received).toHaveLength(1);
    const [call] = received;
    expect(call.method).toBe('GET');
    expect(call.url).toBe('/hello');
    expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    expect(call.headers['x-amz-security-token']).toBe('session');
    expect(call.headers['user-agent']).toBe('cdk-durable-agents-integ-probe');
    expect(call.signatureValid).toBe(true);
  });

  test('a text body comes back as text, with the status, and a query string is signed too', async () => {
    reply = { status: 404, type: 'text/html', body: '<p>not here</p>' };
    expect(await probe({ path: '/web/index.html?x=1', method: 'get' })).toEqual({ status: 404, body: '<p>not here</p>' });
    expect(received[0].url).toBe('/web/index.html?x=1');
    expect(received[0].signatureValid).toBe(true);
  });

  test('the path of the integ test, /web/, is sent with its trailing slash and signed as sent', async () => {
    reply = { status: 200, type: 'text/html', body: '<html><body>secure-api-integ-web</body></html>' };
    expect(await probe({ path: '/web/' })).toEqual({ status: 200, body: '<html><body>secure-api-integ-web</body></html>' });
    expect(received.map((r) => [r.url, r.signatureValid])).toEqual([['/web/', true]]);
  });

  test('a redirect comes back as its status, not followed (a signature covers one path)', async () => {
    reply = { status: 301, type: 'text/html', body: 'moved', location: '/web/' };
    expect(await probe({ path: '/web' })).toEqual({ status: 301, body: 'moved' });
    expect(received.map((r) => r.url)).toEqual(['/web']);
  });

  test('refuses an event without a path', async () => {
    await expect(probe({})).rejects.toThrow(/needs an event like \{"path": "\/hello"\}/);
    expect(received).toHaveLength(0);
  });
});
