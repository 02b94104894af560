import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { bundledHandlerDir } from '../../src/private/bundled-function';
import { HealthCheck } from '../../src/private/health-check';
import { cfnLint } from '../helpers/cfn-lint';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';
import { testIfInstalled } from '../helpers/tools';

function stackWithHealthCheck(props = {}): { app: App; stack: Stack; health: HealthCheck } {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const health = new HealthCheck(stack, 'Health', props);
  return { app, stack, health };
}

describe('HealthCheck (a BundledFunction)', () => {
  test('deploys the pre-bundled handler on Node.js 22, ARM64, with tracing and JSON logs', () => {
    const { stack } = stackWithHealthCheck();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 128,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Code: { S3Bucket: Match.anyValue(), S3Key: Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$') },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('log retention is configurable', () => {
    const { stack } = stackWithHealthCheck({ logRetention: logs.RetentionDays.ONE_WEEK });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('the role has no managed policies and may only write to its own log group', () => {
    const { stack } = stackWithHealthCheck();
    const template = Template.fromStack(stack);
    const roles = template.findResources('AWS::IAM::Role');
    expect(Object.values(roles).map((r) => r.Properties.ManagedPolicyArns)).toEqual([undefined]);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
    expect(actions.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    const logStatement = policies[0].Properties.PolicyDocument.Statement.find((s: any) => [s.Action].flat().includes('logs:PutLogEvents'));
    expect(logStatement.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HealthLogs/), 'Arn'] });
  });

  test('the asset shipped is minified, with a source map, and nothing else', () => {
    const dir = bundledHandlerDir('private/handlers/health.lambda');
    expect(fs.readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf-8');
    expect(code).toContain('sourceMappingURL=index.js.map');
    expect(code.split('\n').length).toBeLessThan(10); // minified: no one-statement-per-line output
  });

  test('a missing bundle is a clear error that says how to produce it', () => {
    expect(() => bundledHandlerDir('nope/handlers/missing.lambda')).toThrow(/npx projen bundle/);
  });

  test('cdk-nag: no unacknowledged findings, and each acknowledgement is in the template with its reason', () => {
    const { app, stack } = stackWithHealthCheck();
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
    const rules = fn.Metadata.cdk_nag.rules_to_suppress;
    expect(rules.map((r: any) => r.id)).toEqual(expect.arrayContaining(['Serverless-LambdaDLQ', 'AwsSolutions-IAM5[Resource::*]']));
    for (const r of rules) expect(r.reason.length).toBeGreaterThan(20);
  });

  test('matches the snapshot (asset hashes masked)', () => {
    const { stack } = stackWithHealthCheck();
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });

  testIfInstalled('cfn-lint', 'passes cfn-lint', () => {
    const { stack } = stackWithHealthCheck();
    expect(cfnLint(Template.fromStack(stack).toJSON())).toEqual([]);
  });
});
