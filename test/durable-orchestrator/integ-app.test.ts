/**
 * The integration test's app (integ/integ.durable-orchestrator.ts), synthesized once as
 * integ-runner does: its stack deploys to moto_server's CloudFormation (assets and all), its
 * templates pass cfn-lint, and its assertions pass on the answers of a working deployment.
 */
import * as fs from 'fs';
import { lambdaInvokeAssertions, lintIntegTemplates, synthIntegApp, testWorkflowAssertions } from '../helpers/integ-app';
import { describeWithMoto } from '../helpers/moto';
import { deploymentSummary, deployToMoto } from '../helpers/moto-deploy';
import { testIfInstalled } from '../helpers/tools';

describe('integ.durable-orchestrator', () => {
  let dir: string | undefined;
  const outdir = () => (dir ??= synthIntegApp('integ/integ.durable-orchestrator.ts'));
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  describeWithMoto('integ.durable-orchestrator deployed to moto_server', (moto) => {
    test('CREATE_COMPLETE for every resource moto implements; the rest is named', async () => {
      const deployment = await deployToMoto(moto(), outdir(), 'cdkda-durable-orchestrator');
      expect({ status: deployment.status, failures: deployment.failures }).toEqual({ status: 'CREATE_COMPLETE', failures: [] });
      const types = new Set(deployment.resources.map((r) => r.ResourceType));
      for (const type of ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Lambda::Function', 'AWS::Lambda::Version', 'AWS::Events::EventBus',
        'AWS::Events::Archive', 'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::Logs::LogGroup']) {
        expect(types).toContain(type);
      }
      // moto's CloudFormation has no API Gateway v2, alarms, aliases, bucket policies or custom
      // resources; those are covered by cfn-lint and the snapshot. Say what was left out.
      process.stdout.write(deploymentSummary('cdkda-durable-orchestrator', deployment));
      for (const core of ['AWS::DynamoDB::Table', 'AWS::Lambda::Function', 'AWS::S3::Bucket', 'AWS::IAM::Policy']) {
        expect(deployment.skipped[core]).toBeUndefined();
      }
    }, 180_000);
  });

  testIfInstalled('cfn-lint', 'its templates pass cfn-lint', () => {
    const linted = lintIntegTemplates(outdir());
    expect(linted).toHaveLength(2);
    for (const result of linted) expect(result).toEqual({ file: result.file, findings: [] });
  }, 120_000);

  testWorkflowAssertions(() => lambdaInvokeAssertions(outdir(), 'DeployAssert'), '');
});
