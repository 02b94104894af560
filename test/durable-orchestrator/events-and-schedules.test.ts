import { App, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { researchWorkflow, testAgentFunction } from './fixtures';
import { AgentTarget, DurableOrchestrator, DurableOrchestratorProps, IDurableOrchestrator } from '../../src/durable-orchestrator';
import { unacknowledgedNagFindings } from '../helpers/nag';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** A stack with one orchestrator of the reference workflow ('research-report') on three Lambda agents. */
function orchestratorStack(props: Partial<DurableOrchestratorProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const agents = ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(stack, n)));
  const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', { workflow: researchWorkflow(), agents, ...props });
  return { app, stack, orchestrator };
}

/** An encrypted, TLS-only queue with a dead-letter queue, as the README shows. */
function eventQueue(stack: Stack, key?: kms.IKey) {
  const encryption = key ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: sqs.QueueEncryption.SQS_MANAGED };
  const deadLetterQueue = new sqs.Queue(stack, 'EventsDlq', { ...encryption, enforceSSL: true, retentionPeriod: Duration.days(14) });
  const queue = new sqs.Queue(stack, 'Events', { ...encryption, enforceSSL: true, deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 } });
  return { queue, deadLetterQueue };
}

const ref = (stack: Stack, value: string) => stack.resolve(value);

describe('typed routing of workflow events', () => {
  test.each([
    ['onWorkflowStarted', 'Workflow Started'],
    ['onWorkflowCompleted', 'Workflow Completed'],
    ['onWorkflowFailed', 'Workflow Failed'],
    ['onWorkflowCancelled', 'Workflow Cancelled'],
    ['onWorkflowBudgetExceeded', 'Workflow Budget Exceeded'],
    ['onApprovalRequested', 'Workflow Approval Requested'],
    ['onStepCompleted', 'Workflow Step Completed'],
  ] as const)('%s: a rule on the orchestrator\'s bus, on source, detail-type %s and this workflow', (method, detailType) => {
    const { stack, orchestrator } = orchestratorStack();
    const rule = orchestrator[method]('Rule');
    expect(rule).toBeInstanceOf(events.Rule);
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventBusName: ref(stack, orchestrator.eventBus.eventBusName),
      EventPattern: { 'source': ['cdk-durable-agents'], 'detail-type': [detailType], 'detail': { workflow: ['research-report'] } },
      State: 'ENABLED',
    });
  });

  test('onWorkflowEvent matches the eight detail-types of the runtime', () => {
    const { stack, orchestrator } = orchestratorStack();
    orchestrator.onWorkflowEvent('All');
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    expect([...rules[0].Properties.EventPattern['detail-type']].sort()).toEqual([
      'Workflow Approval Requested', 'Workflow Budget Exceeded', 'Workflow Cancelled', 'Workflow Completed', 'Workflow Failed',
      'Workflow Started', 'Workflow Step Completed', 'Workflow Step Started',
    ]);
  });

  test('the target is added; ruleName, description and a pattern of the caller are merged in', () => {
    const { stack, orchestrator } = orchestratorStack();
    const { queue, deadLetterQueue } = eventQueue(stack);
    orchestrator.onWorkflowFailed('TimedOut', {
      target: new targets.SqsQueue(queue, { deadLetterQueue }),
      ruleName: 'research-timed-out',
      description: 'Research workflows that timed out',
      eventPattern: { detail: { status: ['TIMED_OUT'] } },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      Name: 'research-timed-out',
      Description: 'Research workflows that timed out',
      EventPattern: { 'source': ['cdk-durable-agents'], 'detail-type': ['Workflow Failed'], 'detail': { workflow: ['research-report'], status: ['TIMED_OUT'] } },
      Targets: [{ Arn: ref(stack, queue.queueArn), Id: 'Target0', DeadLetterConfig: { Arn: ref(stack, deadLetterQueue.queueArn) } }],
    });
  });

  test('several orchestrators on one bus: each rule matches its own workflow only', () => {
    const { stack, orchestrator } = orchestratorStack();
    const other = DurableOrchestrator.fromDurableOrchestratorAttributes(stack, 'Other', {
      httpApiId: 'a1b2c3d4e5', workflowName: 'invoice-review', eventBus: orchestrator.eventBus,
    });
    orchestrator.onWorkflowFailed('Mine');
    other.onWorkflowFailed('Theirs');
    const patterns = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')).map((r) => r.Properties.EventPattern.detail.workflow);
    expect(patterns.sort()).toEqual([['invoice-review'], ['research-report']]);
  });

  test('an imported orchestrator routes on the bus of its attributes, in the importing stack', () => {
    const app = new App();
    const stack = new Stack(app, 'Consumer', { env: ENV });
    const imported: IDurableOrchestrator = DurableOrchestrator.fromDurableOrchestratorAttributes(stack, 'Research', {
      httpApiId: 'a1b2c3d4e5',
      workflowName: 'research-report',
      eventBus: events.EventBus.fromEventBusArn(stack, 'Bus', `arn:aws:events:${ENV.region}:${ENV.account}:event-bus/research-events`),
    });
    const { queue } = eventQueue(stack);
    imported.onApprovalRequested('Approvals', { target: new targets.SqsQueue(queue) });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'research-events',
      EventPattern: { 'source': ['cdk-durable-agents'], 'detail-type': ['Workflow Approval Requested'], 'detail': { workflow: ['research-report'] } },
      Targets: [Match.objectLike({ Arn: ref(stack, queue.queueArn) })],
    });
  });

  test('an import without eventBus cannot route: the error names the attribute to pass', () => {
    const stack = new Stack(new App(), 'Consumer', { env: ENV });
    const imported = DurableOrchestrator.fromDurableOrchestratorAttributes(stack, 'Research', { httpApiId: 'a1b2c3d4e5', workflowName: 'research-report' });
    expect(() => imported.onWorkflowFailed('Failed')).toThrow(
      /fromDurableOrchestratorAttributes\('Research'\): eventBus is not known to this import; pass eventBus in the attributes \(events.EventBus.fromEventBusArn/);
  });

  test('cdk-nag: a rule to an encrypted queue with a dead-letter queue adds no finding', () => {
    const { app, stack, orchestrator } = orchestratorStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const { queue, deadLetterQueue } = eventQueue(stack, key);
    orchestrator.onWorkflowFailed('Failed', { target: new targets.SqsQueue(queue, { deadLetterQueue }) });
    const findings = unacknowledgedNagFindings(app);
    expect(findings.filter((f) => f.path.startsWith('Test/Orchestrator') || f.path.startsWith('Test/Events/'))).toEqual([]);
    // What the README tells of the user's own dead-letter queue.
    expect(findings.filter((f) => f.path.startsWith('Test/EventsDlq/')).map((f) => f.rule)).toEqual(['Serverless-SQSRedrivePolicy']);
  });
});

describe('DurableOrchestrator.addSchedule', () => {
  const nightly = (extra: Record<string, unknown> = {}) => ({
    schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '6', timeZone: TimeZone.EUROPE_PARIS }),
    input: JSON.stringify({ topic: 'nightly digest', parameters: { depth: 'brief' } }),
    ...extra,
  });

  test('a schedule invokes the API function with the scheduled_start event, its time from Scheduler\'s context attribute', () => {
    const { stack, orchestrator } = orchestratorStack();
    const schedule = orchestrator.addSchedule('Nightly', nightly({ description: 'The nightly digest' }));
    expect(orchestrator.schedules).toEqual([schedule]);
    const template = Template.fromStack(stack);
    const [resource] = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    const props = resource.Properties;
    expect(props).toMatchObject({
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      Description: 'The nightly digest',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    expect(props.Target.Arn).toEqual(ref(stack, orchestrator.apiFunction.functionArn));
    expect(JSON.parse(props.Target.Input)).toEqual({
      scheduled_start: { schedule: 'Nightly', scheduled_time: '<aws.scheduler.scheduled-time>', input: { topic: 'nightly digest', parameters: { depth: 'brief' } } },
    });
    expect(props.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 });
    expect(props.Target.DeadLetterConfig).toEqual({ Arn: ref(stack, orchestrator.scheduleDeadLetterQueue!.queueArn) });
  });

  test('the schedules\' role: assumed by Scheduler of this account for the default group; it may invoke the API function and send to the dead-letter queue, nothing else', () => {
    const { stack, orchestrator } = orchestratorStack();
    orchestrator.addSchedule('Nightly', nightly());
    const template = Template.fromStack(stack);
    const roles = template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] } } });
    expect(Object.keys(roles)).toHaveLength(1);
    const [roleId, role] = Object.entries(roles)[0];
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: {
        'aws:SourceAccount': ENV.account,
        'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:scheduler:${ENV.region}:${ENV.account}:schedule-group/default`]] },
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const fnArn = ref(stack, orchestrator.apiFunction.functionArn);
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }] },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(stack, orchestrator.scheduleDeadLetterQueue!.queueArn) },
    ]);
  });

  test('the dead-letter queue is encrypted and TLS only, and takes the ticks the API function refused (its asynchronous failures)', () => {
    const { stack, orchestrator } = orchestratorStack();
    expect(orchestrator.scheduleDeadLetterQueue).toBeUndefined();
    orchestrator.addSchedule('Nightly', nightly());
    const template = Template.fromStack(stack);
    const queue = orchestrator.scheduleDeadLetterQueue!;
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(stack, queue.queueUrl)],
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(stack, orchestrator.apiFunction.functionName),
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: ref(stack, queue.queueArn) } },
    });
  });

  test('two schedules share the role and the queue; ids tell their ticks apart', () => {
    const { stack, orchestrator } = orchestratorStack();
    orchestrator.addSchedule('Nightly', nightly());
    orchestrator.addSchedule('Weekly', { schedule: scheduler.ScheduleExpression.rate(Duration.days(7)), input: '{"topic": "weekly"}', enabled: false, retryAttempts: 0, maxEventAge: Duration.minutes(5) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((s) => s.Properties);
    expect(new Set(schedules.map((s) => JSON.stringify(s.Target.RoleArn))).size).toBe(1);
    const weekly = schedules.find((s) => JSON.parse(s.Target.Input).scheduled_start.schedule === 'Weekly')!;
    expect(weekly).toMatchObject({ ScheduleExpression: 'rate(7 days)', State: 'DISABLED', Target: { RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 } } });
    expect(JSON.parse(weekly.Target.Input).scheduled_start.input).toEqual({ topic: 'weekly' });
  });

  test('without input the workflow input is {}', () => {
    const { stack, orchestrator } = orchestratorStack();
    orchestrator.addSchedule('Empty', { schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)) });
    const [s] = Object.values(Template.fromStack(stack).findResources('AWS::Scheduler::Schedule'));
    expect(JSON.parse(s.Properties.Target.Input).scheduled_start.input).toEqual({});
  });

  test('with encryptionKey: the queue and the schedules are encrypted with it, and the role may use it', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const agents = ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(stack, n)));
    const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', { workflow: researchWorkflow(), agents, encryptionKey: key });
    orchestrator.addSchedule('Nightly', nightly());
    const template = Template.fromStack(stack);
    const keyArn = ref(stack, key.keyArn);
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { KmsKeyArn: keyArn });
    const roleId = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] } } }))[0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn })]));
    // Nothing more of the key than a message to the queue needs.
    const kmsActions = statements.flatMap((st: { Action: string | string[] }) => [st.Action].flat()).filter((a: string) => a.startsWith('kms:'));
    expect(new Set(kmsActions)).toEqual(new Set(['kms:GenerateDataKey', 'kms:Decrypt']));
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Orchestrator'))).toEqual([]);
  });

  test('cdk-nag: a schedule adds no unacknowledged finding, and each acknowledgement carries its reason', () => {
    const { app, stack, orchestrator } = orchestratorStack();
    orchestrator.addSchedule('Nightly', nightly());
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Orchestrator'))).toEqual([]);
    const template = Template.fromStack(stack);
    const [queue] = Object.values(template.findResources('AWS::SQS::Queue'));
    const reason = expect.stringMatching(/dead-letter queue of the workflow schedules/);
    expect(queue.Metadata.cdk_nag.rules_to_suppress).toEqual(expect.arrayContaining([
      expect.objectContaining({ id: 'AwsSolutions-SQS3', reason }),
      expect.objectContaining({ id: 'Serverless-SQSRedrivePolicy', reason }),
    ]));
  });

  test.each([
    ['an id Scheduler cannot name', 'my schedule', {}, /DurableOrchestrator.addSchedule\('my schedule'\): id is 'my schedule'; it must be 1 to 64 letters, digits, _, . and -/],
    ['input that is not JSON', 'Bad', { input: '{topic: 1}' }, /addSchedule\('Bad'\): input is not JSON \(.*\), got '\{topic: 1\}': pass the text of a JSON object, e.g. JSON.stringify/],
    ['input that is an array', 'Bad', { input: '[1]' }, /addSchedule\('Bad'\): input must be a JSON object \(the workflow input, as the body of POST \/workflows\), got \[1\]/],
    ['input that is null', 'Bad', { input: 'null' }, /input must be a JSON object/],
    ['input over 32 KB', 'Bad', { input: JSON.stringify({ topic: 'x'.repeat(33 * 1024) }) }, /input is \d+ bytes, over the 32 KB the API takes for a workflow input/],
    ['retryAttempts over 185', 'Bad', { retryAttempts: 186 }, /addSchedule\('Bad'\): retryAttempts \(retry_attempts in Python\) is 186; it must be a whole number from 0 to 185/],
    ['maxEventAge over a day', 'Bad', { maxEventAge: Duration.days(2) }, /addSchedule\('Bad'\): maxEventAge \(max_event_age in Python\) is 2 days; it must be between 1 minute and 1 day/],
  ])('%s is refused at synth', (_name, id, extra, message) => {
    const { orchestrator } = orchestratorStack();
    expect(() => orchestrator.addSchedule(id, nightly(extra))).toThrow(message);
    expect(orchestrator.schedules).toEqual([]);
  });

  test('the same id twice is refused by the construct tree', () => {
    const { orchestrator } = orchestratorStack();
    orchestrator.addSchedule('Nightly', nightly());
    expect(() => orchestrator.addSchedule('Nightly', nightly())).toThrow(/There is already a Construct with name 'Nightly'/);
  });
});

describe('event routing refuses pattern keys that would widen the rule', () => {
  test.each([
    [{ detailType: ['Workflow Completed'] }, /eventPattern\.detailType cannot be given to Failed's rule/],
    [{ source: ['other'] }, /eventPattern\.source cannot be given/],
    [{ detail: { workflow: ['other'] } }, /eventPattern\.detail\.workflow cannot be given/],
  ])('%j', (eventPattern, message) => {
    const { orchestrator } = orchestratorStack();
    expect(() => orchestrator.onWorkflowFailed('Failed', { eventPattern })).toThrow(message);
  });

  test('other detail fields narrow it', () => {
    const { stack, orchestrator } = orchestratorStack();
    orchestrator.onWorkflowFailed('TimedOut', { eventPattern: { detail: { status: ['TIMED_OUT'] } } });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['cdk-durable-agents'], 'detail-type': ['Workflow Failed'], 'detail': { status: ['TIMED_OUT'], workflow: [orchestrator.workflowName] } },
    });
  });
});
