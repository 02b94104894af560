import { App, CfnParameter, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DatabaseKind, DataTier, DataTierProfile, DataTierProps, EphemeralDataTier } from '../../src/data-tier';
import { connectionSettingsFromEnvironment } from '../../src/data-tier/runtime/connection-urls';
import { Throwaway } from '../../src/throwaway';
import { cfnLint } from '../helpers/cfn-lint';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';
import { testIfInstalled } from '../helpers/tools';

const ENV = { account: '123456789012', region: 'us-east-1' };

function tier(props: DataTierProps = {}, withEnv = true) {
  const app = new App();
  const stack = new Stack(app, 'Test', withEnv ? { env: ENV } : {});
  const dataTier = new DataTier(stack, 'DataTier', props);
  // The template is synthesized on first use, so a test may add consumers before.
  return { app, stack, dataTier, get template() { return Template.fromStack(stack); } };
}

/** A stack holding only a VPC, for bring-your-own-VPC cases. */
function stackWithVpc(vpcProps: ec2.VpcProps) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Own', vpcProps);
  return { app, stack, vpc };
}

/**
 * A template's environment map as the consumer sees it at run time: literal values as they are,
 * every CloudFormation intrinsic (an endpoint, a secret ARN) replaced by a stand-in named after
 * the variable, e.g. `pghost.resolved`.
 */
function runtimeEnvironment(pairs: Array<[string, unknown]>): Record<string, string> {
  return Object.fromEntries(pairs.map(([name, value]) => [name, typeof value === 'string' ? value : `${name.toLowerCase()}.resolved`]));
}

function probeFunction(stack: Stack, vpc?: ec2.IVpc) {
  return new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => 1'),
    vpc,
    vpcSubnets: vpc ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
  });
}

describe('ephemeral profile (the default)', () => {
  const { template, dataTier } = tier();

  test('a small Graviton RDS for PostgreSQL instance: gp3 20 GiB growing to 100, encrypted, private, TLS only', () => {
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.resourceCountIs('AWS::RDS::DBCluster', 0);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: '16.13',
      DBInstanceClass: 'db.t4g.micro',
      StorageType: 'gp3',
      AllocatedStorage: '20',
      MaxAllocatedStorage: 100,
      StorageEncrypted: true,
      PubliclyAccessible: false,
      MultiAZ: false,
      Port: '5432',
      DBName: 'app',
      MasterUsername: 'app_admin',
      EnablePerformanceInsights: false,
      EnableCloudwatchLogsExports: Match.absent(),
      DBParameterGroupName: { Ref: Match.stringLikeRegexp('^DataTierDatabaseParameters') },
    });
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'postgres16', Parameters: { 'rds.force_ssl': '1' } });
  });

  test('no backups, no deletion protection, no final snapshot: destroyed with the stack', () => {
    template.hasResource('AWS::RDS::DBInstance', {
      Properties: { BackupRetentionPeriod: 0, DeleteAutomatedBackups: true, DeletionProtection: false },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Delete' });
    for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret'))) {
      expect(secret.DeletionPolicy).toBe('Delete');
    }
  });

  test('the password is generated into Secrets Manager and only referenced by the template', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"app_admin"}' }),
    });
    const db = Object.values(template.findResources('AWS::RDS::DBInstance'))[0];
    expect(JSON.stringify(db.Properties.MasterUserPassword)).toMatch(/resolve:secretsmanager:.*:SecretString:password::/);
    template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', { TargetType: 'AWS::RDS::DBInstance' });
  });

  test('one Redis node: Graviton, no snapshots, encrypted at rest and in transit, AUTH token from a generated secret', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'redis',
      EngineVersion: '7.1',
      CacheNodeType: 'cache.t4g.micro',
      NumCacheClusters: 1,
      AutomaticFailoverEnabled: false,
      MultiAZEnabled: false,
      SnapshotRetentionLimit: 0,
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      Port: 6379,
      AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^DataTierCacheAuthToken') }, ':SecretString:::}}']] },
      CacheSubnetGroupName: { Ref: Match.stringLikeRegexp('^DataTierCacheSubnets') },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
  });

  test('a VPC over two AZs with one NAT gateway, flow logs, and the stores in its isolated data subnets', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    expect(dataTier.dataSubnets.subnets).toHaveLength(2);
    expect(new Set(dataTier.dataSubnets.availabilityZones).size).toBe(2);
    const isolated = dataTier.vpc.isolatedSubnets.map((s) => s.subnetId);
    expect(dataTier.dataSubnets.subnetIds).toEqual(isolated);
    const subnetGroup = Object.values(template.findResources('AWS::ElastiCache::SubnetGroup'))[0];
    expect(subnetGroup.Properties.SubnetIds).toEqual(isolated.map((id) => Stack.of(dataTier).resolve(id)));
  });

  test('security groups admit nothing and send nothing until a peer is connected', () => {
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    const groups = template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('no ingress') } });
    expect(Object.keys(groups)).toHaveLength(2);
    for (const g of Object.values(groups)) {
      expect(g.Properties.SecurityGroupIngress).toBeUndefined();
      expect(g.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })]);
    }
  });

  test('exposes what it made', () => {
    expect(dataTier.profile.name).toBe('ephemeral');
    expect(dataTier.databaseKind).toBe(DatabaseKind.INSTANCE);
    expect(dataTier.databaseInstance).toBeDefined();
    expect(dataTier.databaseCluster).toBeUndefined();
    expect(dataTier.databaseName).toBe('app');
    expect(dataTier.cachePort).toBe(6379);
    expect(dataTier.databaseSecret).toBe(dataTier.databaseInstance!.secret);
  });

  test('snapshot', () => {
    expect(maskedTemplate(Stack.of(dataTier))).toMatchSnapshot();
  });
});

describe('production profile', () => {
  const { template, dataTier } = tier({ profile: DataTierProfile.production() });

  test('Aurora PostgreSQL: a Graviton writer and a reader, backups 7 days, deletion protection, snapshot on removal', () => {
    template.resourceCountIs('AWS::RDS::DBCluster', 1);
    template.hasResource('AWS::RDS::DBCluster', {
      Properties: {
        Engine: 'aurora-postgresql',
        EngineVersion: '16.13',
        BackupRetentionPeriod: 7,
        DeletionProtection: true,
        StorageEncrypted: true,
        EnableCloudwatchLogsExports: ['postgresql'],
        Port: 5432,
        DatabaseName: 'app',
        CopyTagsToSnapshot: true,
      },
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
    const instances = template.findResources('AWS::RDS::DBInstance');
    expect(Object.keys(instances)).toHaveLength(2);
    for (const i of Object.values(instances)) {
      expect(i.Properties).toMatchObject({
        DBInstanceClass: 'db.r7g.large',
        EnablePerformanceInsights: true,
        PerformanceInsightsRetentionPeriod: 7,
        PubliclyAccessible: false,
      });
    }
    template.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', { Family: 'aurora-postgresql16', Parameters: { 'rds.force_ssl': '1' } });
    // The reader is in the other AZ than the writer.
    const azs = Object.values(instances).map((i) => i.Properties.AvailabilityZone);
    expect(azs.sort()).toEqual(['dummy1a', 'dummy1b']);
  });

  test('Redis: a primary and a replica, automatic failover, Multi-AZ, 7 days of snapshots, snapshot on removal', () => {
    template.hasResource('AWS::ElastiCache::ReplicationGroup', {
      Properties: Match.objectLike({
        CacheNodeType: 'cache.r7g.large',
        NumCacheClusters: 2,
        AutomaticFailoverEnabled: true,
        MultiAZEnabled: true,
        SnapshotRetentionLimit: 7,
        TransitEncryptionEnabled: true,
        AtRestEncryptionEnabled: true,
      }),
      DeletionPolicy: 'Snapshot',
    });
  });

  test('two NAT gateways; the secrets outlive the stack with the snapshots they unlock', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret'))) {
      expect(secret.DeletionPolicy).toBe('Retain');
    }
  });

  test('exposes the cluster', () => {
    expect(dataTier.databaseCluster).toBeDefined();
    expect(dataTier.databaseInstance).toBeUndefined();
    expect(dataTier.databaseSecret).toBe(dataTier.databaseCluster!.secret);
  });

  test('snapshot', () => {
    expect(maskedTemplate(Stack.of(dataTier))).toMatchSnapshot();
  });
});

describe('the profiles say what they set', () => {
  test('ephemeral and production values', () => {
    const e = DataTierProfile.ephemeral();
    const p = DataTierProfile.production();
    expect([e.name, p.name]).toEqual(['ephemeral', 'production']);
    expect([e.databaseKind, p.databaseKind]).toEqual([DatabaseKind.INSTANCE, DatabaseKind.AURORA_CLUSTER]);
    expect([e.databaseInstanceType.toString(), p.databaseInstanceType.toString()]).toEqual(['t4g.micro', 'r7g.large']);
    expect([e.allocatedStorage?.toGibibytes(), e.maxAllocatedStorage?.toGibibytes(), p.allocatedStorage]).toEqual([20, 100, undefined]);
    expect([e.backupRetention.toDays(), p.backupRetention.toDays()]).toEqual([0, 7]);
    expect([e.deletionProtection, p.deletionProtection]).toEqual([false, true]);
    expect([e.removalPolicy, p.removalPolicy]).toEqual([RemovalPolicy.DESTROY, RemovalPolicy.SNAPSHOT]);
    expect([e.performanceInsights, p.performanceInsights, e.exportDatabaseLogs, p.exportDatabaseLogs]).toEqual([false, true, false, true]);
    expect([e.multiAz, p.multiAz, e.readers, p.readers]).toEqual([false, true, 0, 1]);
    expect([e.cacheNodeType, p.cacheNodeType]).toEqual(['cache.t4g.micro', 'cache.r7g.large']);
    expect([e.cacheReplicas, p.cacheReplicas, e.cacheAutomaticFailover, p.cacheAutomaticFailover, e.cacheMultiAz, p.cacheMultiAz])
      .toEqual([0, 1, false, true, false, true]);
    expect([e.cacheSnapshotRetention.toDays(), p.cacheSnapshotRetention.toDays()]).toEqual([0, 7]);
    expect([e.natGateways, p.natGateways]).toEqual([1, 2]);
  });
});

describe('overrides', () => {
  test('database settings of the ephemeral instance', () => {
    const { template } = tier({
      databaseName: 'orders',
      databaseUsername: 'orders_owner',
      postgresVersion: '16.8',
      databaseInstanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL),
      allocatedStorage: Size.gibibytes(50),
      maxAllocatedStorage: Size.gibibytes(200),
      multiAz: true,
      performanceInsights: true,
      exportDatabaseLogs: true,
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBName: 'orders',
      MasterUsername: 'orders_owner',
      EngineVersion: '16.8',
      DBInstanceClass: 'db.t4g.small',
      AllocatedStorage: '50',
      MaxAllocatedStorage: 200,
      MultiAZ: true,
      EnablePerformanceInsights: true,
      PerformanceInsightsRetentionPeriod: 7,
      EnableCloudwatchLogsExports: ['postgresql'],
    });
  });

  test('maxAllocatedStorage equal to allocatedStorage turns storage autoscaling off', () => {
    const { template } = tier({ allocatedStorage: Size.gibibytes(30), maxAllocatedStorage: Size.gibibytes(30) });
    template.hasResourceProperties('AWS::RDS::DBInstance', { AllocatedStorage: '30', MaxAllocatedStorage: Match.absent() });
  });

  test('backups in the ephemeral profile once the data is said to outlive the stack', () => {
    const { template } = tier({ backupRetention: Duration.days(3), removalPolicy: RemovalPolicy.SNAPSHOT, deletionProtection: true });
    template.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({ BackupRetentionPeriod: 3, DeleteAutomatedBackups: false, DeletionProtection: true }),
      DeletionPolicy: 'Snapshot',
    });
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Snapshot' });
  });

  test('production knobs: readers, backups, protection, removal, insights, logs, version', () => {
    const { template } = tier({
      profile: DataTierProfile.production(),
      readers: 2,
      backupRetention: Duration.days(14),
      deletionProtection: false,
      removalPolicy: RemovalPolicy.RETAIN,
      performanceInsights: false,
      exportDatabaseLogs: false,
      postgresVersion: '16.4',
      databaseInstanceType: ec2.InstanceType.of(ec2.InstanceClass.R6G, ec2.InstanceSize.XLARGE),
    });
    template.hasResource('AWS::RDS::DBCluster', {
      Properties: Match.objectLike({ BackupRetentionPeriod: 14, DeletionProtection: false, EngineVersion: '16.4', EnableCloudwatchLogsExports: Match.absent() }),
      DeletionPolicy: 'Retain',
    });
    const instances = Object.values(template.findResources('AWS::RDS::DBInstance'));
    expect(instances).toHaveLength(3);
    for (const i of instances) expect(i.Properties).toMatchObject({ DBInstanceClass: 'db.r6g.xlarge', EnablePerformanceInsights: false });
  });

  test('production Aurora without Multi-AZ and with no readers', () => {
    const { template } = tier({ profile: DataTierProfile.production(), readers: 0, multiAz: false });
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
  });

  test('cache settings', () => {
    const { template } = tier({
      cacheNodeType: 'cache.t4g.small',
      cacheReplicas: 2,
      cacheAutomaticFailover: true,
      cacheMultiAz: true,
      cacheSnapshotRetention: Duration.days(5),
      cacheEngineVersion: '7.0',
    });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      CacheNodeType: 'cache.t4g.small',
      NumCacheClusters: 3,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      SnapshotRetentionLimit: 5,
      EngineVersion: '7.0',
    });
  });

  test('Redis 6: TLS only without TransitEncryptionMode, which ElastiCache has from Redis 7 on', () => {
    const { template } = tier({ cacheEngineVersion: '6.2' });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      EngineVersion: '6.2', TransitEncryptionEnabled: true, TransitEncryptionMode: Match.absent(), AuthToken: Match.anyValue(),
    });
  });

  test('production cache scaled down', () => {
    const { template } = tier({
      profile: DataTierProfile.production(),
      cacheReplicas: 0,
      cacheAutomaticFailover: false,
      cacheMultiAz: false,
      cacheSnapshotRetention: Duration.days(0),
    });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumCacheClusters: 1, AutomaticFailoverEnabled: false, MultiAZEnabled: false, SnapshotRetentionLimit: 0 });
  });

  test('natGateways for the created VPC, and 0 for a VPC of isolated subnets only', () => {
    tier({ natGateways: 2 }).template.resourceCountIs('AWS::EC2::NatGateway', 2);
    const { template, dataTier } = tier({ natGateways: 0 });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    expect(dataTier.dataSubnets.subnets).toHaveLength(2);
  });

  test('a customer managed key encrypts the database, the cache, Performance Insights and both secrets', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new DataTier(stack, 'DataTier', { profile: DataTierProfile.production(), encryptionKey: key });
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] };
    template.hasResourceProperties('AWS::RDS::DBCluster', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
    template.hasResourceProperties('AWS::RDS::DBInstance', { PerformanceInsightsKMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    for (const s of secrets) expect(s.Properties.KmsKeyId).toEqual(keyArn);
  });

  test('a given VPC: its isolated subnets by default, or the subnets selected', () => {
    const { stack, vpc } = stackWithVpc({
      maxAzs: 2,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    const byDefault = new DataTier(stack, 'A', { vpc });
    expect(byDefault.dataSubnets.subnetIds).toEqual(vpc.isolatedSubnets.map((s) => s.subnetId));
    const chosen = new DataTier(stack, 'B', { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } });
    expect(chosen.dataSubnets.subnetIds).toEqual(vpc.privateSubnets.map((s) => s.subnetId));
    expect(chosen.vpc).toBe(vpc);
    // No VPC of its own.
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPC', 1);
  });

  test('a given VPC without isolated subnets: its private subnets with egress', () => {
    const { stack, vpc } = stackWithVpc({ maxAzs: 2 });
    const dataTier = new DataTier(stack, 'A', { vpc });
    expect(dataTier.dataSubnets.subnetIds).toEqual(vpc.privateSubnets.map((s) => s.subnetId));
  });
});

describe('consumers', () => {
  test('allowDefaultPortsFrom admits a peer to PostgreSQL and Redis only', () => {
    const { stack, dataTier } = tier();
    const peer = new ec2.SecurityGroup(stack, 'Peer', { vpc: dataTier.vpc });
    dataTier.allowDefaultPortsFrom(peer);
    const template = Template.fromStack(stack);
    const peerId = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Peer'), 'GroupId'] };
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      ToPort: 5432,
      IpProtocol: 'tcp',
      SourceSecurityGroupId: peerId,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataTierDatabaseSecurityGroup'), 'GroupId'] },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6379,
      ToPort: 6379,
      IpProtocol: 'tcp',
      SourceSecurityGroupId: peerId,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DataTierCacheSecurityGroup'), 'GroupId'] },
    });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
  });

  test('the connections of each store admit a peer to that store alone', () => {
    const { stack, dataTier } = tier();
    dataTier.cacheConnections.allowDefaultPortFrom(new ec2.SecurityGroup(stack, 'Peer', { vpc: dataTier.vpc }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379 });
  });

  test('grantReadCredentials: both secrets, nothing else', () => {
    const { stack, dataTier } = tier();
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    dataTier.grantReadCredentials(role);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }] } });
    const statements = Object.values(policies)[0].Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: expect.stringMatching(/DatabaseSecret/) } }),
      expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: expect.stringMatching(/^DataTierCacheAuthToken/) } }),
    ]);
  });

  test('grantReadCredentials with a customer managed key also grants decrypting', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const key = new kms.Key(stack, 'Key');
    const dataTier = new DataTier(stack, 'DataTier', { encryptionKey: key });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    dataTier.grantReadCredentials(role);
    // Secrets Manager decrypts for the reader: the key policy lets the role decrypt through it only.
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'kms:Decrypt',
          Principal: { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Reader'), 'Arn'] } },
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
        })]),
      },
    });
  });

  test('bindToContainer: plain settings as environment, credentials as ECS secrets, and no DATABASE_URL', () => {
    const { stack, dataTier } = tier();
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
    const container = taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.36') });
    dataTier.bindToContainer(container);
    const template = Template.fromStack(stack);
    const def = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions[0];
    const env = Object.fromEntries(def.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(Object.keys(env).sort()).toEqual(['PGDATABASE', 'PGHOST', 'PGPORT', 'PGSSLMODE', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_TLS']);
    expect(env).toMatchObject({ PGPORT: '5432', PGDATABASE: 'app', PGSSLMODE: 'require', REDIS_PORT: '6379', REDIS_TLS: 'true' });
    expect(env.PGHOST).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DataTierDatabase/), 'Endpoint.Address'] });
    expect(env.REDIS_HOST).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DataTierCache/), 'PrimaryEndPoint.Address'] });
    const secrets = Object.fromEntries(def.Secrets.map((e: { Name: string; ValueFrom: unknown }) => [e.Name, JSON.stringify(e.ValueFrom)]));
    expect(Object.keys(secrets).sort()).toEqual(['PGPASSWORD', 'PGUSER', 'REDIS_AUTH_TOKEN']);
    expect(secrets.PGPASSWORD).toMatch(/DatabaseSecret.*:password::/);
    expect(secrets.PGUSER).toMatch(/DatabaseSecret.*:username::/);
    expect(secrets.REDIS_AUTH_TOKEN).toMatch(/DataTierCacheAuthToken/);
    expect(JSON.stringify(def)).not.toMatch(/DATABASE_URL|REDIS_URL/);
    // ECS reads the secrets with the execution role.
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^TaskExecutionRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: { Ref: Match.stringLikeRegexp('^DataTierCacheAuthToken') } })]) },
    });
  });

  test('bindToContainer acknowledges, on the task definition, the plain environment it adds (cdk-nag AwsSolutions-ECS2)', () => {
    const { app, stack, dataTier } = tier();
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
    dataTier.bindToContainer(taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.36') }));
    // The test's container has no logging (ECS7): that is the fixture's, not the data tier's.
    const findings = unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Task/'));
    expect(findings.map((f) => f.rule)).toEqual(['AwsSolutions-ECS7']);
    const def = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'))[0];
    const reason = def.Metadata.cdk_nag.rules_to_suppress.find((r: { id: string }) => r.id === 'AwsSolutions-ECS2').reason;
    expect(reason).toContain('PGHOST, PGPORT, PGDATABASE');
    expect(reason).toContain('credentials go in as ECS secrets');
  });

  test('containerSecrets and connectionEnvironment for a container defined by hand', () => {
    const { dataTier } = tier();
    expect(Object.keys(dataTier.containerSecrets()).sort()).toEqual(['PGPASSWORD', 'PGUSER', 'REDIS_AUTH_TOKEN']);
    expect(Object.keys(dataTier.connectionEnvironment())).toHaveLength(7);
  });

  test('bindToFunction: pointers to the secrets, plain settings, read grant, and network admission', () => {
    const { stack, dataTier } = tier();
    const fn = probeFunction(stack, dataTier.vpc);
    dataTier.bindToFunction(fn);
    const template = Template.fromStack(stack);
    const f = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    const vars = f.Properties.Environment.Variables;
    expect(Object.keys(vars).sort()).toEqual([
      'DATABASE_SECRET_ARN', 'PGDATABASE', 'PGHOST', 'PGPORT', 'PGSSLMODE', 'REDIS_AUTH_SECRET_ARN', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_TLS',
    ]);
    expect(vars.DATABASE_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/DatabaseSecret/) });
    expect(vars.REDIS_AUTH_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^DataTierCacheAuthToken/) });
    expect(JSON.stringify(vars)).not.toMatch(/resolve:secretsmanager/);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 5432, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] } });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] } });
    // Least privilege: the function may read the two secrets and nothing else.
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^FnServiceRole') }] } }));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: expect.stringMatching(/DatabaseSecret/) } },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: expect.stringMatching(/^DataTierCacheAuthToken/) } },
    ]);
  });
});

describe('what the construct hands over is what the runtime helper reads', () => {
  const PASSWORD = 'p@ss:w/rd?#';
  const RDS_SECRET = JSON.stringify({ username: 'app_admin', password: PASSWORD, host: 'ignored', port: 5432, engine: 'postgres' });

  test('bindToFunction: the function\'s environment plus the two secrets make both URLs', async () => {
    const { stack, dataTier } = tier();
    dataTier.bindToFunction(probeFunction(stack, dataTier.vpc));
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
    const env = runtimeEnvironment(Object.entries(fn.Properties.Environment.Variables));
    const secrets: Record<string, string> = { [env.DATABASE_SECRET_ARN]: RDS_SECRET, [env.REDIS_AUTH_SECRET_ARN]: 'redis-token' };
    const readSecret = jest.fn(async (id: string) => secrets[id] ?? Promise.reject(new Error(`unknown secret ${id}`)));
    const settings = await connectionSettingsFromEnvironment(env, readSecret);
    expect(readSecret.mock.calls.map(([id]) => id).sort()).toEqual([env.DATABASE_SECRET_ARN, env.REDIS_AUTH_SECRET_ARN].sort());
    expect(settings.databaseUrl).toBe(`postgresql://app_admin:${encodeURIComponent(PASSWORD)}@pghost.resolved:5432/app?sslmode=require`);
    expect(settings.redisUrl).toBe('rediss://:redis-token@redis_host.resolved:6379');
  });

  test('bindToContainer: the container\'s environment plus the ECS secrets make both URLs, with no secret to read', async () => {
    const { stack, dataTier } = tier();
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    dataTier.bindToContainer(task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.36') }));
    const def = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions[0];
    // What ECS injects for each secret: the JSON field named in ValueFrom, or the whole secret.
    const injected = (valueFrom: unknown) => {
      const text = JSON.stringify(valueFrom);
      if (text.includes(':password::')) return PASSWORD;
      if (text.includes(':username::')) return 'app_admin';
      return 'redis-token';
    };
    const env = runtimeEnvironment([
      ...def.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value] as [string, unknown]),
      ...def.Secrets.map((e: { Name: string; ValueFrom: unknown }) => [e.Name, injected(e.ValueFrom)] as [string, unknown]),
    ]);
    const settings = await connectionSettingsFromEnvironment(env);
    expect(settings.databaseUrl).toBe(`postgresql://app_admin:${encodeURIComponent(PASSWORD)}@pghost.resolved:5432/app?sslmode=require`);
    expect(settings.redisUrl).toBe('rediss://:redis-token@redis_host.resolved:6379');
  });
});

describe('under the throwaway switch (Throwaway.enable)', () => {
  function thrownAway(props: DataTierProps = {}) {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    Throwaway.enable(stack);
    new DataTier(stack, 'DataTier', props);
    return Template.fromStack(stack);
  }

  test('the ephemeral profile is unchanged: it is destroyed with the stack already', () => {
    expect(thrownAway().toJSON()).toEqual(tier().template.toJSON());
  });

  test('the production profile without deletion protection is destroyed: no final snapshots, and the secrets go too', () => {
    const template = thrownAway({ profile: DataTierProfile.production(), deletionProtection: false });
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete', Properties: Match.objectLike({ DeletionProtection: false }) });
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Delete' });
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets.map((r) => r.DeletionPolicy)).toEqual(['Delete', 'Delete']);
    const kept = Object.values(template.toJSON().Resources as Record<string, { DeletionPolicy?: string }>).filter((r) => r.DeletionPolicy && r.DeletionPolicy !== 'Delete');
    expect(kept).toEqual([]);
  });

  test('a removalPolicy prop wins over the switch', () => {
    const template = thrownAway({ profile: DataTierProfile.production(), removalPolicy: RemovalPolicy.SNAPSHOT });
    template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot', Properties: Match.objectLike({ DeletionProtection: true }) });
    expect(Object.values(template.findResources('AWS::SecretsManager::Secret')).map((r) => r.DeletionPolicy)).toEqual(['Retain', 'Retain']);
  });

  test('deletion protection that the switch would contradict is refused, from the profile or from a prop', () => {
    expect(() => thrownAway({ profile: DataTierProfile.production() })).toThrow(
      /^DataTier: the throwaway switch \(cdk-durable-agents:throwaway\) is on, so removalPolicy defaults to DESTROY, but deletionProtection is true \(the production profile's default\)/);
    expect(() => thrownAway({ deletionProtection: true })).toThrow(/deletionProtection is true \(given as a prop\).*Set deletionProtection: false/);
  });

  test('backups in the ephemeral profile still need a removalPolicy that keeps the data', () => {
    expect(() => thrownAway({ backupRetention: Duration.days(3) })).toThrow(/backupRetention is 3 days in the ephemeral profile/);
    expect(() => thrownAway({ backupRetention: Duration.days(3), removalPolicy: RemovalPolicy.SNAPSHOT })).not.toThrow();
  });
});

describe('validation', () => {
  test('natGateways with a given VPC', () => {
    const { stack, vpc } = stackWithVpc({ maxAzs: 2 });
    expect(() => new DataTier(stack, 'DataTier', { vpc, natGateways: 1 })).toThrow(/natGateways \(1\) applies only to a VPC the construct creates/);
  });

  test('natGateways out of range', () => {
    expect(() => tier({ natGateways: 3 })).toThrow(/natGateways \(nat_gateways in Python\) is 3; it must be a whole number from 0 to 2: the VPC spans 2 AZs \(maxAzs\), .*give maxAzs: 3 for a third/);
    expect(() => tier({ natGateways: 1.5 })).toThrow(/natGateways \(nat_gateways in Python\) is 1.5; it must be a whole number from 0 to 2/);
  });

  test('subnets in one AZ: RDS needs two, and Multi-AZ names itself', () => {
    const one = () => stackWithVpc({ maxAzs: 1, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const a = one();
    expect(() => new DataTier(a.stack, 'DataTier', { vpc: a.vpc })).toThrow(/span 1 AZ .*RDS subnet groups need at least two AZs/);
    const b = one();
    expect(() => new DataTier(b.stack, 'DataTier', { vpc: b.vpc, profile: DataTierProfile.production() }))
      .toThrow(/span 1 AZ .*multiAz \(or cacheMultiAz\) is true and needs at least two AZs/);
  });

  test('a subnet selection that matches nothing', () => {
    const { stack, vpc } = stackWithVpc({ maxAzs: 2 });
    expect(() => new DataTier(stack, 'DataTier', { vpc, subnets: { subnetGroupName: 'nope' } })).toThrow(/nope|no subnet/i);
  });

  test('backups in the ephemeral profile without saying the data outlives the stack', () => {
    expect(() => tier({ backupRetention: Duration.days(7) }))
      .toThrow(/backupRetention is 7 days in the ephemeral profile, whose removalPolicy DESTROY deletes the backups.*RETAIN or SNAPSHOT/);
  });

  test('backupRetention out of range or not whole days; Aurora needs at least a day', () => {
    expect(() => tier({ backupRetention: Duration.days(36), removalPolicy: RemovalPolicy.RETAIN })).toThrow(/^DataTier: backupRetention \(backup_retention in Python\) is 36 days; it must be between 0 and 35 days: set backupRetention in that range$/);
    expect(() => tier({ backupRetention: Duration.hours(36), removalPolicy: RemovalPolicy.RETAIN })).toThrow(/backupRetention \(backup_retention in Python\) is 1 day 12 hours, not a whole number of days: round it to whole days/);
    expect(() => tier({ profile: DataTierProfile.production(), backupRetention: Duration.days(0) })).toThrow(/Aurora always keeps at least 1 day/);
  });

  test('deletion protection with removal policy DESTROY', () => {
    expect(() => tier({ deletionProtection: true })).toThrow(/deletionProtection is true but removalPolicy is DESTROY/);
    expect(() => tier({ profile: DataTierProfile.production(), removalPolicy: RemovalPolicy.DESTROY })).toThrow(/deletionProtection is true but removalPolicy is DESTROY/);
  });

  test('Aurora Multi-AZ without a reader', () => {
    expect(() => tier({ profile: DataTierProfile.production(), readers: 0 })).toThrow(/multiAz is true but readers is 0/);
  });

  test('readers out of range, or given to an RDS instance', () => {
    expect(() => tier({ profile: DataTierProfile.production(), readers: 16 })).toThrow(/readers is 16; it must be a whole number from 0 to 15/);
    expect(() => tier({ readers: 1 })).toThrow(/readers \(1\) applies to Aurora, but the ephemeral profile runs one RDS instance/);
  });

  test('storage: Aurora takes none, an instance needs 20 GiB or more, max not below allocated', () => {
    expect(() => tier({ profile: DataTierProfile.production(), allocatedStorage: Size.gibibytes(50) })).toThrow(/allocatedStorage and maxAllocatedStorage apply to an RDS instance/);
    expect(() => tier({ allocatedStorage: Size.gibibytes(10) })).toThrow(/allocatedStorage \(allocated_storage in Python\) is 10; it must be a whole number from 20 to 65536 GiB: gp3 storage takes whole GiB/);
    expect(() => tier({ allocatedStorage: Size.gibibytes(50), maxAllocatedStorage: Size.gibibytes(40) })).toThrow(/maxAllocatedStorage \(40 GiB\) is below allocatedStorage \(50 GiB\)/);
    expect(() => tier({ allocatedStorage: Size.mebibytes(30000) })).toThrow(/allocatedStorage \(allocated_storage in Python\) is 29.296875; it must be a whole number from 20 to 65536 GiB/);
    expect(() => tier({ maxAllocatedStorage: Size.gibibytes(70000) })).toThrow(/maxAllocatedStorage \(max_allocated_storage in Python\) is 70000; it must be a whole number from 20 to 65536 GiB/);
  });

  test('cache: failover without a replica, Multi-AZ without failover, counts and retention out of range', () => {
    expect(() => tier({ cacheAutomaticFailover: true })).toThrow(/cacheAutomaticFailover is true but cacheReplicas is 0/);
    expect(() => tier({ cacheReplicas: 1, cacheMultiAz: true })).toThrow(/cacheMultiAz is true but cacheAutomaticFailover is false/);
    expect(() => tier({ profile: DataTierProfile.production(), cacheReplicas: 0 })).toThrow(/cacheAutomaticFailover is true but cacheReplicas is 0/);
    expect(() => tier({ cacheReplicas: 6 })).toThrow(/cacheReplicas \(cache_replicas in Python\) is 6; it must be a whole number from 0 to 5/);
    expect(() => tier({ cacheSnapshotRetention: Duration.days(40) })).toThrow(/cacheSnapshotRetention \(cache_snapshot_retention in Python\) is 40 days; it must be between 0 and 35 days/);
  });

  test('counts that decide what is created must be known at synth time, not tokens', () => {
    const withParameter = (props: (n: number) => DataTierProps) => () => {
      const app = new App();
      const stack = new Stack(app, 'Test', { env: ENV });
      const n = new CfnParameter(stack, 'Count', { type: 'Number' }).valueAsNumber;
      return new DataTier(stack, 'DataTier', props(n));
    };
    expect(withParameter((n) => ({ profile: DataTierProfile.production(), readers: n })))
      .toThrow(/readers must be a number known at synth time, got a token .*how many Aurora reader instances.*give a literal number/);
    expect(withParameter((n) => ({ cacheReplicas: n }))).toThrow(/cacheReplicas must be a number known at synth time.*NumCacheClusters \(1 \+ cacheReplicas\)/);
    expect(withParameter((n) => ({ natGateways: n }))).toThrow(/natGateways must be a number known at synth time/);
  });

  test('deploy-time tokens are passed through where CloudFormation takes them as they are', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const days = new CfnParameter(stack, 'Days', { type: 'Number' }).valueAsNumber;
    new DataTier(stack, 'DataTier', {
      profile: DataTierProfile.production(), backupRetention: Duration.days(days), cacheSnapshotRetention: Duration.days(days),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::RDS::DBCluster', { BackupRetentionPeriod: { Ref: 'Days' } });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { SnapshotRetentionLimit: { Ref: 'Days' } });
  });

  test('public subnets are refused for the stores', () => {
    const { stack, vpc } = stackWithVpc({ maxAzs: 2 });
    expect(() => new DataTier(stack, 'DataTier', { vpc, subnets: { subnetType: ec2.SubnetType.PUBLIC } }))
      .toThrow(/subnets selects 2 public subnet\(s\) \(Test\/Own\/PublicSubnet1, Test\/Own\/PublicSubnet2\).*PRIVATE_ISOLATED/);
  });

  test('invalid names and versions', () => {
    expect(() => tier({ databaseName: 'my-db' })).toThrow(/databaseName 'my-db' must start with a letter/);
    expect(() => tier({ databaseName: '1db' })).toThrow(/databaseName '1db'/);
    expect(() => tier({ databaseUsername: 'rdsadmin' })).toThrow(/databaseUsername 'rdsadmin'.*not start with rds or pg_/);
    expect(() => tier({ databaseUsername: 'has space' })).toThrow(/databaseUsername 'has space'/);
    expect(() => tier({ postgresVersion: 'latest' })).toThrow(/postgresVersion 'latest' must be a major version/);
    expect(() => tier({ cacheNodeType: 't4g.micro' })).toThrow(/cacheNodeType 't4g.micro' is not an ElastiCache node type/);
    expect(() => tier({ cacheEngineVersion: 'seven' })).toThrow(/cacheEngineVersion 'seven' must be a version number/);
    expect(() => tier({ cacheEngineVersion: '5.0.6' })).toThrow(/cacheEngineVersion '5.0.6' is too old/);
  });

  test('bindToFunction on a function outside the VPC', () => {
    const { stack, dataTier } = tier();
    const fn = probeFunction(stack);
    expect(() => dataTier.bindToFunction(fn)).toThrow(/function Test\/Fn is not in a VPC.*vpc: dataTier.vpc/);
  });

  test('an environment-agnostic stack skips the AZ check it cannot make, and synthesizes', () => {
    const { template } = tier({}, false);
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
  });
});

describe('cdk-nag and cfn-lint', () => {
  for (const profile of [DataTierProfile.ephemeral(), DataTierProfile.production()]) {
    test(`${profile.name}: AwsSolutions and Serverless packs find nothing unacknowledged, and each acknowledgement has its reason in the template`, () => {
      const app = new App();
      const stack = new Stack(app, 'Test', { env: ENV });
      const dataTier = new DataTier(stack, 'DataTier', { profile });
      const findings = unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/DataTier'));
      expect(findings).toEqual([]);
      const template = Template.fromStack(stack);
      const db = Object.values(template.findResources(dataTier.databaseCluster ? 'AWS::RDS::DBCluster' : 'AWS::RDS::DBInstance'))[0];
      const rules: Array<{ id: string; reason: string }> = db.Metadata.cdk_nag.rules_to_suppress;
      for (const r of rules) expect(r.reason.length).toBeGreaterThan(40);
      const ids = rules.map((r) => r.id);
      if (profile.name === 'ephemeral') {
        expect(ids).toEqual(expect.arrayContaining(['AwsSolutions-RDS3', 'AwsSolutions-RDS10', 'AwsSolutions-RDS13', 'AwsSolutions-RDS11', 'AwsSolutions-AEC4', 'AwsSolutions-SMG4']));
      } else {
        // Production makes none of the ephemeral profile's deliberate trade-offs, so it acknowledges none of them.
        expect(ids.filter((id) => ['AwsSolutions-RDS3', 'AwsSolutions-RDS10', 'AwsSolutions-RDS13', 'AwsSolutions-AEC4'].includes(id))).toEqual([]);
      }
    });
  }

  test('the ephemeral profile\'s trade-offs are found by cdk-nag once they stop being acknowledged', () => {
    // The acknowledgements are conditional: an ephemeral tier made Multi-AZ acknowledges no RDS3/AEC4.
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    new DataTier(stack, 'DataTier', { multiAz: true, cacheReplicas: 1, cacheAutomaticFailover: true, cacheMultiAz: true });
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/DataTier'))).toEqual([]);
    const db = Object.values(Template.fromStack(stack).findResources('AWS::RDS::DBInstance'))[0];
    const ids = db.Metadata.cdk_nag.rules_to_suppress.map((r: { id: string }) => r.id);
    expect(ids).not.toContain('AwsSolutions-RDS3');
    expect(ids).not.toContain('AwsSolutions-AEC4');
  });

  test('the integration test\'s shape (a function bound with bindToFunction) adds no finding to the data tier', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const dataTier = new DataTier(stack, 'DataTier', { removalPolicy: RemovalPolicy.DESTROY });
    const fn = probeFunction(stack, dataTier.vpc);
    dataTier.bindToFunction(fn);
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/DataTier'))).toEqual([]);
  });

  for (const profile of [DataTierProfile.ephemeral(), DataTierProfile.production()]) {
    testIfInstalled('cfn-lint', `${profile.name}: cfn-lint finds nothing`, () => {
      // Environment-agnostic, as a library user's stack usually is (a fixed account and region
      // would put literal AZ names into the template, which cfn-lint rightly flags).
      const { template } = tier({ profile }, false);
      expect(cfnLint(template.toJSON())).toEqual([]);
    });
  }
});

describe('the former name EphemeralDataTier', () => {
  test.each([
    ['ephemeral', DataTierProfile.ephemeral()],
    ['production', DataTierProfile.production()],
  ])('still synthesizes the same template as DataTier (%s profile)', (_name, profile) => {
    const synth = (make: (stack: Stack) => DataTier) => {
      const stack = new Stack(new App(), 'Test', { env: ENV });
      const dataTier = make(stack);
      expect(dataTier).toBeInstanceOf(DataTier);
      return Template.fromStack(stack).toJSON();
    };
    const current = synth((stack) => new DataTier(stack, 'DataTier', { profile }));
    const former = synth((stack) => new EphemeralDataTier(stack, 'DataTier', { profile }));
    expect(Object.keys(former.Resources).length).toBeGreaterThan(10);
    expect(former).toEqual(current);
  });
});
