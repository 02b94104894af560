import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { researchWorkflow, testAgentFunction } from './fixtures';
import { AgentTarget, DurableOrchestrator, DurableOrchestratorProps } from '../../src/durable-orchestrator';
import { ApiAuthorization, SecureApi } from '../../src/secure-api';
import { unacknowledgedNagFindings } from '../helpers/nag';

const ROUTES = [
  'POST /workflows', 'GET /workflows', 'GET /workflows/{id}', 'POST /workflows/{id}/approval', 'POST /workflows/{id}/cancel',
  'POST /callbacks/{callbackId}', 'POST /callbacks/{callbackId}/heartbeat',
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
    const env = envOf(template, /HTTP API and agent callbacks/);
    expect(env.API_BASE_PATH).toBe('/research');
    const url = JSON.stringify(stack.resolve(env.CALLBACK_BASE_URL));
    expect(url).toMatch(/execute-api/);
    expect(url).toMatch(/\/research"/);
    expect(JSON.stringify(stack.resolve(orchestrator.apiUrl))).toBe(url);
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

  test('an api in another stack', () => {
    const app = new App();
    const apiStack = new Stack(app, 'ApiStack');
    const api = new SecureApi(apiStack, 'Api');
    const stack = new Stack(app, 'Workflows');
    expect(() => new DurableOrchestrator(stack, 'O', { workflow: researchWorkflow(), agents: agentsIn(stack), api }))
      .toThrow(/is in stack ApiStack and the orchestrator in Workflows; .* Create the orchestrator in the SecureApi's stack/);
  });
});
