/**
 * The data tier operated: its metrics (namespaces and dimensions for Aurora, an RDS instance and
 * a Redis replication group), its alarms per profile and their overrides, the alarm actions, the
 * flow log group under the tier's key, and VPCs of three AZs.
 */
import { App, CfnParameter, Duration, Size, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DataTier, DataTierProfile, DataTierProps } from '../../src/data-tier';
import { estimatedMaxConnections, instanceMemoryBytes } from '../../src/data-tier/instance-memory';
import { AlarmDestination } from '../../src/monitoring';
import { unacknowledgedNagFindings } from '../helpers/nag';

const ENV = { account: '123456789012', region: 'us-east-1' };

function tier(props: DataTierProps = {}, withEnv = true) {
  const app = new App();
  const stack = new Stack(app, 'Test', withEnv ? { env: ENV } : {});
  const dataTier = new DataTier(stack, 'DataTier', props);
  return { app, stack, dataTier, get template() { return Template.fromStack(stack); } };
}

const production = (props: DataTierProps = {}) => tier({ profile: DataTierProfile.production(), ...props });

/** A metric's namespace, name, statistic and dimensions, resolved in its stack. */
function rendered(stack: Stack, metric: cloudwatch.IMetric) {
  const m = metric as cloudwatch.Metric;
  return stack.resolve({ namespace: m.namespace, metricName: m.metricName, statistic: m.statistic, dimensions: m.dimensions });
}

/** The alarms of a template, by the suffix of their name (`DatabaseCpu`, ...). */
function alarmsByName(template: Template): Record<string, any> {
  return Object.fromEntries(Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .map((r: any) => [String(r.Properties.AlarmName).split('-').pop(), r.Properties]));
}

/** The metric an alarm watches, whether rendered flat or as a one-metric Metrics list. */
function watched(alarm: any) {
  const stat = alarm.MetricName ? alarm : alarm.Metrics[0].MetricStat;
  const metric = alarm.MetricName ? alarm : stat.Metric;
  return { Namespace: metric.Namespace, MetricName: metric.MetricName, Statistic: alarm.Statistic ?? stat.Stat, Period: alarm.Period ?? stat.Period };
}

const ALL_ALARMS = ['CacheCpu', 'CacheEvictions', 'CacheMemory', 'DatabaseConnections', 'DatabaseCpu', 'DatabaseFreeStorage', 'DatabaseReplicaLag'];

describe('metrics', () => {
  test('Aurora: AWS/RDS by DBClusterIdentifier; free storage is FreeLocalStorage, replica lag AuroraReplicaLagMaximum', () => {
    const { stack, dataTier } = production();
    const cluster = { DBClusterIdentifier: { Ref: stack.getLogicalId(dataTier.databaseCluster!.node.defaultChild as any) } };
    expect(rendered(stack, dataTier.metricDatabaseCpu())).toEqual({ namespace: 'AWS/RDS', metricName: 'CPUUtilization', statistic: 'Maximum', dimensions: cluster });
    expect(rendered(stack, dataTier.metricDatabaseConnections())).toEqual({ namespace: 'AWS/RDS', metricName: 'DatabaseConnections', statistic: 'Maximum', dimensions: cluster });
    expect(rendered(stack, dataTier.metricDatabaseFreeStorage())).toEqual({ namespace: 'AWS/RDS', metricName: 'FreeLocalStorage', statistic: 'Minimum', dimensions: cluster });
    expect(rendered(stack, dataTier.metricDatabaseReplicaLag())).toEqual({ namespace: 'AWS/RDS', metricName: 'AuroraReplicaLagMaximum', statistic: 'Maximum', dimensions: cluster });
    expect(dataTier.databaseReaders).toBe(1);
  });

  test('an RDS instance: AWS/RDS by DBInstanceIdentifier; free storage is FreeStorageSpace; no replica lag', () => {
    const { stack, dataTier } = tier();
    const instance = { DBInstanceIdentifier: { Ref: stack.getLogicalId(dataTier.databaseInstance!.node.defaultChild as any) } };
    expect(rendered(stack, dataTier.metricDatabaseCpu())).toEqual({ namespace: 'AWS/RDS', metricName: 'CPUUtilization', statistic: 'Average', dimensions: instance });
    expect(rendered(stack, dataTier.metricDatabaseConnections())).toEqual({ namespace: 'AWS/RDS', metricName: 'DatabaseConnections', statistic: 'Maximum', dimensions: instance });
    expect(rendered(stack, dataTier.metricDatabaseFreeStorage())).toEqual({ namespace: 'AWS/RDS', metricName: 'FreeStorageSpace', statistic: 'Minimum', dimensions: instance });
    expect(dataTier.databaseReaders).toBe(0);
    expect(() => dataTier.metricDatabaseReplicaLag()).toThrow(/metricDatabaseReplicaLag: Test\/DataTier has no readers \(an RDS instance\), so there is no replica lag to measure; check databaseReaders first/);
  });

  test('Aurora without readers has no replica lag either', () => {
    const { dataTier } = production({ readers: 0, multiAz: false });
    expect(dataTier.databaseReaders).toBe(0);
    expect(() => dataTier.metricDatabaseReplicaLag()).toThrow(/an Aurora cluster with readers: 0/);
  });

  test('a single Redis node: a plain metric of the member cluster <group>-001 (CacheClusterId)', () => {
    const { stack, dataTier } = tier();
    expect(dataTier.cacheNodes).toBe(1);
    const member = { CacheClusterId: { 'Fn::Join': ['', [{ Ref: stack.getLogicalId(dataTier.cacheReplicationGroup) }, '-001']] } };
    expect(dataTier.metricCacheCpu()).toBeInstanceOf(cloudwatch.Metric);
    expect(rendered(stack, dataTier.metricCacheCpu())).toEqual({ namespace: 'AWS/ElastiCache', metricName: 'EngineCPUUtilization', statistic: 'Average', dimensions: member });
    expect(rendered(stack, dataTier.metricCacheMemory())).toEqual({ namespace: 'AWS/ElastiCache', metricName: 'DatabaseMemoryUsagePercentage', statistic: 'Average', dimensions: member });
    expect(rendered(stack, dataTier.metricCacheEvictions())).toEqual({ namespace: 'AWS/ElastiCache', metricName: 'Evictions', statistic: 'Sum', dimensions: member });
  });

  test('a replication group with replicas: the highest of its nodes, each by its own CacheClusterId', () => {
    const { stack, dataTier } = tier({ cacheReplicas: 2 });
    expect(dataTier.cacheNodes).toBe(3);
    const metric = dataTier.metricCacheMemory({ period: Duration.minutes(1), label: 'memory' });
    expect(metric).toBeInstanceOf(cloudwatch.MathExpression);
    const expression = metric as cloudwatch.MathExpression;
    expect(expression.expression).toBe('MAX([databasememoryusagepercentage_node1, databasememoryusagepercentage_node2, databasememoryusagepercentage_node3])');
    expect(expression.period.toMinutes()).toBe(1);
    const group = stack.getLogicalId(dataTier.cacheReplicationGroup);
    expect(Object.entries(expression.usingMetrics).map(([id, m]) => [id, rendered(stack, m)])).toEqual(['001', '002', '003'].map((n, i) => [`databasememoryusagepercentage_node${i + 1}`, {
      namespace: 'AWS/ElastiCache',
      metricName: 'DatabaseMemoryUsagePercentage',
      statistic: 'Average',
      dimensions: { CacheClusterId: { 'Fn::Join': ['', [{ Ref: group }, `-${n}`]] } },
    }]));
  });

  test('options override the defaults', () => {
    const { dataTier } = tier();
    const metric = dataTier.metricDatabaseCpu({ statistic: 'p99', period: Duration.minutes(1) });
    expect(metric.statistic).toBe('p99');
    expect(metric.period.toMinutes()).toBe(1);
  });
});

describe('alarms per profile', () => {
  test('production: every alarm, on its documented default', () => {
    const { template, dataTier } = production();
    const alarms = alarmsByName(template);
    expect(Object.keys(alarms).sort()).toEqual(ALL_ALARMS);
    expect(dataTier.alarms).toHaveLength(7);
    const summary = Object.fromEntries(Object.entries(alarms).map(([name, p]) => [name, [p.ComparisonOperator, p.Threshold, p.EvaluationPeriods]]));
    expect(summary).toEqual({
      DatabaseCpu: ['GreaterThanOrEqualToThreshold', 80, 3],
      // db.r7g.large: 16 GiB less 10 % is 1622 connections; 80 % of it.
      DatabaseConnections: ['GreaterThanOrEqualToThreshold', 1297, 3],
      DatabaseFreeStorage: ['LessThanThreshold', 2 * 1024 ** 3, 1],
      DatabaseReplicaLag: ['GreaterThanOrEqualToThreshold', 1000, 3],
      CacheCpu: ['GreaterThanOrEqualToThreshold', 80, 3],
      CacheMemory: ['GreaterThanOrEqualToThreshold', 80, 3],
      CacheEvictions: ['GreaterThanOrEqualToThreshold', 100, 3],
    });
    for (const p of Object.values(alarms)) {
      expect(p.AlarmName).toMatch(/^Test-DataTier-[0-9A-F]{8}-/);
      expect(p.AlarmActions).toBeUndefined();
      expect(p.TreatMissingData).toBe('notBreaching');
    }
  });

  test('ephemeral: no alarm by default, and the template has none', () => {
    const { template, dataTier } = tier();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(dataTier.alarms).toEqual([]);
  });

  test('ephemeral: each alarm can be turned on; an instance\'s free storage is 10 % of allocatedStorage over 3 periods', () => {
    const { template } = tier({
      allocatedStorage: Size.gibibytes(50),
      alarms: { databaseFreeStorage: { enabled: true }, databaseConnections: { enabled: true }, cacheEvictions: { enabled: true } },
    });
    const alarms = alarmsByName(template);
    expect(Object.keys(alarms).sort()).toEqual(['CacheEvictions', 'DatabaseConnections', 'DatabaseFreeStorage']);
    expect(alarms.DatabaseFreeStorage).toMatchObject({ Threshold: 5 * 1024 ** 3, EvaluationPeriods: 3, ComparisonOperator: 'LessThanThreshold' });
    expect(watched(alarms.DatabaseFreeStorage)).toEqual({ Namespace: 'AWS/RDS', MetricName: 'FreeStorageSpace', Statistic: 'Minimum', Period: 300 });
    // db.t4g.micro: 1 GiB less 300 MiB is 79 connections; 80 % of it.
    expect(alarms.DatabaseConnections.Threshold).toBe(63);
  });

  test('production: overrides of threshold, periods, datapoints, period and name; an alarm turned off', () => {
    const { template } = production({
      alarms: {
        databaseCpu: { threshold: 90, evaluationPeriods: 5, datapointsToAlarm: 4, period: Duration.minutes(1), alarmName: 'db-cpu' },
        cacheEvictions: { enabled: false },
      },
    });
    const alarms = alarmsByName(template);
    expect(Object.keys(alarms)).not.toContain('CacheEvictions');
    const cpu = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((r: any) => r.Properties.AlarmName === 'db-cpu')!.Properties;
    expect(cpu).toMatchObject({ Threshold: 90, EvaluationPeriods: 5, DatapointsToAlarm: 4 });
    expect(watched(cpu)).toEqual({ Namespace: 'AWS/RDS', MetricName: 'CPUUtilization', Statistic: 'Maximum', Period: 60 });
  });

  test('a config for no alarm is refused, naming the alarms', () => {
    expect(() => production({ alarms: { databaseCpus: { threshold: 1 } } as any }))
      .toThrow(/DataTier: alarms.databaseCpus names no alarm; the alarms are databaseCpu, databaseConnections, databaseFreeStorage, databaseReplicaLag, cacheCpu/);
  });

  test('the connections default for a class of unknown memory is 80, with a warning asking for a threshold', () => {
    const { stack, template } = production({ databaseInstanceType: new ec2.InstanceType('c6gd.large') });
    expect(alarmsByName(template).DatabaseConnections.Threshold).toBe(80);
    Annotations.fromStack(stack).hasWarning('/Test/DataTier', Match.stringLikeRegexp('databaseConnections alarm defaults to 80 connections because the memory of c6gd.large is not known'));
    const given = production({ databaseInstanceType: new ec2.InstanceType('c6gd.large'), alarms: { databaseConnections: { threshold: 500 } } });
    expect(alarmsByName(given.template).DatabaseConnections.Threshold).toBe(500);
    expect(Annotations.fromStack(given.stack).findWarning('*', Match.stringLikeRegexp('databaseConnections'))).toEqual([]);
  });
});

describe('replica lag only with readers', () => {
  test('Aurora without readers has no replica lag alarm', () => {
    const { template } = production({ readers: 0, multiAz: false });
    expect(Object.keys(alarmsByName(template))).not.toContain('DatabaseReplicaLag');
  });

  test('Aurora with three readers: one alarm on the most any reader lags', () => {
    const { template } = production({ readers: 3 });
    const lag = alarmsByName(template).DatabaseReplicaLag;
    expect(lag.Threshold).toBe(1000);
    expect(watched(lag)).toEqual({ Namespace: 'AWS/RDS', MetricName: 'AuroraReplicaLagMaximum', Statistic: 'Maximum', Period: 300 });
  });

  test('configuring it without readers is refused; enabled: false is accepted', () => {
    expect(() => tier({ alarms: { databaseReplicaLag: { enabled: true } } }))
      .toThrow(/DataTier: alarms.databaseReplicaLag is configured, but the database has no readers \(an RDS instance; its Multi-AZ standby is not readable and publishes no lag\)/);
    expect(() => production({ readers: 0, multiAz: false, alarms: { databaseReplicaLag: { threshold: 500 } } }))
      .toThrow(/no readers \(an Aurora cluster with readers: 0\).*readers: 1 or more/);
    const { template } = production({ readers: 0, multiAz: false, alarms: { databaseReplicaLag: { enabled: false } } });
    expect(Object.keys(alarmsByName(template))).toHaveLength(6);
  });
});

describe('alarm actions', () => {
  test('every alarm notifies the topic given as alarmActions', () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const topic = new sns.Topic(stack, 'Oncall');
    new DataTier(stack, 'DataTier', { profile: DataTierProfile.production(), alarmActions: AlarmDestination.topic(topic) });
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }]);
  });

  test('an email destination: one encrypted topic for every alarm', () => {
    const { template } = production({ alarmActions: AlarmDestination.email('oncall@example.com') });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const actions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => JSON.stringify(a.Properties.AlarmActions));
    expect(new Set(actions).size).toBe(1);
    expect(actions).toHaveLength(7);
  });
});

describe('the flow logs under the data tier\'s key', () => {
  test('the flow log group is encrypted with encryptionKey, whose policy lets CloudWatch Logs of the region use it', () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new DataTier(stack, 'DataTier', { encryptionKey: key });
    const template = Template.fromStack(stack);
    const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 30 });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logs.us-east-1.amazonaws.com' },
          Action: Match.arrayWith(['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*']),
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:123456789012:log-group:*']] } } },
        })]),
      },
    });
  });

  test('without a key the flow log group stays as it was (CloudWatch Logs\' own encryption)', () => {
    tier().template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.absent() });
  });

  test('with a given VPC there is no log group to encrypt, and the key policy is left alone', () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Own', { maxAzs: 2 });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new DataTier(stack, 'DataTier', { vpc, encryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    expect(JSON.stringify(template.findResources('AWS::KMS::Key'))).not.toContain('logs.us-east-1.amazonaws.com');
  });
});

describe('maxAzs', () => {
  test('by default the VPC spans two AZs', () => {
    const { dataTier, template } = production();
    expect(dataTier.vpc.availabilityZones).toHaveLength(2);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.resourceCountIs('AWS::EC2::Subnet', 6);
  });

  test('three AZs with one NAT gateway per AZ: public, app and data subnets in each, the stores over all three', () => {
    const { dataTier, template } = production({ maxAzs: 3, natGateways: 3, readers: 2 });
    expect(dataTier.vpc.availabilityZones).toHaveLength(3);
    template.resourceCountIs('AWS::EC2::NatGateway', 3);
    template.resourceCountIs('AWS::EC2::Subnet', 9);
    expect(dataTier.dataSubnets.subnetIds).toHaveLength(3);
    expect(Object.values(template.findResources('AWS::RDS::DBSubnetGroup'))[0].Properties.SubnetIds).toHaveLength(3);
    const azs = Object.values(template.findResources('AWS::RDS::DBInstance')).map((r) => r.Properties.AvailabilityZone).sort();
    expect(azs).toEqual([...dataTier.vpc.availabilityZones].sort());
    // Every app subnet routes through the NAT gateway of its own AZ.
    const routes = Object.values(template.findResources('AWS::EC2::Route', { Properties: { NatGatewayId: Match.anyValue() } }));
    expect(new Set(routes.map((r) => JSON.stringify(r.Properties.NatGatewayId))).size).toBe(3);
  });

  test('three AZs: ephemeral keeps its one NAT gateway, production gets one per AZ, natGateways wins', () => {
    tier({ maxAzs: 3 }).template.resourceCountIs('AWS::EC2::NatGateway', 1);
    production({ maxAzs: 3 }).template.resourceCountIs('AWS::EC2::NatGateway', 3);
    production({ maxAzs: 3, natGateways: 2 }).template.resourceCountIs('AWS::EC2::NatGateway', 2);
    production().template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  test('refusals: out of range, with a given VPC, NAT gateways beyond the AZs, a token, an environment-agnostic stack', () => {
    expect(() => tier({ maxAzs: 1 })).toThrow(/DataTier: maxAzs \(max_azs in Python\) is 1; it must be a whole number from 2 to 3: RDS needs two AZs/);
    expect(() => tier({ maxAzs: 4 })).toThrow(/DataTier: maxAzs \(max_azs in Python\) is 4; it must be a whole number from 2 to 3/);
    expect(() => tier({ maxAzs: 2.5 })).toThrow(/DataTier: maxAzs \(max_azs in Python\) is 2.5; it must be a whole number from 2 to 3/);
    expect(() => tier({ maxAzs: 3, natGateways: 4 })).toThrow(/natGateways \(nat_gateways in Python\) is 4; it must be a whole number from 0 to 3: the VPC spans 3 AZs \(maxAzs\), and one NAT gateway per AZ is the most that helps$/);
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const vpc = new ec2.Vpc(stack, 'Own', { maxAzs: 2 });
    expect(() => new DataTier(stack, 'DataTier', { vpc, maxAzs: 3 })).toThrow(/DataTier: maxAzs \(3\) applies only to a VPC the construct creates, but vpc was given/);
    const tokenStack = new Stack(new App(), 'Test', { env: ENV });
    const azs = new CfnParameter(tokenStack, 'Azs', { type: 'Number' }).valueAsNumber;
    expect(Token.isUnresolved(azs)).toBe(true);
    expect(() => new DataTier(tokenStack, 'DataTier', { maxAzs: azs })).toThrow(/maxAzs must be a number known at synth time, got a token/);
    expect(() => tier({ maxAzs: 3 }, false)).toThrow(/DataTier: maxAzs is 3, but the stack knows only 2 AZs .*give the stack an env \(account and region\) for three AZs/);
  });
});

describe('instance memory and max_connections', () => {
  test.each([
    ['t4g.micro', 1, 79],
    ['t4g.medium', 4, 405],
    ['m7g.xlarge', 16, 1622],
    ['r7g.large', 16, 1622],
    ['r6i.4xlarge', 128, 5000],
    ['x2g.large', 32, 3244],
  ])('db.%s: %d GiB, max_connections about %d (erring low)', (name, gib, connections) => {
    const type = new ec2.InstanceType(name);
    expect(instanceMemoryBytes(type)).toBe(gib * 1024 ** 3);
    expect(estimatedMaxConnections(type)).toBe(connections);
    // Never above RDS's own formula on the nominal memory.
    expect(estimatedMaxConnections(type)!).toBeLessThanOrEqual(Math.min(instanceMemoryBytes(type)! / 9531392, 5000));
  });

  test('unknown classes and tokens have no estimate', () => {
    expect(instanceMemoryBytes(new ec2.InstanceType('c6gd.large'))).toBeUndefined();
    expect(instanceMemoryBytes(new ec2.InstanceType('r6g.metal'))).toBeUndefined();
    expect(instanceMemoryBytes(new ec2.InstanceType(Token.asString({ Ref: 'Type' })))).toBeUndefined();
  });
});

describe('cdk-nag', () => {
  test('production over three AZs, with a key, alarms to an email topic: nothing unacknowledged', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new DataTier(stack, 'DataTier', {
      profile: DataTierProfile.production(),
      maxAzs: 3,
      natGateways: 3,
      encryptionKey: key,
      alarmActions: AlarmDestination.email('oncall@example.com'),
    });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('ephemeral with every alarm turned on and a key: nothing unacknowledged', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const on = { enabled: true };
    new DataTier(stack, 'DataTier', {
      encryptionKey: key,
      alarms: { databaseCpu: on, databaseConnections: on, databaseFreeStorage: on, cacheCpu: on, cacheMemory: on, cacheEvictions: on },
      alarmActions: AlarmDestination.topic(new sns.Topic(stack, 'Oncall', { enforceSSL: true, masterKey: key })),
    });
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/DataTier'))).toEqual([]);
  });
});
