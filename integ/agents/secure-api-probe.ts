/**
 * A probe for the SecureApi integration test: it calls the API with a SigV4-signed request (the
 * API's routes require IAM, and the probe's role is granted them with `SecureApi.grantInvoke`)
 * and returns what came back, so an assertion can look at it.
 *
 * Event: `{ "path": "/hello", "method": "GET" }`. Result: `{ status, body }`, the body parsed
 * as JSON when it is JSON, else the text. Redirects are not followed (their 3xx is the status).
 */
import { createHash, createHmac, Hash, Hmac } from 'crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** What the probe is asked to call. */
export interface ProbeEvent {
  readonly path: string;
  readonly method?: string;
}

/** What the API answered. */
export interface ProbeResult {
  readonly status: number;
  readonly body: unknown;
}

/** SHA-256 (or HMAC-SHA-256 with a secret) for the signer, on Node's crypto. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

export async function handler(event: ProbeEvent): Promise<ProbeResult> {
  if (typeof event?.path !== 'string' || !event.path.startsWith('/')) {
    throw new Error(`the probe needs an event like {"path": "/hello"}, got ${JSON.stringify(event)}`);
  }
  const method = (event.method ?? 'GET').toUpperCase();
  // API_URL ends in '/'; the event's path starts with one.
  const url = new URL(event.path.slice(1), process.env.API_URL!);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: process.env.AWS_REGION!,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID!,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!,
      sessionToken: process.env.AWS_SESSION_TOKEN,
    },
    sha256: Sha256,
  });
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => { query[k] = v; });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    query,
    // user-agent is never signed; the WAF's common rule set blocks requests without one.
    headers: { 'host': url.host, 'user-agent': 'cdk-durable-agents-integ-probe' },
  });
  // A redirect is returned as it is, not followed: a signature covers one path only, and a
  // backend's redirect would point inside the VPC.
  const res = await fetch(url, { method, headers: signed.headers as Record<string, string>, redirect: 'manual' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}
