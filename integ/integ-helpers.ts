/** Helpers of the integration tests (not themselves tests: integ-runner only runs integ.*.ts). */
import { createHash } from 'crypto';
import * as path from 'path';
import { buildSync } from 'esbuild';

/** Bundles a test agent from integ/agents into integ/.build/<name>, returning the folder. */
export function bundleTestAgent(name: string): string {
  const outdir = path.join(__dirname, '.build', name);
  buildSync({
    entryPoints: [path.join(__dirname, 'agents', `${name}.ts`)],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  return outdir;
}

/** The workflow id the API derives from an Idempotency-Key (src/runtime/ids.ts). */
export function workflowIdFor(idempotencyKey: string): string {
  return `wf-${createHash('sha256').update(`idempotency:${idempotencyKey}`).digest('hex').slice(0, 32)}`;
}

/** An API Gateway HTTP API (payload 2.0) event for a direct invoke of the API function. */
export function apiEvent(method: string, rawPath: string, body?: unknown, headers: Record<string, string> = {}): string {
  return JSON.stringify({
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method, path: rawPath }, stage: '$default', requestId: 'integ' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  });
}
