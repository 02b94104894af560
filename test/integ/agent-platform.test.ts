/**
 * The composed platform of integ/integ.agent-platform.ts (seed 002 rebuilt from the four
 * constructs): it passes the cdk-nag packs and cfn-lint, and the pieces are wired to each other
 * the way the seed wired them by hand, and the assertions of its integration test can pass.
 */
import * as fs from 'fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { agentPlatform } from '../../integ/agent-platform-app';
import { cfnLint } from '../helpers/cfn-lint';
import { lambdaInvokeAssertions, synthIntegApp, testWorkflowAssertions } from '../helpers/integ-app';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { testIfInstalled } from '../helpers/tools';

describe('the agent platform (seed 002 composed)', () => {
  const app = new App();
  const { stack } = agentPlatform(app, 'Platform');
  // The echo agent is the test's stand-in for real agents (a bare lambda.Function), not the library's.
  const findings = unacknowledgedNagFindings(app).filter((f) => !f.path.startsWith('Platform/EchoAgent/'));
  const template = Template.fromStack(stack);

  test('cdk-nag AwsSolutions and Serverless: nothing unacknowledged', () => {
    expect(findings).toEqual([]);
  });

  test('one VPC, one HTTP API: the data tier\'s VPC carries the services, and the workflows share the front door', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /research/workflows', AuthorizationType: 'AWS_IAM' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /health', AuthorizationType: 'NONE' });
  });

  test('the web service gets the database credentials and the Redis token as secrets, never as plain values', () => {
    const tasks = template.findResources('AWS::ECS::TaskDefinition');
    const web = Object.entries(tasks).find(([id]) => id.startsWith('ApiWeb'));
    expect(web).toBeDefined();
    const container = web![1].Properties.ContainerDefinitions[0];
    expect((container.Secrets as Array<{ Name: string }>).map((s) => s.Name).sort()).toEqual(['PGPASSWORD', 'PGUSER', 'REDIS_AUTH_TOKEN']);
    expect(JSON.stringify(container.Environment)).not.toMatch(/PASSWORD|AUTH_TOKEN|resolve:secretsmanager/);
  });

  test('the stores admit the web service, and the engine admits the web service only', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataDatabaseSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiWeb'), 'GroupId'] },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6379,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataCacheSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiWeb'), 'GroupId'] },
    });
    const engineIngress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { FromPort: 50051 },
    }));
    expect(engineIngress).toHaveLength(1);
    expect(engineIngress[0].Properties.SourceSecurityGroupId['Fn::GetAtt'][0]).toMatch(/^ApiWeb/);
  });

  testIfInstalled('cfn-lint', 'the template passes cfn-lint', () => {
    expect(cfnLint(template.toJSON())).toEqual([]);
  }, 120_000);

  describe('its integration test (integ/integ.agent-platform.ts)', () => {
    let dir: string | undefined;
    const outdir = () => (dir ??= synthIntegApp('integ/integ.agent-platform.ts'));
    afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));
    testWorkflowAssertions(() => lambdaInvokeAssertions(outdir(), 'assertions'), '/research');
  });
});
