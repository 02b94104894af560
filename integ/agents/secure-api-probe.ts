/**
 * A probe for the SecureApi integration test: it calls the API with a SigV4-signed request (the
 * API's routes require IAM, and the probe's role is granted them with `SecureApi.grantInvoke`)
 * and returns what came back, so an assertion can look at it.
 *
 * Event: `{ "path": "/hello", "method": "GET" }`. Result: `{ status, body }`, the body parsed
 * as JSON when it is JSON, else the text. Redirects are not followed (their 3xx is the status).
 */
import { CredentialResolver, signingRegion, signRequest } from '../../agents/kit/src/sigv4';

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

export async function handler(event: ProbeEvent): Promise<ProbeResult> {
  if (typeof event?.path !== 'string' || !event.path.startsWith('/')) {
    throw new Error(`the probe needs an event like {"path": "/hello"}, got ${JSON.stringify(event)}`);
  }
  const method = (event.method ?? 'GET').toUpperCase();
  // API_URL ends in '/'; the event's path starts with one.
  const url = new URL(event.path.slice(1), process.env.API_URL!);
  const credentials = await new CredentialResolver().resolve();
  if (!credentials) throw new Error('no AWS credentials in the environment to sign the call with');
  const headers = await signRequest({
    method,
    url,
    // user-agent is never signed; the WAF's common rule set blocks requests without one.
    headers: { 'user-agent': 'cdk-durable-agents-integ-probe' },
    body: '',
    credentials,
    region: signingRegion(url)!,
  });
  // A redirect is returned as it is, not followed: a signature covers one path only, and a
  // backend's redirect would point inside the VPC.
  const res = await fetch(url, { method, headers, redirect: 'manual' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}
