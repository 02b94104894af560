import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AgentArchitecture, AgentCompute, AgentImage, ContainerAgent, ContainerAgentProps } from '../../src/container-agent';
import { DurableOrchestrator } from '../../src/durable-orchestrator';
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
    ['fargate memory', () => AgentCompute.fargate({ memoryLimitMiB: 100 }), /^AgentCompute.fargate: memoryLimitMiB is 100; it must be a whole number from 512 to 122880: Fargate takes/],
    ['lambda timeout', () => AgentCompute.lambdaFunction({ timeout: Duration.minutes(20) }),
      /^AgentCompute.lambdaFunction: timeout is 20 minutes; one invocation of a Lambda function must be between 1 second and 15 minutes: use AgentCompute.fargate\(\) for longer work$/],
    ['lambda timeout not whole seconds', () => AgentCompute.lambdaFunction({ timeout: Duration.millis(2500) }), /timeout is 2.5 seconds, not a whole number of seconds/],
    ['lambda memory', () => AgentCompute.lambdaFunction({ memorySize: 64 }), /^AgentCompute.lambdaFunction: memorySize is 64; it must be a whole number from 128 to 10240 MiB/],
    ['lambda memory not whole', () => AgentCompute.lambdaFunction({ memorySize: 512.5 }), /memorySize is 512.5; it must be a whole number/],
    ['lambda subnets without vpc', () => AgentCompute.lambdaFunction({ vpcSubnets: {} }), /vpcSubnets needs vpc/],
    ['repository image count', () => AgentImage.fromNewRepository('v1', { maxImageCount: 0 }), /^AgentImage.fromNewRepository: maxImageCount is 0; it must be a whole number from 1 to 10000: an ECR lifecycle rule keeps/],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('cluster and vpc together are a conflict', () => {
    const stack = new Stack();
    const vpc = new ec2.Vpc(stack, 'V');
    expect(() => AgentCompute.fargate({ vpc, cluster: new ecs.Cluster(stack, 'C', { vpc }) })).toThrow(/give cluster or vpc, not both/);
  });
});
