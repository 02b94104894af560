/**
 * The HTTP API and callback handler (API Gateway HTTP API, payload format 2.0);
 * see src/runtime/api.ts.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { createApi } from '../../runtime/api';
import { awsPorts, configFromEnv } from '../../runtime/aws-runtime';
import { PowertoolsTelemetry } from '../../runtime/telemetry';

const config = configFromEnv();
const tracer = new Tracer({ serviceName: 'durable-api' });

export const handler = createApi({
  definition: config.definition,
  ports: awsPorts(config, tracer),
  telemetry: new PowertoolsTelemetry('durable-api'),
  stateRetentionDays: config.stateRetentionDays,
  basePath: config.apiBasePath,
});
