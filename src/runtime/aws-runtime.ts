/**
 * Composes the runtime's AWS adapters from the configuration the DurableOrchestrator construct
 * gives its functions. Used by the bundled Lambda handlers only.
 *
 * What a function reads, and where it comes from:
 * - names and pointers from its environment (`ENV`): never the definition or the agent
 *   targets, which outgrow Lambda's 4 KB of environment;
 * - the definition document and the agent names from the configuration file of its layer, checked
 *   against the SHA-256 in its environment (so that a controller version runs exactly the file it
 *   was published with);
 * - each agent's dispatch target from an SSM parameter, when a task is dispatched (the controller).
 *
 * Loading a handler loads none of the AWS SDK: each port is made on its first use (`lazy`),
 * and its SDK client with it, so a request loads only the clients it calls (the DynamoDB client for
 * a status read; ECS only for a dispatch to an ECS agent).
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApprovalLinkIssuer, CachedLinkKey, keyFromSecretString, LinkKeySource } from './approval-links';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { ENV, WORKFLOW_CONFIG_FILE, WorkflowConfigDocument } from '../contract/table';
import type * as AgentDispatcherModule from './adapters/aws/agent-dispatcher';
import type * as AgentTargetsModule from './adapters/aws/agent-targets';
import type * as ArtifactStoreModule from './adapters/aws/artifact-store';
import type * as EventPublisherModule from './adapters/aws/event-publisher';
import type * as WorkflowStoreModule from './adapters/aws/workflow-store';
import type * as LambdaDurableControlModule from './durable/lambda-durable-control';
import { lazy } from './lazy';
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
  /** Approval links (both functions): the secret holding the key; absent when links are off. */
  readonly approvalLinkSecretArn?: string;
  /** Base URL of approval links (the controller only, with approval links). */
  readonly approvalLinkBaseUrl?: string;
  /** Seconds an approval link stays valid (the controller only, with approval links). */
  readonly approvalLinkExpirySeconds?: number;
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
    ...approvalLinkConfig(role, env),
  };
}

/** The approval link settings of the environment: none when `APPROVAL_LINK_SECRET_ARN` is unset. */
function approvalLinkConfig(role: HandlerRole, env: Record<string, string | undefined>):
Pick<AwsRuntimeConfig, 'approvalLinkSecretArn' | 'approvalLinkBaseUrl' | 'approvalLinkExpirySeconds'> {
  const secretArn = env[ENV.approvalLinkSecretArn];
  if (!secretArn) return {};
  if (role !== 'controller') return { approvalLinkSecretArn: secretArn };
  const baseUrl = env[ENV.approvalLinkBaseUrl];
  if (!baseUrl) throw new Error(`environment variable ${ENV.approvalLinkBaseUrl} is not set (it comes with ${ENV.approvalLinkSecretArn}); it is set by the DurableOrchestrator construct`);
  const expiry = Number(env[ENV.approvalLinkExpirySeconds]);
  if (!Number.isInteger(expiry) || expiry < 1) {
    throw new Error(`environment variable ${ENV.approvalLinkExpirySeconds} must be a whole number of seconds >= 1, got '${env[ENV.approvalLinkExpirySeconds]}'`);
  }
  return { approvalLinkSecretArn: secretArn, approvalLinkBaseUrl: baseUrl, approvalLinkExpirySeconds: expiry };
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

/** Wraps each SDK client, e.g. to trace its calls; identity when tracing is off. */
export type CaptureClient = <T>(client: T) => T;

const noCapture: CaptureClient = (client) => client;

/*
 * The modules behind the ports, loaded when a port is first used. Literal ids, so that the bundler
 * includes them (each runs its top level, and requires its SDK client, only when first required).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const load = {
  store: () => require('./adapters/aws/workflow-store') as typeof WorkflowStoreModule,
  artifacts: () => require('./adapters/aws/artifact-store') as typeof ArtifactStoreModule,
  events: () => require('./adapters/aws/event-publisher') as typeof EventPublisherModule,
  dispatcher: () => require('./adapters/aws/agent-dispatcher') as typeof AgentDispatcherModule,
  targets: () => require('./adapters/aws/agent-targets') as typeof AgentTargetsModule,
  durable: () => require('./durable/lambda-durable-control') as typeof LambdaDurableControlModule,
  dynamodb: () => require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb'),
  documentClient: () => require('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb'),
  s3: () => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'),
  eventbridge: () => require('@aws-sdk/client-eventbridge') as typeof import('@aws-sdk/client-eventbridge'),
  lambda: () => require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda'),
  ecs: () => require('@aws-sdk/client-ecs') as typeof import('@aws-sdk/client-ecs'),
  ssm: () => require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm'),
  secrets: () => require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

function storePort(config: AwsRuntimeConfig, capture: CaptureClient): RuntimePorts['store'] {
  return lazy(() => {
    const client: DynamoDBClient = capture(new (load.dynamodb().DynamoDBClient)({}));
    return new (load.store().DynamoWorkflowStore)({
      client: load.documentClient().DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      tableName: config.tableName,
      retentionDays: config.stateRetentionDays,
    });
  });
}

function artifactsPort(config: AwsRuntimeConfig, capture: CaptureClient): RuntimePorts['artifacts'] {
  return lazy(() => {
    const client: S3Client = capture(new (load.s3().S3Client)({}));
    return new (load.artifacts().S3ArtifactStore)({ client, bucket: config.bucketName });
  });
}

/** The controller's ports: every adapter, each made (with its client) on first use. */
export function controllerPorts(config: AwsRuntimeConfig, capture: CaptureClient = noCapture): RuntimePorts {
  if (!config.agentTargetsPrefix) throw new Error('controllerPorts: the configuration has no agentTargetsPrefix (read it with role \'controller\')');
  const prefix = config.agentTargetsPrefix;
  let lambdaClient: LambdaClient | undefined;
  const lambda = () => (lambdaClient ??= capture(new (load.lambda().LambdaClient)({})));
  return {
    store: storePort(config, capture),
    artifacts: artifactsPort(config, capture),
    events: lazy(() => new (load.events().EventBridgePublisher)({
      client: capture(new (load.eventbridge().EventBridgeClient)({})),
      eventBusName: config.eventBusName,
    })),
    dispatcher: lazy(() => new (load.dispatcher().AwsAgentDispatcher)({
      targets: new (load.targets().SsmAgentTargets)({
        prefix,
        agentNames: config.agentNames,
        client: async () => capture(new (load.ssm().SSMClient)({})),
      }),
      ecs: async () => capture(new (load.ecs().ECSClient)({})),
      lambda: async () => lambda(),
    })),
    durable: lazy(() => new (load.durable().LambdaDurableControl)({ client: lambda() })),
  };
}

/** The API's ports: state, artifacts (to check reported keys) and the durable execution APIs. */
export function apiPorts(config: AwsRuntimeConfig, capture: CaptureClient = noCapture): Pick<RuntimePorts, 'store' | 'artifacts' | 'durable'> {
  return {
    store: storePort(config, capture),
    artifacts: artifactsPort(config, capture),
    durable: lazy(() => new (load.durable().LambdaDurableControl)({
      client: capture(new (load.lambda().LambdaClient)({})),
      controllerArn: config.controllerArn,
    })),
  };
}

/**
 * The approval link key of a Secrets Manager secret: read on first use (the client is made then),
 * kept for 5 minutes per container.
 */
export function secretLinkKey(secretArn: string, capture: CaptureClient = noCapture): LinkKeySource {
  let client: import('@aws-sdk/client-secrets-manager').SecretsManagerClient | undefined;
  return new CachedLinkKey(async () => {
    const sm = load.secrets();
    client ??= capture(new sm.SecretsManagerClient({}));
    const out = await client.send(new sm.GetSecretValueCommand({ SecretId: secretArn }));
    return keyFromSecretString(out.SecretString, secretArn);
  });
}

/** The API's approval links: the key to verify them with, or undefined when links are off. */
export function apiApprovalLinks(config: AwsRuntimeConfig, capture: CaptureClient = noCapture): { keys: LinkKeySource } | undefined {
  return config.approvalLinkSecretArn ? { keys: secretLinkKey(config.approvalLinkSecretArn, capture) } : undefined;
}

/** The controller's approval link issuer, or undefined when links are off. */
export function controllerApprovalLinks(config: AwsRuntimeConfig, capture: CaptureClient = noCapture): ApprovalLinkIssuer | undefined {
  if (!config.approvalLinkSecretArn) return undefined;
  return new ApprovalLinkIssuer({
    keys: secretLinkKey(config.approvalLinkSecretArn, capture),
    baseUrl: config.approvalLinkBaseUrl!,
    expirySeconds: config.approvalLinkExpirySeconds!,
  });
}
