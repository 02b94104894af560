/**
 * Composes the runtime's AWS adapters from the environment the DurableOrchestrator construct
 * sets on its functions. Used by the bundled Lambda handlers only.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AgentTarget } from '../contract/agents';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { ENV } from '../contract/table';
import { validateDefinition } from '../contract/validate';
import { AwsAgentDispatcher, DynamoWorkflowStore, EventBridgePublisher, S3ArtifactStore } from './adapters/aws';
import { LambdaDurableControl } from './durable/lambda-durable-control';
import type { RuntimePorts } from './ports';

/** What the handlers need, read from their environment. */
export interface AwsRuntimeConfig {
  readonly tableName: string;
  readonly bucketName: string;
  readonly eventBusName: string;
  /** The controller's alias ARN (the API's environment only: the controller never starts executions). */
  readonly controllerArn?: string;
  readonly definition: WorkflowDefinitionDocument;
  readonly agents: Record<string, AgentTarget>;
  readonly callbackBaseUrl: string;
  readonly stateRetentionDays: number;
  /** Path the API's routes are mounted under, '' for the root. */
  readonly apiBasePath: string;
}

/** Reads and checks the configuration; every problem names the environment variable. */
export function configFromEnv(env: Record<string, string | undefined> = process.env): AwsRuntimeConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`environment variable ${name} is not set; it is set by the DurableOrchestrator construct`);
    return value;
  };
  const json = <T>(name: string): T => {
    try {
      return JSON.parse(required(name)) as T;
    } catch (e) {
      throw new Error(`environment variable ${name} is not valid JSON: ${(e as Error).message}`);
    }
  };
  const definition = json<WorkflowDefinitionDocument>(ENV.definition);
  const agents = json<Record<string, AgentTarget>>(ENV.agents);
  const problems = validateDefinition(definition, { knownAgents: Object.keys(agents) });
  if (problems.length > 0) {
    throw new Error(`the workflow definition in ${ENV.definition} is not valid:\n- ${problems.join('\n- ')}`);
  }
  const retention = Number(env[ENV.stateRetentionDays] ?? '14');
  if (!Number.isInteger(retention) || retention < 1) {
    throw new Error(`environment variable ${ENV.stateRetentionDays} must be a whole number of days >= 1, got '${env[ENV.stateRetentionDays]}'`);
  }
  return {
    tableName: required(ENV.tableName),
    bucketName: required(ENV.bucketName),
    eventBusName: required(ENV.eventBusName),
    controllerArn: env[ENV.controllerArn] || undefined,
    definition,
    agents,
    callbackBaseUrl: required(ENV.callbackBaseUrl),
    stateRetentionDays: retention,
    apiBasePath: env[ENV.apiBasePath] ?? '',
  };
}

/** The AWS adapters for every port, with X-Ray-traced SDK clients. */
export function awsPorts(config: AwsRuntimeConfig, tracer: Tracer): RuntimePorts {
  const traced = <T>(client: T): T => tracer.captureAWSv3Client(client);
  const dynamo = DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
  const lambda = traced(new LambdaClient({}));
  return {
    store: new DynamoWorkflowStore({ client: dynamo, tableName: config.tableName, retentionDays: config.stateRetentionDays }),
    artifacts: new S3ArtifactStore({ client: traced(new S3Client({})), bucket: config.bucketName }),
    events: new EventBridgePublisher({ client: traced(new EventBridgeClient({})), eventBusName: config.eventBusName }),
    dispatcher: new AwsAgentDispatcher({ targets: config.agents, ecs: traced(new ECSClient({})), lambda }),
    durable: new LambdaDurableControl({ client: lambda, controllerArn: config.controllerArn }),
  };
}
