/**
 * Integration test: seed 000 ("Terraform configuration for serverless durable agent
 * orchestration") rebuilt with the constructs, item by item.
 *
 * - the research workflow: researcher, analyst and writer as three `ContainerAgent`s on ECS
 *   Fargate (ARM64/Graviton), each built by CodeBuild from `agents/Dockerfile` into its own ECR
 *   repository (scan on push, lifecycle rules) — the seed's "Docker build automation", without
 *   Docker on the deploying machine;
 * - Bedrock access granted to exactly the reference model (the kit's default, through its global
 *   inference profile), nothing else;
 * - the orchestrator with the seed's variables: controller memory 1024 MiB and timeout 15 min,
 *   callback (API) memory 256 MiB, approval timeout 24 h, log retention 7 days, state retention 14
 *   days, a versioned artifact bucket moving to Infrequent Access after 90 days, X-Ray on;
 * - the seed's outputs: the API endpoint, the bucket, the table, the function and log group names
 *   and each agent's repository URI.
 *
 * The assertions start a workflow as seed 000's quick start does and expect the seed's answer
 * (`awaiting: "research_completion"`), wait until it waits for approval, approve it, wait until it
 * succeeds, and read the published report. Deploying it needs Bedrock access to the model in
 * us-east-1 (the agents call it for real) and takes about 15 minutes (three image builds).
 */
import * as path from 'path';
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { acknowledgeTestScaffolding, apiAnswer, apiEvent, approveAndReadReport, notifyOnCall, workflowIdFor } from './integ-helpers';
import { AgentCompute, AgentImage, AgentModel, ContainerAgent } from '../src/container-agent';
import { DurableOrchestrator } from '../src/durable-orchestrator';
import { flowLoggedVpc, publicAndPrivateSubnets } from '../src/private/vpc';
import { ReferenceWorkflows } from '../src/workflow';

/** The model the reference agents call by default (agents/kit), through its global inference profile. */
export const REFERENCE_MODEL = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';
const REPOSITORY_ROOT = path.join(__dirname, '..');

const app = new App();
const stack = new Stack(app, 'cdkda-seed-000');
notifyOnCall(stack); // every alarm of the stack emails the on-call address

// One network and one cluster for the three agents: private subnets, one NAT gateway, flow logs.
const vpc = flowLoggedVpc(stack, { subnetConfiguration: publicAndPrivateSubnets('agents'), natGateways: 1, flowLogRetention: logs.RetentionDays.ONE_WEEK });
const cluster = new ecs.Cluster(stack, 'Agents', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

const model = AgentModel.bedrockInferenceProfile(REFERENCE_MODEL);
const agent = (name: 'researcher' | 'analyst' | 'writer', id: string) => new ContainerAgent(stack, id, {
  agentName: name,
  // The reference agents' one Dockerfile, built from the repository root into the agent's own repository.
  image: AgentImage.fromDirectoryIntoNewRepository(REPOSITORY_ROOT, {
    file: 'agents/Dockerfile',
    buildArgs: { AGENT: name },
    maxImageCount: 10,
    removalPolicy: RemovalPolicy.DESTROY, // a test stack: nothing stays behind
    buildLogRetention: logs.RetentionDays.ONE_WEEK,
  }),
  compute: AgentCompute.fargate({ cluster, cpu: 512, memoryLimitMiB: 1024 }),
  models: [model],
  logRetention: logs.RetentionDays.ONE_WEEK,
});
const researcher = agent('researcher', 'Researcher');
const analyst = agent('analyst', 'Analyst');
const writer = agent('writer', 'Writer');

const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', {
  workflow: ReferenceWorkflows.researchReport({ researcher, analyst, writer, approvalTimeout: Duration.hours(24) }),
  agents: [researcher, analyst, writer],
  controllerMemoryMiB: 1024,
  controllerTimeout: Duration.minutes(15),
  apiMemoryMiB: 256,
  stateRetention: Duration.days(14),
  artifactVersioning: true,
  artifactTransitionAfter: Duration.days(90),
  tracing: true,
  logRetention: logs.RetentionDays.ONE_WEEK,
  removalPolicy: RemovalPolicy.DESTROY,
});
orchestrator.addOutputs({ outputIdPrefix: 'Seed' });
for (const a of [researcher, analyst, writer]) {
  new CfnOutput(stack, `${a.node.id}RepositoryUri`, {
    value: a.repository!.repositoryUri,
    description: `ECR repository of the ${a.agentName} agent (seed 000's ecr_repository_urls.${a.agentName})`,
  });
}

const integ = new IntegTest(app, 'Seed000', { testCases: [stack], regions: ['us-east-1'] });

const KEY = 'integ-seed-000-1';
const WORKFLOW_ID = workflowIdFor(KEY);
const api = orchestrator.apiFunction.functionName;
// Fargate tasks start in about a minute each, and the model writes three documents.
const poll = { totalTimeout: Duration.minutes(30), interval: Duration.seconds(30) };

// Seed 000's quick start, and its answer word for word.
const start = integ.assertions.invokeFunction({
  functionName: api,
  payload: apiEvent('POST', '/workflows', {
    topic: 'Impact of quantum computing on cryptography',
    parameters: { depth: 'comprehensive', sources: ['academic', 'industry'] },
  }, { 'idempotency-key': KEY }),
});
start.expect(apiAnswer(202, {
  status: 'PENDING',
  workflow_id: WORKFLOW_ID,
  awaiting: 'research_completion',
  message: 'Workflow suspended awaiting research completion',
}));

start.next(approveAndReadReport(integ, orchestrator, WORKFLOW_ID, { poll, comment: 'seed 000 integration test' }).first);

acknowledgeTestScaffolding(app);
app.synth();
