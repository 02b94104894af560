import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { apiStack, ENV, itemsFunction } from './fixtures';
import { ISecureApi, SecureApi, SecureApiAttributes } from '../../src/secure-api';
import { unacknowledgedNagFindings } from '../helpers/nag';

const API_ID = 'a1b2c3d4e5';

function routeArn(methodAndPath: string): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:execute-api:${ENV.region}:${ENV.account}:${API_ID}/$default/${methodAndPath}`]] };
}

/** A stack in an app of its own, with a role to grant. */
function consumer() {
  const app = new App();
  const stack = new Stack(app, 'Consumer', { env: ENV });
  const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { app, stack, role };
}

function importIn(stack: Stack, attrs: Partial<SecureApiAttributes> = {}, id = 'Api'): ISecureApi {
  return SecureApi.fromSecureApiAttributes(stack, id, { httpApiId: API_ID, ...attrs });
}

function statementsOf(stack: Stack, rolePrefix: string): any[] {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] },
  });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('SecureApi.fromSecureApiAttributes in another stack', () => {
  test('grantInvoke of one route names exactly that route on $default, parameters as *; the import creates nothing', () => {
    const { stack, role } = consumer();
    importIn(stack).grantInvoke(role, 'GET /items/{id}');
    const template = Template.fromStack(stack);
    expect(Object.values(template.findResources('AWS::IAM::Policy'))).toHaveLength(1);
    expect(statementsOf(stack, 'Caller')).toEqual([{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: routeArn('GET/items/*') }]);
    expect(Object.values(template.toJSON().Resources).map((r: any) => r.Type).sort()).toEqual(['AWS::IAM::Policy', 'AWS::IAM::Role']);
  });

  test('grantInvoke without a route: every route of the API on $default', () => {
    const { stack, role } = consumer();
    importIn(stack).grantInvoke(role);
    expect(statementsOf(stack, 'Caller')).toEqual([{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: routeArn('*/*') }]);
  });

  test('cdk-nag: the wildcards of its grants are acknowledged with their reasons', () => {
    const { app, stack, role } = consumer();
    const api = importIn(stack);
    api.grantInvoke(role, 'GET /items/{id}');
    api.grantInvoke(role, 'ANY /files');
    api.grantInvoke(role);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('the route is not checked against the API (an import does not know its routes), only its form', () => {
    const { app, stack, role } = consumer();
    const api = importIn(stack);
    api.grantInvoke(role, 'POST /not-known-here');
    expect(() => app.synth()).not.toThrow();
    expect(() => api.grantInvoke(role, 'get /items')).toThrow(/SecureApi\.grantInvoke: route 'get \/items' must be '<METHOD> <path>'/);
    expect(() => api.grantInvoke(role, 'GET items')).toThrow(/must be '<METHOD> <path>'/);
  });

  test('url: the execute-api endpoint with a trailing slash, or the given URL with one', () => {
    const { stack } = consumer();
    expect(stack.resolve(importIn(stack).url)).toEqual({
      'Fn::Join': ['', [`https://${API_ID}.execute-api.${ENV.region}.`, { Ref: 'AWS::URLSuffix' }, '/']],
    });
    expect(importIn(stack, { url: 'https://api.example.com' }, 'Domain').url).toBe('https://api.example.com/');
    expect(importIn(stack, { url: 'https://api.example.com/' }, 'Domain2').url).toBe('https://api.example.com/');
    expect(importIn(stack, {}, 'Plain').httpApi.apiId).toBe(API_ID);
  });
});

describe('an import grants exactly what the SecureApi grants', () => {
  test('for the same API: the same statements and the same acknowledgements', () => {
    const { app, stack, api } = apiStack();
    api.addLambdaRoute('Items', { path: '/items/{id}', methods: [apigwv2.HttpMethod.GET], handler: itemsFunction(stack) });
    api.addLambdaRoute('Files', { path: '/files', handler: itemsFunction(stack, 'Files') });
    const imported = SecureApi.fromSecureApiAttributes(stack, 'Imported', { httpApiId: api.httpApi.apiId });
    const grantAll = (a: ISecureApi, g: iam.IGrantable) => [a.grantInvoke(g, 'GET /items/{id}'), a.grantInvoke(g, 'ANY /files'), a.grantInvoke(g)];
    grantAll(api, new iam.Role(stack, 'ByClass', { assumedBy: new iam.AccountRootPrincipal() }));
    grantAll(imported, new iam.Role(stack, 'ByImport', { assumedBy: new iam.AccountRootPrincipal() }));
    unacknowledgedNagFindings(app);
    const byClass = statementsOf(stack, 'ByClass');
    expect(byClass).toHaveLength(3);
    expect(statementsOf(stack, 'ByImport')).toEqual(byClass);
    const acks = (prefix: string) => (Object.entries(Template.fromStack(stack).toJSON().Resources)
      .find(([id, r]: [string, any]) => id.startsWith(prefix) && r.Type === 'AWS::IAM::Role')![1] as any).Metadata.cdk_nag.rules_to_suppress;
    expect(acks('ByClass').length).toBeGreaterThan(0);
    expect(acks('ByImport')).toEqual(acks('ByClass'));
  });

  test('the SecureApi is an ISecureApi', () => {
    const { api } = apiStack();
    const asInterface: ISecureApi = api;
    expect(asInterface.httpApi).toBe(api.httpApi);
    expect(asInterface.url).toBe(api.url);
  });
});

describe('metrics of an import', () => {
  test('the same namespace, name, dimensions and statistic as the SecureApi\'s', () => {
    const { stack, api } = apiStack();
    const imported = SecureApi.fromSecureApiAttributes(stack, 'Imported', { httpApiId: api.httpApi.apiId });
    const shape = (m: cloudwatch.Metric) => stack.resolve({
      namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: m.statistic, period: m.period.toSeconds(),
    });
    const metrics: Array<(a: ISecureApi) => cloudwatch.Metric> = [
      (a) => a.metricClientErrors(), (a) => a.metricServerErrors(), (a) => a.metricLatency(),
      (a) => a.metricClientError(), (a) => a.metricServerError(),
    ];
    for (const metric of metrics) expect(shape(metric(imported))).toEqual(shape(metric(api)));
    expect(shape(imported.metricServerErrors())).toMatchObject({ namespace: 'AWS/ApiGateway', metricName: '5xx', dimensions: { ApiId: expect.anything() } });
  });
});

describe('attribute validation', () => {
  test.each([
    ['an execute-api URL as httpApiId', { httpApiId: `https://${API_ID}.execute-api.us-east-1.amazonaws.com/` },
      /httpApiId must be the id of an HTTP API, ten lower-case letters and digits .*got 'https:.*'; pass the SecureApi's httpApi\.apiId/],
    ['a short httpApiId', { httpApiId: 'abc' }, /httpApiId must be the id of an HTTP API.*got 'abc'/],
    ['an http url', { url: 'http://api.example.com/' },
      /url must be an https:\/\/ URL such as 'https:\/\/api\.example\.com\/', got 'http:\/\/api\.example\.com\/'; pass the SecureApi's url/],
    ['a url with spaces', { url: 'https://api example.com/' }, /url must be an https:\/\/ URL/],
  ])('refuses %s, naming the attribute and the fix', (_name, attrs, message) => {
    const { stack } = consumer();
    expect(() => importIn(stack, attrs)).toThrow(new RegExp(`SecureApi\\.fromSecureApiAttributes\\('Api'\\): ${message.source}`));
  });

  test('tokens are not checked', () => {
    const { stack, role } = consumer();
    const api = importIn(stack, { httpApiId: new CfnParameter(stack, 'ApiId').valueAsString, url: new CfnParameter(stack, 'Url').valueAsString });
    api.grantInvoke(role, 'POST /items');
    expect(JSON.stringify(statementsOf(stack, 'Caller')[0].Resource)).toContain('{"Ref":"ApiId"},"/$default/POST/items"');
    expect(stack.resolve(api.url)).toEqual({ Ref: 'Url' });
  });
});
