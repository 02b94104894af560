/**
 * The HTTP side of the local server: listens on 127.0.0.1, refuses requests from other hosts and
 * sites, and hands each request to the API handler as an API Gateway HTTP API event (and its
 * result back as the response). Also builds the events of in-process requests.
 *
 * Every request gets an answer and no connection is held: a request that is not valid HTTP gets
 * a JSON 400 (431 for headers too large, 408 for a request that stops arriving) and its connection
 * is closed; so is a request target that is not a valid URL.
 */
import * as http from 'http';
import type { Socket } from 'net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { CliError } from './errors';
import { BodyTooLargeError, localRequestProblem, readBody, RequestAbortedError, requestTarget, sendError, sendResult, toApiEvent } from './http';
import type { ApiHandler } from '../runtime/api';

/** Time a client has to send a request's headers (loopback clients need milliseconds). */
export const HEADERS_TIMEOUT_MS = 3_000;
/** Time a client has to send a whole request, body included (at most `MAX_REQUEST_BYTES` of it). */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Largest request head (request line and headers) read. */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface HttpBridgeOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /**
   * The API handler, once the server can serve requests: requests that arrive before wait for it
   * (no 503 while the server starts). When it rejects, requests get a 503 naming why.
   */
  readonly ready: Promise<ApiHandler>;
  /** `GET /health`'s body beside `"status": "ok"` (answered once `ready` has resolved). @default - only the status */
  readonly health?: () => Record<string, unknown>;
  /** Told of a request that failed on our side (it gets a 500). */
  readonly onError: (error: unknown) => void;
  /**
   * Routes answered before the API (the web page, event streams, artifacts), once `ready` has
   * resolved: true when it answered the request. @default - every request goes to the API
   */
  readonly local?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<boolean>;
}

/** A listening HTTP bridge. */
export interface HttpBridge {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** How many requests are waiting for `ready` (arrived while the server starts). */
  waiting(): number;
  /** Stops listening and closes open connections; calling it again returns the same promise. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1. Rejects with a `CliError` a person can act on when the port is in
 * use or needs privileges.
 */
export async function startHttpBridge(options: HttpBridgeOptions): Promise<HttpBridge> {
  let port = options.port;
  // Settled once, so that a rejection is handled even when no request is waiting.
  let settled: Readiness | undefined;
  const waiting = { count: 0 };
  const ready = options.ready.then((handler) => (settled = { handler }), (e: unknown) => (settled = { failed: e }));
  const server = http.createServer({
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    maxHeaderSize: MAX_HEADER_BYTES,
    // How often the two timeouts above are checked (Node's default, 30 s, would hold a stalled request that long).
    connectionsCheckingInterval: 250,
  }, (req, res) => {
    const readiness = async (): Promise<Readiness> => {
      if (settled) return settled;
      waiting.count++;
      try {
        return await ready;
      } finally {
        waiting.count--;
      }
    };
    void handleRequest(req, res, port, readiness, options.health, options.local).catch((e) => {
      if (e instanceof RequestAbortedError) return; // the client went away (or the request timed out): no one to answer
      options.onError(e);
      if (!res.headersSent) sendError(res, 500, 'internal_error', 'the request failed on our side; it is safe to retry');
      else res.destroy();
    });
  });
  server.on('clientError', answerClientError);
  port = await listen(server, options.port);
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    waiting: () => waiting.count,
    close: () => (closed ??= closeServer(server)),
  };
}

type Readiness = { readonly handler: ApiHandler; readonly failed?: undefined } | { readonly handler?: undefined; readonly failed: unknown };

async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse, port: number,
  ready: () => Promise<Readiness>, health: (() => Record<string, unknown>) | undefined,
  local: HttpBridgeOptions['local']): Promise<void> {
  const target = requestTarget(req, port);
  if ('problem' in target) {
    // The rest of this connection's bytes cannot be trusted to start a request: close it.
    res.setHeader('connection', 'close');
    req.resume();
    return sendError(res, 400, 'bad_request', target.problem);
  }
  const problem = localRequestProblem(req, port, target);
  if (problem) {
    req.resume();
    return sendError(res, 403, 'forbidden', problem);
  }
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (e) {
    if (e instanceof BodyTooLargeError) return sendError(res, 413, 'payload_too_large', e.message);
    throw e;
  }
  const { handler, failed } = await ready();
  if (!handler) {
    return sendError(res, 503, 'not_started', `the local server did not start: ${failed instanceof Error ? failed.message : String(failed)}`);
  }
  const method = (req.method ?? '').toUpperCase();
  if (target.url.pathname === '/health' && (method === 'GET' || method === 'HEAD')) {
    return sendResult(res, {
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({ ...health?.(), status: 'ok' }),
    });
  }
  if (local && await local(req, res, target.url)) return;
  sendResult(res, await handler(toApiEvent(req, body, port, target.url)));
}

/** HTTP reason phrases of the statuses a malformed request gets. */
const CLIENT_ERROR_STATUS = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' } as const;

/**
 * Answers a request Node's parser refused (not valid HTTP, headers too large, a request that
 * stopped arriving) with a JSON error, and closes the connection: nothing after it can be read
 * as a request.
 */
function answerClientError(error: Error & { code?: string; reason?: string }, socket: Socket): void {
  // A response already under way (or a socket already gone) cannot be answered: only closed.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  let status: keyof typeof CLIENT_ERROR_STATUS = 400;
  let body: { error: string; message: string };
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    body = {
      error: 'request_timeout',
      message: `the request did not arrive in full within ${REQUEST_TIMEOUT_MS / 1000} s `
      + `(its headers within ${HEADERS_TIMEOUT_MS / 1000} s); send the whole request at once`,
    };
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    body = { error: 'headers_too_large', message: `the request line and headers are larger than ${MAX_HEADER_BYTES / 1024} KB; send fewer or shorter headers` };
  } else {
    const why = error.reason ?? error.message;
    body = {
      error: 'bad_request',
      message: `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'}: ${why}); send a request line such as `
      + '\'GET /workflows HTTP/1.1\', headers, and a body framed by Content-Length or valid chunks',
    };
  }
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${CLIENT_ERROR_STATUS[status]}\r\ncontent-type: application/json\r\ncache-control: no-store\r\n`
    + `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
  // A peer that never reads its answer must not hold the socket either.
  socket.setTimeout(HEADERS_TIMEOUT_MS, () => socket.destroy());
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.removeListener('listening', onListening);
      if (e.code === 'EADDRINUSE') {
        reject(new CliError(`port ${port} on 127.0.0.1 is already in use (another cdk-durable-agents dev?): stop what uses it, `
          + 'or choose another port with --port <n> (--port 0 picks a free one)'));
      } else if (e.code === 'EACCES') {
        reject(new CliError(`port ${port} on 127.0.0.1 needs privileges this user does not have: choose a port above 1023 with --port <n>`));
      } else {
        reject(new CliError(`cannot listen on 127.0.0.1:${port}: ${e.message}`));
      }
    };
    const onListening = () => {
      server.removeListener('error', onError);
      const address = server.address();
      resolve(address !== null && typeof address === 'object' ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** An in-process request to the API handler (for approvals answered here and failed agents). */
export function localEvent(method: string, rawPath: string, body?: unknown, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: 'local',
      domainPrefix: 'local',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'cdk-durable-agents' },
      requestId: `local-${Date.now()}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    isBase64Encoded: false,
  };
}
