import * as net from 'net';
import { http, waitUntil } from './helpers';
import { CliError } from '../../src/cli/errors';
import { HEADERS_TIMEOUT_MS, HttpBridge, localEvent, MAX_HEADER_BYTES, REQUEST_TIMEOUT_MS, startHttpBridge } from '../../src/cli/http-bridge';
import type { ApiHandler } from '../../src/runtime/api';

describe('HTTP bridge', () => {
  let bridge: HttpBridge;
  let handler: ApiHandler = async () => ({ statusCode: 200, body: '{}' });
  const errors: unknown[] = [];

  beforeAll(async () => {
    bridge = await startHttpBridge({
      port: 0,
      ready: Promise.resolve<ApiHandler>((event) => handler(event)),
      health: () => ({ workflow: 'wf-name', status: 'overridden?' }),
      onError: (e) => errors.push(e),
    });
  });
  afterAll(() => bridge.close());

  test('listens on 127.0.0.1, on the port it reports', () => {
    expect(bridge.port).toBeGreaterThan(0);
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}`);
  });

  test('hands the request to the handler as an API Gateway event, and its result back', async () => {
    const seen: Array<{ path: string; method: string; body?: string; query?: Record<string, string | undefined> }> = [];
    handler = async (event) => {
      seen.push({ path: event.rawPath, method: event.requestContext.http.method, body: event.body, query: event.queryStringParameters });
      return { statusCode: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
    };
    const res = await http(bridge.url, 'POST', '/workflows?limit=2', { topic: 't' });
    expect(res).toMatchObject({ status: 201, body: { ok: true } });
    expect(seen).toEqual([{ path: '/workflows', method: 'POST', body: '{"topic":"t"}', query: { limit: '2' } }]);
  });

  test('a handler that throws -> 500, and the error is reported', async () => {
    handler = async () => {
      throw new Error('boom');
    };
    const res = await http(bridge.url, 'GET', '/workflows');
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('internal_error');
    expect(String(errors[errors.length - 1])).toBe('Error: boom');
  });

  test('requests from web pages of other sites are refused before the handler', async () => {
    handler = async () => ({ statusCode: 200, body: '{}' });
    const res = await http(bridge.url, 'GET', '/workflows', undefined, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
  });

  test('GET /health: 200 with status ok (never overridden) and what the server adds; HEAD too; other methods go to the API', async () => {
    const paths: string[] = [];
    handler = async (event) => {
      paths.push(`${event.requestContext.http.method} ${event.rawPath}`);
      return { statusCode: 405, body: '{}' };
    };
    const res = await http(bridge.url, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', workflow: 'wf-name' });
    const head = await raw(bridge.port, `HEAD /health HTTP/1.1\r\nHost: 127.0.0.1:${bridge.port}\r\nConnection: close\r\n\r\n`);
    expect(head.statusLine).toBe('HTTP/1.1 200 OK');
    expect((await http(bridge.url, 'POST', '/health', {})).status).toBe(405);
    expect(paths).toEqual(['POST /health']);
  });

  describe('malformed requests: a 4xx with a JSON message, and the connection closes (raw sockets)', () => {
    const host = () => `Host: 127.0.0.1:${bridge.port}\r\n`;

    test.each([
      ['a port above 65535', 'http://a:99999/workflows'],
      ['an unclosed IPv6 host', 'http://[::1/'],
      ['an absolute URL of this server with a bad port', 'http://127.0.0.1:65536/workflows'],
    ])('an absolute-form target with %s -> 400 naming the target, closed', async (_what, target) => {
      const before = errors.length;
      const res = await raw(bridge.port, `GET ${target} HTTP/1.1\r\n${host()}\r\n`);
      expect(res.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(res.json).toMatchObject({ error: 'bad_request' });
      expect(res.json.message).toContain(`the request target '${target}' is not a valid URL`);
      expect(res.json.message).toContain('send a path such as /workflows');
      expect(errors.length).toBe(before);
    });

    test('an absolute-form target of this server reaches the API with its path; of another host -> 403', async () => {
      const seen: string[] = [];
      handler = async (event) => {
        seen.push(event.rawPath);
        return { statusCode: 200, body: '{}' };
      };
      const ok = await raw(bridge.port, `GET http://127.0.0.1:${bridge.port}/workflows?limit=1 HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
      expect(ok.statusLine).toBe('HTTP/1.1 200 OK');
      expect(seen).toEqual(['/workflows']);
      const other = await raw(bridge.port, `GET http://evil.example/workflows HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
      expect(other.statusLine).toBe('HTTP/1.1 403 Forbidden');
      expect(other.json.message).toContain("names host 'evil.example'");
    });

    test('an origin-form target starting with // is a path, not a host', async () => {
      const seen: string[] = [];
      handler = async (event) => {
        seen.push(event.rawPath);
        return { statusCode: 404, body: '{}' };
      };
      const res = await raw(bridge.port, `GET //a:99999/workflows HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
      expect(res.statusLine).toBe('HTTP/1.1 404 Not Found');
      expect(seen).toEqual(['//a:99999/workflows']);
    });

    test('a chunk size that overflows -> 400 at once', async () => {
      const res = await raw(bridge.port, `POST /workflows HTTP/1.1\r\n${host()}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n`, 1_500);
      expect(res.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(res.json.message).toMatch(/not valid HTTP\/1\.1 \(HPE_INVALID_CHUNK_SIZE/);
    });

    test('a request line that is not HTTP -> 400 at once', async () => {
      const res = await raw(bridge.port, 'HELLO\r\n\r\n', 1_500);
      expect(res.statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect(res.json.error).toBe('bad_request');
    });

    test('headers larger than the limit -> 431, closed', async () => {
      const res = await raw(bridge.port, `GET /workflows HTTP/1.1\r\n${host()}X-Big: ${'a'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`, 1_500);
      expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    });

    test('a huge chunk whose data never comes -> 408 once the request time is up, closed; nothing reported as our failure', async () => {
      const before = errors.length;
      const res = await raw(bridge.port, `POST /workflows HTTP/1.1\r\n${host()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n{`,
        REQUEST_TIMEOUT_MS + 2_000);
      expect(res.statusLine).toBe('HTTP/1.1 408 Request Timeout');
      expect(res.json.error).toBe('request_timeout');
      expect(errors.length).toBe(before);
    });

    test.each([
      ['an empty request line', '\r\n\r\n'],
      ['nothing at all', ''],
    ])('%s -> 408 once the headers time is up, closed', async (_what, bytes) => {
      const res = await raw(bridge.port, bytes, HEADERS_TIMEOUT_MS + 2_000);
      expect(res.statusLine).toBe('HTTP/1.1 408 Request Timeout');
    });
  });

  test('close can be called twice', async () => {
    const other = await startHttpBridge({ port: 0, ready: new Promise(() => undefined), onError: () => undefined });
    await other.close();
    await other.close();
  });
});

describe('HTTP bridge while the server starts', () => {
  test('requests that arrive before the handler is ready wait for it (no 503), then are served', async () => {
    let markReady!: (handler: ApiHandler) => void;
    const bridge = await startHttpBridge({ port: 0, ready: new Promise((r) => (markReady = r)), health: () => ({ v: 1 }), onError: () => undefined });
    try {
      let answered = false;
      const early = http(bridge.url, 'GET', '/workflows').finally(() => (answered = true));
      const health = http(bridge.url, 'GET', '/health');
      // Polled, not slept: the request has reached the server and is waiting.
      await waitUntil(() => bridge.waiting() === 2, 5_000, 'both requests waiting for the handler');
      expect(answered).toBe(false);
      markReady(async () => ({ statusCode: 200, body: '{"served":true}' }));
      expect(await early).toMatchObject({ status: 200, body: { served: true } });
      expect(await health).toMatchObject({ status: 200, body: { status: 'ok', v: 1 } });
    } finally {
      await bridge.close();
    }
  });

  test('a start that failed -> 503 naming why', async () => {
    let markFailed!: (e: unknown) => void;
    const bridge = await startHttpBridge({ port: 0, ready: new Promise((_r, reject) => (markFailed = reject)), onError: () => undefined });
    try {
      const early = http(bridge.url, 'GET', '/workflows');
      await waitUntil(() => bridge.waiting() === 1, 5_000, 'the request waiting for the handler');
      markFailed(new Error('the durable backend does not work'));
      expect(await early).toMatchObject({ status: 503, body: { error: 'not_started', message: 'the local server did not start: the durable backend does not work' } });
    } finally {
      await bridge.close();
    }
  });
});

interface RawAnswer {
  readonly text: string;
  readonly statusLine: string;
  readonly json: any;
  readonly ms: number;
}

/**
 * Writes bytes on a new connection and reads until the server closes it; fails if the server
 * has not closed it within `closeWithinMs` (it held the connection).
 */
function raw(port: number, bytes: string, closeWithinMs = 1_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined); // a reset after the answer still closes
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server held the connection for ${closeWithinMs} ms; got so far: ${JSON.stringify(text)}`));
    }, closeWithinMs);
    socket.on('close', () => {
      clearTimeout(deadline);
      const [head, ...rest] = text.split('\r\n\r\n');
      let json: unknown;
      try {
        json = JSON.parse(rest.join('\r\n\r\n'));
      } catch {
        json = undefined;
      }
      resolve({ text, statusLine: head.split('\r\n')[0], json, ms: Date.now() - started });
    });
  });
}

test('a port in use -> a CliError naming the port and --port', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const address = blocker.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const start = startHttpBridge({ port, ready: new Promise(() => undefined), onError: () => undefined });
    await expect(start).rejects.toThrow(CliError);
    await expect(start).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is already in use.*--port <n>`));
  } finally {
    blocker.close();
  }
});

test('localEvent: an in-process JSON request', () => {
  const event = localEvent('POST', '/callbacks/cb-1', { status: 'failed' }, { 'x-callback-token': 't' });
  expect(event).toMatchObject({
    rawPath: '/callbacks/cb-1',
    headers: { 'content-type': 'application/json', 'x-callback-token': 't' },
    requestContext: { http: { method: 'POST', path: '/callbacks/cb-1', sourceIp: '127.0.0.1' } },
    body: '{"status":"failed"}',
    isBase64Encoded: false,
  });
  expect(localEvent('GET', '/workflows')).not.toHaveProperty('body');
});
