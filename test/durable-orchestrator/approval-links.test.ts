import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { orchestratorStack, testAgentFunction } from './fixtures';
import { ENV } from '../../src/contract/table';
import { AgentTarget, ApprovalLinks, ApprovalNotification, DurableOrchestrator } from '../../src/durable-orchestrator';
import { ApiAuthorization, SecureApi } from '../../src/secure-api';
import { AgentStep, ApprovalStep, WorkflowAgent, WorkflowDefinition } from '../../src/workflow';
import { unacknowledgedNagFindings } from '../helpers/nag';

function linksWorkflow(): WorkflowDefinition {
  return new WorkflowDefinition({
    workflowName: 'review',
    steps: [
      new AgentStep({ stepName: 'draft', agent: WorkflowAgent.named('echo'), timeout: Duration.minutes(5) }),
      new ApprovalStep({ stepName: 'review', prompt: 'Publish the draft?', timeout: Duration.hours(1) }),
    ],
  });
}

function echo(scope: Construct): AgentTarget {
  return AgentTarget.lambdaFunction('echo', testAgentFunction(scope, 'Echo'));
}

function routesOf(t: Template): Record<string, { AuthorizationType?: string }> {
  const out: Record<string, { AuthorizationType?: string }> = {};
  for (const r of Object.values(t.findResources('AWS::ApiGatewayV2::Route'))) out[r.Properties.RouteKey] = r.Properties;
  return out;
}

function functionEnv(t: Template, description: RegExp): Record<string, unknown> {
  const fn = Object.values(t.findResources('AWS::Lambda::Function')).find((f) => description.test(String(f.Properties.Description ?? '')));
  if (!fn) throw new Error(`no function described ${description}`);
  return fn.Properties.Environment.Variables;
}

describe('approval links off (the default)', () => {
  test('no link routes, no secret, no link settings; every route requires IAM', () => {
    const { stack } = orchestratorStack();
    const t = Template.fromStack(stack);
    const routes = routesOf(t);
    expect(Object.keys(routes).filter((k) => k.includes('/approvals/'))).toEqual([]);
    for (const r of Object.values(routes)) expect(r.AuthorizationType).toBe('AWS_IAM');
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(functionEnv(t, /^HTTP API/)[ENV.approvalLinkSecretArn]).toBeUndefined();
  });

  test('ApprovalLinks.disabled() is the same as leaving it out', () => {
    const { stack } = orchestratorStack({ approvalLinks: ApprovalLinks.disabled() });
    expect(Object.keys(routesOf(Template.fromStack(stack))).filter((k) => k.includes('/approvals/'))).toEqual([]);
  });
});

describe('approval links on', () => {
  const enabled = () => orchestratorStack({ approvalLinks: ApprovalLinks.enabled({ expiry: Duration.hours(6) }) });

  test('the two link routes have no AWS authorization, every other route keeps IAM', () => {
    const routes = routesOf(Template.fromStack(enabled().stack));
    expect(routes['GET /approvals/{token}'].AuthorizationType).toBe('NONE');
    expect(routes['POST /approvals/{token}'].AuthorizationType).toBe('NONE');
    const others = Object.entries(routes).filter(([k]) => !k.includes('/approvals/'));
    expect(others.length).toBeGreaterThanOrEqual(7);
    for (const [, r] of others) expect(r.AuthorizationType).toBe('AWS_IAM');
  });

  test('the link routes are throttled on their own', () => {
    const t = Template.fromStack(enabled().stack);
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: {
        'GET /approvals/{token}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
        'POST /approvals/{token}': { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      },
    });
  });

  test('a generated secret, read by exactly the controller and the API function; both know it, the controller the expiry and base URL', () => {
    const { stack, orchestrator } = enabled();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SecretsManager::Secret', 1);
    t.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }) });
    const secretId = stack.getLogicalId(orchestrator.approvalLinkSecret!.node.defaultChild as any);
    const readers = Object.entries(t.findResources('AWS::IAM::Policy')).filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes(secretId));
    const roles = readers.flatMap(([, p]) => p.Properties.Roles.map((r: { Ref: string }) => r.Ref)).sort();
    const fnRoles = [orchestrator.controllerFunction, orchestrator.apiFunction]
      .map((f) => stack.getLogicalId(f.role!.node.defaultChild as any)).sort();
    expect(roles).toEqual(fnRoles);
    for (const [, p] of readers) {
      const statements = p.Properties.PolicyDocument.Statement.filter((s: { Resource: unknown }) => JSON.stringify(s.Resource).includes(secretId));
      for (const s of statements) expect([s.Action].flat().sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    }
    const api = functionEnv(t, /^HTTP API/);
    const controller = functionEnv(t, /durable controller|Controller|controller/i);
    expect(api[ENV.approvalLinkSecretArn]).toEqual({ Ref: secretId });
    expect(controller[ENV.approvalLinkSecretArn]).toEqual({ Ref: secretId });
    expect(controller[ENV.approvalLinkExpirySeconds]).toBe('21600');
    expect(controller[ENV.approvalLinkBaseUrl]).toBeDefined();
  });

  test('with encryptionKey the secret is encrypted with it', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new DurableOrchestrator(stack, 'Orchestrator', {
      workflow: linksWorkflow(), agents: [echo(stack)], encryptionKey: key, approvalLinks: ApprovalLinks.enabled(),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as any), 'Arn'] } });
  });

  test('a base URL of your own reaches the controller', () => {
    const { stack } = orchestratorStack({ approvalLinks: ApprovalLinks.enabled({ baseUrl: 'https://approvals.example.com/' }) });
    expect(functionEnv(Template.fromStack(stack), /controller/i)[ENV.approvalLinkBaseUrl]).toBe('https://approvals.example.com');
  });

  test('cdk-nag: nothing unacknowledged; the anonymous routes carry their reason', () => {
    const { app, stack } = orchestratorStack({
      approvalLinks: ApprovalLinks.enabled(),
      approvalNotification: ApprovalNotification.toEmail('approvers@example.com'),
    });
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Orchestrator'))).toEqual([]);
    const link = Object.values(Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route'))
      .find((r) => r.Properties.RouteKey === 'GET /approvals/{token}')!;
    expect(link.Metadata.cdk_nag.rules_to_suppress).toEqual(expect.arrayContaining([{ id: 'AwsSolutions-APIG4', reason: expect.stringMatching(/HMAC-SHA256.*GET never decides/) }]));
  });

  test('on a shared SecureApi the link routes are anonymous by name and the rest stay IAM', () => {
    const app = new App();
    const stack = new Stack(app, 'Shared');
    const api = new SecureApi(stack, 'Api', { authorization: ApiAuthorization.iam() });
    new DurableOrchestrator(stack, 'Orchestrator', { workflow: linksWorkflow(), agents: [echo(stack)], api, apiBasePath: '/research', approvalLinks: ApprovalLinks.enabled() });
    const routes = routesOf(Template.fromStack(stack));
    expect(routes['GET /research/approvals/{token}'].AuthorizationType).toBe('NONE');
    expect(routes['POST /research/approvals/{token}'].AuthorizationType).toBe('NONE');
    expect(routes['POST /research/workflows/{id}/approval'].AuthorizationType).toBe('AWS_IAM');
  });

  test('options are checked', () => {
    expect(() => ApprovalLinks.enabled({ expiry: Duration.seconds(30) })).toThrow(/expiry 30 seconds is outside 1 minute to 30 days/);
    expect(() => ApprovalLinks.enabled({ expiry: Duration.days(31) })).toThrow(/outside 1 minute to 30 days/);
    expect(() => ApprovalLinks.enabled({ baseUrl: 'http://approvals.example.com' })).toThrow(/baseUrl 'http:\/\/approvals.example.com' is not an https:\/\/ URL/);
    expect(() => ApprovalNotification.toEmail('not-an-address')).toThrow(/'not-an-address' is not an email address/);
  });
});

describe('approval notification', () => {
  test('toEmail: a KMS-encrypted, TLS-only topic with the email subscription, fed by a rule on approval requests with the links', () => {
    const { stack, orchestrator } = orchestratorStack({
      approvalLinks: ApprovalLinks.enabled(),
      approvalNotification: ApprovalNotification.toEmail('approvers@example.com'),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'approvers@example.com' });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    const rule = Object.values(t.findResources('AWS::Events::Rule'))
      .find((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes('Workflow Approval Requested'))!;
    expect(rule).toBeDefined();
    const target = rule.Properties.Targets[0];
    expect(target.Arn).toEqual({ Ref: stack.getLogicalId(orchestrator.approvalTopic!.node.defaultChild as any) });
    const paths = target.InputTransformer.InputPathsMap;
    expect(Object.values(paths)).toEqual(expect.arrayContaining(['$.detail.workflow_id', '$.detail.links.approve', '$.detail.links.reject', '$.detail.summary.artifact_key', '$.detail.summary.excerpt']));
  });

  test('toTopic: your topic is the target; without links the message says how to decide instead', () => {
    const { stack } = orchestratorStack();
    const topic = new sns.Topic(stack, 'Mine');
    new DurableOrchestrator(stack, 'Second', { workflow: linksWorkflow(), agents: [echo(stack)], approvalNotification: ApprovalNotification.toTopic(topic) });
    const t = Template.fromStack(stack);
    const rule = Object.values(t.findResources('AWS::Events::Rule'))
      .find((r) => r.Properties.Targets?.[0]?.Arn?.Ref === stack.getLogicalId(topic.node.defaultChild as any))!;
    expect(rule).toBeDefined();
    expect(Object.values(rule.Properties.Targets[0].InputTransformer.InputPathsMap)).not.toContain('$.detail.links.approve');
    expect(rule.Properties.Targets[0].InputTransformer.InputTemplate).toMatch(/POST \/workflows\/\{id\}\/approval/);
    t.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
