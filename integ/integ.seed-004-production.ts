/**
 * Integration test: seed 004 (the "production platform": ECS Fargate services for the core API and
 * the workflow engine, Aurora PostgreSQL Multi-AZ, EventBridge with SQS queues, Lambda functions
 * and a daily job, a VPC over three AZs with a NAT gateway in each, CloudWatch dashboards, alarms
 * and Synthetics, KMS, Secrets Manager and WAF) rebuilt from the four constructs in their
 * production settings, item by item:
 *
 * - one customer managed key for the platform's data, logs and alarm topic (the seed's
 *   `enable_encryption`): the data tier (Aurora, Redis, secrets, flow logs), the orchestrator
 *   (workflow table, artifacts, event bus, function and access logs, schedules, its canary's
 *   artifacts), the API's log groups, the event queues and the alarm topic;
 * - the seed's network: three AZs with one NAT gateway each and flow logs. The stack is
 *   account-agnostic (the test runs in whichever account deploys it), and such a stack knows
 *   only two AZs, so the VPC takes the region's first three from `Fn::GetAZs` (us-east-1, the
 *   test's region, has six) and is given to the data tier; in an app whose stack has `env`,
 *   `DataTier`'s `maxAzs: 3` and `natGateways: 3` build the same network;
 * - the seed's Aurora PostgreSQL Multi-AZ and a Redis replica with failover: `DataTier` with the
 *   production profile (one reader, backups, Performance Insights, log exports), here without
 *   deletion protection and destroyed with the stack (`Throwaway.enable`: a test leaves nothing);
 * - the seed's core API and workflow engine on Fargate (the seed-002 stand-ins from
 *   `integ/services`, built by CodeBuild): the core API behind the `SecureApi` under `/team` with
 *   Cognito sign-in (JWT) as the seed's Auth0, the engine internal in Cloud Map; WAF on the load
 *   balancer; the workflow routes of the orchestrator on the same API under `/research` (IAM);
 * - the seed's alarms that reach a person (`alert_email`): every alarm of the stack — the
 *   constructs' (services' CPU and memory, load balancer and API 5xx, database connections, CPU,
 *   storage and replica lag, cache CPU, memory and evictions, failed workflows and agent tasks,
 *   the canaries') and the app's own (the event queue's backlog) — acts on one encrypted SNS topic
 *   with an email subscription (`AlarmDestination.email(...).notifyAlarmsIn(stack)`);
 * - the seed's dashboard: `PlatformDashboard`, built from the constructs the stack has;
 * - the seed's Synthetics: a canary on the API's health route and one making a signed
 *   workflow-status call;
 * - the seed's EventBridge bus with SQS queues for event processing: failed workflows routed by
 *   `onWorkflowFailed` to an encrypted, TLS-only queue with a dead-letter queue;
 * - the seed's daily job (`daily-unblock`): a schedule that starts a workflow every day at 06:00
 *   UTC, idempotent per tick.
 *
 * The assertions, after the deploy: the health route answers; the core API refuses a call without
 * a token; a workflow runs to its published report (approved); a second one is rejected and its
 * `Workflow Failed` event arrives in the queue; a schedule's tick delivered twice starts one
 * workflow; the health canary has passed a run. Deploying it takes about 30 minutes (Aurora with
 * a reader, Redis with a replica, two image builds).
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { acknowledgeTestScaffolding, apiAnswer, apiEvent, approveAndReadReport, echoResearchTeam, serviceImage, wgetHealthCheck, workflowIdFor } from './integ-helpers';
import { DataTier, DataTierProfile } from '../src/data-tier';
import { DurableOrchestrator } from '../src/durable-orchestrator';
import { AlarmDestination, PlatformDashboard } from '../src/monitoring';
import { acknowledgeFindings } from '../src/private/nag';
import { ApiAuthorization, SecureApi, ServiceCapacity } from '../src/secure-api';
import { Throwaway } from '../src/throwaway';

const REGION = 'us-east-1';
const API_PORT = 8000;
const ENGINE_PORT = 50051;

const app = new App();
const stack = new Stack(app, 'cdkda-seed-004', { env: { region: REGION } });
Throwaway.enable(stack); // a test stack: nothing stays behind

// One customer managed key for the platform.
const key = new kms.Key(stack, 'PlatformKey', {
  enableKeyRotation: true,
  description: 'Seed 004 platform: data, logs, events and alarm notifications',
  removalPolicy: RemovalPolicy.DESTROY,
  pendingWindow: Duration.days(7),
});

// Every alarm of the stack notifies the on-call address through one encrypted topic.
const oncall = AlarmDestination.email('oncall@example.com', { encryptionKey: key });
oncall.notifyAlarmsIn(stack);

// The seed's network: three AZs, a NAT gateway in each, flow logs under the platform key.
const vpc = new ec2.Vpc(stack, 'Network', {
  availabilityZones: [0, 1, 2].map((i) => Fn.select(i, Fn.getAzs())),
  natGateways: 3,
  subnetConfiguration: [
    { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
    { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
  ],
});
vpc.addFlowLog('FlowLogs', {
  destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(stack, 'FlowLogGroup', {
    retention: logs.RetentionDays.ONE_MONTH,
    encryptionKey: key, // the constructs below give the key its CloudWatch Logs statement
    removalPolicy: RemovalPolicy.DESTROY,
  })),
});

const data = new DataTier(stack, 'Data', {
  profile: DataTierProfile.production(),
  vpc,
  encryptionKey: key,
  deletionProtection: false, // a test stack; the production profile's default is true
  alarmActions: oncall,
});

// The seed's Auth0 sign-in, as a Cognito user pool (strict enough for cdk-nag).
const users = new cognito.UserPool(stack, 'Users', {
  passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
  mfa: cognito.Mfa.REQUIRED,
  mfaSecondFactor: { otp: true, sms: false },
  featurePlan: cognito.FeaturePlan.PLUS,
  standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
  removalPolicy: RemovalPolicy.DESTROY,
});
const client = users.addClient('Web');

const api = new SecureApi(stack, 'Api', {
  vpc,
  authorization: ApiAuthorization.cognito({ userPool: users, userPoolClients: [client] }),
  logEncryptionKey: key,
  alarmActions: oncall,
  healthCanary: true,
});


// The seed's workflow engine: internal, two tasks (one on demand, one on Spot).
const engine = api.addInternalService('Engine', {
  imageSource: serviceImage('engine'),
  containerPort: ENGINE_PORT,
  discoveryName: 'engine',
  desiredCount: 2,
  maxCapacity: 4,
  capacity: ServiceCapacity.spot({ onDemandBase: 1 }),
  healthCheck: wgetHealthCheck(`http://127.0.0.1:${ENGINE_PORT}/health`),
});

// The seed's core API: routed under /team behind Cognito, on the data tier, autoscaling from 2.
const core = api.addService('CoreApi', {
  imageSource: serviceImage('team-api'),
  pathPrefix: '/team',
  containerPort: API_PORT,
  healthCheckPath: '/team/health',
  desiredCount: 2,
  maxCapacity: 6,
  command: DataTier.connectionUrlCommand(['node', 'server.js']),
  environment: { ENGINE_URL: `http://${engine.endpoint}/health` },
  healthCheck: wgetHealthCheck(`http://127.0.0.1:${API_PORT}/team/health`),
  healthCheckGracePeriod: Duration.seconds(90),
});
data.bindToContainer(core.taskDefinition.findContainer(core.containerName)!);
data.allowDefaultPortsFrom(core);
engine.connections.allowFrom(core, ec2.Port.tcp(ENGINE_PORT), 'the core API calls the workflow engine');

// The workflows: the reference research workflow (echo agents), on the same API under /research.
const research = new DurableOrchestrator(stack, 'Research', {
  ...echoResearchTeam(stack),
  api,
  apiBasePath: '/research',
  encryptionKey: key,
  alarmActions: oncall,
  alarms: { agentTasksFailed: { enabled: true, threshold: 3 } },
  statusCanary: true,
});

// The seed's SQS queues for event processing: failed workflows, encrypted, TLS only, with a DLQ.
const queueOptions = { encryptionMasterKey: key, encryption: sqs.QueueEncryption.KMS, enforceSSL: true };
const failedDlq = new sqs.Queue(stack, 'FailedWorkflowsDlq', { ...queueOptions, retentionPeriod: Duration.days(14) });
acknowledgeFindings(failedDlq, [
  { id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of FailedWorkflows: it has none of its own.' },
  { id: 'Serverless-SQSRedrivePolicy', reason: 'This queue is the dead-letter queue of FailedWorkflows: it has none of its own.' },
]);
const failed = new sqs.Queue(stack, 'FailedWorkflows', { ...queueOptions, deadLetterQueue: { queue: failedDlq, maxReceiveCount: 5 } });
research.onWorkflowFailed('FailedToQueue', {
  target: new targets.SqsQueue(failed, { deadLetterQueue: failedDlq, retryAttempts: 8, maxEventAge: Duration.hours(2) }),
});
// The seed's "SQS queue backlog" alarm: the app's own, acting on the same topic (notifyAlarmsIn).
new cloudwatch.Alarm(stack, 'FailedWorkflowsBacklog', {
  alarmDescription: 'Failed workflows wait in the queue for more than an hour: nobody processes them',
  metric: failed.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5) }),
  threshold: 3600,
  evaluationPeriods: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
});

// The seed's daily job: a workflow started every day at 06:00 UTC.
const DAILY_INPUT = { topic: 'Daily review of blocked work items', parameters: { depth: 'brief' } };
research.addSchedule('DailyReview', {
  schedule: scheduler.ScheduleExpression.cron({ hour: '6', minute: '0' }),
  input: JSON.stringify(DAILY_INPUT),
  description: 'Seed 004 daily-unblock: a research report on blocked work items',
});

new PlatformDashboard(stack, 'Dashboard');

// The seed's outputs.
api.addOutputs({ outputIdPrefix: 'Api' });
data.addOutputs({ outputIdPrefix: 'Data' });
research.addOutputs({ outputIdPrefix: 'Research' });

const assertions = new Stack(app, 'cdkda-seed-004-assertions', { env: { region: REGION } });
const integ = new IntegTest(app, 'Seed004', { testCases: [stack], regions: [REGION], assertionStack: assertions });
const poll = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(15) };
const apiFunction = research.apiFunction.functionName;

// The seed's health check, through the API.
const health = integ.assertions.httpApiCall(`${api.url}health`);
health.expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }));

// The core API's routes need a Cognito token: a call without one is refused.
const noToken = integ.assertions.httpApiCall(`${api.url}team/health`);
noToken.expect(ExpectedResult.objectLike({ status: 401 }));

// A workflow to its published report.
const APPROVED_KEY = 'integ-seed-004-approved';
const approvedId = workflowIdFor(APPROVED_KEY);
const start = integ.assertions.invokeFunction({
  functionName: apiFunction,
  payload: apiEvent('POST', '/research/workflows', { topic: 'Impact of quantum computing on cryptography' }, { 'idempotency-key': APPROVED_KEY }),
});
start.expect(apiAnswer(202, { workflow_id: approvedId }));
const report = approveAndReadReport(integ, research, approvedId, { basePath: '/research', poll, comment: 'integration test' });

// A rejected workflow ends FAILED (REJECTED), and its event arrives in the queue.
const REJECTED_KEY = 'integ-seed-004-rejected';
const rejectedId = workflowIdFor(REJECTED_KEY);
const startRejected = integ.assertions.invokeFunction({
  functionName: apiFunction,
  payload: apiEvent('POST', '/research/workflows', { topic: 'A report nobody approves' }, { 'idempotency-key': REJECTED_KEY }),
});
startRejected.expect(apiAnswer(202, { workflow_id: rejectedId }));
const waitingToReject = integ.assertions.invokeFunction({ functionName: apiFunction, payload: apiEvent('GET', `/research/workflows/${rejectedId}`) });
waitingToReject.expect(apiAnswer(200, { workflow_id: rejectedId, awaiting: 'approval' })).waitForAssertions(poll);
const reject = integ.assertions.invokeFunction({
  functionName: apiFunction,
  payload: apiEvent('POST', `/research/workflows/${rejectedId}/approval`, { approved: false, comment: 'integration test: rejected' }),
});
reject.expect(apiAnswer(200, { approved: false }));
const queued = integ.assertions.awsApiCall('SQS', 'receiveMessage', { QueueUrl: failed.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 });
queued.expect(ExpectedResult.objectLike({
  Messages: Match.arrayWith([Match.objectLike({
    Body: Match.serializedJson(Match.objectLike({
      'source': 'cdk-durable-agents',
      'detail-type': 'Workflow Failed',
      'detail': Match.objectLike({ workflow_id: rejectedId, workflow: research.workflowName, status: 'REJECTED' }),
    })),
  })]),
})).waitForAssertions(poll);

// A schedule's tick, delivered twice (as Scheduler may): one workflow.
const TICK = { schedule: 'DailyReview', scheduled_time: '2026-01-05T06:00:00Z', input: DAILY_INPUT };
const tick = () => integ.assertions.invokeFunction({ functionName: apiFunction, payload: JSON.stringify({ scheduled_start: TICK }) });
const scheduledId = workflowIdFor(`scheduled-start ${TICK.schedule} ${TICK.scheduled_time}`);
const firstTick = tick();
firstTick.expect(ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike({ workflow_id: scheduledId, schedule: 'DailyReview' })) }));
const secondTick = tick();
secondTick.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ workflow_id: scheduledId, idempotent_replay: true })),
}));

// The health canary has run and passed (its first run starts when the stack is complete).
const canaryRun = integ.assertions.awsApiCall('Synthetics', 'getCanaryRuns', { Name: api.healthCanary!.canary.canaryName, MaxResults: 5 });
canaryRun.expect(ExpectedResult.objectLike({ CanaryRuns: Match.arrayWith([Match.objectLike({ Status: Match.objectLike({ State: 'PASSED' }) })]) }))
  .waitForAssertions({ totalTimeout: Duration.minutes(15), interval: Duration.seconds(60) });

// The queue and the artifact bucket are encrypted with the platform key: the assertions read them.
for (const call of [queued, report.last]) {
  call.provider.addToRolePolicy({ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [key.keyArn] });
}

health.next(noToken).next(start).next(report.first);
report.last.next(startRejected).next(waitingToReject).next(reject).next(queued).next(firstTick).next(secondTick).next(canaryRun);

acknowledgeTestScaffolding(app, assertions);
app.synth();
