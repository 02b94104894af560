import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { grantScoped } from '../private/grants';
import { IWorkflowAgent } from '../workflow';

/** How the orchestrator starts an agent. */
export enum AgentDispatchKind {
  /** Asynchronous invoke of a Lambda function, with the task envelope as its event. */
  LAMBDA = 'lambda',
  /** ECS RunTask on Fargate, with the task envelope in the container's `TASK_ENVELOPE` variable. */
  ECS_TASK = 'ecs',
}

/**
 * What the orchestrator needs to dispatch a task to an agent, as returned by
 * {@link IDispatchableAgent.bindDispatch}.
 */
export interface AgentDispatchConfig {
  /** How the agent is started. */
  readonly kind: AgentDispatchKind;
  /**
   * The principal the agent runs as: granted its callback route and its artifacts.
   */
  readonly runtimePrincipal: iam.IGrantable;
  /** ARN of the function (kind LAMBDA). @default - none */
  readonly functionArn?: string;
  /** ARN of the cluster (kind ECS_TASK). @default - none */
  readonly clusterArn?: string;
  /**
   * ARN of one revision of the task definition (kind ECS_TASK): that revision runs, so it must still
   * be ACTIVE when a task is dispatched. Give `taskDefinitionFamily` instead to run the latest one.
   * @default - none
   */
  readonly taskDefinitionArn?: string;
  /**
   * Family of the task definition (kind ECS_TASK): its latest ACTIVE revision runs, so a workflow
   * that dispatches after a deploy starts the new revision (ECS refuses to run the one a deploy
   * replaced). Takes precedence over `taskDefinitionArn`.
   * @default - `taskDefinitionArn` runs
   */
  readonly taskDefinitionFamily?: string;
  /** Container that receives the envelope (kind ECS_TASK). @default - none */
  readonly containerName?: string;
  /** Subnets the task runs in (kind ECS_TASK). @default - none */
  readonly subnetIds?: string[];
  /** Security groups of the task (kind ECS_TASK). @default - none */
  readonly securityGroupIds?: string[];
  /** Whether the task gets a public IP (kind ECS_TASK). @default false */
  readonly assignPublicIp?: boolean;
  /**
   * How to run the agent as a local process (`cdk-durable-agents dev` reads it from the
   * synthesized app): the program and its arguments.
   * @default - none: the local server must be told the agent's command
   */
  readonly localCommand?: string[];
}

/**
 * An agent the orchestrator can dispatch tasks to. `ContainerAgent` implements it; so do the
 * targets made by {@link AgentTarget}.
 */
export interface IDispatchableAgent extends IWorkflowAgent {
  /**
   * Grants `dispatcher` the right to start this agent (and nothing else), and says how.
   *
   * @param scope where the orchestrator creates anything the dispatch needs (e.g. a security group)
   * @param dispatcher the orchestrator's controller
   */
  bindDispatch(scope: Construct, dispatcher: iam.IGrantable): AgentDispatchConfig;
}

/** Options for {@link AgentTarget.ecsTask}. */
export interface EcsTaskAgentOptions {
  /** The cluster to run the task on. */
  readonly cluster: ecs.ICluster;
  /** A Fargate task definition (ARM64 or x86). */
  readonly taskDefinition: ecs.TaskDefinition;
  /**
   * The container that receives the envelope.
   * @default - the task definition's default container
   */
  readonly containerName?: string;
  /**
   * Subnets to run the task in.
   * @default - the cluster VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the task.
   * @default - a new security group that allows all outbound traffic and no inbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * Agents that are not `ContainerAgent`s: an existing Lambda function or ECS task definition.
 */
export class AgentTarget implements IDispatchableAgent {
  /**
   * A Lambda function, invoked asynchronously with the task envelope as its event.
   *
   * @param agentName the name the workflow's agent steps use
   * @param fn the function (its role becomes the agent's identity)
   */
  public static lambdaFunction(agentName: string, fn: lambda.IFunction): AgentTarget {
    return new AgentTarget(agentName, (dispatcher) => {
      grantScoped(dispatcher, { actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] });
      return { kind: AgentDispatchKind.LAMBDA, functionArn: fn.functionArn, runtimePrincipal: fn };
    });
  }

  /**
   * An ECS task on Fargate, started with RunTask; the envelope arrives in `TASK_ENVELOPE`.
   *
   * @param agentName the name the workflow's agent steps use
   * @param options the cluster, task definition and networking
   */
  public static ecsTask(agentName: string, options: EcsTaskAgentOptions): AgentTarget {
    return new AgentTarget(agentName, (dispatcher, scope) => {
      const container = options.containerName ?? options.taskDefinition.defaultContainer?.containerName;
      if (!container) {
        throw new Error(`AgentTarget.ecsTask('${agentName}'): the task definition has no default container; set containerName`);
      }
      const subnets = options.cluster.vpc.selectSubnets(options.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      const groups = options.securityGroups ?? [new ec2.SecurityGroup(scope, `${agentName}TaskSecurityGroup`, {
        vpc: options.cluster.vpc,
        description: `Tasks of agent ${agentName}: outbound only`,
        allowAllOutbound: true,
      })];
      grantRunTask(dispatcher, options.cluster, options.taskDefinition);
      return {
        kind: AgentDispatchKind.ECS_TASK,
        clusterArn: options.cluster.clusterArn,
        taskDefinitionArn: options.taskDefinition.taskDefinitionArn,
        taskDefinitionFamily: options.taskDefinition.family,
        containerName: container,
        subnetIds: subnets.subnetIds,
        securityGroupIds: groups.map((g) => g.securityGroupId),
        assignPublicIp: false,
        runtimePrincipal: options.taskDefinition.taskRole,
      };
    });
  }

  private constructor(
    public readonly agentName: string,
    private readonly binder: (dispatcher: iam.IGrantable, scope: Construct) => AgentDispatchConfig,
  ) {}

  public bindDispatch(scope: Construct, dispatcher: iam.IGrantable): AgentDispatchConfig {
    return this.binder(dispatcher, scope);
  }
}

/**
 * Grants starting one task definition on one cluster: `ecs:RunTask` on the revisions of its family
 * (conditioned on the cluster), `ecs:TagResource` for the tags RunTask sends, and
 * `iam:PassRole` on the task and execution roles.
 */
export function grantRunTask(dispatcher: iam.IGrantable, cluster: ecs.ICluster, taskDefinition: ecs.TaskDefinition): void {
  grantScoped(dispatcher, {
    actions: ['ecs:RunTask'],
    // Every revision of the family: the dispatcher runs the family's latest ACTIVE revision.
    resources: [Stack.of(taskDefinition).formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${taskDefinition.family}:*` })],
    conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    wildcardReason: 'Any revision of this one task definition family: tasks are dispatched by family, which runs its latest ACTIVE ' +
      'revision (the one a deploy replaced is INACTIVE and cannot run); on this one cluster only.',
  });
  grantScoped(dispatcher, {
    actions: ['ecs:TagResource'],
    resources: [Stack.of(cluster).formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` })],
    conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    wildcardReason: 'Tagging the tasks RunTask starts on this cluster (task ids are known only at run time), and only as part of RunTask.',
  });
  const roles = [taskDefinition.taskRole, taskDefinition.executionRole].filter((r): r is iam.IRole => r !== undefined);
  for (const role of roles) role.grantPassRole(dispatcher.grantPrincipal);
}
