import { App, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { apiStack, ENV, fullStack, itemsFunction } from './fixtures';
import { ApiAuthorization, ApiAuthorizationType, SecureApi } from '../../src/secure-api';
import { cfnLint } from '../helpers/cfn-lint';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { maskedTemplate } from '../helpers/snapshot';
import { testIfInstalled } from '../helpers/tools';

const NGINX = ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine');
const CERT_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

function routes(template: Template): Record<string, any> {
  const byKey: Record<string, any> = {};
  for (const r of Object.values(template.findResources('AWS::ApiGatewayV2::Route'))) byKey[r.Properties.RouteKey] = r.Properties;
  return byKey;
}

function policyStatements(template: Template): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('SecureApi defaults (no services)', () => {
  const { stack, api } = apiStack();
  const template = Template.fromStack(stack);

  test('an HTTP API with a $default stage: throttled, JSON access logs to a log group with retention', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  test('the only route is GET /health, anonymous, answered by the health function', () => {
    const r = routes(template);
    expect(Object.keys(r)).toEqual(['GET /health']);
    expect(r['GET /health'].AuthorizationType).toBe('NONE');
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('status.*ok'), MemorySize: 128 });
    expect(api.healthFunction).toBeDefined();
  });

  test('url is the stage URL; the default authorization is IAM', () => {
    expect(stack.resolve(api.url)).toEqual(stack.resolve(api.stage.url));
    expect(api.authorization.authorizationType).toBe(ApiAuthorizationType.IAM);
  });

  test('metrics for 4xx, 5xx and latency of this API', () => {
    expect(api.metricClientErrors().metricName).toBe('4xx');
    expect(api.metricServerErrors().metricName).toBe('5xx');
    const latency = api.metricLatency({ statistic: 'p99', period: Duration.minutes(1) });
    expect(latency.metricName).toBe('Latency');
    expect(latency.statistic).toBe('p99');
    expect(stack.resolve(latency.dimensions)).toEqual({ ApiId: { Ref: expect.stringMatching(/^ApiHttpApi/) } });
  });

  test('snapshot', () => {
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });
});

describe('Lambda routes', () => {
  test('IAM by default, one route per method, one integration per function', () => {
    const { stack, api } = apiStack();
    const fn = itemsFunction(stack);
    const created = api.addLambdaRoute('Items', { path: '/items', methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST], handler: fn });
    api.addLambdaRoute('Item', { path: '/items/{id}', methods: [apigwv2.HttpMethod.GET], handler: fn });
    expect(created).toHaveLength(2);
    const t = Template.fromStack(stack);
    const r = routes(t);
    expect(Object.keys(r).sort()).toEqual(['GET /health', 'GET /items', 'GET /items/{id}', 'POST /items']);
    for (const key of ['GET /items', 'POST /items', 'GET /items/{id}']) expect(r[key].AuthorizationType).toBe('AWS_IAM');
    // the health function's integration and one shared for the three routes of fn
    t.resourceCountIs('AWS::ApiGatewayV2::Integration', 2);
  });

  test('a route keeps its logical id when its call gains a method (a renamed route would be a second route with the same key)', () => {
    const logicalIdOf = (methods: apigwv2.HttpMethod[], key: string) => {
      const { stack, api } = apiStack();
      api.addLambdaRoute('Items', { path: '/items', methods, handler: itemsFunction(stack) });
      return Object.keys(Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: key } }));
    };
    const alone = logicalIdOf([apigwv2.HttpMethod.GET], 'GET /items');
    expect(alone).toEqual([expect.stringMatching(/^ApiItemsGETRoute/)]);
    expect(logicalIdOf([apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST], 'GET /items')).toEqual(alone);
  });

  test('methods default to ANY', () => {
    const { stack, api } = apiStack();
    api.addLambdaRoute('Files', { path: '/files/{proxy+}', handler: itemsFunction(stack) });
    expect(routes(Template.fromStack(stack))['ANY /files/{proxy+}']).toBeDefined();
  });

  test('JWT authorization for the whole API: one authorizer, routes of type JWT with scopes', () => {
    const { stack, api } = apiStack({ authorization: ApiAuthorization.jwt({ issuer: 'https://issuer.example.com/', audience: ['my-api'] }) });
    api.addLambdaRoute('Items', { path: '/items', handler: itemsFunction(stack), authorizationScopes: ['items/read'] });
    api.addLambdaRoute('Other', { path: '/other', handler: itemsFunction(stack, 'Other') });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Audience: ['my-api'], Issuer: 'https://issuer.example.com/' },
    });
    const r = routes(t);
    expect(r['ANY /items']).toMatchObject({ AuthorizationType: 'JWT', AuthorizationScopes: ['items/read'] });
    expect(r['ANY /other'].AuthorizationType).toBe('JWT');
    expect(r['GET /health'].AuthorizationType).toBe('NONE');
  });

  test('Cognito user pool authorization', () => {
    const { stack, api } = apiStack((s) => {
      const pool = new cognito.UserPool(s, 'Pool');
      return { authorization: ApiAuthorization.cognito({ userPool: pool, userPoolClients: [pool.addClient('Client')] }) };
    });
    api.addLambdaRoute('Items', { path: '/items', handler: itemsFunction(stack) });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Audience: [{ Ref: Match.stringLikeRegexp('PoolClient') }], Issuer: Match.anyValue() },
    });
  });

  test('a route may use other authorization than the API, and none() only when named, acknowledged for cdk-nag', () => {
    const { app, stack, api } = apiStack();
    api.addLambdaRoute('Public', { path: '/public', methods: [apigwv2.HttpMethod.GET], handler: itemsFunction(stack), authorization: ApiAuthorization.none() });
    const r = routes(Template.fromStack(stack));
    expect(r['GET /public'].AuthorizationType).toBe('NONE');
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Api'))).toEqual([]);
    const route = Object.values(Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route'))
      .find((x) => x.Properties.RouteKey === 'GET /public')!;
    expect(route.Metadata.cdk_nag.rules_to_suppress).toEqual([expect.objectContaining({ id: 'AwsSolutions-APIG4', reason: expect.stringMatching(/ApiAuthorization.none/) })]);
    Annotations.fromStack(stack).hasInfo('/Test/Api', Match.stringLikeRegexp('GET /public .*anonymous'));
  });
});

describe('what an API without services creates', () => {
  test('Lambda routes only: no VPC, subnet, security group, cluster, load balancer, VPC link, WAF, bucket or namespace', () => {
    const { stack, api } = apiStack();
    api.addLambdaRoute('Items', { path: '/items', handler: itemsFunction(stack) });
    api.addLambdaRoute('Item', { path: '/items/{id}', methods: [apigwv2.HttpMethod.GET], handler: itemsFunction(stack, 'Item') });
    const t = Template.fromStack(stack);
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::SecurityGroup', 'AWS::EC2::NatGateway', 'AWS::ECS::Cluster',
      'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ApiGatewayV2::VpcLink', 'AWS::WAFv2::WebACL', 'AWS::WAFv2::WebACLAssociation',
      'AWS::S3::Bucket', 'AWS::ServiceDiscovery::PrivateDnsNamespace']) {
      expect({ type, count: Object.keys(t.findResources(type)).length }).toEqual({ type, count: 0 });
    }
    expect([api.vpc, api.cluster, api.loadBalancer, api.listener, api.vpcLink, api.webAcl, api.loadBalancerAccessLogBucket, api.cloudMapNamespace])
      .toEqual(new Array(8).fill(undefined));
    expect(api.services).toEqual([]);
  });
});

describe('anonymous routes', () => {
  test('an anonymous route is reported and acknowledged whatever its id, even \'Health\'', () => {
    const { app, stack, api } = apiStack();
    api.addLambdaRoute('Health', {
      path: '/open',
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
      handler: itemsFunction(stack),
      authorization: ApiAuthorization.none(),
    });
    Annotations.fromStack(stack).hasInfo('/Test/Api', Match.stringLikeRegexp('GET /open, POST /open .*anonymous'));
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Api'))).toEqual([]);
    const open = Object.values(Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route')).filter((r) => r.Properties.RouteKey.endsWith('/open'));
    expect(open.map((r) => r.Metadata.cdk_nag.rules_to_suppress[0].reason)).toEqual([
      expect.stringMatching(/declared .*anonymous by name/), expect.stringMatching(/declared .*anonymous by name/),
    ]);
  });
});

describe('grantInvoke', () => {
  function grantedResource(stack: Stack): unknown {
    const st = policyStatements(Template.fromStack(stack)).find((s) => s.Action === 'execute-api:Invoke');
    return st.Resource;
  }

  test('one route: method and path, parameters as *', () => {
    const { stack, api } = apiStack();
    api.addLambdaRoute('Item', { path: '/items/{id}/parts/{part+}', methods: [apigwv2.HttpMethod.GET], handler: itemsFunction(stack) });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    api.grantInvoke(role, 'GET /items/{id}/parts/{part+}');
    expect(JSON.stringify(grantedResource(stack))).toMatch(/\/\$default\/GET\/items\/\*\/parts\/\*"/);
  });

  test('a method matches the ANY route of its path; ANY grants every method', () => {
    const { stack, api } = apiStack();
    api.addLambdaRoute('Files', { path: '/files', handler: itemsFunction(stack) });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    api.grantInvoke(role, 'PUT /files');
    api.grantInvoke(role, 'ANY /files');
    const resources = policyStatements(Template.fromStack(stack)).filter((s) => s.Action === 'execute-api:Invoke').map((s) => JSON.stringify(s.Resource));
    expect(resources.join()).toMatch(/\$default\/PUT\/files/);
    expect(resources.join()).toMatch(/\$default\/\*\/files/);
  });

  test('without a route: every route of the API on its $default stage, acknowledged with a reason', () => {
    const { app, stack, api } = apiStack();
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    api.grantInvoke(role);
    expect(JSON.stringify(grantedResource(stack))).toMatch(/:execute-api:us-east-1:123456789012:",\{"Ref":"ApiHttpApi[0-9A-F]+"\},"\/\$default\/\*\/\*"/);
    expect(unacknowledgedNagFindings(app).filter((f) => f.rule.includes('IAM5'))).toEqual([]);
  });

  test('a route added after the grant is checked at synth', () => {
    const { app, stack, api } = apiStack();
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    api.grantInvoke(role, 'POST /later');
    api.addLambdaRoute('Later', { path: '/later', methods: [apigwv2.HttpMethod.POST], handler: itemsFunction(stack) });
    expect(() => app.synth()).not.toThrow();
  });

  test('a grant on a route never added fails synth', () => {
    const { app, stack, api } = apiStack();
    api.grantInvoke(new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }), 'GET /missing');
    expect(() => app.synth()).toThrow(/no route 'GET \/missing' was added/);
  });

  test('refuses a JWT API without a route, a JWT route, and a malformed route', () => {
    const jwt = ApiAuthorization.jwt({ issuer: 'https://issuer.example.com/', audience: ['a'] });
    const { stack, api } = apiStack({ authorization: jwt });
    api.addLambdaRoute('Items', { path: '/items', handler: itemsFunction(stack) });
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => api.grantInvoke(role)).toThrow(/authorizes with JWT .*not IAM/);
    expect(() => api.grantInvoke(role, 'GET /items')).toThrow(/route 'ANY \/items' authorizes with JWT, not IAM/);
    expect(() => api.grantInvoke(role, 'GET /health')).toThrow(/authorizes with NONE/);
    expect(() => api.grantInvoke(role, 'get /items')).toThrow(/must be '<METHOD> <path>'/);
    expect(() => api.grantInvoke(role, 'GET items')).toThrow(/must be '<METHOD> <path>'/);
  });
});

describe('custom domain and CORS', () => {
  test('a domain name with the certificate, the API mapping, an alias record; url is the domain', () => {
    const { stack, api } = apiStack((s) => ({
      domain: {
        domainName: 'api.example.com',
        certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT_ARN),
        hostedZone: route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' }),
      },
      disableExecuteApiEndpoint: true,
    }));
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'api.example.com',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: CERT_ARN, SecurityPolicy: 'TLS_1_2' })],
    });
    t.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    t.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'api.example.com.', Type: 'A', HostedZoneId: 'Z123' });
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    expect(api.url).toBe('https://api.example.com/');
  });

  test('CORS as configured', () => {
    const { stack } = apiStack({ cors: { allowOrigins: ['https://app.example.com'], allowMethods: [apigwv2.CorsHttpMethod.GET], allowCredentials: true } });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: { AllowOrigins: ['https://app.example.com'], AllowMethods: ['GET'], AllowCredentials: true },
    });
  });

  test('throttling, retention, removal policy and a log group of your own', () => {
    const { stack } = apiStack((s) => ({
      throttlingRateLimit: 20,
      throttlingBurstLimit: 40,
      accessLogGroup: new logs.LogGroup(s, 'Mine', { logGroupName: 'mine', retention: logs.RetentionDays.ONE_YEAR }),
      logRetention: logs.RetentionDays.ONE_WEEK,
    }));
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Mine'), 'Arn'] } },
    });
    // the health function's log group has the construct's retention; the API creates no log group of its own
    expect(Object.values(t.findResources('AWS::Logs::LogGroup')).map((l) => l.Properties.RetentionInDays).sort()).toEqual([365, 7]);
  });
});

describe('services', () => {
  const { stack, api } = fullStack();
  const template = Template.fromStack(stack);

  test('a VPC with flow logs and a cluster with Container Insights are created on the first service', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    expect(api.vpc).toBeDefined();
    expect(api.cluster).toBeDefined();
  });

  test('the load balancer is internal, in private subnets, drops invalid headers, and logs to an encrypted bucket', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.prefix', Value: 'alb' },
      ]),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90 })] },
    });
    const bucketPolicy = JSON.stringify(template.findResources('AWS::S3::BucketPolicy'));
    expect(bucketPolicy).toContain('aws:SecureTransport');
    // log delivery: the region's ELB account (us-east-1) writes under the prefix, for this account only
    const statements = Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(expect.objectContaining({
      Effect: 'Allow',
      Action: 's3:PutObject',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::127311923021:root']] } },
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ApiLoadBalancerAccessLogs/), 'Arn'] }, '/alb/AWSLogs/123456789012/*']] },
    }));
    expect(api.loadBalancerAccessLogBucket).toBeDefined();
  });

  test('the load balancer admits only the VPC link, and reaches only the routed service on its port', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const lbIngress = ingress.filter((i) => JSON.stringify(i.GroupId).includes('LoadBalancerSecurityGroup'));
    expect(lbIngress).toEqual([expect.objectContaining({
      FromPort: 80,
      ToPort: 80,
      SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiVpcLinkSecurityGroup/), 'GroupId'] },
    })]);
    const lbSg = Object.entries(template.findResources('AWS::EC2::SecurityGroup')).find(([k]) => k.startsWith('ApiLoadBalancerSecurityGroup'))![1];
    expect(JSON.stringify(lbSg.Properties.SecurityGroupIngress ?? [])).not.toContain('0.0.0.0/0');
    // the VPC link reaches the load balancer's listener port and nothing else
    const linkSg = Object.entries(template.findResources('AWS::EC2::SecurityGroup')).find(([k]) => k.startsWith('ApiVpcLinkSecurityGroup'))![1];
    expect(JSON.stringify(linkSg.Properties.SecurityGroupEgress ?? [])).not.toContain('0.0.0.0/0');
    const linkEgress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties)
      .filter((e) => JSON.stringify(e.GroupId).includes('ApiVpcLinkSecurityGroup'));
    expect(linkEgress).toEqual([expect.objectContaining({
      FromPort: 80, ToPort: 80, DestinationSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiLoadBalancerSecurityGroup/), 'GroupId'] },
    })]);
    const webIngress = ingress.filter((i) => JSON.stringify(i.GroupId).includes('ApiWebSecurityGroup'));
    expect(webIngress).toEqual([expect.objectContaining({
      FromPort: 8080,
      SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiLoadBalancerSecurityGroup/), 'GroupId'] },
    })]);
  });

  test('listener: HTTP, default action a 404 JSON, a path rule for the service, health check on /health', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'application/json', MessageBody: Match.anyValue() } }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/web', '/web/*'] } }],
      Priority: 10,
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080, Protocol: 'HTTP', TargetType: 'ip', HealthCheckPath: '/health', Matcher: { HttpCode: '200' },
    });
  });

  test('the API routes ANY /web and ANY /web/{proxy+} through the VPC link to the listener, with IAM', () => {
    const r = routes(template);
    expect(r['ANY /web'].AuthorizationType).toBe('AWS_IAM');
    expect(r['ANY /web/{proxy+}'].AuthorizationType).toBe('AWS_IAM');
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'HTTP_PROXY',
      ConnectionType: 'VPC_LINK',
      ConnectionId: { Ref: Match.stringLikeRegexp('^ApiVpcLink') },
      IntegrationUri: { Ref: Match.stringLikeRegexp('^ApiLoadBalancerHttpListener') },
      // the caller's address, in a header the caller cannot set, for the WAF and the service
      RequestParameters: { 'overwrite:header.x-client-source-ip': '$context.identity.sourceIp' },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::VpcLink', {
      SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiVpcLinkSecurityGroup'), 'GroupId'] }],
    });
  });

  test('WAF web ACL with the managed rule groups and a rate rule, associated with the load balancer', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesAmazonIpReputationList' } }, OverrideAction: { None: {} } }),
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } } }),
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' } } }),
        Match.objectLike({
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: {
              Limit: 2000,
              AggregateKeyType: 'FORWARDED_IP',
              ForwardedIPConfig: { HeaderName: SecureApi.CLIENT_IP_HEADER, FallbackBehavior: 'NO_MATCH' },
            },
          },
        }),
      ],
      VisibilityConfig: Match.objectLike({ CloudWatchMetricsEnabled: true }),
    });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: Match.stringLikeRegexp('^ApiLoadBalancer') },
      WebACLArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiWebAcl'), 'Arn'] },
    });
    expect(api.webAcl).toBeDefined();
  });

  test('Fargate services: ARM64, private subnets, no public IP, circuit breaker with rollback, no exec, logs with retention', () => {
    template.resourceCountIs('AWS::ECS::Service', 2);
    template.allResourcesProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      EnableExecuteCommand: false,
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 2,
      HealthCheckGracePeriodSeconds: 60,
      LoadBalancers: [Match.objectLike({ ContainerName: 'app', ContainerPort: 8080 })],
    });
    template.allResourcesProperties('AWS::ECS::TaskDefinition', {
      Cpu: '256',
      Memory: '512',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [Match.objectLike({
        ReadonlyRootFilesystem: true,
        MountPoints: [{ ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false }],
        LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
      })],
      Volumes: [{ Name: 'tmp' }],
    });
    const retention = Object.entries(template.findResources('AWS::Logs::LogGroup')).filter(([k]) => /^Api(Web|Engine)Logs/.test(k));
    expect(retention.map(([, v]) => v.Properties.RetentionInDays)).toEqual([30, 30]);
    const web = api.services[0];
    expect(web.targetGroup).toBeDefined();
    expect(web.pathPrefix).toBe('/web');
    expect(web.endpoint).toBeUndefined();
  });

  test('autoscaling on CPU and on requests per target', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 4 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 70,
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }), TargetValue: 1000,
      }),
    });
    // The resource label is app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>: the load balancer's part cut from the listener ARN.
    const policy = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'))
      .find((p) => p.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType === 'ALBRequestCountPerTarget')!;
    const [, parts] = policy.Properties.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.ResourceLabel['Fn::Join'];
    const listenerPart = (i: number) => ({ 'Fn::Select': [i, { 'Fn::Split': ['/', { Ref: expect.stringMatching(/^ApiLoadBalancerHttpListener/) }] }] });
    expect(parts).toEqual([listenerPart(1), '/', listenerPart(2), '/', listenerPart(3), '/',
      { 'Fn::GetAtt': [expect.stringMatching(/^ApiLoadBalancerHttpListenerWebTargetsGroup/), 'TargetGroupFullName'] }]);
  });

  test('internal service: registered in a Cloud Map namespace, not routed, reachable only as allowed', () => {
    template.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: 'internal' });
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'engine',
      DnsConfig: Match.objectLike({ DnsRecords: [{ TTL: 10, Type: 'A' }] }),
    });
    const engine = api.services[1];
    expect(engine.targetGroup).toBeUndefined();
    expect(engine.discoveryName).toBe('engine.internal');
    expect(engine.endpoint).toBe('engine.internal:50051');
    expect(Object.keys(routes(template)).sort()).toEqual(['ANY /web', 'ANY /web/{proxy+}', 'GET /health', 'GET /items/{id}']);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties)
      .filter((i) => JSON.stringify(i.GroupId).includes('ApiEngineSecurityGroup'));
    expect(ingress).toEqual([expect.objectContaining({ FromPort: 50051, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiWebSecurityGroup/), 'GroupId'] } })]);
  });

  test('snapshot', () => {
    expect(maskedTemplate(stack)).toMatchSnapshot();
  });

  test('every route authorizes its callers, service proxy routes included, except the one health route', () => {
    const { stack: s, api: a } = fullStack();
    const jwt = ApiAuthorization.jwt({ issuer: 'https://id.example.com', audience: ['web'] });
    a.addLambdaRoute('Jwt', { path: '/jwt/{proxy+}', handler: itemsFunction(s, 'JwtFn'), authorization: jwt });
    a.addService('Admin', { image: NGINX, pathPrefix: '/admin', authorization: jwt });
    const all = Object.values(Template.fromStack(s).findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(all.map((r) => r.RouteKey).sort()).toEqual([
      'ANY /admin', 'ANY /admin/{proxy+}', 'ANY /jwt/{proxy+}', 'ANY /web', 'ANY /web/{proxy+}', 'GET /health', 'GET /items/{id}',
    ]);
    const anonymous = all.filter((r) => r.AuthorizationType === undefined || r.AuthorizationType === 'NONE').map((r) => r.RouteKey);
    expect(anonymous).toEqual(['GET /health']);
    for (const r of all.filter((x) => x.RouteKey !== 'GET /health')) {
      expect({ route: r.RouteKey, type: r.AuthorizationType }).toEqual({ route: r.RouteKey, type: expect.stringMatching(/^(AWS_IAM|JWT)$/) });
      if (r.AuthorizationType === 'JWT') expect(r.AuthorizerId).toBeDefined();
    }
    expect(all.filter((r) => /\{proxy\+\}$/.test(r.RouteKey)).map((r) => [r.RouteKey, r.AuthorizationType]).sort()).toEqual([
      ['ANY /admin/{proxy+}', 'JWT'], ['ANY /jwt/{proxy+}', 'JWT'], ['ANY /web/{proxy+}', 'AWS_IAM'],
    ]);
  });

  test('cdk-nag: no unacknowledged finding, and each acknowledgement has a reason', () => {
    const nagApp = fullStack();
    const findings = unacknowledgedNagFindings(nagApp.app).filter((f) => f.path.startsWith('Test/Api'));
    expect(findings).toEqual([]);
    const t = Template.fromStack(nagApp.stack);
    const reasons = Object.values(t.toJSON().Resources as Record<string, any>)
      .flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons) expect(r.reason.length).toBeGreaterThan(40);
  });

  testIfInstalled('cfn-lint', 'the template passes cfn-lint', () => {
    // W3010: the test stack has an account and region, so the VPC's subnets name the dummy AZs of
    // the synth-time lookup; a real app gets real AZ names (or Fn::GetAZs when env-agnostic).
    expect(cfnLint(Template.fromStack(fullStack().stack).toJSON(), ['W3010'])).toEqual([]);
  }, 120_000);
});

describe('service options', () => {
  test('HTTPS listener with the certificate, HTTP redirected, API verifies the server name', () => {
    const { stack, api } = apiStack((s) => ({
      loadBalancerTls: { certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT_ARN), serverName: 'services.internal.example.com' },
    }));
    api.addService('Web', { image: NGINX, pathPrefix: '/web' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443, Protocol: 'HTTPS', Certificates: [{ CertificateArn: CERT_ARN }], SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, DefaultActions: [{ Type: 'redirect', RedirectConfig: Match.objectLike({ Port: '443', Protocol: 'HTTPS' }) }],
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::Integration', { TlsConfig: { ServerNameToVerify: 'services.internal.example.com' } });
    const lbIngress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties)
      .filter((i) => JSON.stringify(i.GroupId).includes('LoadBalancerSecurityGroup'));
    expect(lbIngress.map((i) => i.FromPort)).toEqual([443]);
  });

  test('bring your own VPC and cluster; WAF and access logs off; knobs of the service', () => {
    const { stack, api } = apiStack((s) => {
      const vpc = new ec2.Vpc(s, 'MyVpc', { maxAzs: 2 });
      return { cluster: new ecs.Cluster(s, 'MyCluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED }), waf: false, loadBalancerAccessLogs: false };
    });
    const secret = new secretsmanager.Secret(stack, 'Secret');
    const svc = api.addService('Api', {
      image: NGINX,
      pathPrefix: '/api/v1',
      containerPort: 80,
      healthCheckPath: '/ping',
      desiredCount: 1,
      minCapacity: 1,
      maxCapacity: 3,
      cpu: 512,
      memoryLimitMiB: 1024,
      cpuArchitecture: ecs.CpuArchitecture.X86_64,
      targetCpuUtilizationPercent: 50,
      requestsPerTarget: 300,
      environment: { MODE: 'prod' },
      secrets: { TOKEN: ecs.Secret.fromSecretsManager(secret) },
      readonlyRootFilesystem: false,
      logRetention: logs.RetentionDays.ONE_WEEK,
      command: ['nginx', '-g', 'daemon off;'],
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::ECS::Cluster', 1);
    t.resourceCountIs('AWS::WAFv2::WebACL', 0);
    t.resourceCountIs('AWS::S3::Bucket', 0);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '512',
      Memory: '1024',
      RuntimePlatform: Match.objectLike({ CpuArchitecture: 'X86_64' }),
      ContainerDefinitions: [Match.objectLike({
        ReadonlyRootFilesystem: false,
        Command: ['nginx', '-g', 'daemon off;'],
        Environment: [{ Name: 'MODE', Value: 'prod' }],
        Secrets: [Match.objectLike({ Name: 'TOKEN' })],
        PortMappings: [{ ContainerPort: 80, Protocol: 'tcp' }],
      })],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/ping', Port: 80 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 3 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 300 }),
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/v1', '/api/v1/*'] } }],
    });
    expect(api.webAcl).toBeUndefined();
    expect(svc.grantPrincipal).toBe(svc.taskDefinition.taskRole);
    // environment variables are acknowledged for cdk-nag (secrets go through `secrets`)
    const td = Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0];
    expect(td.Metadata.cdk_nag.rules_to_suppress.map((r: any) => r.id)).toContain('AwsSolutions-ECS2');
  });

  test('an image from a private ECR repository: the execution role\'s ecr:GetAuthorizationToken on * is acknowledged with its reason', () => {
    const { app, stack, api } = apiStack();
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'my-app');
    api.addService('Web', { image: ecs.ContainerImage.fromEcrRepository(repo, '1.0'), pathPrefix: '/web' });
    api.addInternalService('Engine', { image: ecs.ContainerImage.fromEcrRepository(repo, '2.0') });
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Api'))).toEqual([]);
    const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy')).filter(([k]) => /ExecutionRoleDefaultPolicy/.test(k));
    expect(policies).toHaveLength(2);
    for (const [, p] of policies) {
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Action: 'ecr:GetAuthorizationToken', Resource: '*' }));
      expect(p.Metadata.cdk_nag.rules_to_suppress).toContainEqual({ id: 'AwsSolutions-IAM5[Resource::*]', reason: expect.stringMatching(/no resource-level/) });
    }
  });

  test('a public registry image: nothing on * in the execution role, and nothing acknowledged for it', () => {
    const { stack, api } = apiStack();
    api.addService('Web', { image: NGINX, pathPrefix: '/web' });
    const [, role] = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Role')).find(([k]) => /WebTaskDefinitionExecutionRole/.test(k))!;
    expect(JSON.stringify(role.Metadata ?? {})).not.toContain('IAM5');
  });

  test('no autoscaling when maxCapacity equals minCapacity; rule priorities increase per service', () => {
    const { stack, api } = apiStack();
    api.addService('A', { image: NGINX, pathPrefix: '/a', desiredCount: 1, maxCapacity: 1 });
    api.addService('B', { image: NGINX, pathPrefix: '/b', desiredCount: 1 });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    expect(Object.values(t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map((r) => r.Properties.Priority).sort()).toEqual([10, 20]);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
  });

  test('a service route may have its own authorization; removal policy DESTROY empties the bucket', () => {
    const { stack, api } = apiStack({ removalPolicy: RemovalPolicy.DESTROY });
    api.addService('Web', { image: NGINX, pathPrefix: '/web', authorization: ApiAuthorization.jwt({ issuer: 'https://id.example.com', audience: ['web'] }) });
    const t = Template.fromStack(stack);
    expect(routes(t)['ANY /web/{proxy+}'].AuthorizationType).toBe('JWT');
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    t.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });

  test('internal services only: a VPC and cluster but no load balancer, VPC link or WAF', () => {
    const { stack, api } = apiStack({ cloudMapNamespaceName: 'agents.local' });
    const svc = api.addInternalService('Engine', { image: NGINX, discoveryName: 'workflow-engine' });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    t.resourceCountIs('AWS::ApiGatewayV2::VpcLink', 0);
    t.resourceCountIs('AWS::WAFv2::WebACL', 0);
    t.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: 'agents.local' });
    expect(svc.endpoint).toBe('workflow-engine.agents.local:8080');
    expect(api.cloudMapNamespace?.namespaceName).toBe('agents.local');
    expect(api.loadBalancer).toBeUndefined();
  });

  test('a cluster with a default Cloud Map namespace brings it', () => {
    const { stack, api } = apiStack((s) => {
      const cluster = new ecs.Cluster(s, 'C', { vpc: new ec2.Vpc(s, 'V'), containerInsightsV2: ecs.ContainerInsights.ENABLED });
      cluster.addDefaultCloudMapNamespace({ name: 'mesh.local' });
      return { cluster };
    });
    expect(api.addInternalService('Engine', { image: NGINX }).discoveryName).toBe('engine.mesh.local');
    Template.fromStack(stack).resourceCountIs('AWS::ServiceDiscovery::PrivateDnsNamespace', 1);
  });

  test('settings of the load balancer with no service added: a warning at synth', () => {
    const { stack } = apiStack({ waf: true, wafRateLimit: 500 });
    Annotations.fromStack(stack).hasWarning('/Test/Api', Match.stringLikeRegexp('waf, wafRateLimit .*addService\\(\\) was never called'));
  });

  test('the same warning with internal services only (they have no load balancer)', () => {
    const { stack, api } = apiStack({ loadBalancerAccessLogs: false });
    api.addInternalService('Engine', { image: NGINX });
    Annotations.fromStack(stack).hasWarning('/Test/Api', Match.stringLikeRegexp('^loadBalancerAccessLogs configure .*internal services have no load balancer'));
  });

  test('no warning when the settings are used', () => {
    const { stack, api } = apiStack({ wafRateLimit: 500 });
    api.addService('Web', { image: NGINX, pathPrefix: '/web' });
    Annotations.fromStack(stack).hasNoWarning('/Test/Api', Match.anyValue());
    Template.fromStack(stack).hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 500 }) } })]),
    });
  });
});

describe('validation', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['none() as the API default', () => apiStack({ authorization: ApiAuthorization.none() }), /authorization cannot be ApiAuthorization.none\(\)/],
    ['a rate limit of 0', () => apiStack({ throttlingRateLimit: 0 }), /^SecureApi: throttlingRateLimit \(throttling_rate_limit in Python\) is 0; it must be above 0 and at most 10000 requests per second: the account default is 10000/],
    ['a negative burst', () => apiStack({ throttlingBurstLimit: -1 }), /throttlingBurstLimit \(throttling_burst_limit in Python\) is -1; it must be a whole number from 1 to 5000/],
    ['a fractional burst', () => apiStack({ throttlingBurstLimit: 1.5 }), /throttlingBurstLimit \(throttling_burst_limit in Python\) is 1.5; it must be a whole number/],
    ['a WAF rate limit under 10', () => apiStack({ wafRateLimit: 5 }), /wafRateLimit \(waf_rate_limit in Python\) is 5; it must be a whole number from 10 to 2000000000/],
    ['a bad domain name', () => apiStack((s) => ({ domain: { domainName: 'https://api.example.com', certificate: acm.Certificate.fromCertificateArn(s, 'C', CERT_ARN) } })),
      /domain.domainName 'https:\/\/api.example.com' is not a lower-case DNS name/],
    ['disableExecuteApiEndpoint without domain', () => apiStack({ disableExecuteApiEndpoint: true }), /disableExecuteApiEndpoint without domain/],
    ['credentials with any origin', () => apiStack({ cors: { allowOrigins: ['*'], allowCredentials: true } }), /allowCredentials cannot be combined with allowOrigins/],
    ['a bad health path', () => apiStack({ healthCheckPath: 'health' }), /healthCheckPath 'health' must start with '\/'/],
    ['vpc and a cluster in another VPC', () => apiStack((s) => ({ vpc: new ec2.Vpc(s, 'A'), cluster: new ecs.Cluster(s, 'C', { vpc: new ec2.Vpc(s, 'B') }) })),
      /cluster is in another VPC/],
    ['a bad TLS server name', () => apiStack((s) => ({ loadBalancerTls: { certificate: acm.Certificate.fromCertificateArn(s, 'C', CERT_ARN), serverName: 'not a name' } })),
      /loadBalancerTls.serverName 'not a name'/],
    ['a JWT issuer that is not https', () => ApiAuthorization.jwt({ issuer: 'http://issuer', audience: ['a'] }), /issuer must be an https:\/\/ URL .* got 'http:\/\/issuer'/],
    ['a JWT without audience', () => ApiAuthorization.jwt({ issuer: 'https://issuer', audience: [] }), /audience is empty/],
    ['a JWT with an empty identity source', () => ApiAuthorization.jwt({ issuer: 'https://issuer', audience: ['a'], identitySource: [] }), /identitySource is empty/],
    ['Cognito without clients', () => ApiAuthorization.cognito({ userPool: cognito.UserPool.fromUserPoolId(new Stack(), 'P', 'us-east-1_x'), userPoolClients: [] }),
      /userPoolClients is empty/],
  ];
  test.each(cases)('refuses %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  function withApi(fn: (api: SecureApi, stack: Stack) => unknown): () => unknown {
    return () => {
      const { api, stack } = apiStack();
      return fn(api, stack);
    };
  }

  const routeCases: Array<[string, (api: SecureApi, stack: Stack) => unknown, RegExp]> = [
    ['a path without /', (api, s) => api.addLambdaRoute('X', { path: 'items', handler: itemsFunction(s) }), /path 'items'; a path starts with '\/'/],
    ['a trailing /', (api, s) => api.addLambdaRoute('X', { path: '/items/', handler: itemsFunction(s) }), /path '\/items\/'/],
    ['a greedy parameter in the middle', (api, s) => api.addLambdaRoute('X', { path: '/a/{p+}/b', handler: itemsFunction(s) }), /greedy parameter .* last segment/],
    ['the health path', (api, s) => api.addLambdaRoute('X', { path: '/health', handler: itemsFunction(s) }), /anonymous health route/],
    ['a route twice', (api, s) => {
      api.addLambdaRoute('X', { path: '/a', methods: [apigwv2.HttpMethod.GET], handler: itemsFunction(s) });
      api.addLambdaRoute('Y', { path: '/a', methods: [apigwv2.HttpMethod.GET], handler: itemsFunction(s, 'Other') });
    }, /the route 'GET \/a' was already added/],
    ['an id twice', (api, s) => {
      api.addLambdaRoute('X', { path: '/a', handler: itemsFunction(s) });
      api.addLambdaRoute('X', { path: '/b', handler: itemsFunction(s, 'Other') });
    }, /the id 'X' was already used for other routes/],
    ['no methods', (api, s) => api.addLambdaRoute('X', { path: '/a', methods: [], handler: itemsFunction(s) }), /has no methods/],
    ['scopes without JWT', (api, s) => api.addLambdaRoute('X', { path: '/a', handler: itemsFunction(s), authorizationScopes: ['x'] }), /authorizationScopes, which only JWT/],
    ['a prefix without /', (api) => api.addService('W', { image: NGINX, pathPrefix: 'web' }), /pathPrefix 'web' must start with '\/'/],
    ['a prefix with a parameter', (api) => api.addService('W', { image: NGINX, pathPrefix: '/web/{id}' }), /pathPrefix '\/web\/\{id\}'/],
    ['a prefix over the health route', (api) => api.addService('W', { image: NGINX, pathPrefix: '/health' }), /covers the health route/],
    ['a prefix over a Lambda route', (api, s) => {
      api.addLambdaRoute('X', { path: '/web/items', handler: itemsFunction(s) });
      api.addService('W', { image: NGINX, pathPrefix: '/web' });
    }, /pathPrefix '\/web' covers the route 'ANY \/web\/items'/],
    ['a Lambda route under a prefix', (api, s) => {
      api.addService('W', { image: NGINX, pathPrefix: '/web' });
      api.addLambdaRoute('X', { path: '/web/items', handler: itemsFunction(s) });
    }, /path '\/web\/items' overlaps the path prefix '\/web' of service 'W'/],
    ['two overlapping prefixes', (api) => {
      api.addService('A', { image: NGINX, pathPrefix: '/web' });
      api.addService('B', { image: NGINX, pathPrefix: '/web/admin' });
    }, /overlaps the path prefix '\/web'/],
    ['desiredCount above maxCapacity', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', desiredCount: 5, minCapacity: 1, maxCapacity: 3 }),
      /desiredCount \(5\) is outside minCapacity..maxCapacity \(1..3\)/],
    ['a desiredCount whose default minCapacity is above maxCapacity', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', desiredCount: 5, maxCapacity: 3 }),
      /minCapacity \(5\) is above maxCapacity \(3\)/],
    ['desiredCount below minCapacity', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', desiredCount: 1, minCapacity: 2, maxCapacity: 4 }),
      /desiredCount \(1\) is outside minCapacity..maxCapacity \(2..4\)/],
    ['minCapacity above maxCapacity', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', desiredCount: 2, minCapacity: 3, maxCapacity: 2 }),
      /minCapacity \(3\) is above maxCapacity \(2\)/],
    ['a cpu Fargate has not', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', cpu: 300 }), /cpu must be one of 256, .* got 300/],
    ['too little memory', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', memoryLimitMiB: 128 }), /memoryLimitMiB \(memory_limit_mib in Python\) is 128; it must be a whole number from 512/],
    ['a bad port', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', containerPort: 70000 }), /containerPort \(container_port in Python\) is 70000; it must be a whole number from 1 to 65535/],
    ['a CPU target over 100', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', targetCpuUtilizationPercent: 120 }), /targetCpuUtilizationPercent \(target_cpu_utilization_percent in Python\) is 120; it must be a whole number from 1 to 100/],
    ['requestsPerTarget 0', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', requestsPerTarget: 0 }), /requestsPerTarget \(requests_per_target in Python\) is 0; it must be a whole number from 1/],
    ['a health check path without /', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', healthCheckPath: 'ping' }), /healthCheckPath 'ping' must start with '\/'/],
    ['a bad discovery name', (api) => api.addInternalService('E', { image: NGINX, discoveryName: 'Engine_1' }), /discoveryName 'Engine_1' must be a DNS label/],
    ['two internal services with one name', (api) => {
      api.addInternalService('E', { image: NGINX });
      api.addInternalService('E2', { image: NGINX, discoveryName: 'e' });
    }, /another service is named 'e'/],
  ];
  test.each(routeCases)('refuses %s', (_name, fn, message) => {
    expect(withApi(fn)).toThrow(message);
  });

  test('load balancer access logs need the region at synth', () => {
    const app = new App();
    const api = new SecureApi(new Stack(app, 'Agnostic'), 'Api');
    expect(() => api.addService('W', { image: NGINX, pathPrefix: '/w' })).toThrow(/access logs need the stack's region .*loadBalancerAccessLogs: false/);
    const ok = new SecureApi(new Stack(app, 'Agnostic2'), 'Api', { loadBalancerAccessLogs: false });
    expect(() => ok.addService('W', { image: NGINX, pathPrefix: '/w' })).not.toThrow();
  });

  test('tokens are not validated at synth', () => {
    const app = new App();
    const stack = new Stack(app, 'T', { env: ENV });
    expect(() => new SecureApi(stack, 'Api', { throttlingRateLimit: Lazy.number({ produce: () => 5 }), wafRateLimit: Lazy.number({ produce: () => 5 }) })).not.toThrow();
  });
});

describe('the integration test app (integ/integ.secure-api.ts)', () => {
  // A stack shaped like the integ test's (whose file synthesizes on import): the API, a Lambda
  // route, a routed service and a probe granted every route. moto-smoke.test.ts lints the real one.
  function integLikeStack() {
    const app = new App();
    const stack = new Stack(app, 'Integ', { env: { region: 'us-east-1' } });
    const api = new SecureApi(stack, 'Api', { removalPolicy: RemovalPolicy.DESTROY });
    api.addLambdaRoute('Hello', { path: '/hello', methods: [apigwv2.HttpMethod.GET], handler: itemsFunction(stack, 'Hello') });
    api.addService('Web', {
      image: NGINX,
      pathPrefix: '/web',
      containerPort: 80,
      desiredCount: 1,
      maxCapacity: 2,
      readonlyRootFilesystem: false,
      command: ['sh', '-c', 'exec nginx -g "daemon off;"'],
    });
    const probe = itemsFunction(stack, 'Probe');
    api.grantInvoke(probe);
    return { app, stack, api, probe };
  }

  test('cdk-nag: the SecureApi and the probe\'s grant raise no unacknowledged finding', () => {
    const { app } = integLikeStack();
    const findings = unacknowledgedNagFindings(app);
    expect(findings.filter((f) => f.path.startsWith('Integ/Api'))).toEqual([]);
    // The probe's role holds the grant on every route; that wildcard is acknowledged with its reason.
    expect(findings.filter((f) => f.path.startsWith('Integ/Probe') && f.rule.includes('IAM5'))).toEqual([]);
  });
});
