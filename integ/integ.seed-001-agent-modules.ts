/**
 * Integration test: seed 001 ("Terraform modules": a reusable Lambda module and a containerized
 * agent module) rebuilt with `ContainerAgent`, item by item.
 *
 * - a Lambda container agent (the reference researcher, ARM64/Graviton) with what the seed's
 *   Lambda module offers: a function URL (IAM auth), a scheduled invocation (a daily health
 *   check), reserved and provisioned concurrency (on the alias `live`), X-Ray tracing, VPC
 *   placement, and a secret read at start rather than held in an environment variable;
 * - a Fargate agent (the reference analyst, x86_64) with a secret injected by ECS;
 * - both images built by CodeBuild from `agents/Dockerfile` into the agent's own ECR repository:
 *   KMS-encrypted (a customer key with rotation), scan on push, lifecycle rules; the image URI is
 *   an output, as the seed's `module.agent.image_uri`;
 * - each agent may call one Bedrock model (an on-demand foundation model) and nothing else.
 *
 * A two-step workflow (research on the Lambda agent, analysis on the Fargate agent) proves that
 * the orchestrator starts both. The assertions invoke the Lambda agent's health check (through the
 * alias), then run the workflow to success.
 */
import * as path from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { acknowledgeTestScaffolding, apiAnswer, apiEvent, notifyOnCall, workflowIdFor } from './integ-helpers';
import { AgentArchitecture, AgentCompute, AgentImage, AgentModel, ContainerAgent } from '../src/container-agent';
import { DurableOrchestrator } from '../src/durable-orchestrator';
import { acknowledgeFindings } from '../src/private/nag';
import { flowLoggedVpc, publicAndPrivateSubnets } from '../src/private/vpc';
import { AgentStep, StepInput, WorkflowDefinition } from '../src/workflow';

const REPOSITORY_ROOT = path.join(__dirname, '..');
/** A small on-demand model: the agents' answers are short. */
const MODEL = 'amazon.nova-micro-v1:0';

const app = new App();
const stack = new Stack(app, 'cdkda-seed-001');
notifyOnCall(stack); // every alarm of the stack emails the on-call address

const vpc = flowLoggedVpc(stack, { subnetConfiguration: publicAndPrivateSubnets('agents'), natGateways: 1, flowLogRetention: logs.RetentionDays.ONE_WEEK });
const cluster = new ecs.Cluster(stack, 'Agents', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

// The seed's "Enable Encryption: use KMS for ECR repositories".
const imageKey = new kms.Key(stack, 'ImageKey', {
  description: 'Encrypts the agents\' ECR repositories (seed 001)',
  enableKeyRotation: true,
  removalPolicy: RemovalPolicy.DESTROY,
  pendingWindow: Duration.days(7),
});

// A secret the agents get without it ever being an environment variable's value.
const searchApiKey = new secretsmanager.Secret(stack, 'SearchApiKey', {
  description: 'An API key the agents read at start (seed 001: secrets in Secrets Manager, not env vars)',
  generateSecretString: { passwordLength: 40, excludePunctuation: true },
  removalPolicy: RemovalPolicy.DESTROY,
});
acknowledgeFindings(searchApiKey, [{
  id: 'AwsSolutions-SMG4',
  reason: 'A third-party API key: it is rotated where it is issued, not by a Secrets Manager rotation function.',
}]);

const image = (agent: string) => AgentImage.fromDirectoryIntoNewRepository(REPOSITORY_ROOT, {
  file: 'agents/Dockerfile',
  buildArgs: { AGENT: agent },
  encryptionKey: imageKey,
  maxImageCount: 5,
  removalPolicy: RemovalPolicy.DESTROY, // a test stack: nothing stays behind
  buildLogRetention: logs.RetentionDays.ONE_WEEK,
});

// The seed's Lambda module: URL, schedule, concurrency, tracing, VPC, ARM64.
const researcher = new ContainerAgent(stack, 'Researcher', {
  agentName: 'researcher',
  image: image('researcher'),
  architecture: AgentArchitecture.ARM64,
  compute: AgentCompute.lambdaFunction({
    memorySize: 1024,
    timeout: Duration.minutes(5),
    vpc,
    functionUrl: {},
    schedules: [{
      schedule: scheduler.ScheduleExpression.rate(Duration.days(1)),
      input: scheduler.ScheduleTargetInput.fromObject({ health_check: true }),
      description: 'Daily health check of the researcher agent',
    }],
    reservedConcurrentExecutions: 5,
    provisionedConcurrentExecutions: 1,
    secrets: { SEARCH_API_KEY: searchApiKey },
  }),
  models: [AgentModel.bedrock(MODEL)],
  logRetention: logs.RetentionDays.ONE_WEEK,
});

// The seed's agent module on Fargate, x86_64.
const analyst = new ContainerAgent(stack, 'Analyst', {
  agentName: 'analyst',
  image: image('analyst'),
  architecture: AgentArchitecture.X86_64,
  compute: AgentCompute.fargate({
    cluster,
    cpu: 512,
    memoryLimitMiB: 1024,
    secrets: { SEARCH_API_KEY: ecs.Secret.fromSecretsManager(searchApiKey) },
  }),
  models: [AgentModel.bedrock(MODEL)],
  logRetention: logs.RetentionDays.ONE_WEEK,
});

const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', {
  workflow: new WorkflowDefinition({
    workflowName: 'research-and-analysis',
    description: 'Research a topic on a Lambda agent, then analyse the findings on a Fargate agent.',
    steps: [
      new AgentStep({ stepName: 'research', agent: researcher, input: { topic: StepInput.fromWorkflowInput('topic') }, timeout: Duration.minutes(10) }),
      new AgentStep({ stepName: 'analysis', agent: analyst, input: { research: StepInput.fromArtifact('research', 'research') }, timeout: Duration.minutes(30) }),
    ],
  }),
  agents: [researcher, analyst],
  logRetention: logs.RetentionDays.ONE_WEEK,
  removalPolicy: RemovalPolicy.DESTROY,
});
orchestrator.addOutputs({ outputIdPrefix: 'Seed' });

// The seed's module outputs: image URIs, the function URL.
new CfnOutput(stack, 'ResearcherImageUri', { value: researcher.imageUri, description: 'Image of the researcher agent (seed 001: module.agent.image_uri)' });
new CfnOutput(stack, 'AnalystImageUri', { value: analyst.imageUri, description: 'Image of the analyst agent' });
new CfnOutput(stack, 'ResearcherFunctionUrl', { value: researcher.functionUrl!.url, description: 'Function URL of the researcher agent (IAM auth: sign requests)' });

const integ = new IntegTest(app, 'Seed001', { testCases: [stack], regions: ['us-east-1'] });

// The Lambda agent answers a health check through its alias: the model settings it was given are right.
const health = integ.assertions.invokeFunction({
  functionName: researcher.alias!.functionArn,
  payload: JSON.stringify({ health_check: true }),
});
health.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ status: 'ok', agent: 'researcher', model_provider: 'bedrock' })),
}));

const KEY = 'integ-seed-001-1';
const WORKFLOW_ID = workflowIdFor(KEY);
const api = orchestrator.apiFunction.functionName;

const start = integ.assertions.invokeFunction({
  functionName: api,
  payload: apiEvent('POST', '/workflows', { topic: 'Graviton for container workloads' }, { 'idempotency-key': KEY }),
});
start.expect(apiAnswer(202, { workflow_id: WORKFLOW_ID, awaiting: 'research_completion' }));

const succeeded = integ.assertions.invokeFunction({ functionName: api, payload: apiEvent('GET', `/workflows/${WORKFLOW_ID}`) });
succeeded.expect(apiAnswer(200, { workflow_id: WORKFLOW_ID, status: 'SUCCEEDED' })).waitForAssertions({ totalTimeout: Duration.minutes(20), interval: Duration.seconds(30) });

health.next(start).next(succeeded);

acknowledgeTestScaffolding(app);
app.synth();
