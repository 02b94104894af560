/**
 * A stand-in for API Gateway with IAM authorization, for tests: an HTTP server on 127.0.0.1
 * that checks each request's SigV4 signature (service execute-api) against fixed credentials,
 * answers 403 with API Gateway's bodies when it is missing or wrong, and forwards good
 * requests to a local server.
 */
import { createHash } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

export interface TestCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** The credentials the proxy accepts (set them as AWS_ACCESS_KEY_ID, ... for the command). */
export const TEST_CREDENTIALS: TestCredentials = {
  accessKeyId: 'AKIAREMOTECLITEST001',
  secretAccessKey: 'remote-cli-test-secret-key/0123456789abcdef',
  sessionToken: 'remote-cli-test-session-token',
};

/** API Gateway's answers. */
export const FORBIDDEN = { message: 'Forbidden' };
export const BAD_SIGNATURE = {
  message: 'The request signature we calculated does not match the signature you provided. '
    + 'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
};

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  /** 'ok' (forwarded) or why it was refused. */
  readonly verdict: string;
}

export interface SigV4Proxy {
  readonly url: string;
  readonly port: number;
  readonly requests: ProxiedRequest[];
  /** Requests this says yes to are refused with 403 Forbidden after a good signature (IAM denies them). */
  deny: (method: string, path: string) => boolean;
  close(): Promise<void>;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60_000;

export async function startSigV4Proxy(options: { target: string; region: string; credentials?: TestCredentials }): Promise<SigV4Proxy> {
  const credentials = options.credentials ?? TEST_CREDENTIALS;
  const requests: ProxiedRequest[] = [];
  const signer = new SignatureV4({ service: 'execute-api', region: options.region, credentials, sha256: Sha256 });

  /** Why a request is refused, or undefined when its signature holds. */
  async function problem(req: http.IncomingMessage, body: Buffer, port: number): Promise<{ why: string; answer: object } | undefined> {
    const auth = req.headers.authorization;
    if (auth === undefined) return { why: 'no signature', answer: FORBIDDEN };
    const m = AUTHORIZATION.exec(auth);
    if (!m) return { why: 'malformed Authorization', answer: FORBIDDEN };
    const [, keyId, day, region, service, signedHeaderList] = m;
    if (keyId !== credentials.accessKeyId) return { why: `unknown key ${keyId}`, answer: { message: 'The security token included in the request is invalid.' } };
    if (region !== options.region || service !== 'execute-api') return { why: `scope ${region}/${service}`, answer: BAD_SIGNATURE };
    const signedHeaders = signedHeaderList.split(';');
    for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) {
      if (!signedHeaders.includes(required)) return { why: `${required} not signed`, answer: BAD_SIGNATURE };
    }
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!dm) return { why: 'bad x-amz-date', answer: FORBIDDEN };
    const signingDate = new Date(Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]));
    if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS || amzDate.slice(0, 8) !== day) {
      return { why: 'stale x-amz-date', answer: { message: 'Signature expired' } };
    }
    if (req.headers['x-amz-content-sha256'] !== createHash('sha256').update(body).digest('hex')) {
      return { why: 'body hash differs', answer: BAD_SIGNATURE };
    }
    if (req.headers['x-amz-security-token'] !== credentials.sessionToken) return { why: 'wrong session token', answer: FORBIDDEN };
    if (req.headers.host !== `127.0.0.1:${port}`) return { why: `Host ${req.headers.host}`, answer: BAD_SIGNATURE };
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const query: Record<string, string | string[]> = {};
    url.searchParams.forEach((value, key) => {
      const seen = query[key];
      query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    });
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = req.headers[name];
      if (value === undefined) return { why: `signed header ${name} missing`, answer: BAD_SIGNATURE };
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const expected = await signer.sign({
      method: req.method ?? 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: url.pathname, query, headers, body: body.length ? body.toString('utf8') : undefined,
    }, { signingDate });
    if (expected.headers.authorization !== auth) return { why: 'signature differs', answer: BAD_SIGNATURE };
    return undefined;
  }

  let deny: SigV4Proxy['deny'] = () => false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const port = (server.address() as AddressInfo).port;
      const method = req.method ?? 'GET';
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const answer = (status: number, payload: string, contentType = 'application/json') => {
        res.writeHead(status, { 'content-type': contentType });
        res.end(payload);
      };
      void (async () => {
        const refused = await problem(req, body, port);
        if (refused) {
          requests.push({ method, path, verdict: refused.why });
          return answer(403, JSON.stringify(refused.answer));
        }
        if (deny(method, path)) {
          requests.push({ method, path, verdict: 'denied' });
          return answer(403, JSON.stringify(FORBIDDEN));
        }
        requests.push({ method, path, verdict: 'ok' });
        const forwarded = await fetch(`${options.target}${req.url}`, {
          method,
          headers: Object.fromEntries(['content-type', 'idempotency-key'].filter((h) => req.headers[h] !== undefined).map((h) => [h, String(req.headers[h])])),
          ...(body.length ? { body } : {}),
        });
        answer(forwarded.status, await forwarded.text(), forwarded.headers.get('content-type') ?? 'application/json');
      })().catch((e) => answer(500, JSON.stringify({ message: `proxy failed: ${String(e)}` })));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get deny() {
      return deny;
    },
    set deny(f) {
      deny = f;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
