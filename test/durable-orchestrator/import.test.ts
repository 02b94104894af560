import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { researchWorkflow, testAgentFunction } from './fixtures';
import {
  AgentTarget, DurableOrchestrator, DurableOrchestratorAttributes, DurableOrchestratorProps, IDurableOrchestrator,
} from '../../src/durable-orchestrator';
import { SecureApi } from '../../src/secure-api';
import { unacknowledgedNagFindings } from '../helpers/nag';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const API_ID = 'a1b2c3d4e5';

/** The execute-api ARN of `path` as CloudFormation renders it for a literal API id in ENV. */
function routeArn(methodAndPath: string): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:execute-api:${ENV.region}:${ENV.account}:${API_ID}/$default/${methodAndPath}`]] };
}

/** A stack of its own app with one orchestrator on three Lambda agents. */
function producer(props: Partial<DurableOrchestratorProps> = {}, withApi = false) {
  const app = new App();
  const stack = new Stack(app, 'Producer', { env: ENV });
  const agents = ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(stack, n)));
  const api = withApi ? new SecureApi(stack, 'Api') : undefined;
  const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', { workflow: researchWorkflow(), agents, api, ...props });
  return { app, stack, orchestrator };
}

/** A stack in an app of its own (another app than the orchestrator's), with a role to grant. */
function consumer() {
  const app = new App();
  const stack = new Stack(app, 'Consumer', { env: ENV });
  const role = new iam.Role(stack, 'Starter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { app, stack, role };
}

function importIn(stack: Stack, attrs: Partial<DurableOrchestratorAttributes> = {}, id = 'Research'): IDurableOrchestrator {
  return DurableOrchestrator.fromDurableOrchestratorAttributes(stack, id, {
    httpApiId: API_ID, apiBasePath: '/research', workflowName: 'research-report', ...attrs,
  });
}

/** The statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(stack: Stack, rolePrefix: string): unknown[] {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('DurableOrchestrator.fromDurableOrchestratorAttributes in another stack', () => {
  test('grantStartWorkflow names exactly POST <base>/workflows of the API on $default, and nothing else', () => {
    const { stack, role } = consumer();
    const grant = importIn(stack).grantStartWorkflow(role);
    expect(grant.success).toBe(true);
    const template = Template.fromStack(stack);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Action: 'execute-api:Invoke',
      Resource: routeArn('POST/research/workflows'),
    }]);
    // The import itself creates nothing: the role and its policy are the stack's only resources.
    expect(Object.values(template.toJSON().Resources).map((r: any) => r.Type).sort()).toEqual(['AWS::IAM::Policy', 'AWS::IAM::Role']);
  });

  test('cdk-nag: the consumer stack has no unacknowledged finding', () => {
    const { app, stack, role } = consumer();
    const imported = importIn(stack);
    imported.grantStartWorkflow(role);
    // The other grants carry path-parameter wildcards; each is acknowledged on the role with its reason.
    imported.grantReadWorkflows(role);
    imported.grantApprove(role);
    imported.grantCallback(role);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('the other grants name their routes under the base path, with path parameters as *', () => {
    const { stack } = consumer();
    const imported = importIn(stack);
    const cases: Array<[string, (g: iam.IGrantable) => iam.Grant, string[]]> = [
      ['Reader', (g) => imported.grantReadWorkflows(g), ['GET/research/workflows', 'GET/research/workflows/*']],
      ['Approver', (g) => imported.grantApprove(g), ['POST/research/workflows/*/approval', 'POST/research/workflows/*/cancel']],
      ['Caller', (g) => imported.grantCallback(g), ['POST/research/callbacks/*', 'POST/research/callbacks/*/heartbeat']],
    ];
    for (const [name, grant] of cases) grant(new iam.Role(stack, name, { assumedBy: new iam.AccountRootPrincipal() }));
    for (const [name, , paths] of cases) {
      expect(statementsOf(stack, name)).toEqual([{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: paths.map(routeArn) }]);
    }
  });

  test('an orchestrator at the root of its API: no base path in the ARN', () => {
    const { stack, role } = consumer();
    importIn(stack, { apiBasePath: undefined }).grantStartWorkflow(role);
    expect(statementsOf(stack, 'Starter')).toEqual([{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: routeArn('POST/workflows') }]);
  });

  test('a stack of the same app imports by reference: the API id crosses as an export, and the app synthesizes without a cycle', () => {
    const { app, orchestrator } = producer({ apiBasePath: '/research' }, true);
    const other = new Stack(app, 'Consumer', { env: ENV });
    const role = new iam.Role(other, 'Starter', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    DurableOrchestrator.fromDurableOrchestratorAttributes(other, 'Research', {
      httpApiId: orchestrator.httpApi.apiId, apiBasePath: orchestrator.apiBasePath, workflowName: orchestrator.workflowName,
    }).grantStartWorkflow(role);
    expect(() => app.synth()).not.toThrow();
    const [statement] = statementsOf(other, 'Starter') as any[];
    expect(JSON.stringify(statement.Resource)).toMatch(/"Fn::ImportValue":"Producer:ExportsOutputRefApiHttpApi[0-9A-F]+"\},"\/\$default\/POST\/research\/workflows"/);
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Consumer/'))).toEqual([]);
  });
});

describe('an import grants exactly what the orchestrator grants', () => {
  /** Grants one role through the orchestrator and one through an import of the same API; returns both roles' statements. */
  function bothGrants(props: Partial<DurableOrchestratorProps>, withApi: boolean) {
    const { app, stack, orchestrator } = producer(props, withApi);
    const imported = DurableOrchestrator.fromDurableOrchestratorAttributes(stack, 'Imported', {
      httpApiId: orchestrator.httpApi.apiId, apiBasePath: props.apiBasePath, workflowName: orchestrator.workflowName,
    });
    const grantAll = (o: IDurableOrchestrator, g: iam.IGrantable) => [
      o.grantStartWorkflow(g), o.grantReadWorkflows(g), o.grantApprove(g), o.grantCallback(g),
    ];
    const byClass = new iam.Role(stack, 'ByClass', { assumedBy: new iam.AccountRootPrincipal() });
    const byImport = new iam.Role(stack, 'ByImport', { assumedBy: new iam.AccountRootPrincipal() });
    grantAll(orchestrator, byClass);
    grantAll(imported, byImport);
    unacknowledgedNagFindings(app); // writes the acknowledgements into the template
    const template = Template.fromStack(stack).toJSON();
    const suppressions = (prefix: string) => Object.entries(template.Resources)
      .find(([id, r]: [string, any]) => id.startsWith(prefix) && r.Type === 'AWS::IAM::Role')![1] as any;
    return {
      byClass: statementsOf(stack, 'ByClass'),
      byImport: statementsOf(stack, 'ByImport'),
      classAcks: suppressions('ByClass').Metadata?.cdk_nag?.rules_to_suppress,
      importAcks: suppressions('ByImport').Metadata?.cdk_nag?.rules_to_suppress,
    };
  }

  test.each([
    ['its own HTTP API', {}, false],
    ['a shared SecureApi under a base path', { apiBasePath: '/research' }, true],
  ])('on %s: the same statements, and the same acknowledged wildcards with the same reasons', (_name, props, withApi) => {
    const { byClass, byImport, classAcks, importAcks } = bothGrants(props as Partial<DurableOrchestratorProps>, withApi as boolean);
    expect(byClass).toHaveLength(4);
    expect(byImport).toEqual(byClass);
    expect(classAcks.length).toBeGreaterThan(0);
    expect(importAcks).toEqual(classAcks);
  });
});

describe('what an import knows', () => {
  test('the API, its URL (execute-api endpoint and base path), the base path and the workflow name', () => {
    const { stack } = consumer();
    const imported = importIn(stack, { apiBasePath: '/research/' });
    expect(imported.httpApi.apiId).toBe(API_ID);
    expect(imported.apiBasePath).toBe('/research');
    expect(imported.workflowName).toBe('research-report');
    expect(stack.resolve(imported.apiUrl)).toEqual({
      'Fn::Join': ['', [`https://${API_ID}.execute-api.${ENV.region}.`, { Ref: 'AWS::URLSuffix' }, '/research']],
    });
  });

  test('a custom-domain apiUrl is kept, without a trailing slash', () => {
    const { stack } = consumer();
    expect(importIn(stack, { apiUrl: 'https://api.example.com/research/' }).apiUrl).toBe('https://api.example.com/research');
  });

  test('the controller alias, the bucket and the event bus when given; reading one not given says which attribute to pass', () => {
    const { stack } = consumer();
    const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'research-artifacts');
    const eventBus = events.EventBus.fromEventBusArn(stack, 'Bus', `arn:aws:events:${ENV.region}:${ENV.account}:event-bus/research`);
    const aliasArn = `arn:aws:lambda:${ENV.region}:${ENV.account}:function:research-controller:live`;
    const full = importIn(stack, { controllerAliasArn: aliasArn, artifactBucket: bucket, eventBus }, 'Full');
    expect(full.controllerAliasArn).toBe(aliasArn);
    expect(full.artifactBucket).toBe(bucket);
    expect(full.eventBus).toBe(eventBus);

    const bare = importIn(stack, {}, 'Bare');
    expect(() => bare.controllerAliasArn).toThrow(/fromDurableOrchestratorAttributes\('Bare'\): controllerAliasArn is not known to this import; pass controllerAliasArn in the attributes/);
    expect(() => bare.artifactBucket).toThrow(/artifactBucket is not known to this import; pass artifactBucket in the attributes \(s3\.Bucket\.fromBucketAttributes/);
    expect(() => bare.eventBus).toThrow(/eventBus is not known to this import; pass eventBus in the attributes \(events\.EventBus\.fromEventBusArn/);
  });

  test('the orchestrator itself exposes the same members: base path, controller alias ARN, API, bucket and bus', () => {
    const { stack, orchestrator } = producer({ apiBasePath: '/research' }, true);
    const asInterface: IDurableOrchestrator = orchestrator;
    expect(asInterface.apiBasePath).toBe('/research');
    expect(stack.resolve(asInterface.controllerAliasArn)).toEqual(stack.resolve(orchestrator.controllerAlias.functionArn));
    expect(asInterface.httpApi).toBe(orchestrator.httpApi);
    expect(asInterface.artifactBucket).toBe(orchestrator.artifactBucket);
    expect(asInterface.eventBus).toBe(orchestrator.eventBus);
  });
});

describe('metrics of an import', () => {
  test('the same namespace, name, dimensions, statistic and period as the orchestrator\'s', () => {
    const { orchestrator } = producer();
    const { stack } = consumer();
    const imported = importIn(stack);
    const shape = (m: cloudwatch.Metric) => ({
      namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: m.statistic, period: m.period.toSeconds(),
    });
    const metrics: Array<(o: IDurableOrchestrator) => cloudwatch.Metric> = [
      (o) => o.metricWorkflowsStarted(),
      (o) => o.metricWorkflowsSucceeded(),
      (o) => o.metricWorkflowsFailed(),
      (o) => o.metricStepDuration(),
      (o) => o.metricWorkflowsFailed({ period: Duration.minutes(1), statistic: 'Maximum' }),
    ];
    for (const metric of metrics) expect(shape(metric(imported))).toEqual(shape(metric(orchestrator)));
    expect(shape(imported.metricWorkflowsFailed())).toEqual({
      namespace: 'CdkDurableAgents',
      metricName: 'WorkflowsFailed',
      dimensions: { service: 'durable-controller', workflow: 'research-report' },
      statistic: 'Sum',
      period: 300,
    });
  });
});

describe('attribute validation', () => {
  const what = /DurableOrchestrator\.fromDurableOrchestratorAttributes\('Research'\)/.source;
  test.each([
    ['an execute-api URL as httpApiId', { httpApiId: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com' },
      /httpApiId must be the id of an HTTP API, ten lower-case letters and digits .*got 'https:\/\/a1b2c3d4e5.*'; pass the orchestrator's httpApi\.apiId/],
    ['an upper-case httpApiId', { httpApiId: 'A1B2C3D4E5' }, /httpApiId must be the id of an HTTP API.*got 'A1B2C3D4E5'/],
    ['an empty workflowName', { workflowName: '' }, /workflowName \(workflow_name in Python\) is empty: pass a name of letters, digits/],
    ['a workflowName with spaces', { workflowName: 'research report' }, /workflowName/],
    ['an apiBasePath without a leading slash', { apiBasePath: 'research' },
      /apiBasePath must be '' or plain path segments starting with '\/', such as '\/research', got 'research'; pass the orchestrator's apiBasePath/],
    ['an apiBasePath with a parameter', { apiBasePath: '/{team}' }, /apiBasePath must be .*got '\/\{team\}'/],
    ['an http apiUrl', { apiUrl: 'http://api.example.com/research' }, /apiUrl must be an https:\/\/ URL such as .*got 'http:\/\/api\.example\.com\/research'/],
    ['an apiUrl without the base path', { apiUrl: 'https://api.example.com/' },
      /apiUrl 'https:\/\/api\.example\.com\/' does not end in apiBasePath '\/research'; pass the orchestrator's apiUrl .*'https:\/\/api\.example\.com\/research'/],
    ['an unqualified function ARN as controllerAliasArn', { controllerAliasArn: 'arn:aws:lambda:eu-west-1:123456789012:function:controller' },
      /controllerAliasArn must be the ARN of the controller's alias, 'arn:<partition>:lambda:<region>:<account>:function:<name>:<alias>', got 'arn:aws:lambda:eu-west-1:123456789012:function:controller'/],
  ])('refuses %s, naming the attribute and the fix', (_name, attrs, message) => {
    const { stack } = consumer();
    expect(() => importIn(stack, attrs as Partial<DurableOrchestratorAttributes>)).toThrow(new RegExp(`${what}: ${message.source}`));
  });

  test('tokens are not checked (an id, a base path, a URL and an alias ARN from parameters)', () => {
    const { stack, role } = consumer();
    const param = (id: string) => new CfnParameter(stack, id).valueAsString;
    const imported = importIn(stack, {
      httpApiId: param('ApiId'), apiBasePath: param('BasePath'), apiUrl: param('Url'), controllerAliasArn: param('Alias'),
    });
    imported.grantStartWorkflow(role);
    const [statement] = statementsOf(stack, 'Starter') as any[];
    expect(statement.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:execute-api:${ENV.region}:${ENV.account}:`, { Ref: 'ApiId' }, '/$default/POST', { Ref: 'BasePath' }, '/workflows']],
    });
    expect(stack.resolve(imported.apiUrl)).toEqual({ Ref: 'Url' });
  });
});
