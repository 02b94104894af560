import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { checkDurationRange, checkRange } from '../private/checks';

/** Options for {@link AgentCompute.fargate}. */
export interface FargateAgentOptions {
  /**
   * The cluster the tasks run on.
   * @default - a new cluster (Container Insights on) in `vpc`
   */
  readonly cluster?: ecs.ICluster;
  /**
   * The VPC for a new cluster. Ignored with `cluster`.
   * @default - a new VPC: two AZs, one NAT gateway, flow logs
   */
  readonly vpc?: ec2.IVpc;
  /**
   * vCPU units of a task (256, 512, 1024, 2048, 4096, 8192 or 16384).
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * Memory of a task, in MiB (must fit `cpu`, as Fargate requires).
   * @default 2048
   */
  readonly memoryLimitMiB?: number;
  /**
   * Subnets the tasks run in.
   * @default - the private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the tasks.
   * @default - a new group that allows outbound traffic and nothing inbound
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Secrets for the container, as environment variables.
   * @default - none
   */
  readonly secrets?: { [name: string]: ecs.Secret };
}

/** Options for {@link AgentCompute.lambdaFunction}. */
export interface LambdaAgentOptions {
  /**
   * Memory of the function, in MiB.
   * @default 2048
   */
  readonly memorySize?: number;
  /**
   * How long one task may run (at most 15 minutes; use Fargate for longer work).
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * A VPC to run the function in.
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of the function when `vpc` is set.
   * @default - the private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** Which kind of compute an agent runs on. */
export enum AgentComputeKind {
  /** ECS Fargate tasks. */
  FARGATE = 'fargate',
  /** A Lambda function from a container image. */
  LAMBDA = 'lambda',
}

/**
 * Where an agent runs: ECS Fargate tasks (long work) or a Lambda container function (work under
 * 15 minutes).
 */
export class AgentCompute {
  /** ECS Fargate: one task per dispatched step. */
  public static fargate(options: FargateAgentOptions = {}): AgentCompute {
    const cpu = options.cpu ?? 1024;
    const memory = options.memoryLimitMiB ?? 2048;
    if (!Token.isUnresolved(cpu) && ![256, 512, 1024, 2048, 4096, 8192, 16384].includes(cpu)) {
      throw new Error(`AgentCompute.fargate: cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384, got ${cpu}`);
    }
    checkRange('AgentCompute.fargate', 'memoryLimitMiB', memory, { min: 512, max: 122_880, fix: 'Fargate takes 512 to 122880 MiB (and a cpu to match)' });
    if (options.cluster && options.vpc) {
      throw new Error('AgentCompute.fargate: give cluster or vpc, not both (a cluster brings its VPC)');
    }
    return new AgentCompute(AgentComputeKind.FARGATE, options, undefined);
  }

  /** A Lambda function from the agent's image, invoked asynchronously per step. */
  public static lambdaFunction(options: LambdaAgentOptions = {}): AgentCompute {
    checkDurationRange('AgentCompute.lambdaFunction', 'timeout', options.timeout, {
      min: Duration.seconds(1), max: Duration.minutes(15), subject: 'one invocation of a Lambda function', fix: 'use AgentCompute.fargate() for longer work',
    });
    checkRange('AgentCompute.lambdaFunction', 'memorySize', options.memorySize, { min: 128, max: 10_240, unit: 'MiB' });
    if (options.vpcSubnets && !options.vpc) {
      throw new Error('AgentCompute.lambdaFunction: vpcSubnets needs vpc');
    }
    return new AgentCompute(AgentComputeKind.LAMBDA, undefined, options);
  }

  private constructor(
    /** The kind of compute. */
    public readonly kind: AgentComputeKind,
    /** @internal */
    public readonly _fargate: FargateAgentOptions | undefined,
    /** @internal */
    public readonly _lambda: LambdaAgentOptions | undefined,
  ) {}
}
