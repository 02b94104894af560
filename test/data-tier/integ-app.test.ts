/**
 * The integration test's app (integ/integ.data-tier.ts), synthesized as integ-runner does: its
 * templates pass cfn-lint, and the probe gets exactly the settings the runtime helper reads.
 *
 * No moto smoke deploy: moto's CloudFormation implements neither Secrets Manager secrets nor
 * ElastiCache, so the stores and their credentials would all be skipped and prove nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { invokeResponse, judgeAssertion, lambdaInvokeAssertions, lintIntegTemplates, synthIntegApp } from '../helpers/integ-app';
import { testIfInstalled } from '../helpers/tools';

describe('integ.data-tier', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = synthIntegApp('integ/integ.data-tier.ts');
  }, 120_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('the probe is in the app subnets, with the plain settings and the secret ARNs, and no secret value', () => {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'cdkda-data-tier.template.json'), 'utf-8'));
    const probe = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && /Integration probe/.test(r.Properties.Description));
    expect(Object.keys(probe.Properties.Environment.Variables).sort()).toEqual([
      'DATABASE_SECRET_ARN', 'NODE_EXTRA_CA_CERTS', 'PGDATABASE', 'PGHOST', 'PGPORT', 'PGSSLMODE',
      'REDIS_AUTH_SECRET_ARN', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_TLS',
    ]);
    expect(JSON.stringify(probe.Properties.Environment)).not.toMatch(/resolve:secretsmanager/);
    expect(probe.Properties.VpcConfig.SubnetIds).toEqual([
      { Ref: expect.stringMatching(/^DataTierVpcappSubnet1/) }, { Ref: expect.stringMatching(/^DataTierVpcappSubnet2/) },
    ]);
  });

  test('the assertion passes on the payload the probe returns, and fails on an error payload', async () => {
    const [invoke] = lambdaInvokeAssertions(outdir, 'DeployAssert');
    expect(await judgeAssertion(invoke.expected, invokeResponse({ postgres: 1, redis: 'PONG' }))).toEqual({ assertion: '{"status":"success"}' });
    const error = await judgeAssertion(invoke.expected, {
      ...invokeResponse({ errorType: 'Error', errorMessage: 'connect ETIMEDOUT' }), FunctionError: 'Unhandled',
    });
    expect(error.failed).toBe(true);
  });

  testIfInstalled('cfn-lint', 'templates pass cfn-lint', () => {
    const linted = lintIntegTemplates(outdir);
    expect(linted).toHaveLength(2);
    for (const result of linted) expect(result).toEqual({ file: result.file, findings: [] });
  }, 120_000);
});
