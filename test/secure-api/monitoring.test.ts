/**
 * Issue 14, SecureApi part: the metrics and alarms of the API, its load balancer and its
 * services, where they notify, and the customer managed key on the log groups the API creates.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { apiStack, fullStack } from './fixtures';
import { AlarmDestination } from '../../src/monitoring';
import { SecureApiServiceOptions } from '../../src/secure-api';
import { unacknowledgedNagFindings } from '../helpers/nag';

const NGINX = ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine');
const ENGINE = ecs.ContainerImage.fromRegistry('public.ecr.aws/example/engine:1');
const web = (extra: Partial<SecureApiServiceOptions> = {}): SecureApiServiceOptions => ({ image: NGINX, pathPrefix: '/web', ...extra });

/** The alarms of a template by the last part of their name (`...-ServerErrors` -> `ServerErrors`), with the owner's path part. */
function alarms(stack: Stack): Record<string, any> {
  const byName: Record<string, any> = {};
  for (const [logicalId, r] of Object.entries<any>(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))) {
    const name = stack.resolve(r.Properties.AlarmName) as string;
    byName[logicalId.replace(/[0-9A-F]{8}$/, '')] = { ...r.Properties, AlarmName: name };
  }
  return byName;
}

/** The names (construct ids without `Alarm`) of alarms. */
const ids = (list: { node: { id: string } }[]) => list.map((a) => a.node.id.replace(/Alarm$/, ''));

describe('SecureApi metrics', () => {
  test('the HTTP API\'s errors and latency, with the deprecated singular names giving the same metrics', () => {
    const { stack, api } = apiStack();
    const shape = (m: { namespace: string; metricName: string; statistic: string; dimensions?: any }) =>
      ({ namespace: m.namespace, metricName: m.metricName, statistic: m.statistic, dimensions: stack.resolve(m.dimensions) });
    expect(shape(api.metricClientErrors())).toMatchObject({ namespace: 'AWS/ApiGateway', metricName: '4xx', statistic: 'Sum' });
    expect(shape(api.metricServerErrors())).toMatchObject({ namespace: 'AWS/ApiGateway', metricName: '5xx', statistic: 'Sum' });
    expect(shape(api.metricLatency({ statistic: 'p99' }))).toMatchObject({ metricName: 'Latency', statistic: 'p99' });
    expect(stack.resolve(api.metricServerErrors().dimensions)).toEqual({ ApiId: stack.resolve(api.httpApi.apiId) });
    expect(shape(api.metricClientError())).toEqual(shape(api.metricClientErrors()));
    expect(shape(api.metricServerError())).toEqual(shape(api.metricServerErrors()));
  });

  test('the load balancer\'s 5xx exists once a service is added; before, the call names the fix', () => {
    const { stack, api } = apiStack();
    expect(() => api.metricLoadBalancer5xx()).toThrow(/Test\/Api has no load balancer yet; it is created by the first addService\(\) call/);
    api.addInternalService('Engine', { image: ENGINE });
    expect(() => api.metricLoadBalancer5xx()).toThrow(/internal services have none/);
    api.addService('Web', web());
    const m = api.metricLoadBalancer5xx({ period: Duration.minutes(1) });
    expect(m).toMatchObject({ namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_ELB_5XX_Count', statistic: 'Sum' });
    expect(m.period.toSeconds()).toBe(60);
    expect(stack.resolve(m.dimensions)).toEqual({ LoadBalancer: stack.resolve(api.loadBalancer!.loadBalancerFullName) });
  });

  test('services: CPU, memory and running tasks for all; target group metrics for routed ones only', () => {
    const { stack, api } = apiStack();
    const routed = api.addService('Web', web());
    const internal = api.addInternalService('Engine', { image: ENGINE });
    expect(routed.metricCpuUtilization()).toMatchObject({ namespace: 'AWS/ECS', metricName: 'CPUUtilization', statistic: 'Average' });
    expect(routed.metricMemoryUtilization()).toMatchObject({ namespace: 'AWS/ECS', metricName: 'MemoryUtilization' });
    const running = internal.metricRunningTasks({ statistic: 'Minimum' });
    expect(running).toMatchObject({ namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount', statistic: 'Minimum' });
    expect(stack.resolve(running.dimensions)).toEqual({
      ClusterName: stack.resolve(api.cluster!.clusterName),
      ServiceName: stack.resolve(internal.service.serviceName),
    });
    expect(routed.metricRunningTasks().statistic).toBe('Average');
    expect(routed.metricUnhealthyHosts()).toMatchObject({ namespace: 'AWS/ApplicationELB', metricName: 'UnHealthyHostCount', statistic: 'Maximum' });
    expect(routed.metricUnhealthyHosts({ statistic: 'Average' }).statistic).toBe('Average');
    expect(routed.metricTargetResponseTime()).toMatchObject({ metricName: 'TargetResponseTime', statistic: 'Average' });
    expect(routed.metricTarget5xx()).toMatchObject({ metricName: 'HTTPCode_Target_5XX_Count', statistic: 'Sum' });
    expect(stack.resolve(routed.metricTarget5xx().dimensions)).toMatchObject({ TargetGroup: stack.resolve(routed.targetGroup!.targetGroupFullName) });
    for (const call of [() => internal.metricUnhealthyHosts(), () => internal.metricTargetResponseTime(), () => internal.metricTarget5xx()]) {
      expect(call).toThrow(/service 'Engine' is internal \(addInternalService\): it has no load balancer/);
    }
  });

  test('services lists every service in the order added', () => {
    const { api } = apiStack();
    const a = api.addService('A', web({ pathPrefix: '/a' }));
    const b = api.addInternalService('B', { image: ENGINE });
    const c = api.addService('C', web({ pathPrefix: '/c' }));
    expect(api.services).toEqual([a, b, c]);
  });
});

describe('SecureApi alarms', () => {
  test('by default: 5xx of the API only, until a service is added', () => {
    const { stack, api } = apiStack();
    expect(ids(api.alarms)).toEqual(['ServerErrors']);
    const found = alarms(stack);
    expect(Object.keys(found)).toEqual(['ApiServerErrorsAlarm']);
    expect(found.ApiServerErrorsAlarm).toMatchObject({
      AlarmName: expect.stringMatching(/^Test-Api-[0-9A-F]{8}-ServerErrors$/),
      MetricName: '5xx',
      Namespace: 'AWS/ApiGateway',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(found.ApiServerErrorsAlarm.AlarmActions).toBeUndefined();
  });

  test('the load balancer\'s alarm appears with the first service, once, and is in the API\'s alarms', () => {
    const { stack, api } = apiStack();
    api.addInternalService('Engine', { image: ENGINE });
    expect(ids(api.alarms)).toEqual(['ServerErrors']);
    api.addService('Web', web());
    api.addService('Admin', web({ pathPrefix: '/admin' }));
    expect(ids(api.alarms)).toEqual(['ServerErrors', 'LoadBalancer5xx']);
    const found = alarms(stack);
    expect(found.ApiLoadBalancer5xxAlarm).toMatchObject({
      AlarmName: expect.stringMatching(/^Test-Api-[0-9A-F]{8}-LoadBalancer5xx$/),
      MetricName: 'HTTPCode_ELB_5XX_Count',
      Namespace: 'AWS/ApplicationELB',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(Object.keys(found).filter((k) => k.startsWith('ApiLoadBalancer5xx'))).toHaveLength(1);
  });

  test('overrides: API alarms turned on, off, and changed', () => {
    const { stack, api } = apiStack({
      alarms: {
        serverErrors: { enabled: false },
        clientErrors: { enabled: true, threshold: 10 },
        latency: { enabled: true, threshold: 1000, evaluationPeriods: 5, datapointsToAlarm: 3, period: Duration.minutes(1) },
        loadBalancer5xx: { threshold: 5, alarmName: 'front-door-elb-5xx' },
      },
    });
    api.addService('Web', web());
    expect(ids(api.alarms)).toEqual(['ClientErrors', 'Latency', 'LoadBalancer5xx']);
    const found = alarms(stack);
    expect(found.ApiClientErrorsAlarm).toMatchObject({ MetricName: '4xx', Threshold: 10, EvaluationPeriods: 1 });
    expect(found.ApiLatencyAlarm).toMatchObject({
      MetricName: 'Latency', ExtendedStatistic: 'p99', Threshold: 1000, EvaluationPeriods: 5, DatapointsToAlarm: 3, Period: 60,
    });
    expect(found.ApiLoadBalancer5xxAlarm).toMatchObject({ Threshold: 5, AlarmName: 'front-door-elb-5xx' });
  });

  test('the defaults of the off-by-default API alarms', () => {
    const { stack } = apiStack({ alarms: { clientErrors: { enabled: true }, latency: { enabled: true } } });
    const found = alarms(stack);
    expect(found.ApiClientErrorsAlarm).toMatchObject({ Threshold: 50, EvaluationPeriods: 1, Period: 300 });
    expect(found.ApiLatencyAlarm).toMatchObject({ Threshold: 3000, EvaluationPeriods: 3, ExtendedStatistic: 'p99' });
  });

  test('the load balancer\'s alarm can be left out', () => {
    const { api } = apiStack({ alarms: { loadBalancer5xx: { enabled: false } } });
    api.addService('Web', web());
    expect(ids(api.alarms)).toEqual(['ServerErrors']);
  });

  test('an unknown alarm key is refused when the API is created, naming the alarms', () => {
    expect(() => apiStack({ alarms: { serverError: {} } as any }))
      .toThrow(/SecureApi: alarms.serverError names no alarm; the alarms are serverErrors, clientErrors, latency, loadBalancer5xx$/);
  });

  test('a bad setting of the load balancer\'s alarm is refused when the load balancer is created', () => {
    const { api } = apiStack({ alarms: { loadBalancer5xx: { evaluationPeriods: 0 } } });
    expect(() => api.addService('Web', web())).toThrow(/alarms.loadBalancer5xx.evaluationPeriods/);
  });

  test('a setting of the load balancer\'s alarm without a routed service is named in a warning', () => {
    const { stack, api } = apiStack({ alarms: { loadBalancer5xx: { threshold: 3 } } });
    api.addInternalService('Engine', { image: ENGINE, healthCheck: { command: ['CMD', '/app/healthcheck'] } });
    Annotations.fromStack(stack).hasWarning('/Test/Api', Match.stringLikeRegexp('^alarms.loadBalancer5xx configure .*addService\\(\\) was never called'));
  });
});

describe('service alarms', () => {
  test('a routed service: CPU, memory, running tasks, unhealthy hosts and target 5xx by default', () => {
    const { stack, api } = apiStack();
    const service = api.addService('Web', web());
    expect(ids(service.alarms)).toEqual(['CpuUtilization', 'MemoryUtilization', 'RunningTasks', 'UnhealthyHosts', 'Target5xx']);
    const found = alarms(stack);
    expect(found.ApiWebCpuUtilizationAlarm).toMatchObject({
      AlarmName: expect.stringMatching(/^Test-Api-Web-[0-9A-F]{8}-CpuUtilization$/),
      Namespace: 'AWS/ECS',
      MetricName: 'CPUUtilization',
      Statistic: 'Average',
      Threshold: 80,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(found.ApiWebMemoryUtilizationAlarm).toMatchObject({ MetricName: 'MemoryUtilization', Threshold: 80, EvaluationPeriods: 3 });
    // The floor autoscaling keeps (desiredCount 2 by default), the fewest tasks of each period, 15 minutes in a row.
    expect(found.ApiWebRunningTasksAlarm).toMatchObject({
      Namespace: 'ECS/ContainerInsights',
      MetricName: 'RunningTaskCount',
      Statistic: 'Minimum',
      Threshold: 2,
      EvaluationPeriods: 3,
      ComparisonOperator: 'LessThanThreshold',
    });
    expect(found.ApiWebUnhealthyHostsAlarm).toMatchObject({
      Namespace: 'AWS/ApplicationELB', MetricName: 'UnHealthyHostCount', Statistic: 'Maximum', Threshold: 1, EvaluationPeriods: 2,
    });
    expect(found.ApiWebTarget5xxAlarm).toMatchObject({ MetricName: 'HTTPCode_Target_5XX_Count', Statistic: 'Sum', Threshold: 1, EvaluationPeriods: 1 });
    // The cluster the API creates has Container Insights: no warning.
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Container Insights'))).toEqual([]);
  });

  test('an internal service: CPU, memory and running tasks; the target group\'s alarms are refused', () => {
    const { api } = apiStack();
    const engine = api.addInternalService('Engine', { image: ENGINE, minCapacity: 1, desiredCount: 1, maxCapacity: 3 });
    expect(ids(engine.alarms)).toEqual(['CpuUtilization', 'MemoryUtilization', 'RunningTasks']);
    expect(() => api.addInternalService('Other', { image: ENGINE, alarms: { unhealthyHosts: { enabled: false } } }))
      .toThrow(/addInternalService\('Other'\): alarms.unhealthyHosts watches the service's target group on the load balancer, and an internal service has none/);
  });

  test('overrides: the response time alarm turned on, others changed or left out', () => {
    const { stack, api } = apiStack();
    const service = api.addService('Web', web({
      minCapacity: 1,
      desiredCount: 1,
      alarms: {
        targetResponseTime: { enabled: true },
        cpuUtilization: { threshold: 90, evaluationPeriods: 2 },
        runningTasks: { enabled: false },
        target5xx: { threshold: 10, period: Duration.minutes(1) },
      },
    }));
    expect(ids(service.alarms)).toEqual(['CpuUtilization', 'MemoryUtilization', 'UnhealthyHosts', 'TargetResponseTime', 'Target5xx']);
    const found = alarms(stack);
    expect(found.ApiWebTargetResponseTimeAlarm).toMatchObject({ MetricName: 'TargetResponseTime', ExtendedStatistic: 'p99', Threshold: 2, EvaluationPeriods: 3 });
    expect(found.ApiWebCpuUtilizationAlarm).toMatchObject({ Threshold: 90, EvaluationPeriods: 2 });
    expect(found.ApiWebTarget5xxAlarm).toMatchObject({ Threshold: 10, Period: 60 });
  });

  test('the defaults follow the service: its floor, no floor, and an autoscaling target above 70 %', () => {
    const { stack, api } = apiStack();
    api.addService('Web', web({ desiredCount: 3, minCapacity: 2, maxCapacity: 6, targetCpuUtilizationPercent: 85 }));
    const idle = api.addInternalService('Idle', { image: ENGINE, desiredCount: 0, minCapacity: 0, maxCapacity: 2 });
    const found = alarms(stack);
    expect(found.ApiWebRunningTasksAlarm.Threshold).toBe(2);
    expect(found.ApiWebCpuUtilizationAlarm.Threshold).toBe(95);
    expect(ids(idle.alarms)).toEqual(['CpuUtilization', 'MemoryUtilization']);
  });

  test('an unknown key or a bad setting of a service alarm is refused, naming the service', () => {
    const { api } = apiStack();
    expect(() => api.addService('Web', web({ alarms: { cpu: {} } as any })))
      .toThrow(/SecureApi.addService\('Web'\): alarms.cpu names no alarm; the alarms are cpuUtilization, memoryUtilization, runningTasks, unhealthyHosts/);
    expect(() => api.addService('Admin', web({ pathPrefix: '/admin', alarms: { memoryUtilization: { datapointsToAlarm: 4 } } })))
      .toThrow(/SecureApi.addService\('Admin'\): alarms.memoryUtilization.datapointsToAlarm/);
  });

  test('a cluster without Container Insights, or one not defined in this app, is named in a warning', () => {
    const { stack, api } = apiStack((s) => ({ cluster: new ecs.Cluster(s, 'Plain', { vpc: new ec2.Vpc(s, 'Vpc') }) }));
    api.addService('Web', web());
    Annotations.fromStack(stack).hasWarning('/Test/Api/Web', Match.stringLikeRegexp('does not have Container Insights on.*runningTasks: \\{ enabled: false \\}'));

    const imported = apiStack((s) => {
      const vpc = new ec2.Vpc(s, 'Vpc');
      return { cluster: ecs.Cluster.fromClusterAttributes(s, 'Shared', { clusterName: 'shared', vpc }) };
    });
    imported.api.addService('Web', web());
    Annotations.fromStack(imported.stack).hasWarning('/Test/Api/Web', Match.stringLikeRegexp('not defined in this app'));

    const quiet = apiStack((s) => ({ cluster: new ecs.Cluster(s, 'Plain', { vpc: new ec2.Vpc(s, 'Vpc') }) }));
    quiet.api.addService('Web', web({ alarms: { runningTasks: { enabled: false } } }));
    expect(Annotations.fromStack(quiet.stack).findWarning('*', Match.stringLikeRegexp('Container Insights'))).toEqual([]);
  });
});

describe('alarm actions', () => {
  test('a topic: every alarm of the API, its load balancer and its services acts on it', () => {
    const { stack, api } = fullStack((s) => ({
      alarmActions: AlarmDestination.topic(new sns.Topic(s, 'OnCall')),
      alarms: { clientErrors: { enabled: true }, latency: { enabled: true } },
    }));
    const found = Object.values(alarms(stack));
    // 3 of the API, 1 of the load balancer, 5 of the routed service, 3 of the internal one.
    expect(found).toHaveLength(12);
    expect(api.alarms.length + api.services.reduce((n, s) => n + s.alarms.length, 0)).toBe(12);
    const topicId = Object.keys(Template.fromStack(stack).findResources('AWS::SNS::Topic'))[0];
    for (const alarm of found) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  test('an email: one encrypted topic with the address subscribed, and every alarm acts on it', () => {
    const { app, stack } = fullStack({ alarmActions: AlarmDestination.email('oncall@example.com') });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    const found = Object.values(alarms(stack));
    expect(found.length).toBeGreaterThan(8);
    for (const alarm of found) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
    // The fixture's own Lambda route (Test/Items) is not the API's.
    expect(unacknowledgedNagFindings(app).filter((f) => !f.path.startsWith('Test/Items/'))).toEqual([]);
  });
});

describe('logEncryptionKey', () => {
  test('encrypts every log group the API creates: access logs, health function, services, flow logs', () => {
    let key!: kms.Key;
    const { app, stack } = fullStack((s) => ({ logEncryptionKey: key = new kms.Key(s, 'LogsKey', { enableKeyRotation: true }) }));
    const t = Template.fromStack(stack);
    const groups = Object.entries<any>(t.findResources('AWS::Logs::LogGroup'));
    const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    // The access logs, the health function, the two services and the VPC's flow logs.
    expect(groups.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      ['ApiAccessLogs', 'ApiEngineLogs', 'ApiFlowLogGroup', 'ApiHealthLogs', 'ApiWebLogs'].sort());
    for (const [, g] of groups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    // CloudWatch Logs of the key's account and region may use the key.
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logs.us-east-1.amazonaws.com' },
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
        })]),
      },
    });
    expect(unacknowledgedNagFindings(app).filter((f) => !f.path.startsWith('Test/Items/'))).toEqual([]);
  });

  test('a given access log group is left as it is', () => {
    const { stack, api } = apiStack((s) => ({
      logEncryptionKey: new kms.Key(s, 'LogsKey', { enableKeyRotation: true }),
      accessLogGroup: new logs.LogGroup(s, 'Mine', { retention: logs.RetentionDays.ONE_WEEK }),
    }));
    expect(api.accessLogGroup).toBeInstanceOf(logs.LogGroup);
    const mine = Template.fromStack(stack).findResources('AWS::Logs::LogGroup');
    const [, given] = Object.entries<any>(mine).find(([id]) => id.startsWith('Mine'))!;
    expect(given.Properties.KmsKeyId).toBeUndefined();
  });

  test('without a key, the log groups use the keys CloudWatch Logs owns', () => {
    const { stack } = fullStack();
    for (const g of Object.values<any>(Template.fromStack(stack).findResources('AWS::Logs::LogGroup'))) {
      expect(g.Properties.KmsKeyId).toBeUndefined();
    }
  });
});

test('the full API with alarms on, a topic, and a key is cdk-nag clean', () => {
  const { app } = fullStack((s) => ({
    alarmActions: AlarmDestination.topic(new sns.Topic(s, 'OnCall', { enforceSSL: true, masterKey: new kms.Key(s, 'TopicKey', { enableKeyRotation: true }) })),
    alarms: { clientErrors: { enabled: true }, latency: { enabled: true } },
    logEncryptionKey: new kms.Key(s, 'LogsKey', { enableKeyRotation: true }),
  }));
  expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Api'))).toEqual([]);
});
