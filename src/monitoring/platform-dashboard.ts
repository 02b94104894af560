import { Aspects, Duration, IAspect, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct, IConstruct } from 'constructs';
import { ApiCanary } from './api-canary';
import { AgentComputeKind } from '../container-agent/agent-compute';
import { ContainerAgent } from '../container-agent/container-agent';
import { DataTier } from '../data-tier/data-tier';
import { DurableOrchestrator } from '../durable-orchestrator/durable-orchestrator';
import { checkDurationRange } from '../private/checks';
import { SecureApi } from '../secure-api/secure-api';

/** Properties of a `PlatformDashboard`. */
export interface PlatformDashboardProps {
  /**
   * The dashboard's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;

  /**
   * The orchestrators to show.
   *
   * @default - every DurableOrchestrator in the dashboard's stack
   */
  readonly orchestrators?: DurableOrchestrator[];

  /**
   * The agents to show (Lambda agents: errors, throttles, duration; a Fargate agent's failed tasks
   * are in its orchestrator's row).
   *
   * @default - every ContainerAgent in the dashboard's stack
   */
  readonly agents?: ContainerAgent[];

  /**
   * The APIs to show, with their services and load balancer.
   *
   * @default - every SecureApi in the dashboard's stack
   */
  readonly apis?: SecureApi[];

  /**
   * The data tiers to show.
   *
   * @default - every DataTier in the dashboard's stack
   */
  readonly dataTiers?: DataTier[];

  /**
   * The canaries to show (success percent and duration).
   *
   * @default - every ApiCanary in the dashboard's stack
   */
  readonly canaries?: ApiCanary[];

  /**
   * The period of every graph.
   *
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

/**
 * One CloudWatch dashboard for the platform a stack holds, built from the constructs it actually
 * has: workflows (started, succeeded, failed, approvals requested, step duration), agents (failed
 * tasks, task duration, Lambda agents' errors), the API (4xx, 5xx, latency), each service (CPU,
 * memory, running tasks, unhealthy targets, latency, 5xx), the load balancer (5xx), the synthetic checks (success, duration), the database
 * (connections, CPU, free storage, replica lag) and the cache (CPU, memory, evictions), and the
 * state of every alarm those constructs created.
 *
 * With no lists given, the dashboard finds the constructs of its stack when the app is
 * synthesized, so it can be created first or last.
 */
export class PlatformDashboard extends Construct {
  /** The CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformDashboardProps = {}) {
    super(scope, id);
    checkDurationRange('PlatformDashboard', 'period', props.period, {
      min: Duration.minutes(1), max: Duration.days(1), subject: 'a graph period', fix: 'use a whole number of minutes from 1 minute to 1 day',
    });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
    // The widgets are added once the app's constructs exist (an aspect runs at synthesis).
    Aspects.of(this).add(new FillDashboard(this, props));
  }

  /** @internal */
  public _fill(props: PlatformDashboardProps): void {
    const stack = Stack.of(this);
    const inStack = <T>(test: (c: IConstruct) => c is T & IConstruct): T[] => stack.node.findAll().filter(test) as T[];
    const orchestrators = props.orchestrators ?? inStack((c): c is DurableOrchestrator => c instanceof DurableOrchestrator);
    const agents = props.agents ?? inStack((c): c is ContainerAgent => c instanceof ContainerAgent);
    const apis = props.apis ?? inStack((c): c is SecureApi => c instanceof SecureApi);
    const dataTiers = props.dataTiers ?? inStack((c): c is DataTier => c instanceof DataTier);
    const canaries = props.canaries ?? inStack((c): c is ApiCanary => c instanceof ApiCanary);
    const period = props.period ?? Duration.minutes(5);
    const p = { period };
    const sum = { period, statistic: 'Sum' };
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, right, width, height: 6 });
    const header = (text: string) => new cloudwatch.TextWidget({ markdown: `## ${text}`, width: 24, height: 1 });
    const alarms: cloudwatch.IAlarm[] = [];

    for (const o of orchestrators) {
      this.dashboard.addWidgets(header(`Workflows: ${o.workflowName} (${o.node.path})`));
      this.dashboard.addWidgets(
        graph('Workflows started, succeeded, failed', [o.metricWorkflowsStarted(sum), o.metricWorkflowsSucceeded(sum), o.metricWorkflowsFailed(sum)]),
        graph('Approvals requested', [o.metricApprovalsRequested(sum)]),
        graph('Step duration (ms, p50 and p99)', [o.metricStepDuration({ period, statistic: 'p50' }), o.metricStepDuration({ period, statistic: 'p99' })]),
      );
      this.dashboard.addWidgets(
        graph('Agent tasks failed', [o.metricAgentTasksFailed(sum)]),
        graph('Agent task duration (ms, p50 and p99)', [o.metricAgentTaskDuration({ period, statistic: 'p50' }), o.metricAgentTaskDuration({ period, statistic: 'p99' })]),
        graph('Controller and API: errors, throttles',
          [o.controllerFunction.metricErrors(p), o.apiFunction.metricErrors(p)],
          [o.controllerFunction.metricThrottles(p), o.apiFunction.metricThrottles(p)]),
      );
      alarms.push(...o.alarms);
    }

    const lambdaAgents = agents.filter((a) => a.computeKind === AgentComputeKind.LAMBDA);
    if (lambdaAgents.length > 0) {
      this.dashboard.addWidgets(header('Lambda agents'));
      this.dashboard.addWidgets(
        graph('Errors', lambdaAgents.map((a) => a.metricErrors(sum))),
        graph('Throttles', lambdaAgents.map((a) => a.metricThrottles(sum))),
        graph('Duration (ms, p99)', lambdaAgents.map((a) => a.metricDuration({ period, statistic: 'p99' }))),
      );
    }
    for (const a of agents) alarms.push(...a.alarms);

    for (const api of apis) {
      this.dashboard.addWidgets(header(`API: ${api.node.path}`));
      this.dashboard.addWidgets(
        graph('Requests answered 4xx and 5xx', [api.metricClientErrors(sum), api.metricServerErrors(sum)]),
        graph('Latency (ms, p50 and p99)', [api.metricLatency({ period, statistic: 'p50' }), api.metricLatency({ period, statistic: 'p99' })]),
        ...(api.services.some((s) => s.targetGroup) ? [graph('Load balancer 5xx', [api.metricLoadBalancer5xx(sum)])] : []),
      );
      alarms.push(...api.alarms);
      for (const s of api.services) {
        this.dashboard.addWidgets(
          graph(`Service ${s.serviceId}: CPU and memory (%)`, [s.metricCpuUtilization(p), s.metricMemoryUtilization(p)]),
          graph(`Service ${s.serviceId}: running tasks`, [s.metricRunningTasks(p)]),
          ...(s.targetGroup ? [graph(`Service ${s.serviceId}: unhealthy targets, 5xx, latency (p99)`,
            [s.metricUnhealthyHosts(p), s.metricTarget5xx(sum)], [s.metricTargetResponseTime({ period, statistic: 'p99' })])] : []),
        );
        alarms.push(...s.alarms);
      }
    }

    for (const d of dataTiers) {
      this.dashboard.addWidgets(header(`Data: ${d.node.path}`));
      this.dashboard.addWidgets(
        graph('Database: connections and CPU (%)', [d.metricDatabaseConnections(p)], [d.metricDatabaseCpu(p)]),
        // Replica lag exists only where there are readers (a Multi-AZ standby publishes none).
        graph(d.databaseReaders > 0 ? 'Database: free storage (bytes), replica lag (ms)' : 'Database: free storage (bytes)',
          [d.metricDatabaseFreeStorage(p)], d.databaseReaders > 0 ? [d.metricDatabaseReplicaLag(p)] : []),
        graph('Cache: CPU and memory (%), evictions', [d.metricCacheCpu(p), d.metricCacheMemory(p)], [d.metricCacheEvictions(sum)]),
      );
      alarms.push(...d.alarms);
    }

    if (canaries.length > 0) {
      this.dashboard.addWidgets(header('Synthetic checks'));
      this.dashboard.addWidgets(
        graph('Canaries: success (%)', canaries.map((c) => c.metricSuccessPercent({ period, label: c.node.path }))),
        graph('Canaries: duration (ms)', canaries.map((c) => c.metricDuration({ period, label: c.node.path }))),
      );
    }
    // The canaries' alarms are in their owners' lists (SecureApi, DurableOrchestrator) when the
    // owner created them; the rest are added here, once.
    for (const c of canaries) alarms.push(...c.alarms.filter((a) => !alarms.includes(a)));

    if (alarms.length > 0) {
      // An alarm status widget shows at most 100 alarms.
      for (let i = 0; i < alarms.length; i += 100) {
        this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: alarms.slice(i, i + 100), width: 24 }));
      }
    }
  }
}

class FillDashboard implements IAspect {
  private done = false;

  constructor(private readonly owner: PlatformDashboard, private readonly props: PlatformDashboardProps) {}

  public visit(node: IConstruct): void {
    if (node !== this.owner || this.done) return;
    this.done = true;
    this.owner._fill(this.props);
  }
}
