/**
 * Node HTTP requests as API Gateway HTTP API (payload format 2.0) events, and the handler's
 * results back as HTTP responses: the local server runs the same API handler as Lambda does.
 */
import { randomUUID } from 'crypto';
import type { IncomingMessage, ServerResponse } from 'http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Largest request body read (API Gateway's limit is 10 MB; the API refuses more than 64 KB anyway). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** Thrown when a request body is larger than `MAX_REQUEST_BYTES`. */
export class BodyTooLargeError extends Error {
  constructor() {
    super(`the request body is larger than ${MAX_REQUEST_BYTES / 1024} KB`);
  }
}

/** Thrown when a request's connection closes before its body has arrived (the client left, or the request timed out). */
export class RequestAbortedError extends Error {
  constructor() {
    super('the connection closed before the request body arrived in full');
  }
}

/** Reads a request's body, refusing more than `MAX_REQUEST_BYTES`. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // After 'end' this rejects nothing: a promise settles once.
    req.on('close', () => reject(new RequestAbortedError()));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A request's target as a URL, or why it is not one. */
export type RequestTarget = { readonly url: URL; readonly absolute: boolean } | { readonly problem: string };

/**
 * The URL of a request's target: origin form (`/workflows?limit=2`, a path even when it starts
 * with `//`) or absolute form (`http://127.0.0.1:8765/workflows`, which HTTP/1.1 servers must
 * accept). A target that is neither, or not a valid URL (a port above 65535, an unclosed IPv6
 * address), gets why, for a 400.
 */
export function requestTarget(req: IncomingMessage, port: number): RequestTarget {
  const raw = req.url ?? '';
  const shown = raw.length > 200 ? `${raw.slice(0, 200)}...` : raw;
  const fix = `send a path such as /workflows (or a full URL such as http://127.0.0.1:${port}/workflows)`;
  try {
    if (raw.startsWith('/')) return { url: new URL(`http://127.0.0.1:${port}${raw}`), absolute: false };
    if (/^https?:\/\//i.test(raw)) return { url: new URL(raw), absolute: true };
  } catch (e) {
    return { problem: `the request target '${shown}' is not a valid URL (${(e as Error).message}); ${fix}` };
  }
  return { problem: `the request target '${shown}' is neither a path nor an http:// URL; ${fix}` };
}

/** The API Gateway HTTP API event of a request, as the `$default` stage would deliver it. */
export function toApiEvent(req: IncomingMessage, body: Buffer, port: number, target?: URL): APIGatewayProxyEventV2 {
  const parsed = target ? { url: target } : requestTarget(req, port);
  if (!('url' in parsed)) throw new Error(parsed.problem);
  const url = parsed.url;
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') {
      cookies.push(...(Array.isArray(value) ? value : [value]).flatMap((c) => c.split(/;\s*/)).filter(Boolean));
      continue;
    }
    // API Gateway joins repeated headers with commas, and lower-cases names.
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = new Date();
  const text = body.length > 0 ? body.toString('utf8') : undefined;
  // Text that survives a round trip is passed as is; anything else base64-encoded, as API Gateway does.
  const isText = text === undefined || Buffer.from(text, 'utf8').equals(body);
  const method = (req.method ?? 'GET').toUpperCase();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? `127.0.0.1:${port}`,
      domainPrefix: '127',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(text !== undefined ? { body: isText ? text : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

/** Writes a handler result as the HTTP response. */
export function sendResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body = result.body === undefined ? Buffer.alloc(0)
    : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  const headers: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  headers['content-length'] = body.length;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}

/** A JSON error response in the API's shape (`error`, `message`). */
export function sendError(res: ServerResponse, statusCode: number, error: string, message: string): void {
  sendResult(res, {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({ error, message }),
  });
}

/**
 * Whether a request may reach the API: its Host names this loopback server (which stops DNS
 * rebinding), and a browser's Origin, when sent, is this server's own page (which stops other
 * sites, and pages of other local servers, from starting or approving workflows through a
 * visitor's browser).
 */
export function localRequestProblem(req: IncomingMessage, port: number, target?: RequestTarget): string | undefined {
  const allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  const host = (req.headers.host ?? '').toLowerCase();
  if (!allowedHosts.includes(host)) {
    return `Host '${req.headers.host ?? ''}' is not this local server; send requests to http://127.0.0.1:${port}`;
  }
  // An absolute-form target names the host too (and wins over Host): it must be this server as well.
  if (target && 'url' in target && target.absolute && !allowedHosts.includes(target.url.host.toLowerCase())) {
    return `the request target names host '${target.url.host}', which is not this local server; send requests to http://127.0.0.1:${port}`;
  }
  // Only this server's own page may drive it from a browser: another page of this machine (another
  // port) is another site too. The command line, curl and the tests send no Origin.
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let own = false;
    try {
      const url = new URL(origin);
      own = url.protocol === 'http:' && allowedHosts.includes(`${url.hostname}:${url.port || '80'}`);
    } catch {
      // malformed ('null' from a sandboxed frame or a file): refused below
    }
    if (!own) {
      return `requests from web pages of other sites (Origin ${origin}) are refused: only this server's own page `
        + `(http://127.0.0.1:${port}/) may send them; use that page, curl or the cdk-durable-agents command`;
    }
  }
  return undefined;
}
