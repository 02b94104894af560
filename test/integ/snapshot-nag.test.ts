/**
 * cdk-nag (AwsSolutions and Serverless packs) over every committed integration snapshot, template
 * by template, as someone who reads only the templates would run it: each template is loaded with
 * `CfnInclude` into an app of its own, so the packs see every resource of it (the apps' fixture
 * functions, the assertion stacks, the custom-resource providers the CDK and integ-tests-alpha
 * add), and only the acknowledgements written into the template (`Metadata.cdk_nag`) count: cdk-nag
 * 3 reads acknowledgements from the construct tree, so each resource's written ones are handed back
 * to it as the CDK would have (a reader of the template sees the same reasons).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { acknowledgeFindings, NagFinding } from '../../src/private/nag';
import { unacknowledgedNagFindings } from '../helpers/nag';

const INTEG_DIR = path.join(__dirname, '..', '..', 'integ');
const TEMPLATES = fs.readdirSync(INTEG_DIR)
  .filter((d) => d.endsWith('.snapshot'))
  .flatMap((d) => fs.readdirSync(path.join(INTEG_DIR, d)).filter((f) => f.endsWith('.template.json')).map((f) => path.join(d, f)))
  .sort();

test('every integ app has a committed snapshot with templates', () => {
  const apps = fs.readdirSync(INTEG_DIR).filter((f) => /^integ\..+\.ts$/.test(f));
  for (const app of apps) expect(TEMPLATES.some((t) => t.startsWith(`${app}.snapshot/`))).toBe(true);
});

test.each(TEMPLATES)('%s: no unacknowledged cdk-nag finding', (file) => {
  const app = new App();
  const stack = new Stack(app, 'Snapshot');
  const template = new CfnInclude(stack, 'Template', { templateFile: path.join(INTEG_DIR, file) });
  for (const resource of template.node.findAll().filter(CfnResource.isCfnResource)) {
    const written = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: NagFinding[] } | undefined)?.rules_to_suppress ?? [];
    if (written.length > 0) acknowledgeFindings(resource, written);
  }
  expect(unacknowledgedNagFindings(app).map((f) => `${f.rule} ${f.path.replace(/^Snapshot\/Template\//, '')}`)).toEqual([]);
}, 120_000);

// Every integ app gives its alarms a destination (integ-helpers' notifyOnCall, or its own): an
// alarm in a snapshot that notifies nobody is a regression.
test.each(TEMPLATES)('%s: every alarm has an action', (file) => {
  const resources = Object.entries(JSON.parse(fs.readFileSync(path.join(INTEG_DIR, file), 'utf-8')).Resources ?? {}) as Array<[string, { Type: string; Properties: { AlarmActions?: unknown[] } }]>;
  const silent = resources.filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm' && !(r.Properties.AlarmActions?.length)).map(([id]) => id);
  expect(silent).toEqual([]);
});
