/**
 * The durable controller (a Lambda durable function, always invoked through its alias).
 * Interprets the workflow definition of its configuration layer; see src/runtime/controller.ts.
 */
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { SERVICE_NAMES } from '../../contract/status';
import { configFromEnv, controllerApprovalLinks, controllerPorts } from '../../runtime/aws-runtime';
import { createController } from '../../runtime/controller';
import { PowertoolsTelemetry } from '../../runtime/telemetry';
import { tracingCapture } from '../../runtime/tracing';

const SERVICE = SERVICE_NAMES.controller;
const config = configFromEnv('controller');

export const handler = withDurableExecution(createController({
  definition: config.definition,
  ports: controllerPorts(config, tracingCapture()),
  telemetry: new PowertoolsTelemetry(SERVICE),
  callbackBaseUrl: config.callbackBaseUrl!,
  stateRetentionDays: config.stateRetentionDays,
  approvalLinks: controllerApprovalLinks(config, tracingCapture()),
}));
