/**
 * The custom resource behind `AgentImage.fromDirectoryIntoNewRepository`: `onEvent` starts the
 * agent's CodeBuild project (which builds the image from the uploaded directory and pushes
 * `<repository>:<tag>`), `isComplete` polls the build until it ends. A failed build fails the
 * deployment with the build's id, the phase that failed and where its logs are.
 *
 * Delete does nothing: the image stays in the repository, whose lifecycle rules expire it.
 */
import { BatchGetBuildsCommand, Build, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';

/** The custom resource's properties, as the construct writes them (CloudFormation passes strings). */
export interface ImageBuildProperties {
  /** The CodeBuild project that builds and pushes the image. */
  readonly ProjectName: string;
  /** The tag the build pushes (the hash of the uploaded directory and the build options). */
  readonly ImageTag: string;
  /** `<repository uri>:<tag>`: the resource's physical id. */
  readonly ImageUri: string;
}

/** What `onEvent` hands to `isComplete` (and the resource's attributes). */
export interface ImageBuildData {
  /** The build started for this event; absent when there was nothing to build. */
  readonly BuildId?: string;
  readonly ImageUri: string;
}

/** The environment variable of the build that holds the tag to push (the project's buildspec reads it). */
export const IMAGE_TAG_VARIABLE = 'IMAGE_TAG';

/** Build statuses after which nothing more happens, other than success. */
const FAILED_STATUSES = ['FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'];

/** The one CodeBuild call shape the handlers use; a fake in the tests. */
export type CodeBuildSender = Pick<CodeBuildClient, 'send'>;

type OnEvent = (event: CdkCustomResourceEvent) => Promise<CdkCustomResourceResponse>;
type IsComplete = (event: CdkCustomResourceIsCompleteEvent) => Promise<CdkCustomResourceIsCompleteResponse>;

/** The two handlers, over a CodeBuild client. */
export function imageBuildHandlers(client: () => CodeBuildSender): { onEvent: OnEvent; isComplete: IsComplete } {
  const onEvent: OnEvent = async (event) => {
    if (event.RequestType === 'Delete') {
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const props = properties(event.ResourceProperties);
    if (event.RequestType === 'Update') {
      const old = event.OldResourceProperties as Partial<ImageBuildProperties>;
      // The same tag of the same project: the image is there already (tags are immutable).
      if (old.ProjectName === props.ProjectName && old.ImageTag === props.ImageTag && old.ImageUri === props.ImageUri) {
        return { PhysicalResourceId: props.ImageUri, Data: { ImageUri: props.ImageUri } satisfies ImageBuildData };
      }
    }
    const started = await client().send(new StartBuildCommand({
      projectName: props.ProjectName,
      environmentVariablesOverride: [{ name: IMAGE_TAG_VARIABLE, value: props.ImageTag, type: 'PLAINTEXT' }],
    }));
    const buildId = started.build?.id;
    if (!buildId) {
      throw new Error(`CodeBuild started no build for project ${props.ProjectName} (StartBuild returned no build id)`);
    }
    console.log(JSON.stringify({ message: 'image build started', buildId, imageUri: props.ImageUri }));
    return { PhysicalResourceId: props.ImageUri, Data: { BuildId: buildId, ImageUri: props.ImageUri } satisfies ImageBuildData };
  };

  const isComplete: IsComplete = async (event) => {
    const data = (event.Data ?? {}) as Partial<ImageBuildData>;
    if (event.RequestType === 'Delete' || !data.BuildId) {
      return { IsComplete: true };
    }
    const result = await client().send(new BatchGetBuildsCommand({ ids: [data.BuildId] }));
    const build = result.builds?.find((b) => b.id === data.BuildId);
    if (!build) {
      throw new Error(`The image build ${data.BuildId} was not found in CodeBuild (${(result.buildsNotFound ?? []).join(', ') || 'no builds returned'})`);
    }
    const status = build.buildStatus ?? 'IN_PROGRESS';
    if (status === 'SUCCEEDED') {
      console.log(JSON.stringify({ message: 'image build succeeded', buildId: build.id, imageUri: data.ImageUri }));
      return { IsComplete: true, Data: { BuildId: build.id, ImageUri: data.ImageUri } };
    }
    if (FAILED_STATUSES.includes(status)) {
      throw new Error(failureMessage(build, data.ImageUri));
    }
    return { IsComplete: false };
  };

  return { onEvent, isComplete };
}

function properties(raw: Record<string, unknown>): ImageBuildProperties {
  const missing = (['ProjectName', 'ImageTag', 'ImageUri'] as const).filter((k) => typeof raw[k] !== 'string' || raw[k] === '');
  if (missing.length > 0) {
    throw new Error(`The image build resource lacks ${missing.join(', ')}; it is written by AgentImage.fromDirectoryIntoNewRepository, not by hand`);
  }
  return raw as unknown as ImageBuildProperties;
}

/**
 * `The image build <id> of <image> FAILED in phase BUILD: <reason>. Logs: <link>`: what a person
 * reading the CloudFormation event needs to find out why.
 */
export function failureMessage(build: Build, imageUri: string | undefined): string {
  const phase = (build.phases ?? []).find((p) => p.phaseStatus !== undefined && p.phaseStatus !== 'SUCCEEDED');
  const reason = (phase?.contexts ?? []).map((c) => [c.statusCode, c.message].filter(Boolean).join(': ')).filter(Boolean).join('; ');
  const where = phase?.phaseType ? ` in phase ${phase.phaseType}` : '';
  const logs = build.logs?.deepLink
    ?? (build.logs?.groupName ? `log group ${build.logs.groupName}, stream ${build.logs.streamName ?? '(none)'}` : `the CodeBuild console, build ${build.id}`);
  return `The image build ${build.id} of ${imageUri ?? 'the agent image'} ended ${build.buildStatus}${where}${reason ? `: ${reason}` : ''}. Logs: ${logs}`;
}

let codebuild: CodeBuildClient | undefined;
const handlers = imageBuildHandlers(() => (codebuild ??= new CodeBuildClient({})));

/** The Provider's onEvent handler. */
export const onEvent = handlers.onEvent;
/** The Provider's isComplete handler. */
export const isComplete = handlers.isComplete;
