import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { AgentTarget, DurableOrchestrator } from '../../src/durable-orchestrator';
import { AlarmDestination, ApiCanary, ApiCanaryProps } from '../../src/monitoring';
import { CANARY_ENV, canaryScript } from '../../src/monitoring/canary-script';
import { SecureApi } from '../../src/secure-api';
import { Throwaway } from '../../src/throwaway';
import { researchWorkflow, testAgentFunction } from '../durable-orchestrator/fixtures';
import { cfnLint } from '../helpers/cfn-lint';
import { unacknowledgedNagFindings } from '../helpers/nag';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const URL_ = 'https://api.example.com/';

function newStack() {
  const app = new App();
  const stack = new Stack(app, 'S', { env: ENV });
  return { app, stack };
}

function canaryIn(props: Partial<ApiCanaryProps> = {}) {
  const { app, stack } = newStack();
  const canary = new ApiCanary(stack, 'Health', { url: URL_, ...props });
  return { app, stack, canary, template: () => Template.fromStack(stack) };
}

/** The statements of the canary role's policies. */
function roleStatements(template: Template): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^HealthRole') }] } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function canaryResource(template: Template): Record<string, any> {
  return Object.values(template.findResources('AWS::Synthetics::Canary'))[0];
}

describe('ApiCanary', () => {
  test('runs the generated script on the newest Node.js Puppeteer runtime of the peer minimum, every 5 minutes, against url + /health', () => {
    const { template } = canaryIn();
    template().resourceCountIs('AWS::Synthetics::Canary', 1);
    template().hasResourceProperties('AWS::Synthetics::Canary', {
      RuntimeVersion: 'syn-nodejs-puppeteer-11.0',
      Code: { Handler: 'index.handler', Script: canaryScript() },
      Schedule: { Expression: 'rate(5 minutes)', DurationInSeconds: '0' },
      StartCanaryAfterCreation: true,
      ProvisionedResourceCleanup: 'AUTOMATIC',
      SuccessRetentionPeriod: 30,
      FailureRetentionPeriod: 30,
      Name: Match.stringLikeRegexp('^[0-9a-z_-]{1,21}$'),
      RunConfig: { EnvironmentVariables: { API_CANARY_URL: URL_, API_CANARY_PATH: '/health', API_CANARY_SIGNED: 'false', API_CANARY_EXPECTED_STATUS: '200' } },
      ArtifactConfig: { S3Encryption: { EncryptionMode: 'SSE_S3' } },
      ArtifactS3Location: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^HealthArtifacts') }, '/runs']] },
      ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HealthRole'), 'Arn'] },
    });
    // The first run finds the role's policy in place.
    expect(canaryResource(template()).DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^HealthRoleDefaultPolicy/)]));
  });

  test('the script is the text the script module generates, and it needs nothing but Node and the Synthetics runtime', () => {
    const script = canaryScript();
    const required = [...script.matchAll(/load\('([^']+)'\)/g)].map((m) => m[1]).sort();
    expect(required).toEqual(['Synthetics', 'crypto', 'http', 'https']);
    expect(script).not.toMatch(/require\(/);
    expect(script).toMatch(/\(exports, require, process\.env\);\n$/);
    // The construct sets the variables the script reads.
    for (const name of Object.values(CANARY_ENV)) expect(script).toMatch(new RegExp(`\\b${name}\\b`));
  });

  test('artifacts: a bucket of its own, SSE-S3, TLS only, no public access, owner-enforced, expiring after 30 days, retained', () => {
    const { template } = canaryIn();
    template().resourceCountIs('AWS::S3::Bucket', 1);
    template().hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [{ ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] },
      },
    });
    template().hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('its own role may write only its bucket prefix, Synthetics metrics and its own log groups', () => {
    const { template, stack, canary } = canaryIn();
    const name = canaryResource(template()).Properties.Name as string;
    template().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] },
      // No managed policy: the L2's default role would let it write every object of the bucket and every canary's logs.
      ManagedPolicyArns: Match.absent(),
      Policies: Match.absent(),
    });
    const bucketArn = { 'Fn::GetAtt': [stack.getLogicalId(canary.artifactsBucket.node.defaultChild as never), 'Arn'] };
    expect(roleStatements(template())).toEqual([
      { Action: 's3:PutObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [bucketArn, '/runs/*']] } },
      { Action: 's3:GetBucketLocation', Effect: 'Allow', Resource: bucketArn },
      { Action: 's3:ListAllMyBuckets', Effect: 'Allow', Resource: '*' },
      { Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'CloudWatchSynthetics' } } },
      {
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:logs:eu-west-1:123456789012:log-group:/aws/lambda/cwsyn-${name}-*`]] },
      },
    ]);
  });

  test('one alarm: SuccessPercent < 100 in 2 of 2 periods of the schedule, missing data missing, named after the construct', () => {
    const { template, canary } = canaryIn();
    expect(canary.alarms).toHaveLength(1);
    template().hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('^S-Health-[0-9A-F]{8}-Failed$'),
      Namespace: 'CloudWatchSynthetics',
      MetricName: 'SuccessPercent',
      Dimensions: [{ Name: 'CanaryName', Value: { Ref: Match.stringLikeRegexp('^HealthCanary') } }],
      Statistic: 'Average',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 100,
      EvaluationPeriods: 2,
      Period: 300,
      TreatMissingData: 'missing',
      AlarmActions: Match.absent(),
    });
  });

  test('the alarm period follows the schedule, and the alarm takes its config and notifies alarmActions', () => {
    const { stack } = newStack();
    const topic = new sns.Topic(stack, 'Topic');
    new ApiCanary(stack, 'Health', {
      url: URL_,
      schedule: Duration.minutes(1),
      alarms: { failed: { threshold: 50, evaluationPeriods: 3, datapointsToAlarm: 2 } },
      alarmActions: AlarmDestination.topic(topic),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Synthetics::Canary', { Schedule: { Expression: 'rate(1 minute)' } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Period: 60, Threshold: 50, EvaluationPeriods: 3, DatapointsToAlarm: 2, AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
    });
  });

  test('alarms.failed.enabled false leaves the alarm out; a key naming no alarm is refused', () => {
    expect(canaryIn({ alarms: { failed: { enabled: false } } }).canary.alarms).toEqual([]);
    expect(() => canaryIn({ alarms: { failed: {}, ...{ failures: {} } } as ApiCanaryProps['alarms'] }))
      .toThrow('ApiCanary: alarms.failures names no alarm; the alarms are failed');
  });

  test('metrics of the canary', () => {
    const { stack, canary } = canaryIn();
    const success = stack.resolve(canary.metricSuccessPercent({ period: Duration.minutes(1) }).toMetricConfig().metricStat);
    expect(success).toMatchObject({ namespace: 'CloudWatchSynthetics', metricName: 'SuccessPercent', statistic: 'Average', period: { amount: 1 } });
    expect(success.dimensions).toEqual([{ name: 'CanaryName', value: { Ref: expect.stringMatching(/^HealthCanary/) } }]);
    const duration = canary.metricDuration({ statistic: 'p90' });
    expect(duration).toBeInstanceOf(cloudwatch.Metric);
    expect(stack.resolve(duration.toMetricConfig().metricStat)).toMatchObject({ metricName: 'Duration', statistic: 'p90' });
  });

  test('path, expectedStatus, signed and a token url go to the script\'s environment', () => {
    const { stack } = newStack();
    const param = new CfnParameter(stack, 'ApiUrl');
    new ApiCanary(stack, 'Health', { url: param.valueAsString, path: '/items?limit=1', expectedStatus: 204, signed: true });
    Template.fromStack(stack).hasResourceProperties('AWS::Synthetics::Canary', {
      RunConfig: { EnvironmentVariables: { API_CANARY_URL: { Ref: 'ApiUrl' }, API_CANARY_PATH: '/items?limit=1', API_CANARY_SIGNED: 'true', API_CANARY_EXPECTED_STATUS: '204' } },
    });
  });

  test('a newer Puppeteer runtime may be chosen', () => {
    const { template } = canaryIn({ runtime: synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_13_0 });
    template().hasResourceProperties('AWS::Synthetics::Canary', { RuntimeVersion: 'syn-nodejs-puppeteer-13.0' });
  });

  test('artifactsEncryptionKey encrypts the bucket and the artifacts with the key, which the role may use', () => {
    const { app, stack } = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new ApiCanary(stack, 'Health', { url: URL_, artifactsEncryptionKey: key, artifactsRetention: Duration.days(7) });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as never), 'Arn'] };
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 7 })] },
    });
    template.hasResourceProperties('AWS::Synthetics::Canary', {
      ArtifactConfig: { S3Encryption: { EncryptionMode: 'SSE_KMS', KmsKeyArn: keyArn } },
      SuccessRetentionPeriod: 7,
      FailureRetentionPeriod: 7,
    });
    expect(roleStatements(template)).toContainEqual({
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'], Effect: 'Allow', Resource: keyArn,
    });
  });

  test('the throwaway switch, or removalPolicy DESTROY, deletes the bucket with its objects', () => {
    const { app, stack } = newStack();
    Throwaway.enable(stack);
    new ApiCanary(stack, 'Health', { url: URL_ });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    canaryIn({ removalPolicy: RemovalPolicy.DESTROY }).template().hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    const { stack: kept } = newStack();
    Throwaway.enable(kept);
    new ApiCanary(kept, 'Health', { url: URL_, removalPolicy: RemovalPolicy.RETAIN });
    Template.fromStack(kept).hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  test('is cdk-nag clean, each acknowledgement with its reason in the template, and cfn-lint clean', () => {
    const { app, stack } = newStack();
    const canary = new ApiCanary(stack, 'Health', { url: URL_, signed: true });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const template = Template.fromStack(stack);
    const suppressed = Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
    expect(suppressed.map((s: { id: string }) => s.id).sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(canary.artifactsBucket.node.defaultChild as never)}.Arn>/runs/*]`,
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:logs:eu-west-1:123456789012:log-group:\/aws\/lambda\/cwsyn-[0-9a-z_-]+-\*\]$/),
    ].sort());
    expect(cfnLint(template.toJSON())).toEqual([]);
  });

  test('is cdk-nag clean in an environment-agnostic stack', () => {
    const app = new App();
    const stack = new Stack(app, 'Agnostic');
    new ApiCanary(stack, 'Health', { url: URL_ });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('two canaries in a stack get distinct names of at most 21 characters', () => {
    const { stack } = newStack();
    new ApiCanary(stack, 'AVeryLongConstructIdForTheHealthOfTheApi', { url: URL_ });
    new ApiCanary(stack, 'AVeryLongConstructIdForTheHealthOfTheApi2', { url: URL_ });
    const names = Object.values(Template.fromStack(stack).findResources('AWS::Synthetics::Canary')).map((c) => c.Properties.Name as string);
    expect(new Set(names).size).toBe(2);
    for (const name of names) expect(name).toMatch(/^[0-9a-z_-]{1,21}$/);
  });

  describe('refuses', () => {
    const cases: Array<[string, Partial<ApiCanaryProps>, string | RegExp]> = [
      ['an http url', { url: 'http://api.example.com/' }, 'ApiCanary: url \'http://api.example.com/\' must be an https:// base URL without query or fragment'],
      ['a url with a query', { url: 'https://api.example.com/?a=1' }, /url 'https:\/\/api\.example\.com\/\?a=1' must be an https:\/\/ base URL without query or fragment, .*put the query in path/],
      ['no url', { url: 'api.example.com' }, 'ApiCanary: url \'api.example.com\' must be an https:// base URL'],
      ['a path without /', { path: 'health' }, 'ApiCanary: path \'health\' must start with \'/\' and hold no spaces or \'#\', e.g. \'/health\''],
      ['a path with a space', { path: '/he alth' }, 'ApiCanary: path \'/he alth\' must start with'],
      ['a path with a fragment', { path: '/health#x' }, 'ApiCanary: path \'/health#x\' must start with'],
      ['a status below 100', { expectedStatus: 99 }, 'ApiCanary: expectedStatus (expected_status in Python) is 99; it must be a whole number from 100 to 599: give an HTTP status code, e.g. 200'],
      ['a status above 599', { expectedStatus: 600 }, 'ApiCanary: expectedStatus (expected_status in Python) is 600'],
      ['a fractional status', { expectedStatus: 200.5 }, 'ApiCanary: expectedStatus (expected_status in Python) is 200.5'],
      ['a schedule under a minute', { schedule: Duration.seconds(30) }, /ApiCanary: schedule is 30 seconds; a canary's interval must be between 1 minute and 1 hour: use Duration\.minutes\(n\) with n from 1 to 60/],
      ['a schedule over an hour', { schedule: Duration.minutes(61) }, /ApiCanary: schedule is 1 hour 1 minute.*must be between 1 minute and 1 hour/],
      ['a schedule of a minute and a half', { schedule: Duration.seconds(90) }, 'ApiCanary: schedule is 1 minute 30 seconds, not a whole number of minutes: use Duration.minutes(n) with n from 1 to 60'],
      ['a retention of part of a day', { artifactsRetention: Duration.hours(36) }, 'ApiCanary: artifactsRetention (artifacts_retention in Python) is 1 day 12 hours, not a whole number of days'],
      ['a retention over 455 days', { artifactsRetention: Duration.days(456) }, /ApiCanary: artifactsRetention \(artifacts_retention in Python\) is 456 days; the retention of canary runs must be between 1 and 455 days/],
      ['a Playwright runtime', { runtime: synthetics.Runtime.SYNTHETICS_NODEJS_PLAYWRIGHT_3_0 }, /ApiCanary: runtime syn-nodejs-playwright-3\.0 is not a Node\.js Puppeteer runtime; .*SYNTHETICS_NODEJS_PUPPETEER_11_0/],
      ['a Python runtime', { runtime: synthetics.Runtime.SYNTHETICS_PYTHON_SELENIUM_5_1 }, 'ApiCanary: runtime syn-python-selenium-5.1 is not a Node.js Puppeteer runtime'],
    ];
    test.each(cases)('%s', (_name, props, message) => {
      expect(() => canaryIn(props)).toThrow(message);
    });
  });
});

describe('ApiCanary.forHealthRoute', () => {
  test('checks GET <url>health of a SecureApi, anonymously, and is cdk-nag and cfn-lint clean', () => {
    const { app, stack } = newStack();
    const api = new SecureApi(stack, 'Api');
    const canary = ApiCanary.forHealthRoute(stack, 'ApiHealth', api, { schedule: Duration.minutes(10) });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const template = Template.fromStack(stack);
    const env = canaryResource(template).Properties.RunConfig.EnvironmentVariables;
    expect(env).toEqual({ API_CANARY_URL: stack.resolve(api.url), API_CANARY_PATH: '/health', API_CANARY_SIGNED: 'false', API_CANARY_EXPECTED_STATUS: '200' });
    template.hasResourceProperties('AWS::Synthetics::Canary', { Schedule: { Expression: 'rate(10 minutes)' } });
    expect(canary.alarms).toHaveLength(1);
    expect(cfnLint(template.toJSON())).toEqual([]);
  });

  test('takes another health path, and works for an imported SecureApi with a custom domain', () => {
    const { stack } = newStack();
    const api = SecureApi.fromSecureApiAttributes(stack, 'Api', { httpApiId: 'a1b2c3d4e5', url: 'https://api.example.com/' });
    ApiCanary.forHealthRoute(stack, 'ApiHealth', api, { path: '/ping', expectedStatus: 204 });
    Template.fromStack(stack).hasResourceProperties('AWS::Synthetics::Canary', {
      RunConfig: { EnvironmentVariables: { API_CANARY_URL: 'https://api.example.com/', API_CANARY_PATH: '/ping', API_CANARY_SIGNED: 'false', API_CANARY_EXPECTED_STATUS: '204' } },
    });
  });

  test('the canary can be granted an IAM-authorized route of the API (grantPrincipal)', () => {
    const { stack } = newStack();
    const api = SecureApi.fromSecureApiAttributes(stack, 'Api', { httpApiId: 'a1b2c3d4e5' });
    const canary = new ApiCanary(stack, 'Health', { url: api.url, path: '/items', signed: true });
    expect(canary.grantPrincipal).toBe(canary.role);
    api.grantInvoke(canary, 'GET /items');
    expect(roleStatements(Template.fromStack(stack))).toContainEqual({
      Action: 'execute-api:Invoke',
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':execute-api:eu-west-1:123456789012:a1b2c3d4e5/$default/GET/items']] },
    });
  });
});

describe('ApiCanary.forWorkflowStatus', () => {
  const READ_ROUTES = ['GET/research/workflows', 'GET/research/workflows/*'];

  test('lists one workflow with a signed call under the orchestrator\'s apiUrl, granted exactly the read routes', () => {
    const { stack } = newStack();
    const orchestrator = DurableOrchestrator.fromDurableOrchestratorAttributes(stack, 'Research', {
      httpApiId: 'a1b2c3d4e5', apiBasePath: '/research', workflowName: 'research-report',
    });
    ApiCanary.forWorkflowStatus(stack, 'Health', orchestrator);
    const template = Template.fromStack(stack);
    expect(canaryResource(template).Properties.RunConfig.EnvironmentVariables).toEqual({
      API_CANARY_URL: stack.resolve(orchestrator.apiUrl), API_CANARY_PATH: '/workflows?limit=1', API_CANARY_SIGNED: 'true', API_CANARY_EXPECTED_STATUS: '200',
    });
    const invoke = roleStatements(template).filter((s) => s.Action === 'execute-api:Invoke');
    expect(invoke).toHaveLength(1);
    const resources = ([] as unknown[]).concat(invoke[0].Resource);
    expect(resources).toEqual(READ_ROUTES.map((route) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:execute-api:eu-west-1:123456789012:a1b2c3d4e5/$default/${route}`]],
    })));
  });

  test('in a monitoring stack of its own: the canary\'s stack refers to the orchestrator\'s, not the other way round', () => {
    const app = new App();
    const platform = new Stack(app, 'Platform', { env: ENV });
    const monitoring = new Stack(app, 'Monitoring', { env: ENV });
    const agents = ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(platform, n)));
    const orchestrator = new DurableOrchestrator(platform, 'Orchestrator', { workflow: researchWorkflow(), agents });
    ApiCanary.forWorkflowStatus(monitoring, 'WorkflowStatus', orchestrator);
    const assembly = app.synth();
    expect(monitoring.dependencies).toEqual([platform]);
    expect(platform.dependencies).toEqual([]);
    expect(assembly.getStackByName('Monitoring').template.Resources).toBeDefined();
  });

  test('with a DurableOrchestrator of the app: cdk-nag clean and cfn-lint clean', () => {
    const { app, stack } = newStack();
    const agents = ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(stack, n)));
    const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', { workflow: researchWorkflow(), agents });
    const canary = ApiCanary.forWorkflowStatus(stack, 'WorkflowStatus', orchestrator, { alarms: { failed: { alarmName: 'workflow-status-failed' } } });
    // The test agents are bare functions (their findings are theirs); the canary, its grant and the orchestrator are clean.
    const agentPaths = /^S\/(researcher|analyst|writer)Fn\//;
    expect(unacknowledgedNagFindings(app).filter((f) => !agentPaths.test(f.path))).toEqual([]);
    const template = Template.fromStack(stack);
    expect(canaryResource(template).Properties.RunConfig.EnvironmentVariables).toMatchObject({ API_CANARY_URL: stack.resolve(orchestrator.apiUrl), API_CANARY_SIGNED: 'true' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'workflow-status-failed' });
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: stack.getLogicalId(canary.role.node.defaultChild as never) }] } });
    const invoke = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: { Action: unknown }) => s.Action === 'execute-api:Invoke');
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0].Resource)).toMatch(/\/\$default\/GET\/workflows"/);
    expect(cfnLint(template.toJSON())).toEqual([]);
  });
});
