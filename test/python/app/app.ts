/**
 * The TypeScript twin of app.py: the same platform, construct for construct and prop for prop, so
 * that the two templates can be compared (test/python/run.sh, `npx projen test:python-app`).
 * Every construct of the library (and the imported forms of the API and the orchestrator), every
 * workflow step kind, and the interfaces a team implements itself (IWorkflowAgent,
 * IDispatchableAgent) are here; nothing needs Docker or the network at synth (images come from a
 * registry or an ECR repository), and the stack has a fixed account, region and zones.
 *
 *   TS_NODE_PROJECT=tsconfig.dev.json TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register test/python/app/app.ts <outdir>
 *
 * Keep it in step with app.py: a change to one without the other fails the comparison.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  AgentArchitecture, AgentCompute, AgentDispatch, AgentImage, AgentModel, AgentStep, AgentTarget, AlarmDestination, ApiAuthorization,
  ApiCanary, ApprovalStep, ApprovalTimeoutAction, ChoiceCase, ChoiceStep, ContainerAgent, DataTier, DataTierProfile,
  DurableOrchestrator, IDispatchableAgent, IWorkflowAgent, ParallelBranch, ParallelStep, PlatformDashboard, PublishStep, ReferenceWorkflows,
  RetryPolicy, SecureApi, ServiceCapacity, StepInput, WorkflowAgent, WorkflowDefinition, WorkflowInput,
} from '../../../src';

const NGINX = 'public.ecr.aws/nginx/nginx:stable-alpine';
const AGENT_BASE = 'public.ecr.aws/docker/library/python:3.12-slim';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

// The zones a lookup would find, given as cdk.context.json gives them: synth needs no AWS account.
const app = new App({
  outdir: process.argv[2] ?? 'cdk.out',
  context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: [`${REGION}a`, `${REGION}b`, `${REGION}c`] },
});
const stack = new Stack(app, 'DurableAgentsPlatform', { env: { account: ACCOUNT, region: REGION } });

// Monitoring: one key for the platform, every alarm to one encrypted email topic.
const key = new kms.Key(stack, 'PlatformKey', { enableKeyRotation: true, description: 'Platform data, logs and alarms' });
const oncall = AlarmDestination.email('oncall@example.com', { encryptionKey: key });

// Data tiers: a production one (three AZs) and an ephemeral scratch one.
const data = new DataTier(stack, 'Data', {
  profile: DataTierProfile.production(),
  maxAzs: 3,
  natGateways: 3,
  encryptionKey: key,
  alarmActions: oncall,
  alarms: { databaseCpu: { threshold: 70, evaluationPeriods: 3 }, cacheEvictions: { enabled: false } },
});
const scratch = new DataTier(stack, 'Scratch', { profile: DataTierProfile.ephemeral(), databaseName: 'scratch', natGateways: 1 });
const scratchJob = new lambda.Function(stack, 'ScratchJob', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ ok: true });'),
  vpc: scratch.vpc,
});
scratch.bindToFunction(scratchJob);

// The API: a Lambda route, a public service on the data tier, an internal service.
const api = new SecureApi(stack, 'Api', {
  vpc: data.vpc,
  authorization: ApiAuthorization.jwt({ issuer: 'https://issuer.example.com', audience: ['platform'] }),
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  logEncryptionKey: key,
  alarmActions: oncall,
  alarms: { latency: { threshold: 2000 } },
  healthCanary: true,
});
const items = new lambda.Function(stack, 'ItemsFunction', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "[]" });'),
});
api.addLambdaRoute('Items', {
  path: '/items',
  methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
  handler: items,
  authorization: ApiAuthorization.iam(),
});
const web = api.addService('Web', {
  image: ecs.ContainerImage.fromRegistry(NGINX),
  pathPrefix: '/web',
  containerPort: 8080,
  desiredCount: 2,
  maxCapacity: 4,
  capacity: ServiceCapacity.spot({ onDemandBase: 1 }),
  command: DataTier.connectionUrlCommand(['nginx', '-g', 'daemon off;']),
  environment: { ENGINE_HOST: 'engine' },
  routes: [{ path: '/web/admin', methods: [apigwv2.HttpMethod.POST], authorizationScopes: ['admin'] }],
  alarms: { cpuUtilization: { threshold: 85 } },
});
data.bindToContainer(web.taskDefinition.findContainer(web.containerName)!);
data.allowDefaultPortsFrom(web);
const engine = api.addInternalService('Engine', {
  image: ecs.ContainerImage.fromRegistry(NGINX),
  containerPort: 50051,
  discoveryName: 'engine',
  capacity: ServiceCapacity.onDemand(),
  healthCheck: { command: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:50051/health || exit 1'], interval: Duration.seconds(15) },
});
engine.connections.allowFrom(web, ec2.Port.tcp(50051), 'the web service calls the engine');

// Agents: Fargate from a registry, Lambda from an ECR repository, Lambda from a new repository.
const researcher = new ContainerAgent(stack, 'Researcher', {
  agentName: 'researcher',
  image: AgentImage.fromRegistry(AGENT_BASE),
  compute: AgentCompute.fargate({ vpc: data.vpc, cpu: 1024, memoryLimitMiB: 2048 }),
  models: [AgentModel.bedrock('anthropic.claude-3-5-sonnet-20240620-v1:0')],
  environment: { LOG_LEVEL: 'info' },
  localCommand: ['python3', 'agents/researcher/main.py'],
  logEncryptionKey: key,
  alarmActions: oncall,
});
const analystRepository = new ecr.Repository(stack, 'AnalystRepository', { imageScanOnPush: true });
const analyst = new ContainerAgent(stack, 'Analyst', {
  agentName: 'analyst',
  image: AgentImage.fromEcrRepository(analystRepository, 'v1'),
  compute: AgentCompute.lambdaFunction({ memorySize: 1024, timeout: Duration.minutes(5), reservedConcurrentExecutions: 5 }),
  architecture: AgentArchitecture.X86_64,
  models: [AgentModel.bedrockInferenceProfile('us.anthropic.claude-3-5-haiku-20241022-v1:0', { regions: ['us-east-1', 'us-west-2'] })],
  alarms: { errors: { threshold: 2 } },
});
const writer = new ContainerAgent(stack, 'Writer', {
  agentName: 'writer',
  image: AgentImage.fromNewRepository('v1', { maxImageCount: 5 }),
  compute: AgentCompute.lambdaFunction(),
  models: [AgentModel.openAiCompatible({ endpoint: 'https://models.example.com/v1', model: 'writer-large' })],
});

// A workflow with every step kind: agents (every kind of input, retries, heartbeats), parallel
// branches, a choice on a step's output, an approval, and a publish.
const pipeline = new WorkflowDefinition({
  workflowName: 'platform-pipeline',
  description: 'Research, analyse in parallel, route on the verdict, approve and publish.',
  // Declared inputs: every kind of field (POST /workflows refuses an input that does not match).
  inputs: {
    topic: WorkflowInput.text({ required: true, minLength: 1, maxLength: 500, description: 'What to research' }),
    parameters: WorkflowInput.objectOf({
      fields: {
        depth: WorkflowInput.text({ allowedValues: ['brief', 'standard', 'comprehensive'] }),
        sources: WorkflowInput.listOf({ items: WorkflowInput.text({ maxLength: 40 }), minItems: 1, maxItems: 5 }),
        budget: WorkflowInput.number({ minimum: 0.5, maximum: 100 }),
        reviewers: WorkflowInput.integer({ allowedValues: [1, 2, 3] }),
        draft: WorkflowInput.flag(),
      },
      additionalFields: true,
    }),
  },
  additionalInputs: false,
  steps: [
    new AgentStep({
      stepName: 'research',
      agent: researcher,
      input: {
        topic: StepInput.fromWorkflowInput('topic'),
        depth: StepInput.fromOptionalWorkflowInput('parameters.depth'),
        style: StepInput.literalString('brief'),
      },
      timeout: Duration.minutes(30),
      heartbeatTimeout: Duration.minutes(5),
      retry: RetryPolicy.exponential({ maxAttempts: 3, initialDelay: Duration.seconds(10), backoffRate: 2, maxDelay: Duration.minutes(2) }),
    }),
    new ParallelStep({
      stepName: 'analysis',
      branches: [
        new ParallelBranch({
          branchName: 'figures',
          steps: [new AgentStep({
            stepName: 'figures',
            agent: analyst,
            input: { research: StepInput.fromArtifact('research', 'research'), limit: StepInput.literalNumber(5) },
          })],
        }),
        new ParallelBranch({
          branchName: 'summary',
          steps: [new AgentStep({
            stepName: 'summary',
            agent: writer,
            input: { research: StepInput.fromArtifact('research', 'research'), strict: StepInput.literalBoolean(true) },
            retry: RetryPolicy.none(),
          })],
        }),
      ],
      maxConcurrency: 2,
      minSuccessful: 2,
    }),
    new ChoiceStep({
      stepName: 'route',
      value: StepInput.fromStepOutput('research', 'verdict'),
      cases: [
        ChoiceCase.whenString('publish', [
          new AgentStep({
            stepName: 'writing',
            agent: writer,
            input: { summary: StepInput.fromArtifact('summary', 'summary'), topic: StepInput.fromWorkflowInput('topic') },
          }),
        ]),
        ChoiceCase.whenNumber(0, []),
        ChoiceCase.whenBoolean(false, [
          new ApprovalStep({ stepName: 'override', prompt: 'The research found nothing: publish anyway?', onTimeout: ApprovalTimeoutAction.FAIL }),
        ]),
      ],
      otherwise: [
        new ApprovalStep({
          stepName: 'triage',
          prompt: 'The research has no verdict: go on?',
          timeout: Duration.hours(4),
          onTimeout: ApprovalTimeoutAction.APPROVE,
          continueOnRejection: true,
        }),
      ],
    }),
    new ApprovalStep({ stepName: 'approval', prompt: 'Approve the report for publication.', timeout: Duration.days(2) }),
    new PublishStep({ stepName: 'publish', artifact: StepInput.fromArtifact('summary', 'summary') }),
  ],
});

/**
 * A team's own dispatchable agent that hands the dispatch to a ContainerAgent (in app.py, jsii
 * calls it back in Python, which calls the library by the interface's parameter names).
 */
class DelegatingAgent implements IDispatchableAgent {
  constructor(private readonly inner: ContainerAgent) {}

  public get agentName(): string {
    return this.inner.agentName;
  }

  public bindDispatch(scope: Construct, dispatcher: iam.IGrantable): AgentDispatch {
    return this.inner.bindDispatch(scope, dispatcher);
  }
}

// An orchestrator with its own HTTP API, running the pipeline on the three container agents (the
// writer through a DelegatingAgent).
const platform = new DurableOrchestrator(stack, 'Pipeline', {
  workflow: pipeline,
  agents: [researcher, analyst, new DelegatingAgent(writer)],
  controllerMemoryMiB: 512,
  executionTimeout: Duration.days(7),
  stateRetention: Duration.days(30),
  tracing: true,
  dashboard: true,
  alarms: { workflowsFailed: { threshold: 2 }, stepDuration: { enabled: true, threshold: 600000 } },
  alarmActions: oncall,
});
const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
platform.grantStartWorkflow(operator);
platform.grantReadWorkflows(operator);
platform.grantApprove(operator);

// An orchestrator on the SecureApi, running the reference workflow on agent targets: two Lambda
// functions and an ECS task. The writer is named by an object that implements IWorkflowAgent.
const agentFunction = (id: string) => new lambda.Function(stack, id, {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({});'),
});
const cluster = new ecs.Cluster(stack, 'AgentCluster', { vpc: data.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
const writerTask = new ecs.FargateTaskDefinition(stack, 'WriterTask', { runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64 } });
writerTask.addContainer('agent', { image: ecs.ContainerImage.fromRegistry(AGENT_BASE) });
const reportWriter: IWorkflowAgent = { agentName: 'report-writer' };
const research = new DurableOrchestrator(stack, 'Research', {
  workflow: ReferenceWorkflows.researchReport({
    researcher: WorkflowAgent.named('lookup'),
    analyst: WorkflowAgent.named('crunch'),
    writer: reportWriter,
    approvalTimeout: Duration.hours(12),
  }),
  agents: [
    AgentTarget.lambdaFunction('lookup', agentFunction('LookupFunction')),
    AgentTarget.lambdaFunction('crunch', agentFunction('CrunchFunction')),
    AgentTarget.ecsTask('report-writer', { cluster, taskDefinition: writerTask }),
  ],
  api,
  apiBasePath: '/research',
  encryptionKey: key,
  alarmActions: oncall,
  statusCanary: true,
});

// Another team's API and orchestrator, imported: grants and a health canary on them.
const sharedApi = SecureApi.fromSecureApiAttributes(stack, 'SharedApi', { httpApiId: 'a1b2c3d4e5', url: 'https://api.example.com/' });
ApiCanary.forHealthRoute(stack, 'SharedApiHealthCanary', sharedApi, { alarmActions: oncall });
const sharedResearch = DurableOrchestrator.fromDurableOrchestratorAttributes(stack, 'SharedResearch', {
  httpApiId: 'f6g7h8i9j0',
  workflowName: 'research-report',
  apiBasePath: '/research',
});
sharedResearch.grantStartWorkflow(operator);
sharedResearch.grantReadWorkflows(operator);

// Failed workflows to a queue; a daily run.
const failedDlq = new sqs.Queue(stack, 'FailedWorkflowsDlq', { enforceSSL: true, encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key });
const failed = new sqs.Queue(stack, 'FailedWorkflows', {
  enforceSSL: true,
  encryption: sqs.QueueEncryption.KMS,
  encryptionMasterKey: key,
  deadLetterQueue: { queue: failedDlq, maxReceiveCount: 5 },
});
research.onWorkflowFailed('FailedToQueue', { target: new targets.SqsQueue(failed, { deadLetterQueue: failedDlq }) });
research.addSchedule('Daily', {
  schedule: scheduler.ScheduleExpression.cron({ hour: '6', minute: '0' }),
  input: JSON.stringify({ topic: 'Daily review', parameters: { depth: 'brief' } }),
  description: 'A research report every morning',
});

// Canaries of our own, the dashboard, and every alarm to the on-call topic.
ApiCanary.forWorkflowStatus(stack, 'PipelineStatusCanary', platform, { schedule: Duration.minutes(10), alarmActions: oncall });
new ApiCanary(stack, 'ItemsCanary', {
  url: api.url,
  path: '/items',
  expectedStatus: 401,
  schedule: Duration.minutes(15),
  alarms: { failed: { threshold: 2 } },
  artifactsEncryptionKey: key,
});
new PlatformDashboard(stack, 'Dashboard', { dashboardName: 'durable-agents-platform', period: Duration.minutes(5) });
oncall.notifyAlarmsIn(stack);

app.synth();
