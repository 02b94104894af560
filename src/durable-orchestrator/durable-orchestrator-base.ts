import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { APPROVE_ROUTES, CALLBACK_ROUTES, CONTROLLER_SERVICE, KILL_SWITCH_ROUTES, READ_ROUTES, RouteSpec, START_ROUTES } from './api-routes';
import { EVENT_SOURCE, EVENT_TYPES, METRIC_NAMESPACE, METRICS } from '../contract/status';
import { grantScoped } from '../private/grants';

/**
 * A durable orchestrator: one created in this app (`DurableOrchestrator`), or one imported
 * from another stack or app with `DurableOrchestrator.fromDurableOrchestratorAttributes`.
 *
 * Every route of its API requires IAM authorization: callers are granted with the `grantXxx`
 * methods, which name exactly the routes they allow.
 */
export interface IDurableOrchestrator extends IConstruct {
  /** The HTTP API that holds the workflow routes (the orchestrator's own, or a shared `SecureApi`'s). */
  readonly httpApi: apigwv2.IHttpApi;

  /**
   * The base URL of the workflow routes, ending in the base path and no slash
   * (`POST ${apiUrl}/workflows` starts a workflow).
   */
  readonly apiUrl: string;

  /** Path of the routes on the API: '' at the root, or the base path (e.g. `/research`). */
  readonly apiBasePath: string;

  /**
   * ARN of the controller's alias (the durable function every workflow runs in).
   *
   * An import knows it only when `controllerAliasArn` was given in its attributes; reading it
   * otherwise throws.
   */
  readonly controllerAliasArn: string;

  /** The workflow's name (the `workflow` dimension of the metrics). */
  readonly workflowName: string;

  /**
   * The bucket of artifacts and published reports (reports are written under `published/`).
   *
   * An import knows it only when `artifactBucket` was given in its attributes; reading it
   * otherwise throws.
   */
  readonly artifactBucket: s3.IBucket;

  /**
   * The event bus workflow events go to (source `cdk-durable-agents`): match them with rules.
   *
   * An import knows it only when `eventBus` was given in its attributes; reading it otherwise
   * throws.
   */
  readonly eventBus: events.IEventBus;

  /** Allows `grantee` to start workflows (`POST /workflows`). */
  grantStartWorkflow(grantee: iam.IGrantable): iam.Grant;

  /** Allows `grantee` to read workflows (`GET /workflows`, `GET /workflows/{id}`). */
  grantReadWorkflows(grantee: iam.IGrantable): iam.Grant;

  /** Allows `grantee` to approve, reject and cancel workflows. */
  grantApprove(grantee: iam.IGrantable): iam.Grant;

  /**
   * Allows `grantee` to report and heartbeat on callbacks (`POST /callbacks/*`). The per-task
   * token of the envelope is still required: this grant alone completes nothing.
   */
  grantCallback(grantee: iam.IGrantable): iam.Grant;

  /**
   * Allows `grantee` to read and set the kill switch (`GET` and `PUT /admin/kill-switch`): engaging
   * it refuses every new start and cancels every running workflow. Nothing else is granted.
   */
  grantKillSwitch(grantee: iam.IGrantable): iam.Grant;

  /** Workflows started, per period. */
  metricWorkflowsStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Workflows that ended SUCCEEDED, per period. */
  metricWorkflowsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** Workflows that ended FAILED or TIMED_OUT, per period. */
  metricWorkflowsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** How long steps take, in milliseconds (average unless `statistic` says otherwise). */
  metricStepDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * A rule on `eventBus` matching every event of this orchestrator: source `cdk-durable-agents`,
   * each of its seven detail-types, and `detail.workflow` this orchestrator's `workflowName`.
   * `options.eventPattern` is merged in (as with the `onEvent` methods of aws-cdk-lib) to narrow
   * the rule on other detail fields (`{ detail: { status: ['TIMED_OUT'] } }`); its `source`,
   * `detailType` and `detail.workflow` are refused, since merged lists widen a rule. `options.target`,
   * when given, is added to the rule.
   *
   * An import needs `eventBus` in its attributes.
   */
  onWorkflowEvent(id: string, options?: events.OnEventOptions): events.Rule;

  /** A rule matching this orchestrator's `Workflow Started` events (see onWorkflowEvent). */
  onWorkflowStarted(id: string, options?: events.OnEventOptions): events.Rule;

  /** A rule matching this orchestrator's `Workflow Completed` events: workflows that ended SUCCEEDED (see onWorkflowEvent). */
  onWorkflowCompleted(id: string, options?: events.OnEventOptions): events.Rule;

  /**
   * A rule matching this orchestrator's `Workflow Failed` events: workflows that ended FAILED,
   * REJECTED or TIMED_OUT, `detail.status` telling which (see onWorkflowEvent).
   */
  onWorkflowFailed(id: string, options?: events.OnEventOptions): events.Rule;

  /** A rule matching this orchestrator's `Workflow Cancelled` events (see onWorkflowEvent). */
  onWorkflowCancelled(id: string, options?: events.OnEventOptions): events.Rule;

  /**
   * A rule matching this orchestrator's `Workflow Budget Exceeded` events: a budget stopped a run,
   * `detail.budget`, `detail.limit` and `detail.used` saying which and by how much (see onWorkflowEvent).
   */
  onWorkflowBudgetExceeded(id: string, options?: events.OnEventOptions): events.Rule;

  /** A rule matching this orchestrator's `Workflow Approval Requested` events: a person is asked to decide (see onWorkflowEvent). */
  onApprovalRequested(id: string, options?: events.OnEventOptions): events.Rule;

  /** A rule matching this orchestrator's `Workflow Step Completed` events, whatever the step's status (see onWorkflowEvent). */
  onStepCompleted(id: string, options?: events.OnEventOptions): events.Rule;

  /** Approval steps that began waiting for a person's decision, per period. */
  metricApprovalsRequested(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Attempts of agent steps that failed or timed out, per period: the agent reported failure, its
   * task could not be dispatched, or no report came before the step's timeout (or a heartbeat was
   * missed). Each attempt counts once, retried or not; the agents of every compute (Lambda,
   * Fargate, a target of your own) are counted here.
   */
  metricAgentTasksFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * How long attempts of agent steps take, in milliseconds, from the dispatch of the task to the
   * agent's report (success or failure), as the controller takes it (average unless `statistic`
   * says otherwise). Attempts that time out are not measured: `metricAgentTasksFailed` counts them.
   */
  metricAgentTaskDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/**
 * What `DurableOrchestrator.fromDurableOrchestratorAttributes` needs to know of an orchestrator
 * created in another stack or app. The region and account are the importing stack's: the API
 * must be in the same environment.
 */
export interface DurableOrchestratorAttributes {
  /**
   * The id of the HTTP API that holds the orchestrator's routes (`orchestrator.httpApi.apiId`:
   * ten lower-case letters and digits, the first label of the execute-api host name).
   */
  readonly httpApiId: string;

  /**
   * The orchestrator's base path on the API (its `apiBasePath`, e.g. `/research`), when it shares
   * a `SecureApi`. A token is taken as it is: it must resolve to the orchestrator's `apiBasePath`
   * ('' or `/a/b`, no trailing slash).
   * @default '' - the routes are at the root of the API (`POST /workflows`)
   */
  readonly apiBasePath?: string;

  /** The name of the workflow the orchestrator runs (`orchestrator.workflowName`; the `workflow` dimension of its metrics). */
  readonly workflowName: string;

  /**
   * The base URL of the workflow routes, as the orchestrator's `apiUrl` (ending in the base path);
   * give it when the API is reached through a custom domain.
   * @default - the execute-api endpoint of `httpApiId` in the stack's region, followed by `apiBasePath`
   */
  readonly apiUrl?: string;

  /**
   * ARN of the controller's alias (`orchestrator.controllerAlias.functionArn`).
   * @default - not known: reading `controllerAliasArn` of the import throws
   */
  readonly controllerAliasArn?: string;

  /**
   * The orchestrator's artifact bucket (e.g. `s3.Bucket.fromBucketAttributes` with its
   * `encryptionKey` when it has one).
   * @default - not known: reading `artifactBucket` of the import throws
   */
  readonly artifactBucket?: s3.IBucket;

  /**
   * The orchestrator's event bus (e.g. `events.EventBus.fromEventBusArn`).
   * @default - not known: reading `eventBus` of the import throws
   */
  readonly eventBus?: events.IEventBus;
}

/**
 * The grants and metrics every `IDurableOrchestrator` shares: those of a `DurableOrchestrator`
 * and of one imported with `DurableOrchestrator.fromDurableOrchestratorAttributes` are written by
 * this one class, from one list of routes.
 */
export abstract class DurableOrchestratorBase extends Construct implements IDurableOrchestrator {
  /** The HTTP API that holds the workflow routes. */
  public abstract readonly httpApi: apigwv2.IHttpApi;
  /** The base URL of the workflow routes, ending in the base path and no slash. */
  public abstract readonly apiUrl: string;
  /** Path of the routes on the API: '' at the root, or the base path (e.g. `/research`). */
  public abstract readonly apiBasePath: string;
  /** ARN of the controller's alias. */
  public abstract readonly controllerAliasArn: string;
  /** The workflow's name (the `workflow` dimension of the metrics). */
  public abstract readonly workflowName: string;
  /** The bucket of artifacts and published reports. */
  public abstract readonly artifactBucket: s3.IBucket;
  /** The event bus workflow events go to. */
  public abstract readonly eventBus: events.IEventBus;

  /** Allows `grantee` to start workflows (`POST /workflows`). */
  public grantStartWorkflow(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, START_ROUTES);
  }

  /** Allows `grantee` to read workflows (`GET /workflows`, `GET /workflows/{id}`). */
  public grantReadWorkflows(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, READ_ROUTES);
  }

  /** Allows `grantee` to approve, reject and cancel workflows. */
  public grantApprove(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, APPROVE_ROUTES);
  }

  /**
   * Allows `grantee` to report and heartbeat on callbacks (`POST /callbacks/*`). The per-task
   * token of the envelope is still required: this grant alone completes nothing.
   */
  public grantCallback(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, CALLBACK_ROUTES);
  }

  /**
   * Allows `grantee` to read and set the kill switch (`GET` and `PUT /admin/kill-switch`): engaging
   * it refuses every new start and cancels every running workflow. Nothing else is granted.
   */
  public grantKillSwitch(grantee: iam.IGrantable): iam.Grant {
    return this.grantRoutes(grantee, KILL_SWITCH_ROUTES);
  }

  /** Workflows started, per period. */
  public metricWorkflowsStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(METRICS.workflowsStarted, props);
  }

  /** Workflows that ended SUCCEEDED, per period. */
  public metricWorkflowsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(METRICS.workflowsSucceeded, props);
  }

  /** Workflows that ended FAILED or TIMED_OUT, per period. */
  public metricWorkflowsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(METRICS.workflowsFailed, props);
  }

  /** How long steps take, in milliseconds (average unless `statistic` says otherwise). */
  public metricStepDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(METRICS.stepDuration, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  /**
   * A rule on `eventBus` matching every event of this orchestrator: source `cdk-durable-agents`,
   * each of its seven detail-types, and `detail.workflow` this orchestrator's `workflowName`
   * (several orchestrators may share one bus). `options.eventPattern` is merged in (as with the
   * `onEvent` methods of aws-cdk-lib), and `options.target`, when given, is added to the rule.
   *
   * An import needs `eventBus` in its attributes.
   *
   * @param id the construct id of the rule, in this orchestrator's scope
   * @param options the target, rule name, description and more of the event pattern
   */
  public onWorkflowEvent(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflowEventRule(id, options, Object.values(EVENT_TYPES));
  }

  /** A rule matching this orchestrator's `Workflow Started` events (see onWorkflowEvent). */
  public onWorkflowStarted(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflowEventRule(id, options, [EVENT_TYPES.workflowStarted]);
  }

  /** A rule matching this orchestrator's `Workflow Completed` events: workflows that ended SUCCEEDED (see onWorkflowEvent). */
  public onWorkflowCompleted(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflowEventRule(id, options, [EVENT_TYPES.workflowCompleted]);
  }

  /**
   * A rule matching this orchestrator's `Workflow Failed` events: workflows that ended FAILED,
   * REJECTED or TIMED_OUT, `detail.status` telling which (see onWorkflowEvent).
   */
  public onWorkflowFailed(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflowEventRule(id, options, [EVENT_TYPES.workflowFailed]);
  }

  /**
   * A rule matching this orchestrator's `Workflow Budget Exceeded` events: a budget stopped a run,
   * `detail.budget`, `detail.limit` and `detail.used` saying which and by how much (see onWorkflowEvent).
   */
  public onWorkflowBudgetExceeded(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflowEventRule(id, options, [EVENT_TYPES.workflowBudgetExceeded]);
  }

  /** A rule matching this orchestrator's `Workflow Cancelled` events (see onWorkflowEvent). */
  public onWorkflowCancelled(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflowEventRule(id, options, [EVENT_TYPES.workflowCancelled]);
  }

  /** A rule matching this orchestrator's `Workflow Approval Requested` events: a person is asked to decide (see onWorkflowEvent). */
  public onApprovalRequested(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflowEventRule(id, options, [EVENT_TYPES.approvalRequested]);
  }

  /** A rule matching this orchestrator's `Workflow Step Completed` events, whatever the step's status (see onWorkflowEvent). */
  public onStepCompleted(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflowEventRule(id, options, [EVENT_TYPES.stepCompleted]);
  }

  /** A rule on the bus, pre-filtered on the runtime's source, `detailTypes` and this workflow; the user's pattern merged in. */
  private workflowEventRule(id: string, options: events.OnEventOptions, detailTypes: string[]): events.Rule {
    // A pattern's lists are merged by joining them, so these keys would widen the rule, not narrow it.
    const pattern = options.eventPattern;
    const widening = [
      pattern?.source ? 'source' : undefined,
      pattern?.detailType ? 'detailType' : undefined,
      pattern?.detail && Object.prototype.hasOwnProperty.call(pattern.detail, 'workflow') ? 'detail.workflow' : undefined,
    ].filter((k): k is string => k !== undefined);
    if (widening.length > 0) {
      throw new Error(`${this.node.path}: eventPattern.${widening.join(' and eventPattern.')} cannot be given to ${id}'s rule: the rule already matches `
        + `this orchestrator's ${detailTypes.length === 1 ? `'${detailTypes[0]}' events` : 'events'}, and a pattern's lists are joined, so it would `
        + 'match more, not less. Filter on other detail fields (e.g. { detail: { status: [\'TIMED_OUT\'] } }), use the onWorkflowXxx method of '
        + 'the detail-type you want, or create an events.Rule of your own on eventBus');
    }
    const eventBus = this.eventBus;
    const rule = new events.Rule(this, id, {
      eventBus,
      description: options.description,
      ruleName: options.ruleName,
      eventPattern: options.eventPattern,
      crossStackScope: options.crossStackScope,
    });
    rule.addEventPattern({ source: [EVENT_SOURCE], detailType: detailTypes, detail: { workflow: [this.workflowName] } });
    rule.addTarget(options.target);
    return rule;
  }

  /** Approval steps that began waiting for a person's decision, per period. */
  public metricApprovalsRequested(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(METRICS.approvalsRequested, props);
  }

  /**
   * Attempts of agent steps that failed or timed out, per period: the agent reported failure, its
   * task could not be dispatched, or no report came before the step's timeout (or a heartbeat was
   * missed). Each attempt counts once, retried or not; the agents of every compute (Lambda,
   * Fargate, a target of your own) are counted here.
   */
  public metricAgentTasksFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(METRICS.agentTasksFailed, props);
  }

  /**
   * How long attempts of agent steps take, in milliseconds, from the dispatch of the task to the
   * agent's report (success or failure), as the controller takes it (average unless `statistic`
   * says otherwise). Attempts that time out are not measured: `metricAgentTasksFailed` counts them.
   */
  public metricAgentTaskDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtimeMetric(METRICS.agentTaskDuration, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  private runtimeMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { service: CONTROLLER_SERVICE, workflow: this.workflowName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  private grantRoutes(grantee: iam.IGrantable, routes: RouteSpec[]): iam.Grant {
    return grantScoped(grantee, {
      actions: ['execute-api:Invoke'],
      // Parameters of the route become '*'; the base path is taken as it is (an import's may be a token).
      resources: routes.map((r) => this.httpApi.arnForExecuteApi(r.method, `${this.apiBasePath}${r.path.replace(/\{[^}]+\}/g, '*')}`, '$default')),
      wildcardReason: 'Each * stands for one path parameter (a workflow or callback id) of a named route of this orchestrator\'s API; ' +
        'the method and the rest of the path are fixed.',
    });
  }
}
