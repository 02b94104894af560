import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SECRETS_ENV as KIT_SECRETS_ENV } from '../../agents/kit/src/secrets';
import {
  AgentArchitecture, AgentCompute, AgentImage, AgentModel, AgentModelProvider, ContainerAgent, ContainerAgentProps,
} from '../../src/container-agent';
import { AGENT_SECRETS_ENV, secretArnEnv } from '../../src/contract/agents';
import { DurableOrchestrator } from '../../src/durable-orchestrator';
import { AlarmDestination } from '../../src/monitoring';
import { ReferenceWorkflows } from '../../src/workflow';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';

const dockerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-image-'));
fs.writeFileSync(path.join(dockerDir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/node:22-alpine\nUSER node\n');

function agentStack(props: Partial<ContainerAgentProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const agent = new ContainerAgent(stack, 'Researcher', { agentName: 'researcher', image: AgentImage.fromDirectory(dockerDir), ...props });
  return { app, stack, agent, template: () => Template.fromStack(stack) };
}

describe('ContainerAgent on Fargate (default)', () => {
  const { stack, agent, template } = agentStack({ environment: { LOG_LEVEL: 'info' }, localCommand: ['node', 'dist/main.js'] });
  const t = template();

  test('an ARM64 Fargate task definition with the agent container, its logs and a read-only root', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '1024',
      Memory: '2048',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [Match.objectLike({
        Name: 'researcher',
        ReadonlyRootFilesystem: true,
        Environment: Match.arrayWith([{ Name: 'AGENT_NAME', Value: 'researcher' }, { Name: 'LOG_LEVEL', Value: 'info' }]),
        LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        MountPoints: [{ ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false }],
      })],
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('its own cluster with Container Insights, in a new VPC with flow logs, and an outbound-only security group', () => {
    t.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    t.resourceCountIs('AWS::EC2::FlowLog', 1);
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    const groups = Object.values(t.findResources('AWS::EC2::SecurityGroup'));
    expect(groups).toHaveLength(1);
    expect(groups[0].Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('the image is built for ARM64 at deploy time', () => {
    const { app } = agentStack();
    const assembly = app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Test.assets.json'), 'utf-8'));
    expect(Object.values<any>(manifest.dockerImages).map((i) => i.source.platform)).toEqual(['linux/arm64']);
  });

  test('the task role starts empty', () => {
    const roles = t.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })] } } });
    const taskRole = Object.entries(roles).find(([id]) => id.startsWith('ResearcherTaskRole'))!;
    expect(taskRole[1].Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.entries(t.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('ResearcherTaskRole'));
    expect(policies).toEqual([]);
  });

  test('exposes what the orchestrator needs, connections and grantPrincipal', () => {
    expect(agent.computeKind).toBe('fargate');
    expect(agent.taskDefinition).toBeDefined();
    expect(agent.cluster).toBeDefined();
    expect(agent.function).toBeUndefined();
    expect(agent.connections.securityGroups).toHaveLength(1);
    expect(agent.localCommand).toEqual(['node', 'dist/main.js']);
    expect(agent.grantPrincipal).toBe(agent.taskDefinition!.taskRole);
  });

  test('matches the snapshot (asset hashes masked)', () => {
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});

describe('ContainerAgent on Lambda', () => {
  test('an ARM64 container function with JSON logs, tracing and no automatic retries', () => {
    const { template } = agentStack({ compute: AgentCompute.lambdaFunction({ memorySize: 1024, timeout: Duration.minutes(5) }) });
    template().hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 300,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
    template().hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  test('x86 when asked', () => {
    const { template } = agentStack({ compute: AgentCompute.lambdaFunction(), architecture: AgentArchitecture.X86_64 });
    template().hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'] });
  });

  test('a Lambda agent outside a VPC has no connections, and says so', () => {
    const { agent } = agentStack({ compute: AgentCompute.lambdaFunction() });
    expect(() => agent.connections).toThrow(/Lambda agent outside a VPC and has no connections/);
  });
});

describe('image sources', () => {
  test('from an ECR repository and tag', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'agents/writer');
    new ContainerAgent(stack, 'Writer', { agentName: 'writer', image: AgentImage.fromEcrRepository(repo, 'v1.2.3') });
    const def = Object.values<any>(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'))[0];
    expect(JSON.stringify(def.Properties.ContainerDefinitions[0].Image)).toContain('agents/writer:v1.2.3');
  });

  test('from a registry, with credentials', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const secret = new secretsmanager.Secret(stack, 'RegistryCreds');
    new ContainerAgent(stack, 'Writer', { agentName: 'writer', image: AgentImage.fromRegistry('ghcr.io/acme/writer:1.0', secret) });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Image: 'ghcr.io/acme/writer:1.0', RepositoryCredentials: Match.anyValue() })],
    });
  });

  test('a new repository: scan on push, immutable tags, lifecycle rules', () => {
    const { agent, template } = agentStack({ image: AgentImage.fromNewRepository('v1', { maxImageCount: 5 }) });
    expect(agent.repository).toBeDefined();
    template().hasResourceProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":5') },
    });
  });

  test('a new repository is retained by default, and destroyed with its images when asked', () => {
    const kept = agentStack({ image: AgentImage.fromNewRepository('v1') }).template();
    kept.hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    kept.hasResourceProperties('AWS::ECR::Repository', { EmptyOnDelete: Match.absent() });
    const thrownAway = agentStack({ image: AgentImage.fromNewRepository('v1', { removalPolicy: RemovalPolicy.DESTROY }) }).template();
    // A repository that holds images cannot be deleted: CloudFormation empties it first.
    thrownAway.hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ EmptyOnDelete: true }) });
  });
});

describe('with a DurableOrchestrator', () => {
  test('the orchestrator may run exactly these tasks, and each agent gets its own prefix and the callback route', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const image = AgentImage.fromDirectory(dockerDir);
    const agents = ['researcher', 'analyst', 'writer'].map((n) => new ContainerAgent(stack, n, {
      agentName: n, image, compute: n === 'analyst' ? AgentCompute.lambdaFunction() : AgentCompute.fargate({ cluster }), localCommand: ['node', `${n}.js`],
    }));
    new DurableOrchestrator(stack, 'Orchestrator', {
      workflow: ReferenceWorkflows.researchReport({ researcher: agents[0], analyst: agents[1], writer: agents[2] }),
      agents,
    });
    const t = Template.fromStack(stack);
    const controller = Object.values<any>(t.findResources('AWS::Lambda::Function', { Properties: { DurableConfig: Match.anyValue() } }))[0];
    expect(controller.Metadata['cdk-durable-agents'].agents).toEqual({
      researcher: { kind: 'ecs', localCommand: ['node', 'researcher.js'] },
      analyst: { kind: 'lambda', localCommand: ['node', 'analyst.js'] },
      writer: { kind: 'ecs', localCommand: ['node', 'writer.js'] },
    });
    const policies = Object.entries(t.findResources('AWS::IAM::Policy'));
    const writerPolicy = JSON.stringify(policies.filter(([id]) => id.startsWith('writerTaskRole')).map(([, p]) => p));
    expect(writerPolicy).toContain('/agents/writer/*');
    expect(writerPolicy).not.toContain('/agents/researcher/*"');
    expect(writerPolicy).toContain('POST/callbacks/*');
    const controllerPolicy = JSON.stringify(policies.filter(([id]) => id.startsWith('OrchestratorControllerRole')).map(([, p]) => p));
    expect(controllerPolicy).toContain('ecs:RunTask');
    expect(controllerPolicy).toContain('iam:PassRole');
    expect(controllerPolicy).toContain('lambda:InvokeFunction');
    expect(unacknowledgedNagFindings(app).filter((f) => !f.path.startsWith('Test/Vpc') && !f.path.startsWith('Test/Cluster'))).toEqual([]);
  });
});

describe('cdk-nag', () => {
  test.each([
    ['fargate', AgentCompute.fargate()],
    ['lambda', AgentCompute.lambdaFunction()],
  ])('%s agent: no unacknowledged findings', (_name, compute) => {
    const { app } = agentStack({ compute, logRetention: logs.RetentionDays.ONE_WEEK });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });
});

describe('validation', () => {
  test.each([
    ['a bad agent name', () => agentStack({ agentName: 'no spaces' }), /agentName 'no spaces' must start with a letter/],
    ['an empty local command', () => agentStack({ localCommand: [] }), /localCommand is empty/],
    ['TASK_ENVELOPE in environment', () => agentStack({ environment: { TASK_ENVELOPE: 'x' } }), /must not set TASK_ENVELOPE/],
    ['a registry image on Lambda', () => agentStack({ image: AgentImage.fromRegistry('nginx:1'), compute: AgentCompute.lambdaFunction() }), /a Lambda agent needs an image in ECR/],
    ['a bad image name', () => AgentImage.fromRegistry('not an image'), /is not an image name/],
    ['fargate cpu', () => AgentCompute.fargate({ cpu: 300 }), /cpu must be one of 256, 512/],
    ['fargate memory', () => AgentCompute.fargate({ memoryLimitMiB: 100 }), /^AgentCompute.fargate: memoryLimitMiB \(memory_limit_mib in Python\) is 100; it must be a whole number from 512 to 122880: Fargate takes/],
    ['lambda timeout', () => AgentCompute.lambdaFunction({ timeout: Duration.minutes(20) }),
      /^AgentCompute.lambdaFunction: timeout is 20 minutes; one invocation of a Lambda function must be between 1 second and 15 minutes: use AgentCompute.fargate\(\) for longer work$/],
    ['lambda timeout not whole seconds', () => AgentCompute.lambdaFunction({ timeout: Duration.millis(2500) }), /timeout is 2.5 seconds, not a whole number of seconds/],
    ['lambda memory', () => AgentCompute.lambdaFunction({ memorySize: 64 }), /^AgentCompute.lambdaFunction: memorySize \(memory_size in Python\) is 64; it must be a whole number from 128 to 10240 MiB/],
    ['lambda memory not whole', () => AgentCompute.lambdaFunction({ memorySize: 512.5 }), /memorySize \(memory_size in Python\) is 512.5; it must be a whole number/],
    ['lambda subnets without vpc', () => AgentCompute.lambdaFunction({ vpcSubnets: {} }), /vpcSubnets needs vpc/],
    ['repository image count', () => AgentImage.fromNewRepository('v1', { maxImageCount: 0 }), /^AgentImage.fromNewRepository: maxImageCount \(max_image_count in Python\) is 0; it must be a whole number from 1 to 10000: an ECR lifecycle rule keeps/],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('cluster and vpc together are a conflict', () => {
    const stack = new Stack();
    const vpc = new ec2.Vpc(stack, 'V');
    expect(() => AgentCompute.fargate({ vpc, cluster: new ecs.Cluster(stack, 'C', { vpc }) })).toThrow(/give cluster or vpc, not both/);
  });
});

/** An agent in a stack with a concrete environment, so that ARNs are plain strings. */
function envAgent(props: Partial<ContainerAgentProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const agent = new ContainerAgent(stack, 'Researcher', { agentName: 'researcher', image: AgentImage.fromDirectory(dockerDir), ...props });
  return { app, stack, agent, template: () => Template.fromStack(stack) };
}

/** `value` with each ARN that is only `arn:` + the partition + a literal rest written as one string (`arn:aws...`). */
function withPartition<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(/\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},"([^"]*)"\]\]\}/g, '"arn:aws$1"'));
}

/** Every statement of the IAM policies whose logical id starts with `prefix` (ARNs `withPartition`). */
function statementsOf(t: Template, prefix: string): any[] {
  return withPartition(Object.entries(t.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(prefix))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]));
}

/** The statements that grant `action`. */
function granting(statements: any[], action: string): any[] {
  return statements.filter((st) => [st.Action].flat().includes(action));
}

/** The environment of the agent's container (Fargate) or function (Lambda), as a map. */
function environmentOf(t: Template): Record<string, unknown> {
  const fn = Object.values<any>(t.findResources('AWS::Lambda::Function'))[0];
  if (fn) return fn.Properties.Environment.Variables;
  const def = Object.values<any>(t.findResources('AWS::ECS::TaskDefinition'))[0];
  return Object.fromEntries(def.Properties.ContainerDefinitions[0].Environment.map((e: any) => [e.Name, e.Value]));
}

const SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const apiKeyArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:llm/api-key-AbCdEf';

describe('model access', () => {
  test('a Bedrock foundation model: invoke and stream on exactly that model, and the agent\'s settings', () => {
    const { template, agent } = envAgent({ models: [AgentModel.bedrock('amazon.nova-pro-v1:0')] });
    const t = template();
    const invoke = granting(statementsOf(t, 'ResearcherTaskRole'), 'bedrock:InvokeModel');
    expect(invoke).toEqual([{
      Effect: 'Allow',
      Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      Resource: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0',
    }]);
    expect(environmentOf(t)).toMatchObject({ AGENT_MODEL_PROVIDER: 'bedrock', BEDROCK_MODEL_ID: 'amazon.nova-pro-v1:0' });
    expect(environmentOf(t).AGENT_SECRETS).toBeUndefined();
    expect(agent.grantPrincipal).toBe(agent.taskDefinition!.taskRole);
  });

  test('a geographic inference profile: the profile, and its model in any region but only through that profile', () => {
    const { app, template } = envAgent({ models: [AgentModel.bedrockInferenceProfile(`us.${SONNET}`)] });
    const nag = unacknowledgedNagFindings(app);
    const invoke = granting(statementsOf(template(), 'ResearcherTaskRole'), 'bedrock:InvokeModel');
    const profileArn = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.${SONNET}`;
    expect(invoke).toEqual([
      { Effect: 'Allow', Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], Resource: profileArn },
      {
        Effect: 'Allow',
        Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        Resource: `arn:aws:bedrock:*::foundation-model/${SONNET}`,
        Condition: { StringEquals: { 'bedrock:InferenceProfileArn': profileArn } },
      },
    ]);
    expect(environmentOf(template())).toMatchObject({ AGENT_MODEL_PROVIDER: 'bedrock', BEDROCK_MODEL_ID: `us.${SONNET}` });
    // The region wildcard is acknowledged, with its reason in the template.
    expect(nag.filter((f) => !f.path.startsWith('Test/Researcher/Cluster'))).toEqual([]);
    const policy = Object.entries(template().findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('ResearcherTaskRole'))![1];
    expect(JSON.stringify(policy.Metadata)).toContain(`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${SONNET}]`);
    expect(JSON.stringify(policy.Metadata)).toContain('only through this one profile');
  });

  test('a geographic inference profile with its regions: the model in exactly those and the agent\'s own', () => {
    const { template } = envAgent({ models: [AgentModel.bedrockInferenceProfile(`eu.${SONNET}`, { regions: ['eu-west-1', 'eu-central-1'] })] });
    const invoke = granting(statementsOf(template(), 'ResearcherTaskRole'), 'bedrock:InvokeModel');
    expect(invoke[1].Resource).toEqual(['us-east-1', 'eu-west-1', 'eu-central-1'].map((r) => `arn:aws:bedrock:${r}::foundation-model/${SONNET}`));
    expect(JSON.stringify(invoke)).not.toContain('*');
  });

  test('a global inference profile: the model in the agent\'s region and the region-less global model, no wildcard', () => {
    const { template } = envAgent({ models: [AgentModel.bedrockInferenceProfile(`global.${SONNET}`)] });
    const invoke = granting(statementsOf(template(), 'ResearcherTaskRole'), 'bedrock:InvokeModel');
    expect(invoke[0].Resource).toBe(`arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.${SONNET}`);
    expect(invoke[1].Resource).toEqual([`arn:aws:bedrock:us-east-1::foundation-model/${SONNET}`, `arn:aws:bedrock:::foundation-model/${SONNET}`]);
    expect(invoke[1].Condition).toEqual({ StringEquals: { 'bedrock:InferenceProfileArn': invoke[0].Resource } });
  });

  test('an OpenAI-compatible endpoint: read of its key secret only, and the endpoint, model and secret ARN in the environment', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', apiKeyArn);
    const model = AgentModel.openAiCompatible({ endpoint: 'https://llm.example.com/v1', model: 'gpt-4.1-mini', apiKey });
    expect(model.provider).toBe(AgentModelProvider.OPENAI_COMPATIBLE);
    new ContainerAgent(stack, 'Researcher', { agentName: 'researcher', image: AgentImage.fromDirectory(dockerDir), compute: AgentCompute.lambdaFunction(), models: [model] });
    const t = Template.fromStack(stack);
    expect(environmentOf(t)).toEqual({
      AGENT_NAME: 'researcher',
      AGENT_MODEL_PROVIDER: 'openai',
      OPENAI_BASE_URL: 'https://llm.example.com/v1',
      OPENAI_MODEL: 'gpt-4.1-mini',
      OPENAI_API_KEY_SECRET_ARN: apiKeyArn,
      AGENT_SECRETS: 'OPENAI_API_KEY',
    });
    const statements = statementsOf(t, 'ResearcherRole');
    expect(granting(statements, 'secretsmanager:GetSecretValue')).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: apiKeyArn },
    ]);
    expect(JSON.stringify(statements)).not.toContain('bedrock:');
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('an OpenAI-compatible endpoint without a key grants nothing and sets no secret', () => {
    const { template } = envAgent({
      compute: AgentCompute.lambdaFunction(),
      models: [AgentModel.openAiCompatible({ endpoint: 'http://vllm.internal:8000/v1', model: 'qwen3' })],
    });
    const env = environmentOf(template());
    expect(env).toMatchObject({ AGENT_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://vllm.internal:8000/v1', OPENAI_MODEL: 'qwen3' });
    expect(env.AGENT_SECRETS).toBeUndefined();
    expect(granting(statementsOf(template(), 'ResearcherRole'), 'secretsmanager:GetSecretValue')).toEqual([]);
  });

  test('the first model sets the environment, the user\'s environment wins variable by variable, every model is granted', () => {
    const { template, agent } = envAgent({
      environment: { AGENT_MODEL_PROVIDER: 'offline' },
      models: [AgentModel.bedrock('amazon.nova-pro-v1:0'), AgentModel.bedrock('amazon.nova-lite-v1:0')],
    });
    const grant = agent.grantModelAccess(AgentModel.bedrock('amazon.nova-micro-v1:0'));
    expect(grant.success).toBe(true);
    const t = template();
    expect(environmentOf(t)).toMatchObject({ AGENT_MODEL_PROVIDER: 'offline', BEDROCK_MODEL_ID: 'amazon.nova-pro-v1:0' });
    const resources = granting(statementsOf(t, 'ResearcherTaskRole'), 'bedrock:InvokeModel').flatMap((st) => [st.Resource].flat());
    expect(resources).toEqual(['nova-pro', 'nova-lite', 'nova-micro'].map((m) => `arn:aws:bedrock:us-east-1::foundation-model/amazon.${m}-v1:0`));
  });

  test('a model granted to a Lambda agent goes to its function role; nothing unacknowledged', () => {
    const { app, template } = envAgent({ compute: AgentCompute.lambdaFunction(), models: [AgentModel.bedrockInferenceProfile(`us.${SONNET}`)] });
    expect(granting(statementsOf(template(), 'ResearcherRole'), 'bedrock:InvokeModel')).toHaveLength(2);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test.each([
    ['a profile id given as a model', () => AgentModel.bedrock(`us.${SONNET}`), /modelId 'us\.anthropic.* is a cross-region inference profile .*use AgentModel\.bedrockInferenceProfile/],
    ['an ARN given as a model', () => AgentModel.bedrock(`arn:aws:bedrock:us-east-1::foundation-model/${SONNET}`), /modelId 'arn:aws:bedrock.*' is an ARN; give the id alone/],
    ['a model id without a provider', () => AgentModel.bedrock('claude'), /modelId 'claude' is not a Bedrock model id; give '<provider>\.<model>'/],
    ['a model id given as a profile', () => AgentModel.bedrockInferenceProfile(SONNET), /profileId 'anthropic\..*' is not an inference profile id/],
    ['an ARN given as a profile', () => AgentModel.bedrockInferenceProfile(`arn:aws:bedrock:us-east-1:1:inference-profile/us.${SONNET}`), /profileId 'arn:.*' is an ARN/],
    ['regions for a global profile', () => AgentModel.bedrockInferenceProfile(`global.${SONNET}`, { regions: ['us-east-1'] }), /regions is set for the global profile .*leave regions unset/],
    ['empty regions', () => AgentModel.bedrockInferenceProfile(`us.${SONNET}`, { regions: [] }), /regions is empty; list the regions the profile routes to/],
    ['a bad region', () => AgentModel.bedrockInferenceProfile(`us.${SONNET}`, { regions: ['us-east'] }), /regions holds 'us-east', which is not a region name/],
    ['a bad endpoint', () => AgentModel.openAiCompatible({ endpoint: 'llm.example.com', model: 'm' }), /endpoint 'llm\.example\.com' is not an http\(s\) URL/],
    ['a key over plain http', () => AgentModel.openAiCompatible({
      endpoint: 'http://llm.example.com/v1', model: 'm', apiKey: secretsmanager.Secret.fromSecretCompleteArn(new Stack(), 'K', apiKeyArn),
    }), /endpoint 'http:\/\/llm\.example\.com\/v1' is plain http and an apiKey is given.*use an https endpoint/],
    ['an empty model name', () => AgentModel.openAiCompatible({ endpoint: 'https://llm.example.com/v1', model: ' ' }), /model is empty; give the model name the endpoint serves/],
  ])('refuses %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('refuses a profile id that is a token', () => {
    const stack = new Stack();
    const id = new CfnParameter(stack, 'Profile').valueAsString;
    expect(() => AgentModel.bedrockInferenceProfile(id)).toThrow(/profileId must be a literal string/);
  });
});

describe('Lambda agent features', () => {
  test('a function URL with IAM auth by default', () => {
    const { agent, stack, template } = envAgent({ compute: AgentCompute.lambdaFunction({ functionUrl: {} }) });
    template().hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ResearcherFunction'), 'Arn'] } });
    expect(agent.functionUrl).toBeDefined();
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('auth type NONE'))).toEqual([]);
  });

  test('a public function URL only when asked, with a synth warning', () => {
    const { stack, template } = envAgent({ compute: AgentCompute.lambdaFunction({ functionUrl: { authType: lambda.FunctionUrlAuthType.NONE } }) });
    template().hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    Annotations.fromStack(stack).hasWarning('/Test/Researcher', Match.stringLikeRegexp('function URL of agent researcher has auth type NONE'));
  });

  test('no function URL, alias or schedule unless asked', () => {
    const { agent, template } = envAgent({ compute: AgentCompute.lambdaFunction() });
    const t = template();
    for (const type of ['AWS::Lambda::Url', 'AWS::Lambda::Alias', 'AWS::Scheduler::Schedule']) t.resourceCountIs(type, 0);
    expect(agent.functionUrl).toBeUndefined();
    expect(agent.alias).toBeUndefined();
    expect(agent.schedules).toEqual([]);
  });

  test('schedules: EventBridge Scheduler invokes the function with each input, through a role only Scheduler of this account assumes', () => {
    const { app, agent, template } = envAgent({
      compute: AgentCompute.lambdaFunction({
        schedules: [
          { schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)), input: scheduler.ScheduleTargetInput.fromObject({ topic: 'hourly' }), description: 'hourly digest' },
          { schedule: scheduler.ScheduleExpression.expression('cron(0 6 * * ? *)'), enabled: false },
        ],
      }),
    });
    const nag = unacknowledgedNagFindings(app);
    const t = template();
    expect(agent.schedules).toHaveLength(2);
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Description: 'hourly digest',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ResearcherFunction'), 'Arn'] }, Input: '{"topic":"hourly"}' }),
    });
    t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 6 * * ? *)', State: 'DISABLED' });
    const role = Object.entries(t.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('ResearcherScheduleRole'))![1];
    expect(withPartition(role.Properties.AssumeRolePolicyDocument.Statement)).toEqual([{
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: 'scheduler.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': 'arn:aws:scheduler:us-east-1:123456789012:schedule-group/default' } },
    }]);
    const invoke = granting(statementsOf(t, 'ResearcherScheduleRole'), 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0].Resource)).toMatch(/ResearcherFunction.*ResearcherFunction.*:\*/);
    expect(nag).toEqual([]);
  });

  test('reserved and provisioned concurrency: an alias live that the orchestrator, the URL and the schedules invoke', () => {
    const { app, stack, agent, template } = envAgent({
      compute: AgentCompute.lambdaFunction({
        reservedConcurrentExecutions: 10,
        provisionedConcurrentExecutions: 2,
        functionUrl: {},
        schedules: [{ schedule: scheduler.ScheduleExpression.rate(Duration.days(1)) }],
      }),
    });
    const dispatcher = new iam.Role(stack, 'Dispatcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const target = agent.bindDispatch(stack, dispatcher)._renderTarget() as { type: string; functionArn: string };
    const nag = unacknowledgedNagFindings(app);
    const t = template();
    t.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 10 });
    t.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    const aliasId = Object.keys(t.findResources('AWS::Lambda::Alias'))[0];
    expect(agent.alias).toBeDefined();
    expect(stack.resolve(target.functionArn)).toEqual({ Ref: aliasId });
    expect(granting(statementsOf(t, 'Dispatcher'), 'lambda:InvokeFunction')).toEqual([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { Ref: aliasId } }]);
    // Asynchronous invokes of the alias do not retry either (the setting is per qualifier).
    const invokeConfigs = t.findResources('AWS::Lambda::EventInvokeConfig');
    expect(Object.keys(invokeConfigs).map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['ResearcherFunctionEventInvokeConfig', 'ResearcherLiveEventInvokeConfig']);
    expect(Object.values<any>(invokeConfigs).map((c) => c.Properties.MaximumRetryAttempts)).toEqual([0, 0]);
    t.hasResourceProperties('AWS::Lambda::Url', { Qualifier: 'live', TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ResearcherFunction'), 'Arn'] } });
    t.hasResourceProperties('AWS::Scheduler::Schedule', { Target: Match.objectLike({ Arn: { Ref: aliasId } }) });
    expect(granting(statementsOf(t, 'ResearcherScheduleRole'), 'lambda:InvokeFunction')[0].Resource).toEqual({ Ref: aliasId });
    expect(nag.filter((f) => !f.path.startsWith('Test/Dispatcher'))).toEqual([]);
  });

  test('tracing: active by default, as given otherwise; turned off, the Serverless pack says so (it is the user\'s call)', () => {
    const passThrough = envAgent({ compute: AgentCompute.lambdaFunction({ tracing: lambda.Tracing.PASS_THROUGH }) });
    passThrough.template().hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'PassThrough' } });
    const disabled = envAgent({ compute: AgentCompute.lambdaFunction({ tracing: lambda.Tracing.DISABLED }) });
    const nag = unacknowledgedNagFindings(disabled.app);
    const fn = Object.values<any>(disabled.template().findResources('AWS::Lambda::Function'))[0];
    expect(fn.Properties.TracingConfig).toBeUndefined();
    expect(JSON.stringify(statementsOf(disabled.template(), 'ResearcherRole'))).not.toContain('xray:');
    expect(nag.map((f) => f.rule)).toEqual(['Serverless-LambdaTracing']);
  });

  test('secrets: read of exactly those secrets, their ARNs and names in the environment', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
    const tokenArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:github/token-XyZ123';
    const github = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Github', tokenArn);
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', apiKeyArn);
    new ContainerAgent(stack, 'Researcher', {
      agentName: 'researcher',
      image: AgentImage.fromDirectory(dockerDir),
      compute: AgentCompute.lambdaFunction({ secrets: { GITHUB_TOKEN: github } }),
      models: [AgentModel.openAiCompatible({ endpoint: 'https://llm.example.com/v1', model: 'm', apiKey })],
    });
    const t = Template.fromStack(stack);
    expect(environmentOf(t)).toMatchObject({ GITHUB_TOKEN_SECRET_ARN: tokenArn, OPENAI_API_KEY_SECRET_ARN: apiKeyArn, AGENT_SECRETS: 'GITHUB_TOKEN,OPENAI_API_KEY' });
    const read = granting(statementsOf(t, 'ResearcherRole'), 'secretsmanager:GetSecretValue').flatMap((st) => [st.Resource].flat());
    expect(read.sort()).toEqual([tokenArn, apiKeyArn].sort());
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('a secret of the same name as the model key wins over it', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const mine = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Mine', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mine-AbCdEf');
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', apiKeyArn);
    new ContainerAgent(stack, 'Researcher', {
      agentName: 'researcher',
      image: AgentImage.fromDirectory(dockerDir),
      compute: AgentCompute.lambdaFunction({ secrets: { OPENAI_API_KEY: mine } }),
      models: [AgentModel.openAiCompatible({ endpoint: 'https://llm.example.com/v1', model: 'm', apiKey })],
    });
    expect(environmentOf(Template.fromStack(stack))).toMatchObject({ OPENAI_API_KEY_SECRET_ARN: mine.secretArn, AGENT_SECRETS: 'OPENAI_API_KEY' });
  });

  test.each([
    ['provisioned above reserved', () => AgentCompute.lambdaFunction({ reservedConcurrentExecutions: 2, provisionedConcurrentExecutions: 3 }),
      /^AgentCompute.lambdaFunction: provisionedConcurrentExecutions \(3\) is above reservedConcurrentExecutions \(2\); .*lower provisionedConcurrentExecutions or raise/],
    ['no reserved concurrency', () => AgentCompute.lambdaFunction({ reservedConcurrentExecutions: 0 }), /reservedConcurrentExecutions is 0, which throttles every task/],
    ['reserved concurrency not whole', () => AgentCompute.lambdaFunction({ reservedConcurrentExecutions: 1.5 }), /reservedConcurrentExecutions \(reserved_concurrent_executions in Python\) is 1.5; it must be a whole number from 1/],
    ['no provisioned concurrency', () => AgentCompute.lambdaFunction({ provisionedConcurrentExecutions: 0 }), /provisionedConcurrentExecutions \(provisioned_concurrent_executions in Python\) is 0; it must be a whole number from 1/],
    ['a secret name that is no variable name', () => AgentCompute.lambdaFunction({ secrets: { 'github-token': {} as secretsmanager.ISecret } }),
      /secrets has the name 'github-token', which is not an environment variable name/],
    ['a secret name the runtime sets', () => AgentCompute.lambdaFunction({ secrets: { AWS_REGION: {} as secretsmanager.ISecret } }), /secrets has the name 'AWS_REGION', which the Lambda runtime or the agent contract sets/],
    ['a secret name the contract sets', () => AgentCompute.lambdaFunction({ secrets: { AGENT_SECRETS: {} as secretsmanager.ISecret } }), /secrets has the name 'AGENT_SECRETS'/],
    ['a long schedule description', () => AgentCompute.lambdaFunction({ schedules: [{ schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)), description: 'x'.repeat(513) }] }),
      /schedules\[0\]\.description has 513 characters; EventBridge Scheduler takes at most 512/],
    ['AGENT_SECRETS in environment', () => agentStack({ environment: { AGENT_SECRETS: 'X' } }), /environment must not set AGENT_SECRETS/],
  ])('refuses %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test.each(['GITHUB_TOKEN', 'GITHUB_TOKEN_SECRET_ARN'])('refuses %s in environment beside a secret of that name', (name) => {
    const stack = new Stack();
    const github = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Github', apiKeyArn);
    expect(() => new ContainerAgent(stack, 'A', {
      agentName: 'a', image: AgentImage.fromDirectory(dockerDir), compute: AgentCompute.lambdaFunction({ secrets: { GITHUB_TOKEN: github } }), environment: { [name]: 'x' },
    })).toThrow(new RegExp(`environment sets ${name}, and the Lambda secret 'GITHUB_TOKEN' sets it too; give GITHUB_TOKEN either as a secret or in environment`));
  });
});

describe('ECR encryption and the image URI', () => {
  test('a new repository is AES-256 by default and KMS-encrypted with the given key', () => {
    const plain = envAgent({ image: AgentImage.fromNewRepository('v1') });
    // AES-256 is ECR's default: no encryption configuration in the template.
    plain.template().hasResourceProperties('AWS::ECR::Repository', { EncryptionConfiguration: Match.absent() });
    const app = new App();
    const stack = new Stack(app, 'Test');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new ContainerAgent(stack, 'Researcher', { agentName: 'researcher', image: AgentImage.fromNewRepository('v1', { encryptionKey: key }), compute: AgentCompute.lambdaFunction() });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECR::Repository', {
      EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
    });
    // Pulling needs no key permission: ECR decrypts through the grant it creates on the key.
    expect(JSON.stringify(statementsOf(t, 'ResearcherRole'))).not.toContain('kms:');
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('imageUri: the repository and tag of a new repository (a token)', () => {
    const { agent, stack } = envAgent({ image: AgentImage.fromNewRepository('v1') });
    const uri = JSON.stringify(stack.resolve(agent.imageUri));
    expect(uri).toMatch(/ResearcherRepository.*:v1/);
  });

  test.each([
    ['fargate', AgentCompute.fargate()],
    ['lambda', AgentCompute.lambdaFunction()],
  ])('imageUri: the asset image of a directory (%s)', (_name, compute) => {
    const { agent, stack } = envAgent({ compute });
    expect(stack.resolve(agent.imageUri)).toEqual({ 'Fn::Sub': expect.stringMatching(/^123456789012\.dkr\.ecr\.us-east-1\.\$\{AWS::URLSuffix\}\/cdk-hnb659fds-container-assets-123456789012-us-east-1:[0-9a-f]{64}$/) });
  });

  test('imageUri: the name of a registry image, and the repository and tag of an ECR image', () => {
    const registry = envAgent({ image: AgentImage.fromRegistry('ghcr.io/acme/writer:1.0') });
    expect(registry.agent.imageUri).toBe('ghcr.io/acme/writer:1.0');
    const app = new App();
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'agents/writer');
    const agent = new ContainerAgent(stack, 'Writer', { agentName: 'writer', image: AgentImage.fromEcrRepository(repo, 'v2'), compute: AgentCompute.lambdaFunction() });
    expect(JSON.stringify(stack.resolve(agent.imageUri))).toContain('agents/writer:v2');
  });
});

describe('the agent contract and the agent kit', () => {
  test('agree on how secrets read at start are named (the kit keeps its own copy: an image build sees only agents/)', () => {
    expect(KIT_SECRETS_ENV).toBe(AGENT_SECRETS_ENV);
    const t = agentStack({ compute: AgentCompute.lambdaFunction({ secrets: { GITHUB_TOKEN: secretsmanager.Secret.fromSecretNameV2(new Stack(), 'S', 'gh') } }) }).template();
    const env = Object.values(t.findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;
    expect(env[AGENT_SECRETS_ENV]).toBe('GITHUB_TOKEN');
    expect(Object.keys(env)).toContain(secretArnEnv('GITHUB_TOKEN'));
  });
});

describe('alarms, metrics and log encryption', () => {
  const alarmsOf = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];

  test('a Lambda agent alarms on errors and throttles by default (threshold 1, 5 minutes), without actions', () => {
    const { stack, agent, template } = agentStack({ compute: AgentCompute.lambdaFunction() });
    expect(agent.alarms.map((a) => a.node.id)).toEqual(['ErrorsAlarm', 'ThrottlesAlarm']);
    const alarms = alarmsOf(template());
    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual(['Errors', 'Throttles']);
    const fnRef = { Ref: stack.getLogicalId(agent.function!.node.defaultChild as lambda.CfnFunction) };
    for (const a of alarms) {
      expect(a.Properties).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Threshold: 1,
        EvaluationPeriods: 1,
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Dimensions: [{ Name: 'FunctionName', Value: fnRef }],
      });
      expect(a.Properties.AlarmName).toMatch(/^Test-Researcher-[0-9A-F]{8}-(Errors|Throttles)$/);
      expect(a.Properties.AlarmActions).toBeUndefined();
    }
  });

  test('overrides and disabling; actions on a topic', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const topic = new sns.Topic(stack, 'Oncall', { enforceSSL: true });
    const agent = new ContainerAgent(stack, 'Researcher', {
      agentName: 'researcher',
      image: AgentImage.fromDirectory(dockerDir),
      compute: AgentCompute.lambdaFunction(),
      alarms: { errors: { threshold: 3, evaluationPeriods: 2, period: Duration.minutes(1) }, throttles: { enabled: false } },
      alarmActions: AlarmDestination.topic(topic),
    });
    expect(agent.alarms.map((a) => a.node.id)).toEqual(['ErrorsAlarm']);
    const [alarm] = alarmsOf(Template.fromStack(stack));
    expect(alarm.Properties).toMatchObject({ MetricName: 'Errors', Threshold: 3, EvaluationPeriods: 2, Period: 60, AlarmActions: [{ Ref: expect.stringMatching(/^Oncall/) }] });
    expect(() => new ContainerAgent(stack, 'Typo', {
      agentName: 'typo', image: AgentImage.fromDirectory(dockerDir), compute: AgentCompute.lambdaFunction(), alarms: { duration: {} } as any,
    })).toThrow(/ContainerAgent 'typo': alarms\.duration names no alarm; the alarms are errors, throttles/);
  });

  test('an email destination: the alarms act on one encrypted topic; cdk-nag clean', () => {
    const { app, template } = agentStack({ compute: AgentCompute.lambdaFunction(), alarmActions: AlarmDestination.email('oncall@example.com') });
    const t = template();
    t.resourceCountIs('AWS::SNS::Topic', 1);
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    for (const a of alarmsOf(t)) expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('with provisioned concurrency, the metrics and alarms are the live alias\'s', () => {
    const { stack, agent, template } = agentStack({ compute: AgentCompute.lambdaFunction({ provisionedConcurrentExecutions: 1 }) });
    const dims = stack.resolve(agent.metricErrors().dimensions);
    expect(Object.keys(dims).sort()).toEqual(['FunctionName', 'Resource']);
    expect(JSON.stringify(dims.Resource)).toContain(':live');
    for (const a of alarmsOf(template())) expect(a.Properties.Dimensions.map((d: any) => d.Name).sort()).toEqual(['FunctionName', 'Resource']);
  });

  test('metricErrors, metricDuration, metricThrottles of a Lambda agent', () => {
    const { agent } = agentStack({ compute: AgentCompute.lambdaFunction() });
    const shape = (m: cloudwatch.Metric) => [m.namespace, m.metricName, m.statistic, m.period.toMinutes()];
    expect([agent.metricErrors(), agent.metricThrottles(), agent.metricDuration()].map(shape)).toEqual([
      ['AWS/Lambda', 'Errors', 'Sum', 5], ['AWS/Lambda', 'Throttles', 'Sum', 5], ['AWS/Lambda', 'Duration', 'Average', 5],
    ]);
    expect(agent.metricDuration({ statistic: 'p99', period: Duration.minutes(1) }).statistic).toBe('p99');
  });

  test('a Fargate agent has no alarms; its metrics and alarms config point to the orchestrator', () => {
    const { agent, template } = agentStack({ alarmActions: AlarmDestination.email('oncall@example.com') });
    expect(agent.alarms).toEqual([]);
    template().resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template().resourceCountIs('AWS::SNS::Topic', 0);
    expect(() => agent.metricErrors()).toThrow("ContainerAgent 'researcher': metricErrors is for Lambda agents, and this agent runs on Fargate; " +
      'its tasks are measured by the orchestrator that starts them: use orchestrator.metricAgentTasksFailed()');
    expect(() => agent.metricThrottles()).toThrow(/metricThrottles is for Lambda agents.*orchestrator\.metricAgentTasksFailed\(\)/);
    expect(() => agent.metricDuration()).toThrow(/metricDuration is for Lambda agents.*orchestrator\.metricAgentTaskDuration\(\)/);
    expect(() => agentStack({ alarms: { errors: { threshold: 2 } } }))
      .toThrow(/ContainerAgent 'researcher': alarms configures the alarms of a Lambda agent \(errors, throttles\), and this agent runs on Fargate.*alarms\.agentTasksFailed/);
  });

  test('logEncryptionKey encrypts the agent\'s log group and lets CloudWatch Logs use the key', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new ContainerAgent(stack, 'Researcher', { agentName: 'researcher', image: AgentImage.fromDirectory(dockerDir), compute: AgentCompute.lambdaFunction(), logEncryptionKey: key });
    const t = Template.fromStack(stack);
    const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    const agentLogs = Object.entries(t.findResources('AWS::Logs::LogGroup')).filter(([id]) => id.startsWith('ResearcherLogs'));
    expect(agentLogs).toHaveLength(1);
    expect(agentLogs[0][1].Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const statements = t.findResources('AWS::KMS::Key')[keyId].Properties.KeyPolicy.Statement;
    expect(statements.filter((s: any) => JSON.stringify(s.Principal).includes('logs.'))).toHaveLength(1);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('with an image build, its log group is encrypted too; without a key nothing is', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new ContainerAgent(stack, 'Researcher', {
      agentName: 'researcher', image: AgentImage.fromDirectoryIntoNewRepository(dockerDir), compute: AgentCompute.lambdaFunction(), logEncryptionKey: key,
    });
    const groups = Template.fromStack(stack).findResources('AWS::Logs::LogGroup');
    const encrypted = Object.keys(groups).filter((id) => groups[id].Properties.KmsKeyId).map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort();
    expect(encrypted).toEqual(['ResearcherImageBuildLogs', 'ResearcherLogs']);

    const { template } = agentStack({ compute: AgentCompute.lambdaFunction() });
    for (const g of Object.values(template().findResources('AWS::Logs::LogGroup'))) expect(g.Properties.KmsKeyId).toBeUndefined();
  });
});
