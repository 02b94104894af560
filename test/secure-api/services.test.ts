/**
 * The service options of issue 15: images from an `AgentImage` source (a directory, a repository
 * of the service's own, or built by CodeBuild into it), container health checks, routes of a
 * service with their own authorization (anonymous ones included) and Fargate Spot.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { apiStack, ENV } from './fixtures';
import { AgentImage } from '../../src/container-agent';
import { ApiAuthorization, SecureApi, SecureApiServiceOptions, ServiceCapacity } from '../../src/secure-api';
import { cfnLint } from '../helpers/cfn-lint';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { testIfInstalled } from '../helpers/tools';

const NGINX = ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine');

/** A service folder: a Dockerfile, its .dockerignore and a source file. */
function serviceDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'service-image-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/python:3.12-slim\nCOPY app.py .\nUSER 1000\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), '.venv\n');
  fs.writeFileSync(path.join(dir, 'app.py'), 'print("app")\n');
  return dir;
}
const dir = serviceDir();

function only<T = any>(t: Template, type: string): [string, T] {
  const found = Object.entries(t.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as [string, T];
}

function routes(t: Template): Record<string, any> {
  const byKey: Record<string, any> = {};
  for (const [logicalId, r] of Object.entries<any>(t.findResources('AWS::ApiGatewayV2::Route'))) byKey[r.Properties.RouteKey] = { logicalId, ...r.Properties, Metadata: r.Metadata };
  return byKey;
}

function containerOf(t: Template, service: RegExp): any {
  const [, def] = Object.entries<any>(t.findResources('AWS::ECS::TaskDefinition')).find(([k]) => service.test(k))!;
  return def.Properties.ContainerDefinitions[0];
}

function ecsService(t: Template, service: RegExp): any {
  return Object.entries<any>(t.findResources('AWS::ECS::Service')).find(([k]) => service.test(k))![1];
}

describe('service images from an AgentImage source', () => {
  describe('built by CodeBuild from a directory into the service\'s own repository', () => {
    const { app, stack, api } = apiStack();
    const web = api.addService('Web', { imageSource: AgentImage.fromDirectoryIntoNewRepository(dir, { maxImageCount: 10 }), pathPrefix: '/web' });
    const t = Template.fromStack(stack);

    test('the service\'s own repository: scan on push, immutable tags, lifecycle rules, kept by default', () => {
      expect(web.repository).toBeDefined();
      const [repoId, repo] = only(t, 'AWS::ECR::Repository');
      expect(repoId).toMatch(/^ApiWebRepository/);
      expect(repo.Properties).toMatchObject({
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
        LifecyclePolicy: { LifecyclePolicyText: expect.stringContaining('"countNumber":10') },
      });
      expect(repo.DeletionPolicy).toBe('Retain');
    });

    test('built for the service\'s architecture (ARM64 by default) on an ARM CodeBuild image, by the code agents use', () => {
      const [, project] = only(t, 'AWS::CodeBuild::Project');
      expect(project.Properties.Environment).toMatchObject({ Type: 'ARM_CONTAINER', PrivilegedMode: true });
      expect(project.Properties.Source.BuildSpec).toContain('--platform linux/arm64');
      t.resourceCountIs('Custom::AgentImageBuild', 1);
      expect(containerOf(t, /^ApiWebTaskDefinition/)).toBeDefined();
      t.hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' } });
    });

    test('the task definition runs <repository>:<hash> and is created after the build; imageUri says so', () => {
      const [buildId, build] = only(t, 'Custom::AgentImageBuild');
      const tag = build.Properties.ImageTag;
      expect(tag).toMatch(/^[0-9a-f]{64}$/);
      const [, def] = Object.entries<any>(t.findResources('AWS::ECS::TaskDefinition')).find(([k]) => k.startsWith('ApiWebTaskDefinition'))!;
      expect(def.DependsOn).toContain(buildId);
      const image = JSON.stringify(def.Properties.ContainerDefinitions[0].Image);
      expect(image).toContain(`:${tag}`);
      expect(image).toContain(JSON.stringify(stack.resolve(web.repository!.repositoryName)));
      expect(stack.resolve(web.imageUri)).toEqual(def.Properties.ContainerDefinitions[0].Image);
    });

    test('the execution role pulls from that repository only (and the token call on *, acknowledged)', () => {
      const [, policy] = Object.entries<any>(t.findResources('AWS::IAM::Policy')).find(([k]) => /ApiWebTaskDefinitionExecutionRoleDefaultPolicy/.test(k))!;
      const statements = policy.Properties.PolicyDocument.Statement;
      expect(statements).toContainEqual(expect.objectContaining({
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ApiWebRepository/), 'Arn'] },
      }));
      expect(statements).toContainEqual(expect.objectContaining({ Action: 'ecr:GetAuthorizationToken', Resource: '*' }));
    });

    test('cdk-nag: nothing unacknowledged in the API, the service\'s build or the build provider', () => {
      expect(unacknowledgedNagFindings(app)).toEqual([]);
    });
  });

  test('an X86_64 service gets an image built for linux/amd64', () => {
    const { stack, api } = apiStack();
    api.addService('Web', { imageSource: AgentImage.fromDirectoryIntoNewRepository(dir), pathPrefix: '/web', cpuArchitecture: ecs.CpuArchitecture.X86_64 });
    const [, project] = only(Template.fromStack(stack), 'AWS::CodeBuild::Project');
    expect(project.Properties.Environment.Type).toBe('LINUX_CONTAINER');
    expect(project.Properties.Source.BuildSpec).toContain('--platform linux/amd64');
  });

  test('a repository of the internal service\'s own, for a pipeline to push to: KMS key, DESTROY empties it', () => {
    const { app, stack, api } = apiStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const engine = api.addInternalService('Engine', {
      imageSource: AgentImage.fromNewRepository('v1', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY }),
      containerPort: 50051,
      healthCheck: { command: ['CMD', '/bin/grpc_health_probe', '-addr=localhost:50051'] },
    });
    const t = Template.fromStack(stack);
    const [, repo] = only(t, 'AWS::ECR::Repository');
    expect(repo.Properties).toMatchObject({
      EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: stack.resolve(key.keyArn) },
      EmptyOnDelete: true,
      ImageTagMutability: 'IMMUTABLE',
    });
    expect(repo.DeletionPolicy).toBe('Delete');
    expect(JSON.stringify(containerOf(t, /^ApiEngineTaskDefinition/).Image)).toContain(':v1');
    expect(engine.repository).toBeDefined();
    t.resourceCountIs('AWS::CodeBuild::Project', 0);
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Api'))).toEqual([]);
  });

  test('a directory built by the CDK at deploy for the service\'s architecture (a Docker image asset for linux/arm64)', () => {
    const { app, api } = apiStack();
    const web = api.addService('Web', { imageSource: AgentImage.fromDirectory(dir), pathPrefix: '/web' });
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, 'Test.assets.json'), 'utf-8'));
    const images = Object.values<any>(manifest.dockerImages ?? {});
    expect(images).toHaveLength(1);
    expect(images[0].source.platform).toBe('linux/arm64');
    expect(web.repository).toBeUndefined();
  });

  test('image (an ecs.ContainerImage) as before: no repository, and imageUri is the image name', () => {
    const { api } = apiStack();
    const web = api.addService('Web', { image: NGINX, pathPrefix: '/web' });
    expect(web.repository).toBeUndefined();
    expect(web.imageUri).toBe('public.ecr.aws/nginx/nginx:stable-alpine');
    expect(api.addInternalService('Engine', { imageSource: AgentImage.fromRegistry('public.ecr.aws/example/engine:1') }).imageUri)
      .toBe('public.ecr.aws/example/engine:1');
  });

  test.each([
    ['neither image nor imageSource', (api: SecureApi) => api.addService('W', { pathPrefix: '/w' } as SecureApiServiceOptions), /addService\('W'\): give exactly one of image .* and imageSource .*; got neither/],
    ['both', (api: SecureApi) => api.addInternalService('E', { image: NGINX, imageSource: AgentImage.fromNewRepository('v1') }), /addInternalService\('E'\): give exactly one of image .*; got both/],
    ['an architecture an image source cannot build for', (api: SecureApi) => api.addInternalService('E', {
      imageSource: AgentImage.fromNewRepository('v1'), cpuArchitecture: ecs.CpuArchitecture.of('RISCV'),
    }), /cpuArchitecture is RISCV; an imageSource builds for ecs.CpuArchitecture.ARM64 or X86_64/],
  ])('refuses %s', (_name, add, message) => {
    const { api } = apiStack();
    expect(() => add(api)).toThrow(message);
  });

  test('nothing is created for a service whose image options are refused', () => {
    const { stack, api } = apiStack();
    expect(() => api.addService('W', { pathPrefix: '/w' } as SecureApiServiceOptions)).toThrow(/give exactly one/);
    expect(api.vpc).toBeUndefined();
    expect(api.loadBalancer).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPC', 0);
  });
});

describe('container health checks', () => {
  test('a routed service: no container check by default, the load balancer\'s check and a 60-second grace period stay', () => {
    const { stack, api } = apiStack();
    api.addService('Web', { image: NGINX, pathPrefix: '/web' });
    const t = Template.fromStack(stack);
    expect(containerOf(t, /^ApiWebTaskDefinition/).HealthCheck).toBeUndefined();
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/health' });
    expect(ecsService(t, /^ApiWebService/).Properties.HealthCheckGracePeriodSeconds).toBe(60);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('healthCheck'));
  });

  test('a routed service with a container check and its own grace period', () => {
    const { stack, api } = apiStack();
    api.addService('Web', {
      image: NGINX,
      pathPrefix: '/web',
      healthCheck: {
        command: ['CMD-SHELL', 'wget -q -O- http://localhost:8080/health || exit 1'],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(3),
        retries: 2,
        startPeriod: Duration.seconds(20),
      },
      healthCheckGracePeriod: Duration.minutes(2),
    });
    const t = Template.fromStack(stack);
    expect(containerOf(t, /^ApiWebTaskDefinition/).HealthCheck).toEqual({
      Command: ['CMD-SHELL', 'wget -q -O- http://localhost:8080/health || exit 1'], Interval: 15, Timeout: 3, Retries: 2, StartPeriod: 20,
    });
    expect(ecsService(t, /^ApiWebService/).Properties.HealthCheckGracePeriodSeconds).toBe(120);
  });

  test('an internal service without a health check: a synth warning that says how to give one', () => {
    const { stack, api } = apiStack();
    api.addInternalService('Engine', { image: NGINX, containerPort: 50051 });
    const t = Template.fromStack(stack);
    expect(containerOf(t, /^ApiEngineTaskDefinition/).HealthCheck).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('/Test/Api/Engine',
      Match.stringLikeRegexp('^Internal service \'Engine\' has no healthCheck: it has no load balancer.*Give healthCheck: \\{ command'));
  });

  test('an internal service with a health check: rendered with ECS\'s defaults (a one-string command runs in the shell), no warning', () => {
    const { stack, api } = apiStack();
    api.addInternalService('Engine', { image: NGINX, containerPort: 50051, healthCheck: { command: ['grpc_health_probe -addr=localhost:50051'] } });
    const t = Template.fromStack(stack);
    expect(containerOf(t, /^ApiEngineTaskDefinition/).HealthCheck).toEqual({
      Command: ['CMD-SHELL', 'grpc_health_probe -addr=localhost:50051'], Interval: 30, Timeout: 5, Retries: 3,
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('has no healthCheck'))).toEqual([]);
    // The load balancer's grace period is for routed services; an internal one uses startPeriod.
    expect(ecsService(t, /^ApiEngineService/).Properties.HealthCheckGracePeriodSeconds).toBeUndefined();
  });

  const hc = (extra: Partial<ecs.HealthCheck>): ecs.HealthCheck => ({ command: ['CMD', '/app/healthcheck'], ...extra });
  test.each<[string, (api: SecureApi) => unknown, RegExp]>([
    ['an empty command', (api) => api.addInternalService('E', { image: NGINX, healthCheck: { command: [] } }),
      /^SecureApi.addInternalService\('E'\): healthCheck.command is empty; give the command ECS runs in the container, e.g. \['CMD', '\/app\/healthcheck'\]/],
    ['CMD-SHELL and nothing to run', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', healthCheck: { command: ['CMD-SHELL'] } }),
      /healthCheck.command is \['CMD-SHELL'\] with nothing to run; put the command after it/],
    ['an interval under 5 seconds', (api) => api.addInternalService('E', { image: NGINX, healthCheck: hc({ interval: Duration.seconds(2) }) }),
      /healthCheck.interval \(health_check\.interval in Python\) is 2 seconds; ECS's interval must be between 5 seconds and 5 minutes/],
    ['a timeout over 120 seconds', (api) => api.addInternalService('E', { image: NGINX, healthCheck: hc({ timeout: Duration.seconds(150), interval: Duration.seconds(200) }) }),
      /healthCheck.timeout \(health_check\.timeout in Python\) is 2 minutes 30 seconds; ECS's timeout must be between 2 seconds and 2 minutes/],
    ['a timeout longer than the default interval', (api) => api.addInternalService('E', { image: NGINX, healthCheck: hc({ timeout: Duration.seconds(45) }) }),
      /healthCheck.timeout \(45 seconds\) is longer than healthCheck.interval \(30 seconds, the default\); .*shorten the timeout or lengthen the interval/],
    ['11 retries', (api) => api.addInternalService('E', { image: NGINX, healthCheck: hc({ retries: 11 }) }),
      /healthCheck.retries \(health_check\.retries in Python\) is 11; it must be a whole number from 1 to 10/],
    ['a start period over 300 seconds', (api) => api.addInternalService('E', { image: NGINX, healthCheck: hc({ startPeriod: Duration.minutes(6) }) }),
      /healthCheck.startPeriod \(health_check\.start_period in Python\) is 6 minutes; ECS's start period must be between 0 seconds and 5 minutes/],
    ['a fractional interval', (api) => api.addInternalService('E', { image: NGINX, healthCheck: hc({ interval: Duration.millis(7500) }) }),
      /healthCheck.interval \(health_check\.interval in Python\) is 7.5 seconds, not a whole number of seconds/],
    ['a fractional grace period', (api) => api.addService('W', { image: NGINX, pathPrefix: '/w', healthCheckGracePeriod: Duration.millis(1500) }),
      /^SecureApi.addService\('W'\): healthCheckGracePeriod \(health_check_grace_period in Python\) is 1.5 seconds, not a whole number of seconds/],
  ])('refuses %s', (_name, add, message) => {
    const { api } = apiStack();
    expect(() => add(api)).toThrow(message);
  });

  test('tokens are not checked at synth', () => {
    const { api } = apiStack();
    const retries = Lazy.number({ produce: () => 3 });
    expect(() => api.addInternalService('E', { image: NGINX, healthCheck: hc({ retries }) })).not.toThrow();
  });
});

describe('routes of a service with their own authorization', () => {
  /** Seed 003's shape: an IAM API whose chat service takes anonymous POST /chat. */
  function chatStack() {
    const result = apiStack();
    const chat = result.api.addService('Chat', {
      image: NGINX,
      pathPrefix: '/chat',
      routes: [{ path: '/chat', methods: [apigwv2.HttpMethod.POST], authorization: ApiAuthorization.none() }],
    });
    return { ...result, chat };
  }

  test('POST /chat is anonymous; every other method and path under /chat keeps IAM; /health stays the API\'s', () => {
    const { stack } = chatStack();
    const r = routes(Template.fromStack(stack));
    expect(Object.keys(r).sort()).toEqual(['ANY /chat', 'ANY /chat/{proxy+}', 'GET /health', 'POST /chat']);
    expect(r['POST /chat'].AuthorizationType).toBe('NONE');
    expect(r['ANY /chat'].AuthorizationType).toBe('AWS_IAM');
    expect(r['ANY /chat/{proxy+}'].AuthorizationType).toBe('AWS_IAM');
  });

  test('the anonymous route goes through the same VPC link integration, so the WAF and the stage throttling still apply', () => {
    const { stack } = chatStack();
    const t = Template.fromStack(stack);
    const r = routes(t);
    expect(r['POST /chat'].Target).toEqual(r['ANY /chat'].Target);
    const integrationId = (r['POST /chat'].Target['Fn::Join'][1] as any[]).find((x) => x.Ref).Ref;
    expect(t.findResources('AWS::ApiGatewayV2::Integration')[integrationId].Properties).toMatchObject({ ConnectionType: 'VPC_LINK' });
    t.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 } });
  });

  test('named at synth and acknowledged for cdk-nag, as an anonymous Lambda route is', () => {
    const { app, stack } = chatStack();
    expect(unacknowledgedNagFindings(app).filter((f) => f.path.startsWith('Test/Api'))).toEqual([]);
    Annotations.fromStack(stack).hasInfo('/Test/Api', Match.stringLikeRegexp('^Route\\(s\\) POST /chat of Test/Api allow anonymous callers'));
    const r = routes(Template.fromStack(stack));
    expect(r['POST /chat'].Metadata.cdk_nag.rules_to_suppress).toEqual([
      expect.objectContaining({ id: 'AwsSolutions-APIG4', reason: expect.stringMatching(/declared \/chat anonymous by name/) }),
    ]);
    expect(JSON.stringify(r['ANY /chat'].Metadata ?? {})).not.toContain('APIG4');
  });

  test('grantInvoke refuses the anonymous route and grants the IAM ones', () => {
    const { stack, api } = chatStack();
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => api.grantInvoke(role, 'POST /chat')).toThrow(/route 'POST \/chat' authorizes with NONE, not IAM/);
    expect(() => api.grantInvoke(role, 'GET /chat')).not.toThrow();
    expect(() => api.grantInvoke(role, 'DELETE /chat/{proxy+}')).not.toThrow();
  });

  test('ANY on the prefix changes the service\'s own route in place (same logical id), not a second route', () => {
    const idOf = (options: Partial<SecureApiServiceOptions>) => {
      const { stack, api } = apiStack();
      api.addService('Public', { image: NGINX, pathPrefix: '/public', ...options });
      return routes(Template.fromStack(stack));
    };
    const before = idOf({});
    const after = idOf({ routes: [{ path: '/public', authorization: ApiAuthorization.none() }] });
    expect(Object.keys(after).sort()).toEqual(['ANY /public', 'ANY /public/{proxy+}', 'GET /health']);
    expect(after['ANY /public'].logicalId).toBe(before['ANY /public'].logicalId);
    expect(after['ANY /public'].AuthorizationType).toBe('NONE');
    expect(after['ANY /public/{proxy+}'].AuthorizationType).toBe('AWS_IAM');
  });

  test('routes under the prefix with JWT and scopes of their own; scopes carry over only with the service\'s authorization', () => {
    const jwt = ApiAuthorization.jwt({ issuer: 'https://id.example.com', audience: ['chat'] });
    const { stack, api } = apiStack({ authorization: jwt });
    api.addService('Chat', {
      image: NGINX,
      pathPrefix: '/chat',
      authorizationScopes: ['chat/use'],
      routes: [
        { path: '/chat/admin/{proxy+}', authorizationScopes: ['chat/admin'] },
        { path: '/chat/sessions/{id}', methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.DELETE] },
        { path: '/chat/webhook', methods: [apigwv2.HttpMethod.POST], authorization: ApiAuthorization.iam() },
      ],
    });
    const r = routes(Template.fromStack(stack));
    expect(r['ANY /chat'].AuthorizationScopes).toEqual(['chat/use']);
    expect(r['ANY /chat/admin/{proxy+}']).toMatchObject({ AuthorizationType: 'JWT', AuthorizationScopes: ['chat/admin'] });
    expect(r['GET /chat/sessions/{id}']).toMatchObject({ AuthorizationType: 'JWT', AuthorizationScopes: ['chat/use'] });
    expect(r['DELETE /chat/sessions/{id}'].AuthorizationType).toBe('JWT');
    expect(r['POST /chat/webhook'].AuthorizationType).toBe('AWS_IAM');
    expect(r['POST /chat/webhook'].AuthorizationScopes).toBeUndefined();
  });

  test.each<[string, SecureApiServiceOptions['routes'], RegExp]>([
    ['a path outside the prefix', [{ path: '/health' }],
      /^SecureApi.addService\('Chat'\): routes\[0\].path '\/health' is not under pathPrefix '\/chat'; the load balancer forwards only the prefix's paths/],
    ['a path that only starts like the prefix', [{ path: '/chatter' }], /routes\[0\].path '\/chatter' is not under pathPrefix '\/chat'/],
    ['a malformed path', [{ path: '/chat/' }], /routes\[0\].path '\/chat\/' is not a route path/],
    ['a greedy parameter in the middle', [{ path: '/chat/{p+}/x' }], /routes\[0\].path '\/chat\/\{p\+\}\/x' is not a route path/],
    ['a method and path twice', [{ path: '/chat', methods: [apigwv2.HttpMethod.POST] }, { path: '/chat', methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST] }],
      /routes\[1\] repeats 'POST \/chat' of routes\[0\]; give each method and path once/],
    ['no methods', [{ path: '/chat', methods: [] }], /routes\[0\] has no methods/],
    ['scopes without JWT', [{ path: '/chat/x', authorizationScopes: ['a'] }], /routes\[0\] sets authorizationScopes, which only JWT authorization checks; its authorization is IAM/],
  ])('refuses %s', (_name, serviceRoutes, message) => {
    const { api } = apiStack();
    expect(() => api.addService('Chat', { image: NGINX, pathPrefix: '/chat', routes: serviceRoutes })).toThrow(message);
  });

  test('a token path prefix with routes is refused (they must be checked against it)', () => {
    const { api } = apiStack();
    const prefix = Lazy.string({ produce: () => '/chat' });
    expect(() => api.addService('Chat', { image: NGINX, pathPrefix: prefix, routes: [{ path: '/chat' }] })).toThrow(/routes need a pathPrefix known at synth/);
  });
});

describe('Fargate Spot', () => {
  test('spot(): one on-demand task, the rest on Spot; the cluster gets the Fargate capacity providers, and the service waits for them', () => {
    const { stack, api } = apiStack();
    api.addService('Web', { image: NGINX, pathPrefix: '/web', capacity: ServiceCapacity.spot() });
    const t = Template.fromStack(stack);
    const svc = ecsService(t, /^ApiWebService/);
    expect(svc.Properties.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 },
      { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
    ]);
    expect(svc.Properties.LaunchType).toBeUndefined();
    const [associationId, association] = only(t, 'AWS::ECS::ClusterCapacityProviderAssociations');
    expect(association.Properties).toEqual({
      Cluster: { Ref: expect.stringMatching(/^ApiCluster/) }, CapacityProviders: ['FARGATE', 'FARGATE_SPOT'], DefaultCapacityProviderStrategy: [],
    });
    expect(svc.DependsOn).toContain(associationId);
  });

  test('weights and base as given; a second service on demand keeps launch type FARGATE', () => {
    const { stack, api } = apiStack();
    api.addInternalService('Engine', {
      image: NGINX, healthCheck: { command: ['CMD', '/app/healthcheck'] }, capacity: ServiceCapacity.spot({ onDemandBase: 2, onDemandWeight: 1, spotWeight: 3 }),
    });
    api.addService('Web', { image: NGINX, pathPrefix: '/web', capacity: ServiceCapacity.onDemand() });
    const t = Template.fromStack(stack);
    expect(ecsService(t, /^ApiEngineService/).Properties.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE', Base: 2, Weight: 1 },
      { CapacityProvider: 'FARGATE_SPOT', Weight: 3 },
    ]);
    const web = ecsService(t, /^ApiWebService/);
    expect(web.Properties.LaunchType).toBe('FARGATE');
    expect(web.Properties.CapacityProviderStrategy).toBeUndefined();
    t.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 1);
  });

  test('by default no service runs on Spot and the cluster has no capacity provider association', () => {
    const { stack, api } = apiStack();
    api.addService('Web', { image: NGINX, pathPrefix: '/web' });
    const t = Template.fromStack(stack);
    expect(ecsService(t, /^ApiWebService/).Properties.LaunchType).toBe('FARGATE');
    t.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 0);
    expect(ServiceCapacity.onDemand().usesSpot).toBe(false);
    expect(ServiceCapacity.spot().usesSpot).toBe(true);
  });

  test('a cluster of the app gets the capacity providers; an imported cluster cannot, and a warning says what it needs', () => {
    const mine = apiStack((s) => ({ cluster: new ecs.Cluster(s, 'Mine', { vpc: new ec2.Vpc(s, 'Vpc'), containerInsightsV2: ecs.ContainerInsights.ENABLED }) }));
    mine.api.addService('Web', { image: NGINX, pathPrefix: '/web', capacity: ServiceCapacity.spot() });
    Template.fromStack(mine.stack).hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      Cluster: { Ref: Match.stringLikeRegexp('^Mine') }, CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    });

    const imported = apiStack((s) => {
      const vpc = new ec2.Vpc(s, 'Vpc');
      return { cluster: ecs.Cluster.fromClusterAttributes(s, 'Shared', { clusterName: 'shared', vpc }) };
    });
    imported.api.addService('Web', { image: NGINX, pathPrefix: '/web', capacity: ServiceCapacity.spot() });
    Template.fromStack(imported.stack).resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 0);
    Annotations.fromStack(imported.stack).hasWarning('/Test/Api/Web', Match.stringLikeRegexp('runs on Fargate Spot in a cluster that is not defined in this app.*FARGATE and FARGATE_SPOT'));
  });

  test.each<[string, () => unknown, RegExp]>([
    ['spotWeight 0', () => ServiceCapacity.spot({ spotWeight: 0 }), /^ServiceCapacity.spot: spotWeight \(spot_weight in Python\) is 0; it must be a whole number from 1 to 1000: a weight of 0 would put no task on Spot \(use ServiceCapacity.onDemand\(\)/],
    ['a negative base', () => ServiceCapacity.spot({ onDemandBase: -1 }), /onDemandBase \(on_demand_base in Python\) is -1; it must be a whole number from 0 to 100000/],
    ['a fractional base', () => ServiceCapacity.spot({ onDemandBase: 1.5 }), /onDemandBase \(on_demand_base in Python\) is 1.5; it must be a whole number/],
    ['an on-demand weight over 1000', () => ServiceCapacity.spot({ onDemandWeight: 1001 }), /onDemandWeight \(on_demand_weight in Python\) is 1001; it must be a whole number from 0 to 1000/],
  ])('refuses %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});

/** Seed 003's service and seed 002's engine with every option of this file. */
function everythingStack() {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const api = new SecureApi(stack, 'Api');
  const chat = api.addService('Chat', {
    imageSource: AgentImage.fromDirectoryIntoNewRepository(dir, { removalPolicy: RemovalPolicy.DESTROY }),
    pathPrefix: '/chat',
    containerPort: 8000,
    routes: [{ path: '/chat', methods: [apigwv2.HttpMethod.POST], authorization: ApiAuthorization.none() }],
    healthCheck: { command: ['CMD-SHELL', 'curl -fsS http://localhost:8000/health || exit 1'], startPeriod: Duration.seconds(30) },
    healthCheckGracePeriod: Duration.seconds(90),
    capacity: ServiceCapacity.spot(),
  });
  const engine = api.addInternalService('Engine', {
    imageSource: AgentImage.fromDirectoryIntoNewRepository(dir),
    containerPort: 50051,
    healthCheck: { command: ['CMD', '/bin/grpc_health_probe', '-addr=localhost:50051'] },
    capacity: ServiceCapacity.spot({ onDemandBase: 1, spotWeight: 2 }),
  });
  engine.connections.allowFrom(chat, ec2.Port.tcp(50051));
  return { app, stack, api };
}

test('cdk-nag: every option together raises no unacknowledged finding', () => {
  const { app } = everythingStack();
  expect(unacknowledgedNagFindings(app)).toEqual([]);
});

testIfInstalled('cfn-lint', 'cfn-lint finds nothing in a stack with every option', () => {
  // W3010: the test stack has an account and region, so the VPC names the dummy AZs of the synth-time lookup.
  expect(cfnLint(Template.fromStack(everythingStack().stack).toJSON(), ['W3010'])).toEqual([]);
}, 120_000);
