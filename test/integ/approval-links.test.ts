/**
 * integ/integ.approval-links.ts, synthesized as integ-runner does: cdk-nag (AwsSolutions and
 * Serverless packs) over its templates, as someone who reads only the templates would run it
 * (the acknowledgements written into them count), and what it deploys for links and notification.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { acknowledgeFindings, NagFinding } from '../../src/private/nag';
import { synthIntegApp, templateResources } from '../helpers/integ-app';
import { unacknowledgedNagFindings } from '../helpers/nag';

jest.setTimeout(240_000);

let outdir: string | undefined;
const out = () => (outdir ??= synthIntegApp('integ/integ.approval-links.ts'));
afterAll(() => outdir && fs.rmSync(outdir, { recursive: true, force: true }));

test('its templates have no unacknowledged cdk-nag finding', () => {
  const templates = fs.readdirSync(out()).filter((f) => f.endsWith('.template.json'));
  expect(templates.length).toBe(2);
  for (const file of templates) {
    const app = new App();
    const stack = new Stack(app, 'Snapshot');
    const template = new CfnInclude(stack, 'Template', { templateFile: path.join(out(), file) });
    for (const resource of template.node.findAll().filter(CfnResource.isCfnResource)) {
      const written = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: NagFinding[] } | undefined)?.rules_to_suppress ?? [];
      if (written.length > 0) acknowledgeFindings(resource, written);
    }
    expect({ file, findings: unacknowledgedNagFindings(app).map((f) => `${f.rule} ${f.path.replace(/^Snapshot\/Template\//, '')}`) }).toEqual({ file, findings: [] });
  }
});

test('it deploys the link routes without authorization, the key secret, and the encrypted topic with the email subscription', () => {
  const resources = templateResources(out(), 'cdkda-approval-links');
  const routes = resources.filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
  const anonymous = routes.filter((r) => r.Properties.AuthorizationType === 'NONE').map((r) => r.Properties.RouteKey).sort();
  expect(anonymous).toEqual(['GET /approvals/{token}', 'POST /approvals/{token}']);
  expect(routes.filter((r) => r.Properties.AuthorizationType !== 'NONE').every((r) => r.Properties.AuthorizationType === 'AWS_IAM')).toBe(true);
  expect(resources.filter((r) => r.Type === 'AWS::SecretsManager::Secret')).toHaveLength(1);
  const topics = resources.filter((r) => r.Type === 'AWS::SNS::Topic' && r.Properties.DisplayName === 'Approval requested');
  expect(topics).toHaveLength(1);
  expect(topics[0].Properties.KmsMasterKeyId).toBeDefined();
  expect(resources.some((r) => r.Type === 'AWS::SNS::Subscription' && r.Properties.Endpoint === 'approvers@example.com' && r.Properties.Protocol === 'email')).toBe(true);
});
