import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmDestination } from '../../src/monitoring';
import { AlarmSpec, createAlarms } from '../../src/private/alarms';
import { logsKey } from '../../src/private/log-encryption';
import { Throwaway } from '../../src/throwaway';
import { unacknowledgedNagFindings } from '../helpers/nag';

const metric = (period: Duration) => new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors', period });
const SPECS: AlarmSpec[] = [
  { key: 'errors', name: 'Errors', description: 'errors happened', metric, comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, threshold: 1, enabled: true },
  { key: 'saturation', name: 'Saturation', description: 'busy', metric, comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, threshold: 80, enabled: false, evaluationPeriods: 3 },
];

function stackWith(build: (scope: Construct) => void) {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
  build(new Construct(stack, 'Owner'));
  return { app, stack, template: () => Template.fromStack(stack) };
}

describe('createAlarms', () => {
  test('creates the alarms enabled by default, named after the owner, with their defaults', () => {
    const { template } = stackWith((owner) => createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS }));
    template().resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template().hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('^S-Owner-[0-9A-F]{8}-Errors$'),
      Threshold: 1,
      EvaluationPeriods: 1,
      Period: 300,
      TreatMissingData: 'notBreaching',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('a config turns alarms on and off and overrides threshold, periods, period and name', () => {
    const { template } = stackWith((owner) => createAlarms(owner, {
      owner: 'Thing',
      prop: 'alarms',
      specs: SPECS,
      configs: { errors: { enabled: false }, saturation: { enabled: true, threshold: 90, evaluationPeriods: 5, datapointsToAlarm: 4, period: Duration.minutes(1), alarmName: 'busy-owner' } },
    }));
    template().resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template().hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'busy-owner', Threshold: 90, EvaluationPeriods: 5, DatapointsToAlarm: 4, Period: 60 });
  });

  test.each([
    [{ typo: { threshold: 1 } }, /alarms\.typo names no alarm; the alarms are errors, saturation/],
    [{ errors: { evaluationPeriods: 0 } }, /alarms\.errors\.evaluationPeriods \(alarms\.errors\.evaluation_periods in Python\) is 0/],
    [{ errors: { evaluationPeriods: 2, datapointsToAlarm: 3 } }, /alarms\.errors\.datapointsToAlarm \(alarms\.errors\.datapoints_to_alarm in Python\) is 3; it must be a whole number from 1 to 2/],
    [{ errors: { period: Duration.seconds(90) } }, /alarms\.errors\.period must be a whole number of minutes/],
    [{ errors: { threshold: Number.NaN } }, /alarms\.errors\.threshold is NaN/],
  ])('refuses %j', (configs, message) => {
    expect(() => stackWith((owner) => createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS, configs }))).toThrow(message);
  });
});

describe('AlarmDestination', () => {
  test('topic: every alarm of the construct acts on the topic', () => {
    const { template } = stackWith((owner) => {
      const topic = new sns.Topic(owner, 'Topic');
      createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS, configs: { saturation: { enabled: true } }, destination: AlarmDestination.topic(topic) });
    });
    const alarms = Object.values(template().findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^OwnerTopic/) }]);
  });

  test('email: one encrypted, TLS-only topic per stack and address, subscribed; CloudWatch may use its key; cdk-nag clean', () => {
    const destination = AlarmDestination.email('oncall@example.com');
    const { app, template } = stackWith((owner) => {
      createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS, destination });
      createAlarms(new Construct(owner, 'Other'), { owner: 'Thing', prop: 'alarms', specs: SPECS, destination: AlarmDestination.email('OnCall@example.com') });
    });
    template().resourceCountIs('AWS::SNS::Topic', 1);
    template().resourceCountIs('AWS::KMS::Key', 1);
    template().hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template().hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template().hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
    template().hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    const topicRef = Object.keys(template().findResources('AWS::SNS::Topic'))[0];
    for (const a of Object.values(template().findResources('AWS::CloudWatch::Alarm'))) expect(a.Properties.AlarmActions).toEqual([{ Ref: topicRef }]);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });

  test('email refuses what is not an address', () => {
    expect(() => AlarmDestination.email('oncall')).toThrow(/'oncall' is not an email address; give one such as 'oncall@example.com'/);
  });

  test('notifyAlarmsIn gives every alarm under the scope the destination once, the user\'s alarms too', () => {
    const { template } = stackWith((owner) => {
      const topic = new sns.Topic(owner, 'Topic');
      const destination = AlarmDestination.topic(topic);
      createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS, destination });
      new cloudwatch.Alarm(owner, 'Mine', { metric: metric(Duration.minutes(1)), threshold: 1, evaluationPeriods: 1 });
      destination.notifyAlarmsIn(owner);
    });
    const alarms = Object.values(template().findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^OwnerTopic/) }]);
  });
});

describe('a destination of the user\'s own (AlarmDestination is extensible: the library calls only topicFor)', () => {
  /** One topic per stack, named by the team: what a user's destination typically does. */
  class TeamDestination extends AlarmDestination {
    public readonly asked: string[] = [];
    constructor(private readonly team: string) {
      super();
    }
    public topicFor(scope: Construct): sns.ITopic {
      this.asked.push(scope.node.path);
      const stack = Stack.of(scope);
      const id = `${this.team}Alarms`;
      return (stack.node.tryFindChild(id) as sns.ITopic | undefined) ?? new sns.Topic(stack, id, { topicName: `${this.team}-alarms` });
    }
  }

  test('receives every alarm, through a construct\'s destination and through notifyAlarmsIn, once each', () => {
    const destination = new TeamDestination('payments');
    const { template } = stackWith((owner) => {
      createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS, destination });
      new cloudwatch.Alarm(owner, 'Mine', { metric: metric(Duration.minutes(1)), threshold: 1, evaluationPeriods: 1 });
      destination.notifyAlarmsIn(owner);
    });
    template().resourceCountIs('AWS::SNS::Topic', 1);
    template().hasResourceProperties('AWS::SNS::Topic', { TopicName: 'payments-alarms' });
    const alarms = Object.values(template().findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^paymentsAlarms/) }]);
    // Asked for each alarm (twice for the construct's alarm: its topic decides whether it is already there).
    expect([...new Set(destination.asked)].sort()).toEqual(['S/Owner/ErrorsAlarm', 'S/Owner/Mine']);
  });

  test('a topicFor that returns no topic is refused, naming the alarm and what to return', () => {
    class Broken extends AlarmDestination {
      public topicFor(): sns.ITopic {
        return undefined as unknown as sns.ITopic;
      }
    }
    expect(() => stackWith((owner) => createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS, destination: new Broken() })))
      .toThrow(/^Broken\.topicFor returned undefined for the alarm 'S\/Owner\/ErrorsAlarm'; return an SNS topic \(sns\.ITopic\)/);
  });
});

describe('logsKey', () => {
  test('lets CloudWatch Logs of the region use a key of the app, once, for log groups of its account and region', () => {
    const { template } = stackWith((owner) => {
      const key = new kms.Key(owner, 'Key');
      new logs.LogGroup(owner, 'A', { encryptionKey: logsKey(key) });
      new logs.LogGroup(owner, 'B', { encryptionKey: logsKey(key) });
    });
    const statements = Object.values(template().findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement;
    const forLogs = statements.filter((s: { Principal?: { Service?: string } }) => s.Principal?.Service === 'logs.eu-west-1.amazonaws.com');
    expect(forLogs).toHaveLength(1);
    expect(forLogs[0].Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:123456789012:log-group:*']],
    });
    template().resourcePropertiesCountIs('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue() }, 2);
  });

  test('no key, no change', () => {
    expect(logsKey(undefined)).toBeUndefined();
  });
});

test('email with a key of the app: the topic uses it and CloudWatch may use it', () => {
  const { template } = stackWith((owner) => {
    const key = new kms.Key(owner, 'Shared', { enableKeyRotation: true });
    createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS, destination: AlarmDestination.email('ops@example.com', { encryptionKey: key }) });
  });
  template().resourceCountIs('AWS::KMS::Key', 1);
  template().hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OwnerShared'), 'Arn'] } });
  template().hasResourceProperties('AWS::KMS::Key', {
    KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
  });
});

test('email under the throwaway switch: the key it creates is deleted with the stack', () => {
  const app = new App();
  const stack = new Stack(app, 'T');
  Throwaway.enable(stack);
  createAlarms(new Construct(stack, 'Owner'), { owner: 'Thing', prop: 'alarms', specs: SPECS, destination: AlarmDestination.email('ops@example.com') });
  Template.fromStack(stack).hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ PendingWindowInDays: 7 }) });
});

test('two destinations of one address (alarmActions and notifyAlarmsIn) notify its topic once', () => {
  const app = new App();
  const stack = new Stack(app, 'S');
  const owner = new Construct(stack, 'Owner');
  createAlarms(owner, { owner: 'Thing', prop: 'alarms', specs: SPECS, destination: AlarmDestination.email('ops@example.com') });
  AlarmDestination.email('ops@example.com').notifyAlarmsIn(stack);
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::SNS::Topic', 1);
  const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm'))[0];
  expect(alarm.Properties.AlarmActions).toHaveLength(1);
});

test('refuses periods times evaluationPeriods past what CloudWatch allows', () => {
  expect(() => stackWith((owner) => createAlarms(owner, {
    owner: 'Thing', prop: 'alarms', specs: SPECS, configs: { errors: { period: Duration.minutes(30), evaluationPeriods: 100 } },
  }))).toThrow(/Thing: alarms\.errors evaluates 100 periods of 30 minutes \(50 hours\); CloudWatch allows at most 24 hours .*lower alarms\.errors\.evaluationPeriods to 48 or less/);
  expect(() => stackWith((owner) => createAlarms(owner, {
    owner: 'Thing', prop: 'alarms', specs: SPECS, configs: { errors: { period: Duration.hours(2), evaluationPeriods: 84 } },
  }))).not.toThrow();
});

test('logsKey warns at synth about an imported key, whose policy it cannot change', () => {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666');
  new logs.LogGroup(stack, 'A', { encryptionKey: logsKey(key) });
  Annotations.fromStack(stack).hasWarning('/S/Imported', Match.stringLikeRegexp('imported key: its key policy must already let logs.eu-west-1.amazonaws.com use it'));
});
