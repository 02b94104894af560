import * as net from 'net';
import { http } from './helpers';
import { CliError } from '../../src/cli/errors';
import { HttpBridge, localEvent, startHttpBridge } from '../../src/cli/http-bridge';
import type { ApiHandler } from '../../src/runtime/api';

describe('HTTP bridge', () => {
  let bridge: HttpBridge;
  let handler: ApiHandler | undefined;
  const errors: unknown[] = [];

  beforeAll(async () => {
    bridge = await startHttpBridge({ port: 0, handler: () => handler, onError: (e) => errors.push(e) });
  });
  afterAll(() => bridge.close());

  test('listens on 127.0.0.1, on the port it reports', () => {
    expect(bridge.port).toBeGreaterThan(0);
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}`);
  });

  test('503 while no handler is set', async () => {
    handler = undefined;
    const res = await http(bridge.url, 'GET', '/workflows');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'starting', message: 'the local server is starting; retry in a moment' });
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

  test('close can be called twice', async () => {
    const other = await startHttpBridge({ port: 0, handler: () => undefined, onError: () => undefined });
    await other.close();
    await other.close();
  });
});

test('a port in use -> a CliError naming the port and --port', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const address = blocker.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const start = startHttpBridge({ port, handler: () => undefined, onError: () => undefined });
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
