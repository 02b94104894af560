import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { researchWorkflow, testAgentFunction } from './fixtures';
import { AgentTarget, DurableOrchestrator, DurableOrchestratorProps } from '../../src/durable-orchestrator';
import { AlarmDestination } from '../../src/monitoring';
import { SecureApi } from '../../src/secure-api';
import { unacknowledgedNagFindings } from '../helpers/nag';

/** The orchestrator's alarms in a template, by logical id. */
function alarmsOf(stack: Stack): Record<string, any> {
  return Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
}

/** The CDK's logical id of a construct. */
function logicalId(stack: Stack, c: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(c.node.defaultChild as any);
}

/** Stack `Test` with the reference workflow's orchestrator (`Test/Orchestrator`), its props made in the stack. */
function orchestratorStack(props: Partial<DurableOrchestratorProps> | ((stack: Stack) => Partial<DurableOrchestratorProps>) = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const agents = ['researcher', 'analyst', 'writer'].map((n) => AgentTarget.lambdaFunction(n, testAgentFunction(stack, n)));
  const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', {
    workflow: researchWorkflow(), agents, ...(typeof props === 'function' ? props(stack) : props),
  });
  return { app, stack, orchestrator };
}

const DEFAULT_IDS = ['WorkflowsFailedAlarm', 'ControllerErrorsAlarm', 'ControllerThrottlesAlarm', 'ApiErrorsAlarm', 'ApiThrottlesAlarm', 'Api5xxAlarm'];

describe('DurableOrchestrator alarms', () => {
  test('by default: the six alarms with their construct ids (so their logical ids), threshold 1, one period of 5 minutes, no action', () => {
    const { stack, orchestrator } = orchestratorStack();
    expect(orchestrator.alarms.map((a) => a.node.id)).toEqual(DEFAULT_IDS);
    const alarms = alarmsOf(stack);
    expect(Object.keys(alarms).sort()).toEqual(orchestrator.alarms.map((a) => logicalId(stack, a)).sort());
    // The logical ids of the earlier releases (the construct ids are kept).
    expect(Object.keys(alarms).sort()).toEqual([
      'OrchestratorApi5xxAlarmC1C6B7AA', 'OrchestratorApiErrorsAlarm1360CFF5', 'OrchestratorApiThrottlesAlarmE359FA3C',
      'OrchestratorControllerErrorsAlarm840C2E4D', 'OrchestratorControllerThrottlesAlarm197EB211', 'OrchestratorWorkflowsFailedAlarmFD1B49A6',
    ].sort());
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 1, EvaluationPeriods: 1, Period: 300, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
      });
      expect(alarm.Properties.AlarmActions).toBeUndefined();
      expect(alarm.Properties.AlarmName).toMatch(/^Test-Orchestrator-[0-9A-F]{8}-[A-Za-z0-9]+$/);
    }
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('-Api5xx$'), Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Sum',
    });
  });

  test('overrides, disabling, and the two alarms off by default', () => {
    const { stack, orchestrator } = orchestratorStack({
      alarms: {
        workflowsFailed: { threshold: 3, evaluationPeriods: 3, datapointsToAlarm: 2, period: Duration.minutes(1), alarmName: 'research-failed' },
        controllerThrottles: { enabled: false },
        apiThrottles: { enabled: false },
        agentTasksFailed: { enabled: true, threshold: 5 },
        stepDuration: { enabled: true },
      },
    });
    expect(orchestrator.alarms.map((a) => a.node.id)).toEqual([
      'WorkflowsFailedAlarm', 'ControllerErrorsAlarm', 'ApiErrorsAlarm', 'Api5xxAlarm', 'AgentTasksFailedAlarm', 'StepDurationAlarm',
    ]);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'research-failed', MetricName: 'WorkflowsFailed', Threshold: 3, EvaluationPeriods: 3, DatapointsToAlarm: 2, Period: 60,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkDurableAgents',
      MetricName: 'AgentTasksFailed',
      Dimensions: [{ Name: 'service', Value: 'durable-controller' }, { Name: 'workflow', Value: 'research-report' }],
      Statistic: 'Sum',
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StepDuration', ExtendedStatistic: 'p99', Threshold: 900_000, ComparisonOperator: 'GreaterThanThreshold', Period: 300,
    });
  });

  test('every alarm off: none created, and the dashboard still synthesizes', () => {
    const off = { enabled: false };
    const { stack, orchestrator } = orchestratorStack({
      dashboard: true,
      alarms: { workflowsFailed: off, controllerErrors: off, controllerThrottles: off, apiErrors: off, apiThrottles: off, api5xx: off },
    });
    expect(orchestrator.alarms).toEqual([]);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('the dashboard graphs approvals and agent tasks', () => {
    const { stack } = orchestratorStack({ dashboard: true });
    const body = JSON.stringify(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    for (const name of ['ApprovalsRequested', 'AgentTasksFailed', 'AgentTaskDuration']) expect(body).toContain(name);
  });

  test('a topic destination: every alarm acts on it (ALARM only)', () => {
    const { stack } = orchestratorStack((scope) => ({ alarmActions: AlarmDestination.topic(new sns.Topic(scope, 'Oncall', { enforceSSL: true })) }));
    const alarms = alarmsOf(stack);
    expect(Object.keys(alarms)).toHaveLength(6);
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Oncall/) }]);
      expect(alarm.Properties.OKActions).toBeUndefined();
    }
  });

  test('an email destination: one encrypted topic with the address subscribed, which every alarm acts on; cdk-nag clean', () => {
    const { app, stack } = orchestratorStack({ alarmActions: AlarmDestination.email('oncall@example.com'), alarms: { agentTasksFailed: { enabled: true } } });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    const alarms = alarmsOf(stack);
    expect(Object.keys(alarms)).toHaveLength(7);
    for (const alarm of Object.values(alarms)) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    const findings = unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Orchestrator') || f.path.startsWith('Test/AlarmEmail'));
    expect(findings).toEqual([]);
  });

  test.each([
    [{ typo: { threshold: 1 } }, /DurableOrchestrator: alarms\.typo names no alarm; the alarms are workflowsFailed, controllerErrors/],
    [{ workflowsFailed: { evaluationPeriods: 0 } }, /DurableOrchestrator: alarms\.workflowsFailed\.evaluationPeriods \(alarms\.workflows_failed\.evaluation_periods in Python\) is 0/],
    [{ stepDuration: { enabled: true, period: Duration.seconds(30) } }, /alarms\.stepDuration\.period/],
  ])('refuses alarms %j', (alarms, message) => {
    expect(() => orchestratorStack({ alarms: alarms as any })).toThrow(message);
  });
});

describe('DurableOrchestrator metrics of approvals and agent tasks', () => {
  test('carry the runtime namespace and the workflow dimension; the duration is an average unless told', () => {
    const { orchestrator } = orchestratorStack();
    const dims = { service: 'durable-controller', workflow: 'research-report' };
    for (const [m, name, statistic] of [
      [orchestrator.metricApprovalsRequested(), 'ApprovalsRequested', 'Sum'],
      [orchestrator.metricAgentTasksFailed(), 'AgentTasksFailed', 'Sum'],
      [orchestrator.metricAgentTaskDuration(), 'AgentTaskDuration', 'Average'],
    ] as const) {
      expect({ namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: m.statistic, period: m.period.toMinutes() })
        .toEqual({ namespace: 'CdkDurableAgents', metricName: name, dimensions: dims, statistic, period: 5 });
    }
    expect(orchestrator.metricAgentTaskDuration({ statistic: 'p90' }).statistic).toBe('p90');
  });

  test('an imported orchestrator has them too', () => {
    const stack = new Stack();
    const imported = DurableOrchestrator.fromDurableOrchestratorAttributes(stack, 'Imported', { httpApiId: 'abcde12345', workflowName: 'research-report' });
    expect(imported.metricAgentTasksFailed().dimensions).toEqual({ service: 'durable-controller', workflow: 'research-report' });
    expect(imported.metricApprovalsRequested().metricName).toBe('ApprovalsRequested');
    expect(imported.metricAgentTaskDuration().metricName).toBe('AgentTaskDuration');
  });

  test('metricControllerErrors and metricApiErrors are the functions\' Lambda errors', () => {
    const { stack, orchestrator } = orchestratorStack();
    const controller = orchestrator.metricControllerErrors();
    expect([controller.namespace, controller.metricName, controller.statistic]).toEqual(['AWS/Lambda', 'Errors', 'Sum']);
    expect(stack.resolve(controller.dimensions)).toEqual({ FunctionName: { Ref: logicalId(stack, orchestrator.controllerFunction) } });
    expect(stack.resolve(orchestrator.metricApiErrors({ period: Duration.minutes(1) }).dimensions))
      .toEqual({ FunctionName: { Ref: logicalId(stack, orchestrator.apiFunction) } });
  });
});

describe('DurableOrchestrator log encryption', () => {
  test('with encryptionKey, every log group it creates is encrypted with the key, which lets CloudWatch Logs use it', () => {
    const { stack } = orchestratorStackWithKey();
    const t = Template.fromStack(stack);
    const groups = Object.entries(t.findResources('AWS::Logs::LogGroup')).filter(([id]) => id.startsWith('Orchestrator'));
    expect(groups.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['OrchestratorApiAccessLogs', 'OrchestratorApiLogs', 'OrchestratorControllerLogs']);
    for (const [, g] of groups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] });
    const key = Object.values(t.findResources('AWS::KMS::Key'))[0];
    const logsStatements = key.Properties.KeyPolicy.Statement.filter((s: any) => JSON.stringify(s.Principal ?? {}).includes('logs.'));
    expect(logsStatements).toHaveLength(1);
    expect(logsStatements[0].Action).toEqual(expect.arrayContaining(['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*']));
    expect(JSON.stringify(logsStatements[0].Condition)).toContain('kms:EncryptionContext:aws:logs:arn');
  });

  test('without a key, the log groups keep CloudWatch Logs\' own encryption', () => {
    const { stack } = orchestratorStack();
    for (const g of Object.values(Template.fromStack(stack).findResources('AWS::Logs::LogGroup'))) expect(g.Properties.KmsKeyId).toBeUndefined();
  });

  test('cdk-nag: no unacknowledged finding with a key', () => {
    const { app } = orchestratorStackWithKey();
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Orchestrator') || f.path.startsWith('Test/Key'))).toEqual([]);
  });
});

function orchestratorStackWithKey() {
  return orchestratorStack((scope) => ({ encryptionKey: new kms.Key(scope, 'Key', { enableKeyRotation: true }) }));
}

describe('DurableOrchestrator api5xx on a shared SecureApi', () => {
  function shared(alarms?: DurableOrchestratorProps['alarms']) {
    const stack = new Stack(new App(), 'Shared');
    const api = new SecureApi(stack, 'Api');
    const fn = testAgentFunction(stack, 'agent');
    new DurableOrchestrator(stack, 'O', {
      workflow: researchWorkflow(),
      agents: ['researcher', 'analyst', 'writer'].map((name) => AgentTarget.lambdaFunction(name, fn)),
      api,
      apiBasePath: '/research',
      alarms,
    });
    return Template.fromStack(stack);
  }

  test('off by default: the SecureApi\'s serverErrors alarm watches the same metric', () => {
    const template = shared();
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
    expect(names.filter((n: string) => n.endsWith('-Api5xx'))).toEqual([]);
    expect(names.filter((n: string) => n.endsWith('-ServerErrors'))).toHaveLength(1);
  });

  test('on when asked for', () => {
    const names = Object.values(shared({ api5xx: { enabled: true } }).findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
    expect(names.filter((n: string) => n.endsWith('-Api5xx'))).toHaveLength(1);
  });
});
