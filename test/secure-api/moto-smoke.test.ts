/**
 * Smoke check: the integration test's stack (integ/integ.secure-api.ts) deploys to moto_server's
 * CloudFormation, assets and all, and its templates pass cfn-lint.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cfnLint } from '../helpers/cfn-lint';
import { describeWithMoto } from '../helpers/moto';
import { deployToMoto } from '../helpers/moto-deploy';
import { testIfInstalled } from '../helpers/tools';

const ROOT = path.join(__dirname, '..', '..');
const STACK = 'cdkda-secure-api';

/** Synthesizes the integration test app into a fresh folder, as integ-runner does. */
function synthIntegApp(): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-secure-api-smoke-'));
  execFileSync(process.execPath, ['-r', 'ts-node/register', 'integ/integ.secure-api.ts'], {
    cwd: ROOT,
    env: { ...process.env, CDK_OUTDIR: outdir, TS_NODE_PROJECT: 'tsconfig.dev.json', TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: 'pipe',
  });
  return outdir;
}

describeWithMoto('integ.secure-api deployed to moto_server', (moto) => {
  let outdir: string;
  beforeAll(() => {
    outdir = synthIntegApp();
  }, 120_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('CREATE_COMPLETE for every resource moto implements; the rest is named', async () => {
    const deployment = await deployToMoto(moto(), outdir, STACK);
    expect({ status: deployment.status, failures: deployment.failures }).toEqual({ status: 'CREATE_COMPLETE', failures: [] });
    const types = new Set(deployment.resources.map((r) => r.ResourceType));
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::SecurityGroup', 'AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket',
      'AWS::ECS::Cluster', 'AWS::ECS::TaskDefinition', 'AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::ElasticLoadBalancingV2::ListenerRule']) {
      expect(types).toContain(type);
    }
    // moto's CloudFormation has no API Gateway v2, WAFv2, autoscaling or custom resources; those
    // are covered by the template assertions, cfn-lint and the snapshot. Say what was left out.
    process.stdout.write(`moto smoke deploy (${STACK}): ${deployment.resources.length} resources created; skipped ` +
      `${Object.entries(deployment.skipped).map(([t, ids]) => `${t} x${ids.length}`).join(', ') || 'none'}\n`);
    for (const core of ['AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::Lambda::Function', 'AWS::S3::Bucket']) {
      expect(deployment.skipped[core]).toBeUndefined();
    }
  }, 180_000);
});

describe('integ.secure-api templates', () => {
  testIfInstalled('cfn-lint', 'pass cfn-lint', () => {
    const outdir = synthIntegApp();
    try {
      const files = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
      expect(files.sort()).toEqual([`${STACK}-assertions.template.json`, `${STACK}.template.json`]);
      for (const file of files) {
        // The assertion stack's provider role (integ-tests-alpha) names the action `lambda:Invoke` (W3037).
        const ignore = file.includes('assertions') ? ['W3037'] : [];
        expect({ file, findings: cfnLint(JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf-8')), ignore) }).toEqual({ file, findings: [] });
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
