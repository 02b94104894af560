import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AgentCompute, AgentImage, ContainerAgent } from '../../src/container-agent';
import { AgentDispatch, AgentDispatchKind, DurableOrchestrator } from '../../src/durable-orchestrator';
import { ReferenceWorkflows, WorkflowAgent } from '../../src/workflow';

describe('AgentDispatch', () => {
  const principal = new iam.Role(new Stack(new App(), 'S'), 'R', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });

  test('a Lambda dispatch holds what a Lambda target needs, and renders it', () => {
    const d = AgentDispatch.lambdaFunction({ functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:f', runtimePrincipal: principal, localCommand: ['node', 'a.js'] });
    expect(d.kind).toBe(AgentDispatchKind.LAMBDA);
    expect(d.localCommand).toEqual(['node', 'a.js']);
    expect(d._renderTarget()).toEqual({ type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:f' });
  });

  test('an ECS dispatch runs a task definition family by default settings', () => {
    const d = AgentDispatch.ecsTask({ clusterArn: 'arn:c', taskDefinition: 'writer', containerName: 'writer', subnetIds: ['subnet-1'], runtimePrincipal: principal });
    expect(d.kind).toBe(AgentDispatchKind.ECS_TASK);
    expect(d.localCommand).toBeUndefined();
    expect(d._renderTarget()).toEqual({
      type: 'ecs', clusterArn: 'arn:c', taskDefinition: 'writer', containerName: 'writer', subnets: ['subnet-1'], securityGroups: [], assignPublicIp: false,
    });
  });

  test.each([
    [() => AgentDispatch.lambdaFunction({ functionArn: ' ', runtimePrincipal: principal }), /AgentDispatch.lambdaFunction: functionArn is empty/],
    [() => AgentDispatch.lambdaFunction({ functionArn: 'arn:f', runtimePrincipal: principal, localCommand: [] }), /localCommand is empty/],
    [() => AgentDispatch.ecsTask({ clusterArn: 'arn:c', taskDefinition: '', containerName: 'w', subnetIds: ['s'], runtimePrincipal: principal }), /AgentDispatch.ecsTask: taskDefinition is empty/],
    [() => AgentDispatch.ecsTask({ clusterArn: 'arn:c', taskDefinition: 'w', containerName: 'w', subnetIds: [], runtimePrincipal: principal }), /subnetIds is empty/],
  ])('bad settings are refused, naming them (%#)', (make, message) => {
    expect(make).toThrow(message);
  });
});

test('a ContainerAgent in another region than the orchestrator is refused at synth, naming both', () => {
  const app = new App();
  const agents = new Stack(app, 'Agents', { env: { account: '111111111111', region: 'eu-west-1' } });
  const researcher = new ContainerAgent(agents, 'Researcher', { agentName: 'researcher', image: AgentImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'), compute: AgentCompute.fargate() });
  const workflows = new Stack(app, 'Workflows', { env: { account: '111111111111', region: 'us-east-1' } });
  expect(() => new DurableOrchestrator(workflows, 'Orchestrator', {
    workflow: ReferenceWorkflows.researchReport({ researcher, analyst: WorkflowAgent.named('researcher'), writer: WorkflowAgent.named('researcher') }),
    agents: [researcher],
  })).toThrow(/ContainerAgent 'researcher' is in region eu-west-1 and the orchestrator Workflows\/Orchestrator in us-east-1/);
});
