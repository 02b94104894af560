import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './helpers';
import { COST_JSON_SCHEMA_VERSION, CostReport, EXIT_OVER_BUDGET, runCost, VariableCostModule } from '../../src/cli/cost/command';
import { canaryRunsPerMonth, estimateFixedCost, readAssemblyStacks, splitTasks } from '../../src/cli/cost/fixed';
import { checkTable, HOURS_PER_MONTH, loadPrices, PRICE_TABLE, PRICE_TABLE_DATE, REQUIRED_PRICE_KEYS } from '../../src/cli/cost/prices';
import { run } from '../../src/cli/main';
import { LOCAL_METADATA_KEY } from '../../src/contract/table';

/** The table's figures the hand computations use (us-east-1). */
const P = loadPrices('us-east-1');
const H = 730;
const usd = (key: string) => {
  const e = P[key];
  if (!e) throw new Error(`test needs '${key}' in the price table`);
  return e.usd;
};

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;

/** Writes a cloud assembly (manifest.json + one template per stack) and returns its folder. */
function assembly(stacks: Record<string, Resources>, opts: { region?: string; tree?: unknown; files?: Record<string, unknown> } = {}): string {
  const dir = tempDir('cdkda-cost-');
  const artifacts: Record<string, unknown> = {};
  for (const [name, resources] of Object.entries(stacks)) {
    fs.writeFileSync(path.join(dir, `${name}.template.json`), JSON.stringify({ Resources: resources }));
    artifacts[name] = {
      type: 'aws:cloudformation:stack',
      environment: `aws://unknown-account/${opts.region ?? 'unknown-region'}`,
      properties: { templateFile: `${name}.template.json` },
      displayName: name,
    };
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '53.0.0', artifacts }));
  if (opts.tree) fs.writeFileSync(path.join(dir, 'tree.json'), JSON.stringify(opts.tree));
  for (const [f, content] of Object.entries(opts.files ?? {})) fs.writeFileSync(path.join(dir, f), JSON.stringify(content));
  return dir;
}

const at = (p: string) => ({ 'aws:cdk:path': p });

async function cost(args: string[], variable?: VariableCostModule) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCost(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, variable);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function costJson(dir: string, extra: string[] = [], variable?: VariableCostModule): Promise<CostReport> {
  const r = await cost(['--app', dir, '--json', ...extra], variable);
  expect(r.err).toBe('');
  return JSON.parse(r.out);
}

function linesOf(report: CostReport, logicalId: string) {
  return report.fixed.stacks.flatMap((s) => s.constructs.flatMap((c) => c.lines)).filter((l) => l.logicalId === logicalId);
}

function totalOf(report: CostReport, logicalId: string): number {
  return linesOf(report, logicalId).reduce((a, l) => a + l.monthlyUsd, 0);
}

describe('price table', () => {
  test('is dated, and every region has every key the variable part reads, with a source', () => {
    expect(PRICE_TABLE_DATE).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(HOURS_PER_MONTH).toBe(730);
    expect(Object.keys(PRICE_TABLE.regions)).toEqual(expect.arrayContaining(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1']));
    for (const region of Object.keys(PRICE_TABLE.regions)) {
      const prices = loadPrices(region);
      for (const key of REQUIRED_PRICE_KEYS) expect(prices[key].source.length).toBeGreaterThan(10);
    }
    // A regional figure that could not be confirmed says so.
    expect(loadPrices('eu-central-1').natGatewayHour.source).toMatch(/could not be confirmed/);
  });

  test('an unknown region is refused, naming the regions the table has', () => {
    expect(() => loadPrices('mars-north-1')).toThrow(/--region mars-north-1: .*has no prices for it; it has us-east-1, us-west-2, eu-west-1, eu-central-1/);
  });

  test('a malformed table is refused with the key at fault', () => {
    expect(() => checkTable({ date: '2026-12-06', currency: 'USD', hoursPerMonth: 730, regions: { 'us-east-1': { natGatewayHour: { usd: -1, unit: 'h', source: 'x' } } } }))
      .toThrow(/us-east-1\.natGatewayHour must be/);
    expect(() => checkTable({ date: '6 Dec', currency: 'USD', hoursPerMonth: 730, regions: {} })).toThrow(/'date' must be YYYY-MM-DD/);
  });
});

describe('fixed cost of small templates, computed by hand', () => {
  test('NAT gateway + its Elastic IP', async () => {
    const dir = assembly({
      Net: {
        Eip: { Type: 'AWS::EC2::EIP', Properties: { Domain: 'vpc' }, Metadata: at('Net/Vpc/PublicSubnet1/EIP') },
        Nat: { Type: 'AWS::EC2::NatGateway', Properties: { AllocationId: { 'Fn::GetAtt': ['Eip', 'AllocationId'] } }, Metadata: at('Net/Vpc/PublicSubnet1/NATGateway') },
      },
    });
    const r = await costJson(dir);
    const expected = 730 * 0.045 + 730 * 0.005;
    expect(usd('natGatewayHour')).toBe(0.045);
    expect(usd('publicIpv4Hour')).toBe(0.005);
    expect(r.fixed.monthlyUsd).toBeCloseTo(expected, 6); // $36.50
    expect(r.fixed.stacks[0].constructs.map((c) => c.construct)).toEqual(['Vpc']);
    expect(r.fixed.stacks[0].groupedBy).toBe('metadata');
  });

  test('NAT instance: the instance type by the hour and its public IPv4 address', async () => {
    const dir = assembly({
      Net: {
        Nat: {
          Type: 'AWS::EC2::Instance',
          Properties: { InstanceType: 't4g.nano', SourceDestCheck: false, NetworkInterfaces: [{ DeviceIndex: '0', AssociatePublicIpAddress: true }] },
          Metadata: at('Net/Vpc/PublicSubnet1/NatInstance'),
        },
        Private: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: 't4g.nano' }, Metadata: at('Net/Worker') },
      },
    });
    const r = await costJson(dir);
    expect(usd('ec2InstanceHour/t4g.nano')).toBe(0.0042);
    expect(totalOf(r, 'Nat')).toBeCloseTo(730 * 0.0042 + 730 * 0.005, 6); // $6.72
    expect(totalOf(r, 'Private')).toBeCloseTo(730 * 0.0042, 6); // no public address
  });

  test('RDS: instance class, Multi-AZ, storage type and GB', async () => {
    const dir = assembly({
      Db: {
        Single: { Type: 'AWS::RDS::DBInstance', Properties: { Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', AllocatedStorage: '20', StorageType: 'gp3', MultiAZ: false } },
        Multi: { Type: 'AWS::RDS::DBInstance', Properties: { Engine: 'postgres', DBInstanceClass: 'db.t4g.small', AllocatedStorage: 100, StorageType: 'gp3', MultiAZ: true } },
      },
    });
    const r = await costJson(dir);
    expect(totalOf(r, 'Single')).toBeCloseTo(usd('rdsInstanceHour/postgres/db.t4g.micro') * H + 20 * usd('rdsStorageGbMonth/gp3'), 6);
    expect(totalOf(r, 'Multi')).toBeCloseTo(2 * usd('rdsInstanceHour/postgres/db.t4g.small') * H + 2 * 100 * usd('rdsStorageGbMonth/gp3'), 6);
    // With today's table: 0.016*730 + 20*0.115 = $13.98
    expect(totalOf(r, 'Single')).toBeCloseTo(0.016 * 730 + 20 * 0.115, 6);
  });

  test('Aurora: instances priced, storage listed as per GB used, not fixed', async () => {
    const dir = assembly({
      Db: {
        Cluster: { Type: 'AWS::RDS::DBCluster', Properties: { Engine: 'aurora-postgresql' } },
        Writer: { Type: 'AWS::RDS::DBInstance', Properties: { DBClusterIdentifier: { Ref: 'Cluster' }, DBInstanceClass: 'db.r7g.large', Engine: 'aurora-postgresql' } },
      },
    });
    const r = await costJson(dir);
    expect(totalOf(r, 'Writer')).toBeCloseTo(usd('auroraInstanceHour/aurora-postgresql/db.r7g.large') * H, 6);
    expect(totalOf(r, 'Cluster')).toBe(0);
    expect(linesOf(r, 'Cluster')[0].item).toMatch(/per GB used, not fixed/);
  });

  test('Fargate: 2 tasks, ARM, half on FARGATE_SPOT at its typical discount', async () => {
    const dir = assembly({
      Svc: {
        Task: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: '512', Memory: '1024', RequiresCompatibilities: ['FARGATE'], RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' } } },
        Service: {
          Type: 'AWS::ECS::Service',
          Properties: {
            DesiredCount: 2,
            TaskDefinition: { Ref: 'Task' },
            CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE', Base: 1, Weight: 0 }, { CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
          },
        },
      },
    });
    const r = await costJson(dir);
    const perTask = (0.5 * usd('fargateArmVcpuHour') + 1 * usd('fargateArmGbHour')) * H;
    const spot = 1 - usd('fargateSpotDiscount');
    expect(totalOf(r, 'Service')).toBeCloseTo(perTask + perTask * spot, 6);
    // With today's table: (0.5*0.03238 + 0.00356)*730 * (1 + 0.3) = $18.74
    expect(totalOf(r, 'Service')).toBeCloseTo((0.5 * 0.03238 + 0.00356) * 730 * 1.3, 6);
    const notes = linesOf(r, 'Service').map((l) => l.note ?? '').join(' ');
    expect(notes).toMatch(/typical 70% discount, not a list price/);
  });

  test('capacity provider split: the base first, the rest by weight', () => {
    expect(splitTasks(2, [{ provider: 'FARGATE', base: 1, weight: 0 }, { provider: 'FARGATE_SPOT', base: 0, weight: 1 }])).toEqual({ onDemand: 1, spot: 1 });
    expect(splitTasks(5, [{ provider: 'FARGATE', base: 1, weight: 1 }, { provider: 'FARGATE_SPOT', base: 0, weight: 3 }])).toEqual({ onDemand: 2, spot: 3 });
  });

  test('ElastiCache: 2 nodes (NumCacheClusters) and node groups x (1 + replicas)', async () => {
    const dir = assembly({
      Cache: {
        Pair: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { CacheNodeType: 'cache.t4g.micro', NumCacheClusters: 2 } },
        Sharded: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { CacheNodeType: 'cache.t4g.small', NumNodeGroups: 2, ReplicasPerNodeGroup: 1 } },
      },
    });
    const r = await costJson(dir);
    expect(totalOf(r, 'Pair')).toBeCloseTo(2 * usd('elastiCacheNodeHour/cache.t4g.micro') * H, 6);
    expect(totalOf(r, 'Pair')).toBeCloseTo(2 * 0.016 * 730, 6); // $23.36
    expect(totalOf(r, 'Sharded')).toBeCloseTo(4 * usd('elastiCacheNodeHour/cache.t4g.small') * H, 6);
  });

  test('WAF web ACL with 3 rules (one a managed rule group)', async () => {
    const dir = assembly({
      Edge: {
        Acl: {
          Type: 'AWS::WAFv2::WebACL',
          Properties: {
            DefaultAction: { Allow: {} },
            Scope: 'REGIONAL',
            Rules: [
              { Name: 'common', Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } } },
              { Name: 'rate', Statement: { RateBasedStatement: { Limit: 100, AggregateKeyType: 'IP' } } },
              { Name: 'geo', Statement: { GeoMatchStatement: { CountryCodes: ['KP'] } } },
            ],
          },
        },
      },
    });
    const r = await costJson(dir);
    expect(totalOf(r, 'Acl')).toBeCloseTo(usd('wafWebAclMonth') + 3 * usd('wafRuleMonth'), 6);
    expect(totalOf(r, 'Acl')).toBeCloseTo(5 + 3 * 1, 6);
  });

  test('Synthetics canary on rate(5 minutes): 8,760 runs a month', async () => {
    expect(canaryRunsPerMonth('rate(5 minutes)', 730)).toBe(730 * 60 / 5);
    expect(canaryRunsPerMonth('rate(1 hour)', 730)).toBe(730);
    expect(canaryRunsPerMonth('cron(0 9 * * ? *)', 730)).toBeUndefined();
    const dir = assembly({ Mon: { Canary: { Type: 'AWS::Synthetics::Canary', Properties: { Schedule: { Expression: 'rate(5 minutes)', DurationInSeconds: '0' } } } } });
    const r = await costJson(dir);
    expect(totalOf(r, 'Canary')).toBeCloseTo(8760 * usd('syntheticsCanaryRun'), 6);
    expect(totalOf(r, 'Canary')).toBeCloseTo(8760 * 0.0012, 6); // $10.51
  });

  test('keys, secrets, alarms, dashboards, zones, endpoints, internet-facing ALB, provisioned concurrency', async () => {
    const dir = assembly({
      Misc: {
        Key: { Type: 'AWS::KMS::Key', Properties: {} },
        Secret: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
        Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 300 } },
        FastAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 10 } },
        Dash: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
        Zone: { Type: 'AWS::Route53::HostedZone', Properties: { Name: 'example.com' } },
        Endpoint: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ecr.api', SubnetIds: ['a', 'b', 'c'] } },
        Gateway: { Type: 'AWS::EC2::VPCEndpoint', Properties: { ServiceName: 'com.amazonaws.us-east-1.s3' } },
        Alb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'application', Scheme: 'internet-facing', Subnets: ['a', 'b'] } },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 2048, Architectures: ['arm64'] } },
        Live: { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: { Ref: 'Fn' }, ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } } },
      },
    });
    const r = await costJson(dir);
    expect(totalOf(r, 'Key')).toBeCloseTo(usd('kmsKeyMonth'), 9);
    expect(totalOf(r, 'Secret')).toBeCloseTo(usd('secretsManagerSecretMonth'), 9);
    expect(totalOf(r, 'Alarm')).toBeCloseTo(usd('cloudWatchAlarmStandardMonth'), 9);
    expect(totalOf(r, 'FastAlarm')).toBeCloseTo(usd('cloudWatchAlarmHighResMonth'), 9);
    expect(totalOf(r, 'Dash')).toBeCloseTo(usd('cloudWatchDashboardMonth'), 9);
    expect(totalOf(r, 'Zone')).toBeCloseTo(usd('route53HostedZoneMonth'), 9);
    expect(totalOf(r, 'Endpoint')).toBeCloseTo(3 * H * usd('vpcInterfaceEndpointAzHour'), 6);
    expect(linesOf(r, 'Gateway')).toEqual([]);
    expect(r.fixed.usageOnly.find((u) => u.type === 'AWS::EC2::VPCEndpoint')?.reason).toMatch(/gateway endpoints/);
    expect(totalOf(r, 'Alb')).toBeCloseTo(H * usd('albHour') + 2 * H * usd('publicIpv4Hour'), 6);
    expect(totalOf(r, 'Live')).toBeCloseTo(2 * 2 * H * 3600 * usd('lambdaProvisionedArmGbSecond'), 6);
  });

  test('a type the estimate does not know is "not priced", never silently zero; known free types are "usage only" once', async () => {
    const dir = assembly({
      App: {
        Widget: { Type: 'Acme::Widgets::Widget', Properties: {} },
        Kinesis: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 2 } },
        Role1: { Type: 'AWS::IAM::Role', Properties: {} },
        Role2: { Type: 'AWS::IAM::Role', Properties: {} },
        Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
        Ec: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { CacheNodeType: 'cache.x99.huge', NumCacheClusters: 1 } },
      },
    });
    const r = await costJson(dir);
    expect(r.fixed.monthlyUsd).toBe(0);
    expect(r.fixed.notPriced.map((n) => [n.type, n.logicalId])).toEqual([
      ['Acme::Widgets::Widget', 'Widget'], ['AWS::Kinesis::Stream', 'Kinesis'], ['AWS::ElastiCache::ReplicationGroup', 'Ec'],
    ]);
    expect(r.fixed.notPriced[2].reason).toMatch(/cache node type cache.x99.huge is not in the price table \(add 'elastiCacheNodeHour\/cache.x99.huge'\)/);
    expect(r.fixed.usageOnly).toEqual([
      { type: 'AWS::IAM::Role', count: 2, reason: expect.any(String) },
      { type: 'AWS::Lambda::Function', count: 1, reason: expect.stringMatching(/usage/) },
    ]);
    const table = await cost(['--app', dir]);
    expect(table.out).toMatch(/Not priced \(3; not in the total - check them yourself\):\n {2}Acme::Widgets::Widget Widget/);
    expect(table.out).toContain(`prices of ${PRICE_TABLE_DATE}`);
  });

  test('groups by tree.json when the templates carry no construct paths (integ snapshots), else by logical id', async () => {
    const resources: Resources = { KeyA1B2: { Type: 'AWS::KMS::Key' }, Lonely: { Type: 'AWS::KMS::Key' } };
    const tree = {
      version: 'tree-0.1',
      tree: {
        id: 'App',
        path: '',
        children: {
          S: {
            id: 'S',
            path: 'S',
            constructInfo: { fqn: 'aws-cdk-lib.Stack' },
            children: {
              Platform: {
                id: 'Platform',
                path: 'S/Platform',
                children: {
                  Key: {
                    id: 'Key',
                    path: 'S/Platform/Key',
                    children: {
                      Resource: {
                        id: 'Resource',
                        path: 'S/Platform/Key/Resource',
                        attributes: { 'aws:cdk:cloudformation:logicalId': 'KeyA1B2', 'aws:cdk:cloudformation:type': 'AWS::KMS::Key' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    };
    const r = await costJson(assembly({ S: resources }, { tree }));
    expect(r.fixed.stacks[0].groupedBy).toBe('tree.json');
    expect(r.fixed.stacks[0].constructs.map((c) => c.construct).sort()).toEqual(['Lonely', 'Platform']);
    const bare = await costJson(assembly({ S: resources }));
    expect(bare.fixed.stacks[0].groupedBy).toBe('logical id');
  });
});

describe('the command', () => {
  const natApp = () => assembly({
    Net: {
      Eip: { Type: 'AWS::EC2::EIP', Properties: {} },
      Nat: { Type: 'AWS::EC2::NatGateway', Properties: {} },
    },
  }, { region: 'eu-west-1' });

  test('JSON for CI: a stable schema', async () => {
    const r = await costJson(natApp());
    expect(Object.keys(r)).toEqual(['schemaVersion', 'assembly', 'region', 'currency', 'priceTableDate', 'hoursPerMonth', 'notes', 'fixed', 'variable', 'maxFixed']);
    expect(r).toMatchObject({ schemaVersion: COST_JSON_SCHEMA_VERSION, region: 'eu-west-1', currency: 'USD', priceTableDate: PRICE_TABLE_DATE, hoursPerMonth: 730, variable: null, maxFixed: null });
    expect(Object.keys(r.fixed)).toEqual(['monthlyUsd', 'stacks', 'usageOnly', 'notPriced']);
    expect(Object.keys(r.fixed.stacks[0])).toEqual(['stack', 'template', 'constructs', 'monthlyUsd', 'groupedBy']);
    const line = r.fixed.stacks[0].constructs[0].lines[0];
    expect(Object.keys(line)).toEqual(expect.arrayContaining(['logicalId', 'type', 'item', 'quantity', 'unit', 'unitUsd', 'monthlyUsd', 'priceKey']));
    // The app's own region is used when --region is not given; --region overrides it.
    expect((await costJson(natApp(), ['--region', 'us-west-2'])).region).toBe('us-west-2');
  });

  test('--max-fixed: exit 3 with a clear message above the limit, 0 at or under it', async () => {
    const dir = natApp();
    const total = 730 * (usd('natGatewayHour') + usd('publicIpv4Hour'));
    const over = await cost(['--app', dir, '--max-fixed', '30']);
    expect(over.code).toBe(EXIT_OVER_BUDGET);
    expect(over.err).toMatch(new RegExp(`the fixed monthly cost \\$${total.toFixed(2)} is above --max-fixed \\$30.00 \\(prices of ${PRICE_TABLE_DATE}, eu-west-1\\)`));
    expect(over.out).toMatch(/--max-fixed \$30.00: EXCEEDED/);
    const json = await cost(['--app', dir, '--max-fixed', '30', '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.out).maxFixed).toEqual({ limitUsd: 30, exceeded: true });
    expect((await cost(['--app', dir, '--max-fixed', '100'])).code).toBe(0);
    // Through the command line's entry point too.
    const err: string[] = [];
    expect(await run(['cost', '--app', dir, '--max-fixed', '1'], { out: () => undefined, err: (l) => err.push(l) })).toBe(3);
  });

  test('regions: an app pinned to a region the table lacks is priced at us-east-1 with a note; figures carried over from us-east-1 are said to be', async () => {
    const table = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'cli', 'cost', 'price-table.json'), 'utf8'));
    const farAway = assembly({ Net: { Key: { Type: 'AWS::KMS::Key' } } }, { region: 'ap-south-7' });
    const r = await costJson(farAway);
    expect(r.region).toBe('us-east-1');
    expect(r.notes[0]).toMatch(/^the app is in ap-south-7, which the price table \(\d{4}-\d{2}-\d{2}\) has no prices for: priced at us-east-1's/);
    expect(r.fixed.monthlyUsd).toBeCloseTo(table.regions['us-east-1'].kmsKeyMonth.usd, 9);
    // eu-central-1's figures that are us-east-1's, counted from the table by hand.
    const copied = Object.values(table.regions['eu-central-1'] as Record<string, { source: string }>).filter((e) => e.source.startsWith('us-east-1 figure:')).length;
    const eu = await costJson(farAway, ['--region', 'eu-central-1']);
    if (copied > 0) expect(eu.notes).toContainEqual(expect.stringMatching(new RegExp(`^${copied} of the \\d+ figures for eu-central-1 are us-east-1's, not confirmed for eu-central-1`)));
    else expect(eu.notes.join('\n')).not.toMatch(/are us-east-1's/);
    expect((await costJson(farAway, ['--region', 'us-east-1'])).notes.join('\n')).not.toMatch(/are us-east-1's/);
  });

  test('errors a person can act on: unknown region, not a cloud assembly, bad numbers, no --app', async () => {
    const errOf = async (args: string[]) => {
      const err: string[] = [];
      const code = await run(['cost', ...args], { out: () => undefined, err: (l) => err.push(l) });
      return { code, err: err.join('\n') };
    };
    expect(await errOf(['--app', natApp(), '--region', 'ap-south-7'])).toEqual({ code: 1, err: expect.stringMatching(/--region ap-south-7: .*it has us-east-1, us-west-2, eu-west-1, eu-central-1/) });
    const notAssembly = tempDir('cdkda-cost-empty-');
    fs.writeFileSync(path.join(notAssembly, 'README.md'), 'hello');
    expect((await errOf(['--app', notAssembly])).err).toMatch(/has no manifest.json, so it is not a cloud assembly; run `npx cdk synth`/);
    expect((await errOf(['--app', path.join(notAssembly, 'nope')])).err).toMatch(/no such folder/);
    expect((await errOf(['--app', natApp(), '--max-fixed', 'lots'])).err).toMatch(/--max-fixed lots: expected a number >= 0/);
    expect((await errOf([])).err).toMatch(/cost: --app <dir> is required/);
  });

  test('with a DurableOrchestrator: the variable part per 1,000 workflows, Step Functions beside it, and the month', async () => {
    const definition = {
      schemaVersion: 1,
      name: 'tiny',
      steps: [{
        type: 'agent',
        name: 'work',
        agent: 'worker',
        input: {},
        timeoutSeconds: 30,
        retry: { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 },
      }],
    };
    const dir = assembly({
      App: {
        Controller: { Type: 'AWS::Lambda::Function', Properties: {}, Metadata: { [LOCAL_METADATA_KEY]: { workflow: definition, agents: { worker: { kind: 'lambda' } } } } },
        Key: { Type: 'AWS::KMS::Key' },
      },
    });
    const calls: unknown[] = [];
    const fake: VariableCostModule = {
      estimateVariableCost: async (input) => {
        const hasPrices = input.prices.durableOperationPerMillion.usd > 0;
        calls.push({ name: input.definition.name, agents: input.agents, step: input.stepDurationSeconds, hasPrices });
        return {
          per1000: { total: 2.5, lines: [{ item: 'durable operations', quantity: 10_000, unit: 'operations', usd: 0.08 }] },
          stepFunctionsStandardPer1000: { total: 0.5, transitions: 20_000 },
          counted: { durableOperations: 10 },
        };
      },
    };
    const r = await costJson(dir, ['--workflows-per-month', '4000', '--step-duration', '90'], fake);
    expect(calls).toEqual([{ name: 'tiny', agents: { worker: { kind: 'lambda' } }, step: 90, hasPrices: true }]);
    expect(r.variable).toMatchObject({ stepDurationSeconds: 90, workflowsPerMonth: 4000, workflows: [{ workflow: 'tiny', monthlyUsd: 2.5 * 4 }] });
    const table = await cost(['--app', dir, '--workflows-per-month', '4000'], fake);
    expect(table.out).toMatch(/workflow 'tiny' .*: \$2.50 per 1,000/);
    expect(table.out).toMatch(/the same workflow on Step Functions Standard: 20,000 state transitions = \$0.50 per 1,000/);
    expect(table.out).toMatch(new RegExp(`at 4,000 workflows a month: \\$10.00 variable \\+ \\$${usd('kmsKeyMonth').toFixed(2)} fixed`));
    // An orchestrator whose workflow configuration is not in the assembly (an integ snapshot has no assets): the fixed part, and a note.
    const noAssets = assembly({
      App: {
        Controller: { Type: 'AWS::Lambda::Function', Metadata: { [LOCAL_METADATA_KEY]: { configFile: 'asset.0123/workflow-config.json', agents: {} } } },
        Key: { Type: 'AWS::KMS::Key' },
      },
    });
    const partial = await costJson(noAssets, [], fake);
    expect(partial.fixed.monthlyUsd).toBeCloseTo(usd('kmsKeyMonth'), 9);
    expect(partial.variable?.workflows).toEqual([]);
    expect(partial.notes[1]).toMatch(/^the variable cost is not computed: .*cannot read its workflow configuration/);
    // An app without an orchestrator has no variable part.
    expect((await costJson(assembly({ S: { Key: { Type: 'AWS::KMS::Key' } } }), [], fake)).variable).toBeNull();
  });
});

describe('the committed seed snapshots', () => {
  const snapshots = ['integ.seed-003-sales-agent.ts.snapshot', 'integ.seed-004-production.ts.snapshot'];
  test.each(snapshots)('%s: every resource type is priced, usage only or not priced', (snap) => {
    const dir = path.join(__dirname, '..', '..', 'integ', snap);
    const stacks = readAssemblyStacks(dir);
    const estimate = estimateFixedCost(stacks, P, H);
    const types = new Set(stacks.flatMap((s) => Object.values(s.template.Resources ?? {}).map((r) => r.Type)));
    const priced = new Set(estimate.stacks.flatMap((s) => s.constructs.flatMap((c) => c.lines.map((l) => l.type))));
    const usage = new Set(estimate.usageOnly.map((u) => u.type));
    const notPriced = new Set(estimate.notPriced.map((n) => n.type));
    for (const t of types) expect([t, priced.has(t) || usage.has(t) || notPriced.has(t)]).toEqual([t, true]);
    // No priced line is silently zero, except Aurora storage, which says it is per GB used.
    for (const l of estimate.stacks.flatMap((s) => s.constructs.flatMap((c) => c.lines))) {
      if (l.monthlyUsd === 0) expect(l.item).toMatch(/per GB used, not fixed|priced at the cluster/);
    }
    expect(estimate.stacks.find((s) => !s.stack.endsWith('-assertions'))!.groupedBy).toBe('tree.json');
    const lines = [`${snap}: fixed ${estimate.monthlyUsd.toFixed(2)} USD/month (us-east-1, prices of ${PRICE_TABLE_DATE})`];
    for (const s of estimate.stacks) {
      for (const c of s.constructs) for (const l of c.lines) lines.push(`  ${s.stack}/${c.construct} ${l.item}: ${l.monthlyUsd.toFixed(2)}`);
    }
    lines.push(`  not priced: ${estimate.notPriced.map((n) => `${n.type} ${n.logicalId}`).join(', ') || 'none'}`);
    // eslint-disable-next-line no-console
    console.log(lines.join('\n'));
  });

  test('seed 003, the ephemeral app, stays at most $60 a month fixed (issue 19); no NAT gateway, load balancer or WAF in it', () => {
    const dir = path.join(__dirname, '..', '..', 'integ', 'integ.seed-003-sales-agent.ts.snapshot');
    const estimate = estimateFixedCost(readAssemblyStacks(dir), P, H);
    expect(estimate.notPriced).toEqual([]);
    expect(estimate.monthlyUsd).toBeLessThanOrEqual(60);
    const types = estimate.stacks.flatMap((s) => s.constructs.flatMap((c) => c.lines.map((l) => l.type)));
    expect(types).not.toEqual(expect.arrayContaining(['AWS::EC2::NatGateway']));
    expect(types).not.toEqual(expect.arrayContaining(['AWS::ElasticLoadBalancingV2::LoadBalancer']));
    expect(types).not.toEqual(expect.arrayContaining(['AWS::WAFv2::WebACL']));
    // Its largest items, by hand from the table: the database with its storage, and the cache.
    const db = usd('rdsInstanceHour/postgres/db.t4g.micro') * H + 20 * usd('rdsStorageGbMonth/gp3');
    const cache = usd('elastiCacheNodeHour/cache.t4g.micro') * H;
    expect(totalOf({ fixed: estimate } as never, 'DataDatabaseA9E9E962')).toBeCloseTo(db, 6);
    expect(totalOf({ fixed: estimate } as never, 'DataCache179E637C')).toBeCloseTo(cache, 6);
  });
});
