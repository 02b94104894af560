import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AgentArchitecture, AgentCompute, AgentImage, AgentImageBuildOptions, ContainerAgent, ContainerAgentProps } from '../../src/container-agent';
import { BUILD_TIMEOUT, BUILD_WAIT_TIMEOUT, shellQuote } from '../../src/container-agent/image-build';
import { cfnLint } from '../helpers/cfn-lint';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { testIfInstalled } from '../helpers/tools';

/** An agent folder: a Dockerfile, its .dockerignore, source, and a node_modules the ignore file leaves out. */
function agentDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-build-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/node:22-alpine AS base\nCOPY main.js .\nUSER node\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), '# not in the image\nnode_modules\n');
  fs.writeFileSync(path.join(dir, 'main.js'), 'console.log("agent");\n');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'node_modules', 'dep.js'), '1');
  return dir;
}

const dir = agentDir();

function agentStack(props: Partial<ContainerAgentProps> = {}, options: AgentImageBuildOptions = {}, directory = dir) {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const agent = new ContainerAgent(stack, 'Researcher', {
    agentName: 'researcher', image: AgentImage.fromDirectoryIntoNewRepository(directory, options), ...props,
  });
  return { app, stack, agent, template: () => Template.fromStack(stack) };
}

function only<T = any>(t: Template, type: string): [string, T] {
  const found = Object.entries(t.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as [string, T];
}

/** The tag the build pushes (the custom resource's ImageTag). */
function tagOf(t: Template): string {
  return only(t, 'Custom::AgentImageBuild')[1].Properties.ImageTag;
}

function buildSpecOf(t: Template): { version: string; phases: { build: { commands: string[] } } } {
  return JSON.parse(only(t, 'AWS::CodeBuild::Project')[1].Properties.Source.BuildSpec);
}

describe('AgentImage.fromDirectoryIntoNewRepository', () => {
  const { app, stack, agent, template } = agentStack();
  const t = template();

  test('the agent\'s own repository, as fromNewRepository makes it: scan on push, immutable tags, lifecycle rules', () => {
    expect(agent.repository).toBeDefined();
    t.resourceCountIs('AWS::ECR::Repository', 1);
    t.hasResourceProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":20') },
    });
  });

  test('the directory is a zip file asset and there is no Docker image asset: no Docker at synth or on the deploying machine', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, 'Test.assets.json'), 'utf-8'));
    expect(manifest.dockerImages ?? {}).toEqual({});
    const sources = Object.values<any>(manifest.files).map((f) => f.source);
    expect(sources).toContainEqual({ path: `asset.${tagOf(t)}`, packaging: 'zip' });
  });

  test('an ARM64 CodeBuild project in privileged mode, logging to its own log group with a retention, with no source, artifacts or cache', () => {
    const [, project] = only(t, 'AWS::CodeBuild::Project');
    expect(project.Properties).toMatchObject({
      Environment: {
        Type: 'ARM_CONTAINER', Image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0', ComputeType: 'BUILD_GENERAL1_SMALL', PrivilegedMode: true,
      },
      Source: { Type: 'NO_SOURCE' },
      Artifacts: { Type: 'NO_ARTIFACTS' },
      Cache: { Type: 'NO_CACHE' },
      TimeoutInMinutes: BUILD_TIMEOUT.toMinutes(),
      LogsConfig: { CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: expect.stringMatching(/^ResearcherImageBuildLogs/) } } },
    });
    expect(project.Properties.LogsConfig.S3Logs).toBeUndefined();
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(buildSpecOf(t).phases.build.commands.join('\n')).toContain('docker build --platform linux/arm64 --file \'/tmp/context/Dockerfile\' --tag "$REPOSITORY_URI:$IMAGE_TAG" /tmp/context');
  });

  test('the build pushes <repository>:<hash of the directory>, which the task definition runs', () => {
    const tag = tagOf(t);
    expect(tag).toMatch(/^[0-9a-f]{64}$/);
    const env = only(t, 'AWS::CodeBuild::Project')[1].Properties.Environment.EnvironmentVariables;
    expect(env).toContainEqual({ Name: 'IMAGE_TAG', Type: 'PLAINTEXT', Value: tag });
    expect(JSON.stringify(env.find((e: any) => e.Name === 'SOURCE_URI').Value)).toContain(`/${tag}.zip`);
    const [, def] = only(t, 'AWS::ECS::TaskDefinition');
    expect(JSON.stringify(def.Properties.ContainerDefinitions[0].Image)).toContain(`:${tag}`);
    expect(JSON.stringify(only(t, 'AWS::CodeBuild::Project')[1].Properties.Environment)).toContain(stack.resolve(agent.repository!.repositoryName).Ref);
  });

  test('the task definition is created after the build (it depends on the custom resource)', () => {
    const [buildId] = only(t, 'Custom::AgentImageBuild');
    const [, def] = only(t, 'AWS::ECS::TaskDefinition');
    expect(def.DependsOn).toContain(buildId);
  });

  test('the build role may read that one object, push to that one repository, write its own logs, and nothing else', () => {
    const [roleId] = Object.entries(t.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('ResearcherImageBuildRole'))!;
    const policies = Object.values<any>(t.findResources('AWS::IAM::Policy')).filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    expect(policies).toHaveLength(1);
    const repo = stack.resolve(agent.repository!.repositoryArn);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ResearcherImageBuildLogs/), 'Arn'] } },
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { 'Fn::Sub': expect.stringContaining('assets') }, `/${tagOf(t)}.zip`]] },
      },
      {
        Effect: 'Allow',
        Action: ['ecr:DescribeImages', 'ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'],
        Resource: repo,
      },
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    ]);
    expect(t.findResources('AWS::IAM::Role')[roleId].Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the custom resource\'s handlers may start and read this project\'s builds only', () => {
    const [projectId] = only(t, 'AWS::CodeBuild::Project');
    const statementsOf = (prefix: string) => Object.entries<any>(t.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith(prefix)).flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statementsOf('CdkDurableAgentsImageBuildProviderOnEventRole')).toContainEqual({ Effect: 'Allow', Action: 'codebuild:StartBuild', Resource: { 'Fn::GetAtt': [projectId, 'Arn'] } });
    expect(statementsOf('CdkDurableAgentsImageBuildProviderIsCompleteRole')).toContainEqual({ Effect: 'Allow', Action: 'codebuild:BatchGetBuilds', Resource: { 'Fn::GetAtt': [projectId, 'Arn'] } });
    const codebuildActions = [...statementsOf('CdkDurableAgentsImageBuildProvider')].filter((s) => JSON.stringify(s.Action).includes('codebuild:'));
    expect(codebuildActions).toHaveLength(2);
  });

  test('the custom resource waits for the build (isComplete) longer than the build may run, and fails with the build\'s own reason first', () => {
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { DefinitionString: Match.anyValue() });
    const machine = only(t, 'AWS::StepFunctions::StateMachine')[1];
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    const attempts = Number(/\\"MaxAttempts\\":(\d+)/.exec(definition)![1]);
    const interval = Number(/\\"IntervalSeconds\\":(\d+)/.exec(definition)![1]);
    expect(attempts * interval).toBeGreaterThanOrEqual(BUILD_WAIT_TIMEOUT.toSeconds() - interval);
    expect(BUILD_WAIT_TIMEOUT.toMinutes()).toBeGreaterThan(BUILD_TIMEOUT.toMinutes() + 10);
    t.hasResourceProperties('Custom::AgentImageBuild', {
      ProjectName: { Ref: only(t, 'AWS::CodeBuild::Project')[0] },
      ImageUri: Match.anyValue(),
    });
  });

  test('the buildspec skips a tag that is already there (a rollback to an earlier image must not fail on the immutable tag)', () => {
    const script = buildSpecOf(t).phases.build.commands.join('\n');
    expect(script).toMatch(/^if aws ecr describe-images --repository-name "\$REPOSITORY_NAME" --image-ids "imageTag=\$IMAGE_TAG" > \/dev\/null 2>&1; then/);
    expect(script.indexOf('docker push')).toBeGreaterThan(script.indexOf('else'));
  });
});

describe('the image build script', () => {
  test('is valid shell, and quotes build arguments, target and file so that they reach docker unchanged', () => {
    const { template } = agentStack({}, { buildArgs: { AGENT: 'researcher', QUOTE: 'it\'s "x" $HOME `id`' }, target: 'base' });
    const script = buildSpecOf(template()).phases.build.commands[0];
    expect(spawnSync('bash', ['-n', '-c', script]).status).toBe(0);
    // Run the script with every command it calls replaced by one that prints its arguments.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-bin-'));
    fs.writeFileSync(path.join(bin, 'aws'), '#!/bin/bash\n[ "$2" = describe-images ] && exit 1\nexit 0\n', { mode: 0o755 });
    for (const cmd of ['unzip', 'mkdir']) fs.writeFileSync(path.join(bin, cmd), '#!/bin/bash\nexit 0\n', { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'docker'), '#!/bin/bash\nfor a in "$@"; do printf "[%s]" "$a"; done; echo\n', { mode: 0o755 });
    const run = spawnSync('bash', ['-c', script], {
      env: { PATH: `${bin}:/usr/bin:/bin`, REPOSITORY_URI: '1.dkr.ecr.eu-west-1.amazonaws.com/repo', REPOSITORY_NAME: 'repo', IMAGE_TAG: 't1', SOURCE_URI: 's3://b/k.zip', HOME: '/home/x' },
      encoding: 'utf-8',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('[build][--platform][linux/arm64][--file][/tmp/context/Dockerfile][--target][base]' +
      '[--build-arg][AGENT=researcher][--build-arg][QUOTE=it\'s "x" $HOME `id`][--tag][1.dkr.ecr.eu-west-1.amazonaws.com/repo:t1][/tmp/context]');
    expect(run.stdout).toContain('[push][1.dkr.ecr.eu-west-1.amazonaws.com/repo:t1]');
    expect(run.stdout).toContain('[login][--username][AWS][--password-stdin][1.dkr.ecr.eu-west-1.amazonaws.com]');
    // The tag is there already: nothing is downloaded, built or pushed.
    fs.writeFileSync(path.join(bin, 'aws'), '#!/bin/bash\necho "aws $*"\nexit 0\n', { mode: 0o755 });
    const env = { PATH: `${bin}:/usr/bin:/bin`, REPOSITORY_URI: 'r/repo', REPOSITORY_NAME: 'repo', IMAGE_TAG: 't1' };
    const again = spawnSync('bash', ['-c', script], { env, encoding: 'utf-8' });
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('r/repo:t1 is there already (tags are immutable): nothing to build\n');
  });

  test('shellQuote makes one word of anything', () => {
    expect(shellQuote('a b')).toBe('\'a b\'');
    expect(shellQuote('it\'s')).toBe('\'it\'\\\'\'s\'');
  });
});

describe('architecture, tags and options', () => {
  test('X86_64 builds on an x86 CodeBuild image for linux/amd64', () => {
    const { template } = agentStack({ architecture: AgentArchitecture.X86_64 });
    const t = template();
    expect(only(t, 'AWS::CodeBuild::Project')[1].Properties.Environment).toMatchObject({
      Type: 'LINUX_CONTAINER', Image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0', PrivilegedMode: true,
    });
    expect(buildSpecOf(t).phases.build.commands[0]).toContain('--platform linux/amd64');
  });

  test('a Lambda agent: an ARM64 function from the repository at the tag, created after the build', () => {
    const { template, stack, agent } = agentStack({ compute: AgentCompute.lambdaFunction() });
    const t = template();
    const [buildId] = only(t, 'Custom::AgentImageBuild');
    const [, fn] = Object.entries<any>(t.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('ResearcherFunction'))!;
    expect(fn.Properties.Architectures).toEqual(['arm64']);
    expect(fn.DependsOn).toContain(buildId);
    expect(JSON.stringify(fn.Properties.Code.ImageUri)).toContain(`:${tagOf(t)}`);
    expect(JSON.stringify(fn.Properties.Code.ImageUri)).toContain(JSON.stringify(stack.resolve(agent.repository!.repositoryName)));
    expect(only(t, 'AWS::CodeBuild::Project')[1].Properties.Environment.Type).toBe('ARM_CONTAINER');
  });

  test('the tag changes with the directory\'s content, the build options and the architecture, not with what .dockerignore leaves out', () => {
    const base = tagOf(agentStack().template());
    fs.writeFileSync(path.join(dir, 'node_modules', 'dep.js'), '2');
    expect(tagOf(agentStack().template())).toBe(base);
    expect(tagOf(agentStack({}, { buildArgs: { A: '1' } }).template())).not.toBe(base);
    expect(tagOf(agentStack({}, { target: 'base' }).template())).not.toBe(base);
    expect(tagOf(agentStack({ architecture: AgentArchitecture.X86_64 }).template())).not.toBe(base);
    const other = agentDir();
    expect(tagOf(agentStack({}, {}, other).template())).toBe(base);
    fs.writeFileSync(path.join(other, 'main.js'), 'console.log("changed");\n');
    expect(tagOf(agentStack({}, {}, other).template())).not.toBe(base);
  });

  test('a Dockerfile elsewhere in the directory', () => {
    const d = agentDir();
    fs.mkdirSync(path.join(d, 'agents'));
    fs.renameSync(path.join(d, 'Dockerfile'), path.join(d, 'agents', 'Dockerfile'));
    const { template } = agentStack({}, { file: 'agents/Dockerfile' }, d);
    expect(buildSpecOf(template()).phases.build.commands[0]).toContain('--file \'/tmp/context/agents/Dockerfile\'');
  });

  test('the repository options apply, and the build logs keep what buildLogRetention says', () => {
    const { template } = agentStack({}, { maxImageCount: 5, untaggedImageExpiry: Duration.days(2), buildLogRetention: logs.RetentionDays.ONE_WEEK });
    const t = template();
    t.hasResourceProperties('AWS::ECR::Repository', { LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":5') } });
    t.hasResourceProperties('AWS::ECR::Repository', { LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":2') } });
    const logGroupId = only(t, 'AWS::CodeBuild::Project')[1].Properties.LogsConfig.CloudWatchLogs.GroupName.Ref;
    expect(t.findResources('AWS::Logs::LogGroup')[logGroupId].Properties.RetentionInDays).toBe(7);
  });

  test('with an encryptionKey the repository and the CodeBuild project use it (no CB4 acknowledgement needed)', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const image = AgentImage.fromDirectoryIntoNewRepository(dir, { encryptionKey: key });
    new ContainerAgent(stack, 'Researcher', { agentName: 'researcher', image });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const t = Template.fromStack(stack);
    const keyArn = stack.resolve(key.keyArn);
    t.hasResourceProperties('AWS::ECR::Repository', { EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: keyArn } });
    const [, project] = only(t, 'AWS::CodeBuild::Project');
    expect(project.Properties.EncryptionKey).toEqual(keyArn);
    expect(JSON.stringify(project.Metadata.cdk_nag.rules_to_suppress)).not.toContain('AwsSolutions-CB4');
    const buildPolicy = Object.entries<any>(t.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('ResearcherImageBuildRole'))![1];
    expect(buildPolicy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
      Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']),
      Resource: keyArn,
    }));
  });

  test('agents of one stack share one custom resource provider; each has its own project, role and repository', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    for (const name of ['researcher', 'writer']) {
      const image = AgentImage.fromDirectoryIntoNewRepository(dir);
      new ContainerAgent(stack, name, { agentName: name, image, compute: AgentCompute.lambdaFunction() });
    }
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CodeBuild::Project', 2);
    t.resourceCountIs('AWS::ECR::Repository', 2);
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    t.resourceCountIs('Custom::AgentImageBuild', 2);
    const tokens = new Set(Object.values<any>(t.findResources('Custom::AgentImageBuild')).map((r) => JSON.stringify(r.Properties.ServiceToken)));
    expect(tokens.size).toBe(1);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });
});

testIfInstalled('cfn-lint', 'cfn-lint finds nothing in a stack with a Fargate and a Lambda agent built this way', () => {
  const app = new App();
  const stack = new Stack(app, 'Test');
  new ContainerAgent(stack, 'Researcher', { agentName: 'researcher', image: AgentImage.fromDirectoryIntoNewRepository(dir) });
  new ContainerAgent(stack, 'Writer', { agentName: 'writer', image: AgentImage.fromDirectoryIntoNewRepository(dir), compute: AgentCompute.lambdaFunction() });
  expect(cfnLint(Template.fromStack(stack).toJSON())).toEqual([]);
}, 120_000);

describe('cdk-nag', () => {
  test.each([
    ['fargate', AgentCompute.fargate()],
    ['lambda', AgentCompute.lambdaFunction()],
  ])('%s agent: no unacknowledged findings, and each acknowledgement of the build is in the template with its reason', (_name, compute) => {
    const { app, template } = agentStack({ compute });
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const [, project] = only(template(), 'AWS::CodeBuild::Project');
    const rules = project.Metadata.cdk_nag.rules_to_suppress as Array<{ id: string; reason: string }>;
    expect(rules.find((r) => r.id === 'AwsSolutions-CB4')?.reason).toMatch(/no artifacts, no cache and no S3 logs/);
    expect(rules.find((r) => r.id === 'AwsSolutions-CB3')?.reason).toMatch(/Privileged mode runs the Docker daemon/);
    const buildRole = Object.entries<any>(template().findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('ResearcherImageBuildRole'))![1];
    expect(JSON.stringify(buildRole.Metadata.cdk_nag.rules_to_suppress)).toContain('ecr:GetAuthorizationToken (the docker login before the push) supports no resource-level permissions');
  });
});

describe('validation', () => {
  const missingDir = path.join(os.tmpdir(), 'no-such-agent-dir-for-image-build');
  test.each([
    ['a missing directory', () => AgentImage.fromDirectoryIntoNewRepository(missingDir), /directory '.*no-such-agent-dir-for-image-build' is not a folder/],
    ['a missing Dockerfile', () => AgentImage.fromDirectoryIntoNewRepository(dir, { file: 'Dockerfile.prod' }), /file 'Dockerfile.prod' is not in .*; give the Dockerfile's path relative to the directory/],
    ['a Dockerfile outside the directory', () => AgentImage.fromDirectoryIntoNewRepository(dir, { file: '../Dockerfile' }), /file '..\/Dockerfile' must be a path inside the directory/],
    ['an absolute Dockerfile path', () => AgentImage.fromDirectoryIntoNewRepository(dir, { file: path.join(dir, 'Dockerfile') }), /must be a path inside the directory, relative to it/],
    ['a bad build argument name', () => AgentImage.fromDirectoryIntoNewRepository(dir, { buildArgs: { 'A B': '1' } }), /build argument name 'A B' is not a name Docker takes/],
    ['a token build argument', () => AgentImage.fromDirectoryIntoNewRepository(dir, { buildArgs: { A: new Stack().account } }), /build argument A is a token; build arguments are part of the image's tag/],
    ['a bad target', () => AgentImage.fromDirectoryIntoNewRepository(dir, { target: 'two words' }), /target 'two words' is not a build stage name/],
    ['repository image count', () => AgentImage.fromDirectoryIntoNewRepository(dir, { maxImageCount: 0 }),
      /^AgentImage.fromDirectoryIntoNewRepository: maxImageCount \(max_image_count in Python\) is 0; it must be a whole number from 1 to 10000/],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});
