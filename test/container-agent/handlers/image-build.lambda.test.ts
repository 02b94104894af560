import * as path from 'path';
import { BatchGetBuildsCommand, Build, StartBuildCommand } from '@aws-sdk/client-codebuild';
import type { CdkCustomResourceEvent, CdkCustomResourceIsCompleteEvent } from 'aws-lambda';
import { CodeBuildSender, failureMessage, IMAGE_TAG_VARIABLE, imageBuildHandlers, ImageBuildProperties } from '../../../src/container-agent/handlers/image-build.lambda';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/agent:abc123';
const PROPS: ImageBuildProperties = { ProjectName: 'AgentImageBuild', ImageTag: 'abc123', ImageUri: IMAGE };
const BUILD_ID = 'AgentImageBuild:0f1e2d3c';

/** A CodeBuild client that records what it is sent and answers from `builds`. */
function fakeCodeBuild(builds: Build[] = [], startedId: string | null = BUILD_ID) {
  const sent: Array<StartBuildCommand | BatchGetBuildsCommand> = [];
  const client = {
    send: jest.fn(async (command: StartBuildCommand | BatchGetBuildsCommand) => {
      sent.push(command);
      if (command instanceof StartBuildCommand) return { build: startedId ? { id: startedId, buildStatus: 'IN_PROGRESS' } : undefined };
      if (command instanceof BatchGetBuildsCommand) {
        const ids = command.input.ids ?? [];
        return { builds: builds.filter((b) => ids.includes(b.id!)), buildsNotFound: ids.filter((id) => !builds.some((b) => b.id === id)) };
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    }),
  };
  return { handlers: imageBuildHandlers(() => client as unknown as CodeBuildSender), sent };
}

function event(requestType: 'Create' | 'Update' | 'Delete', props: Partial<ImageBuildProperties> = PROPS, old?: Partial<ImageBuildProperties>): CdkCustomResourceEvent {
  const base = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://example.com',
    StackId: 'stack',
    RequestId: 'req',
    LogicalResourceId: 'Image',
    ResourceType: 'Custom::AgentImageBuild',
    ResourceProperties: { ServiceToken: 'token', ...props },
  };
  if (requestType === 'Create') return { ...base, RequestType: 'Create' } as CdkCustomResourceEvent;
  if (requestType === 'Update') return { ...base, RequestType: 'Update', PhysicalResourceId: IMAGE, OldResourceProperties: { ServiceToken: 'token', ...old } } as CdkCustomResourceEvent;
  return { ...base, RequestType: 'Delete', PhysicalResourceId: IMAGE } as CdkCustomResourceEvent;
}

/** The isComplete event the provider framework sends: the onEvent event with what onEvent returned. */
function completeEvent(requestType: 'Create' | 'Update' | 'Delete', data: Record<string, string> | undefined): CdkCustomResourceIsCompleteEvent {
  return { ...event(requestType), PhysicalResourceId: IMAGE, Data: data } as CdkCustomResourceIsCompleteEvent;
}

function build(status: string, extra: Partial<Build> = {}): Build {
  return { id: BUILD_ID, buildStatus: status as Build['buildStatus'], ...extra };
}

beforeEach(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
afterEach(() => jest.restoreAllMocks());

describe('onEvent', () => {
  test('Create starts the project with the tag to push and returns the build id; the image is the physical id', async () => {
    const { handlers, sent } = fakeCodeBuild();
    const res = await handlers.onEvent(event('Create'));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(StartBuildCommand);
    expect(sent[0].input).toEqual({
      projectName: 'AgentImageBuild',
      environmentVariablesOverride: [{ name: IMAGE_TAG_VARIABLE, value: 'abc123', type: 'PLAINTEXT' }],
    });
    expect(res).toEqual({ PhysicalResourceId: IMAGE, Data: { BuildId: BUILD_ID, ImageUri: IMAGE } });
  });

  test('Update to a new tag starts a build', async () => {
    const { handlers, sent } = fakeCodeBuild();
    const res = await handlers.onEvent(event('Update', PROPS, { ...PROPS, ImageTag: 'old', ImageUri: IMAGE.replace('abc123', 'old') }));
    expect(sent.map((c) => c.constructor.name)).toEqual(['StartBuildCommand']);
    expect(res.Data).toEqual({ BuildId: BUILD_ID, ImageUri: IMAGE });
  });

  test('Update with the same project and tag starts nothing (the image is there), and isComplete is done at once', async () => {
    const { handlers, sent } = fakeCodeBuild();
    const res = await handlers.onEvent(event('Update', PROPS, PROPS));
    expect(sent).toEqual([]);
    expect(res).toEqual({ PhysicalResourceId: IMAGE, Data: { ImageUri: IMAGE } });
    expect(await handlers.isComplete(completeEvent('Update', res.Data))).toEqual({ IsComplete: true });
    expect(sent).toEqual([]);
  });

  test('Delete does nothing and keeps the physical id (the repository\'s lifecycle removes old images)', async () => {
    const { handlers, sent } = fakeCodeBuild();
    expect(await handlers.onEvent(event('Delete'))).toEqual({ PhysicalResourceId: IMAGE });
    expect(await handlers.isComplete(completeEvent('Delete', undefined))).toEqual({ IsComplete: true });
    expect(sent).toEqual([]);
  });

  test('a StartBuild answer without a build id is an error naming the project', async () => {
    const { handlers } = fakeCodeBuild([], null);
    await expect(handlers.onEvent(event('Create'))).rejects.toThrow('CodeBuild started no build for project AgentImageBuild');
  });

  test('missing properties are refused, naming them', async () => {
    const { handlers, sent } = fakeCodeBuild();
    await expect(handlers.onEvent(event('Create', { ProjectName: 'p', ImageTag: '' }))).rejects.toThrow(
      'The image build resource lacks ImageTag, ImageUri; it is written by AgentImage.fromDirectoryIntoNewRepository');
    expect(sent).toEqual([]);
  });
});

describe('isComplete', () => {
  test('asks CodeBuild about the started build: not complete while it is IN_PROGRESS', async () => {
    const { handlers, sent } = fakeCodeBuild([build('IN_PROGRESS')]);
    expect(await handlers.isComplete(completeEvent('Create', { BuildId: BUILD_ID, ImageUri: IMAGE }))).toEqual({ IsComplete: false });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(BatchGetBuildsCommand);
    expect(sent[0].input).toEqual({ ids: [BUILD_ID] });
  });

  test('complete on SUCCEEDED, with the build and the image', async () => {
    const { handlers } = fakeCodeBuild([build('SUCCEEDED')]);
    expect(await handlers.isComplete(completeEvent('Create', { BuildId: BUILD_ID, ImageUri: IMAGE }))).toEqual({
      IsComplete: true, Data: { BuildId: BUILD_ID, ImageUri: IMAGE },
    });
  });

  test.each(['FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'])('%s fails the deployment with the build id, the failed phase and the logs', async (status) => {
    const failed = build(status, {
      phases: [
        { phaseType: 'DOWNLOAD_SOURCE', phaseStatus: 'SUCCEEDED' },
        { phaseType: 'BUILD', phaseStatus: status === 'TIMED_OUT' ? 'TIMED_OUT' : 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: docker build. Reason: exit status 1' }] },
        { phaseType: 'FINALIZING', phaseStatus: undefined },
      ],
      logs: { deepLink: 'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=builds;stream=0f1e2d3c', groupName: 'builds', streamName: '0f1e2d3c' },
    });
    const { handlers } = fakeCodeBuild([failed]);
    await expect(handlers.isComplete(completeEvent('Create', { BuildId: BUILD_ID, ImageUri: IMAGE }))).rejects.toThrow(
      `The image build ${BUILD_ID} of ${IMAGE} ended ${status} in phase BUILD: COMMAND_EXECUTION_ERROR: Error while executing command: docker build. ` +
      'Reason: exit status 1. Logs: https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=builds;stream=0f1e2d3c');
  });

  test('a build CodeBuild does not know is an error naming it', async () => {
    const { handlers } = fakeCodeBuild([]);
    await expect(handlers.isComplete(completeEvent('Create', { BuildId: BUILD_ID, ImageUri: IMAGE }))).rejects.toThrow(
      `The image build ${BUILD_ID} was not found in CodeBuild (${BUILD_ID})`);
  });
});

describe('failureMessage', () => {
  test('without a console link it names the log group and stream; without those, the build in the console', () => {
    expect(failureMessage(build('FAULT', { logs: { groupName: 'g', streamName: 's' } }), IMAGE))
      .toBe(`The image build ${BUILD_ID} of ${IMAGE} ended FAULT. Logs: log group g, stream s`);
    expect(failureMessage(build('STOPPED'), undefined))
      .toBe(`The image build ${BUILD_ID} of the agent image ended STOPPED. Logs: the CodeBuild console, build ${BUILD_ID}`);
  });
});

test('the bundled asset (what Lambda runs) exports both handlers', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bundled = require(path.join(__dirname, '..', '..', '..', 'assets', 'container-agent', 'handlers', 'image-build.lambda', 'index.js'));
  expect(typeof bundled.onEvent).toBe('function');
  expect(typeof bundled.isComplete).toBe('function');
});
