import { App, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { researchWorkflow, testAgentFunction } from './fixtures';
import { AgentTarget, DurableOrchestrator, DurableOrchestratorProps } from '../../src/durable-orchestrator';
import { ApiAuthorization, SecureApi } from '../../src/secure-api';
import { unacknowledgedNagFindings } from '../helpers/nag';

const ROUTES = [
  'POST /workflows', 'GET /workflows', 'GET /workflows/{id}', 'POST /workflows/{id}/approval', 'POST /workflows/{id}/cancel',
  'POST /callbacks/{callbackId}', 'POST /callbacks/{callbackId}/heartbeat',
  'GET /admin/kill-switch', 'PUT /admin/kill-switch',
];

function agentsIn(scope: Construct, prefix = '') {
  return ['researcher', 'analyst', 'writer'].map((name) => AgentTarget.lambdaFunction(name, testAgentFunction(scope, `${prefix}${name}`)));
}

function sharedApiStack(props: Partial<DurableOrchestratorProps> = {}, api?: (stack: Stack) => SecureApi) {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const secureApi = api ? api(stack) : new SecureApi(stack, 'Api');
  const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', {
    workflow: researchWorkflow(), agents: agentsIn(stack), api: secureApi, ...props,
  });
  return { app, stack, api: secureApi, orchestrator };
}

function envOf(template: Template, description: RegExp): Record<string, unknown> {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description.source) } });
  expect(Object.keys(fns)).toHaveLength(1);
  return Object.values(fns)[0].Properties.Environment.Variables;
}

describe('DurableOrchestrator on a SecureApi', () => {
  test('its routes go on the SecureApi, IAM-authorized, and it creates no HTTP API, stage or log group for access logs of its own', () => {
    const { stack } = sharedApiStack();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    for (const key of ROUTES) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'AWS_IAM' });
    }
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup', {})).filter((id) => id.startsWith('OrchestratorApiAccessLogs'))).toEqual([]);
  });

  test('the routes require IAM even when the SecureApi authorizes with JWTs by default', () => {
    const { stack } = sharedApiStack({}, (s) => new SecureApi(s, 'Api', {
      authorization: ApiAuthorization.jwt({ issuer: 'https://issuer.example.com', audience: ['workflows'] }),
    }));
    const template = Template.fromStack(stack);
    for (const key of ROUTES) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'AWS_IAM' });
    }
  });

  test('callbacks are addressed to the SecureApi URL under the base path, which the API handler strips', () => {
    const { stack, orchestrator } = sharedApiStack({ apiBasePath: '/research/' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /research/workflows', AuthorizationType: 'AWS_IAM' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /research/callbacks/{callbackId}' });
    expect(envOf(template, /HTTP API and agent callbacks/).API_BASE_PATH).toBe('/research');
    const url = JSON.stringify(stack.resolve(envOf(template, /Durable controller/).CALLBACK_BASE_URL));
    expect(url).toMatch(/execute-api/);
    expect(url).toMatch(/\/research"/);
    expect(JSON.stringify(stack.resolve(orchestrator.apiUrl))).toBe(url);
  });

  test('at the root of the API, the callback URL and apiUrl are the API URL without its trailing slash', () => {
    const { stack, orchestrator } = sharedApiStack();
    const template = Template.fromStack(stack);
    expect(envOf(template, /HTTP API and agent callbacks/).API_BASE_PATH).toBeUndefined();
    const url = JSON.stringify(stack.resolve(envOf(template, /Durable controller/).CALLBACK_BASE_URL));
    expect(url).toMatch(/execute-api/);
    // Before: ...{"Ref":"AWS::URLSuffix"},"/"]]}, and agents were told https://host//callbacks/...
    expect(url).toMatch(/\{"Ref":"AWS::URLSuffix"\}\]\]\}$/);
    expect(JSON.stringify(stack.resolve(orchestrator.apiUrl))).toBe(url);
  });

  test('with a custom domain (and the execute-api endpoint off), agents call back through the domain, under the base path', () => {
    const { stack, orchestrator } = sharedApiStack({ apiBasePath: '/research' }, (s) => new SecureApi(s, 'Api', {
      domain: { domainName: 'api.example.com', certificate: acm.Certificate.fromCertificateArn(s, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/abc') },
      disableExecuteApiEndpoint: true,
    }));
    const env = envOf(Template.fromStack(stack), /Durable controller/);
    expect(env.CALLBACK_BASE_URL).toBe('https://api.example.com/research');
    expect(orchestrator.apiUrl).toBe('https://api.example.com/research');
  });

  test('route logical ids come from the route, not from its position in the list', () => {
    const { stack } = sharedApiStack({ apiBasePath: '/research' });
    const routes = Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: 'POST /research/workflows/{id}/approval' } });
    expect(Object.keys(routes)).toEqual([expect.stringMatching(/^ApiTestOrchestrator[A-F0-9]{8}researchworkflowsidapprovalPOSTRoute[A-F0-9]{8}$/)]);
  });

  test('the 5xx alarm (off by default on a shared API, asked for here) says that it counts every route of the shared API', () => {
    const { stack } = sharedApiStack({ apiBasePath: '/research', alarms: { api5xx: { enabled: true } } });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'The shared SecureApi Test/Api answered 5xx on one of its routes (this orchestrator\'s or another\'s)',
    });
  });

  test('grants name the routes under the base path', () => {
    const { stack, orchestrator } = sharedApiStack({ apiBasePath: '/research' });
    const role = new iam.Role(stack, 'Reviewer', { assumedBy: new iam.AccountRootPrincipal() });
    orchestrator.grantStartWorkflow(role);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Reviewer') }] } });
    const resources = JSON.stringify(Object.values(policies)[0].Properties.PolicyDocument.Statement);
    expect(resources).toContain('/$default/POST/research/workflows');
    expect(resources).not.toContain('/$default/POST/workflows"');
  });

  test('two orchestrators share one API under different base paths', () => {
    const { stack, api } = sharedApiStack({ apiBasePath: '/research' });
    new DurableOrchestrator(stack, 'Second', {
      workflow: researchWorkflow(), agents: agentsIn(stack, 'second'), api, apiBasePath: '/reports',
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /research/workflows' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /reports/workflows' });
  });

  test('two orchestrators with the same id in different scopes share one API under different base paths', () => {
    const { stack, api } = sharedApiStack({ apiBasePath: '/research' });
    const team = new Construct(stack, 'Team');
    new DurableOrchestrator(team, 'Orchestrator', {
      workflow: researchWorkflow(), agents: agentsIn(team, 'team'), api, apiBasePath: '/team/research',
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1 + 2 * ROUTES.length);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /team/research/callbacks/{callbackId}' });
  });

  test('two orchestrators at the same base path are refused with the route and the fix', () => {
    const { stack, api } = sharedApiStack();
    expect(() => new DurableOrchestrator(stack, 'Second', { workflow: researchWorkflow(), agents: agentsIn(stack, 'second'), api }))
      .toThrow(/DurableOrchestrator Test\/Second: cannot put POST \/workflows on Test\/Api: .*'POST \/workflows' was already added\. Give each orchestrator on a shared SecureApi its own apiBasePath/);
  });

  test('cdk-nag: no unacknowledged finding on the orchestrator or the API', () => {
    const { app } = sharedApiStack({ apiBasePath: '/research' });
    const findings = unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Orchestrator') || f.path.startsWith('Test/Api'));
    expect(findings).toEqual([]);
  });
});

describe('DurableOrchestrator api validation', () => {
  test('apiBasePath without api', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    expect(() => new DurableOrchestrator(stack, 'O', { workflow: researchWorkflow(), agents: agentsIn(stack), apiBasePath: '/research' }))
      .toThrow(/apiBasePath '\/research' places the routes on a shared SecureApi; pass that SecureApi as api/);
  });

  test.each([
    ['apiThrottlingRateLimit', { apiThrottlingRateLimit: 10 }],
    ['apiThrottlingBurstLimit', { apiThrottlingBurstLimit: 10 }],
    ['apiAccessLogging', { apiAccessLogging: false }],
  ])('%s with api', (name, props) => {
    expect(() => sharedApiStack(props)).toThrow(new RegExp(`${name} configure the HTTP API the orchestrator creates; with api`));
  });

  test.each(['research', '/a b', '/{id}', '/research//x'])('apiBasePath %s is refused', (basePath) => {
    expect(() => sharedApiStack({ apiBasePath: basePath })).toThrow(/apiBasePath must be plain path segments starting with '\/'/);
  });

  test('apiBasePath given as a token is refused: route keys need it at synth', () => {
    expect(() => sharedApiStack({ apiBasePath: Lazy.string({ produce: () => '/research' }) }))
      .toThrow(/apiBasePath must be known at synth .* give a literal such as '\/research', not a token/);
  });

  test('an api in another stack', () => {
    const app = new App();
    const apiStack = new Stack(app, 'ApiStack');
    const api = new SecureApi(apiStack, 'Api');
    const stack = new Stack(app, 'Workflows');
    expect(() => new DurableOrchestrator(stack, 'O', { workflow: researchWorkflow(), agents: agentsIn(stack), api }))
      .toThrow(/is in stack ApiStack and the orchestrator in Workflows; .* Create the orchestrator in the SecureApi's stack/);
  });
});
