/**
 * Composes the runtime's AWS adapters from the configuration the DurableOrchestrator construct
 * gives its functions. Used by the bundled Lambda handlers only.
 *
 * What a function reads, and where it comes from:
 * - names and pointers from its environment ({@link ENV}): never the definition or the agent
 *   targets, which outgrow Lambda's 4 KB of environment;
 * - the definition document and the agent names from the configuration file of its layer, checked
 *   against the SHA-256 in its environment (so that a controller version runs exactly the file it
 *   was published with);
 * - each agent's dispatch target from an SSM parameter, when a task is dispatched (the controller).
 *
 * SDK clients a handler needs on every invocation are made when the module loads (Lambda gives the
 * init phase its full CPU); the ones only some paths need (ECS, SSM) are loaded on first use.
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { ENV, WORKFLOW_CONFIG_FILE, WorkflowConfigDocument } from '../contract/table';
import { AwsAgentDispatcher, DynamoWorkflowStore, EventBridgePublisher, S3ArtifactStore } from './adapters/aws';
import { SsmAgentTargets } from './adapters/aws/agent-targets';
import { LambdaDurableControl } from './durable/lambda-durable-control';
import type { RuntimePorts } from './ports';

/** Which handler reads the configuration: each needs (and is given) different settings. */
export type HandlerRole = 'controller' | 'api';

/** What the handlers need, read from their environment and their configuration file. */
export interface AwsRuntimeConfig {
  readonly tableName: string;
  readonly bucketName: string;
  readonly eventBusName: string;
  /** The controller's alias ARN (the API only: the controller never starts executions). */
  readonly controllerArn?: string;
  readonly definition: WorkflowDefinitionDocument;
  /** The agents the definition may dispatch to. */
  readonly agentNames: readonly string[];
  /** SSM path of the agents' targets (the controller only). */
  readonly agentTargetsPrefix?: string;
  /** Base URL agents report to (the controller only). */
  readonly callbackBaseUrl?: string;
  readonly stateRetentionDays: number;
  /** Path the API's routes are mounted under, '' for the root. */
  readonly apiBasePath: string;
  /** SHA-256 of the configuration file: which configuration this function runs. */
  readonly configSha256: string;
}

/** Reads the configuration file (a seam for tests). */
export type ReadConfigFile = (path: string) => string;

/** Reads and checks the configuration; every problem names the variable or file and how it is set. */
export function configFromEnv(
  role: HandlerRole,
  env: Record<string, string | undefined> = process.env,
  readFile: ReadConfigFile = (p) => readFileSync(p, 'utf8'),
): AwsRuntimeConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`environment variable ${name} is not set; it is set by the DurableOrchestrator construct`);
    return value;
  };
  const file = env[ENV.configFile] || WORKFLOW_CONFIG_FILE;
  const expected = required(ENV.configSha256).toLowerCase();
  let text: string;
  try {
    text = readFile(file);
  } catch (e) {
    throw new Error(`cannot read the workflow configuration ${file} (${(e as Error).message}); the DurableOrchestrator construct ` +
      'puts it in a layer of this function: deploy through the construct, or set ' + `${ENV.configFile} to the file`);
  }
  const actual = createHash('sha256').update(text, 'utf8').digest('hex');
  if (actual !== expected) {
    throw new Error(`the workflow configuration ${file} has SHA-256 ${actual}, but ${ENV.configSha256} says ${expected}: ` +
      'the function and its configuration layer come from different deployments; deploy the stack again');
  }
  const config = parseConfig(text, file);
  const retention = Number(env[ENV.stateRetentionDays] ?? '14');
  if (!Number.isInteger(retention) || retention < 1) {
    throw new Error(`environment variable ${ENV.stateRetentionDays} must be a whole number of days >= 1, got '${env[ENV.stateRetentionDays]}'`);
  }
  return {
    tableName: required(ENV.tableName),
    bucketName: required(ENV.bucketName),
    eventBusName: required(ENV.eventBusName),
    controllerArn: role === 'api' ? required(ENV.controllerArn) : undefined,
    definition: config.definition,
    agentNames: config.agentNames,
    agentTargetsPrefix: role === 'controller' ? required(ENV.agentTargetsPrefix) : undefined,
    callbackBaseUrl: role === 'controller' ? required(ENV.callbackBaseUrl) : undefined,
    stateRetentionDays: retention,
    apiBasePath: env[ENV.apiBasePath] ?? '',
    configSha256: actual,
  };
}

/**
 * The configuration document, checked for its shape only: the construct validated the definition
 * at synth, and the SHA-256 proves this is that file (a full validation would cost every cold start).
 */
export function parseConfig(text: string, file: string): WorkflowConfigDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`the workflow configuration ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const d = doc as Partial<WorkflowConfigDocument> | null;
  if (d === null || typeof d !== 'object' || d.configVersion !== 1) {
    throw new Error(`the workflow configuration ${file} is not a version 1 configuration document; ` +
      'this handler and the construct that wrote the file come from different releases of cdk-durable-agents');
  }
  const def = d.definition as Partial<WorkflowDefinitionDocument> | undefined;
  if (!def || typeof def.name !== 'string' || !Array.isArray(def.steps) || def.steps.length === 0) {
    throw new Error(`the workflow configuration ${file} has no definition with a name and steps`);
  }
  if (!Array.isArray(d.agentNames) || !d.agentNames.every((n) => typeof n === 'string')) {
    throw new Error(`the workflow configuration ${file} has no list of agent names`);
  }
  return d as WorkflowConfigDocument;
}

/** A module loaded when first needed (a static import would load it with the handler). */
function lazyRequire<T>(id: '@aws-sdk/client-ssm' | '@aws-sdk/client-ecs'): T {
  switch (id) {
    // Literal ids, so that a bundler sees them.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    case '@aws-sdk/client-ssm': return require('@aws-sdk/client-ssm') as T;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    case '@aws-sdk/client-ecs': return require('@aws-sdk/client-ecs') as T;
  }
}

/** Wraps each SDK client, e.g. to trace its calls; identity when tracing is off. */
export type CaptureClient = <T>(client: T) => T;

const noCapture: CaptureClient = (client) => client;

function documentClient(capture: CaptureClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(capture(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
}

/** The controller's ports: every adapter, with ECS and SSM loaded at the first dispatch that needs them. */
export function controllerPorts(config: AwsRuntimeConfig, capture: CaptureClient = noCapture): RuntimePorts {
  if (!config.agentTargetsPrefix) throw new Error('controllerPorts: the configuration has no agentTargetsPrefix (read it with role \'controller\')');
  const lambda = capture(new LambdaClient({}));
  return {
    store: new DynamoWorkflowStore({ client: documentClient(capture), tableName: config.tableName, retentionDays: config.stateRetentionDays }),
    artifacts: new S3ArtifactStore({ client: capture(new S3Client({})), bucket: config.bucketName }),
    events: new EventBridgePublisher({ client: capture(new EventBridgeClient({})), eventBusName: config.eventBusName }),
    dispatcher: new AwsAgentDispatcher({
      targets: new SsmAgentTargets({
        prefix: config.agentTargetsPrefix,
        agentNames: config.agentNames,
        client: async () => capture(new (lazyRequire<typeof import('@aws-sdk/client-ssm')>('@aws-sdk/client-ssm')).SSMClient({})),
      }),
      ecs: async () => capture(new (lazyRequire<typeof import('@aws-sdk/client-ecs')>('@aws-sdk/client-ecs')).ECSClient({})),
      lambda,
    }),
    durable: new LambdaDurableControl({ client: lambda }),
  };
}

/** The API's ports: state, artifacts (to check reported keys) and the durable execution APIs. */
export function apiPorts(config: AwsRuntimeConfig, capture: CaptureClient = noCapture): Pick<RuntimePorts, 'store' | 'artifacts' | 'durable'> {
  return {
    store: new DynamoWorkflowStore({ client: documentClient(capture), tableName: config.tableName, retentionDays: config.stateRetentionDays }),
    artifacts: new S3ArtifactStore({ client: capture(new S3Client({})), bucket: config.bucketName }),
    durable: new LambdaDurableControl({ client: capture(new LambdaClient({})), controllerArn: config.controllerArn }),
  };
}
