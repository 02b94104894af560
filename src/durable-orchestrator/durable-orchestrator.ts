import { Annotations, CfnOutput, CfnResource, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { IDispatchableAgent } from './agent-target';
import { ALL_ROUTES } from './api-routes';
import { ApprovalLinks, ApprovalNotification } from './approval-links';
import { wireApprovalLinks, wireApprovalNotification } from './approval-wiring';
import { DurableOrchestratorAttributes, DurableOrchestratorBase, IDurableOrchestrator } from './durable-orchestrator-base';
import { ImportedDurableOrchestrator } from './imported-orchestrator';
import { OrchestratorAlarms } from './orchestrator-alarms';
import { WorkflowConfigLayer } from './workflow-config-layer';
import { WorkflowScheduleOptions } from './workflow-schedule';
import { WorkflowSchedules } from './workflow-schedules';
import { agentPrefix, ARTIFACT_ROOTS } from '../contract/artifacts';
import { EVENT_SOURCE, IDEMPOTENCY_HEADER, METRIC_NAMESPACE } from '../contract/status';
import { ENV, LOCAL_METADATA_KEY, normalizeBasePath, TABLE } from '../contract/table';
import type { AlarmDestination } from '../monitoring/alarm-destination';
import { ApiCanary } from '../monitoring/api-canary';
import { AlarmSpec, createAlarms } from '../private/alarms';
import { BundledFunction } from '../private/bundled-function';
import { checkDurationRange, checkRange } from '../private/checks';
import { flattenReference, grantKeyEncryptDecrypt, grantScoped, stackLocalGrantee } from '../private/grants';
import { logsKey } from '../private/log-encryption';
import { acknowledgeCdkProviders, acknowledgeFindings } from '../private/nag';
import { addStackOutputs, OutputSpec } from '../private/outputs';
import { removalPolicyOf } from '../private/throwaway';
import { ApiAuthorization, SecureApi } from '../secure-api';
import { WorkflowDefinition } from '../workflow';

// The interface, the attributes of an import and the base class that holds the grants and metrics.
export * from './durable-orchestrator-base';
export * from './orchestrator-alarms';

/** Why the durable execution APIs are granted on `<controller ARN>:*`. */
const DURABLE_EXECUTIONS_REASON = 'Durable executions are sub-resources of the controller\'s versions ' +
  '(<function ARN>:<version>/durable-execution/<name>/<id>), created at run time; the grant covers this controller\'s executions only.';
/** CloudFormation's limit on the resources of one stack. */
const STACK_RESOURCE_LIMIT = 500;

/** Properties of a `DurableOrchestrator`. */
export interface DurableOrchestratorProps {
  /** The workflow it runs. */
  readonly workflow: WorkflowDefinition;

  /**
   * The agents the workflow's agent steps name (a `ContainerAgent`, or an `AgentTarget`).
   * Each is granted its callback route and its own artifact prefix, and nothing else.
   */
  readonly agents: IDispatchableAgent[];

  /**
   * Memory of the controller function, in MiB.
   * @default 1024
   */
  readonly controllerMemoryMiB?: number;

  /**
   * Memory of the API function (every route of the HTTP API, agent callbacks included), in MiB.
   * @default 512
   */
  readonly apiMemoryMiB?: number;

  /**
   * How long one invocation of the controller may run (it sleeps between invocations, so this
   * is not the length of a workflow).
   * @default Duration.minutes(15)
   */
  readonly controllerTimeout?: Duration;

  /**
   * How long a whole workflow (one durable execution) may take before Lambda stops it.
   * @default Duration.days(30)
   */
  readonly executionTimeout?: Duration;

  /**
   * How long Lambda keeps a finished durable execution's history (1 to 90 days).
   * @default Duration.days(14)
   */
  readonly executionHistoryRetention?: Duration;

  /**
   * How long a workflow's state is kept in the table after its last update (DynamoDB TTL).
   * @default Duration.days(14)
   */
  readonly stateRetention?: Duration;

  /**
   * The bucket for artifacts and reports.
   * @default - a new bucket: versioned, encrypted, public access blocked, TLS only, access logged
   */
  readonly artifactBucket?: s3.IBucket;

  /**
   * Whether the new artifact bucket keeps object versions. Ignored with `artifactBucket` (`artifact_bucket` in Python).
   * @default true
   */
  readonly artifactVersioning?: boolean;

  /**
   * After how long artifacts move to a cheaper storage class (Glacier Instant Retrieval).
   * Ignored with `artifactBucket` (`artifact_bucket` in Python).
   * @default Duration.days(90)
   */
  readonly artifactTransitionAfter?: Duration;

  /**
   * The event bus workflow events go to.
   * @default - a new event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * How long the archive of workflow events (for replay) keeps them; `Duration.days(0)` keeps them forever.
   * @default Duration.days(30)
   */
  readonly eventArchiveRetention?: Duration;

  /**
   * A customer managed key for the table, the bucket, the event bus and every log group the
   * orchestrator creates (the controller's, the API function's and the API access logs). A key
   * created in the app is given the key policy statement that lets CloudWatch Logs of its account
   * and region use it; an imported key's policy must already allow `logs.<region>.amazonaws.com`
   * (`kms:Encrypt*`, `kms:Decrypt*`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Describe*`).
   * @default - AWS managed encryption (DynamoDB and EventBridge), S3-managed keys (SSE-S3), and
   * CloudWatch Logs' own encryption of the log groups
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Whether the functions send traces to AWS X-Ray.
   * @default true
   */
  readonly tracing?: boolean;

  /**
   * Retention of the functions' logs and of the API access logs.
   * @default logs.RetentionDays.ONE_WEEK
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A `SecureApi` to put the orchestrator's routes on, instead of an HTTP API of its own: one front
   * door for the workflows, other Lambda routes and Fargate services. The routes require IAM
   * authorization whatever the API's default (agents sign their callbacks with SigV4); throttling,
   * access logs, CORS and the domain are the `SecureApi`'s.
   *
   * It is a `SecureApi` of the same stack, not an `ISecureApi` or an imported `IHttpApi`: the
   * orchestrator adds its routes to the API, and only the construct that created it knows the
   * routes, service path prefixes and health route its new routes must not clash with (CloudFormation
   * would take routes on an imported API, but a clash would then fail only at deploy, and the
   * routes would belong to a stack other than the API's). To let another stack call the routes,
   * import the orchestrator there with `DurableOrchestrator.fromDurableOrchestratorAttributes`.
   * @default - the orchestrator creates its own HTTP API
   */
  readonly api?: SecureApi;

  /**
   * Path under which the routes go on `api`, so that several orchestrators can share one API:
   * with `/research`, workflows start at `POST /research/workflows`. Only with `api`.
   * @default - the routes are at the root of `api` (`POST /workflows`)
   */
  readonly apiBasePath?: string;

  /**
   * Whether the HTTP API writes JSON access logs. Not with `api` (the `SecureApi` always does).
   * @default true
   */
  readonly apiAccessLogging?: boolean;

  /**
   * Steady-state requests per second the API accepts. Not with `api` (throttle the `SecureApi`).
   * @default 50
   */
  readonly apiThrottlingRateLimit?: number;

  /**
   * Burst of requests the API accepts. Not with `api` (throttle the `SecureApi`).
   * @default 100
   */
  readonly apiThrottlingBurstLimit?: number;

  /**
   * CORS of the orchestrator's own HTTP API, for browser clients on other origins (API Gateway
   * answers the preflight requests itself; every route still requires IAM authorization, so a
   * browser must sign its requests with SigV4). Not with `api`: a `SecureApi` has one CORS
   * configuration for all its routes (its `cors`).
   *
   * `allowOrigins` is required and `'*'` cannot be combined with `allowCredentials`. Left unset,
   * `allowHeaders` becomes the headers a SigV4-signed call sends (`authorization`, `content-type`,
   * `x-amz-date`, `x-amz-security-token`, `x-amz-content-sha256`) and `idempotency-key`, and
   * `allowMethods` becomes `GET` and `POST` (the methods of the routes).
   * @default - no CORS: browsers on other origins cannot call the API
   */
  readonly cors?: apigwv2.CorsPreflightOptions;

  /**
   * The VPC to place the controller and the API function in (for example to reach a private
   * agent endpoint, or where policy wants every function in a VPC). Both functions call AWS APIs
   * only: from the subnets chosen, S3, DynamoDB, Lambda, EventBridge and SSM must be reachable
   * (a NAT gateway, or VPC endpoints: gateway endpoints for S3 and DynamoDB, interface endpoints
   * for the others), and ECS too for Fargate agents, KMS with `encryptionKey` (`encryption_key` in Python).
   * @default - the functions run outside any VPC, in Lambda's own network
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets of both functions. Only with `vpc`.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The security groups of both functions. Only with `vpc`.
   * @default - one new security group for both functions: no inbound rule, outbound TCP 443 (HTTPS to the AWS APIs) only
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * What happens to the table and the new bucket when the stack deletes them (with DESTROY the
   * bucket is emptied first).
   * @default - RemovalPolicy.RETAIN; DESTROY under the throwaway switch (`Throwaway.enable(scope)`)
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Whether to create a CloudWatch dashboard.
   * @default false
   */
  readonly dashboard?: boolean;

  /**
   * Whether to add a CloudWatch Synthetics canary that makes a signed workflow-status call
   * (`GET <apiUrl>/workflows?limit=1`, SigV4 with the canary's role, granted the read routes) every
   * 5 minutes, with an alarm when it fails that notifies `alarmActions` (`alarm_actions` in Python); its artifacts bucket is
   * encrypted with `encryptionKey` (`encryption_key` in Python) when given. For other settings use
   * `ApiCanary.forWorkflowStatus(scope, id, orchestrator, options)`.
   * @default false
   */
  readonly statusCanary?: boolean;

  /**
   * The settings of the orchestrator's alarms, by name: change a threshold or the periods, turn
   * one off (`enabled: false`) or turn on one that is off by default (`agentTasksFailed`,
   * `stepDuration`). A name that is not an alarm of the orchestrator is refused.
   * @default - the six alarms on by default (workflowsFailed, controllerErrors, controllerThrottles,
   * apiErrors, apiThrottles, api5xx), each at threshold 1 over one period of 5 minutes
   */
  readonly alarms?: OrchestratorAlarms;

  /**
   * Where the orchestrator's alarms notify when they go into ALARM: an SNS topic of yours
   * (`AlarmDestination.topic(topic)`) or an email address (`AlarmDestination.email(address)`).
   * @default - alarms notify nobody; see AlarmDestination.notifyAlarmsIn
   */
  readonly alarmActions?: AlarmDestination;

  /**
   * Signed approve and reject links for each waiting approval (`ApprovalLinks.enabled()`): a
   * person decides from a link without AWS credentials. Adds `GET` and `POST /approvals/{token}`
   * without AWS authorization (they verify the token: HMAC-SHA256 with a key in Secrets Manager,
   * expiry, single use; a GET never decides), throttled per route on an API of its own. The links
   * travel in the `approval_requested` event.
   * @default - no approval links: approvals are decided through the IAM-authorized API only
   */
  readonly approvalLinks?: ApprovalLinks;

  /**
   * Where a waiting approval is announced: an SNS topic (`ApprovalNotification.toTopic(topic)`)
   * or an email address (`ApprovalNotification.toEmail(address)`, a new encrypted topic). The
   * message holds the workflow id, the prompt, the newest artifact's key and first lines and,
   * with `approvalLinks`, the links. For other targets use `onApprovalRequested()`.
   * @default - no notification (the `approval_requested` event is still published)
   */
  readonly approvalNotification?: ApprovalNotification;
}

/**
 * Runs a declared workflow on AWS Lambda durable functions: the durable controller (behind an
 * alias), the HTTP API and callback handler, the workflow state table, the artifact bucket, the
 * event bus with an archive, and alarms.
 *
 * Every route of its HTTP API requires IAM authorization; grant callers with
 * `grantStartWorkflow`, `grantReadWorkflows`, `grantApprove` and `grantCallback`. The one
 * exception is asked for by name: with `approvalLinks`, `GET`/`POST /approvals/{token}` verify a
 * signed token instead.
 *
 * With `vpc`, both functions run in the VPC and share their security groups (`connections`).
 * `addOutputs()` adds stack outputs (API URL, bucket, table, function and log group names); none
 * are created otherwise.
 */
export class DurableOrchestrator extends DurableOrchestratorBase implements ec2.IConnectable {
  /**
   * An orchestrator created in another stack or app, to grant callers its routes and read its
   * metrics: `grantStartWorkflow` and the other grants name the same routes as those of the
   * orchestrator itself. The API must be in the importing stack's account and region. The
   * import creates no resource.
   *
   * @param scope the scope of the import
   * @param id the id of the import
   * @param attrs the API id, base path and workflow name of the orchestrator (and, to use them, its controller alias, bucket and event bus)
   */
  public static fromDurableOrchestratorAttributes(scope: Construct, id: string, attrs: DurableOrchestratorAttributes): IDurableOrchestrator {
    return new ImportedDurableOrchestrator(scope, id, attrs);
  }

  /** The controller function (a durable function). */
  public readonly controllerFunction: lambda.Function;
  /** The alias every caller uses to start the controller. */
  public readonly controllerAlias: lambda.Alias;
  /** The function behind every API route. */
  public readonly apiFunction: lambda.Function;
  /** The controller's log group. */
  public readonly controllerLogGroup: logs.LogGroup;
  /** The API function's log group. */
  public readonly apiLogGroup: logs.LogGroup;
  /** Workflow state and the status projection. */
  public readonly table: dynamodb.Table;
  /** Artifacts and published reports. */
  public readonly artifactBucket: s3.IBucket;
  /** Where workflow events go. */
  public readonly eventBus: events.IEventBus;
  /** The archive of workflow events. */
  public readonly eventArchive: events.Archive;
  /** The HTTP API that holds the routes: its own, or the `SecureApi`'s when `api` is given. */
  public readonly httpApi: apigwv2.HttpApi;
  /**
   * The alarms created (see `OrchestratorAlarms`): by default on failed workflows, handler errors
   * and throttles, and 5xx answers of the API (with `api`, of the whole `SecureApi`: its metrics
   * do not tell the routes apart).
   */
  public readonly alarms: cloudwatch.Alarm[];
  /** The canary that makes a signed workflow-status call; absent unless `statusCanary` is true. */
  public readonly statusCanary?: ApiCanary;
  /** The dashboard; absent unless `dashboard` is true. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The API access log group; absent when `apiAccessLogging` is false or with `api` (see its `accessLogGroup`). */
  public readonly accessLogGroup?: logs.LogGroup;
  /** The workflow's name (the `workflow` dimension of the metrics). */
  public readonly workflowName: string;
  /** Path of the routes on the API: '' at the root, or `apiBasePath` (e.g. `/research`). */
  public readonly apiBasePath: string;
  /** The API's base URL, ending in the base path and no slash. */
  private readonly apiBaseUrl: string;
  /** The functions' network connections; absent outside a VPC. */
  private readonly _connections?: ec2.Connections;
  /** The schedules that start workflows (`addSchedule`), in the order they were added. */
  public readonly schedules: scheduler.Schedule[] = [];
  /** The key of the approval links. Absent without `approvalLinks`. */
  public readonly approvalLinkSecret?: secretsmanager.ISecret;
  /** The topic waiting approvals are announced on. Absent without `approvalNotification`. */
  public readonly approvalTopic?: sns.ITopic;
  /** The schedules' role and dead-letter queue; created by the first `addSchedule`. */
  private scheduling?: WorkflowSchedules;

  constructor(scope: Construct, id: string, props: DurableOrchestratorProps) {
    super(scope, id);
    validateProps(props);
    this.apiBasePath = apiBasePathOf(props.apiBasePath);
    this.workflowName = props.workflow.workflowName;
    const settings = resolveSettings(this, props);

    this.table = this.createTable(props, settings);
    this.artifactBucket = props.artifactBucket ?? this.createBucket(props, settings.removalPolicy);
    this.eventBus = props.eventBus ?? new events.EventBus(this, 'EventBus', { kmsKey: props.encryptionKey });
    this.eventArchive = this.createEventArchive(props);

    const network = this.createNetwork(props);
    this._connections = network && new ec2.Connections({ securityGroups: network.securityGroups });
    const configLayer = this.createConfigLayer(props);
    const controller = this.createController(props, settings, configLayer, network);
    this.controllerFunction = controller.function;
    this.controllerLogGroup = controller.logGroup;
    this.controllerAlias = this.createControllerAlias();
    const apiHandler = this.createApiFunction(props, settings, configLayer, network);
    this.apiFunction = apiHandler.function;
    this.apiLogGroup = apiHandler.logGroup;
    if (network) {
      this.grantNetworkInterfaces('Controller', controller);
      this.grantNetworkInterfaces('Api', apiHandler);
    }

    const api = props.api ? this.addSharedApiRoutes(props.api) : this.createHttpApi(props, settings);
    this.httpApi = api.httpApi;
    this.apiBaseUrl = api.baseUrl;
    this.accessLogGroup = api.accessLogGroup;

    const targetsPrefix = this.configureAgents(props.agents, configLayer);
    this.configureEnvironment(settings, configLayer, targetsPrefix);
    this.node.addValidation({ validate: () => checkStackResources(this) });
    this.grantController(controller.role);
    this.grantApiFunction();
    const links = props.approvalLinks?._enabled === true ? props.approvalLinks : undefined;
    if (links) {
      this.approvalLinkSecret = wireApprovalLinks({
        scope: this,
        links,
        encryptionKey: props.encryptionKey,
        removalPolicy: settings.removalPolicy,
        controllerFunction: this.controllerFunction,
        apiFunction: this.apiFunction,
        apiUrl: this.apiBaseUrl,
        apiBasePath: this.apiBasePath,
        ...(api.stage ? { ownApi: { httpApi: api.httpApi, stage: api.stage } } : { sharedApi: props.api }),
      });
    }
    if (props.approvalNotification) {
      this.approvalTopic = wireApprovalNotification({
        scope: this,
        notification: props.approvalNotification,
        links: links !== undefined,
        encryptionKey: props.encryptionKey,
        onApprovalRequested: (ruleId, options) => this.onApprovalRequested(ruleId, options),
      });
    }

    this.alarms = this.createAlarms(props);
    if (props.statusCanary) {
      this.statusCanary = ApiCanary.forWorkflowStatus(this, 'StatusCanary', this, {
        alarmActions: props.alarmActions,
        artifactsEncryptionKey: props.encryptionKey,
        removalPolicy: props.removalPolicy,
      });
      this.alarms.push(...this.statusCanary.alarms);
    }
    if (props.dashboard) this.dashboard = this.createDashboard();
    this.acknowledge(props);
  }

  /**
   * The base URL of the workflow routes: the HTTP API's endpoint, or with `api` the `SecureApi`'s
   * URL followed by `apiBasePath` (no trailing slash either way).
   */
  public get apiUrl(): string {
    return this.apiBaseUrl;
  }

  /** ARN of the controller's alias (`controllerAlias.functionArn`). */
  public get controllerAliasArn(): string {
    return this.controllerAlias.functionArn;
  }

  /**
   * The network connections of the controller and the API function, which share their security
   * groups: `dataTier.allowDefaultPortsFrom(orchestrator)`, `orchestrator.connections.allowTo(...)`.
   * Only with `vpc`: outside a VPC the functions have no security group, and reading it throws.
   */
  public get connections(): ec2.Connections {
    if (!this._connections) {
      throw new Error(`DurableOrchestrator ${this.node.path} is not in a VPC, so its functions have no security groups to connect; ` +
        'give it vpc (and optionally vpcSubnets and securityGroups)');
    }
    return this._connections;
  }

  /**
   * Adds an EventBridge Scheduler schedule that starts the workflow with a fixed input. Each tick
   * invokes the API function (the schedules' role may invoke that function and send to their
   * dead-letter queue, nothing else) with
   * `{ "scheduled_start": { "schedule": id, "scheduled_time": <the tick's scheduled time>, "input": {...} } }`;
   * the function checks the input as `POST /workflows` does and starts one workflow per schedule
   * and scheduled time: a tick delivered twice answers the workflow it started.
   *
   * The first schedule also creates the dead-letter queue the schedules share
   * (`scheduleDeadLetterQueue`: encrypted, with `encryptionKey` when given, TLS only, 14 days):
   * ticks Scheduler could not deliver, and ticks the function refused or could not start after
   * Lambda's two retries, land there.
   *
   * @param id the schedule's construct id and its name in each tick (1 to 64 letters, digits, _, . and -)
   * @param options when, the input, and how undelivered ticks are retried
   * @returns the schedule (also in `schedules`)
   */
  public addSchedule(id: string, options: WorkflowScheduleOptions): scheduler.Schedule {
    this.scheduling ??= new WorkflowSchedules(this, 'Schedules', { target: this.apiFunction, encryptionKey: this.table.encryptionKey });
    const schedule = this.scheduling.add(`DurableOrchestrator.addSchedule('${id}')`, id, options);
    this.schedules.push(schedule);
    return schedule;
  }

  /**
   * The dead-letter queue of the schedules: ticks that started no workflow. Absent until the
   * first `addSchedule`.
   */
  public get scheduleDeadLetterQueue(): sqs.IQueue | undefined {
    return this.scheduling?.deadLetterQueue;
  }

  /**
   * Adds stack outputs a person or a script reads after deploy (`cdk deploy --outputs-file`,
   * `aws cloudformation describe-stacks`): `<prefix>ApiUrl`, `<prefix>HttpApiId`,
   * `<prefix>ArtifactBucketName`, `<prefix>WorkflowTableName`, `<prefix>EventBusName`,
   * `<prefix>ControllerFunctionName`, `<prefix>ControllerAliasArn`, `<prefix>ApiFunctionName`,
   * `<prefix>ControllerLogGroupName`, `<prefix>ApiLogGroupName`, and
   * `<prefix>ApiAccessLogGroupName` when the orchestrator has an access log group of its own.
   *
   * The orchestrator creates no output unless this is called (as aws-cdk-lib constructs create
   * none): outputs are the app's interface, and exports tie stacks together. Call it once.
   *
   * @param options the logical id prefix and, to export them, the export name prefix
   * @returns the outputs, in the order above
   */
  public addOutputs(options: DurableOrchestratorOutputsOptions = {}): CfnOutput[] {
    const path = this.node.path;
    const specs: OutputSpec[] = [
      { name: 'ApiUrl', value: this.apiUrl, description: `Base URL of the workflow routes of ${path} (POST <url>/workflows starts a workflow; IAM authorization, SigV4)` },
      { name: 'HttpApiId', value: this.httpApi.apiId, description: `Id of the HTTP API holding the workflow routes of ${path} (httpApiId of DurableOrchestrator.fromDurableOrchestratorAttributes)` },
      { name: 'ArtifactBucketName', value: this.artifactBucket.bucketName, description: `Artifact bucket of ${path} (agents' artifacts under agents/, reports under published/)` },
      { name: 'WorkflowTableName', value: this.table.tableName, description: `DynamoDB table of the workflow state of ${path}` },
      { name: 'EventBusName', value: this.eventBus.eventBusName, description: `EventBridge bus of the workflow events of ${path}` },
      { name: 'ControllerFunctionName', value: this.controllerFunction.functionName, description: `Durable controller function of ${path}` },
      { name: 'ControllerAliasArn', value: this.controllerAlias.functionArn, description: `ARN of the alias 'live' every caller starts the controller of ${path} through` },
      { name: 'ApiFunctionName', value: this.apiFunction.functionName, description: `API and callback function of ${path}` },
      { name: 'ControllerLogGroupName', value: this.controllerLogGroup.logGroupName, description: `Log group of the controller of ${path}` },
      { name: 'ApiLogGroupName', value: this.apiLogGroup.logGroupName, description: `Log group of the API and callback function of ${path}` },
    ];
    if (this.accessLogGroup) {
      specs.push({ name: 'ApiAccessLogGroupName', value: this.accessLogGroup.logGroupName, description: `Access log group of the HTTP API of ${path}` });
    }
    return addStackOutputs(this, 'DurableOrchestrator.addOutputs', specs, options);
  }

  /**
   * Errors of the controller function (AWS/Lambda `Errors`, sum over 5 minutes unless `props` say
   * otherwise).
   */
  public metricControllerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.controllerFunction.metricErrors({ period: Duration.minutes(5), ...props });
  }

  /**
   * Errors of the API function, which serves every route and the agents' callbacks (AWS/Lambda
   * `Errors`, sum over 5 minutes unless `props` say otherwise).
   */
  public metricApiErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.apiFunction.metricErrors({ period: Duration.minutes(5), ...props });
  }

  /** The workflow table: workflow state and the status projection, with its two indexes. */
  private createTable(props: DurableOrchestratorProps, settings: Settings): dynamodb.Table {
    const s = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const table = new dynamodb.Table(this, 'WorkflowTable', {
      partitionKey: s(TABLE.partitionKey),
      sortKey: s(TABLE.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: TABLE.ttlAttribute,
      removalPolicy: settings.removalPolicy,
    });
    for (const index of [TABLE.statusIndex, TABLE.updatedIndex]) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: s(index.partitionKey),
        sortKey: s(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }

  /** The archive of the workflow events on `this.eventBus`, for replay. */
  private createEventArchive(props: DurableOrchestratorProps): events.Archive {
    return new events.Archive(this, 'EventArchive', {
      // Archive names are limited to 48 characters; a generated one can be longer.
      archiveName: Names.uniqueResourceName(this, { maxLength: 48, separator: '-' }),
      sourceEventBus: this.eventBus,
      eventPattern: { source: [EVENT_SOURCE] },
      description: `Workflow events of ${this.node.path}, for replay`,
      retention: props.eventArchiveRetention ?? Duration.days(30),
    });
  }

  /** The layer that carries the rendered workflow definition to both functions. */
  private createConfigLayer(props: DurableOrchestratorProps): WorkflowConfigLayer {
    const agentNames = props.agents.map((a) => a.agentName);
    return new WorkflowConfigLayer(this, 'WorkflowConfig', {
      definitionJson: props.workflow.toJson(agentNames),
      agentNames,
      description: `Workflow '${this.workflowName}' of ${this.node.path}: the definition its functions run`,
    });
  }

  /** The durable controller function. */
  private createController(props: DurableOrchestratorProps, settings: Settings, configLayer: WorkflowConfigLayer,
    network: Network | undefined): BundledFunction {
    return new BundledFunction(this, 'Controller', {
      bundle: 'durable-orchestrator/handlers/controller.lambda',
      description: `Durable controller of workflow '${this.workflowName}'`,
      memorySize: props.controllerMemoryMiB ?? 1024,
      timeout: props.controllerTimeout ?? Duration.minutes(15),
      logRetention: settings.logRetention,
      logEncryptionKey: props.encryptionKey,
      tracing: settings.tracing,
      functionProps: {
        ...network,
        layers: [configLayer.layer],
        durableConfig: {
          executionTimeout: props.executionTimeout ?? Duration.days(30),
          retentionPeriod: props.executionHistoryRetention ?? Duration.days(14),
        },
      },
    });
  }

  /** The `live` alias of the controller's current version, through which every caller starts it. */
  private createControllerAlias(): lambda.Alias {
    return new lambda.Alias(this, 'ControllerAlias', {
      aliasName: 'live',
      version: this.controllerFunction.currentVersion,
      description: 'Every caller starts the controller through this alias',
    });
  }

  /** The function behind every API route, agent callbacks included. */
  private createApiFunction(props: DurableOrchestratorProps, settings: Settings, configLayer: WorkflowConfigLayer,
    network: Network | undefined): BundledFunction {
    return new BundledFunction(this, 'Api', {
      bundle: 'durable-orchestrator/handlers/api.lambda',
      description: `HTTP API and agent callbacks of workflow '${this.workflowName}'`,
      memorySize: props.apiMemoryMiB ?? 512,
      timeout: Duration.seconds(29),
      logRetention: settings.logRetention,
      logEncryptionKey: props.encryptionKey,
      tracing: settings.tracing,
      functionProps: { ...network, layers: [configLayer.layer] },
    });
  }

  /**
   * With `vpc`: where both functions go, and their security groups (given, or one new group with
   * no inbound rule and HTTPS out, shared by both so that `connections` stands for both).
   */
  private createNetwork(props: DurableOrchestratorProps): Network | undefined {
    const vpc = props.vpc;
    if (!vpc) return undefined;
    if (!props.vpcSubnets && vpc.privateSubnets.length === 0) {
      throw new Error(`DurableOrchestrator: vpc ${vpc.node.path} has no private subnets with egress, where the functions go by default; ` +
        'with isolated subnets that reach the AWS APIs through VPC endpoints, pass vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }');
    }
    let securityGroups = props.securityGroups;
    if (!securityGroups) {
      const group = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
        vpc,
        description: `Controller and API function of ${this.node.path}: no inbound, HTTPS out to the AWS APIs`,
        allowAllOutbound: false,
      });
      group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the AWS APIs (through NAT or VPC endpoints)');
      securityGroups = [group];
    }
    return { vpc, vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups };
  }

  /**
   * What Lambda needs to attach a function to the VPC (the network interface actions of the AWS
   * managed AWSLambdaVPCAccessExecutionRole, without its logs:* on every log group), in a policy
   * of its own that the function waits for: Lambda checks it when the function is created, and
   * needs it until the function's interfaces are deleted.
   */
  private grantNetworkInterfaces(id: string, handler: BundledFunction): void {
    const policy = new iam.Policy(this, `${id}VpcAccessPolicy`, {
      roles: [handler.role],
      statements: [new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      })],
    });
    handler.function.node.addDependency(policy);
    acknowledgeFindings(policy, [{
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Lambda attaches a function to its VPC through network interfaces it creates with the execution role; ' +
        'ec2:CreateNetworkInterface and ec2:DescribeNetworkInterfaces work only on Resource "*" (the actions of the AWS managed ' +
        'AWSLambdaVPCAccessExecutionRole, without its logs:* on every log group).',
    }]);
  }

  /** Puts every route on a `SecureApi` of the same stack, under `apiBasePath`, with IAM authorization. */
  private addSharedApiRoutes(shared: SecureApi): ApiParts {
    if (Stack.of(shared) !== Stack.of(this)) {
      throw new Error(`DurableOrchestrator: api ${shared.node.path} is in stack ${Stack.of(shared).node.path} and the orchestrator ` +
        `in ${Stack.of(this).node.path}; the routes and the callback URL would refer to each other across stacks (a cycle). ` +
        'Create the orchestrator in the SecureApi\'s stack');
    }
    for (const route of ALL_ROUTES) {
      const path = `${this.apiBasePath}${route.path}`;
      try {
        // Ids from the route itself (not its position), so that a route added later replaces nothing.
        shared.addLambdaRoute(`${Names.uniqueId(this)}${path.replace(/[^A-Za-z0-9]/g, '')}`, {
          path,
          methods: [route.method],
          handler: this.apiFunction,
          authorization: ApiAuthorization.iam(),
        });
      } catch (e) {
        throw new Error(`DurableOrchestrator ${this.node.path}: cannot put ${route.method} ${path} on ${shared.node.path}: ` +
          `${(e as Error).message}. Give each orchestrator on a shared SecureApi its own apiBasePath, outside the services' path prefixes`);
      }
    }
    return {
      httpApi: shared.httpApi,
      // SecureApi.url ends in '/'; apiUrl and the callback URL end in none (nor does the normalized base path).
      baseUrl: `${shared.url.replace(/\/$/, '')}${this.apiBasePath}`,
    };
  }

  /** An HTTP API of its own: IAM authorization on every route, a throttled stage, access logs. */
  private createHttpApi(props: DurableOrchestratorProps, settings: Settings): ApiParts {
    const httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: `Workflows of ${this.node.path}; every route requires IAM authorization`,
      defaultAuthorizer: new HttpIamAuthorizer(),
      createDefaultStage: false,
      corsPreflight: corsPreflightOf(props.cors),
    });
    const accessLogGroup = props.apiAccessLogging !== false
      ? new logs.LogGroup(this, 'ApiAccessLogs', {
        retention: settings.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
        encryptionKey: logsKey(props.encryptionKey),
      })
      : undefined;
    const stage = httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.apiThrottlingRateLimit ?? 50, burstLimit: props.apiThrottlingBurstLimit ?? 100 },
      accessLogSettings: accessLogGroup ? {
        destination: new apigwv2.LogGroupLogDestination(accessLogGroup),
        format: apigw.AccessLogFormat.jsonWithStandardFields(),
      } : undefined,
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', this.apiFunction);
    for (const route of ALL_ROUTES) {
      httpApi.addRoutes({ path: route.path, methods: [route.method], integration });
    }
    return { httpApi, baseUrl: httpApi.apiEndpoint, accessLogGroup, stage };
  }

  /**
   * Binds each agent: its dispatch target in an SSM parameter written at deploy time, its grants,
   * and what the local server needs to run it. Returns the parameters' path prefix.
   *
   * The definition travels in a layer (pinned by each controller version: the SHA-256 in the
   * environment changes with it, so a new definition publishes a new version), each agent's
   * target in an SSM parameter; the environment holds names only.
   */
  private configureAgents(agents: IDispatchableAgent[], configLayer: WorkflowConfigLayer): string {
    const targetsPrefix = `/cdk-durable-agents/${Names.uniqueResourceName(this, { maxLength: 180, separator: '-' })}/agents`;
    const local: Record<string, unknown> = {};
    for (const agent of agents) {
      const config = agent.bindDispatch(this, this.controllerFunction);
      new ssm.StringParameter(this, `${agent.agentName}AgentTarget`, {
        parameterName: `${targetsPrefix}/${agent.agentName}`,
        stringValue: Stack.of(this).toJsonString(config._renderTarget()),
        description: `Where ${this.node.path} dispatches tasks of agent '${agent.agentName}' (written by the construct)`,
        tier: ssm.ParameterTier.STANDARD,
      });
      local[agent.agentName] = { kind: config.kind, ...(config.localCommand ? { localCommand: config.localCommand } : {}) };
      this.grantAgent(agent.agentName, config.runtimePrincipal);
    }
    grantScoped(this.controllerFunction, {
      actions: ['ssm:GetParameter'],
      resources: [Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${targetsPrefix.slice(1)}/*` })],
      wildcardReason: 'The dispatch targets of this orchestrator\'s agents, one parameter per agent under its own path, read when a task is dispatched.',
    });
    // What the local server needs to run this workflow from the synthesized app.
    // The definition is not copied into the template: the metadata points at the layer's file.
    (this.controllerFunction.node.defaultChild as CfnResource).addMetadata(LOCAL_METADATA_KEY, {
      configFile: configLayer.assemblyFile,
      configSha256: configLayer.sha256,
      agents: local,
    });
    return targetsPrefix;
  }

  /** The environment of both functions: names of the resources they use, never a definition or a target. */
  private configureEnvironment(settings: Settings, configLayer: WorkflowConfigLayer, targetsPrefix: string): void {
    const shared: Record<string, string> = {
      [ENV.tableName]: this.table.tableName,
      [ENV.bucketName]: this.artifactBucket.bucketName,
      [ENV.eventBusName]: this.eventBus.eventBusName,
      [ENV.configSha256]: configLayer.sha256,
      [ENV.stateRetentionDays]: String(settings.stateRetentionDays),
      POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      [ENV.traceEnabled]: String(settings.tracing === lambda.Tracing.ACTIVE),
    };
    for (const [k, v] of Object.entries(shared)) {
      this.apiFunction.addEnvironment(k, v);
      this.controllerFunction.addEnvironment(k, v);
    }
    // The controller never starts executions (naming its own alias would be a cycle), and the API dispatches nothing.
    this.controllerFunction.addEnvironment(ENV.agentTargetsPrefix, targetsPrefix);
    this.controllerFunction.addEnvironment(ENV.callbackBaseUrl, this.apiBaseUrl);
    this.apiFunction.addEnvironment(ENV.controllerArn, this.controllerAlias.functionArn);
    if (this.apiBasePath) this.apiFunction.addEnvironment(ENV.apiBasePath, this.apiBasePath);
  }

  /**
   * Controller: state, artifacts (read agents' output, write published reports), events,
   * checkpoints of its own durable executions.
   */
  private grantController(controllerRole: iam.IRole): void {
    this.grantState(this.controllerFunction);
    this.grantArtifacts(this.controllerFunction, ['s3:GetObject'], ARTIFACT_ROOTS.agents);
    this.grantArtifacts(this.controllerFunction, ['s3:PutObject'], ARTIFACT_ROOTS.published);
    this.grantListArtifacts(this.controllerFunction);
    this.eventBus.grantPutEventsTo(this.controllerFunction);
    // Its own durable executions (`<function ARN>:<version>/durable-execution/...`). A separate
    // policy: the function's default policy cannot name the function it is a dependency of.
    const checkpoints = new iam.Policy(this, 'ControllerCheckpointPolicy', { roles: [controllerRole] });
    checkpoints.addStatements(new iam.PolicyStatement({
      // Checkpoints, and failing the callbacks of parallel branches it abandons.
      actions: ['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecutionState', 'lambda:SendDurableExecutionCallbackFailure'],
      resources: [`${this.controllerFunction.functionArn}:*`],
    }));
    acknowledgeFindings(checkpoints, [{
      id: `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(this).resolve(this.controllerFunction.functionArn))}:*]`,
      reason: DURABLE_EXECUTIONS_REASON,
    }]);
  }

  /** API: state, checking reported artifacts exist, starting executions, completing callbacks. */
  private grantApiFunction(): void {
    this.grantState(this.apiFunction);
    this.grantArtifacts(this.apiFunction, ['s3:GetObject'], ARTIFACT_ROOTS.agents);
    this.grantListArtifacts(this.apiFunction);
    grantScoped(this.apiFunction, {
      actions: ['lambda:InvokeFunction'],
      resources: [this.controllerAlias.functionArn],
    });
    grantScoped(this.apiFunction, {
      actions: [
        'lambda:SendDurableExecutionCallbackSuccess',
        'lambda:SendDurableExecutionCallbackFailure',
        'lambda:SendDurableExecutionCallbackHeartbeat',
      ],
      resources: [`${this.controllerFunction.functionArn}:*`],
      wildcardReason: DURABLE_EXECUTIONS_REASON,
    });
  }

  /** An agent may write under its own prefix, read agents' artifacts (its inputs), and call back. */
  private grantAgent(agentName: string, runtimePrincipal: iam.IGrantable): void {
    // An agent of another stack is granted through a policy in this one (no cycle between the stacks).
    const principal = stackLocalGrantee(this, `${agentName}AgentGrants`, runtimePrincipal);
    this.grantArtifacts(principal, ['s3:PutObject'], agentPrefix(agentName));
    this.grantArtifacts(principal, ['s3:GetObject'], ARTIFACT_ROOTS.agents);
    this.grantCallback(principal);
  }

  /** Items of the workflow table and its two indexes, with exactly the calls the store makes. */
  private grantState(grantee: iam.IGrantable): void {
    grantScoped(grantee, {
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
      resources: [this.table.tableArn, ...[TABLE.statusIndex, TABLE.updatedIndex].map((i) => `${this.table.tableArn}/index/${i.name}`)],
    });
    if (this.table.encryptionKey) grantKeyEncryptDecrypt(this.table.encryptionKey, grantee, 'the workflow table');
  }

  /** Objects under one prefix of the artifact bucket. */
  private grantArtifacts(grantee: iam.IGrantable, actions: string[], prefix: string): void {
    grantScoped(grantee, {
      actions,
      resources: [this.artifactBucket.arnForObjects(`${prefix}*`)],
      wildcardReason: `Objects under the '${prefix}' prefix of this orchestrator's artifact bucket, whose keys hold run-time ids ` +
        '(workflow, step, attempt); no other prefix and no other bucket.',
    });
    const key = this.artifactBucket.encryptionKey;
    if (key) {
      if (actions.some((a) => a.startsWith('s3:Put'))) grantKeyEncryptDecrypt(key, grantee, 'the artifact bucket');
      else key.grantDecrypt(grantee);
    }
  }

  private grantListArtifacts(grantee: iam.IGrantable): void {
    // Without ListBucket, S3 answers 403 instead of 404 for a missing key.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.artifactBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${ARTIFACT_ROOTS.agents}*`, `${ARTIFACT_ROOTS.published}*`] } },
    });
  }

  private createBucket(props: DurableOrchestratorProps, removalPolicy: RemovalPolicy): s3.Bucket {
    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY;
    // Server access logs go through a bucket policy for the logging service, not the legacy
    // log-delivery ACL (what the @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy flag does, kept
    // here whatever flags the app sets).
    const accessLogs = new s3.Bucket(this, 'ArtifactAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
      autoDeleteObjects,
    });
    const bucket = new s3.Bucket(this, 'ArtifactBucket', {
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: props.encryptionKey ? true : undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: props.artifactVersioning ?? true,
      lifecycleRules: [{
        transitions: [{
          storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
          transitionAfter: props.artifactTransitionAfter ?? Duration.days(90),
        }],
        noncurrentVersionExpiration: (props.artifactVersioning ?? true) ? Duration.days(30) : undefined,
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      }],
      removalPolicy,
      autoDeleteObjects,
    });
    acknowledgeCdkProviders(bucket);
    (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: accessLogs.bucketName,
      logFilePrefix: 'artifacts/',
    };
    accessLogs.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [accessLogs.arnForObjects('artifacts/*')],
      conditions: {
        ArnLike: { 'aws:SourceArn': bucket.bucketArn },
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      },
    }));
    acknowledgeFindings(accessLogs, [{
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the artifact bucket\'s server access logs; logging it to itself would loop.',
    }]);
    return bucket;
  }

  /** The named alarms (OrchestratorAlarms), built by the library's one alarm factory. */
  private createAlarms(props: DurableOrchestratorProps): cloudwatch.Alarm[] {
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const sharedApi = props.api;
    const spec = (key: keyof OrchestratorAlarms, name: string, description: string, metric: (period: Duration) => cloudwatch.IMetric,
      more: Partial<AlarmSpec> = {}): AlarmSpec => ({ key, name, description, metric, comparison: atLeast, threshold: 1, enabled: true, ...more });
    const specs: AlarmSpec[] = [
      spec('workflowsFailed', 'WorkflowsFailed', `Workflows of '${this.workflowName}' failed or timed out`,
        (period) => this.metricWorkflowsFailed({ period })),
      spec('controllerErrors', 'ControllerErrors', 'The durable controller raised errors', (period) => this.controllerFunction.metricErrors({ period })),
      spec('controllerThrottles', 'ControllerThrottles', 'The durable controller was throttled', (period) => this.controllerFunction.metricThrottles({ period })),
      spec('apiErrors', 'ApiErrors', 'The API handler raised errors', (period) => this.apiFunction.metricErrors({ period })),
      spec('apiThrottles', 'ApiThrottles', 'The API handler was throttled', (period) => this.apiFunction.metricThrottles({ period })),
      // HTTP API metrics have no per-route dimension (without paid detailed metrics): on a shared
      // SecureApi this alarm would count the 5xx answers of every route, which the SecureApi's own
      // serverErrors alarm already does; it is off there unless asked for.
      spec('api5xx', 'Api5xx', sharedApi
        ? `The shared SecureApi ${sharedApi.node.path} answered 5xx on one of its routes (this orchestrator's or another's)`
        : 'The HTTP API answered 5xx', (period) => this.httpApi.metricServerError({ period }), { enabled: !sharedApi }),
      spec('agentTasksFailed', 'AgentTasksFailed', `Attempts of agent steps of '${this.workflowName}' failed or timed out`,
        (period) => this.metricAgentTasksFailed({ period }), { enabled: false }),
      spec('stepDuration', 'StepDuration', `The p99 duration of steps of '${this.workflowName}' is above the threshold (milliseconds)`,
        (period) => this.metricStepDuration({ period, statistic: cloudwatch.Stats.p(99) }),
        { enabled: false, threshold: Duration.minutes(15).toMilliseconds(), comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD }),
    ];
    return createAlarms(this, {
      owner: 'DurableOrchestrator',
      prop: 'alarms',
      specs,
      configs: props.alarms ? { ...props.alarms } : undefined,
      destination: props.alarmActions,
    });
  }

  private createDashboard(): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Workflows',
        left: [this.metricWorkflowsStarted(), this.metricWorkflowsSucceeded(), this.metricWorkflowsFailed()],
        right: [this.metricApprovalsRequested()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({ title: 'Step duration (ms)', left: [this.metricStepDuration()], width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Agent tasks: failed or timed-out attempts', left: [this.metricAgentTasksFailed()], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Agent task duration (ms)', left: [this.metricAgentTaskDuration()], width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Functions: errors and throttles',
        left: [this.controllerFunction.metricErrors(), this.apiFunction.metricErrors()],
        right: [this.controllerFunction.metricThrottles(), this.apiFunction.metricThrottles()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API: 4xx, 5xx, latency',
        left: [this.httpApi.metricClientError(), this.httpApi.metricServerError()],
        right: [this.httpApi.metricLatency()],
        width: 12,
      }),
    );
    if (this.alarms.length > 0) dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
    return dashboard;
  }

  private acknowledge(props: DurableOrchestratorProps): void {
    const reason = {
      lambdaDlq: 'Both functions are invoked synchronously (API Gateway) or as durable executions, whose state Lambda keeps; ' +
        'failures are recorded in the workflow table and raise alarms, so a DLQ would hold nothing.',
      concurrency: 'Reserved concurrency would cap workflows that mostly sleep; the API is throttled at the stage and alarms watch throttles.',
      vpc: 'The functions call only AWS APIs (DynamoDB, S3, EventBridge, Lambda, ECS) over TLS with IAM; a VPC would add NAT cost and nothing ' +
        'to their isolation. Pass vpc to place them in one.',
    };
    acknowledgeFindings(this, [
      { id: 'Serverless-LambdaDLQ', reason: reason.lambdaDlq },
      { id: 'HIPAA.Security-LambdaConcurrency', reason: reason.concurrency },
      ...(props.vpc ? [] : [{ id: 'HIPAA.Security-LambdaInsideVPC', reason: reason.vpc }]),
    ]);
    if (!props.encryptionKey) {
      Annotations.of(this).addInfo('The table, bucket and event bus use AWS managed encryption; pass encryptionKey to use your own KMS key.');
    }
  }
}

/** Settings several of the constructor's steps share, after defaults. */
interface Settings {
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  readonly tracing: lambda.Tracing;
  readonly stateRetentionDays: number;
}

function resolveSettings(scope: Construct, props: DurableOrchestratorProps): Settings {
  return {
    removalPolicy: removalPolicyOf(scope, props.removalPolicy, RemovalPolicy.RETAIN),
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_WEEK,
    tracing: props.tracing === false ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
    stateRetentionDays: (props.stateRetention ?? Duration.days(14)).toDays(),
  };
}

/** Options of `DurableOrchestrator.addOutputs` (`DurableOrchestrator.add_outputs` in Python). */
export interface DurableOrchestratorOutputsOptions {
  /**
   * The start of every output's logical id (letters and digits, starting with a letter): the
   * outputs are `<prefix>ApiUrl`, `<prefix>ArtifactBucketName`, ...
   * @default - the orchestrator's path in its stack, letters and digits only (`Research` for an orchestrator with the id `Research` at the top of its stack)
   */
  readonly outputIdPrefix?: string;

  /**
   * Exports the outputs as `<exportNamePrefix>-<name>` (e.g. `research-ApiUrl`), for other stacks
   * of the account and region to read with `Fn.importValue` (an exported value cannot change or
   * go while another stack imports it).
   * @default - the outputs are not exported
   */
  readonly exportNamePrefix?: string;
}

/** Where the functions go in a VPC: exactly the `lambda.FunctionProps` they get. */
interface Network {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

/** The headers a browser sends with a SigV4-signed call of a workflow route. */
const SIGNED_REQUEST_HEADERS = ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', IDEMPOTENCY_HEADER];

/** The CORS of an API of its own: the given options, with the headers and methods of the routes where they are left unset. */
function corsPreflightOf(cors: apigwv2.CorsPreflightOptions | undefined): apigwv2.CorsPreflightOptions | undefined {
  if (!cors) return undefined;
  return {
    ...cors,
    allowHeaders: cors.allowHeaders ?? SIGNED_REQUEST_HEADERS,
    allowMethods: cors.allowMethods ?? [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST],
  };
}

/** The HTTP API that holds the routes, the routes' base URL, and the access log group of an API of its own. */
interface ApiParts {
  readonly httpApi: apigwv2.HttpApi;
  readonly baseUrl: string;
  readonly accessLogGroup?: logs.LogGroup;
  /** The `$default` stage of an API of its own (absent on a shared `SecureApi`). */
  readonly stage?: apigwv2.HttpStage;
}

function validateProps(props: DurableOrchestratorProps): void {
  if (props.agents.length === 0) {
    throw new Error('DurableOrchestrator: agents is empty; pass the agents the workflow\'s agent steps name: ' +
      `${props.workflow.agentNames.join(', ') || '(none)'}`);
  }
  const names = props.agents.map((a) => a.agentName);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`DurableOrchestrator: two agents are named '${duplicate}'; agent names must be unique`);
  const missing = props.workflow.agentNames.filter((n) => !names.includes(n));
  if (missing.length > 0) {
    throw new Error(`DurableOrchestrator: the workflow uses agent(s) ${missing.map((m) => `'${m}'`).join(', ')} that are not in agents ` +
      `(${names.map((n) => `'${n}'`).join(', ')}); add them to agents or fix the steps`);
  }
  const problems = props.workflow.validate(names);
  if (problems.length > 0) {
    throw new Error(`DurableOrchestrator: the workflow '${props.workflow.workflowName}' is not valid:\n- ${problems.join('\n- ')}`);
  }
  const owner = 'DurableOrchestrator';
  checkRange(owner, 'controllerMemoryMiB', props.controllerMemoryMiB, { min: 128, max: 10_240, fix: 'Lambda takes 128 to 10240 MiB' });
  checkRange(owner, 'apiMemoryMiB', props.apiMemoryMiB, { min: 128, max: 10_240, fix: 'Lambda takes 128 to 10240 MiB' });
  checkDurationRange(owner, 'controllerTimeout', props.controllerTimeout, {
    min: Duration.seconds(1),
    max: Duration.minutes(15),
    subject: 'one invocation of a Lambda function',
    fix: 'set controllerTimeout in that range (the controller sleeps between invocations, so a workflow can last longer)',
  });
  checkDurationRange(owner, 'executionTimeout', props.executionTimeout, { min: Duration.minutes(1), max: Duration.days(366), subject: 'a durable execution' });
  const days = (min: number, max: number) => ({ min: Duration.days(min), max: Duration.days(max), whole: 'days' as const });
  checkDurationRange(owner, 'executionHistoryRetention', props.executionHistoryRetention, days(1, 90));
  checkDurationRange(owner, 'stateRetention', props.stateRetention, days(1, 3650));
  checkDurationRange(owner, 'artifactTransitionAfter', props.artifactTransitionAfter, days(1, 3650));
  checkRange(owner, 'apiThrottlingRateLimit', props.apiThrottlingRateLimit, { min: 1, max: 10_000, unit: 'requests per second', integer: false });
  checkRange(owner, 'apiThrottlingBurstLimit', props.apiThrottlingBurstLimit, { min: 1, max: 5_000, unit: 'requests' });
  validateNetwork(props);
  if (props.api) {
    const own = (['apiAccessLogging', 'apiThrottlingRateLimit', 'apiThrottlingBurstLimit', 'cors'] as const).filter((k) => props[k] !== undefined);
    if (own.length > 0) {
      throw new Error(`DurableOrchestrator: ${own.join(', ')} configure the HTTP API the orchestrator creates; with api, ` +
        'the SecureApi logs, throttles and answers CORS for every route: configure it there (SecureApi props throttlingRateLimit, ' +
        'throttlingBurstLimit, cors) and leave these unset');
    }
  } else if (props.apiBasePath !== undefined) {
    throw new Error(`DurableOrchestrator: apiBasePath '${props.apiBasePath}' places the routes on a shared SecureApi; ` +
      'pass that SecureApi as api, or leave apiBasePath unset');
  }
  validateCors(props.cors);
  if (props.artifactBucket && (props.artifactVersioning !== undefined || props.artifactTransitionAfter !== undefined)) {
    throw new Error('DurableOrchestrator: artifactVersioning and artifactTransitionAfter configure the bucket the orchestrator creates; ' +
      'with artifactBucket, configure your bucket yourself and leave them unset');
  }
}

/** vpcSubnets and securityGroups place the functions in `vpc`, and mean nothing without it. */
function validateNetwork(props: DurableOrchestratorProps): void {
  const without = (['vpcSubnets', 'securityGroups'] as const).filter((k) => props[k] !== undefined);
  if (!props.vpc && without.length > 0) {
    throw new Error(`DurableOrchestrator: ${without.join(' and ')} ${without.length > 1 ? 'place' : 'places'} the functions in a VPC, ` +
      'but vpc is not given; pass vpc too, or leave them unset to run the functions outside any VPC');
  }
  if (props.securityGroups && props.securityGroups.length === 0) {
    throw new Error('DurableOrchestrator: securityGroups is empty; give at least one security group, or leave it unset for one new group ' +
      '(no inbound, HTTPS out)');
  }
}

/** CORS that browsers and API Gateway accept. */
function validateCors(cors: apigwv2.CorsPreflightOptions | undefined): void {
  if (!cors) return;
  const origins = cors.allowOrigins ?? [];
  if (origins.length === 0) {
    throw new Error('DurableOrchestrator: cors.allowOrigins is empty, so no browser could call the API; list the origins ' +
      '(e.g. [\'https://app.example.com\']), or leave cors unset');
  }
  if (cors.allowCredentials && origins.includes('*')) {
    throw new Error('DurableOrchestrator: cors.allowCredentials cannot be combined with allowOrigins [\'*\'] (browsers and API Gateway ' +
      'refuse it); list the origins. Signed (SigV4) requests need no credentials mode: allowCredentials is for cookies');
  }
}

/** `/a/b` (leading slash, none trailing) or '' for the root; the runtime strips it from request paths. */
function apiBasePathOf(basePath: string | undefined): string {
  if (basePath === undefined) return '';
  if (Token.isUnresolved(basePath)) {
    throw new Error('DurableOrchestrator: apiBasePath must be known at synth (it is part of every route key and of the callback URL); ' +
      'give a literal such as \'/research\', not a token or parameter');
  }
  const normalized = normalizeBasePath(basePath);
  if (normalized === undefined) {
    throw new Error(`DurableOrchestrator: apiBasePath must be plain path segments starting with '/', such as '/research', got '${basePath}'`);
  }
  return normalized;
}


/**
 * CloudFormation refuses a stack of more than 500 resources; say so at synth with the way out
 * (each `ContainerAgent` brings its own resources, so many agents fill a stack).
 */
function checkStackResources(orchestrator: DurableOrchestrator): string[] {
  const stack = Stack.of(orchestrator);
  const count = stack.node.findAll().filter((c) => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length;
  if (count <= STACK_RESOURCE_LIMIT) return [];
  return [`stack ${stack.node.path} has ${count} resources, more than CloudFormation's limit of ${STACK_RESOURCE_LIMIT} per stack. ` +
    'Create some of the agents (ContainerAgent, or what an AgentTarget points at) in another stack of the same app and environment ' +
    'and pass them in agents as before: the orchestrator then depends on that stack, and its grants to them are written in its own stack'];
}
