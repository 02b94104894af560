import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AGENT_SECRETS_ENV, ENVELOPE_ENV } from '../contract/agents';
import { checkDurationRange, checkRange } from '../private/checks';
import { checkBuiltByFactory } from '../private/closed-class';

/** Options for `AgentCompute.fargate`. */
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

/** Options for `AgentCompute.lambdaFunction` (`AgentCompute.lambda_function` in Python). */
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
  /**
   * A function URL (an HTTPS endpoint that invokes the function synchronously, with the HTTP
   * request as its event), exposed as the agent's `functionUrl` (`function_url` in Python). Its auth type is `AWS_IAM`
   * unless you set it: callers sign their requests and need `lambda:InvokeFunctionUrl`.
   * @default - no function URL
   */
  readonly functionUrl?: LambdaAgentFunctionUrlOptions;
  /**
   * Invocations on a schedule (EventBridge Scheduler), each with its own event.
   * @default - none
   */
  readonly schedules?: LambdaAgentSchedule[];
  /**
   * Concurrent executions reserved for the function, and its limit (at least 1).
   * @default - none: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Execution environments kept initialized (no cold start), on an alias `live` of the
   * function's current version: the orchestrator, the function URL and the schedules then
   * invoke that alias. At most `reservedConcurrentExecutions` (`reserved_concurrent_executions` in Python) when both are set.
   * @default - none: no alias, the function is invoked unqualified
   */
  readonly provisionedConcurrentExecutions?: number;
  /**
   * X-Ray tracing of the function.
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Secrets the function may read, by the environment variable name the agent reads each as.
   * Lambda has no secret injection: the function is granted read of exactly these secrets and
   * gets each one's ARN in `<name>_SECRET_ARN` (and the list of names in `AGENT_SECRETS`); the
   * reference agents' kit reads each secret's string into `<name>` before it runs a task.
   * Names are environment variable names (letters, digits, `_`; not starting with a digit, and
   * none the Lambda runtime sets, such as `AWS_*` and `LAMBDA_*`).
   * @default - none
   */
  readonly secrets?: { [name: string]: secretsmanager.ISecret };
}

/** Options of a Lambda agent's function URL: the `functionUrl` prop of `LambdaAgentOptions` (`function_url` in Python). */
export interface LambdaAgentFunctionUrlOptions {
  /**
   * Who may call the URL. `AWS_IAM`: requests signed by principals granted
   * `lambda:InvokeFunctionUrl` (e.g. with `grantInvokeUrl(role)` of the agent's `alias`, or of its
   * `function` when it has no alias).
   *
   * **Warning:** `NONE` makes the URL public: anyone on the internet who learns it can run the
   * agent (and spend its model budget). Choose it only when the agent checks each request itself;
   * the agent gets a synth warning.
   *
   * @default lambda.FunctionUrlAuthType.AWS_IAM
   */
  readonly authType?: lambda.FunctionUrlAuthType;
  /**
   * CORS of the URL, for browser callers.
   * @default - no CORS
   */
  readonly cors?: lambda.FunctionUrlCorsOptions;
}

/** One scheduled invocation of a Lambda agent (`LambdaAgentOptions.schedules`). */
export interface LambdaAgentSchedule {
  /**
   * When to invoke, e.g. `scheduler.ScheduleExpression.rate(Duration.hours(1))`,
   * `ScheduleExpression.cron({ hour: '6', minute: '0', timeZone })` or `ScheduleExpression.at(date)`.
   */
  readonly schedule: scheduler.ScheduleExpression;
  /**
   * The event the function receives, e.g. `scheduler.ScheduleTargetInput.fromObject({...})`.
   * For an agent built with the reference kit, a task envelope.
   * @default - none: the function is invoked without a payload
   */
  readonly input?: scheduler.ScheduleTargetInput;
  /**
   * A description of the schedule.
   * @default - none
   */
  readonly description?: string;
  /**
   * Whether the schedule invokes the function.
   * @default true
   */
  readonly enabled?: boolean;
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
    checkLambdaConcurrency(options.reservedConcurrentExecutions, options.provisionedConcurrentExecutions);
    for (const name of Object.keys(options.secrets ?? {})) checkSecretName(name);
    (options.schedules ?? []).forEach((s, i) => {
      if (!s.schedule) throw new Error(`AgentCompute.lambdaFunction: schedules[${i}] has no schedule; give one, e.g. ScheduleExpression.rate(Duration.hours(1))`);
      if (s.description !== undefined && !Token.isUnresolved(s.description) && s.description.length > 512) {
        throw new Error(`AgentCompute.lambdaFunction: schedules[${i}].description has ${s.description.length} characters; EventBridge Scheduler takes at most 512`);
      }
    });
    return new AgentCompute(AgentComputeKind.LAMBDA, undefined, options);
  }

  private constructor(
    /** The kind of compute. */
    public readonly kind: AgentComputeKind,
    /** @internal */
    public readonly _fargate: FargateAgentOptions | undefined,
    /** @internal */
    public readonly _lambda: LambdaAgentOptions | undefined,
  ) {
    checkBuiltByFactory('AgentCompute', kind, 'AgentCompute.fargate() or AgentCompute.lambdaFunction()');
  }
}

const OWNER = 'AgentCompute.lambdaFunction';

function checkLambdaConcurrency(reserved: number | undefined, provisioned: number | undefined): void {
  if (reserved === 0) {
    throw new Error(`${OWNER}: reservedConcurrentExecutions is 0, which throttles every task the orchestrator dispatches; ` +
      'give at least 1, or leave it unset (to take an agent out of service, remove it from the workflow)');
  }
  checkRange(OWNER, 'reservedConcurrentExecutions', reserved, { min: 1, max: 1_000_000 });
  checkRange(OWNER, 'provisionedConcurrentExecutions', provisioned, { min: 1, max: 1_000_000 });
  const known = (n: number | undefined): n is number => n !== undefined && !Token.isUnresolved(n);
  if (known(reserved) && known(provisioned) && provisioned > reserved) {
    throw new Error(`${OWNER}: provisionedConcurrentExecutions (${provisioned}) is above reservedConcurrentExecutions (${reserved}); ` +
      'Lambda cannot keep more environments ready than the function may run: lower provisionedConcurrentExecutions or raise reservedConcurrentExecutions');
  }
}

/** Names the construct or the agent kit set themselves. */
const RESERVED_NAMES = [ENVELOPE_ENV, 'AGENT_NAME', AGENT_SECRETS_ENV, '_HANDLER', '_X_AMZN_TRACE_ID'];

/** A secret's environment variable name: the kit sets `<name>` and the construct `<name>_SECRET_ARN`. */
function checkSecretName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`${OWNER}: secrets has the name '${name}', which is not an environment variable name; use letters, digits and _, not starting with a digit (e.g. 'GITHUB_TOKEN')`);
  }
  if (/^(AWS|LAMBDA)_/i.test(name) || RESERVED_NAMES.includes(name)) {
    throw new Error(`${OWNER}: secrets has the name '${name}', which the Lambda runtime or the agent contract sets; choose another name`);
  }
}
