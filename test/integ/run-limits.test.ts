/**
 * integ/integ.run-limits.ts (issue 20), synthesized as integ-runner would: cdk-nag finds nothing
 * unacknowledged in its templates (each read back as a reader of the template would, with only the
 * acknowledgements written into it), and the operator role may call the kill switch routes only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { acknowledgeFindings, NagFinding } from '../../src/private/nag';
import { synthIntegApp, templateResources } from '../helpers/integ-app';
import { unacknowledgedNagFindings } from '../helpers/nag';

jest.setTimeout(300_000);

let dir: string | undefined;
const outdir = () => (dir ??= synthIntegApp('integ/integ.run-limits.ts'));
afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

test('cdk-nag: no unacknowledged finding in any template of the app', () => {
  const templates = fs.readdirSync(outdir()).filter((f) => f.endsWith('.template.json')).sort();
  expect(templates).toEqual(['RunLimitsDefaultTestDeployAssert0C79D917.template.json', 'cdkda-run-limits.template.json']);
  for (const file of templates) {
    const app = new App();
    const stack = new Stack(app, 'Synth');
    const template = new CfnInclude(stack, 'Template', { templateFile: path.join(outdir(), file) });
    for (const resource of template.node.findAll().filter(CfnResource.isCfnResource)) {
      const written = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: NagFinding[] } | undefined)?.rules_to_suppress ?? [];
      if (written.length > 0) acknowledgeFindings(resource, written);
    }
    expect({ file, findings: unacknowledgedNagFindings(app).map((f) => `${f.rule} ${f.path}`) }).toEqual({ file, findings: [] });
  }
});

test('the operator may invoke exactly GET and PUT /admin/kill-switch', () => {
  const resources = templateResources(outdir(), 'cdkda-run-limits');
  const policies = resources.filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('Operator'));
  expect(policies).toHaveLength(1);
  const statements = policies[0].Properties.PolicyDocument.Statement;
  expect(statements).toHaveLength(1);
  expect(statements[0].Action).toBe('execute-api:Invoke');
  const resource = JSON.stringify(statements[0].Resource);
  expect(resource).toContain('/$default/GET/admin/kill-switch"');
  expect(resource).toContain('/$default/PUT/admin/kill-switch"');
  expect([statements[0].Resource].flat()).toHaveLength(2);
});
