/**
 * The throwaway switch: every construct of the library under the scope destroys its data with
 * the stack (buckets emptied, repositories emptied, tables, log groups, databases deleted);
 * explicit removal policies win; a DataTier whose deletion protection contradicts it is refused.
 * The DataTier's own cases (profiles, secrets) are in test/data-tier/data-tier.test.ts.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AgentCompute, AgentImage, ContainerAgent } from '../../src/container-agent';
import { DataTier, DataTierProfile } from '../../src/data-tier';
import { AgentTarget, DurableOrchestrator } from '../../src/durable-orchestrator';
import { SecureApi } from '../../src/secure-api';
import { Throwaway } from '../../src/throwaway';
import { researchWorkflow, testAgentFunction } from '../durable-orchestrator/fixtures';

const ENV = { account: '123456789012', region: 'us-east-1' };

interface Overrides {
  readonly orchestratorRemoval?: RemovalPolicy;
  readonly apiRemoval?: RemovalPolicy;
  readonly repositoryRemoval?: RemovalPolicy;
}

/** A stack with one of each construct, built the way a seed app does, with the switch on or off. */
function everything(throwaway: boolean, o: Overrides = {}, app = new App()) {
  const stack = new Stack(app, 'Preview', { env: ENV });
  if (throwaway) Throwaway.enable(stack);
  const data = new DataTier(stack, 'Data');
  const api = new SecureApi(stack, 'Api', { vpc: data.vpc, removalPolicy: o.apiRemoval });
  const web = api.addService('Web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'), pathPrefix: '/web' });
  data.bindToContainer(web.taskDefinition.findContainer(web.containerName)!);
  data.allowDefaultPortsFrom(web);
  const writer = new ContainerAgent(stack, 'Writer', {
    agentName: 'writer',
    image: AgentImage.fromNewRepository('v1', { removalPolicy: o.repositoryRemoval }),
    compute: AgentCompute.fargate({ vpc: data.vpc }),
  });
  new DurableOrchestrator(stack, 'Orchestrator', {
    workflow: researchWorkflow(),
    agents: [
      AgentTarget.lambdaFunction('researcher', testAgentFunction(stack, 'Researcher')),
      AgentTarget.lambdaFunction('analyst', testAgentFunction(stack, 'Analyst')),
      writer,
    ],
    removalPolicy: o.orchestratorRemoval,
  });
  return { stack, template: Template.fromStack(stack) };
}

/** `Type logicalId` of every resource whose DeletionPolicy keeps something (Retain, Snapshot, RetainExceptOnCreate). */
function kept(template: Template): string[] {
  return Object.entries(template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>)
    .filter(([, r]) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete')
    .map(([id, r]) => `${r.Type} ${id.replace(/[0-9A-F]{8}$/, '')}`)
    .sort();
}

describe('Throwaway.enable', () => {
  test('turns the switch on for the scope and what is under it, not for other stacks', () => {
    const app = new App();
    const preview = new Stack(app, 'Preview');
    Throwaway.enable(preview);
    const prod = new Stack(app, 'Prod');
    expect([Throwaway.isEnabled(preview), Throwaway.isEnabled(new Stack(preview, 'Nested')), Throwaway.isEnabled(prod), Throwaway.isEnabled(app)])
      .toEqual([true, true, false, false]);
    expect(Throwaway.CONTEXT_KEY).toBe('cdk-durable-agents:throwaway');
  });

  test('the context key turns it on for a whole app (cdk deploy -c cdk-durable-agents:throwaway=true gives the string)', () => {
    for (const [value, on] of [[true, true], ['true', true], [false, false], ['false', false]] as const) {
      const app = new App({ context: { [Throwaway.CONTEXT_KEY]: value } });
      expect(Throwaway.isEnabled(new Stack(app, 'S'))).toBe(on);
    }
  });

  test('a context value other than true or false is refused by every construct, naming the key', () => {
    const app = new App({ context: { [Throwaway.CONTEXT_KEY]: 'yes' } });
    const stack = new Stack(app, 'S', { env: ENV });
    expect(() => new DataTier(stack, 'Data')).toThrow(
      'The context value cdk-durable-agents:throwaway is "yes", but it must be true or false (e.g. cdk deploy -c cdk-durable-agents:throwaway=true, or Throwaway.enable(scope) in the app)');
    expect(() => new SecureApi(stack, 'Api')).toThrow(/cdk-durable-agents:throwaway is "yes"/);
  });

  test('refused on a scope that already has children, saying when to call it and how to set it for an app', () => {
    const app = new App();
    const stack = new Stack(app, 'Preview');
    new DataTier(stack, 'Data');
    expect(() => Throwaway.enable(stack)).toThrow(
      /^Throwaway.enable: 'Preview' already has children \(Data\), and context cannot be set on a scope after children were added; call Throwaway.enable\(stack\) right after creating the stack/);
    expect(() => Throwaway.enable(app)).toThrow(/the app already has children .*new App\(\{ context: \{ 'cdk-durable-agents:throwaway': true \} \}\) or cdk deploy -c cdk-durable-agents:throwaway=true/);
  });
});

describe('a stack of every construct', () => {
  test('by default the table, the buckets, the access log group and the repository are kept', () => {
    expect(kept(everything(false).template)).toEqual([
      'AWS::DynamoDB::Table OrchestratorWorkflowTable',
      'AWS::ECR::Repository WriterRepository',
      'AWS::Logs::LogGroup ApiAccessLogs',
      'AWS::S3::Bucket ApiLoadBalancerAccessLogs',
      'AWS::S3::Bucket OrchestratorArtifactAccessLogs',
      'AWS::S3::Bucket OrchestratorArtifactBucket',
    ]);
  });

  describe('under the switch', () => {
    const { template } = everything(true);

    test('nothing is kept: every resource is deleted with the stack', () => {
      expect(kept(template)).toEqual([]);
    });

    test('every bucket is emptied before it is deleted (S3 auto-delete objects)', () => {
      const buckets = Object.keys(template.findResources('AWS::S3::Bucket'));
      expect(buckets).toHaveLength(3);
      const emptied = Object.values(template.findResources('Custom::S3AutoDeleteObjects')).map((r) => r.Properties.BucketName.Ref).sort();
      expect(emptied).toEqual([...buckets].sort());
    });

    test('the repository is emptied of its images before it is deleted', () => {
      template.hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ EmptyOnDelete: true }) });
    });

    test('the workflow table and the API\'s access log group are deleted', () => {
      template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
      expect(logGroups.length).toBeGreaterThan(3);
      expect(logGroups.filter((r) => r.DeletionPolicy !== 'Delete')).toEqual([]);
    });

    test('the data tier (ephemeral) is destroyed as before: no final snapshot, secrets deleted', () => {
      template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtection: false }) });
      template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Delete' });
      expect(Object.values(template.findResources('AWS::SecretsManager::Secret')).map((r) => r.DeletionPolicy)).toEqual(['Delete', 'Delete']);
    });
  });

  test('explicit removal policies win over the switch', () => {
    const { template } = everything(true, {
      orchestratorRemoval: RemovalPolicy.RETAIN, apiRemoval: RemovalPolicy.RETAIN, repositoryRemoval: RemovalPolicy.RETAIN,
    });
    expect(kept(template)).toEqual(kept(everything(false).template));
    template.hasResourceProperties('AWS::ECR::Repository', { EmptyOnDelete: Match.absent() });
    expect(template.findResources('Custom::S3AutoDeleteObjects')).toEqual({});
  });

  test('set for the whole app by context, as cdk deploy -c does, it does the same', () => {
    const { template } = everything(false, {}, new App({ context: { 'cdk-durable-agents:throwaway': 'true' } }));
    expect(kept(template)).toEqual([]);
  });
});

describe('refused together with settings that contradict it', () => {
  const stack = () => {
    const s = new Stack(new App(), 'Preview', { env: ENV });
    Throwaway.enable(s);
    return s;
  };

  test('a production DataTier keeps its deletion protection: refused, naming the switch, the prop and the fixes', () => {
    expect(() => new DataTier(stack(), 'Data', { profile: DataTierProfile.production() })).toThrow(
      'DataTier: the throwaway switch (cdk-durable-agents:throwaway) is on, so removalPolicy defaults to DESTROY, but deletionProtection is true ' +
      '(the production profile\'s default): deleting the stack would fail on the protected database. Set deletionProtection: false to throw this tier ' +
      'away with the stack, give removalPolicy RemovalPolicy.SNAPSHOT or RETAIN to keep its data, or create it outside the throwaway scope');
  });

  test('deletion protection given as a prop to an ephemeral DataTier: refused too', () => {
    expect(() => new DataTier(stack(), 'Data', { deletionProtection: true })).toThrow(/deletionProtection is true \(given as a prop\): deleting the stack would fail/);
  });

  test('not refused when the prop says the data is kept: removalPolicy SNAPSHOT wins, protection stays', () => {
    const s = stack();
    new DataTier(s, 'Data', { profile: DataTierProfile.production(), removalPolicy: RemovalPolicy.SNAPSHOT });
    Template.fromStack(s).hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot', Properties: Match.objectLike({ DeletionProtection: true }) });
  });
});
