/**
 * Many agents and big definitions: nothing of either travels in the functions' environment
 * (Lambda allows 4 KB for all of it), so the limits left are CloudFormation's, and the construct
 * names them at synth with the way out.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { AgentCompute, AgentImage, ContainerAgent } from '../../src/container-agent';
import { DurableOrchestrator } from '../../src/durable-orchestrator';
import { AgentStep, ApprovalStep, StepInput, WorkflowAgent, WorkflowDefinition, WorkflowStep } from '../../src/workflow';
import { unacknowledgedNagFindings } from '../helpers/nag';

const LAMBDA_ENV_LIMIT = 4096;

/** `count` agents: every fifth a Lambda container agent, the others Fargate tasks on one shared cluster. */
function agentTeam(scope: Construct, count: number): ContainerAgent[] {
  const vpc = new ec2.Vpc(scope, 'Vpc', { maxAzs: 2, natGateways: 1, flowLogs: { all: {} } });
  const cluster = new ecs.Cluster(scope, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const repository = ecr.Repository.fromRepositoryName(scope, 'Images', 'agents');
  return Array.from({ length: count }, (_, i) => {
    const agentName = `agent${String(i + 1).padStart(2, '0')}`;
    return i % 5 === 4
      ? new ContainerAgent(scope, agentName, {
        agentName, image: AgentImage.fromEcrRepository(repository, agentName), compute: AgentCompute.lambdaFunction(),
      })
      : new ContainerAgent(scope, agentName, {
        agentName, image: AgentImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'), compute: AgentCompute.fargate({ cluster }),
      });
  });
}

/** One agent step per agent, each with a long literal brief (a prompt), and an approval with a long prompt. */
function bigWorkflow(agents: ContainerAgent[], briefChars: number): WorkflowDefinition {
  const steps: WorkflowStep[] = agents.map((a, i) => new AgentStep({
    stepName: `step${i + 1}`,
    agent: WorkflowAgent.named(a.agentName),
    input: {
      topic: StepInput.fromWorkflowInput('topic'),
      brief: StepInput.literalString(`Brief for ${a.agentName}: ${'Consider the sources carefully and cite them. '.repeat(Math.ceil(briefChars / 47))}`.slice(0, briefChars)),
    },
    timeout: Duration.minutes(30),
  }));
  steps.push(new ApprovalStep({ stepName: 'approval', prompt: 'Approve the collected findings. '.repeat(60).slice(0, 1900), timeout: Duration.hours(4) }));
  return new WorkflowDefinition({ workflowName: 'big', steps });
}

function environmentBytes(template: Template): number[] {
  return Object.values(template.findResources('AWS::Lambda::Function'))
    .map((f) => Buffer.byteLength(JSON.stringify(f.Properties.Environment?.Variables ?? {})));
}

function layerFile(app: App, stack: Stack): string {
  const assembly = app.synth();
  const layer = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::LayerVersion'))[0];
  const hash = /([0-9a-f]{64})\.zip/.exec(JSON.stringify(stack.resolve(layer.Properties.Content.S3Key)))![1];
  return path.join(assembly.directory, `asset.${hash}`, 'cdk-durable-agents', 'workflow-config.json');
}

describe('50 agents and a definition over 64 KB', () => {
  test('in one stack with the orchestrator: synthesizes, the environments stay small, every agent has its target', () => {
    const app = new App();
    const stack = new Stack(app, 'Big');
    const agents = agentTeam(new Construct(stack, 'Team'), 50);
    const workflow = bigWorkflow(agents, 1400);
    const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', { workflow, agents });
    const template = Template.fromStack(stack);

    const definitionBytes = Buffer.byteLength(workflow.toJson(agents.map((a) => a.agentName)));
    expect(definitionBytes).toBeGreaterThanOrEqual(64 * 1024);
    // The definition is in the layer, whole; the functions' environments hold names and a hash.
    expect(JSON.parse(fs.readFileSync(layerFile(app, stack), 'utf8')).definition.steps).toHaveLength(51);
    for (const bytes of environmentBytes(template)) expect(bytes).toBeLessThan(LAMBDA_ENV_LIMIT / 2);
    template.resourceCountIs('AWS::SSM::Parameter', 50);
    const resources = Object.keys(template.toJSON().Resources).length;
    expect(resources).toBeLessThanOrEqual(500);
    expect(Buffer.byteLength(JSON.stringify(template.toJSON()))).toBeLessThan(1024 * 1024);
    // Not even the local server's metadata copies the definition into the template: it names the layer's file.
    expect(JSON.stringify(template.toJSON())).not.toContain('Consider the sources carefully');
    expect(orchestrator.workflowName).toBe('big');
  });

  test('with the agents in a stack of their own: no cycle, the orchestrator\'s grants to them live in its stack', () => {
    const app = new App();
    const agentsStack = new Stack(app, 'Agents');
    const agents = agentTeam(agentsStack, 50);
    const stack = new Stack(app, 'Workflows');
    new DurableOrchestrator(stack, 'Orchestrator', { workflow: bigWorkflow(agents, 1400), agents });
    const assembly = app.synth(); // a dependency cycle between the stacks would throw here
    expect(stack.dependencies.map((s) => s.stackName)).toEqual(['Agents']);
    expect(agentsStack.dependencies).toEqual([]);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SSM::Parameter', 50);
    // Each agent's role is granted its prefix and the callback routes by a policy of the orchestrator's stack.
    const agentPolicies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('Fn::ImportValue'));
    expect(agentPolicies).toHaveLength(50);
    for (const p of agentPolicies) {
      const actions = p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
      expect(actions).toEqual(expect.arrayContaining(['s3:PutObject', 's3:GetObject', 'execute-api:Invoke']));
    }
    // Nothing in the agents' stack refers to the orchestrator's.
    expect(JSON.stringify(Template.fromStack(agentsStack).toJSON())).not.toMatch(/Workflows|Orchestrator/);
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['Agents', 'Workflows']);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('past CloudFormation\'s 500 resources in one stack, the construct says so at synth with the way out', () => {
    const app = new App();
    const stack = new Stack(app, 'TooBig');
    const agents = agentTeam(new Construct(stack, 'Team'), 80);
    new DurableOrchestrator(stack, 'Orchestrator', { workflow: bigWorkflow(agents, 100), agents });
    expect(() => app.synth()).toThrow(/stack TooBig has \d+ resources, more than CloudFormation's limit of 500 per stack\. Create some of the agents .* in another stack/);
  });
});
