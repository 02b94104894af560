/**
 * The integration apps that rebuild seeds 000 and 001 (integ/integ.seed-*.ts), synthesized as
 * integ-runner does: what each seed asks for is in the template (container agents with their own
 * repositories and image builds, model grants, the seed's knobs and outputs), and cfn-lint finds
 * nothing. cdk-nag over their committed snapshots is in snapshot-nag.test.ts; their assertions are
 * judged in assertions.test.ts.
 */
import * as fs from 'fs';
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
