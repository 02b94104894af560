import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AgentCompute, AgentImage, ContainerAgent } from '../../src/container-agent';
import { DataTier, DataTierProfile } from '../../src/data-tier';
import { AgentTarget, DurableOrchestrator } from '../../src/durable-orchestrator';
import { AlarmDestination, ApiCanary, PlatformDashboard } from '../../src/monitoring';
import { SecureApi } from '../../src/secure-api';
import { researchWorkflow, testAgentFunction } from '../durable-orchestrator/fixtures';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** The dashboard body with its tokens left as they render: the widgets' titles and metric names are plain text. */
function body(stack: Stack): string {
  const dashboards = Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard');
  expect(Object.keys(dashboards)).toHaveLength(1);
  return JSON.stringify(Object.values(dashboards)[0].Properties.DashboardBody);
}

/** The dashboard's widgets, with the tokens of the body resolved to placeholders (enough for titles and metric names). */
function widgets(stack: Stack): Array<{ type: string; properties?: { title?: string; metrics?: unknown[] } }> {
  const dashboards = Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard');
  const parts = (Object.values(dashboards)[0].Properties.DashboardBody['Fn::Join'][1] as unknown[])
    .map((p) => (typeof p === 'string' ? p : 'TOKEN')); // tokens sit inside JSON strings of the body
  return JSON.parse(parts.join('')).widgets;
}

function platform(options: { dashboardFirst?: boolean; production?: boolean } = {}) {
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: ENV });
  if (options.dashboardFirst) new PlatformDashboard(stack, 'Dashboard');
  const data = new DataTier(stack, 'Data', { profile: options.production ? DataTierProfile.production() : DataTierProfile.ephemeral() });
  const api = new SecureApi(stack, 'Api', { vpc: data.vpc });
  api.addService('Web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'), pathPrefix: '/app', containerPort: 80 });
  const fn = testAgentFunction(stack, 'agent');
  const orchestrator = new DurableOrchestrator(stack, 'Research', {
    workflow: researchWorkflow(),
    agents: ['researcher', 'analyst', 'writer'].map((name) => AgentTarget.lambdaFunction(name, fn)),
    api,
    apiBasePath: '/research',
  });
  const agent = new ContainerAgent(stack, 'Summarizer', {
    agentName: 'summarizer',
    image: AgentImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Repo', 'summarizer'), 'v1'),
    compute: AgentCompute.lambdaFunction({ memorySize: 1024, timeout: Duration.minutes(5) }),
  });
  if (!options.dashboardFirst) new PlatformDashboard(stack, 'Dashboard');
  return { app, stack, data, api, orchestrator, agent };
}

describe('PlatformDashboard', () => {
  test('shows every construct of the stack: workflows, agents, API, service, load balancer, database, cache, alarms', () => {
    const { stack } = platform({ production: true });
    const text = body(stack);
    for (const title of [
      'Workflows: research-report', 'Workflows started, succeeded, failed', 'Approvals requested', 'Step duration',
      'Agent tasks failed', 'Agent task duration', 'Controller and API: errors, throttles',
      'Lambda agents', 'API: Platform/Api', 'Requests answered 4xx and 5xx', 'Load balancer 5xx',
      'Service Web: CPU and memory', 'Service Web: running tasks', 'Service Web: unhealthy targets',
      'Data: Platform/Data', 'Database: connections and CPU', 'replica lag', 'Cache: CPU and memory', 'Alarms',
    ]) expect(text).toContain(title);
    // Each graph names its metrics as [namespace, metric name, ...]: checked graph by graph.
    const graphs = widgets(stack);
    const metricsOf = (title: string) => {
      const graph = graphs.find((w) => w.properties?.title?.startsWith(title));
      expect({ title, found: graph !== undefined }).toEqual({ title, found: true });
      return JSON.stringify(graph!.properties!.metrics);
    };
    expect(metricsOf('Workflows started')).toContain('"WorkflowsStarted"');
    expect(metricsOf('Approvals requested')).toContain('"ApprovalsRequested"');
    expect(metricsOf('Agent tasks failed')).toContain('"AgentTasksFailed"');
    expect(metricsOf('Agent task duration')).toContain('"AgentTaskDuration"');
    expect(metricsOf('Step duration')).toContain('"StepDuration"');
    expect(metricsOf('Requests answered 4xx and 5xx')).toMatch(/"AWS\/ApiGateway","4xx".*"AWS\/ApiGateway","5xx"/);
    expect(metricsOf('Load balancer 5xx')).toContain('"HTTPCode_ELB_5XX_Count"');
    expect(metricsOf('Service Web: CPU and memory')).toMatch(/"AWS\/ECS","CPUUtilization".*"AWS\/ECS","MemoryUtilization"/);
    expect(metricsOf('Service Web: running tasks')).toContain('"RunningTaskCount"');
    expect(metricsOf('Service Web: unhealthy targets')).toContain('"UnHealthyHostCount"');
    expect(metricsOf('Database: connections and CPU')).toMatch(/"DatabaseConnections".*"AWS\/RDS","CPUUtilization"/);
    expect(metricsOf('Database: free storage')).toMatch(/"FreeLocalStorage".*"AuroraReplicaLagMaximum"/);
    expect(metricsOf('Cache: CPU and memory')).toMatch(/EngineCPUUtilization.*DatabaseMemoryUsagePercentage.*Evictions/);
  });

  test('created before the constructs it shows, it still finds them (at synthesis)', () => {
    const { stack } = platform({ dashboardFirst: true });
    const text = body(stack);
    expect(text).toContain('Workflows: research-report');
    expect(text).toContain('Data: Platform/Data');
    // The ephemeral tier has no readers: no replica lag graph.
    expect(text).not.toContain('replica lag');
  });

  test('every alarm of the constructs is in the alarm status widget', () => {
    const { stack, orchestrator, api, data, agent } = platform({ production: true });
    const text = body(stack);
    const alarms = [...orchestrator.alarms, ...api.alarms, ...api.services.flatMap((s) => s.alarms), ...data.alarms, ...agent.alarms];
    expect(alarms.length).toBeGreaterThan(15);
    const template = Template.fromStack(stack);
    for (const alarm of alarms) {
      const logicalId = stack.getLogicalId(alarm.node.defaultChild as never);
      expect(template.toJSON().Resources[logicalId].Type).toBe('AWS::CloudWatch::Alarm');
      expect(text).toContain(`"${logicalId}","Arn"`);
    }
  });

  test('explicit lists show only what they name', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform', { env: ENV });
    const data = new DataTier(stack, 'Data');
    new SecureApi(stack, 'Api', { vpc: data.vpc });
    new PlatformDashboard(stack, 'Dashboard', { dataTiers: [data], apis: [], orchestrators: [], agents: [], dashboardName: 'platform' });
    const text = body(stack);
    expect(text).toContain('Data: Platform/Data');
    expect(text).not.toContain('API: ');
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'platform' });
  });

  test('refuses a period that is not whole minutes', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => new PlatformDashboard(stack, 'D', { period: Duration.seconds(30) })).toThrow(/PlatformDashboard: period is 30 seconds/);
  });
});

describe('canaries as options of SecureApi and DurableOrchestrator', () => {
  function withCanaries() {
    const app = new App();
    const stack = new Stack(app, 'Platform', { env: ENV });
    const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true, masterKey: new kms.Key(stack, 'TopicKey', { enableKeyRotation: true }) });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const api = new SecureApi(stack, 'Api', { healthCanary: true, healthCheckPath: '/ping', alarmActions: AlarmDestination.topic(topic) });
    const fn = testAgentFunction(stack, 'agent');
    const orchestrator = new DurableOrchestrator(stack, 'Research', {
      workflow: researchWorkflow(),
      agents: ['researcher', 'analyst', 'writer'].map((name) => AgentTarget.lambdaFunction(name, fn)),
      api,
      apiBasePath: '/research',
      statusCanary: true,
      encryptionKey: key,
      alarmActions: AlarmDestination.topic(topic),
    });
    new PlatformDashboard(stack, 'Dashboard');
    return { app, stack, api, orchestrator, topic };
  }

  test('the API\'s health route (its own path, unsigned) and a signed status call, each with an alarm on the construct\'s destination', () => {
    const { stack, api, orchestrator, topic } = withCanaries();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Synthetics::Canary', 2);
    expect(api.healthCanary).toBeDefined();
    expect(orchestrator.statusCanary).toBeDefined();
    const envOf = (c: ApiCanary) =>
      template.toJSON().Resources[stack.getLogicalId(c.canary.node.defaultChild as never)].Properties.RunConfig.EnvironmentVariables;
    expect(envOf(api.healthCanary!)).toMatchObject({ API_CANARY_PATH: '/ping', API_CANARY_SIGNED: 'false' });
    expect(envOf(orchestrator.statusCanary!)).toMatchObject({ API_CANARY_PATH: '/workflows?limit=1', API_CANARY_SIGNED: 'true' });
    const topicRef = stack.getLogicalId(topic.node.defaultChild as never);
    for (const alarm of [...api.healthCanary!.alarms, ...orchestrator.statusCanary!.alarms]) {
      expect(api.alarms.includes(alarm) || orchestrator.alarms.includes(alarm)).toBe(true);
      const rendered = template.toJSON().Resources[stack.getLogicalId(alarm.node.defaultChild as never)];
      expect(rendered.Properties.AlarmActions).toEqual([{ Ref: topicRef }]);
    }
    // The status canary's own artifacts bucket is under the orchestrator's key; the health canary's keeps SSE-S3.
    const bucketOf = (c: ApiCanary) => template.toJSON().Resources[stack.getLogicalId(c.artifactsBucket.node.defaultChild as never)].Properties;
    const keyId = stack.getLogicalId(orchestrator.table.encryptionKey!.node.defaultChild as never);
    expect(bucketOf(orchestrator.statusCanary!).BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault)
      .toEqual({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    expect(bucketOf(api.healthCanary!).BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault)
      .toEqual({ SSEAlgorithm: 'AES256' });
    expect(body(stack)).toContain('Canaries: success (%)');
  });

  test('off by default', () => {
    const { stack } = platform();
    Template.fromStack(stack).resourceCountIs('AWS::Synthetics::Canary', 0);
  });
});
