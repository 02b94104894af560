import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DataTier, DataTierNat, DataTierProfile, DataTierProps } from '../../src/data-tier';
import { unacknowledgedNagFindings } from '../helpers/nag';

const ENV = { account: '123456789012', region: 'us-east-1' };

function tier(props: DataTierProps = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const dataTier = new DataTier(stack, 'DataTier', props);
  return { app, stack, dataTier, get template() { return Template.fromStack(stack); } };
}

describe('DataTier nat', () => {
  test('the NAT instance retries its package install, masquerades on its default interface, and is recovered when its host fails', () => {
    const { template } = tier({ nat: DataTierNat.instance() });
    const [instance] = Object.values(template.findResources('AWS::EC2::Instance')) as Array<{ Properties: Record<string, any> }>;
    const script = JSON.stringify(instance.Properties.UserData);
    expect(script).toMatch(/set -euo pipefail/);
    expect(script).toMatch(/for attempt in 1 2 3 4 5 6 7 8 9 10; do dnf install -y iptables-services && break;/);
    expect(script).toMatch(/net\.ipv4\.ip_forward=1/);
    expect(script).toMatch(/iptables -t nat -A POSTROUTING -o \\"\$iface\\" -j MASQUERADE/);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'StatusCheckFailed_System' } })) as Array<{ Properties: Record<string, any> }>;
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties).toMatchObject({ Namespace: 'AWS/EC2', Threshold: 1, EvaluationPeriods: 2, Period: 60 });
    expect(JSON.stringify(alarms[0].Properties.AlarmActions)).toMatch(/arn:.*:automate:.*:ec2:recover/);
  });

  test('machineImage pins the image (no SSM parameter read at deploy)', () => {
    const { template } = tier({ nat: DataTierNat.instance({ machineImage: ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0123456789abcdef0' }) }) });
    template.hasResourceProperties('AWS::EC2::Instance', { ImageId: 'ami-0123456789abcdef0' });
    expect(Object.keys(template.toJSON().Parameters ?? {}).filter((p) => /amazonlinux/i.test(p))).toEqual([]);
  });

  test('both profiles keep managed NAT gateways by default (no instance)', () => {
    expect(DataTierProfile.ephemeral().nat.kind).toBe('gateways');
    expect(DataTierProfile.production().nat.kind).toBe('gateways');
    const { template, dataTier } = tier();
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::Instance', 0);
    expect(dataTier.natInstances).toEqual([]);
  });

  test('DataTierNat.instance(): one t4g.nano NAT instance from the SSM image, IMDSv2, encrypted root, no key, no NAT gateway', () => {
    const { template, dataTier } = tier({ nat: DataTierNat.instance() });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::Instance', 1);
    expect(dataTier.natInstances).toHaveLength(1);
    const [instance] = Object.values(template.findResources('AWS::EC2::Instance')) as Array<{ Properties: Record<string, any> }>;
    expect(instance.Properties).toMatchObject({
      InstanceType: 't4g.nano',
      SourceDestCheck: false,
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, DeleteOnTermination: true } }],
      NetworkInterfaces: [expect.objectContaining({ AssociatePublicIpAddress: true, DeviceIndex: '0' })],
    });
    expect(instance.Properties.KeyName).toBeUndefined();
    // The image is read from SSM at deploy: Amazon Linux 2023 for ARM64.
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    const image = Object.values(parameters).find((p) => p.Type.includes('AWS::EC2::Image::Id'));
    expect(image?.Default).toMatch(/^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-.*-arm64$/);
    // Each private subnet with egress routes to the instance.
    const routes = Object.values(template.findResources('AWS::EC2::Route')) as Array<{ Properties: Record<string, unknown> }>;
    expect(routes.filter((r) => r.Properties.InstanceId !== undefined)).toHaveLength(2);
  });

  test('the NAT instance\'s security group admits only the VPC\'s CIDR (no SSH from anywhere), and may reach out', () => {
    const { template } = tier({ nat: DataTierNat.instance() });
    const groups = template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'Security Group for NAT instances' } });
    const [[, group]] = Object.entries(groups) as Array<[string, { Properties: Record<string, any> }]>;
    expect(group.Properties.SecurityGroupIngress).toEqual([{
      CidrIp: '10.0.0.0/16',
      Description: 'From the VPC only (NAT)',
      IpProtocol: '-1',
    }]);
    expect(group.Properties.SecurityGroupEgress).toEqual([{ CidrIp: '0.0.0.0/0', Description: 'Allow all outbound traffic by default', IpProtocol: '-1' }]);
    expect(JSON.stringify(template.toJSON())).not.toContain('"CidrIp":"0.0.0.0/0","Description":"from 0.0.0.0/0');
  });

  test('an x86 instance type takes the x86_64 image; natGateways gives one instance per AZ', () => {
    const { template } = tier({ nat: DataTierNat.instance({ instanceType: new ec2.InstanceType('t3.micro') }), natGateways: 2 });
    template.resourceCountIs('AWS::EC2::Instance', 2);
    template.allResourcesProperties('AWS::EC2::Instance', { InstanceType: 't3.micro' });
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    const image = Object.values(parameters).find((p) => p.Type.includes('AWS::EC2::Image::Id'));
    expect(image?.Default).toMatch(/al2023-ami-kernel-.*-x86_64$/);
  });

  test('cdk-nag: the NAT instance\'s findings are acknowledged with their reasons, nothing else is left', () => {
    const { app, stack } = tier({ nat: DataTierNat.instance() });
    const findings = unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/DataTier'));
    expect(findings).toEqual([]);
    const [instance] = Object.values(Template.fromStack(stack).findResources('AWS::EC2::Instance')) as Array<{ Metadata: Record<string, any> }>;
    // The data tier's own acknowledgements travel with every resource under it; the instance's are its own.
    const rules = (instance.Metadata.cdk_nag.rules_to_suppress as Array<{ id: string; reason: string }>).filter((r) => /^AwsSolutions-EC2/.test(r.id));
    expect(rules.map((r) => r.id).sort()).toEqual(['AwsSolutions-EC28', 'AwsSolutions-EC29']);
    for (const r of rules) expect(r.reason).toMatch(/DataTierNat/);
  });

  test('refused: nat with a given VPC, a NAT instance with natGateways 0, a bad instance type, a hand-built DataTierNat', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Own');
    expect(() => new DataTier(stack, 'A', { vpc, nat: DataTierNat.instance() }))
      .toThrow(/nat \(DataTierNat instance\) applies only to a VPC the construct creates, but vpc was given/);
    expect(() => tier({ nat: DataTierNat.instance(), natGateways: 0 }))
      .toThrow(/nat is DataTierNat.instance\(\) but natGateways is 0, so there would be no NAT at all/);
    expect(() => tier({ nat: DataTierNat.instance({ instanceType: new ec2.InstanceType('nano') }) }))
      .toThrow(/DataTierNat.instance\(\{ instanceType: 'nano' \}\) is not an EC2 instance type/);
    const Ctor = DataTierNat as unknown as new () => DataTierNat;
    expect(() => new Ctor()).toThrow(/DataTierNat cannot be subclassed or constructed directly .*; use DataTierNat.gateways\(\) or DataTierNat.instance\(\)/);
  });

  test('gateways given explicitly leave the template as the default makes it', () => {
    expect(tier({ nat: DataTierNat.gateways() }).template.toJSON()).toEqual(tier().template.toJSON());
  });
});
