/** Helpers of the integration tests (not themselves tests: integ-runner only runs integ.*.ts). */
import { createHash } from 'crypto';
import * as path from 'path';
import { ExpectedResult, IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { AgentImage } from '../src/container-agent';
import { AgentTarget, DurableOrchestrator, IDispatchableAgent } from '../src/durable-orchestrator';
import { AlarmDestination } from '../src/monitoring';
import { acknowledgeCdkProviders, acknowledgeFindings, NagFinding } from '../src/private/nag';
import { ReferenceWorkflows, WorkflowAgent, WorkflowDefinition } from '../src/workflow';

/** Bundles a test agent from integ/agents into integ/.build/<name>, returning the folder. */
export function bundleTestAgent(name: string): string {
  const outdir = path.join(__dirname, '.build', name);
  buildSync({
    entryPoints: [path.join(__dirname, 'agents', `${name}.ts`)],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  return outdir;
}

/**
 * The reference research workflow played by the echo test agent (integ/agents/echo-agent.ts), a
 * Lambda function that writes one artifact and reports success at once: the workflow and the
 * three agents to give a DurableOrchestrator.
 */
export function echoResearchTeam(scope: Construct): { workflow: WorkflowDefinition; agents: IDispatchableAgent[] } {
  const echo = new lambda.Function(scope, 'EchoAgent', {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(bundleTestAgent('echo-agent')),
    timeout: Duration.seconds(30),
    description: 'Test agent: writes one artifact and reports success at once',
  });
  acknowledgeFixture(echo, 'the echo agent, which plays the three agents and answers at once');
  const names = ['researcher', 'analyst', 'writer'] as const;
  return {
    workflow: ReferenceWorkflows.researchReport({
      researcher: WorkflowAgent.named('researcher'),
      analyst: WorkflowAgent.named('analyst'),
      writer: WorkflowAgent.named('writer'),
    }),
    agents: names.map((name) => AgentTarget.lambdaFunction(name, echo)),
  };
}

/** The workflow id the API derives from an Idempotency-Key (src/runtime/ids.ts). */
export function workflowIdFor(idempotencyKey: string): string {
  return `wf-${createHash('sha256').update(`idempotency:${idempotencyKey}`).digest('hex').slice(0, 32)}`;
}

/** An API Gateway HTTP API (payload 2.0) event for a direct invoke of the API function. */
export function apiEvent(method: string, rawPath: string, body?: unknown, headers: Record<string, string> = {}): string {
  return JSON.stringify({
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method, path: rawPath }, stage: '$default', requestId: 'integ' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  });
}

/** The basic-execution managed policy cdk-nag names in its IAM4 finding. */
const BASIC_EXECUTION = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/**
 * Acknowledges, with reasons written into the template, what cdk-nag finds on a test fixture
 * function of an integration test (a stand-in agent, a probe): it exists only in the test stack,
 * with lambda.Function's defaults, and is no part of what the library deploys.
 */
export function acknowledgeFixture(fixture: Construct, what: string): void {
  const reason = `Test fixture of an integration test (${what}): it exists only in the test stack, runs for the test's few ` +
    'invocations, and keeps lambda.Function\'s defaults; it is no part of what the library deploys.';
  acknowledgeFindings(fixture, ['AwsSolutions-L1', 'Serverless-LambdaTracing', 'Serverless-LambdaLatestVersion', 'Serverless-LambdaDefaultMemorySize',
    'Serverless-LambdaDefaultTimeout', 'Serverless-LambdaDLQ', 'Serverless-LambdaAsyncFailureDestination', BASIC_EXECUTION,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]']
    .map((id): NagFinding => ({ id, reason })));
}

/**
 * Acknowledges, with reasons written into the templates, what cdk-nag finds on the scaffolding of
 * an integration test: integ-tests-alpha's assertion providers (their Lambda functions, roles and
 * waiter state machines, in the assertion stack: `assertionStacks`, or every `DeployAssert` stack
 * of the app) and the AWS CDK's own custom-resource providers in every stack. Call it last, just
 * before `app.synth()`: it marks the resources that exist then.
 */
export function acknowledgeTestScaffolding(app: App, ...assertionStacks: Stack[]): void {
  const stacks = app.node.findAll().filter((c): c is Stack => Stack.isStack(c));
  for (const stack of stacks) acknowledgeCdkProviders(stack);
  const reason = 'integ-tests-alpha\'s assertion provider: it runs the test\'s assertions (AWS calls, Lambda invokes, their waiters) ' +
    'only while the integration test runs, in the assertion stack, with the runtime, role and settings integ-tests-alpha gives it.';
  const asserting = assertionStacks.length > 0 ? assertionStacks : stacks.filter((s) => s.node.id === 'DeployAssert');
  for (const stack of asserting) {
    acknowledgeFindings(stack, ['AwsSolutions-L1', 'Serverless-LambdaTracing', 'Serverless-LambdaLatestVersion', 'Serverless-LambdaDefaultMemorySize',
      'Serverless-LambdaDefaultTimeout', 'Serverless-LambdaDLQ', 'Serverless-LambdaStarPermissions', BASIC_EXECUTION, 'AwsSolutions-IAM5[Resource::*]',
      'Serverless-StepFunctionStateMachineXray', 'AwsSolutions-SF1', 'AwsSolutions-SF2'].map((id): NagFinding => ({ id, reason })));
  }
}

/**
 * What an assertion expects of a direct invoke of an orchestrator's API function: the invoke's
 * `Payload` and the `body` inside it are both JSON text, matched as JSON (so that a step's
 * `"status":"SUCCEEDED"` in the body of a FAILED workflow cannot pass for the workflow's own).
 */
export function apiAnswer(statusCode: number, body?: Record<string, unknown>): ExpectedResult {
  return ExpectedResult.objectLike({
    Payload: Match.serializedJson(Match.objectLike({ statusCode, ...(body ? { body: Match.serializedJson(Match.objectLike(body)) } : {}) })),
  });
}

/** Options of {@link approveAndReadReport}. */
export interface ApproveAndReadReportOptions {
  /** The API's base path (a SecureApi's route prefix). @default '' */
  readonly basePath?: string;
  /** How long and how often to poll for the approval and for the end. */
  readonly poll: { readonly totalTimeout: Duration; readonly interval: Duration };
  /** The approver's comment. */
  readonly comment: string;
}

/**
 * The reference research workflow from its approval to its published report, as assertions:
 * wait until it waits for approval, approve it, wait until it succeeds, read the report. Chain
 * the start of the workflow to `first`, and anything after to `last`.
 */
export function approveAndReadReport(integ: IntegTest, orchestrator: DurableOrchestrator, workflowId: string,
  options: ApproveAndReadReportOptions): { first: IApiCall; last: IApiCall } {
  const functionName = orchestrator.apiFunction.functionName;
  const route = `${options.basePath ?? ''}/workflows/${workflowId}`;
  const awaitingApproval = integ.assertions.invokeFunction({ functionName, payload: apiEvent('GET', route) });
  awaitingApproval.expect(apiAnswer(200, { workflow_id: workflowId, status: 'RUNNING', awaiting: 'approval' })).waitForAssertions(options.poll);
  const approve = integ.assertions.invokeFunction({ functionName, payload: apiEvent('POST', `${route}/approval`, { approved: true, comment: options.comment }) });
  approve.expect(apiAnswer(200));
  const succeeded = integ.assertions.invokeFunction({ functionName, payload: apiEvent('GET', route) });
  succeeded.expect(apiAnswer(200, { workflow_id: workflowId, status: 'SUCCEEDED' })).waitForAssertions(options.poll);
  const report = integ.assertions.awsApiCall('S3', 'getObject', { Bucket: orchestrator.artifactBucket.bucketName, Key: `published/${workflowId}/report.md` });
  report.expect(ExpectedResult.objectLike({ ContentType: 'text/markdown' }));
  awaitingApproval.next(approve).next(succeeded).next(report);
  return { first: awaitingApproval, last: report };
}

/**
 * The alarm destination of a test stack: every alarm in it (the constructs' and the app's) emails
 * the on-call address through one topic encrypted with a key of the stack, deleted with it.
 */
export function notifyOnCall(stack: Stack): AlarmDestination {
  const key = new kms.Key(stack, 'AlarmTopicKey', {
    enableKeyRotation: true,
    description: 'Encrypts the alarm topic of the test stack',
    removalPolicy: RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(7),
  });
  const oncall = AlarmDestination.email('oncall@example.com', { encryptionKey: key });
  oncall.notifyAlarmsIn(stack);
  return oncall;
}

/** A service image built by CodeBuild from integ/services/<name> into the service's own repository, deleted with the test stack. */
export function serviceImage(name: string): AgentImage {
  return AgentImage.fromDirectoryIntoNewRepository(path.join(__dirname, 'services', name), {
    maxImageCount: 5,
    removalPolicy: RemovalPolicy.DESTROY, // a test stack: nothing stays behind
    buildLogRetention: logs.RetentionDays.ONE_WEEK,
  });
}

/** A container health check: the server's health route, on loopback, with the wget of Alpine's busybox. */
export function wgetHealthCheck(url: string): ecs.HealthCheck {
  return {
    command: ['CMD-SHELL', `wget -q -O /dev/null ${url} || exit 1`],
    interval: Duration.seconds(15),
    startPeriod: Duration.seconds(30),
  };
}
