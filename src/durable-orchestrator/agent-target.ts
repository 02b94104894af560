import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { AgentTarget as RuntimeAgentTarget } from '../contract/agents';
import { checkBuiltByFactory } from '../private/closed-class';
import { grantScoped } from '../private/grants';
import { IWorkflowAgent } from '../workflow';

/** How the orchestrator starts an agent. */
export enum AgentDispatchKind {
  /** Asynchronous invoke of a Lambda function, with the task envelope as its event. */
  LAMBDA = 'lambda',
  /** ECS RunTask on Fargate, with the task envelope in the container's `TASK_ENVELOPE` variable. */
  ECS_TASK = 'ecs',
}

/** Properties of `AgentDispatch.lambdaFunction` (`AgentDispatch.lambda_function` in Python). */
export interface LambdaAgentDispatchProps {
  /** ARN of the function, invoked asynchronously with the task envelope as its event. */
  readonly functionArn: string;
  /** The principal the agent runs as: granted its callback route and its artifacts. */
  readonly runtimePrincipal: iam.IGrantable;
  /**
   * How to run the agent as a local process (`cdk-durable-agents dev --app` reads it): the program and its arguments.
   * @default - none: the local server must be told the agent's command
   */
  readonly localCommand?: string[];
}

/** Properties of `AgentDispatch.ecsTask` (`AgentDispatch.ecs_task` in Python). */
export interface EcsTaskAgentDispatchProps {
  /** ARN of the cluster to run the task on. */
  readonly clusterArn: string;
  /**
   * The task definition to run: its family, whose latest ACTIVE revision runs (so a workflow that
   * dispatches after a deploy starts the new revision: ECS refuses to run the one a deploy
   * replaced), or `family:revision` / an ARN to run exactly that revision.
   */
  readonly taskDefinition: string;
  /** The container that receives the envelope in `TASK_ENVELOPE`. */
  readonly containerName: string;
  /** Subnets the task runs in (at least one). */
  readonly subnetIds: string[];
  /**
   * Security groups of the task.
   * @default - none (the subnets' default)
   */
  readonly securityGroupIds?: string[];
  /**
   * Whether the task gets a public IP.
   * @default false
   */
  readonly assignPublicIp?: boolean;
  /** The principal the agent runs as (the task role): granted its callback route and its artifacts. */
  readonly runtimePrincipal: iam.IGrantable;
  /**
   * How to run the agent as a local process (`cdk-durable-agents dev --app` reads it): the program and its arguments.
   * @default - none: the local server must be told the agent's command
   */
  readonly localCommand?: string[];
}

/**
 * How the orchestrator starts an agent, as returned by `IDispatchableAgent.bindDispatch` (`IDispatchableAgent.bind_dispatch` in Python):
 * a Lambda function or an ECS task, each with exactly the settings it needs.
 */
export class AgentDispatch {
  /** Asynchronous invoke of a Lambda function. */
  public static lambdaFunction(props: LambdaAgentDispatchProps): AgentDispatch {
    requireText('AgentDispatch.lambdaFunction', 'functionArn', props.functionArn);
    checkLocalCommand('AgentDispatch.lambdaFunction', props.localCommand);
    return new AgentDispatch(AgentDispatchKind.LAMBDA, props.runtimePrincipal, { type: 'lambda', functionArn: props.functionArn }, props.localCommand);
  }

  /** ECS RunTask on Fargate. */
  public static ecsTask(props: EcsTaskAgentDispatchProps): AgentDispatch {
    const owner = 'AgentDispatch.ecsTask';
    requireText(owner, 'clusterArn', props.clusterArn);
    requireText(owner, 'taskDefinition', props.taskDefinition);
    requireText(owner, 'containerName', props.containerName);
    if (!Token.isUnresolved(props.subnetIds) && props.subnetIds.length === 0) {
      throw new Error(`${owner}: subnetIds is empty; give the subnets the task runs in (e.g. the VPC's private subnets)`);
    }
    checkLocalCommand(owner, props.localCommand);
    return new AgentDispatch(AgentDispatchKind.ECS_TASK, props.runtimePrincipal, {
      type: 'ecs',
      clusterArn: props.clusterArn,
      taskDefinition: props.taskDefinition,
      containerName: props.containerName,
      subnets: props.subnetIds,
      securityGroups: props.securityGroupIds ?? [],
      assignPublicIp: props.assignPublicIp ?? false,
    }, props.localCommand);
  }

  /** How the agent is started. */
  public readonly kind: AgentDispatchKind;
  /** The principal the agent runs as: granted its callback route and its artifacts. */
  public readonly runtimePrincipal: iam.IGrantable;
  /**
   * How to run the agent as a local process.
   * @default - none given
   */
  public readonly localCommand?: string[];
  private readonly target: RuntimeAgentTarget;

  private constructor(kind: AgentDispatchKind, runtimePrincipal: iam.IGrantable, target: RuntimeAgentTarget, localCommand?: string[]) {
    checkBuiltByFactory('AgentDispatch', kind, 'AgentDispatch.lambdaFunction() or AgentDispatch.ecsTask()');
    this.kind = kind;
    this.runtimePrincipal = runtimePrincipal;
    this.target = target;
    this.localCommand = localCommand;
  }

  /**
   * The runtime's target (the value of the agent's SSM parameter, resolved at deploy time).
   * @internal
   */
  public _renderTarget(): RuntimeAgentTarget {
    return this.target;
  }
}

function requireText(owner: string, prop: string, value: string | undefined): void {
  if (value === undefined || (!Token.isUnresolved(value) && value.trim() === '')) {
    throw new Error(`${owner}: ${prop} is ${value === undefined ? 'missing' : 'empty'}; give it`);
  }
}

function checkLocalCommand(owner: string, command: string[] | undefined): void {
  if (command !== undefined && command.length === 0) {
    throw new Error(`${owner}: localCommand is empty; give the program and its arguments, e.g. ['node', 'dist/main.js'], or leave it unset`);
  }
}

/**
 * An agent the orchestrator can dispatch tasks to. `ContainerAgent` implements it; so do the
 * targets made by `AgentTarget`.
 */
export interface IDispatchableAgent extends IWorkflowAgent {
  /**
   * Grants `dispatcher` the right to start this agent (and nothing else), and says how.
   *
   * @param scope where the orchestrator creates anything the dispatch needs (e.g. a security group)
   * @param dispatcher the orchestrator's controller
   */
  bindDispatch(scope: Construct, dispatcher: iam.IGrantable): AgentDispatch;
}

/** Options for `AgentTarget.ecsTask` (`AgentTarget.ecs_task` in Python). */
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
      return AgentDispatch.lambdaFunction({ functionArn: fn.functionArn, runtimePrincipal: fn });
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
      return AgentDispatch.ecsTask({
        clusterArn: options.cluster.clusterArn,
        taskDefinition: options.taskDefinition.family,
        containerName: container,
        subnetIds: subnets.subnetIds,
        securityGroupIds: groups.map((g) => g.securityGroupId),
        runtimePrincipal: options.taskDefinition.taskRole,
      });
    });
  }

  private constructor(
    public readonly agentName: string,
    private readonly binder: (dispatcher: iam.IGrantable, scope: Construct) => AgentDispatch,
  ) {
    checkBuiltByFactory('AgentTarget', binder, 'AgentTarget.lambdaFunction() or AgentTarget.ecsTask(), or implement IDispatchableAgent');
  }

  public bindDispatch(scope: Construct, dispatcher: iam.IGrantable): AgentDispatch {
    return this.binder(dispatcher, scope);
  }
}

/**
 * Grants starting one task definition on one cluster: `ecs:RunTask` on the revisions of its family
 * (conditioned on the cluster), `ecs:TagResource` for the tags RunTask sends, `ecs:StopTask` on
 * the cluster's tasks (to stop those of a workflow that ended without them), and `iam:PassRole` on
 * the task and execution roles.
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
  grantScoped(dispatcher, {
    actions: ['ecs:StopTask'],
    resources: [Stack.of(cluster).formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` })],
    conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    wildcardReason: 'Stopping the tasks it started on this cluster when their workflow ends without them (cancelled, over budget, '
      + 'the kill switch): task ids are known only at run time.',
  });
  const roles = [taskDefinition.taskRole, taskDefinition.executionRole].filter((r): r is iam.IRole => r !== undefined);
  for (const role of roles) role.grantPassRole(dispatcher.grantPrincipal);
}
