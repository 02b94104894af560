import * as path from 'path';
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { AgentImageBuildOptions, checkImageBuildOptions, ImageBuild, imageSourceAsset } from './image-build';
import { ReferenceAgent } from './reference-agent';
import { checkRange } from '../private/checks';
import { checkLibrarySubclass } from '../private/closed-class';
import { removalPolicyOf } from '../private/throwaway';

/** CPU architecture of an agent's image and compute. */
export enum AgentArchitecture {
  /** ARM64 (Graviton): cheaper per unit of work. */
  ARM64 = 'arm64',
  /** x86-64. */
  X86_64 = 'x86_64',
}

/** Options for `AgentImage.fromDirectory` (`AgentImage.from_directory` in Python). */
export interface AgentImageDirectoryOptions {
  /**
   * The Dockerfile, relative to the directory.
   * @default 'Dockerfile'
   */
  readonly file?: string;
  /**
   * Build arguments.
   * @default - none
   */
  readonly buildArgs?: { [key: string]: string };
  /**
   * The build target stage.
   * @default - the last stage
   */
  readonly target?: string;
}

/** Options for `AgentImage.fromNewRepository` (`AgentImage.from_new_repository` in Python). */
export interface AgentRepositoryOptions {
  /**
   * How many tagged images the lifecycle policy keeps.
   * @default 20
   */
  readonly maxImageCount?: number;
  /**
   * After how long untagged images are removed.
   * @default Duration.days(7)
   */
  readonly untaggedImageExpiry?: Duration;
  /**
   * A KMS key to encrypt the repository's images with (KMS encryption). ECR decrypts the images
   * it serves through the grant it creates on the key, so the roles that pull need no key
   * permission; the key's policy must let the deploying principal create that grant (a key's
   * default policy, which trusts the account's IAM policies, does with a CDK deploy role).
   * @default - AES-256 (S3-managed keys)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the repository when it leaves the stack. `RemovalPolicy.DESTROY` deletes it
   * with its images (for test and preview stacks); `RETAIN` keeps it, images included.
   * @default - RemovalPolicy.RETAIN; DESTROY under the throwaway switch (`Throwaway.enable(scope)`)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Options for `AgentImage.fromReferenceAgentIntoNewRepository`
 * (`AgentImage.from_reference_agent_into_new_repository` in Python): the repository and the build's logs.
 */
export interface ReferenceAgentBuildOptions extends AgentRepositoryOptions {
  /**
   * Retention of the image builds' logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly buildLogRetention?: logs.RetentionDays;
}

/** What an image resolves to for the agent's compute. @internal */
export interface BoundAgentImage {
  readonly ecs: ecs.ContainerImage;
  readonly lambda?: lambda.DockerImageCode;
  readonly repository?: ecr.Repository;
  readonly description: string;
  /** What the function or task definition must wait for (the build of the image), if anything. */
  readonly dependable?: IDependable;
}

/** What the agent tells its image when binding it. @internal */
export interface AgentImageBindOptions {
  /** Encrypts the log groups the image creates (those of its build). */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * Where an agent's container image comes from. Built with the static factories
 * (`AgentImage.fromDirectory()`, `fromEcrRepository()`, `fromRegistry()`, `fromNewRepository()`,
 * `fromDirectoryIntoNewRepository()`); not extensible (a subclass is refused when constructed).
 */
export abstract class AgentImage {
  /**
   * An image built by the CDK at deploy time from a directory with a Dockerfile, for the
   * agent's architecture, and pushed to the CDK's asset repository.
   */
  public static fromDirectory(directory: string, options: AgentImageDirectoryOptions = {}): AgentImage {
    return new DirectoryImage(directory, options);
  }

  /** An image already in an ECR repository. @param tag @default 'latest' */
  public static fromEcrRepository(repository: ecr.IRepository, tag?: string): AgentImage {
    return new EcrImage(repository, tag ?? 'latest');
  }

  /**
   * An image in another registry (ECS Fargate only: Lambda runs images from ECR).
   *
   * @param imageName e.g. `public.ecr.aws/docker/library/node:22-alpine`
   * @param credentials a secret with `username` and `password` for a private registry
   */
  public static fromRegistry(imageName: string, credentials?: secretsmanager.ISecret): AgentImage {
    return new RegistryImage(imageName, credentials);
  }

  /**
   * An image your pipeline pushes to a repository the agent creates for it: scan on push,
   * immutable tags, and a lifecycle policy. The repository is the agent's `repository`.
   */
  public static fromNewRepository(tag: string, options: AgentRepositoryOptions = {}): AgentImage {
    return new NewRepositoryImage(tag, options);
  }

  /**
   * An image built from a directory with a Dockerfile by AWS CodeBuild at deploy time, for the
   * agent's architecture, and pushed to a repository the agent creates for it (as
   * `fromNewRepository` does: scan on push, immutable tags, lifecycle rules; the agent's
   * `repository`). The directory is uploaded as a zip: neither synth nor the deploying machine
   * needs Docker. The tag is the hash of the directory and the build options, so a change gives a
   * new image; the function or task definition is created once the image is there, and a failed
   * build fails the deployment, naming the build and its logs.
   */
  public static fromDirectoryIntoNewRepository(directory: string, options: AgentImageBuildOptions = {}): AgentImage {
    return new DirectoryIntoRepositoryImage(directory, options);
  }

  /**
   * A reference agent (`ReferenceAgent.RESEARCHER`, `ANALYST`, `WRITER`) as the package ships it:
   * the image is built by the CDK at deploy time (Docker on the deploying machine) from the
   * agent's bundle and pushed to the CDK's asset repository. The agent's `localCommand` defaults to
   * the reference agent's, so `cdk-durable-agents dev --app` runs the same bundle.
   */
  public static fromReferenceAgent(agent: ReferenceAgent): AgentImage {
    return new ReferenceImage(agent, new DirectoryImage(agent.buildContext, {}, PACKAGED_SOURCE));
  }

  /**
   * A reference agent built by AWS CodeBuild at deploy time into a repository the agent creates
   * for it, as `fromDirectoryIntoNewRepository` builds a directory: neither synth nor the
   * deploying machine needs Docker. The agent's `localCommand` defaults to the reference agent's.
   */
  public static fromReferenceAgentIntoNewRepository(agent: ReferenceAgent, options: ReferenceAgentBuildOptions = {}): AgentImage {
    return new ReferenceImage(agent, new DirectoryIntoRepositoryImage(agent.buildContext, options, PACKAGED_SOURCE));
  }

  /**
   * Only the library's own images: the agent binds an image through an internal method that a
   * subclass in another language (Python) cannot provide.
   */
  protected constructor() {
    checkLibrarySubclass('AgentImage', new.target === AgentImage, '_bind', this,
      'AgentImage.fromDirectory(), fromEcrRepository(), fromRegistry(), fromNewRepository(), fromDirectoryIntoNewRepository(), '
      + 'fromReferenceAgent() or fromReferenceAgentIntoNewRepository()');
  }

  /** @internal */
  public abstract _bind(scope: Construct, architecture: AgentArchitecture, options?: AgentImageBindOptions): BoundAgentImage;

  /**
   * The command that runs this image's agent on the local machine, when the library knows it.
   * @internal
   */
  public _localCommand(): string[] | undefined {
    return undefined;
  }
}

/**
 * A directory as the template shows it: relative to where the app runs (an absolute path would
 * make the template, and the function's version, differ from one machine to the next).
 */
function displayPath(directory: string): string {
  const relative = path.relative(process.cwd(), path.resolve(directory)).split(path.sep).join('/');
  return relative === '' ? '.' : relative.startsWith('..') ? path.basename(path.resolve(directory)) : relative;
}

function platformOf(architecture: AgentArchitecture): ecrAssets.Platform {
  return architecture === AgentArchitecture.ARM64 ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64;
}

class DirectoryImage extends AgentImage {
  /** @param source how the description names the directory (default: its path, relative to the app) */
  constructor(private readonly directory: string, private readonly options: AgentImageDirectoryOptions, private readonly source?: string) {
    super();
  }

  public _bind(_scope: Construct, architecture: AgentArchitecture): BoundAgentImage {
    const props = {
      file: this.options.file,
      buildArgs: this.options.buildArgs,
      target: this.options.target,
      platform: platformOf(architecture),
    };
    return {
      ecs: ecs.ContainerImage.fromAsset(this.directory, props),
      lambda: lambda.DockerImageCode.fromImageAsset(this.directory, props),
      description: `built from ${this.source ?? displayPath(this.directory)}`,
    };
  }
}

/** How a reference agent's image names its build context (a folder of the installed package, wherever that is). */
const PACKAGED_SOURCE = 'the package\'s bundle';

/** A reference agent's image: built as the inner image is, and run locally by the package's own bundle. */
class ReferenceImage extends AgentImage {
  constructor(private readonly agent: ReferenceAgent, private readonly inner: AgentImage) {
    super();
  }

  public _bind(scope: Construct, architecture: AgentArchitecture, options?: AgentImageBindOptions): BoundAgentImage {
    const bound = this.inner._bind(scope, architecture, options);
    return { ...bound, description: `the reference agent ${this.agent.name} (${bound.description})` };
  }

  public _localCommand(): string[] {
    return this.agent.localCommand;
  }
}

class EcrImage extends AgentImage {
  constructor(private readonly repository: ecr.IRepository, private readonly tag: string) {
    super();
  }

  public _bind(): BoundAgentImage {
    return {
      ecs: ecs.ContainerImage.fromEcrRepository(this.repository, this.tag),
      lambda: lambda.DockerImageCode.fromEcr(this.repository, { tagOrDigest: this.tag }),
      description: `${this.repository.repositoryName}:${this.tag}`,
    };
  }
}

class RegistryImage extends AgentImage {
  constructor(private readonly imageName: string, private readonly credentials?: secretsmanager.ISecret) {
    super();
    if (!Token.isUnresolved(imageName) && !/^[a-z0-9][\w./:@-]*$/i.test(imageName)) {
      throw new Error(`AgentImage.fromRegistry: '${imageName}' is not an image name; use e.g. 'public.ecr.aws/docker/library/node:22-alpine'`);
    }
  }

  public _bind(): BoundAgentImage {
    return {
      ecs: ecs.ContainerImage.fromRegistry(this.imageName, this.credentials ? { credentials: this.credentials } : undefined),
      description: this.imageName,
    };
  }
}

class NewRepositoryImage extends AgentImage {
  constructor(private readonly tag: string, private readonly options: AgentRepositoryOptions) {
    super();
    checkRange('AgentImage.fromNewRepository', 'maxImageCount', options.maxImageCount, {
      min: 1, max: 10_000, fix: 'an ECR lifecycle rule keeps 1 to 10000 images; set maxImageCount in that range',
    });
  }

  public _bind(scope: Construct): BoundAgentImage {
    const removalPolicy = removalPolicyOf(scope, this.options.removalPolicy, RemovalPolicy.RETAIN);
    const repository = new ecr.Repository(scope, 'Repository', {
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: this.options.encryptionKey ? ecr.RepositoryEncryption.KMS : ecr.RepositoryEncryption.AES_256,
      encryptionKey: this.options.encryptionKey,
      removalPolicy,
      // A repository that still holds images cannot be deleted: empty it first when it is destroyed.
      emptyOnDelete: removalPolicy === RemovalPolicy.DESTROY ? true : undefined,
      lifecycleRules: [
        { description: 'Remove untagged images', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: this.options.untaggedImageExpiry ?? Duration.days(7), rulePriority: 1 },
        { description: 'Keep the newest tagged images', tagStatus: ecr.TagStatus.ANY, maxImageCount: this.options.maxImageCount ?? 20, rulePriority: 2 },
      ],
    });
    return {
      ecs: ecs.ContainerImage.fromEcrRepository(repository, this.tag),
      lambda: lambda.DockerImageCode.fromEcr(repository, { tagOrDigest: this.tag }),
      repository,
      description: `new repository, tag ${this.tag}`,
    };
  }
}

class DirectoryIntoRepositoryImage extends AgentImage {
  /** @param source how the description names the directory (default: its path, relative to the app) */
  constructor(private readonly directory: string, private readonly options: AgentImageBuildOptions, private readonly source?: string) {
    super();
    checkRange('AgentImage.fromDirectoryIntoNewRepository', 'maxImageCount', options.maxImageCount, {
      min: 1, max: 10_000, fix: 'an ECR lifecycle rule keeps 1 to 10000 images; set maxImageCount in that range',
    });
    checkImageBuildOptions(directory, options);
  }

  public _bind(scope: Construct, architecture: AgentArchitecture, bind: AgentImageBindOptions = {}): BoundAgentImage {
    const source = imageSourceAsset(scope, 'ImageSource', this.directory, this.options, platformOf(architecture).platform);
    const tag = source.assetHash;
    // The repository exactly as fromNewRepository makes it, with the image bound to this tag.
    const bound = new NewRepositoryImage(tag, this.options)._bind(scope);
    const build = new ImageBuild(scope, 'ImageBuild', {
      source,
      repository: bound.repository!,
      tag,
      arm64: architecture === AgentArchitecture.ARM64,
      options: this.options,
      encryptionKey: this.options.encryptionKey,
      logEncryptionKey: bind.logEncryptionKey,
    });
    return { ...bound, description: `built by AWS CodeBuild from ${this.source ?? displayPath(this.directory)}`, dependable: build.resource };
  }
}
