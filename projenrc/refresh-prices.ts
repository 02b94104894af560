/**
 * Maintainer script: rebuilds src/cli/cost/price-table.json from the AWS Price List API bulk offer
 * files (`<base>/offers/v1.0/aws/<service>/current/<region>/index.json`), keeping the file's
 * format and stamping the date. Keys it has no rule for, or finds no price for, keep their
 * figure and source and are listed at the end.
 *
 *   npx projen prices:refresh [-- --base-url https://pricing.us-east-1.amazonaws.com] [--date YYYY-MM-DD]
 *
 * Not run against AWS from the project's machines (no route to the Price List API there); its
 * parsing is tested against hand-written offer files served on loopback (test/projenrc).
 * The EC2 and RDS offer files of a region are hundreds of MB: the script reads each whole once.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';

export const DEFAULT_BASE_URL = 'https://pricing.us-east-1.amazonaws.com';
export const PRICES_FILE = path.join(__dirname, '..', 'src', 'cli', 'cost', 'price-table.json');

interface PriceEntry { usd: number; unit: string; source: string }
export interface PriceTableFile { date: string; currency: string; hoursPerMonth: number; regions: Record<string, Record<string, PriceEntry>> }

/** One on-demand term of a product: its price dimensions (tiers). */
export interface OfferTerm {
  readonly priceDimensions: Record<string, { readonly unit: string; readonly beginRange?: string; readonly pricePerUnit: { readonly USD?: string } }>;
}

/** The part of an offer file the script reads. */
export interface OfferFile {
  readonly products: Record<string, { readonly sku: string; readonly productFamily?: string; readonly attributes: Record<string, string> }>;
  readonly terms: { readonly OnDemand?: Record<string, Record<string, OfferTerm>> };
}

/** How a key of the table is found in an offer file: the service, the product, and a factor to the table's unit. */
interface Rule {
  readonly service: string;
  readonly match: (a: Record<string, string>, family: string) => boolean;
  readonly factor?: number;
}

const usage = (re: RegExp) => (a: Record<string, string>) => re.test(a.usagetype ?? '');
const RDS_ENGINES: Record<string, string> = { 'postgres': 'PostgreSQL', 'mysql': 'MySQL', 'mariadb': 'MariaDB', 'aurora-postgresql': 'Aurora PostgreSQL', 'aurora-mysql': 'Aurora MySQL' };

/** The rule for a key, or undefined when the script does not know where the key's price is. */
export function ruleFor(key: string): Rule | undefined {
  const [base, a1, a2] = key.split('/');
  switch (base) {
    case 'natGatewayHour': return { service: 'AmazonEC2', match: (a, f) => f === 'NAT Gateway' && /NatGateway-Hours$/.test(a.usagetype ?? '') };
    case 'publicIpv4Hour': return { service: 'AmazonVPC', match: usage(/PublicIPv4:InUseAddress$/) };
    case 'albHour': return { service: 'AWSELB', match: (a, f) => f === 'Load Balancer-Application' && /LoadBalancerUsage$/.test(a.usagetype ?? '') };
    case 'nlbHour': return { service: 'AWSELB', match: (a, f) => f === 'Load Balancer-Network' && /LoadBalancerUsage$/.test(a.usagetype ?? '') };
    case 'vpcInterfaceEndpointAzHour': return { service: 'AmazonVPC', match: usage(/VpcEndpoint-Hours$/) };
    case 'ec2InstanceHour': return {
      service: 'AmazonEC2',
      match: (a, f) => f === 'Compute Instance' && a.instanceType === a1 && a.operatingSystem === 'Linux' && a.tenancy === 'Shared'
        && a.preInstalledSw === 'NA' && a.capacitystatus === 'Used',
    };
    case 'rdsInstanceHour':
    case 'auroraInstanceHour': return {
      service: 'AmazonRDS',
      match: (a, f) => f === 'Database Instance' && a.instanceType === a2 && a.databaseEngine === RDS_ENGINES[a1] && a.deploymentOption === 'Single-AZ',
    };
    case 'rdsStorageGbMonth': return {
      service: 'AmazonRDS',
      match: (a, f) => f === 'Database Storage' && a.volumeApiName === a1 && a.deploymentOption === 'Single-AZ' && !/Aurora/.test(a.databaseEngine ?? ''),
    };
    case 'elastiCacheNodeHour': return { service: 'AmazonElastiCache', match: (a, f) => f === 'Cache Instance' && a.instanceType === a1 && /Redis/.test(a.cacheEngine ?? '') };
    case 'fargateX86VcpuHour': return { service: 'AmazonECS', match: usage(/-Fargate-vCPU-Hours:perCPU$/) };
    case 'fargateX86GbHour': return { service: 'AmazonECS', match: usage(/-Fargate-GB-Hours$/) };
    case 'fargateArmVcpuHour': return { service: 'AmazonECS', match: usage(/-Fargate-ARM-vCPU-Hours:perCPU$/) };
    case 'fargateArmGbHour': return { service: 'AmazonECS', match: usage(/-Fargate-ARM-GB-Hours$/) };
    case 'kmsKeyMonth': return { service: 'awskms', match: usage(/KMS-Keys$/) };
    case 'secretsManagerSecretMonth': return { service: 'AWSSecretsManager', match: usage(/AWSSecretsManager-Secrets$/) };
    case 'cloudWatchAlarmStandardMonth': return { service: 'AmazonCloudWatch', match: usage(/(^|-)CW:AlarmMonitorUsage$/) };
    case 'cloudWatchAlarmHighResMonth': return { service: 'AmazonCloudWatch', match: usage(/CW:HighResAlarmMonitorUsage$/) };
    case 'syntheticsCanaryRun': return { service: 'AmazonCloudWatch', match: usage(/CW:Canary-runs$/) };
    case 'lambdaRequestPerMillion': return { service: 'AWSLambda', match: usage(/(^|-)Request$/), factor: 1e6 };
    case 'lambdaArmGbSecond': return { service: 'AWSLambda', match: usage(/Lambda-GB-Second-ARM$/) };
    case 'lambdaX86GbSecond': return { service: 'AWSLambda', match: usage(/(^|-)Lambda-GB-Second$/) };
    case 'lambdaProvisionedArmGbSecond': return { service: 'AWSLambda', match: usage(/Lambda-Provisioned-GB-Second-ARM$/) };
    case 'lambdaProvisionedX86GbSecond': return { service: 'AWSLambda', match: usage(/Lambda-Provisioned-GB-Second$/) };
    case 'dynamoWriteRequestUnitPerMillion': return { service: 'AmazonDynamoDB', match: usage(/(^|-)WriteRequestUnits$/), factor: 1e6 };
    case 'dynamoReadRequestUnitPerMillion': return { service: 'AmazonDynamoDB', match: usage(/(^|-)ReadRequestUnits$/), factor: 1e6 };
    case 'eventBridgeCustomEventPerMillion': return { service: 'AWSEvents', match: usage(/Event-64K-Chunks$/), factor: 1e6 };
    case 's3PutPerThousand': return { service: 'AmazonS3', match: usage(/(^|-)Requests-Tier1$/), factor: 1000 };
    case 's3GetPerThousand': return { service: 'AmazonS3', match: usage(/(^|-)Requests-Tier2$/), factor: 1000 };
    case 'stepFunctionsStandardTransitionPerThousand': return { service: 'AmazonStates', match: usage(/(^|-)StateTransition$/), factor: 1000 };
    case 'httpApiRequestPerMillion': return { service: 'AmazonApiGateway', match: usage(/ApiGatewayHttpRequest$/), factor: 1e6 };
    default: return undefined;
  }
}

/** The on-demand price (first tier) of the first product the rule matches, and its SKU. */
export function findPrice(offer: OfferFile, rule: Rule): { usd: number; sku: string } | undefined {
  for (const product of Object.values(offer.products ?? {})) {
    if (!rule.match(product.attributes ?? {}, product.productFamily ?? '')) continue;
    for (const term of Object.values(offer.terms?.OnDemand?.[product.sku] ?? {})) {
      const dims = Object.values(term.priceDimensions ?? {}).filter((d) => d.pricePerUnit?.USD !== undefined);
      const first = dims.find((d) => (d.beginRange ?? '0') === '0') ?? dims[0];
      if (first) return { usd: Number(first.pricePerUnit.USD) * (rule.factor ?? 1), sku: product.sku };
    }
  }
  return undefined;
}

export interface RefreshResult {
  readonly table: PriceTableFile;
  readonly refreshed: string[];
  readonly kept: string[];
}

/** Rebuilds every region of `current` from the offer files under `baseUrl`. */
export async function refreshPrices(current: PriceTableFile, baseUrl: string, date: string,
  fetchJson: (url: string) => Promise<unknown> = httpJson): Promise<RefreshResult> {
  const refreshed: string[] = [];
  const kept: string[] = [];
  const regions: Record<string, Record<string, PriceEntry>> = {};
  for (const [region, prices] of Object.entries(current.regions)) {
    const offers = new Map<string, OfferFile | Error>();
    const next: Record<string, PriceEntry> = {};
    for (const [key, old] of Object.entries(prices)) {
      const rule = ruleFor(key);
      if (!rule) {
        next[key] = old;
        kept.push(`${region}.${key}: no Price List rule for it`);
        continue;
      }
      const url = `${baseUrl.replace(/\/$/, '')}/offers/v1.0/aws/${rule.service}/current/${region}/index.json`;
      if (!offers.has(url)) offers.set(url, await fetchJson(url).then((j) => j as OfferFile, (e: Error) => e));
      const offer = offers.get(url)!;
      const found = offer instanceof Error ? undefined : findPrice(offer, rule);
      if (!found) {
        next[key] = old;
        kept.push(`${region}.${key}: ${offer instanceof Error ? `${url}: ${offer.message}` : `no matching product in ${url}`}`);
        continue;
      }
      next[key] = { usd: Number(found.usd.toPrecision(10)), unit: old.unit, source: `AWS Price List API, ${url} (SKU ${found.sku}, on-demand, first tier), fetched ${date}` };
      refreshed.push(`${region}.${key}`);
    }
    regions[region] = next;
  }
  return { table: { ...current, date, regions }, refreshed, kept };
}

async function httpJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'base-url': { type: 'string' }, 'date': { type: 'string' }, 'file': { type: 'string' } } });
  const file = values.file ?? PRICES_FILE;
  const date = values.date ?? new Date().toISOString().slice(0, 10);
  const current = JSON.parse(fs.readFileSync(file, 'utf8')) as PriceTableFile;
  const { table, refreshed, kept } = await refreshPrices(current, values['base-url'] ?? DEFAULT_BASE_URL, date);
  fs.writeFileSync(file, `${JSON.stringify(table, null, 2)}\n`);
  process.stdout.write(`${file}: dated ${date}; ${refreshed.length} prices refreshed, ${kept.length} kept as they were:\n${kept.map((k) => `  ${k}`).join('\n')}\n`);
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`prices:refresh: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
