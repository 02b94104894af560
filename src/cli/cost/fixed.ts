/**
 * The fixed monthly cost of a synthesized app: what runs whether or not work arrives, priced
 * resource by resource from the CloudFormation templates of a cloud assembly. Every resource
 * type ends up in one of three places: a priced line, "usage only" (no cost until used), or
 * "not priced" (the estimate does not know it) - never silently zero.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { PriceEntry, RegionPrices } from './prices';
import { CliError } from '../errors';

/** One priced item of one resource. */
export interface FixedLine {
  readonly logicalId: string;
  readonly type: string;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitUsd: number;
  readonly monthlyUsd: number;
  /** The price table key the unit price came from. */
  readonly priceKey: string;
  readonly note?: string;
}

export interface ConstructCost {
  /** The top-level construct of the stack (or the logical id when the assembly has no construct paths). */
  readonly construct: string;
  readonly monthlyUsd: number;
  readonly lines: FixedLine[];
}

export interface StackCost {
  readonly stack: string;
  readonly template: string;
  readonly monthlyUsd: number;
  readonly constructs: ConstructCost[];
  /** Where the construct paths came from. */
  readonly groupedBy: 'metadata' | 'tree.json' | 'logical id';
}

export interface UsageOnlyType {
  readonly type: string;
  readonly count: number;
  readonly reason: string;
}

export interface NotPriced {
  readonly stack: string;
  readonly construct: string;
  readonly logicalId: string;
  readonly type: string;
  readonly reason: string;
}

export interface FixedEstimate {
  readonly monthlyUsd: number;
  readonly stacks: StackCost[];
  readonly usageOnly: UsageOnlyType[];
  readonly notPriced: NotPriced[];
}

/** A stack of the assembly: its name, template file and region (when the app pins one). */
export interface AssemblyStack {
  readonly name: string;
  readonly templateFile: string;
  readonly template: Template;
  readonly region?: string;
  /** The assembly folder holding the template (nested assemblies have their own tree.json). */
  readonly dir: string;
}

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
}

export interface Template {
  readonly Resources?: Record<string, Resource>;
}

const MAX_DEPTH = 4;

/**
 * The stacks of the cloud assembly at `dir` (manifest.json, nested assemblies included). A
 * `CliError` names the problem and the fix when `dir` is not a cloud assembly.
 */
export function readAssemblyStacks(dir: string): AssemblyStack[] {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new CliError(`--app ${dir}: no such folder; give the cloud assembly folder of a synthesized CDK app (run \`npx cdk synth\`; it writes cdk.out)`);
  }
  const stacks = readManifest(root, dir, 0);
  if (stacks.length === 0) {
    throw new CliError(`--app ${dir}: the cloud assembly has no CloudFormation stack; synthesize an app that defines at least one stack`);
  }
  return stacks;
}

function readManifest(folder: string, given: string, depth: number): AssemblyStack[] {
  const file = path.join(folder, 'manifest.json');
  if (!fs.existsSync(file)) {
    throw new CliError(`--app ${given}: ${folder} has no manifest.json, so it is not a cloud assembly; `
      + 'run `npx cdk synth` and give its output folder (cdk.out), or an integ snapshot folder (*.snapshot)');
  }
  let manifest: { artifacts?: Record<string, { type?: string; displayName?: string; environment?: string; properties?: Record<string, unknown> }> };
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`--app ${given}: ${file} is not valid JSON (${(e as Error).message}); synthesize the app again`);
  }
  const out: AssemblyStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack') {
      const templateFile = String(artifact.properties?.templateFile ?? `${id}.template.json`);
      const templatePath = path.join(folder, templateFile);
      let template: Template;
      try {
        template = JSON.parse(fs.readFileSync(templatePath, 'utf8'));
      } catch (e) {
        throw new CliError(`--app ${given}: cannot read the template of stack ${id} (${templatePath}: ${(e as Error).message}); synthesize the app again`);
      }
      const region = /^aws:\/\/[^/]+\/(.+)$/.exec(artifact.environment ?? '')?.[1];
      out.push({
        name: artifact.displayName ?? id,
        templateFile: path.relative(path.resolve(given), templatePath) || templateFile,
        template,
        dir: folder,
        ...(region && !region.startsWith('unknown-') ? { region } : {}),
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && depth < MAX_DEPTH) {
      const nested = String(artifact.properties?.directoryName ?? '');
      if (nested) out.push(...readManifest(path.join(folder, nested), given, depth + 1));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What each resource type costs
// ---------------------------------------------------------------------------------------------

/** Types with no cost of their own until used (or none at all), and why. */
const USAGE_ONLY: ReadonlyArray<[RegExp, string]> = [
  [/^AWS::IAM::/, 'IAM has no charge'],
  [/^AWS::EC2::(SecurityGroup|SecurityGroupIngress|SecurityGroupEgress|Subnet|RouteTable|Route|SubnetRouteTableAssociation|VPC|InternetGateway|VPCGatewayAttachment|EgressOnlyInternetGateway|NetworkAcl|NetworkAclEntry|SubnetNetworkAclAssociation|VPCCidrBlock|LaunchTemplate|KeyPair|PrefixList)$/, 'no charge of its own (traffic is usage)'],
  [/^AWS::EC2::FlowLog$/, 'usage: the logs it writes are ingested and stored per GB'],
  [/^AWS::Logs::/, 'usage: ingestion and storage per GB'],
  [/^AWS::Lambda::(Function|Permission|LayerVersion|LayerVersionPermission|EventInvokeConfig|EventSourceMapping|Url)$/, 'usage: requests and duration (provisioned concurrency is priced where set)'],
  [/^AWS::S3::/, 'usage: storage per GB and requests'],
  [/^AWS::ApiGatewayV2::VpcLink$/, 'no charge of its own (an HTTP API\'s VPC link has no hourly charge)'],
  [/^AWS::ApiGatewayV2::/, 'usage: requests'],
  [/^AWS::ApiGateway::/, 'usage: requests (a cache cluster, if any, is not priced here)'],
  [/^AWS::ApplicationAutoScaling::/, 'no charge of its own'],
  [/^AWS::AutoScaling::(ScalingPolicy|LifecycleHook|ScheduledAction|WarmPool)$/, 'no charge of its own'],
  [/^AWS::CodeBuild::Project$/, 'usage: build minutes'],
  [/^AWS::ECR::/, 'usage: image storage per GB and transfer'],
  [/^AWS::ECS::(Cluster|TaskDefinition|ClusterCapacityProviderAssociations|CapacityProvider|TaskSet|PrimaryTaskSet)$/, 'no charge of its own (tasks are priced at their service)'],
  [/^AWS::ElastiCache::(SubnetGroup|ParameterGroup|SecurityGroup|SecurityGroupIngress|User|UserGroup)$/, 'no charge of its own'],
  [/^AWS::RDS::(DBSubnetGroup|DBParameterGroup|DBClusterParameterGroup|OptionGroup|DBSecurityGroup|EventSubscription)$/, 'no charge of its own'],
  [/^AWS::ElasticLoadBalancingV2::(Listener|ListenerRule|TargetGroup|ListenerCertificate)$/, 'no charge of its own (LCUs are usage, priced neither here nor at the load balancer)'],
  [/^AWS::SNS::/, 'usage: requests and deliveries'],
  [/^AWS::SQS::/, 'usage: requests'],
  [/^AWS::StepFunctions::(StateMachine|StateMachineAlias|StateMachineVersion)$/, 'usage: state transitions (Standard) or requests and duration (Express)'],
  [/^AWS::Events::(EventBus|Rule|EventBusPolicy|Connection|ApiDestination)$/, 'usage: events published (AWS service events to the default bus are free)'],
  [/^AWS::Events::Archive$/, 'usage: events archived and stored per GB'],
  [/^AWS::Scheduler::/, 'usage: invocations'],
  [/^AWS::Cognito::/, 'usage: monthly active users'],
  [/^AWS::SecretsManager::(SecretTargetAttachment|RotationSchedule|ResourcePolicy)$/, 'no charge of its own (the secret is priced)'],
  [/^AWS::WAFv2::(WebACLAssociation|LoggingConfiguration)$/, 'no charge of its own (the web ACL is priced)'],
  [/^AWS::KMS::Alias$/, 'no charge of its own (the key is priced)'],
  [/^AWS::ServiceDiscovery::(Service|Instance)$/, 'usage: DNS queries and API calls (the namespace is priced)'],
  [/^AWS::Route53::(RecordSet|RecordSetGroup)$/, 'usage: DNS queries (the hosted zone is priced)'],
  [/^AWS::CertificateManager::Certificate$/, 'public certificates have no charge'],
  [/^AWS::CloudFormation::(WaitCondition|WaitConditionHandle|Stack)$/, 'no charge of its own'],
  [/^AWS::CDK::Metadata$/, 'no charge'],
  [/^AWS::SSM::(Document|Association)$/, 'no charge of its own'],
  [/^AWS::Synthetics::Group$/, 'no charge of its own'],
  [/^AWS::DynamoDB::GlobalTable$/, 'usage (on-demand) - provisioned capacity is not priced here'],
  [/^(Custom::|AWS::CloudFormation::CustomResource$)/, 'custom resource: its provider runs only while deploying (Lambda or CodeBuild usage)'],
];

interface Context {
  readonly stack: AssemblyStack;
  readonly prices: RegionPrices;
  readonly hours: number;
  readonly resources: Record<string, Resource>;
}

type Pricing =
  | { kind: 'lines'; lines: FixedLine[] }
  | { kind: 'usage'; reason: string }
  | { kind: 'notPriced'; reason: string };

type Pricer = (id: string, r: Resource, ctx: Context) => Pricing;

/** Prices every resource of every stack with the given region's prices. */
export function estimateFixedCost(stacks: readonly AssemblyStack[], prices: RegionPrices, hoursPerMonth: number): FixedEstimate {
  const usage = new Map<string, { count: number; reason: string }>();
  const notPriced: NotPriced[] = [];
  const out: StackCost[] = [];
  const trees = new Map<string, Map<string, string>>();
  for (const stack of stacks) {
    const resources = stack.template.Resources ?? {};
    const ctx: Context = { stack, prices, hours: hoursPerMonth, resources };
    if (!trees.has(stack.dir)) trees.set(stack.dir, readTree(stack.dir));
    const grouping = groupingOf(stack, trees.get(stack.dir)!);
    const byConstruct = new Map<string, FixedLine[]>();
    for (const [id, resource] of Object.entries(resources)) {
      const construct = grouping.constructOf(id, resource);
      const priced = priceResource(id, resource, ctx);
      if (priced.kind === 'usage') {
        const u = usage.get(resource.Type) ?? { count: 0, reason: priced.reason };
        u.count += 1;
        usage.set(resource.Type, u);
      } else if (priced.kind === 'notPriced') {
        notPriced.push({ stack: stack.name, construct, logicalId: id, type: resource.Type, reason: priced.reason });
      } else {
        const list = byConstruct.get(construct) ?? [];
        list.push(...priced.lines);
        byConstruct.set(construct, list);
      }
    }
    const constructs = [...byConstruct.entries()]
      .map(([construct, list]) => ({ construct, lines: list, monthlyUsd: sum(list.map((l) => l.monthlyUsd)) }));
    out.push({
      stack: stack.name, template: stack.templateFile, constructs, monthlyUsd: sum(constructs.map((c) => c.monthlyUsd)), groupedBy: grouping.by,
    });
  }
  return {
    monthlyUsd: sum(out.map((s) => s.monthlyUsd)),
    stacks: out,
    usageOnly: [...usage.entries()].map(([type, u]) => ({ type, count: u.count, reason: u.reason })).sort((a, b) => a.type.localeCompare(b.type)),
    notPriced,
  };
}

function priceResource(id: string, r: Resource, ctx: Context): Pricing {
  const pricer = PRICERS[r.Type];
  if (pricer) return pricer(id, r, ctx);
  for (const [pattern, reason] of USAGE_ONLY) if (pattern.test(r.Type)) return { kind: 'usage', reason };
  return { kind: 'notPriced', reason: `the estimate does not know ${r.Type}; check its pricing page` };
}

const PRICERS: Record<string, Pricer> = {
  'AWS::EC2::NatGateway': (id, r, ctx) => {
    const note = r.Properties?.ConnectivityType === 'private' ? 'private NAT gateway (no public IPv4)' : 'its public IPv4 address is priced at its Elastic IP';
    return lines(hourly(ctx, id, r, 'NAT gateway', 1, 'natGatewayHour', note));
  },
  'AWS::EC2::EIP': (id, r, ctx) => lines(hourly(ctx, id, r, 'public IPv4 address (Elastic IP)', 1, 'publicIpv4Hour',
    'also charged: internet-facing load balancers (one per AZ, priced there), instances and tasks with a public IP')),
  'AWS::EC2::Instance': (id, r, ctx) => {
    const type = str(r.Properties?.InstanceType) ?? 'm1.small';
    const key = `ec2InstanceHour/${type}`;
    if (!ctx.prices[key]) return { kind: 'notPriced', reason: `EC2 instance type ${type} is not in the price table (add '${key}')` };
    const out = [hourly(ctx, id, r, `EC2 instance ${type}${isNatInstance(r) ? ' (NAT instance)' : ''}`, 1, key, 'EBS volumes are not included')];
    // A public IPv4 address given at launch (a NAT instance has one): charged by the hour like an Elastic IP.
    const interfaces = Array.isArray(r.Properties?.NetworkInterfaces) ? r.Properties.NetworkInterfaces : [];
    const publicIps = interfaces.filter((n: any) => n?.AssociatePublicIpAddress === true || n?.AssociatePublicIpAddress === 'true').length;
    if (publicIps > 0) out.push(hourly(ctx, id, r, `public IPv4 address of the instance (${publicIps})`, publicIps, 'publicIpv4Hour'));
    return lines(...out);
  },
  'AWS::AutoScaling::AutoScalingGroup': (id, r, ctx) => {
    const p = r.Properties ?? {};
    const count = num(p.DesiredCapacity) ?? num(p.MinSize) ?? 0;
    const type = instanceTypeOfGroup(p, ctx.resources);
    if (!type) return { kind: 'notPriced', reason: 'the instance type of the Auto Scaling group could not be read (mixed instances policy or an imported launch template)' };
    const key = `ec2InstanceHour/${type}`;
    if (!ctx.prices[key]) return { kind: 'notPriced', reason: `EC2 instance type ${type} is not in the price table (add '${key}')` };
    return lines(hourly(ctx, id, r, `EC2 capacity: ${count} x ${type} (desired, else minimum)`, count, key, 'EBS volumes not included'));
  },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': (id, r, ctx) => {
    const p = r.Properties ?? {};
    const type = str(p.Type) ?? 'application';
    if (type === 'gateway') return { kind: 'notPriced', reason: 'Gateway Load Balancers are priced per AZ and GLCU; not in the estimate' };
    const out = [hourly(ctx, id, r, type === 'network' ? 'Network Load Balancer' : 'Application Load Balancer', 1, type === 'network' ? 'nlbHour' : 'albHour',
      'LCUs (traffic) are usage, not included')];
    if ((str(p.Scheme) ?? 'internet-facing') === 'internet-facing') {
      const azs = Array.isArray(p.SubnetMappings) ? p.SubnetMappings.length : Array.isArray(p.Subnets) ? p.Subnets.length : 2;
      out.push(hourly(ctx, id, r, `public IPv4 addresses of an internet-facing load balancer (one per AZ: ${azs})`, azs, 'publicIpv4Hour'));
    }
    return lines(...out);
  },
  'AWS::RDS::DBInstance': (id, r, ctx) => priceDbInstance(id, r, ctx),
  'AWS::RDS::DBCluster': (id, r, ctx) => {
    const p = r.Properties ?? {};
    const engine = str(p.Engine) ?? '';
    if (!engine.startsWith('aurora')) return { kind: 'notPriced', reason: `Multi-AZ DB cluster (${engine}) is not in the estimate` };
    const v2 = p.ServerlessV2ScalingConfiguration as Record<string, unknown> | undefined;
    const out: FixedLine[] = [];
    out.push(line(id, r, 'Aurora storage: per GB used, not fixed', 0, 'GB-month', entry(ctx, 'auroraStorageGbMonth'), 'auroraStorageGbMonth',
      `${fmtUsd(entry(ctx, 'auroraStorageGbMonth').usd)} per GB-month used, plus I/O on Aurora Standard; grows with the data, so it is not in the fixed total`));
    if (v2 && num(v2.MinCapacity) !== undefined) {
      const acu = num(v2.MinCapacity)!;
      out.push(hourly(ctx, id, r, `Aurora Serverless v2 floor (${acu} ACU minimum)`, acu, 'auroraServerlessV2AcuHour', 'each serverless v2 instance of the cluster bills at least this'));
    }
    return lines(...out);
  },
  'AWS::ElastiCache::ReplicationGroup': (id, r, ctx) => {
    const p = r.Properties ?? {};
    const type = str(p.CacheNodeType) ?? '';
    let nodes: number;
    let how: string;
    if (num(p.NumCacheClusters) !== undefined) {
      nodes = num(p.NumCacheClusters)!;
      how = `NumCacheClusters ${nodes}`;
    } else {
      const groups = Array.isArray(p.NodeGroupConfiguration) ? p.NodeGroupConfiguration.length : num(p.NumNodeGroups) ?? 1;
      const replicas = num(p.ReplicasPerNodeGroup) ?? 0;
      nodes = groups * (1 + replicas);
      how = `${groups} node group(s) x (1 + ${replicas} replicas)`;
    }
    return priceCacheNodes(id, r, ctx, type, nodes, how);
  },
  'AWS::ElastiCache::CacheCluster': (id, r, ctx) => {
    const nodes = num(r.Properties?.NumCacheNodes) ?? 1;
    return priceCacheNodes(id, r, ctx, str(r.Properties?.CacheNodeType) ?? '', nodes, `NumCacheNodes ${nodes}`);
  },
  'AWS::ECS::Service': (id, r, ctx) => priceEcsService(id, r, ctx),
  'AWS::WAFv2::WebACL': (id, r, ctx) => {
    const rules = Array.isArray(r.Properties?.Rules) ? r.Properties!.Rules as Array<Record<string, unknown>> : [];
    const managed = rules.filter((x) => isObject(x.Statement) && 'ManagedRuleGroupStatement' in (x.Statement as object)).length;
    const out = [
      monthly(ctx, id, r, 'WAF web ACL', 1, 'wafWebAclMonth', 'requests inspected are usage, not included'),
      monthly(ctx, id, r, `WAF rules: ${rules.length} (${managed} managed rule group${managed === 1 ? '' : 's'}, each one rule)`, rules.length, 'wafRuleMonth'),
    ];
    const paid = rules.map((x) => (x.Statement as Record<string, Record<string, unknown>> | undefined)?.ManagedRuleGroupStatement?.Name)
      .filter((n): n is string => typeof n === 'string' && /BotControl|ATP|ACFP|AntiDDoS/.test(n));
    if (paid.length > 0) {
      out[1] = { ...out[1], note: `${paid.join(', ')}: a paid managed rule group with its own subscription and request fees, not included` };
    }
    return lines(...out);
  },
  'AWS::Synthetics::Canary': (id, r, ctx) => {
    const schedule = r.Properties?.Schedule as Record<string, unknown> | undefined;
    const expression = str(schedule?.Expression) ?? '';
    const runs = canaryRunsPerMonth(expression, ctx.hours);
    if (runs === undefined) return { kind: 'notPriced', reason: `canary schedule '${expression}': runs per month not computed (only rate(...) expressions are)` };
    const duration = num(schedule?.DurationInSeconds) ?? 0;
    return lines(line(id, r, `Synthetics canary runs (${expression})`, runs, 'runs', entry(ctx, 'syntheticsCanaryRun'), 'syntheticsCanaryRun',
      `${duration > 0 ? `runs for ${duration} s after start only; ` : ''}its Lambda, S3 artifacts and logs are usage, not included`));
  },
  'AWS::KMS::Key': (id, r, ctx) => lines(monthly(ctx, id, r, 'KMS customer managed key', 1, 'kmsKeyMonth', 'requests are usage, not included')),
  'AWS::KMS::ReplicaKey': (id, r, ctx) => lines(monthly(ctx, id, r, 'KMS replica key', 1, 'kmsKeyMonth')),
  'AWS::SecretsManager::Secret': (id, r, ctx) => lines(monthly(ctx, id, r, 'Secrets Manager secret', 1, 'secretsManagerSecretMonth', 'API calls are usage, not included')),
  'AWS::EC2::VPCEndpoint': (id, r, ctx) => {
    const p = r.Properties ?? {};
    const type = str(p.VpcEndpointType) ?? 'Gateway';
    if (type === 'Gateway') return { kind: 'usage', reason: 'gateway endpoints (S3, DynamoDB) have no charge' };
    if (type !== 'Interface') return { kind: 'notPriced', reason: `${type} VPC endpoints are not in the estimate` };
    const azs = Array.isArray(p.SubnetIds) ? p.SubnetIds.length : 1;
    return lines(hourly(ctx, id, r, `VPC interface endpoint (${str(p.ServiceName) ?? 'service'}) in ${azs} AZ${azs === 1 ? '' : 's'}`, azs, 'vpcInterfaceEndpointAzHour', 'data processed is usage, not included'));
  },
  'AWS::CloudWatch::Alarm': (id, r, ctx) => {
    const p = r.Properties ?? {};
    const metrics = Array.isArray(p.Metrics) ? (p.Metrics as Array<Record<string, unknown>>) : undefined;
    const count = metrics ? Math.max(1, metrics.filter((m) => m.MetricStat !== undefined).length) : 1;
    const periods = metrics
      ? metrics.map((m) => num((m.MetricStat as Record<string, unknown> | undefined)?.Period) ?? num(m.Period))
        .filter((x): x is number => x !== undefined)
      : [num(p.Period) ?? 60];
    const high = periods.some((x) => x < 60);
    const anomaly = metrics?.some((m) => typeof m.Expression === 'string' && /ANOMALY_DETECTION_BAND/.test(m.Expression as string)) ?? false;
    return lines(monthly(ctx, id, r, `CloudWatch alarm (${high ? 'high' : 'standard'} resolution, ${count} metric${count === 1 ? '' : 's'})`, count,
      high ? 'cloudWatchAlarmHighResMonth' : 'cloudWatchAlarmStandardMonth', anomaly ? 'anomaly detection bills 3 metrics per band; not included' : undefined));
  },
  'AWS::CloudWatch::CompositeAlarm': (id, r, ctx) => lines(monthly(ctx, id, r, 'CloudWatch composite alarm', 1, 'cloudWatchCompositeAlarmMonth')),
  'AWS::CloudWatch::Dashboard': (id, r, ctx) => lines(monthly(ctx, id, r, 'CloudWatch dashboard', 1, 'cloudWatchDashboardMonth', 'the free tier (3 dashboards) is not counted')),
  'AWS::Route53::HostedZone': (id, r, ctx) => lines(monthly(ctx, id, r, 'Route 53 hosted zone', 1, 'route53HostedZoneMonth', 'queries are usage, not included')),
  'AWS::ServiceDiscovery::PrivateDnsNamespace': (id, r, ctx) => lines(monthly(ctx, id, r, 'Route 53 private hosted zone of a Cloud Map namespace', 1, 'route53HostedZoneMonth')),
  'AWS::ServiceDiscovery::PublicDnsNamespace': (id, r, ctx) => lines(monthly(ctx, id, r, 'Route 53 public hosted zone of a Cloud Map namespace', 1, 'route53HostedZoneMonth')),
  'AWS::ServiceDiscovery::HttpNamespace': () => ({ kind: 'usage', reason: 'usage: API calls (no hosted zone)' }),
  'AWS::Lambda::Alias': (id, r, ctx) => priceProvisioned(id, r, ctx),
  'AWS::Lambda::Version': (id, r, ctx) => priceProvisioned(id, r, ctx),
  'AWS::SSM::Parameter': (id, r, ctx) => (str(r.Properties?.Tier) === 'Advanced'
    ? lines(monthly(ctx, id, r, 'SSM advanced parameter', 1, 'ssmAdvancedParameterMonth'))
    : { kind: 'usage', reason: 'standard parameters have no charge (API calls at higher throughput are usage)' }),
  'AWS::DynamoDB::Table': (_id, r) => (str(r.Properties?.BillingMode) === 'PAY_PER_REQUEST'
    ? { kind: 'usage', reason: 'on-demand: requests and storage per GB' }
    : { kind: 'notPriced', reason: 'provisioned capacity (BillingMode PROVISIONED, the default) is billed per capacity unit-hour; not in the estimate' }),
  'AWS::DynamoDB::GlobalTable': (_id, r) => (str(r.Properties?.BillingMode) === 'PAY_PER_REQUEST'
    ? { kind: 'usage', reason: 'on-demand: requests and storage per GB' }
    : { kind: 'notPriced', reason: 'provisioned capacity is billed per capacity unit-hour; not in the estimate' }),
};

function priceDbInstance(id: string, r: Resource, ctx: Context): Pricing {
  const p = r.Properties ?? {};
  const cls = str(p.DBInstanceClass) ?? '';
  const engine = (str(p.Engine) ?? '').toLowerCase();
  if (p.DBClusterIdentifier !== undefined || engine.startsWith('aurora')) {
    if (cls === 'db.serverless') return lines(line(id, r, 'Aurora Serverless v2 instance: priced at the cluster floor', 0, 'instance', entry(ctx, 'auroraServerlessV2AcuHour'), 'auroraServerlessV2AcuHour', 'the minimum ACU is priced at the cluster'));
    const clusterEngine = engine || auroraEngineOfCluster(p.DBClusterIdentifier, ctx.resources) || 'aurora-postgresql';
    const key = `auroraInstanceHour/${clusterEngine}/${cls}`;
    if (!ctx.prices[key]) return { kind: 'notPriced', reason: `Aurora instance class ${cls} (${clusterEngine}) is not in the price table (add '${key}')` };
    return lines(hourly(ctx, id, r, `Aurora instance ${cls} (${clusterEngine})`, 1, key, 'storage and I/O are priced at the cluster as per GB used'));
  }
  const family = engine.startsWith('postgres') ? 'postgres' : engine.startsWith('mysql') ? 'mysql' : engine.startsWith('mariadb') ? 'mariadb' : engine;
  const multiAz = p.MultiAZ === true || p.MultiAZ === 'true';
  const copies = multiAz ? 2 : 1;
  const key = `rdsInstanceHour/${family}/${cls}`;
  const out: FixedLine[] = [];
  const missing: string[] = [];
  if (ctx.prices[key]) out.push(hourly(ctx, id, r, `RDS ${family} ${cls}${multiAz ? ' Multi-AZ (two instances)' : ' Single-AZ'}`, copies, key));
  else missing.push(`instance class ${cls} (${family}) is not in the price table (add '${key}')`);
  const storageType = str(p.StorageType) ?? (p.Iops !== undefined ? 'io1' : 'gp2');
  const gb = num(p.AllocatedStorage);
  const storageKey = `rdsStorageGbMonth/${storageType}`;
  if (gb === undefined) {missing.push('AllocatedStorage is not set or not a number');} else if (!ctx.prices[storageKey]) {missing.push(`storage type ${storageType} is not in the price table (add '${storageKey}')`);} else {
    const extra = [p.Iops !== undefined && storageType !== 'gp3' ? 'provisioned IOPS not included' : '', num(p.MaxAllocatedStorage) ? `autoscaling up to ${num(p.MaxAllocatedStorage)} GB` : '', multiAz ? 'Multi-AZ stores two copies' : ''].filter(Boolean).join('; ');
    out.push(monthly(ctx, id, r, `RDS storage ${storageType} ${gb} GB${multiAz ? ' x 2 (Multi-AZ)' : ''}`, gb * copies, storageKey, extra || undefined, 'GB-months'));
  }
  if (out.length === 0) return { kind: 'notPriced', reason: missing.join('; ') };
  if (missing.length > 0) out[out.length - 1] = { ...out[out.length - 1], note: `NOT PRICED: ${missing.join('; ')}` };
  return lines(...out);
}

function priceCacheNodes(id: string, r: Resource, ctx: Context, type: string, nodes: number, how: string): Pricing {
  const key = `elastiCacheNodeHour/${type}`;
  if (!ctx.prices[key]) return { kind: 'notPriced', reason: `cache node type ${type || '(none)'} is not in the price table (add '${key}')` };
  return lines(hourly(ctx, id, r, `ElastiCache ${nodes} x ${type} (${how})`, nodes, key, 'backup storage beyond the free allowance not included'));
}

function priceEcsService(id: string, r: Resource, ctx: Context): Pricing {
  const p = r.Properties ?? {};
  const desiredSet = num(p.DesiredCount);
  const desired = desiredSet ?? 1;
  const taskDef = refTarget(p.TaskDefinition, ctx.resources);
  if (!taskDef) return { kind: 'notPriced', reason: 'its task definition is not in this template (imported), so its CPU and memory are unknown' };
  const td = taskDef.Properties ?? {};
  const strategy = capacityStrategy(p, ctx.resources);
  const launchType = str(p.LaunchType);
  const fargate = launchType === 'FARGATE' || (launchType === undefined && strategy.every((s) => s.provider === 'FARGATE' || s.provider === 'FARGATE_SPOT')
    && (strategy.length > 0 || (Array.isArray(td.RequiresCompatibilities) && td.RequiresCompatibilities.includes('FARGATE'))));
  if (!fargate) {
    return { kind: 'usage', reason: 'ECS service on EC2 capacity: its instances are priced at their Auto Scaling group or instances' };
  }
  const cpu = fargateCpu(td.Cpu);
  const memGb = fargateMemoryGb(td.Memory);
  if (cpu === undefined || memGb === undefined) return { kind: 'notPriced', reason: `task definition CPU ${JSON.stringify(td.Cpu)} / memory ${JSON.stringify(td.Memory)} could not be read` };
  const arm = str((td.RuntimePlatform as Record<string, unknown> | undefined)?.CpuArchitecture) === 'ARM64';
  const arch = arm ? 'Arm' : 'x86';
  const cpuKey = arm ? 'fargateArmVcpuHour' : 'fargateX86VcpuHour';
  const memKey = arm ? 'fargateArmGbHour' : 'fargateX86GbHour';
  const split = strategy.length > 0 && launchType === undefined ? splitTasks(desired, strategy) : { onDemand: desired, spot: 0 };
  const countNote = desiredSet === undefined ? 'DesiredCount not set: 1 task assumed' : undefined;
  const out: FixedLine[] = [];
  const add = (tasks: number, spot: boolean) => {
    if (tasks <= 0) return;
    const factor = spot ? 1 - entry(ctx, 'fargateSpotDiscount').usd : 1;
    const what = `${fmtNum(tasks)} task${tasks === 1 ? '' : 's'} x ${cpu} vCPU / ${memGb} GB ${arch}${spot ? ' on FARGATE_SPOT' : ''}`;
    const spotNote = spot ? `Spot priced at a typical ${Math.round(entry(ctx, 'fargateSpotDiscount').usd * 100)}% discount, not a list price` : undefined;
    out.push(line(id, r, `Fargate vCPU: ${what}`, tasks * cpu * ctx.hours, 'vCPU-hours', scaled(entry(ctx, cpuKey), factor), cpuKey, [spotNote, countNote].filter(Boolean).join('; ') || undefined));
    out.push(line(id, r, `Fargate memory: ${what}`, tasks * memGb * ctx.hours, 'GB-hours', scaled(entry(ctx, memKey), factor), memKey));
  };
  add(split.onDemand, false);
  add(split.spot, true);
  return lines(...out);
}

export interface StrategyItem {
  readonly provider: string;
  readonly base: number;
  readonly weight: number;
}

function capacityStrategy(p: Record<string, unknown>, resources: Record<string, Resource>): StrategyItem[] {
  const read = (list: unknown): StrategyItem[] => (Array.isArray(list) ? list : []).filter(isObject).map((s) => ({
    provider: str(s.CapacityProvider) ?? '', base: num(s.Base) ?? 0, weight: num(s.Weight) ?? 0,
  }));
  const own = read(p.CapacityProviderStrategy);
  if (own.length > 0 || p.LaunchType !== undefined) return own;
  // The cluster's default strategy, when the service sets neither a launch type nor a strategy.
  const clusterId = refId(p.Cluster);
  for (const res of Object.values(resources)) {
    if (res.Type === 'AWS::ECS::ClusterCapacityProviderAssociations' && clusterId && refId(res.Properties?.Cluster) === clusterId) {
      return read(res.Properties?.DefaultCapacityProviderStrategy);
    }
  }
  return [];
}

/** How ECS places `desired` tasks on a capacity provider strategy: the base first, the rest by weight. */
export function splitTasks(desired: number, strategy: ReadonlyArray<StrategyItem>): { onDemand: number; spot: number } {
  let onDemand = 0;
  let spot = 0;
  let left = desired;
  for (const s of strategy) {
    const base = Math.min(left, s.base);
    if (s.provider === 'FARGATE_SPOT') spot += base; else onDemand += base;
    left -= base;
  }
  const total = strategy.reduce((a, s) => a + s.weight, 0);
  if (left > 0) {
    if (total === 0) {onDemand += left;} else {
      for (const s of strategy) {
        const share = left * s.weight / total;
        if (s.provider === 'FARGATE_SPOT') spot += share; else onDemand += share;
      }
    }
  }
  return { onDemand, spot };
}

function priceProvisioned(id: string, r: Resource, ctx: Context): Pricing {
  const pc = r.Properties?.ProvisionedConcurrencyConfig as Record<string, unknown> | undefined;
  const n = num(pc?.ProvisionedConcurrentExecutions);
  if (!n) return { kind: 'usage', reason: 'no charge of its own (no provisioned concurrency)' };
  const fn = refTarget(r.Properties?.FunctionName, ctx.resources);
  if (!fn) return { kind: 'notPriced', reason: 'provisioned concurrency on a function outside this template: its memory is unknown' };
  const memGb = (num(fn.Properties?.MemorySize) ?? 128) / 1024;
  const arm = Array.isArray(fn.Properties?.Architectures) && fn.Properties!.Architectures.includes('arm64');
  const key = arm ? 'lambdaProvisionedArmGbSecond' : 'lambdaProvisionedX86GbSecond';
  return lines(line(id, r, `Lambda provisioned concurrency: ${n} x ${fmtNum(memGb)} GB (${arm ? 'Arm' : 'x86'})`, n * memGb * ctx.hours * 3600, 'GB-seconds', entry(ctx, key), key,
    'requests and duration of invocations are usage, not included'));
}

/** Runs a month of a canary's `rate(...)` schedule; undefined for cron schedules. */
export function canaryRunsPerMonth(expression: string, hoursPerMonth: number): number | undefined {
  const m = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours)\s*\)$/.exec(expression.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n === 0) return 1; // rate(0 minute): one run when started
  const minutes = m[2].startsWith('hour') ? n * 60 : n;
  return hoursPerMonth * 60 / minutes;
}

// ---------------------------------------------------------------------------------------------
// Construct paths
// ---------------------------------------------------------------------------------------------

interface Grouping {
  readonly by: StackCost['groupedBy'];
  constructOf(logicalId: string, resource: Resource): string;
}

function groupingOf(stack: AssemblyStack, tree: Map<string, string>): Grouping {
  const resources = Object.entries(stack.template.Resources ?? {});
  const prefix = `${stack.name}/`;
  const top = (p: string): string | undefined => {
    const rest = p.startsWith(`/${prefix}`) ? p.slice(prefix.length + 1) : p.startsWith(prefix) ? p.slice(prefix.length) : undefined;
    return rest?.split('/')[0] || undefined;
  };
  if (resources.some(([, r]) => typeof r.Metadata?.['aws:cdk:path'] === 'string')) {
    return { by: 'metadata', constructOf: (id, r) => (typeof r.Metadata?.['aws:cdk:path'] === 'string' ? top(r.Metadata['aws:cdk:path'] as string) : undefined) ?? id };
  }
  const mapped = new Map<string, string>();
  for (const [key, p] of tree) {
    const [stackName, logicalId] = splitKey(key);
    if (stackName === stack.name) {
      const t = top(p);
      if (t) mapped.set(logicalId, t);
    }
  }
  if (resources.some(([id]) => mapped.has(id))) return { by: 'tree.json', constructOf: (id) => mapped.get(id) ?? id };
  return { by: 'logical id', constructOf: (id) => id };
}

function splitKey(key: string): [string, string] {
  const i = key.lastIndexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** `<stack path>\0<logicalId>` -> construct path, from the tree.json of an assembly folder. */
function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const file = path.join(dir, 'tree.json');
  if (!fs.existsSync(file)) return out;
  let tree: { tree?: TreeNode };
  try {
    tree = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return out; // a broken tree.json only costs the grouping
  }
  const walk = (node: TreeNode, stackPath: string | undefined) => {
    const isStack = node.constructInfo?.fqn === 'aws-cdk-lib.Stack' || node.constructInfo?.fqn === 'aws-cdk-lib.NestedStack';
    const here = isStack ? node.path : stackPath;
    const logicalId = node.attributes?.['aws:cdk:cloudformation:logicalId'];
    if (typeof logicalId === 'string' && here !== undefined) out.set(`${here}\u0000${logicalId}`, node.path ?? '');
    for (const child of Object.values(node.children ?? {})) walk(child, here);
  };
  if (tree.tree) walk(tree.tree, undefined);
  return out;
}

interface TreeNode {
  readonly path?: string;
  readonly constructInfo?: { readonly fqn?: string };
  readonly attributes?: Record<string, unknown>;
  readonly children?: Record<string, TreeNode>;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function lines(...l: FixedLine[]): Pricing {
  return { kind: 'lines', lines: l };
}

function entry(ctx: Context, key: string): PriceEntry {
  const e = ctx.prices[key];
  if (!e) throw new CliError(`the price table has no '${key}' for this region; add it to src/cli/cost/price-table.json (\`npx projen prices:refresh\`)`);
  return e;
}

function scaled(e: PriceEntry, factor: number): PriceEntry {
  return factor === 1 ? e : { ...e, usd: e.usd * factor };
}

function line(id: string, r: Resource, item: string, quantity: number, unit: string, e: PriceEntry, key: string, note?: string): FixedLine {
  return {
    logicalId: id,
    type: r.Type,
    item,
    quantity,
    unit,
    unitUsd: e.usd,
    monthlyUsd: roundUsd(quantity * e.usd),
    priceKey: key,
    ...(note ? { note } : {}),
  };
}

function hourly(ctx: Context, id: string, r: Resource, item: string, count: number, key: string, note?: string): FixedLine {
  return line(id, r, item, count * ctx.hours, 'hours', entry(ctx, key), key, note);
}

function monthly(ctx: Context, id: string, r: Resource, item: string, count: number, key: string, note?: string, unit = 'months'): FixedLine {
  return line(id, r, item, count, unit, entry(ctx, key), key, note);
}

function refId(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  if (typeof v.Ref === 'string') return v.Ref;
  const att = v['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  return undefined;
}

function refTarget(v: unknown, resources: Record<string, Resource>): Resource | undefined {
  const id = refId(v);
  return id ? resources[id] : undefined;
}

function auroraEngineOfCluster(v: unknown, resources: Record<string, Resource>): string | undefined {
  return str(refTarget(v, resources)?.Properties?.Engine);
}

function instanceTypeOfGroup(p: Record<string, unknown>, resources: Record<string, Resource>): string | undefined {
  const lt = p.LaunchTemplate as Record<string, unknown> | undefined;
  const ltRes = refTarget(lt?.LaunchTemplateId, resources) ?? refTarget(lt?.LaunchTemplateName, resources);
  const fromLt = str((ltRes?.Properties?.LaunchTemplateData as Record<string, unknown> | undefined)?.InstanceType);
  if (fromLt) return fromLt;
  const lc = refTarget(p.LaunchConfigurationName, resources);
  return str(lc?.Properties?.InstanceType);
}

function isNatInstance(r: Resource): boolean {
  return r.Properties?.SourceDestCheck === false || r.Properties?.SourceDestCheck === 'false';
}

/** Fargate CPU in vCPU: units ("256") or "0.25 vCPU". */
function fargateCpu(v: unknown): number | undefined {
  return fargateAmount(v, 'vcpu');
}

/** Fargate memory in GB: MiB ("512") or "0.5 GB". */
function fargateMemoryGb(v: unknown): number | undefined {
  return fargateAmount(v, 'gb');
}

/** A task size as ECS takes it: a number of 1/1024ths (CPU units, MiB), or a decimal with its unit. */
function fargateAmount(v: unknown, unit: 'vcpu' | 'gb'): number | undefined {
  const s = str(v) ?? (typeof v === 'number' ? String(v) : undefined);
  if (!s) return undefined;
  const m = new RegExp(`^([\\d.]+)\\s*${unit}$`, 'i').exec(s.trim());
  if (m) return Number(m[1]);
  return /^\d+$/.test(s) ? Number(s) / 1024 : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sum(xs: number[]): number {
  return roundUsd(xs.reduce((a, b) => a + b, 0));
}

/** Dollars without floating-point dust (910.6378750000002 -> 910.637875): nine decimals, far below a cent. */
function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

export function fmtUsd(v: number): string {
  if (v !== 0 && Math.abs(v) < 0.01) return `$${v.toPrecision(2)}`;
  return `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function fmtNum(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3)));
}
