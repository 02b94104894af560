/**
 * ServiceRouting.cloudMap(): routed services reached through the VPC link at their Cloud Map SRV
 * records, with no load balancer (and so no WAF).
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { apiStack } from './fixtures';
import { ApiAuthorization, SecureApiProps, SecureApiServiceOptions, ServiceRouting } from '../../src/secure-api';
import { unacknowledgedNagFindings } from '../helpers/nag';

const IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine');
const HEALTH = { command: ['CMD-SHELL', 'wget -qO- http://localhost:8000/web/health || exit 1'], interval: Duration.seconds(15) };
const CLOUD_MAP: SecureApiProps = { serviceRouting: ServiceRouting.cloudMap(), waf: false };
const SERVICE: SecureApiServiceOptions = { image: IMAGE, pathPrefix: '/web', containerPort: 8000, healthCheck: HEALTH, desiredCount: 1 };

function cloudMapApi(service: Partial<SecureApiServiceOptions> = {}) {
  const built = apiStack(CLOUD_MAP);
  const web = built.api.addService('Web', { ...SERVICE, ...service });
  return { ...built, web, template: Template.fromStack(built.stack) };
}

function values<T = any>(t: Template, type: string): T[] {
  return Object.values(t.findResources(type)) as T[];
}

describe('ServiceRouting.cloudMap()', () => {
  test('no load balancer, target group, WAF or access log bucket; the default (loadBalancer) is unchanged', () => {
    const { template, api, web } = cloudMapApi();
    for (const type of ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::WAFv2::WebACL', 'AWS::WAFv2::WebACLAssociation', 'AWS::S3::Bucket']) {
      template.resourceCountIs(type, 0);
    }
    template.resourceCountIs('AWS::ApiGatewayV2::VpcLink', 1);
    expect(api.loadBalancer).toBeUndefined();
    expect(api.webAcl).toBeUndefined();
    expect(api.vpcLink).toBeDefined();
    expect(web.targetGroup).toBeUndefined();
    expect(web.discoveryName).toBe('web.internal');
    expect(web.endpoint).toBe('web.internal:8000');
    expect(ServiceRouting.loadBalancer().kind).toBe('loadBalancer');
    const lb = apiStack();
    lb.api.addService('Web', { image: IMAGE, pathPrefix: '/web' });
    Template.fromStack(lb.stack).resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
  });

  test('the ECS service registers SRV records (the container port) with a custom health check fed by the container health check', () => {
    const { template } = cloudMapApi();
    const [discovery] = values(template, 'AWS::ServiceDiscovery::Service');
    expect(discovery.Properties).toMatchObject({
      Name: 'web',
      DnsConfig: { DnsRecords: [{ Type: 'SRV', TTL: 10 }], RoutingPolicy: 'MULTIVALUE' },
      HealthCheckCustomConfig: { FailureThreshold: 1 },
    });
    const [service] = values(template, 'AWS::ECS::Service');
    expect(service.Properties.ServiceRegistries).toEqual([{
      RegistryArn: { 'Fn::GetAtt': [expect.stringMatching(/^ApiWebServiceCloudmapService/), 'Arn'] },
      ContainerName: 'app',
      ContainerPort: 8000,
    }]);
    expect(service.Properties.LoadBalancers).toBeUndefined();
    expect(service.Properties.HealthCheckGracePeriodSeconds).toBeUndefined();
    const [task] = values(template, 'AWS::ECS::TaskDefinition');
    expect(task.Properties.ContainerDefinitions[0].HealthCheck).toMatchObject({ Command: HEALTH.command, Interval: 15 });
  });

  test('every route of the service goes to one HTTP_PROXY integration on the Cloud Map service through the VPC link, with the caller\'s IP header', () => {
    const { template } = cloudMapApi({ routes: [{ path: '/web/chat', methods: [apigwv2.HttpMethod.POST], authorization: ApiAuthorization.none() }] });
    const integrations = Object.entries<any>(template.findResources('AWS::ApiGatewayV2::Integration'))
      .filter(([, i]) => i.Properties.ConnectionType === 'VPC_LINK');
    expect(integrations).toHaveLength(1);
    const [[integrationId, integration]] = integrations;
    expect(integration.Properties).toMatchObject({
      IntegrationType: 'HTTP_PROXY',
      IntegrationMethod: 'ANY',
      IntegrationUri: { 'Fn::GetAtt': [expect.stringMatching(/^ApiWebServiceCloudmapService/), 'Arn'] },
      ConnectionId: { Ref: expect.stringMatching(/^ApiVpcLink/) },
      RequestParameters: { 'overwrite:header.x-client-source-ip': '$context.identity.sourceIp' },
    });
    const routes = values(template, 'AWS::ApiGatewayV2::Route').filter((r) => r.Properties.RouteKey !== 'GET /health');
    expect(Object.fromEntries(routes.map((r) => [r.Properties.RouteKey, r.Properties.AuthorizationType]))).toEqual({
      'ANY /web': 'AWS_IAM', 'ANY /web/{proxy+}': 'AWS_IAM', 'POST /web/chat': 'NONE',
    });
    for (const r of routes) expect(r.Properties.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
  });

  test('the tasks admit only the VPC link, on the container port; the VPC link reaches only the tasks, on that port', () => {
    const { template } = cloudMapApi();
    const ingress = values(template, 'AWS::EC2::SecurityGroupIngress').map((i) => i.Properties);
    expect(ingress).toEqual([{
      GroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiWebSecurityGroup/), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiVpcLinkSecurityGroup/), 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 8000,
      ToPort: 8000,
      Description: 'From the API Gateway VPC link only',
    }]);
    const egress = values(template, 'AWS::EC2::SecurityGroupEgress').map((e) => e.Properties);
    expect(egress).toEqual([{
      GroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiVpcLinkSecurityGroup/), 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiWebSecurityGroup/), 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 8000,
      ToPort: 8000,
      Description: 'From the API Gateway VPC link only',
    }]);
    const groups = values(template, 'AWS::EC2::SecurityGroup');
    const link = groups.find((g) => /VPC link/.test(g.Properties.GroupDescription));
    expect(link.Properties.GroupDescription).toMatch(/reaches only the tasks of its services/);
    expect(link.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('alarms: CPU, memory and running tasks; none of the target group\'s, and no load balancer 5xx', () => {
    const { template, web, api } = cloudMapApi();
    expect(web.alarms.map((a) => a.node.id)).toEqual(['CpuUtilizationAlarm', 'MemoryUtilizationAlarm', 'RunningTasksAlarm']);
    expect(api.alarms.map((a) => a.node.id)).toEqual(['ServerErrorsAlarm']);
    const metrics = values(template, 'AWS::CloudWatch::Alarm').map((a) => a.Properties.MetricName);
    expect(metrics.sort()).toEqual(['5xx', 'CPUUtilization', 'MemoryUtilization', 'RunningTaskCount']);
  });

  test('the load balancer\'s and the target group\'s metrics say there is none, and why', () => {
    const { api, web } = cloudMapApi();
    expect(() => api.metricLoadBalancer5xx()).toThrow(/routes its services through Cloud Map \(ServiceRouting.cloudMap\(\)\), so it has no load balancer/);
    expect(() => web.metricTarget5xx()).toThrow(/service 'Web' is routed through Cloud Map \(ServiceRouting.cloudMap\(\)\): it has no load balancer/);
    expect(() => web.metricUnhealthyHosts()).toThrow(/no target group to measure/);
  });

  test('refused on the API: WAF left on (or unset), and load balancer settings', () => {
    expect(() => apiStack({ serviceRouting: ServiceRouting.cloudMap() }))
      .toThrow(/no load balancer to put the WAF web ACL on \(WAF cannot be attached to an HTTP API\), but waf is unset \(default true\)\. Give waf: false/);
    expect(() => apiStack({ serviceRouting: ServiceRouting.cloudMap(), waf: true })).toThrow(/but waf is true/);
    expect(() => apiStack({ ...CLOUD_MAP, wafRateLimit: 100, alarms: { loadBalancer5xx: { threshold: 5 } } }))
      .toThrow(/ServiceRouting.cloudMap\(\), which creates no load balancer, but wafRateLimit, alarms.loadBalancer5xx configure the load balancer/);
    expect(() => apiStack({ ...CLOUD_MAP, loadBalancerAccessLogs: true })).toThrow(/but loadBalancerAccessLogs: true configure/);
  });

  test('refused on the service: no container health check, load-balancer-only options, target group alarms', () => {
    const { api } = apiStack(CLOUD_MAP);
    expect(() => api.addService('A', { ...SERVICE, pathPrefix: '/a', healthCheck: undefined }))
      .toThrow(/SecureApi.addService\('A'\): the API routes through Cloud Map .* give healthCheck: \{ command: \[\.\.\.\] \}/);
    expect(() => api.addService('B', { ...SERVICE, pathPrefix: '/b', healthCheckPath: '/b/health' }))
      .toThrow(/addService\('B'\): healthCheckPath is set, but the API routes through Cloud Map/);
    expect(() => api.addService('C', { ...SERVICE, pathPrefix: '/c', healthCheckGracePeriod: Duration.seconds(120) }))
      .toThrow(/healthCheckGracePeriod is set, .*give healthCheck.startPeriod instead/);
    expect(() => api.addService('D', { ...SERVICE, pathPrefix: '/d', requestsPerTarget: 100 })).toThrow(/requestsPerTarget is set/);
    expect(() => api.addService('E', { ...SERVICE, pathPrefix: '/e', alarms: { target5xx: { threshold: 2 } } }))
      .toThrow(/alarms.target5xx watches the service's target group on the load balancer, and with ServiceRouting.cloudMap\(\) there is none/);
    // Nothing was created for the refused services.
    expect(api.services).toEqual([]);
  });

  test('a routed and an internal service share the namespace, and a name may be used once', () => {
    const { api, stack } = apiStack(CLOUD_MAP);
    api.addService('Web', SERVICE);
    api.addInternalService('Engine', { image: IMAGE, containerPort: 50051, healthCheck: { command: ['CMD', '/engine', 'health'] } });
    expect(() => api.addInternalService('web', { image: IMAGE })).toThrow(/another service is named 'web' in Cloud Map; set discoveryName/);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ServiceDiscovery::PrivateDnsNamespace', 1);
    expect(values(t, 'AWS::ServiceDiscovery::Service').map((s) => s.Properties.DnsConfig.DnsRecords[0].Type).sort()).toEqual(['A', 'SRV']);
  });

  test('cdk-nag: nothing unacknowledged', () => {
    const { app } = cloudMapApi();
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Api'))).toEqual([]);
  });

  test('a hand-built ServiceRouting is refused', () => {
    const Ctor = ServiceRouting as unknown as new () => ServiceRouting;
    expect(() => new Ctor()).toThrow(/ServiceRouting cannot be subclassed or constructed directly .*use ServiceRouting.loadBalancer\(\) or ServiceRouting.cloudMap\(\)/);
  });
});
