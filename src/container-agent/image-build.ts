import * as fs from 'fs';
import * as path from 'path';
import { CustomResource, Duration, FileSystem, IgnoreMode, RemovalPolicy, Stack, Stage, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { AgentRepositoryOptions } from './agent-image';
import type { ImageBuildProperties } from './handlers/image-build.lambda';
import { BundledFunction } from '../private/bundled-function';
import { flattenReference, grantKeyEncryptDecrypt, grantScoped } from '../private/grants';
import { logsKey } from '../private/log-encryption';
import { acknowledgeFindings } from '../private/nag';

/** Options for `AgentImage.fromDirectoryIntoNewRepository` (`AgentImage.from_directory_into_new_repository` in Python). */
export interface AgentImageBuildOptions extends AgentRepositoryOptions {
  /**
   * The Dockerfile, relative to the directory.
   * @default 'Dockerfile'
   */
  readonly file?: string;
  /**
   * Build arguments (known at synth: they are part of the image's tag).
   * @default - none
   */
  readonly buildArgs?: { [key: string]: string };
  /**
   * The build target stage.
   * @default - the last stage
   */
  readonly target?: string;
  /**
   * Retention of the image builds' logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly buildLogRetention?: logs.RetentionDays;
}

/** How long one build may run, and wait in CodeBuild's queue, before CodeBuild stops it. */
export const BUILD_TIMEOUT = Duration.minutes(30);
export const BUILD_QUEUED_TIMEOUT = Duration.minutes(10);
/** How long the custom resource waits for a build in all (above the two timeouts, so that the build's own failure is what is reported). */
export const BUILD_WAIT_TIMEOUT = Duration.minutes(45);

const OWNER = 'AgentImage.fromDirectoryIntoNewRepository';

/**
 * Throws on options that cannot work, naming the option, the value and the fix. Run when the
 * image is declared, before it is bound to an agent.
 */
export function checkImageBuildOptions(directory: string, options: AgentImageBuildOptions): void {
  if (Token.isUnresolved(directory)) {
    throw new Error(`${OWNER}: directory is a token; give the path of a folder with a Dockerfile (it is uploaded at synth)`);
  }
  const dir = path.resolve(directory);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`${OWNER}: directory '${directory}' is not a folder (looked at ${dir}); give the folder that holds the Dockerfile`);
  }
  const file = options.file ?? 'Dockerfile';
  if (Token.isUnresolved(file) || path.isAbsolute(file) || path.normalize(file).split(path.sep)[0] === '..') {
    throw new Error(`${OWNER}: file '${file}' must be a path inside the directory, relative to it (e.g. 'Dockerfile' or 'agents/Dockerfile')`);
  }
  if (!fs.existsSync(path.join(dir, file))) {
    throw new Error(`${OWNER}: file '${file}' is not in ${dir}; give the Dockerfile's path relative to the directory`);
  }
  for (const [name, value] of Object.entries(options.buildArgs ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`${OWNER}: build argument name '${name}' is not a name Docker takes; use letters, digits and _ (not first a digit)`);
    }
    if (Token.isUnresolved(value)) {
      throw new Error(`${OWNER}: build argument ${name} is a token; build arguments are part of the image's tag and must be known at synth`);
    }
  }
  if (options.target !== undefined && (Token.isUnresolved(options.target) || !/^[A-Za-z0-9][\w.-]*$/.test(options.target))) {
    throw new Error(`${OWNER}: target '${options.target}' is not a build stage name; give the name after 'AS' in the Dockerfile`);
  }
}

/**
 * The directory as a zip asset: what `.dockerignore` leaves out is left out here too (so it
 * changes neither the upload nor the tag), and the build options are part of the hash, so that a
 * changed Dockerfile, argument, target or architecture gives a new tag.
 */
export function imageSourceAsset(scope: Construct, id: string, directory: string, options: AgentImageBuildOptions, platform: string): s3assets.Asset {
  const dir = path.resolve(directory);
  const file = options.file ?? 'Dockerfile';
  const ignoreFile = path.join(dir, '.dockerignore');
  const dockerignore = fs.existsSync(ignoreFile)
    ? fs.readFileSync(ignoreFile, 'utf-8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    : [];
  const outdir = Stage.of(scope)?.outdir;
  const copy = {
    ignoreMode: IgnoreMode.DOCKER,
    exclude: [
      ...dockerignore,
      ...(dockerignore.length > 0 ? ['!.dockerignore'] : []),
      `!${file.split(path.sep).join('/')}`,
      ...(outdir && isInside(outdir, dir) ? [path.relative(dir, outdir).split(path.sep).join('/')] : []),
    ],
  };
  const extraHash = JSON.stringify({ file, buildArgs: options.buildArgs ?? {}, target: options.target ?? null, platform });
  return new s3assets.Asset(scope, id, { path: dir, ...copy, assetHash: FileSystem.fingerprint(dir, { ...copy, extraHash }) });
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, path.resolve(child));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Properties of an `ImageBuild`. */
export interface ImageBuildProps {
  /** The zipped directory. */
  readonly source: s3assets.Asset;
  /** The repository the image goes to. */
  readonly repository: ecr.IRepository;
  /** The tag the build pushes. */
  readonly tag: string;
  /** Whether to build on ARM64 (else x86-64). */
  readonly arm64: boolean;
  readonly options: AgentImageBuildOptions;
  /** Encrypts what CodeBuild writes (the key of the repository, when it has one). */
  readonly encryptionKey?: kms.IKey;
  /** Encrypts the builds' log group (the agent's `logEncryptionKey`, `log_encryption_key` in Python). */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * Builds an image from an uploaded directory with AWS CodeBuild, at deploy time, and pushes it to
 * one repository under one tag; `resource` completes once the image is there. The project's role
 * may read that one object and push to that one repository, nothing more.
 */
export class ImageBuild extends Construct {
  /** The custom resource; whatever runs the image depends on it. */
  public readonly resource: CustomResource;
  /** The CodeBuild project. */
  public readonly project: codebuild.Project;
  /** The builds' log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ImageBuildProps) {
    super(scope, id);
    const { source, repository, tag, arm64, options } = props;
    const platform = arm64 ? 'linux/arm64' : 'linux/amd64';

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: options.buildLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: logsKey(props.logEncryptionKey),
    });
    const role = new iam.Role(this, 'Role', {
      // CodeBuild on behalf of this account only (confused deputy).
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: `Builds the image of ${scope.node.path} and pushes it to its repository`,
    });
    this.project = new codebuild.Project(this, 'Project', {
      description: `Builds the agent image of ${scope.node.path} (${platform}) and pushes it to its repository`,
      environment: {
        buildImage: arm64 ? codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0 : codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5,
        computeType: codebuild.ComputeType.SMALL,
        privileged: true, // the Docker daemon of the build container needs it
      },
      environmentVariables: {
        REPOSITORY_URI: { value: repository.repositoryUri },
        REPOSITORY_NAME: { value: repository.repositoryName },
        IMAGE_TAG: { value: tag },
        SOURCE_URI: { value: `s3://${source.s3BucketName}/${source.s3ObjectKey}` },
      },
      buildSpec: codebuild.BuildSpec.fromObject(buildSpec(platform, options)),
      encryptionKey: props.encryptionKey,
      logging: { cloudWatch: { logGroup: this.logGroup } },
      timeout: BUILD_TIMEOUT,
      queuedTimeout: BUILD_QUEUED_TIMEOUT,
      // Grants below, each scoped: the project's own grants (log groups by name pattern, report groups) are not needed.
      role: role.withoutPolicyUpdates(),
    });

    grantScoped(role, { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] });
    grantScoped(role, { actions: ['s3:GetObject'], resources: [source.bucket.arnForObjects(source.s3ObjectKey)] });
    grantScoped(role, {
      actions: ['ecr:DescribeImages', 'ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'],
      resources: [repository.repositoryArn],
    });
    grantScoped(role, {
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
      wildcardReason: 'ecr:GetAuthorizationToken (the docker login before the push) supports no resource-level permissions; ' +
        'the push itself is granted on the agent\'s one repository.',
    });
    if (props.encryptionKey) {
      grantKeyEncryptDecrypt(props.encryptionKey, role, 'the build\'s output');
    } else {
      acknowledgeFindings(this.project, [{
        id: 'AwsSolutions-CB4',
        reason: 'The project has no artifacts, no cache and no S3 logs: its only output is the image, encrypted by its ECR repository, ' +
          'and its logs, in CloudWatch Logs. Give the repository an encryptionKey and the project uses it too.',
      }]);
    }
    acknowledgeFindings(this.project, [{
      id: 'AwsSolutions-CB3',
      reason: 'Privileged mode runs the Docker daemon that builds the image; the build runs only the Dockerfile of the ' +
        'uploaded directory, started by this deployment, with a role that can push to the agent\'s one repository.',
    }]);

    const provider = ImageBuildProvider.of(this);
    grantScoped(provider.onEvent.role, { actions: ['codebuild:StartBuild'], resources: [this.project.projectArn] });
    grantScoped(provider.isComplete.role, { actions: ['codebuild:BatchGetBuilds'], resources: [this.project.projectArn] });

    const properties: ImageBuildProperties = {
      ProjectName: this.project.projectName,
      ImageTag: tag,
      ImageUri: repository.repositoryUriForTag(tag),
    };
    this.resource = new CustomResource(this, 'Image', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AgentImageBuild',
      properties,
    });
    // The build must find its permissions in place, and the handlers theirs.
    this.resource.node.addDependency(role, provider.onEvent.role, provider.isComplete.role);
  }
}

/**
 * The buildspec: download and unpack the directory, then build and push `<repo>:<tag>` unless
 * that tag is there already (tags are immutable: a rollback to an earlier tag must not fail).
 */
function buildSpec(platform: string, options: AgentImageBuildOptions): Record<string, unknown> {
  const file = (options.file ?? 'Dockerfile').split(path.sep).join('/');
  const dockerBuild = [
    'docker build', `--platform ${platform}`, `--file ${shellQuote(`/tmp/context/${file}`)}`,
    ...(options.target ? [`--target ${shellQuote(options.target)}`] : []),
    ...Object.entries(options.buildArgs ?? {}).map(([k, v]) => `--build-arg ${shellQuote(`${k}=${v}`)}`),
    '--tag "$REPOSITORY_URI:$IMAGE_TAG"', '/tmp/context',
  ].join(' ');
  return {
    version: '0.2',
    // BuildKit: Dockerfiles may use `# syntax=`, `RUN --mount` and `$BUILDPLATFORM` (as agents/Dockerfile does).
    env: { variables: { DOCKER_BUILDKIT: '1' } },
    phases: {
      build: {
        commands: [
          [
            'if aws ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids "imageTag=$IMAGE_TAG" > /dev/null 2>&1; then',
            '  echo "$REPOSITORY_URI:$IMAGE_TAG is there already (tags are immutable): nothing to build";',
            'else',
            '  aws s3 cp "$SOURCE_URI" /tmp/context.zip --only-show-errors &&',
            '  mkdir -p /tmp/context && unzip -q /tmp/context.zip -d /tmp/context &&',
            '  aws ecr get-login-password | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}" &&',
            `  ${dockerBuild} &&`,
            '  docker push "$REPOSITORY_URI:$IMAGE_TAG";',
            'fi',
          ].join('\n'),
        ],
      },
    },
  };
}

/** A single-quoted shell word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, '\'\\\'\'')}'`;
}

/**
 * The custom resource provider of the image builds: one per stack, shared by its agents. Each
 * build grants its handlers the right to start and read its own project only.
 */
class ImageBuildProvider extends Construct {
  public static of(scope: Construct): ImageBuildProvider {
    const stack = Stack.of(scope);
    const id = 'CdkDurableAgentsImageBuildProvider';
    return (stack.node.tryFindChild(id) as ImageBuildProvider | undefined) ?? new ImageBuildProvider(stack, id);
  }

  public readonly onEvent: BundledFunction;
  public readonly isComplete: BundledFunction;
  public readonly serviceToken: string;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const bundle = 'container-agent/handlers/image-build.lambda';
    this.onEvent = new BundledFunction(this, 'OnEvent', {
      bundle,
      description: 'Starts the CodeBuild build of an agent image (custom resource, onEvent)',
      functionProps: { handler: 'index.onEvent' },
    });
    this.isComplete = new BundledFunction(this, 'IsComplete', {
      bundle,
      description: 'Reports whether the CodeBuild build of an agent image has ended, and how (custom resource, isComplete)',
      functionProps: { handler: 'index.isComplete' },
    });
    const frameworkLogs = new logs.LogGroup(this, 'FrameworkLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The framework's functions get roles of our own: their log group only, instead of the
    // AWSLambdaBasicExecutionRole the framework would attach (every log group of the account).
    const frameworkRole = (roleId: string, what: string) => {
      const role = new iam.Role(this, roleId, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `${what} of ${this.node.path}` });
      grantScoped(role, { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [frameworkLogs.logGroupArn] });
      return role;
    };
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEvent.function,
      isCompleteHandler: this.isComplete.function,
      queryInterval: Duration.seconds(15),
      totalTimeout: BUILD_WAIT_TIMEOUT,
      logGroup: frameworkLogs,
      frameworkOnEventRole: frameworkRole('FrameworkOnEventRole', 'The custom resource framework\'s onEvent function'),
      frameworkCompleteAndTimeoutRole: frameworkRole('FrameworkWaiterRole', 'The custom resource framework\'s isComplete and onTimeout functions'),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: frameworkLogs, level: sfn.LogLevel.ALL },
    });
    this.serviceToken = provider.serviceToken;
    acknowledgeFrameworkFindings(this, provider, [this.onEvent.function, this.isComplete.function]);
    for (const fn of [this.onEvent, this.isComplete]) {
      acknowledgeFindings(fn, [
        { id: 'Serverless-LambdaDLQ', reason: 'A custom resource handler is invoked synchronously by the provider framework, which reports a failure to CloudFormation; there is no event to keep.' },
        { id: 'Serverless-LambdaAsyncFailureDestination', reason: 'A custom resource handler is invoked synchronously by the provider framework, which reports a failure to CloudFormation.' },
      ]);
    }
  }
}

/**
 * The findings of aws-cdk-lib's custom resource provider framework (its three functions and the
 * waiter state machine), each with the reason it stays: the framework's code, runtime and
 * grants are aws-cdk-lib's, not ours to change.
 */
function acknowledgeFrameworkFindings(owner: Construct, provider: cr.Provider, handlers: lambda.IFunction[]): void {
  const stack = Stack.of(provider);
  const qualified = (fn: lambda.IFunction) => `AwsSolutions-IAM5[Resource::${flattenReference(stack.resolve(fn.functionArn))}:*]`;
  const frameworkFunctions = ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout']
    .map((id) => provider.node.tryFindChild(id)).filter((c): c is lambda.Function => c instanceof lambda.Function);
  const runtime = 'The provider framework\'s functions are aws-cdk-lib\'s code on the Node.js runtime aws-cdk-lib chooses for them; ' +
    'they move with aws-cdk-lib.';
  // The framework's roles (the owner's) may invoke the two handlers.
  acknowledgeFindings(owner, handlers.map((fn) => ({
    id: qualified(fn),
    reason: 'The provider framework invokes the image build handlers through grantInvoke, which covers the function and its versions (<arn>:*); nothing else.',
  })));
  acknowledgeFindings(provider, [
    { id: 'AwsSolutions-L1', reason: runtime },
    { id: 'Serverless-LambdaLatestVersion', reason: runtime },
    { id: 'Serverless-LambdaDefaultMemorySize', reason: 'The provider framework\'s functions only relay events between CloudFormation, the handlers and the waiter; aws-cdk-lib sizes them.' },
    { id: 'Serverless-LambdaTracing', reason: 'The provider framework\'s functions only relay events; the image build handlers they call are traced.' },
    { id: 'Serverless-LambdaDLQ', reason: 'The provider framework reports every failure to CloudFormation, which fails the deployment; there is no event to keep.' },
    { id: 'Serverless-LambdaAsyncFailureDestination', reason: 'The provider framework reports every failure to CloudFormation, which fails the deployment.' },
  ]);
  const waiter = provider.node.tryFindChild('waiter-state-machine');
  if (waiter) {
    acknowledgeFindings(waiter, [
      ...frameworkFunctions.filter((fn) => fn.node.id !== 'framework-onEvent').map((fn) => ({
        id: qualified(fn),
        reason: 'The waiter state machine invokes the framework\'s isComplete and onTimeout functions through grantInvoke (the function and its versions).',
      })),
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The waiter state machine\'s log delivery to CloudWatch Logs (logs:CreateLogDelivery and the related calls) supports no resource-level permissions.',
      },
      { id: 'AwsSolutions-SF2', reason: 'The waiter state machine only polls the isComplete handler; the handlers themselves are traced with X-Ray.' },
      { id: 'Serverless-StepFunctionStateMachineXray', reason: 'The waiter state machine only polls the isComplete handler; the handlers themselves are traced with X-Ray.' },
    ]);
  }
}
