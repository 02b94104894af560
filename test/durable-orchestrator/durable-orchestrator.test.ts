import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { orchestratorStack, researchWorkflow, testAgentFunction } from './fixtures';
import { AgentTarget, DurableOrchestrator } from '../../src/durable-orchestrator';
import { SecureApi } from '../../src/secure-api';
import { AgentStep, WorkflowAgent, WorkflowDefinition } from '../../src/workflow';
import { cfnLint } from '../helpers/cfn-lint';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';
import { testIfInstalled } from '../helpers/tools';

/** The folder a layer's asset was staged from (the cloud assembly's copy). */
function layerAssetDir(app: App, stack: Stack, layer: any): string {
  const assembly = app.synth();
  const key = JSON.stringify(stack.resolve(layer.Properties.Content.S3Key));
  const hash = /([0-9a-f]{64})\.zip/.exec(key)![1];
  return path.join(assembly.directory, `asset.${hash}`);
}

function controllerOf(template: Template) {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { DurableConfig: Match.anyValue() } });
  expect(Object.keys(fns)).toHaveLength(1);
  return Object.values(fns)[0];
}

describe('DurableOrchestrator defaults', () => {
  const { app, stack } = orchestratorStack();
  const template = Template.fromStack(stack);

  test('the controller is a durable function on Node.js 22, ARM64, traced, with its own log group', () => {
    const controller = controllerOf(template);
    expect(controller.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 900,
      TracingConfig: { Mode: 'Active' },
      DurableConfig: { ExecutionTimeout: 30 * 86400, RetentionPeriodInDays: 14 },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/^OrchestratorControllerLogs/) } },
    });
  });

  test('the API function has 512 MiB, and neither function is in a VPC; no CORS and no outputs unless asked', () => {
    const api = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('HTTP API') } }))[0];
    expect(api.Properties.MemorySize).toBe(512);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::EC2::SecurityGroup')).filter((id) => id.startsWith('OrchestratorFunctions'))).toEqual([]);
    expect(Object.values(template.findResources('AWS::ApiGatewayV2::Api'))[0].Properties.CorsConfiguration).toBeUndefined();
    expect(template.findOutputs('*')).toEqual({});
  });

  test('callers start it through the alias "live"', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionVersion: Match.anyValue() });
    const api = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('HTTP API') } });
    const env = Object.values(api)[0].Properties.Environment.Variables;
    expect(env.CONTROLLER_FUNCTION_ARN).toEqual({ Ref: expect.stringMatching(/^OrchestratorControllerAlias/) });
  });

  test('workflow state: on-demand table with PITR, encryption, status and update-time indexes, TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      GlobalSecondaryIndexes: [
        Match.objectLike({ IndexName: 'by-status', KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }, { AttributeName: 'updatedAt', KeyType: 'RANGE' }] }),
        Match.objectLike({ IndexName: 'by-updated', KeySchema: [{ AttributeName: 'entity', KeyType: 'HASH' }, { AttributeName: 'updatedAt', KeyType: 'RANGE' }] }),
      ],
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  test('artifacts: versioned, encrypted, private, TLS-only bucket with a transition after 90 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'artifacts/' }),
      LifecycleConfiguration: { Rules: [Match.objectLike({ Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }] })] },
    });
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    for (const p of policies) {
      expect(p.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]));
    }
  });

  test('events: its own bus with an archive of the workflow events', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: ['cdk-durable-agents'] }, RetentionDays: 30 });
  });

  test('the HTTP API requires IAM authorization on every route, throttles and writes JSON access logs', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.values(routes).map((r) => r.Properties.RouteKey).sort()).toEqual([
      'GET /admin/kill-switch', 'GET /workflows', 'GET /workflows/{id}', 'POST /callbacks/{callbackId}', 'POST /callbacks/{callbackId}/heartbeat',
      'POST /workflows', 'POST /workflows/{id}/approval', 'POST /workflows/{id}/cancel', 'PUT /admin/kill-switch',
    ]);
    for (const r of Object.values(routes)) expect(r.Properties.AuthorizationType).toBe('AWS_IAM');
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId"') },
    });
  });

  test('alarms on failed workflows, handler errors, throttles and 5xx', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkDurableAgents',
      MetricName: 'WorkflowsFailed',
      Dimensions: Match.arrayWith([{ Name: 'workflow', Value: 'research-report' }]),
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });

  test('the environment holds names and pointers; the definition is in a layer whose SHA-256 it names', () => {
    const controller = controllerOf(template);
    const env = controller.Properties.Environment.Variables;
    expect(env.STATE_RETENTION_DAYS).toBe('14');
    expect(env.WORKFLOW_DEFINITION).toBeUndefined();
    expect(env.WORKFLOW_AGENTS).toBeUndefined();
    expect(env.WORKFLOW_CONFIG_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(env.CALLBACK_BASE_URL).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^OrchestratorHttpApi/), 'ApiEndpoint'] });
    expect(env.CONTROLLER_FUNCTION_ARN).toBeUndefined(); // only the API starts executions
    expect(JSON.stringify(stack.resolve(env.AGENT_TARGETS_PARAMETER_PREFIX))).toMatch(/^"\/cdk-durable-agents\/Test-Orchestrator-[A-Za-z0-9-]+\/agents"$/);
    expect(controller.Properties.Layers).toEqual([{ Ref: expect.stringMatching(/^OrchestratorWorkflowConfigLayer/) }]);
    const api = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('HTTP API') } }))[0];
    expect(api.Properties.Layers).toEqual(controller.Properties.Layers);
    expect(api.Properties.Environment.Variables.WORKFLOW_CONFIG_SHA256).toBe(env.WORKFLOW_CONFIG_SHA256);
    // The API dispatches nothing and calls nobody back.
    expect(api.Properties.Environment.Variables.AGENT_TARGETS_PARAMETER_PREFIX).toBeUndefined();
    expect(api.Properties.Environment.Variables.CALLBACK_BASE_URL).toBeUndefined();
  });

  test('each agent\'s target is an SSM parameter under the prefix, read by the controller only', () => {
    const prefix = controllerOf(template).Properties.Environment.Variables.AGENT_TARGETS_PARAMETER_PREFIX;
    const params = template.findResources('AWS::SSM::Parameter');
    const byName = Object.fromEntries(Object.values(params).map((p) => [p.Properties.Name, p.Properties]));
    expect(Object.keys(byName).sort()).toEqual(['analyst', 'researcher', 'writer'].map((a) => `${prefix}/${a}`));
    for (const p of Object.values(byName)) expect(p).toMatchObject({ Type: 'String', Tier: 'Standard' });
    const writer = JSON.stringify(stack.resolve(byName[`${prefix}/writer`].Value));
    // ECS agents are dispatched by family, so a deploy's new revision runs (the old one is INACTIVE).
    expect(writer).toContain('\\"taskDefinition\\":\\"TestAgentsWriterTask');
    expect(writer).not.toContain('revision');
    expect(JSON.stringify(stack.resolve(byName[`${prefix}/researcher`].Value))).toContain('\\"type\\":\\"lambda\\"');
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^OrchestratorControllerRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'ssm:GetParameter',
          Resource: { 'Fn::Join': ['', Match.arrayWith([`:parameter${prefix}/*`])] },
        })]),
      },
    });
  });

  test('the configuration layer holds the definition and the agent names, and its SHA-256 is the one in the environment', () => {
    const layers = template.findResources('AWS::Lambda::LayerVersion');
    expect(Object.keys(layers)).toHaveLength(1);
    const dir = layerAssetDir(app, stack, Object.values(layers)[0]);
    const text = fs.readFileSync(path.join(dir, 'cdk-durable-agents', 'workflow-config.json'), 'utf8');
    expect(createHash('sha256').update(text).digest('hex')).toBe(controllerOf(template).Properties.Environment.Variables.WORKFLOW_CONFIG_SHA256);
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({ configVersion: 1, definition: { name: 'research-report' }, agentNames: ['analyst', 'researcher', 'writer'] });
  });

  test('matches the snapshot (asset hashes masked)', () => {
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});

describe('least privilege', () => {
  const { stack } = orchestratorStack();
  const template = Template.fromStack(stack);
  const statements = Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([id, p]) =>
    (p.Properties.PolicyDocument.Statement as any[]).map((s) => ({ policy: id, ...s })));

  test('no statement allows all actions of a service or all actions at all', () => {
    for (const s of statements) {
      for (const action of [s.Action].flat()) {
        expect({ policy: s.policy, action }).toEqual({ policy: s.policy, action: expect.not.stringMatching(/(^\*$)|(:\*$)/) });
      }
    }
  });

  test('a resource "*" appears only for X-Ray, which has no resource-level permissions', () => {
    for (const s of statements.filter((x) => [x.Resource].flat().includes('*'))) {
      expect([s.Action].flat().every((a: string) => a.startsWith('xray:'))).toBe(true);
    }
  });

  test('every other resource is one of this stack\'s own resources', () => {
    const ids = new Set(Object.keys(template.toJSON().Resources));
    for (const s of statements) {
      for (const r of [s.Resource].flat()) {
        if (r === '*') continue;
        const refs = JSON.stringify(r).match(/"(Ref|Fn::GetAtt)":\s*\[?"([A-Za-z0-9]+)"/g) ?? [];
        const literal = typeof r === 'string' ? r : JSON.stringify(r);
        expect({ policy: s.policy, resource: literal, scoped: refs.length > 0 || /:task\/|:task-definition\/[A-Za-z0-9-]+:\*|execute-api|:parameter\/cdk-durable-agents\//.test(literal) }).toEqual({ policy: s.policy, resource: literal, scoped: true });
        for (const ref of refs) {
          const id = /"([A-Za-z0-9]+)"$/.exec(ref)![1];
          expect(ids.has(id) || id === 'AWS').toBe(true);
        }
      }
    }
  });

  test('an agent may write only under its own prefix, read agents\' artifacts and call back; nothing else', () => {
    const researcherPolicy = statements.filter((s) => s.policy.startsWith('AgentsResearcherFnServiceRoleDefaultPolicy'));
    const writes = researcherPolicy.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:Put')));
    expect(JSON.stringify(writes.map((w) => w.Resource))).toContain('/agents/researcher/*');
    expect(JSON.stringify(writes.map((w) => w.Resource))).not.toContain('/agents/analyst/');
    const actions = new Set(researcherPolicy.flatMap((s) => [s.Action].flat()));
    expect([...actions].sort()).toEqual(['execute-api:Invoke', 's3:GetObject', 's3:PutObject']);
    expect([...actions].filter((a) => !/^(s3:|execute-api:Invoke$)/.test(a))).toEqual([]);
    const invoke = researcherPolicy.find((s) => [s.Action].flat().includes('execute-api:Invoke'));
    expect(JSON.stringify(invoke.Resource)).toContain('/$default/POST/callbacks/*');
    expect(JSON.stringify(invoke.Resource)).not.toContain('/workflows');
  });

  test('the controller may start exactly its agents: invoke the Lambda agents, run the writer task and pass its roles', () => {
    const controller = statements.filter((s) => s.policy.startsWith('OrchestratorControllerRoleDefaultPolicy'));
    const invoked = controller.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction')).flatMap((s) => [s.Resource].flat());
    expect(invoked.map((r) => r['Fn::GetAtt'][0]).sort()).toEqual([expect.stringMatching(/^AgentsAnalystFn/), expect.stringMatching(/^AgentsResearcherFn/)]);
    const runTask = controller.find((s) => [s.Action].flat().includes('ecs:RunTask'));
    expect(runTask.Condition).toEqual({ ArnEquals: { 'ecs:cluster': expect.anything() } });
    // It may stop the tasks of that cluster (a workflow that ended without them), and nothing else of ECS.
    const stopTask = controller.find((s) => [s.Action].flat().includes('ecs:StopTask'));
    expect(stopTask.Action).toBe('ecs:StopTask');
    expect(stopTask.Condition).toEqual(runTask.Condition);
    expect(JSON.stringify(stopTask.Resource)).toMatch(/:task\/"?,?.*\/\*"/);
    expect(controller.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('ecs:')).sort()).toEqual(['ecs:RunTask', 'ecs:StopTask', 'ecs:TagResource']);
    expect(controller.some((s) => [s.Action].flat().includes('iam:PassRole'))).toBe(true);
    const checkpoint = statements.find((s) => s.policy.startsWith('OrchestratorControllerCheckpointPolicy'));
    expect(checkpoint.Action).toEqual(['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecutionState', 'lambda:SendDurableExecutionCallbackFailure']);
    expect(checkpoint.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^OrchestratorController/), 'Arn'] }, ':*']] });
  });
});

describe('knobs', () => {
  test('controller memory and timeout, execution timeout and history, state retention', () => {
    const { stack } = orchestratorStack({
      controllerMemoryMiB: 2048,
      controllerTimeout: Duration.minutes(5),
      executionTimeout: Duration.days(3),
      executionHistoryRetention: Duration.days(30),
      stateRetention: Duration.days(60),
    });
    const controller = controllerOf(Template.fromStack(stack)).Properties;
    expect(controller).toMatchObject({ MemorySize: 2048, Timeout: 300, DurableConfig: { ExecutionTimeout: 3 * 86400, RetentionPeriodInDays: 30 } });
    expect(controller.Environment.Variables.STATE_RETENTION_DAYS).toBe('60');
  });

  test('API function memory', () => {
    const { stack } = orchestratorStack({ apiMemoryMiB: 1536 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('HTTP API'), MemorySize: 1536 });
    t.hasResourceProperties('AWS::Lambda::Function', { DurableConfig: Match.anyValue(), MemorySize: 1024 });
  });

  test('artifact versioning off and a later transition', () => {
    const { stack } = orchestratorStack({ artifactVersioning: false, artifactTransitionAfter: Duration.days(365) });
    const t = Template.fromStack(stack);
    const bucket = Object.values(t.findResources('AWS::S3::Bucket', { Properties: { LifecycleConfiguration: { Rules: [Match.objectLike({ Transitions: Match.anyValue() })] } } }))[0];
    expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
    expect(bucket.Properties.LifecycleConfiguration.Rules[0].Transitions[0].TransitionInDays).toBe(365);
  });

  test('tracing off, log retention, no access logging, throttling, dashboard', () => {
    const { stack } = orchestratorStack({
      tracing: false,
      logRetention: logs.RetentionDays.ONE_MONTH,
      apiAccessLogging: false,
      apiThrottlingRateLimit: 10,
      apiThrottlingBurstLimit: 20,
      dashboard: true,
    });
    const t = Template.fromStack(stack);
    expect(controllerOf(t).Properties.TracingConfig).toBeUndefined();
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const stage = Object.values(t.findResources('AWS::ApiGatewayV2::Stage'))[0].Properties;
    expect(stage.AccessLogSettings).toBeUndefined();
    expect(stage.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('a customer managed key encrypts the table, the bucket and the bus, and readers get decrypt', () => {
    const stack = standalone((scope) => ({ encryptionKey: new kms.Key(scope, 'Key', { enableKeyRotation: true }) }));
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() } });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } })] },
    });
    t.hasResourceProperties('AWS::Events::EventBus', { KmsKeyIdentifier: Match.anyValue() });
    const apiPolicy = Object.entries(t.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('OrchestratorApiRoleDefaultPolicy'))![1];
    expect(JSON.stringify(apiPolicy)).toContain('kms:Decrypt');
  });

  test('bring your own bucket and bus', () => {
    const stack = standalone((scope) => ({ artifactBucket: new s3.Bucket(scope, 'Mine', { enforceSSL: true }), eventBus: new events.EventBus(scope, 'MyBus') }));
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Events::EventBus', 1);
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.hasResourceProperties('AWS::Events::Archive', { SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MyBus'), 'Arn'] } });
  });

  test('removal policy DESTROY empties and deletes the bucket and table with the stack', () => {
    const { stack } = orchestratorStack({ removalPolicy: RemovalPolicy.DESTROY });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    t.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });
});

/** The controller and the API function of a template, in that order. */
function functionsOf(t: Template): Array<[string, any]> {
  const controller = Object.entries(t.findResources('AWS::Lambda::Function', { Properties: { DurableConfig: Match.anyValue() } }));
  const api = Object.entries(t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('HTTP API') } }));
  expect([controller.length, api.length]).toEqual([1, 1]);
  return [controller[0], api[0]];
}

describe('in a VPC', () => {
  /** An orchestrator in a VPC of the stack (two AZs: public, private with egress, isolated). */
  function inVpc(props: (vpc: ec2.Vpc, stack: Stack) => Partial<ConstructorParameters<typeof DurableOrchestrator>[2]> = () => ({})) {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    const agents = ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(stack, n)));
    const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', { workflow: researchWorkflow(), agents, vpc, ...props(vpc, stack) });
    return { app, stack, vpc, orchestrator };
  }

  test('both functions run in the private subnets with egress, with one shared security group: no inbound, HTTPS out only', () => {
    const { stack } = inVpc();
    const t = Template.fromStack(stack);
    const groups = t.findResources('AWS::EC2::SecurityGroup');
    expect(Object.keys(groups)).toEqual([expect.stringMatching(/^OrchestratorFunctionsSecurityGroup/)]);
    const [groupId, group] = Object.entries(groups)[0];
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    expect(group.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    for (const [, fn] of functionsOf(t)) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: [{ Ref: expect.stringMatching(/^VpcappSubnet1/) }, { Ref: expect.stringMatching(/^VpcappSubnet2/) }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }],
      });
    }
  });

  test('each role may manage the network interfaces Lambda attaches (no logs:* on every log group), and its function waits for that', () => {
    const { stack } = inVpc();
    const t = Template.fromStack(stack);
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('VpcAccessPolicy') } });
    expect(Object.keys(policies).sort()).toEqual([expect.stringMatching(/^OrchestratorApiVpcAccessPolicy/), expect.stringMatching(/^OrchestratorControllerVpcAccessPolicy/)]);
    for (const [id, policy] of Object.entries(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual([{
        Effect: 'Allow',
        Action: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        Resource: '*',
      }]);
      expect(policy.Properties.Roles).toHaveLength(1);
      const role = policy.Properties.Roles[0].Ref as string;
      const [fnId, fn] = Object.entries(t.findResources('AWS::Lambda::Function')).find(([, f]) => f.Properties.Role?.['Fn::GetAtt']?.[0] === role)!;
      expect({ fnId, dependsOn: fn.DependsOn }).toEqual({ fnId, dependsOn: expect.arrayContaining([id]) });
    }
    // The AWS managed policy would add logs:CreateLogGroup and PutLogEvents on every log group.
    for (const [, fn] of functionsOf(t)) {
      const role = t.toJSON().Resources[fn.Properties.Role['Fn::GetAtt'][0]];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('connections stand for both functions: a peer admits them, and they reach it', () => {
    const { stack, vpc, orchestrator } = inVpc();
    const database = new ec2.SecurityGroup(stack, 'Database', { vpc, allowAllOutbound: false });
    new ec2.Connections({ securityGroups: [database], defaultPort: ec2.Port.tcp(5432) }).allowDefaultPortFrom(orchestrator);
    orchestrator.connections.allowTo(ec2.Peer.ipv4('10.1.0.0/16'), ec2.Port.tcp(8443), 'a private agent endpoint');
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Database'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrchestratorFunctionsSecurityGroup'), 'GroupId'] },
    });
    const group = Object.values(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('Controller and API') } }))[0];
    expect(group.Properties.SecurityGroupEgress).toEqual(expect.arrayContaining([expect.objectContaining({ CidrIp: '10.1.0.0/16', FromPort: 8443 })]));
  });

  test('given subnets and security groups are used as they are', () => {
    const { stack } = inVpc((vpc, scope) => ({
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [new ec2.SecurityGroup(scope, 'Mine', { vpc })],
    }));
    const t = Template.fromStack(stack);
    expect(Object.keys(t.findResources('AWS::EC2::SecurityGroup'))).toEqual([expect.stringMatching(/^Mine/)]);
    for (const [, fn] of functionsOf(t)) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: [{ Ref: expect.stringMatching(/^VpcisolatedSubnet1/) }, { Ref: expect.stringMatching(/^VpcisolatedSubnet2/) }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^Mine/), 'GroupId'] }],
      });
    }
  });

  test('outside a VPC, connections say why there are none', () => {
    const { orchestrator } = orchestratorStack();
    expect(() => orchestrator.connections).toThrow(/^DurableOrchestrator Test\/Orchestrator is not in a VPC, so its functions have no security groups to connect; give it vpc/);
  });

  test('cdk-nag: nothing unacknowledged, and the interface wildcard is acknowledged on its own policies with the reason', () => {
    const { app, stack } = inVpc();
    const findings = unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Orchestrator'));
    expect(findings).toEqual([]);
    const t = Template.fromStack(stack);
    for (const policy of Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('VpcAccessPolicy') } }))) {
      expect(policy.Metadata.cdk_nag.rules_to_suppress).toEqual(expect.arrayContaining([
        { id: 'AwsSolutions-IAM5[Resource::*]', reason: expect.stringMatching(/network interfaces/) },
      ]));
    }
  });

  testIfInstalled('cfn-lint', 'the template passes cfn-lint', () => {
    const { stack } = inVpc();
    expect(cfnLint(Template.fromStack(stack).toJSON())).toEqual([]);
  }, 120_000);
});

describe('CORS of its own API', () => {
  test('the origins given, with the headers of a signed call and the methods of the routes when those are left unset', () => {
    const { stack } = orchestratorStack({ cors: { allowOrigins: ['https://app.example.com'], maxAge: Duration.hours(1) } });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://app.example.com'],
        AllowHeaders: ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'idempotency-key'],
        AllowMethods: ['GET', 'POST'],
        MaxAge: 3600,
      },
    });
  });

  test('headers and methods given are kept as they are', () => {
    const { stack } = orchestratorStack({
      cors: { allowOrigins: ['https://app.example.com'], allowHeaders: ['authorization'], allowMethods: [apigwv2.CorsHttpMethod.GET], allowCredentials: true },
    });
    const api = Object.values(Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Api'))[0];
    expect(api.Properties.CorsConfiguration).toEqual({
      AllowOrigins: ['https://app.example.com'], AllowHeaders: ['authorization'], AllowMethods: ['GET'], AllowCredentials: true,
    });
  });
});

describe('addOutputs', () => {
  test('none unless called; then the names a person needs after deploy, under readable logical ids, not exported', () => {
    const { stack, orchestrator } = orchestratorStack();
    const outputs = orchestrator.addOutputs();
    const t = Template.fromStack(stack).toJSON().Outputs;
    expect(outputs.map((o) => stack.resolve(o.logicalId))).toEqual([
      'OrchestratorApiUrl', 'OrchestratorHttpApiId', 'OrchestratorArtifactBucketName', 'OrchestratorWorkflowTableName',
      'OrchestratorEventBusName', 'OrchestratorControllerFunctionName', 'OrchestratorControllerAliasArn', 'OrchestratorApiFunctionName',
      'OrchestratorControllerLogGroupName', 'OrchestratorApiLogGroupName', 'OrchestratorApiAccessLogGroupName',
    ]);
    const ref = (prefix: string) => ({ Ref: expect.stringMatching(new RegExp(`^${prefix}[0-9A-F]{8}$`)) });
    expect(t).toEqual({
      OrchestratorApiUrl: { Description: expect.stringMatching(/^Base URL of the workflow routes of Test\/Orchestrator/), Value: { 'Fn::GetAtt': [expect.stringMatching(/^OrchestratorHttpApi/), 'ApiEndpoint'] } },
      OrchestratorHttpApiId: { Description: expect.any(String), Value: ref('OrchestratorHttpApi') },
      OrchestratorArtifactBucketName: { Description: expect.any(String), Value: ref('OrchestratorArtifactBucket') },
      OrchestratorWorkflowTableName: { Description: expect.any(String), Value: ref('OrchestratorWorkflowTable') },
      OrchestratorEventBusName: { Description: expect.any(String), Value: ref('OrchestratorEventBus') },
      OrchestratorControllerFunctionName: { Description: expect.any(String), Value: ref('OrchestratorControllerFunction') },
      OrchestratorControllerAliasArn: { Description: expect.any(String), Value: ref('OrchestratorControllerAlias') },
      OrchestratorApiFunctionName: { Description: expect.any(String), Value: ref('OrchestratorApiFunction') },
      OrchestratorControllerLogGroupName: { Description: expect.any(String), Value: ref('OrchestratorControllerLogs') },
      OrchestratorApiLogGroupName: { Description: expect.any(String), Value: ref('OrchestratorApiLogs') },
      OrchestratorApiAccessLogGroupName: { Description: expect.any(String), Value: ref('OrchestratorApiAccessLogs') },
    });
    for (const o of Object.values<any>(t)) expect(o.Description.length).toBeGreaterThan(20);
  });

  test('a prefix of your own, and exports named after a prefix', () => {
    const { stack, orchestrator } = orchestratorStack({ apiAccessLogging: false });
    orchestrator.addOutputs({ outputIdPrefix: 'Research', exportNamePrefix: 'research-prod' });
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    expect(Object.keys(outputs)).toHaveLength(10); // no access log group
    expect(outputs.ResearchApiUrl.Export).toEqual({ Name: 'research-prod-ApiUrl' });
    expect(outputs.ResearchWorkflowTableName.Export).toEqual({ Name: 'research-prod-WorkflowTableName' });
  });

  test('on a shared SecureApi the URL is the SecureApi\'s under the base path; two orchestrators do not collide', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const api = new SecureApi(stack, 'Api');
    const agents = (p: string) => ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(stack, `${p}${n}`)));
    const research = new DurableOrchestrator(stack, 'Research', { workflow: researchWorkflow(), agents: agents('r'), api, apiBasePath: '/research' });
    const reports = new DurableOrchestrator(stack, 'Reports', { workflow: researchWorkflow(), agents: agents('p'), api, apiBasePath: '/reports' });
    research.addOutputs();
    reports.addOutputs();
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    expect(Object.keys(outputs).filter((k) => k.startsWith('Research'))).toHaveLength(10);
    expect(Object.keys(outputs).filter((k) => k.startsWith('Reports'))).toHaveLength(10);
    expect(JSON.stringify(outputs.ResearchApiUrl.Value)).toMatch(/\/research"\]\]\}$/);
    expect(outputs.ResearchHttpApiId.Value).toEqual(outputs.ReportsHttpApiId.Value);
  });

  test('called twice, or with a prefix CloudFormation cannot take, it says so', () => {
    const { orchestrator } = orchestratorStack();
    expect(() => orchestrator.addOutputs({ outputIdPrefix: 'research-1' }))
      .toThrow(/^DurableOrchestrator.addOutputs: outputIdPrefix 'research-1' must be a literal of letters and digits starting with a letter/);
    expect(() => orchestrator.addOutputs({ exportNamePrefix: 'research prod' })).toThrow(/exportNamePrefix 'research prod' may hold only letters, digits, '-' and ':'/);
    orchestrator.addOutputs();
    expect(() => orchestrator.addOutputs()).toThrow(/^DurableOrchestrator.addOutputs: the outputs of Test\/Orchestrator were already added; call addOutputs\(\) once/);
  });
});

/** A stack with one orchestrator whose agents are three Lambda functions, with props made in that stack. */
function standalone(makeProps: (scope: Stack) => Partial<ConstructorParameters<typeof DurableOrchestrator>[2]>): Stack {
  const stack = new Stack();
  const agents = ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(stack, n)));
  new DurableOrchestrator(stack, 'Orchestrator', { workflow: researchWorkflow(), agents, ...makeProps(stack) });
  return stack;
}

describe('grants and metrics', () => {
  test('grantStartWorkflow, grantReadWorkflows, grantApprove, grantCallback and grantKillSwitch allow exactly their routes', () => {
    const { stack, orchestrator } = orchestratorStack();
    const grants: Array<[string, (g: iam.IGrantable) => iam.Grant, string[]]> = [
      ['Starter', (g) => orchestrator.grantStartWorkflow(g), ['/$default/POST/workflows']],
      ['Reader', (g) => orchestrator.grantReadWorkflows(g), ['/$default/GET/workflows', '/$default/GET/workflows/*']],
      ['Approver', (g) => orchestrator.grantApprove(g), ['/$default/POST/workflows/*/approval', '/$default/POST/workflows/*/cancel']],
      ['Caller', (g) => orchestrator.grantCallback(g), ['/$default/POST/callbacks/*', '/$default/POST/callbacks/*/heartbeat']],
      ['Operator', (g) => orchestrator.grantKillSwitch(g), ['/$default/GET/admin/kill-switch', '/$default/PUT/admin/kill-switch']],
    ];
    for (const [name, grant] of grants) {
      expect(grant(new iam.Role(stack, name, { assumedBy: new iam.AccountRootPrincipal() })).success).toBe(true);
    }
    const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    for (const [name, , paths] of grants) {
      const [statement] = policies.find(([id]) => id.startsWith(`${name}DefaultPolicy`))![1].Properties.PolicyDocument.Statement;
      expect(statement.Action).toBe('execute-api:Invoke');
      const rendered = JSON.stringify(statement.Resource);
      for (const p of paths) expect(rendered).toContain(`${p}"`);
      expect([statement.Resource].flat()).toHaveLength(paths.length);
    }
  });

  test('metrics carry the runtime namespace and the workflow dimension', () => {
    const { stack, orchestrator } = orchestratorStack();
    const m = orchestrator.metricWorkflowsFailed();
    expect(m.namespace).toBe('CdkDurableAgents');
    expect(m.metricName).toBe('WorkflowsFailed');
    expect(m.dimensions).toEqual({ service: 'durable-controller', workflow: 'research-report' });
    expect(orchestrator.metricWorkflowsStarted().metricName).toBe('WorkflowsStarted');
    expect(orchestrator.metricWorkflowsSucceeded().metricName).toBe('WorkflowsSucceeded');
    expect(orchestrator.metricStepDuration().statistic).toBe('Average');
    expect(stack.resolve(orchestrator.apiUrl)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^OrchestratorHttpApi/), 'ApiEndpoint'] });
  });
});

describe('validation', () => {
  const make = (props: Partial<ConstructorParameters<typeof DurableOrchestrator>[2]>) => () => orchestratorStack(props);

  test.each([
    ['no agents', { agents: [] }, /agents is empty; pass the agents the workflow's agent steps name: researcher, analyst, writer/],
    ['controller memory too small', { controllerMemoryMiB: 64 },
      /^DurableOrchestrator: controllerMemoryMiB \(controller_memory_mib in Python\) is 64; it must be a whole number from 128 to 10240: Lambda takes 128 to 10240 MiB$/],
    ['controller memory not whole', { controllerMemoryMiB: 1000.5 }, /controllerMemoryMiB \(controller_memory_mib in Python\) is 1000.5; it must be a whole number from 128 to 10240/],
    ['controller timeout over 15 minutes', { controllerTimeout: Duration.minutes(20) },
      /^DurableOrchestrator: controllerTimeout \(controller_timeout in Python\) is 20 minutes; one invocation of a Lambda function must be between 1 second and 15 minutes: set controllerTimeout in that range/],
    ['controller timeout not whole seconds', { controllerTimeout: Duration.millis(1500) }, /controllerTimeout \(controller_timeout in Python\) is 1.5 seconds, not a whole number of seconds: round it to whole seconds/],
    ['execution timeout over a year', { executionTimeout: Duration.days(400) }, /executionTimeout \(execution_timeout in Python\) is 400 days; a durable execution must be between 1 minute and 366 days/],
    ['history retention over 90 days', { executionHistoryRetention: Duration.days(120) }, /executionHistoryRetention \(execution_history_retention in Python\) is 120 days; it must be between 1 and 90 days: set executionHistoryRetention in that range/],
    ['history retention not whole days', { executionHistoryRetention: Duration.hours(36) }, /executionHistoryRetention \(execution_history_retention in Python\) is 1 day 12 hours, not a whole number of days: round it to whole days \(Duration.days\(n\)\)/],
    ['state retention under a day', { stateRetention: Duration.hours(1) }, /stateRetention \(state_retention in Python\) is 1 hour, not a whole number of days/],
    ['state retention zero', { stateRetention: Duration.days(0) }, /stateRetention \(state_retention in Python\) is 0 seconds; it must be between 1 and 3650 days/],
    ['artifact transition over 10 years', { artifactTransitionAfter: Duration.days(4000) }, /artifactTransitionAfter \(artifact_transition_after in Python\) is 4000 days; it must be between 1 and 3650 days/],
    ['throttling rate zero', { apiThrottlingRateLimit: 0 }, /apiThrottlingRateLimit \(api_throttling_rate_limit in Python\) is 0; it must be from 1 to 10000 requests per second: set apiThrottlingRateLimit in that range/],
    ['throttling burst not whole', { apiThrottlingBurstLimit: 10.5 }, /apiThrottlingBurstLimit \(api_throttling_burst_limit in Python\) is 10.5; it must be a whole number from 1 to 5000 requests/],
    ['API memory too small', { apiMemoryMiB: 64 }, /^DurableOrchestrator: apiMemoryMiB \(api_memory_mib in Python\) is 64; it must be a whole number from 128 to 10240: Lambda takes 128 to 10240 MiB$/],
    ['API memory too large', { apiMemoryMiB: 20_000 }, /apiMemoryMiB \(api_memory_mib in Python\) is 20000; it must be a whole number from 128 to 10240/],
    ['vpcSubnets without vpc', { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } },
      /^DurableOrchestrator: vpcSubnets places the functions in a VPC, but vpc is not given; pass vpc too, or leave them unset/],
    ['CORS with any origin and credentials', { cors: { allowOrigins: ['*'], allowCredentials: true } },
      /^DurableOrchestrator: cors.allowCredentials cannot be combined with allowOrigins \['\*'\]/],
    ['CORS without origins', { cors: { allowMethods: [apigwv2.CorsHttpMethod.GET] } }, /^DurableOrchestrator: cors.allowOrigins is empty, so no browser could call the API; list the origins/],
  ])('%s', (_name, props, message) => {
    expect(make(props as any)).toThrow(message);
  });

  test('numbers given as tokens are left to deploy time', () => {
    const token = (n: number) => Lazy.number({ produce: () => n });
    expect(make({ controllerMemoryMiB: token(64), apiMemoryMiB: token(64), apiThrottlingRateLimit: token(0), apiThrottlingBurstLimit: token(0) }))
      .not.toThrow();
  });

  test('an agent the workflow uses but nobody passed is named, with the agents that were passed', () => {
    const { stack } = orchestratorStack();
    expect(() => new DurableOrchestrator(stack, 'Missing', {
      workflow: researchWorkflow(),
      agents: [AgentTarget.lambdaFunction('researcher', testAgentFunction(stack, 'R2'))],
    })).toThrow(/uses agent\(s\) 'analyst', 'writer' that are not in agents \('researcher'\)/);
  });

  test('two agents with the same name', () => {
    const { stack } = orchestratorStack();
    const fn = testAgentFunction(stack, 'Dup');
    expect(() => new DurableOrchestrator(stack, 'Dup', {
      workflow: researchWorkflow(),
      agents: ['researcher', 'analyst', 'writer', 'writer'].map((n) => AgentTarget.lambdaFunction(n, fn)),
    })).toThrow(/two agents are named 'writer'/);
  });

  test('a workflow that does not validate is refused with every problem listed', () => {
    const { stack } = orchestratorStack();
    const broken = new WorkflowDefinition({
      workflowName: 'broken',
      steps: [
        new AgentStep({ stepName: 'a', agent: WorkflowAgent.named('x') }),
        new AgentStep({ stepName: 'a', agent: WorkflowAgent.named('x') }),
      ],
    });
    expect(() => new DurableOrchestrator(stack, 'Broken', {
      workflow: broken, agents: [AgentTarget.lambdaFunction('x', testAgentFunction(stack, 'X'))],
    })).toThrow(/workflow 'broken' is not valid:[\s\S]*'a'/);
  });

  test('security groups without a VPC, none at all, or a VPC without the default subnets', () => {
    expect(() => standalone((scope) => ({ securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(scope, 'Sg', 'sg-12345678')] })))
      .toThrow(/securityGroups places the functions in a VPC, but vpc is not given/);
    expect(() => standalone((scope) => ({ vpc: new ec2.Vpc(scope, 'Vpc'), securityGroups: [] })))
      .toThrow(/^DurableOrchestrator: securityGroups is empty; give at least one security group, or leave it unset/);
    const isolated = (scope: Stack) => new ec2.Vpc(scope, 'Isolated', { subnetConfiguration: [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    expect(() => standalone((scope) => ({ vpc: isolated(scope) })))
      .toThrow(/^DurableOrchestrator: vpc Default\/Isolated has no private subnets with egress, where the functions go by default; .*vpcSubnets: \{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED \}/);
    expect(() => standalone((scope) => ({ vpc: isolated(scope), vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }))).not.toThrow();
  });

  test('CORS on a shared SecureApi belongs to the SecureApi', () => {
    expect(() => standalone((scope) => ({ api: new SecureApi(scope, 'Api'), cors: { allowOrigins: ['https://app.example.com'] } })))
      .toThrow(/^DurableOrchestrator: cors configure the HTTP API the orchestrator creates; with api, the SecureApi logs, throttles and answers CORS for every route/);
  });

  test('artifactVersioning with your own bucket is a conflict', () => {
    expect(() => standalone((scope) => ({ artifactBucket: new s3.Bucket(scope, 'B'), artifactVersioning: true })))
      .toThrow(/artifactVersioning and artifactTransitionAfter configure the bucket the orchestrator creates/);
  });
});

describe('cdk-nag and cfn-lint', () => {
  test('AwsSolutions and Serverless packs: no unacknowledged finding, and each acknowledgement has its reason in the template', () => {
    const { app, stack } = orchestratorStack();
    const findings = unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Orchestrator'));
    expect(findings).toEqual([]);
    const controller = controllerOf(Template.fromStack(stack));
    for (const rule of controller.Metadata.cdk_nag.rules_to_suppress) expect(rule.reason.length).toBeGreaterThan(40);
  });

  testIfInstalled('cfn-lint', 'the template passes cfn-lint', () => {
    const { stack } = orchestratorStack();
    expect(cfnLint(Template.fromStack(stack).toJSON())).toEqual([]);
  });
});
