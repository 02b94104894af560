/**
 * The HTTP API and callback handler (API Gateway HTTP API, payload format 2.0), which also
 * starts the workflows of schedules' ticks; see src/runtime/api.ts.
 */
import { SERVICE_NAMES } from '../../contract/status';
import { createApiFunctionHandler } from '../../runtime/api';
import { apiApprovalLinks, apiPorts, configFromEnv } from '../../runtime/aws-runtime';
import { PowertoolsTelemetry } from '../../runtime/telemetry';
import { tracingCapture } from '../../runtime/tracing';

const SERVICE = SERVICE_NAMES.api;
const config = configFromEnv('api');

export const handler = createApiFunctionHandler({
  definition: config.definition,
  ports: apiPorts(config, tracingCapture()),
  telemetry: new PowertoolsTelemetry(SERVICE),
  stateRetentionDays: config.stateRetentionDays,
  basePath: config.apiBasePath,
  approvalLinks: apiApprovalLinks(config, tracingCapture()),
});
