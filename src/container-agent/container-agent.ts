import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AgentCompute, AgentComputeKind, LambdaAgentOptions } from './agent-compute';
import { AgentArchitecture, AgentImage } from './agent-image';
import { AgentModel } from './agent-model';
import { ContainerAgentAlarms } from './container-agent-alarms';
import { AGENT_SECRETS_ENV, ENVELOPE_ENV, secretArnEnv } from '../contract/agents';
import { LIMITS } from '../contract/definition';
import { AgentDispatch, grantRunTask, IDispatchableAgent } from '../durable-orchestrator/agent-target';
import type { AlarmDestination } from '../monitoring/alarm-destination';
import { createAlarms } from '../private/alarms';
import { flattenReference, grantScoped } from '../private/grants';
import { acknowledgeImagePullToken } from '../private/image-pull';
import { logsKey } from '../private/log-encryption';
import { acknowledgeFindings } from '../private/nag';
import { flowLoggedVpc, publicAndPrivateSubnets } from '../private/vpc';

/** Properties of a `ContainerAgent`. */
export interface ContainerAgentProps {
  /** The name workflow steps use for this agent (letters, digits, `-`, `_`). */
  readonly agentName: string;
  /** The agent's container image. */
  readonly image: AgentImage;
  /**
   * Where the agent runs.
   * @default AgentCompute.fargate()
   */
  readonly compute?: AgentCompute;
  /**
   * CPU architecture of the image and the compute.
   * @default AgentArchitecture.ARM64
   */
  readonly architecture?: AgentArchitecture;
  /**
   * Plain (non-secret) environment variables of the agent.
   * @default - none
   */
  readonly environment?: { [name: string]: string };
  /**
   * The models the agent may call. Each is granted to the agent (exactly that model or inference
   * profile, or read of that endpoint's key secret), and the first one is the agent's model at
   * run time: its settings go into the environment (`AGENT_MODEL_PROVIDER`, then
   * `BEDROCK_MODEL_ID`, or `OPENAI_BASE_URL`, `OPENAI_MODEL` and `OPENAI_API_KEY_SECRET_ARN`),
   * each variable unless `environment` (or a secret of the same name) sets it.
   * @default - none: the agent may call no model (the reference agents then answer offline)
   */
  readonly models?: AgentModel[];
  /**
   * Retention of the agent's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How to run the agent as a local process (program and arguments), for
   * `cdk-durable-agents dev --app cdk.out`. The process gets the envelope in `TASK_ENVELOPE`.
   * @default - the reference agent's (`cdk-durable-agents agent <name>`) for an image of
   * `AgentImage.fromReferenceAgent*`; otherwise none: `cdk-durable-agents dev` must be told with `--agent name=command`
   */
  readonly localCommand?: string[];

  /**
   * A customer managed key for the agent's log group and, with
   * `AgentImage.fromDirectoryIntoNewRepository`, the log group of its image builds. A key created
   * in the app is given the key policy statement that lets CloudWatch Logs of its account and
   * region use it; an imported key's policy must already allow `logs.<region>.amazonaws.com`.
   * The flow log group of the VPC a Fargate agent creates (without `vpc` or `cluster`) is encrypted
   * with it too; the stack's shared image-build provider keeps CloudWatch Logs' own encryption.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * The settings of a Lambda agent's alarms, by name (see `ContainerAgentAlarms`): change a
   * threshold or the periods, or turn one off. Only for Lambda agents: a Fargate agent has no
   * alarms of its own, since the orchestrator that starts its tasks counts every attempt that
   * fails or times out (turn on the orchestrator's `alarms.agentTasksFailed`); giving it this is
   * an error.
   * @default - a Lambda agent alarms on errors and on throttles, each at threshold 1 over one
   * period of 5 minutes; a Fargate agent has no alarms
   */
  readonly alarms?: ContainerAgentAlarms;

  /**
   * Where the agent's alarms notify when they go into ALARM: an SNS topic of yours
   * (`AlarmDestination.topic(topic)`) or an email address (`AlarmDestination.email(address)`).
   * A Fargate agent has no alarms, so there it notifies nothing (it is accepted, so that one
   * destination can be given to every agent).
   * @default - alarms notify nobody; see AlarmDestination.notifyAlarmsIn
   */
  readonly alarmActions?: AlarmDestination;
}

/**
 * An agent: a container image that does one step's work, and where it runs (ECS Fargate or a
 * Lambda container function, ARM64 by default). Its role starts empty; a `DurableOrchestrator`
 * given this agent grants it its own artifact prefix and the callback route, and grants the
 * orchestrator the right to start it, and nothing more. Nothing about it is public.
 */
export class ContainerAgent extends Construct implements IDispatchableAgent, iam.IGrantable, ec2.IConnectable {
  /** The name workflow steps use for this agent. */
  public readonly agentName: string;
  /** Where the agent runs. */
  public readonly computeKind: AgentComputeKind;
  /** The identity the agent runs as (task role or function role). */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The agent's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The task definition; absent for Lambda agents. */
  public readonly taskDefinition?: ecs.FargateTaskDefinition;
  /** The cluster; absent for Lambda agents. */
  public readonly cluster?: ecs.ICluster;
  /** The function; absent for Fargate agents. */
  public readonly function?: lambda.DockerImageFunction;
  /** The repository; present only with `AgentImage.fromNewRepository` or `fromDirectoryIntoNewRepository`. */
  public readonly repository?: ecr.Repository;
  /**
   * The image the agent runs: a token for an image in ECR (a repository or the CDK's asset
   * repository, resolved at deploy), the image name for one in another registry.
   */
  public readonly imageUri: string;
  /**
   * The alias `live` the agent is invoked through; present only for a Lambda agent with
   * `provisionedConcurrentExecutions`.
   */
  public readonly alias?: lambda.Alias;
  /** The function URL; present only for a Lambda agent with `functionUrl`. */
  public readonly functionUrl?: lambda.FunctionUrl;
  /** The schedules that invoke the agent (Lambda agents with `schedules`); empty otherwise. */
  public readonly schedules: scheduler.Schedule[] = [];
  /** The local command, if any. */
  public readonly localCommand?: string[];
  /** The alarms created: a Lambda agent's (see `ContainerAgentAlarms`); empty for a Fargate agent. */
  public readonly alarms: cloudwatch.Alarm[];

  private readonly _connections?: ec2.Connections;
  private readonly subnets?: ec2.SelectedSubnets;
  private readonly securityGroups: ec2.ISecurityGroup[] = [];

  constructor(scope: Construct, id: string, props: ContainerAgentProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.agentName) && !LIMITS.namePattern.test(props.agentName)) {
      throw new Error(`ContainerAgent: agentName '${props.agentName}' must start with a letter and hold only letters, digits, - and _ ` +
        '(at most 63 characters): it names S3 prefixes and IAM resources');
    }
    if (props.localCommand && props.localCommand.length === 0) {
      throw new Error('ContainerAgent: localCommand is empty; give the program and its arguments, e.g. ["node", "dist/main.js"]');
    }
    for (const name of Object.keys(props.environment ?? {})) {
      if (name === ENVELOPE_ENV) throw new Error(`ContainerAgent: environment must not set ${ENVELOPE_ENV}; the orchestrator sets it per task`);
      if (name === AGENT_SECRETS_ENV) throw new Error(`ContainerAgent: environment must not set ${AGENT_SECRETS_ENV}; it lists the secrets the agent reads at start, set from compute's secrets and models`);
    }
    this.agentName = props.agentName;
    this.localCommand = props.localCommand ?? props.image._localCommand();
    const compute = props.compute ?? AgentCompute.fargate();
    const architecture = props.architecture ?? AgentArchitecture.ARM64;
    const lambdaSecrets = compute._lambda?.secrets ?? {};
    for (const name of Object.keys(lambdaSecrets)) {
      for (const clash of [name, secretArnEnv(name)]) {
        if (clash in (props.environment ?? {})) {
          throw new Error(`ContainerAgent: environment sets ${clash}, and the Lambda secret '${name}' sets it too; give ${name} either as a secret or in environment, not both`);
        }
      }
    }
    this.computeKind = compute.kind;
    if (compute.kind !== AgentComputeKind.LAMBDA && props.alarms !== undefined) {
      throw new Error(`ContainerAgent '${props.agentName}': alarms configures the alarms of a Lambda agent (errors, throttles), and this agent ` +
        'runs on Fargate, which has none of its own: the orchestrator counts its failed and timed-out tasks. Leave alarms unset and turn on ' +
        'the orchestrator\'s alarms.agentTasksFailed (metric orchestrator.metricAgentTasksFailed())');
    }
    const image = props.image._bind(this, architecture, { logEncryptionKey: props.logEncryptionKey });
    this.repository = image.repository;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: logsKey(props.logEncryptionKey),
    });
    const environment = agentEnvironment(props, { ...compute._fargate?.secrets, ...lambdaSecrets }, lambdaSecrets);

    if (compute.kind === AgentComputeKind.LAMBDA) {
      const options = compute._lambda ?? {};
      if (!image.lambda) {
        throw new Error(`ContainerAgent '${props.agentName}': a Lambda agent needs an image in ECR; ` +
          `${image.description} is in another registry. Use AgentImage.fromDirectory, fromEcrRepository or fromNewRepository, or AgentCompute.fargate()`);
      }
      const role = new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Agent ${props.agentName} (Lambda)`,
      });
      const tracing = options.tracing ?? lambda.Tracing.ACTIVE;
      const fn = new lambda.DockerImageFunction(this, 'Function', {
        code: image.lambda,
        architecture: architecture === AgentArchitecture.ARM64 ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
        memorySize: options.memorySize ?? 2048,
        timeout: options.timeout ?? Duration.minutes(15),
        environment,
        role,
        logGroup: this.logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        tracing,
        reservedConcurrentExecutions: options.reservedConcurrentExecutions,
        vpc: options.vpc,
        vpcSubnets: options.vpc ? options.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
        description: `Agent ${props.agentName}: ${image.description}`,
        retryAttempts: 0, // the workflow retries a step; Lambda must not run a task twice on its own
      });
      grantScoped(role, { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] });
      if (options.vpc) {
        role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      }
      for (const secret of Object.values(lambdaSecrets)) secret.grantRead(role);
      if (options.provisionedConcurrentExecutions !== undefined) {
        // Provisioned concurrency lives on a version; everything that invokes the agent uses this alias.
        this.alias = new lambda.Alias(this, 'Live', {
          aliasName: 'live',
          version: fn.currentVersion,
          provisionedConcurrentExecutions: options.provisionedConcurrentExecutions,
          retryAttempts: 0, // asynchronous invoke settings are per qualifier: the alias needs its own
        });
      }
      const target: lambda.IFunction = this.alias ?? fn;
      if (options.functionUrl) {
        const authType = options.functionUrl.authType ?? lambda.FunctionUrlAuthType.AWS_IAM;
        this.functionUrl = target.addFunctionUrl({ authType, cors: options.functionUrl.cors });
        if (authType === lambda.FunctionUrlAuthType.NONE) {
          Annotations.of(this).addWarningV2('cdk-durable-agents:publicFunctionUrl',
            `The function URL of agent ${props.agentName} has auth type NONE: anyone who learns the URL can run the agent. ` +
            'Use FunctionUrlAuthType.AWS_IAM (the default) unless the agent checks every request itself.');
        }
      }
      this.addSchedules(target, options.schedules ?? []);
      // The image is built during the deployment: the function waits for it (its role need not: a
      // key policy naming the role must not wait on a build whose logs the key encrypts).
      if (image.dependable) fn.node.defaultChild!.node.addDependency(image.dependable);
      this.function = fn;
      this.grantPrincipal = role;
      this._connections = options.vpc ? fn.connections : undefined;
      acknowledgeFindings(this, [
        ...(tracing === lambda.Tracing.DISABLED ? [] : [{ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray trace writes support no resource-level permissions.' }]),
        { id: 'Serverless-LambdaDLQ', reason: 'A failed task is reported to the workflow (or times out there) and retried by its retry policy; a DLQ would hold nothing to act on.' },
        { id: 'Serverless-LambdaAsyncFailureDestination', reason: 'The workflow is the failure destination: a task that fails or never reports ends its step by timeout and the step\'s retry policy.' },
        { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]', reason: 'The AWS managed policy is the supported way to let a function attach network interfaces in a VPC.' },
      ]);
    } else {
      const options = compute._fargate ?? {};
      const cluster = options.cluster ?? new ecs.Cluster(this, 'Cluster', {
        // A VPC of its own for a small setup; pass a cluster (or a VPC) to share one between agents.
        vpc: options.vpc ?? flowLoggedVpc(this, {
          subnetConfiguration: publicAndPrivateSubnets('agents'),
          natGateways: 1,
          flowLogRetention: logs.RetentionDays.ONE_MONTH,
          flowLogKey: props.logEncryptionKey,
        }),
        containerInsightsV2: ecs.ContainerInsights.ENABLED,
      });
      const taskRole = new iam.Role(this, 'TaskRole', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: `Agent ${props.agentName} (ECS task)`,
      });
      const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
        cpu: options.cpu ?? 1024,
        memoryLimitMiB: options.memoryLimitMiB ?? 2048,
        runtimePlatform: {
          cpuArchitecture: architecture === AgentArchitecture.ARM64 ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
        taskRole,
      });
      taskDefinition.addVolume({ name: 'tmp' });
      const container = taskDefinition.addContainer(props.agentName, {
        image: image.ecs,
        environment,
        secrets: options.secrets,
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: props.agentName }),
        readonlyRootFilesystem: true,
        essential: true,
      });
      container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
      this.subnets = cluster.vpc.selectSubnets(options.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      this.securityGroups = options.securityGroups ?? [new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: cluster.vpc,
        description: `Tasks of agent ${props.agentName}: outbound only`,
        allowAllOutbound: true,
      })];
      this._connections = new ec2.Connections({ securityGroups: this.securityGroups });
      this.cluster = cluster;
      // The image is built during the deployment: the task definition waits for it (not its roles, see above).
      if (image.dependable) taskDefinition.node.defaultChild!.node.addDependency(image.dependable);
      this.taskDefinition = taskDefinition;
      this.grantPrincipal = taskRole;
      const plainEnvironment = 'Only non-secret settings (the agent name, its model\'s id or endpoint, the ARNs of secrets it reads at start, ' +
        'and the user\'s plain environment) are environment variables; secret values go through `secrets` or are read from Secrets Manager at start.';
      acknowledgeFindings(this, [{ id: 'AwsSolutions-ECS2', reason: plainEnvironment }]);
      acknowledgeImagePullToken(taskDefinition);
    }
    this.imageUri = this.function ? imageUriOf(this.function) : this.taskDefinition!.defaultContainer!.imageName;
    for (const model of props.models ?? []) this.grantModelAccess(model);
    this.alarms = this.function ? this.createAlarms(props) : [];
  }

  /**
   * Invocations of a Lambda agent that ended in an error (AWS/Lambda `Errors` of its function, or
   * of its `live` alias when it has one; sum over 5 minutes unless `props` say otherwise).
   *
   * Only for Lambda agents: a Fargate agent's tasks are started by the orchestrator, which counts
   * those that fail or time out (`orchestrator.metricAgentTasksFailed()`); calling this on a
   * Fargate agent throws.
   */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.invokedFunction('metricErrors').metricErrors({ period: Duration.minutes(5), ...props });
  }

  /**
   * How long invocations of a Lambda agent take, in milliseconds (AWS/Lambda `Duration` of its
   * function or `live` alias; average over 5 minutes unless `props` say otherwise).
   *
   * Only for Lambda agents: a Fargate agent's task durations are the orchestrator's
   * (`orchestrator.metricAgentTaskDuration()`); calling this on a Fargate agent throws.
   */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.invokedFunction('metricDuration').metricDuration({ period: Duration.minutes(5), ...props });
  }

  /**
   * Throttled invocations of a Lambda agent (AWS/Lambda `Throttles` of its function or `live`
   * alias; sum over 5 minutes unless `props` say otherwise).
   *
   * Only for Lambda agents: calling this on a Fargate agent throws (the orchestrator counts a
   * Fargate task that cannot be started as a failed attempt, `orchestrator.metricAgentTasksFailed()`).
   */
  public metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.invokedFunction('metricThrottles').metricThrottles({ period: Duration.minutes(5), ...props });
  }

  /**
   * Grants the agent the right to call `model` (exactly that model or inference profile, or
   * read of that endpoint's key secret). It does not make it the agent's model: that is the
   * first of `models`.
   */
  public grantModelAccess(model: AgentModel): iam.Grant {
    return model._grant(this, this.grantPrincipal);
  }

  /** The agent's network connections; only for Fargate agents and Lambda agents in a VPC. */
  public get connections(): ec2.Connections {
    if (!this._connections) {
      throw new Error(`ContainerAgent '${this.agentName}' is a Lambda agent outside a VPC and has no connections; give AgentCompute.lambdaFunction({ vpc })`);
    }
    return this._connections;
  }

  public bindDispatch(scope: Construct, dispatcher: iam.IGrantable): AgentDispatch {
    checkSameEnvironment(this, scope);
    if (this.function) {
      // With provisioned concurrency the agent runs on its alias, where the environments are kept ready.
      const functionArn = (this.alias ?? this.function).functionArn;
      grantScoped(dispatcher, { actions: ['lambda:InvokeFunction'], resources: [functionArn] });
      return AgentDispatch.lambdaFunction({ functionArn, runtimePrincipal: this, localCommand: this.localCommand });
    }
    grantRunTask(dispatcher, this.cluster!, this.taskDefinition!);
    return AgentDispatch.ecsTask({
      clusterArn: this.cluster!.clusterArn,
      taskDefinition: this.taskDefinition!.family,
      containerName: this.agentName,
      subnetIds: this.subnets!.subnetIds,
      securityGroupIds: this.securityGroups.map((g) => g.securityGroupId),
      runtimePrincipal: this,
      localCommand: this.localCommand,
    });
  }

  /** What the orchestrator invokes: the `live` alias when there is one, else the function. */
  private invokedFunction(method: string): lambda.IFunction {
    if (!this.function) {
      const replacement = method === 'metricDuration' ? 'metricAgentTaskDuration' : 'metricAgentTasksFailed';
      throw new Error(`ContainerAgent '${this.agentName}': ${method} is for Lambda agents, and this agent runs on Fargate; ` +
        `its tasks are measured by the orchestrator that starts them: use orchestrator.${replacement}()`);
    }
    return this.alias ?? this.function;
  }

  /** A Lambda agent's alarms (ContainerAgentAlarms), built by the library's one alarm factory. */
  private createAlarms(props: ContainerAgentProps): cloudwatch.Alarm[] {
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    return createAlarms(this, {
      owner: `ContainerAgent '${this.agentName}'`,
      prop: 'alarms',
      specs: [
        {
          key: 'errors',
          name: 'Errors',
          description: `Invocations of agent '${this.agentName}' ended in an error`,
          metric: (period) => this.metricErrors({ period }),
          comparison: atLeast,
          threshold: 1,
          enabled: true,
        },
        {
          key: 'throttles',
          name: 'Throttles',
          description: `Invocations of agent '${this.agentName}' were throttled`,
          metric: (period) => this.metricThrottles({ period }),
          comparison: atLeast,
          threshold: 1,
          enabled: true,
        },
      ],
      configs: props.alarms ? { ...props.alarms } : undefined,
      destination: props.alarmActions,
    });
  }

  /** EventBridge Scheduler schedules that invoke `target`, with one role they assume. */
  private addSchedules(target: lambda.IFunction, schedules: LambdaAgentScheduleList): void {
    if (schedules.length === 0) return;
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'ScheduleRole', {
      description: `Schedules of agent ${this.agentName}: invoke its function`,
      // Only EventBridge Scheduler of this account, for schedules of the default group.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    schedules.forEach((s, i) => {
      this.schedules.push(new scheduler.Schedule(this, `Schedule${i}`, {
        schedule: s.schedule,
        description: s.description,
        enabled: s.enabled,
        target: new schedulerTargets.LambdaInvoke(target, { input: s.input, role }),
      }));
    });
    if (target === this.alias) return;
    // grantInvoke on an unqualified function covers its versions and aliases too (`<arn>:*`).
    const fnArn = flattenReference(stack.resolve(target.functionArn));
    acknowledgeFindings(role, [{
      id: `AwsSolutions-IAM5[Resource::${fnArn}:*]`,
      reason: 'lambda:InvokeFunction on this one function and its qualifiers (versions and aliases), the grant Lambda targets of EventBridge Scheduler get.',
    }]);
  }
}

type LambdaAgentScheduleList = NonNullable<LambdaAgentOptions['schedules']>;


/**
 * The agent's environment: its name, the first model's settings, the ARNs of the secrets it reads
 * at start, and the user's environment, which wins over the model's settings variable by variable.
 *
 * @param userSecrets names the user gives secrets for (a model's key secret does not override them)
 * @param lambdaSecrets the Lambda agent's secrets, read at start through their ARNs
 */
function agentEnvironment(props: ContainerAgentProps, userSecrets: { [name: string]: unknown },
  lambdaSecrets: { [name: string]: secretsmanager.ISecret }): { [name: string]: string } {
  const user = props.environment ?? {};
  const taken = (name: string) => name in user || name in userSecrets;
  const first = props.models?.[0];
  const modelEnv = Object.fromEntries(Object.entries(first?._environment() ?? {}).filter(([name]) => !taken(name)));
  const readAtStart: { [name: string]: secretsmanager.ISecret } = { ...lambdaSecrets };
  for (const [name, secret] of Object.entries(first?._secrets() ?? {})) {
    if (!taken(name) && !(secretArnEnv(name) in user)) readAtStart[name] = secret;
  }
  const secretEnv: { [name: string]: string } = {};
  for (const [name, secret] of Object.entries(readAtStart)) secretEnv[secretArnEnv(name)] = secret.secretArn;
  if (Object.keys(readAtStart).length > 0) secretEnv[AGENT_SECRETS_ENV] = Object.keys(readAtStart).join(',');
  return { AGENT_NAME: props.agentName, ...modelEnv, ...secretEnv, ...user };
}

/** The image URI a container image function was given. */
function imageUriOf(fn: lambda.DockerImageFunction): string {
  const code = (fn.node.defaultChild as lambda.CfnFunction).code as lambda.CfnFunction.CodeProperty;
  return code.imageUri!;
}

/** An orchestrator starts agents in its own account and region only (RunTask and Invoke are regional). */
function checkSameEnvironment(agent: ContainerAgent, orchestrator: Construct): void {
  const here = Stack.of(agent);
  const there = Stack.of(orchestrator);
  for (const [what, a, b] of [['account', here.account, there.account], ['region', here.region, there.region]] as const) {
    if (!Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b) {
      throw new Error(`ContainerAgent '${agent.agentName}' is in ${what} ${a} and the orchestrator ${orchestrator.node.path} in ${b}: ` +
        'an orchestrator starts agents in its own account and region; create the agent in a stack of that environment');
    }
  }
}
