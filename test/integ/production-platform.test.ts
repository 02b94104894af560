/**
 * The production side of the seeds (004's operating platform) composed from the four constructs:
 * the data tier's production profile, a SecureApi with Cognito sign-in, TLS to the load balancer
 * and a custom domain, services that autoscale, and an orchestrator on the same front door, all
 * with one customer managed key. It is not deployable here (the certificate and the zone are
 * imported), so it is checked as a template: cdk-nag, cfn-lint, and the settings that make it
 * production.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { DataTierProfile, DataTier } from '../../src/data-tier';
import { AgentTarget, DurableOrchestrator } from '../../src/durable-orchestrator';
import { ApiAuthorization, SecureApi } from '../../src/secure-api';
import { ReferenceWorkflows, WorkflowAgent } from '../../src/workflow';
import { cfnLint } from '../helpers/cfn-lint';
import { unacknowledgedNagFindings } from '../helpers/nag';
import { testIfInstalled } from '../helpers/tools';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

function productionPlatform() {
  const app = new App();
  const stack = new Stack(app, 'Prod', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true, description: 'Platform data' });
  const data = new DataTier(stack, 'Data', { profile: DataTierProfile.production(), encryptionKey: key });

  // The fixture's user pool, strict enough for cdk-nag (it is the user's, not the library's).
  const users = new cognito.UserPool(stack, 'Users', {
    passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { otp: true, sms: false },
    featurePlan: cognito.FeaturePlan.PLUS,
    standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
  });
  const client = users.addClient('Web');
  const certificate = acm.Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE);
  const api = new SecureApi(stack, 'Api', {
    vpc: data.vpc,
    authorization: ApiAuthorization.cognito({ userPool: users, userPoolClients: [client] }),
    domain: {
      domainName: 'api.example.com',
      certificate,
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123456ABCDEFG', zoneName: 'example.com' }),
    },
    loadBalancerTls: { certificate, serverName: 'internal.example.com' },
  });
  const web = api.addService('Web', {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/my-org/app:1.4.2'),
    pathPrefix: '/app',
    desiredCount: 3,
    maxCapacity: 12,
  });
  data.bindToContainer(web.taskDefinition.findContainer(web.containerName)!);
  data.allowDefaultPortsFrom(web);

  const agent = new lambda.Function(stack, 'Agent', {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    tracing: lambda.Tracing.ACTIVE,
    memorySize: 512,
  });
  new DurableOrchestrator(stack, 'Research', {
    workflow: ReferenceWorkflows.researchReport({
      researcher: WorkflowAgent.named('researcher'),
      analyst: WorkflowAgent.named('analyst'),
      writer: WorkflowAgent.named('writer'),
    }),
    agents: ['researcher', 'analyst', 'writer'].map((name) => AgentTarget.lambdaFunction(name, agent)),
    api,
    apiBasePath: '/research',
    encryptionKey: key,
    dashboard: true,
  });
  return { app, stack };
}

describe('a production platform (seed 004 shape) composed from the four constructs', () => {
  const { app, stack } = productionPlatform();
  // The stand-in agent function is the fixture's, not the library's.
  const findings = unacknowledgedNagFindings(app).filter((f) => !f.path.startsWith('Prod/Agent/'));
  const template = Template.fromStack(stack);

  test('cdk-nag AwsSolutions and Serverless: nothing unacknowledged', () => {
    expect(findings).toEqual([]);
  });

  test('data: Aurora Multi-AZ with backups, deletion protection and snapshots on removal; Redis with failover; one key', () => {
    template.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({
        DeletionProtection: true, BackupRetentionPeriod: 7, StorageEncrypted: true, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      }),
    });
    template.resourceCountIs('AWS::RDS::DBInstance', 2);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      AutomaticFailoverEnabled: true, MultiAZEnabled: true, NumCacheClusters: 2, TransitEncryptionEnabled: true, AtRestEncryptionEnabled: true,
    });
  });

  test('edge: Cognito on the service routes, IAM on the workflow routes, TLS to the load balancer, WAF, a custom domain', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /app/{proxy+}', AuthorizationType: 'JWT' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /research/workflows', AuthorizationType: 'AWS_IAM' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', Port: 443 });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainName: 'api.example.com' });
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'api.example.com.', Type: 'A' });
  });

  test('the orchestrator tells agents to call back on the custom domain, under its base path', () => {
    const envOf = (description: string) => Object.values(template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp(description) },
    }))[0].Properties.Environment.Variables;
    expect(envOf('Durable controller').CALLBACK_BASE_URL).toBe('https://api.example.com/research');
    expect(envOf('HTTP API and agent callbacks').API_BASE_PATH).toBe('/research');
  });

  testIfInstalled('cfn-lint', 'the template passes cfn-lint', () => {
    // W3010 (hard-coded availability zones): the fixture fixes account and region, so the CDK
    // writes the zones' names; that is the app's choice, not the library's.
    expect(cfnLint(template.toJSON(), ['W3010'])).toEqual([]);
  }, 120_000);
});
