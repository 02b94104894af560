import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AgentTarget, DurableOrchestrator, DurableOrchestratorProps } from '../../src/durable-orchestrator';
import { ReferenceWorkflows, WorkflowAgent } from '../../src/workflow';

/** A small Lambda agent for tests (its code is never run here). */
export function testAgentFunction(scope: Construct, name: string): lambda.Function {
  return new lambda.Function(scope, `${name}Fn`, {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
}

export function researchWorkflow() {
  return ReferenceWorkflows.researchReport({
    researcher: WorkflowAgent.named('researcher'),
    analyst: WorkflowAgent.named('analyst'),
    writer: WorkflowAgent.named('writer'),
    approvalTimeout: Duration.hours(24),
  });
}

export interface TestStack {
  readonly app: App;
  readonly stack: Stack;
  readonly orchestrator: DurableOrchestrator;
}

/** A stack with the reference workflow: researcher and analyst on Lambda, writer on ECS Fargate. */
export function orchestratorStack(props: Partial<DurableOrchestratorProps> = {}): TestStack {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const agents = new Construct(stack, 'Agents');
  const vpc = new ec2.Vpc(agents, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(agents, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const taskDefinition = new ecs.FargateTaskDefinition(agents, 'WriterTask', {
    cpu: 256, memoryLimitMiB: 512, runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64 },
  });
  taskDefinition.addContainer('writer', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine') });
  const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', {
    workflow: researchWorkflow(),
    agents: [
      AgentTarget.lambdaFunction('researcher', testAgentFunction(agents, 'Researcher')),
      AgentTarget.lambdaFunction('analyst', testAgentFunction(agents, 'Analyst')),
      AgentTarget.ecsTask('writer', { cluster, taskDefinition }),
    ],
    ...props,
  });
  return { app, stack, orchestrator };
}
