/**
 * The durable controller (a Lambda durable function, always invoked through its alias).
 * Interprets the workflow definition of its environment; see src/runtime/controller.ts.
 */
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { awsPorts, configFromEnv } from '../../runtime/aws-runtime';
import { createController } from '../../runtime/controller';
import { PowertoolsTelemetry } from '../../runtime/telemetry';

const config = configFromEnv();
const tracer = new Tracer({ serviceName: 'durable-controller' });

export const handler = withDurableExecution(createController({
  definition: config.definition,
  ports: awsPorts(config, tracer),
  telemetry: new PowertoolsTelemetry('durable-controller'),
  callbackBaseUrl: config.callbackBaseUrl,
  stateRetentionDays: config.stateRetentionDays,
}));
