/**
 * The integration apps that rebuild the seeds (integ/integ.seed-*.ts), synthesized as integ-runner
 * does: what each seed asks for is in the template (agents and services with their own
 * repositories and image builds, model grants, the seed's knobs and outputs), and cfn-lint finds
 * nothing. cdk-nag over their committed snapshots is in snapshot-nag.test.ts; their assertions are
 * judged in assertions.test.ts.
 */
import * as fs from 'fs';
import { DataTier } from '../../src/data-tier';
import { lintIntegTemplates, synthIntegApp, templateResources } from '../helpers/integ-app';
import { describeWithMoto } from '../helpers/moto';
import { deploymentSummary, deployToMoto } from '../helpers/moto-deploy';
import { testIfInstalled } from '../helpers/tools';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };

function ofType(resources: Resource[], type: string): Resource[] {
  return resources.filter((r) => r.Type === type);
}

/** Every IAM statement of the template's policies that grants `action`. */
function statementsGranting(resources: Resource[], action: string): any[] {
  return ofType(resources, 'AWS::IAM::Policy')
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().includes(action));
}

describe('integ.seed-000-orchestration', () => {
  let dir: string | undefined;
  const outdir = () => (dir ??= synthIntegApp('integ/integ.seed-000-orchestration.ts'));
  const resources = () => templateResources(outdir(), 'cdkda-seed-000') as Resource[];
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  test('three Fargate agents, each with its own scanned repository and an image built into it by CodeBuild', () => {
    const r = resources();
    const repositories = ofType(r, 'AWS::ECR::Repository');
    expect(repositories).toHaveLength(3);
    for (const repo of repositories) {
      expect(repo.Properties).toMatchObject({ ImageScanningConfiguration: { ScanOnPush: true }, ImageTagMutability: 'IMMUTABLE', EmptyOnDelete: true });
      expect(repo.Properties.LifecyclePolicy.LifecyclePolicyText).toContain('"countNumber":10');
    }
    expect(ofType(r, 'AWS::ECS::TaskDefinition').map((t) => t.Properties.RuntimePlatform.CpuArchitecture)).toEqual(['ARM64', 'ARM64', 'ARM64']);
    expect(ofType(r, 'Custom::AgentImageBuild')).toHaveLength(3);
    expect(ofType(r, 'AWS::CodeBuild::Project').map((p) => p.Properties.Environment.Type)).toEqual(['ARM_CONTAINER', 'ARM_CONTAINER', 'ARM_CONTAINER']);
    // The orchestrator may run each agent's task family, on the agents' cluster only.
    const runTask = statementsGranting(r, 'ecs:RunTask');
    expect(runTask).toHaveLength(3);
    for (const s of runTask) expect(s.Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': ['Agents8DC46436', 'Arn'] } } });
  });

  test('each agent may call exactly the reference model, through its global inference profile', () => {
    const grants = statementsGranting(resources(), 'bedrock:InvokeModel');
    const text = JSON.stringify(grants);
    expect(text).toContain('inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(text).toContain('foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(text).not.toMatch(/foundation-model\/\*|"Resource":"\*"/);
  });

  test('the seed\'s knobs and outputs', () => {
    const functions = ofType(resources(), 'AWS::Lambda::Function').filter((f) => /durable|API/i.test(f.Properties.Description ?? ''));
    expect(functions.map((f) => f.Properties.MemorySize).sort()).toEqual([1024, 256]);
    const template = JSON.parse(fs.readFileSync(`${outdir()}/cdkda-seed-000.template.json`, 'utf-8'));
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining([
      'SeedApiUrl', 'SeedArtifactBucketName', 'SeedWorkflowTableName', 'SeedControllerFunctionName', 'SeedApiFunctionName',
      'SeedControllerLogGroupName', 'SeedApiLogGroupName', 'ResearcherRepositoryUri', 'AnalystRepositoryUri', 'WriterRepositoryUri',
    ]));
  });


  describeWithMoto('deployed to moto_server', (moto) => {
    test('CREATE_COMPLETE for every resource moto implements; the rest is named', async () => {
      const deployment = await deployToMoto(moto(), outdir(), 'cdkda-seed-000', 240_000);
      expect({ status: deployment.status, failures: deployment.failures }).toEqual({ status: 'CREATE_COMPLETE', failures: [] });
      process.stdout.write(deploymentSummary('cdkda-seed-000', deployment));
      const created = new Set(deployment.resources.map((r) => r.ResourceType));
      for (const type of ['AWS::ECR::Repository', 'AWS::ECS::TaskDefinition', 'AWS::ECS::Cluster', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Lambda::Function']) expect({ type, skipped: deployment.skipped[type] }).toEqual({ type, skipped: undefined });
      for (const type of ['AWS::ECR::Repository', 'AWS::ECS::TaskDefinition', 'AWS::ECS::Cluster', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Lambda::Function']) expect(created).toContain(type);
    }, 300_000);
  });

  testIfInstalled('cfn-lint', 'its templates pass cfn-lint', () => {
    for (const result of lintIntegTemplates(outdir())) expect(result).toEqual({ file: result.file, findings: [] });
  }, 120_000);
});

describe('integ.seed-001-agent-modules', () => {
  let dir: string | undefined;
  const outdir = () => (dir ??= synthIntegApp('integ/integ.seed-001-agent-modules.ts'));
  const resources = () => templateResources(outdir(), 'cdkda-seed-001') as Resource[];
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  test('a Lambda container agent with the seed\'s Lambda module: URL with IAM auth, schedule, concurrency, tracing, VPC', () => {
    const r = resources();
    const agent = ofType(r, 'AWS::Lambda::Function').find((f) => f.Properties.PackageType === 'Image')!;
    expect(agent.Properties).toMatchObject({
      Architectures: ['arm64'], ReservedConcurrentExecutions: 5, TracingConfig: { Mode: 'Active' }, VpcConfig: expect.any(Object),
    });
    expect(ofType(r, 'AWS::Lambda::Url').map((u) => u.Properties.AuthType)).toEqual(['AWS_IAM']);
    expect(ofType(r, 'AWS::Lambda::Alias')
      .filter((a) => a.Properties.Name === 'live')
      .map((a) => a.Properties.ProvisionedConcurrencyConfig)).toEqual([{ ProvisionedConcurrentExecutions: 1 }]);
    const [schedule] = ofType(r, 'AWS::Scheduler::Schedule');
    expect(schedule.Properties.ScheduleExpression).toBe('rate(1 day)');
    expect(JSON.parse(schedule.Properties.Target.Input)).toEqual({ health_check: true });
    // The secret is read at start: its ARN is in the environment, never its value.
    expect(Object.keys(agent.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['SEARCH_API_KEY_SECRET_ARN', 'AGENT_SECRETS']));
    expect(Object.keys(agent.Properties.Environment.Variables)).not.toContain('SEARCH_API_KEY');
  });

  test('a Fargate agent on x86_64, both images in KMS-encrypted repositories of their own, built by CodeBuild', () => {
    const r = resources();
    expect(ofType(r, 'AWS::ECS::TaskDefinition').map((t) => t.Properties.RuntimePlatform.CpuArchitecture)).toEqual(['X86_64']);
    const repositories = ofType(r, 'AWS::ECR::Repository');
    expect(repositories).toHaveLength(2);
    for (const repo of repositories) expect(repo.Properties.EncryptionConfiguration).toMatchObject({ EncryptionType: 'KMS', KmsKey: expect.any(Object) });
    expect(ofType(r, 'AWS::CodeBuild::Project').map((p) => p.Properties.Environment.Type).sort()).toEqual(['ARM_CONTAINER', 'LINUX_CONTAINER']);
    expect(statementsGranting(r, 'ecs:RunTask')).toHaveLength(1);
    expect(statementsGranting(r, 'lambda:InvokeFunction').length).toBeGreaterThan(0);
    const template = JSON.parse(fs.readFileSync(`${outdir()}/cdkda-seed-001.template.json`, 'utf-8'));
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(['ResearcherImageUri', 'AnalystImageUri', 'ResearcherFunctionUrl']));
  });


  describeWithMoto('deployed to moto_server', (moto) => {
    test('CREATE_COMPLETE for every resource moto implements; the rest is named', async () => {
      const deployment = await deployToMoto(moto(), outdir(), 'cdkda-seed-001', 240_000);
      expect({ status: deployment.status, failures: deployment.failures }).toEqual({ status: 'CREATE_COMPLETE', failures: [] });
      process.stdout.write(deploymentSummary('cdkda-seed-001', deployment));
      const created = new Set(deployment.resources.map((r) => r.ResourceType));
      for (const type of ['AWS::ECR::Repository', 'AWS::KMS::Key', 'AWS::ECS::TaskDefinition', 'AWS::Lambda::Function']) expect({ type, skipped: deployment.skipped[type] }).toEqual({ type, skipped: undefined });
      for (const type of ['AWS::ECR::Repository', 'AWS::KMS::Key', 'AWS::ECS::TaskDefinition', 'AWS::Lambda::Function']) expect(created).toContain(type);
    }, 300_000);
  });

  testIfInstalled('cfn-lint', 'its templates pass cfn-lint', () => {
    for (const result of lintIntegTemplates(outdir())) expect(result).toEqual({ file: result.file, findings: [] });
  }, 120_000);
});

describe('integ.seed-002-agent-team', () => {
  let dir: string | undefined;
  const outdir = () => (dir ??= synthIntegApp('integ/integ.seed-002-agent-team.ts'));
  const template = () => JSON.parse(fs.readFileSync(`${outdir()}/cdkda-seed-002.template.json`, 'utf-8'));
  const resources = () => templateResources(outdir(), 'cdkda-seed-002.') as Resource[];
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  /** The logical id and first container of the task definition whose id starts with `prefix`. */
  const container = (prefix: string) => {
    const entries = Object.entries(template().Resources as Record<string, Resource>)
      .filter(([id, r]) => r.Type === 'AWS::ECS::TaskDefinition' && id.startsWith(prefix));
    expect(entries).toHaveLength(1);
    return entries[0][1].Properties.ContainerDefinitions[0];
  };
  /** The security group ingress rules on `port`, as `<group> <- <source>` (logical ids without their hash). */
  const ingress = (port: number) => ofType(resources(), 'AWS::EC2::SecurityGroupIngress')
    .filter((r) => r.Properties.FromPort === port)
    .map((r) => `${r.Properties.GroupId['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, '')} <- ${r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, '')}`);

  test('two services, each built by CodeBuild from integ/services into a scanned repository of its own, each with a container health check', () => {
    const r = resources();
    const repositories = ofType(r, 'AWS::ECR::Repository');
    expect(repositories).toHaveLength(2);
    for (const repo of repositories) {
      expect(repo.Properties).toMatchObject({ ImageScanningConfiguration: { ScanOnPush: true }, ImageTagMutability: 'IMMUTABLE', EmptyOnDelete: true });
    }
    expect(ofType(r, 'Custom::AgentImageBuild')).toHaveLength(2);
    expect(ofType(r, 'AWS::CodeBuild::Project').map((p) => p.Properties.Environment.Type)).toEqual(['ARM_CONTAINER', 'ARM_CONTAINER']);
    expect(ofType(r, 'AWS::ECS::TaskDefinition')).toHaveLength(2);
    for (const [prefix, repository, url] of [
      ['ApiTeamApiTaskDefinition', 'ApiTeamApiRepository', 'http://127.0.0.1:8000/team/health'],
      ['ApiEngineTaskDefinition', 'ApiEngineRepository', 'http://127.0.0.1:50051/health'],
    ]) {
      const c = container(prefix);
      expect(JSON.stringify(c.Image)).toContain(`{"Ref":"${repository}`);
      expect(c.HealthCheck).toEqual({ Command: ['CMD-SHELL', `wget -q -O /dev/null ${url} || exit 1`], Interval: 15, Retries: 3, StartPeriod: 30, Timeout: 5 });
    }
  });

  test('the engine: internal, in Cloud Map as engine.internal, on Fargate Spot with one task on demand, reached from the API service only', () => {
    const r = resources();
    const [engine, teamApi] = ['ApiEngineService', 'ApiTeamApiService'].map((prefix) => Object.entries(template().Resources as Record<string, Resource>)
      .find(([id, x]) => x.Type === 'AWS::ECS::Service' && id.startsWith(prefix))![1].Properties);
    expect(engine.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 },
      { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
    ]);
    expect(engine.LaunchType).toBeUndefined();
    expect(engine.DesiredCount).toBe(2); // one on demand (the base), one on Spot
    expect(engine.ServiceRegistries).toHaveLength(1);
    expect(teamApi).toMatchObject({ LaunchType: 'FARGATE', DesiredCount: 1 });
    expect(ofType(r, 'AWS::ECS::ClusterCapacityProviderAssociations').map((a) => a.Properties.CapacityProviders)).toEqual([['FARGATE', 'FARGATE_SPOT']]);
    expect(ofType(r, 'AWS::ServiceDiscovery::PrivateDnsNamespace').map((n) => n.Properties.Name)).toEqual(['internal']);
    expect(ofType(r, 'AWS::ServiceDiscovery::Service').map((s) => s.Properties.Name)).toEqual(['engine']);
    expect(ingress(50051)).toEqual(['ApiEngineSecurityGroup <- ApiTeamApiSecurityGroup']);
    expect(container('ApiTeamApiTaskDefinition').Environment).toContainEqual({ Name: 'ENGINE_URL', Value: 'http://engine.internal:50051/health' });
  });

  test('the API service, under /team with IAM, runs through the DATABASE_URL wrapper on the data tier\'s settings; only it reaches the stores', () => {
    const r = resources();
    expect(ofType(r, 'AWS::RDS::DBInstance').map((d) => d.Properties.DBInstanceClass)).toEqual(['db.t4g.micro']);
    expect(ofType(r, 'AWS::ElastiCache::ReplicationGroup').map((g) => g.Properties.TransitEncryptionMode)).toEqual(['required']);
    const c = container('ApiTeamApiTaskDefinition');
    expect(c.Command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(c.Command[2]).toContain('DATABASE_URL="postgresql://');
    expect(c.Command[2]).toContain('REDIS_URL=');
    expect(c.Command.slice(3)).toEqual(['data-tier-urls', 'node', 'server.js']);
    expect((c.Secrets as Array<{ Name: string }>).map((s) => s.Name).sort()).toEqual(['PGPASSWORD', 'PGUSER', 'REDIS_AUTH_TOKEN']);
    expect(JSON.stringify(c.Environment)).not.toMatch(/DATABASE_URL|REDIS_URL|PASSWORD|AUTH_TOKEN|resolve:secretsmanager/);
    expect(container('ApiEngineTaskDefinition').Secrets).toBeUndefined();
    expect(ingress(5432)).toEqual(['DataDatabaseSecurityGroup <- ApiTeamApiSecurityGroup']);
    expect(ingress(6379)).toEqual(['DataCacheSecurityGroup <- ApiTeamApiSecurityGroup']);
    expect(ofType(r, 'AWS::ApiGatewayV2::Route').map((x) => `${x.Properties.RouteKey} ${x.Properties.AuthorizationType}`).sort())
      .toEqual(['ANY /team AWS_IAM', 'ANY /team/{proxy+} AWS_IAM', 'GET /health NONE']);
  });

  test('a throwaway stack: every resource that holds data is deleted with it, nothing is retained or snapshotted', () => {
    const all = Object.entries(template().Resources as Record<string, Resource & { DeletionPolicy?: string }>);
    expect(all.filter(([, x]) => x.DeletionPolicy !== undefined && x.DeletionPolicy !== 'Delete').map(([id]) => id)).toEqual([]);
    const stateful = ['AWS::RDS::DBInstance', 'AWS::ElastiCache::ReplicationGroup', 'AWS::SecretsManager::Secret', 'AWS::ECR::Repository', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup'];
    const data = all.filter(([, x]) => stateful.includes(x.Type));
    expect(new Set(data.map(([, x]) => x.Type))).toEqual(new Set(stateful));
    for (const [id, x] of data) expect({ id, policy: x.DeletionPolicy }).toEqual({ id, policy: 'Delete' });
    // The load balancer's log bucket is emptied before it is deleted.
    expect(ofType(all.map(([, x]) => x), 'Custom::S3AutoDeleteObjects')).toHaveLength(1);
    expect(Object.keys(template().Outputs)).toEqual(expect.arrayContaining([
      'ApiUrl', 'DataDatabaseEndpoint', 'DataCacheEndpoint', 'TeamApiRepositoryUri', 'EngineRepositoryUri', 'EngineEndpoint',
    ]));
  });

  describeWithMoto('deployed to moto_server', (moto) => {
    test('CREATE_COMPLETE for every resource moto implements; the rest is named', async () => {
      const deployment = await deployToMoto(moto(), outdir(), 'cdkda-seed-002', 240_000);
      expect({ status: deployment.status, failures: deployment.failures }).toEqual({ status: 'CREATE_COMPLETE', failures: [] });
      process.stdout.write(deploymentSummary('cdkda-seed-002', deployment));
      const created = new Set(deployment.resources.map((r) => r.ResourceType));
      // moto's CloudFormation has no Secrets Manager, ElastiCache, Cloud Map, API Gateway v2, CodeBuild or custom
      // resources: the template assertions above and cfn-lint cover those.
      const core = ['AWS::EC2::VPC', 'AWS::ECR::Repository', 'AWS::ECS::Cluster', 'AWS::ECS::TaskDefinition', 'AWS::ECS::Service', 'AWS::RDS::DBInstance',
        'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::Lambda::Function'];
      for (const type of core) expect({ type, skipped: deployment.skipped[type] }).toEqual({ type, skipped: undefined });
      for (const type of core) expect(created).toContain(type);
    }, 300_000);
  });

  testIfInstalled('cfn-lint', 'its templates pass cfn-lint', () => {
    const linted = lintIntegTemplates(outdir());
    expect(linted.map((r) => r.file)).toEqual(['cdkda-seed-002-assertions.template.json', 'cdkda-seed-002.template.json']);
    for (const result of linted) expect(result).toEqual({ file: result.file, findings: [] });
  }, 120_000);
});

describe('integ.seed-003-sales-agent', () => {
  let dir: string | undefined;
  const outdir = () => (dir ??= synthIntegApp('integ/integ.seed-003-sales-agent.ts'));
  type Full = Resource & { DeletionPolicy?: string; Metadata?: Record<string, any> };
  const template = (): { Resources: Record<string, Full>; Outputs: Record<string, unknown> } =>
    JSON.parse(fs.readFileSync(`${outdir()}/cdkda-seed-003.template.json`, 'utf-8'));
  const entries = (type: string) => Object.entries(template().Resources).filter(([, r]) => r.Type === type);
  const container = () => {
    const [[, task]] = entries('AWS::ECS::TaskDefinition');
    return task.Properties.ContainerDefinitions[0];
  };
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  test('the sales app built by CodeBuild into its own repository, which is emptied and deleted with the stack', () => {
    const [[repoId, repo]] = entries('AWS::ECR::Repository');
    expect(entries('AWS::ECR::Repository')).toHaveLength(1);
    expect(repo.Properties).toMatchObject({ ImageScanningConfiguration: { ScanOnPush: true }, ImageTagMutability: 'IMMUTABLE', EmptyOnDelete: true });
    expect(repo.DeletionPolicy).toBe('Delete');
    expect(entries('Custom::AgentImageBuild')).toHaveLength(1);
    expect(entries('AWS::CodeBuild::Project').map(([, p]) => p.Properties.Environment.Type)).toEqual(['ARM_CONTAINER']);
    expect(JSON.stringify(container().Image)).toContain(JSON.stringify({ Ref: repoId }));
  });

  test('its command is wrapped to build DATABASE_URL and REDIS_URL at start; neither URL is in the template', () => {
    const c = container();
    expect(c.Command).toEqual(DataTier.connectionUrlCommand(['python3', '/app/app.py']));
    expect(c.Command[2]).toMatch(/DATABASE_URL="postgresql:\/\//);
    expect(c.Command[2]).toMatch(/REDIS_URL="\$rs:\/\//);
    const names = [...c.Environment, ...c.Secrets].map((e: { Name: string }) => e.Name);
    expect(names).toEqual(expect.arrayContaining(['PGHOST', 'PGDATABASE', 'PGSSLMODE', 'PGUSER', 'PGPASSWORD', 'REDIS_HOST', 'REDIS_AUTH_TOKEN']));
    expect(names).not.toEqual(expect.arrayContaining(['DATABASE_URL']));
    expect(names).not.toEqual(expect.arrayContaining(['REDIS_URL']));
    expect(JSON.stringify(template().Resources)).not.toMatch(/postgresql:\/\/[^"$]|rediss:\/\/[^"$]/);
  });

  test('a container health check, which is the task\'s health in Cloud Map (SRV records): no load balancer, target group or WAF', () => {
    expect(container().HealthCheck).toEqual({ Command: ['CMD', 'python3', '/app/healthcheck.py'], Interval: 15, Timeout: 5, Retries: 3, StartPeriod: 30 });
    const [[, service]] = entries('AWS::ECS::Service');
    expect(service.Properties.HealthCheckGracePeriodSeconds).toBeUndefined();
    expect(service.Properties.ServiceRegistries).toEqual([expect.objectContaining({ ContainerName: 'app', ContainerPort: 8000 })]);
    expect(entries('AWS::ServiceDiscovery::Service').map(([, d]) => [d.Properties.DnsConfig.DnsRecords, d.Properties.HealthCheckCustomConfig]))
      .toEqual([[[{ Type: 'SRV', TTL: 10 }], { FailureThreshold: 1 }]]);
    for (const type of ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::WAFv2::WebACL']) {
      expect({ type, count: entries(type).length }).toEqual({ type, count: 0 });
    }
    const [[, integration]] = entries('AWS::ApiGatewayV2::Integration').filter(([, i]) => i.Properties.ConnectionType === 'VPC_LINK');
    expect(integration.Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ApiSalesServiceCloudmapService/), 'Arn'] });
  });

  test('cheap to leave running: one t4g.nano NAT instance (IMDSv2, admitting the VPC only) and no NAT gateway', () => {
    expect(entries('AWS::EC2::NatGateway')).toEqual([]);
    const instances = entries('AWS::EC2::Instance');
    expect(instances.map(([, i]) => [i.Properties.InstanceType, i.Properties.MetadataOptions.HttpTokens])).toEqual([['t4g.nano', 'required']]);
    const natGroups = entries('AWS::EC2::SecurityGroup').filter(([, g]) => g.Properties.GroupDescription === 'Security Group for NAT instances');
    expect(natGroups.map(([, g]) => g.Properties.SecurityGroupIngress.map((r: { CidrIp: string }) => r.CidrIp))).toEqual([['10.0.0.0/16']]);
  });

  test('anonymous: POST /sales/chat and GET /sales/health (and the API\'s /health), each acknowledged; the rest of /sales is IAM', () => {
    const routes = Object.fromEntries(entries('AWS::ApiGatewayV2::Route').map(([, r]) => [r.Properties.RouteKey, r.Properties.AuthorizationType]));
    expect(routes).toEqual({
      'GET /health': 'NONE',
      'ANY /sales': 'AWS_IAM',
      'ANY /sales/{proxy+}': 'AWS_IAM',
      'POST /sales/chat': 'NONE',
      'GET /sales/health': 'NONE',
    });
    for (const [, route] of entries('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.AuthorizationType === 'NONE')) {
      expect(route.Metadata?.cdk_nag?.rules_to_suppress).toEqual([{ id: 'AwsSolutions-APIG4', reason: expect.stringMatching(/anonymous/) }]);
    }
  });

  test('the application secrets are created holding a placeholder, deleted with the stack, and handed whole to the container', () => {
    const secrets = entries('AWS::SecretsManager::Secret').filter(([, s]) => s.Properties.SecretString !== undefined);
    expect(secrets.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['OpenAiApiKey', 'TwilioAuthToken']);
    const injected = Object.fromEntries(container().Secrets.map((s: { Name: string; ValueFrom: unknown }) => [s.Name, s.ValueFrom]));
    for (const [id, secret] of secrets) {
      // A placeholder, not a value: nothing generated, nothing but the placeholder key.
      expect(Object.keys(JSON.parse(secret.Properties.SecretString))).toEqual(['placeholder']);
      expect(secret.Properties.GenerateSecretString).toBeUndefined();
      expect(secret.DeletionPolicy).toBe('Delete');
      expect(secret.Metadata?.cdk_nag?.rules_to_suppress).toEqual([{ id: 'AwsSolutions-SMG4', reason: expect.stringMatching(/third-party credential/) }]);
      expect(Object.values(injected)).toContainEqual({ Ref: id });
    }
    expect(injected.OPENAI_API_KEY).toEqual({ Ref: secrets.find(([id]) => id.startsWith('OpenAiApiKey'))![0] });
    expect(injected.TWILIO_AUTH_TOKEN).toEqual({ Ref: secrets.find(([id]) => id.startsWith('TwilioAuthToken'))![0] });
  });

  test('PostgreSQL 15 and Redis 7 of the ephemeral profile, TLS only, admitted from the sales service only', () => {
    const [[, db]] = entries('AWS::RDS::DBInstance');
    expect(db.Properties).toMatchObject({ EngineVersion: '15.17', DBInstanceClass: 'db.t4g.micro', MultiAZ: false, BackupRetentionPeriod: 0, DeletionProtection: false });
    expect(db.DeletionPolicy).toBe('Delete');
    const [[, params]] = entries('AWS::RDS::DBParameterGroup');
    expect(params.Properties).toMatchObject({ Family: 'postgres15', Parameters: { 'rds.force_ssl': '1' } });
    const [[, cache]] = entries('AWS::ElastiCache::ReplicationGroup');
    expect(cache.Properties).toMatchObject({ EngineVersion: expect.stringMatching(/^7\./), NumCacheClusters: 1, TransitEncryptionEnabled: true, TransitEncryptionMode: 'required' });
    expect(cache.DeletionPolicy).toBe('Delete');
    const ingress = entries('AWS::EC2::SecurityGroupIngress').map(([, i]) => i.Properties).filter((p) => [5432, 6379].includes(p.FromPort));
    expect(ingress.map((p) => p.FromPort).sort()).toEqual([5432, 6379]);
    for (const p of ingress) expect(p.SourceSecurityGroupId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ApiSalesSecurityGroup/), 'GroupId'] });
  });

  test('apply-test-destroy: nothing stays behind (buckets emptied, log groups, repository, secrets, database and cache deleted)', () => {
    const resources = Object.entries(template().Resources);
    expect(resources.filter(([, r]) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete').map(([id, r]) => `${id} ${r.DeletionPolicy}`)).toEqual([]);
    // (No bucket: the only one was the load balancer's access log bucket.)
    for (const type of ['AWS::Logs::LogGroup', 'AWS::ECR::Repository', 'AWS::SecretsManager::Secret', 'AWS::RDS::DBInstance']) {
      const found = resources.filter(([, r]) => r.Type === type);
      expect({ type, count: found.length > 0 }).toEqual({ type, count: true });
      for (const [id, r] of found) expect({ id, policy: r.DeletionPolicy }).toEqual({ id, policy: 'Delete' });
    }
    expect(entries('Custom::S3AutoDeleteObjects')).toHaveLength(entries('AWS::S3::Bucket').length);
  });

  test('the seed\'s outputs: the URL, the repository, the endpoints, the secrets to fill, the cluster and service', () => {
    expect(Object.keys(template().Outputs)).toEqual(expect.arrayContaining([
      'ApiUrl', 'SalesRepositoryUri', 'DataDatabaseEndpoint', 'DataCacheEndpoint', 'OpenAiApiKeySecretArn', 'TwilioAuthTokenSecretArn', 'ClusterName', 'ServiceName',
    ]));
  });

  describeWithMoto('deployed to moto_server', (moto) => {
    test('CREATE_COMPLETE for every resource moto implements; the rest is named', async () => {
      const deployment = await deployToMoto(moto(), outdir(), 'cdkda-seed-003', 240_000);
      expect({ status: deployment.status, failures: deployment.failures }).toEqual({ status: 'CREATE_COMPLETE', failures: [] });
      process.stdout.write(deploymentSummary('cdkda-seed-003', deployment));
      const created = new Set(deployment.resources.map((r) => r.ResourceType));
      // moto's CloudFormation has no Secrets Manager, ElastiCache, API Gateway v2, WAFv2 or CodeBuild:
      // those are covered by the template assertions above, cfn-lint and the snapshot.
      const core = ['AWS::EC2::VPC', 'AWS::ECR::Repository', 'AWS::ECS::Cluster', 'AWS::ECS::TaskDefinition', 'AWS::ECS::Service',
        'AWS::RDS::DBInstance', 'AWS::RDS::DBParameterGroup', 'AWS::Logs::LogGroup'];
      for (const type of core) expect({ type, skipped: deployment.skipped[type] }).toEqual({ type, skipped: undefined });
      for (const type of core) expect(created).toContain(type);
    }, 300_000);
  });

  testIfInstalled('cfn-lint', 'its templates pass cfn-lint', () => {
    const linted = lintIntegTemplates(outdir());
    expect(linted.map((r) => r.file)).toEqual(['cdkda-seed-003-assertions.template.json', 'cdkda-seed-003.template.json']);
    for (const result of linted) expect(result).toEqual({ file: result.file, findings: [] });
  }, 120_000);
});

describe('integ.seed-004-production', () => {
  let dir: string | undefined;
  const outdir = () => (dir ??= synthIntegApp('integ/integ.seed-004-production.ts'));
  type Template = { Resources: Record<string, Resource & { DeletionPolicy?: string }>; Outputs: Record<string, unknown> };
  let parsed: Template | undefined;
  const template = (): Template => (parsed ??= JSON.parse(fs.readFileSync(`${outdir()}/cdkda-seed-004.template.json`, 'utf-8')) as Template);
  const entries = (type: string) => Object.entries(template().Resources).filter(([, r]) => r.Type === type);
  const only = (type: string) => {
    const found = entries(type);
    expect({ type, count: found.length }).toEqual({ type, count: 1 });
    return found[0];
  };
  afterAll(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  test('one customer managed key, with rotation, for the data, the logs, the events, the queues and the alarm topic', () => {
    const [keyId, key] = only('AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const byKey = (r: Resource) => JSON.stringify(r.Properties).includes(`"${keyId}"`);
    for (const type of ['AWS::RDS::DBCluster', 'AWS::ElastiCache::ReplicationGroup', 'AWS::DynamoDB::Table', 'AWS::Events::EventBus', 'AWS::SNS::Topic']) {
      for (const [id, r] of entries(type)) expect({ id, byKey: byKey(r) }).toEqual({ id, byKey: true });
    }
    for (const [id, r] of entries('AWS::SQS::Queue')) expect({ id, byKey: byKey(r) }).toEqual({ id, byKey: true });
    // Every log group the app and the constructs create (not those of CDK's own providers).
    const logGroups = entries('AWS::Logs::LogGroup').filter(([id]) => !/ImageBuildProvider|AWS679f53fac002430cb0da5b7982bd2287/.test(id));
    expect(logGroups.length).toBeGreaterThan(5);
    for (const [id, r] of logGroups) expect({ id, kms: r.Properties.KmsKeyId }).toEqual({ id, kms: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    const services = key.Properties.KeyPolicy.Statement.map((s: any) => s.Principal?.Service).filter(Boolean);
    expect(services).toEqual(expect.arrayContaining(['cloudwatch.amazonaws.com', 'logs.us-east-1.amazonaws.com']));
  });

  test('the network: three AZs, a NAT gateway in each, flow logs', () => {
    expect(entries('AWS::EC2::NatGateway')).toHaveLength(3);
    const azs = new Set(entries('AWS::EC2::Subnet').map(([, s]) => JSON.stringify(s.Properties.AvailabilityZone)));
    expect(azs.size).toBe(3);
    expect(entries('AWS::EC2::FlowLog').length).toBeGreaterThan(0);
  });

  test('Aurora PostgreSQL Multi-AZ (a writer and a reader) and Redis with a replica and automatic failover', () => {
    const [, cluster] = only('AWS::RDS::DBCluster');
    expect(cluster.Properties).toMatchObject({ Engine: 'aurora-postgresql', StorageEncrypted: true, BackupRetentionPeriod: 7 });
    expect(entries('AWS::RDS::DBInstance')).toHaveLength(2);
    const [, cache] = only('AWS::ElastiCache::ReplicationGroup');
    expect(cache.Properties).toMatchObject({
      NumCacheClusters: 2, AutomaticFailoverEnabled: true, MultiAZEnabled: true, TransitEncryptionEnabled: true,
    });
  });

  test('an SNS topic with an email subscription that every alarm of the stack acts on', () => {
    const [topicId, topic] = only('AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const [, subscription] = only('AWS::SNS::Subscription');
    expect(subscription.Properties).toMatchObject({ Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topicId } });
    const alarms = entries('AWS::CloudWatch::Alarm');
    // The constructs' (services, load balancer, API, database, cache, workflows, agents, canaries) and the app's own.
    expect(alarms.length).toBeGreaterThan(20);
    for (const [id, alarm] of alarms) expect({ id, actions: alarm.Properties.AlarmActions }).toEqual({ id, actions: [{ Ref: topicId }] });
    // A metric with a label renders as a one-metric expression (Metrics); a math expression names its metrics there too.
    const metrics = alarms.flatMap(([, a]) => a.Properties.MetricName
      ?? a.Properties.Metrics.map((m: any) => m.MetricStat?.Metric.MetricName).filter(Boolean));
    expect(metrics).toEqual(expect.arrayContaining([
      'WorkflowsFailed', 'AgentTasksFailed', 'CPUUtilization', 'MemoryUtilization', 'HTTPCode_ELB_5XX_Count', 'UnHealthyHostCount', 'DatabaseConnections',
      'FreeLocalStorage', 'AuroraReplicaLagMaximum', 'EngineCPUUtilization', 'DatabaseMemoryUsagePercentage', 'Evictions', 'SuccessPercent',
      'ApproximateAgeOfOldestMessage',
    ]));
  });

  test('a dashboard built from the stack\'s constructs, and canaries for the health route and a signed status call', () => {
    const [, dashboard] = only('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const title of ['Workflows: research-report', 'API: cdkda-seed-004/Api', 'Service CoreApi', 'Service Engine', 'Data: cdkda-seed-004/Data', 'Synthetic checks']) {
      expect(body).toContain(title);
    }
    const canaries = entries('AWS::Synthetics::Canary').map(([, c]) => c.Properties.RunConfig.EnvironmentVariables);
    expect(canaries).toEqual(expect.arrayContaining([
      expect.objectContaining({ API_CANARY_PATH: '/health', API_CANARY_SIGNED: 'false' }),
      expect.objectContaining({ API_CANARY_PATH: '/workflows?limit=1', API_CANARY_SIGNED: 'true' }),
    ]));
  });

  test('failed workflows of this orchestrator routed to an encrypted queue with a dead-letter queue', () => {
    const [, rule] = only('AWS::Events::Rule');
    expect(rule.Properties.EventPattern).toEqual({ 'source': ['cdk-durable-agents'], 'detail-type': ['Workflow Failed'], 'detail': { workflow: ['research-report'] } });
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FailedWorkflows[0-9A-F]{8}$/), 'Arn'] });
    expect(target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FailedWorkflowsDlq/), 'Arn'] });
    const queue = entries('AWS::SQS::Queue').find(([id]) => /^FailedWorkflows[0-9A-F]{8}$/.test(id))![1];
    expect(queue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FailedWorkflowsDlq/), 'Arn'] });
  });

  test('a daily schedule that starts a workflow through the API function, with its own role and dead-letter queue', () => {
    const [, schedule] = only('AWS::Scheduler::Schedule');
    expect(schedule.Properties.ScheduleExpression).toBe('cron(0 6 * * ? *)');
    expect(JSON.parse(schedule.Properties.Target.Input)).toEqual({
      scheduled_start: { schedule: 'DailyReview', scheduled_time: '<aws.scheduler.scheduled-time>', input: { topic: 'Daily review of blocked work items', parameters: { depth: 'brief' } } },
    });
    expect(schedule.Properties.Target.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ResearchApiFunction/), 'Arn'] });
    expect(schedule.Properties.Target.DeadLetterConfig).toBeDefined();
  });

  test('the assertions may decrypt what they read (the queue and the artifact bucket are under the platform key)', () => {
    const assertions = JSON.parse(fs.readFileSync(`${outdir()}/cdkda-seed-004-assertions.template.json`, 'utf-8'));
    const statements = Object.values(assertions.Resources as Record<string, Resource>)
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::Role')
      .flatMap((r) => [
        ...(r.Properties.PolicyDocument?.Statement ?? []),
        ...(r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement),
      ]);
    const decrypt = statements.filter((st: any) => [st.Action].flat().includes('kms:Decrypt'));
    expect(decrypt.length).toBeGreaterThan(0);
    expect(JSON.stringify(decrypt)).toContain('PlatformKey');
  });

  test('a test stack: nothing is retained or snapshotted', () => {
    const kept = Object.entries(template().Resources).filter(([, r]) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete');
    expect(kept.map(([id, r]) => `${id} ${r.DeletionPolicy}`)).toEqual([]);
  });

  testIfInstalled('cfn-lint', 'its templates pass cfn-lint', () => {
    const linted = lintIntegTemplates(outdir());
    expect(linted.map((r) => r.file)).toEqual(['cdkda-seed-004-assertions.template.json', 'cdkda-seed-004.template.json']);
    for (const result of linted) expect(result).toEqual({ file: result.file, findings: [] });
  }, 120_000);
});
