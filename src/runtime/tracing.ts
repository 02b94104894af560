/**
 * X-Ray subsegments for the AWS SDK calls of a handler, through Powertools Tracer, loaded only
 * where tracing is on: the Tracer brings the X-Ray SDK, whose loading is the largest single cost of
 * a cold start (about 100 ms measured), and a function deployed with `tracing: false` never pays it.
 */
import type { CaptureClient } from './aws-runtime';
import { ENV } from '../contract/table';

export function tracingCapture(serviceName: string, env: Record<string, string | undefined> = process.env): CaptureClient {
  if (env[ENV.traceEnabled] === 'false') return (client) => client;
  // Loaded here and not at the top: the module (and the X-Ray SDK under it) runs only when called.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Tracer } = require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
  const tracer = new Tracer({ serviceName });
  return (client) => tracer.captureAWSv3Client(client);
}
