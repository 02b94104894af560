/**
 * The HTTP side of the local server: listens on 127.0.0.1, refuses requests from other hosts and
 * sites, and hands each request to the API handler as an API Gateway HTTP API event (and its
 * result back as the response). Also builds the events of in-process requests.
 */
import * as http from 'http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { CliError } from './errors';
import { BodyTooLargeError, localRequestProblem, readBody, sendError, sendResult, toApiEvent } from './http';
import type { ApiHandler } from '../runtime/api';

export interface HttpBridgeOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** The API handler, or undefined while the server starts (requests then get a 503). */
  readonly handler: () => ApiHandler | undefined;
  /** Told of a request that failed on our side (it gets a 500). */
  readonly onError: (error: unknown) => void;
}

/** A listening HTTP bridge. */
export interface HttpBridge {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops listening and closes open connections; calling it again returns the same promise. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1. Rejects with a `CliError` a person can act on when the port is in
 * use or needs privileges.
 */
export async function startHttpBridge(options: HttpBridgeOptions): Promise<HttpBridge> {
  let port = options.port;
  const server = http.createServer((req, res) => {
    void handleRequest(req, res, port, options.handler).catch((e) => {
      options.onError(e);
      if (!res.headersSent) sendError(res, 500, 'internal_error', 'the request failed on our side; it is safe to retry');
      else res.destroy();
    });
  });
  port = await listen(server, options.port);
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => (closed ??= closeServer(server)),
  };
}

async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse, port: number, api: () => ApiHandler | undefined): Promise<void> {
  const problem = localRequestProblem(req, port);
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
  const handler = api();
  if (!handler) return sendError(res, 503, 'starting', 'the local server is starting; retry in a moment');
  sendResult(res, await handler(toApiEvent(req, body, port)));
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
