/**
 * The integration test's app (integ/integ.secure-api.ts), synthesized once as integ-runner does:
 * its stack deploys to moto_server's CloudFormation (assets and all), its templates pass cfn-lint,
 * and the probe's assertions pass on what a working deployment answers.
 */
import * as fs from 'fs';
import { invokeResponse, judgeAssertion, lambdaInvokeAssertions, lintIntegTemplates, synthIntegApp } from '../helpers/integ-app';
import { describeWithMoto } from '../helpers/moto';
import { deploymentSummary, deployToMoto } from '../helpers/moto-deploy';
import { testIfInstalled } from '../helpers/tools';

const STACK = 'cdkda-secure-api';

describe('integ.secure-api', () => {
  let dir: string | undefined;
  const outdir = () => (dir ??= synthIntegApp('integ/integ.secure-api.ts'));
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  describeWithMoto('integ.secure-api deployed to moto_server', (moto) => {
    test('CREATE_COMPLETE for every resource moto implements; the rest is named', async () => {
      const deployment = await deployToMoto(moto(), outdir(), STACK);
      expect({ status: deployment.status, failures: deployment.failures }).toEqual({ status: 'CREATE_COMPLETE', failures: [] });
      const types = new Set(deployment.resources.map((r) => r.ResourceType));
      for (const type of ['AWS::EC2::VPC', 'AWS::EC2::SecurityGroup', 'AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket',
        'AWS::ECS::Cluster', 'AWS::ECS::TaskDefinition', 'AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::LoadBalancer',
        'AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::ElasticLoadBalancingV2::ListenerRule']) {
        expect(types).toContain(type);
      }
      // moto's CloudFormation has no API Gateway v2, WAFv2, autoscaling or custom resources; those
      // are covered by the template assertions, cfn-lint and the snapshot. Say what was left out.
      process.stdout.write(deploymentSummary(STACK, deployment));
      for (const core of ['AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::Lambda::Function', 'AWS::S3::Bucket']) {
        expect(deployment.skipped[core]).toBeUndefined();
      }
    }, 180_000);
  });

  testIfInstalled('cfn-lint', 'its templates pass cfn-lint', () => {
    const linted = lintIntegTemplates(outdir());
    expect(linted.map((r) => r.file)).toEqual([`${STACK}-assertions.template.json`, `${STACK}.template.json`]);
    for (const result of linted) expect(result).toEqual({ file: result.file, findings: [] });
  }, 120_000);

  test('the probe\'s assertions pass on what the Lambda route and nginx answer, and fail on a refusal', async () => {
    const answers: Record<string, unknown> = {
      '/hello': { status: 200, body: { message: 'hello from lambda' } },
      '/web/': { status: 200, body: '<html><body>secure-api-integ-web</body></html>\n' },
    };
    const assertions = lambdaInvokeAssertions(outdir(), 'assertions');
    expect(assertions.map((a) => a.event.path).sort()).toEqual(Object.keys(answers).sort());
    for (const a of assertions) {
      expect(await judgeAssertion(a.expected, invokeResponse(answers[a.event.path]))).toEqual({ assertion: '{"status":"success"}' });
      expect((await judgeAssertion(a.expected, invokeResponse({ status: 403, body: { message: 'Forbidden' } }))).failed).toBe(true);
    }
  }, 120_000);
});
