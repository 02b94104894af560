/**
 * The dated price table of `cdk-durable-agents cost` (price-table.json beside this file): list prices
 * per region, each with its unit and where it came from. Refreshed by `npx projen prices:refresh`
 * (projenrc/refresh-prices.ts) where the AWS Price List API can be reached.
 */
import { CliError } from '../errors';

/** One price: USD per `unit`, and where the figure came from and when. */
export interface PriceEntry {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
}

/**
 * The prices of one region. The variable keys are named (src/cli/cost/variable.ts reads them);
 * the fixed keys include per-type keys such as `rdsInstanceHour/postgres/db.t4g.micro`.
 */
export interface RegionPrices {
  readonly [key: string]: PriceEntry;
  readonly lambdaRequestPerMillion: PriceEntry;
  readonly lambdaArmGbSecond: PriceEntry;
  readonly lambdaX86GbSecond: PriceEntry;
  readonly durableOperationPerMillion: PriceEntry;
  readonly durableDataWrittenPerGb: PriceEntry;
  readonly durableDataRetainedPerGbMonth: PriceEntry;
  readonly httpApiRequestPerMillion: PriceEntry;
  readonly dynamoWriteRequestUnitPerMillion: PriceEntry;
  readonly dynamoReadRequestUnitPerMillion: PriceEntry;
  readonly eventBridgeCustomEventPerMillion: PriceEntry;
  readonly s3PutPerThousand: PriceEntry;
  readonly s3GetPerThousand: PriceEntry;
  readonly stepFunctionsStandardTransitionPerThousand: PriceEntry;
  readonly fargateArmVcpuHour: PriceEntry;
  readonly fargateArmGbHour: PriceEntry;
  readonly fargateX86VcpuHour: PriceEntry;
  readonly fargateX86GbHour: PriceEntry;
}

/** The whole table as stored in price-table.json. */
export interface PriceTable {
  readonly date: string;
  readonly currency: string;
  readonly hoursPerMonth: number;
  readonly regions: Readonly<Record<string, Readonly<Record<string, PriceEntry>>>>;
}

/** The keys every region must have (the variable part's contract). */
export const REQUIRED_PRICE_KEYS = [
  'lambdaRequestPerMillion', 'lambdaArmGbSecond', 'lambdaX86GbSecond', 'durableOperationPerMillion',
  'durableDataWrittenPerGb', 'durableDataRetainedPerGbMonth', 'httpApiRequestPerMillion',
  'dynamoWriteRequestUnitPerMillion', 'dynamoReadRequestUnitPerMillion', 'eventBridgeCustomEventPerMillion',
  's3PutPerThousand', 's3GetPerThousand', 'stepFunctionsStandardTransitionPerThousand', 'fargateArmVcpuHour',
  'fargateArmGbHour', 'fargateX86VcpuHour', 'fargateX86GbHour',
] as const;

// A require (not an import) keeps the JSON out of the jsii compilation; esbuild inlines it in the CLI bundle.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const PRICE_TABLE: PriceTable = checkTable(require('./price-table.json'));

/** The day the prices were looked up (YYYY-MM-DD); shown in every estimate. */
export const PRICE_TABLE_DATE: string = PRICE_TABLE.date;

/** Hours in a month, as AWS prices monthly figures (730). */
export const HOURS_PER_MONTH: number = PRICE_TABLE.hoursPerMonth;

/** The regions the table has prices for. */
export function priceRegions(table: PriceTable = PRICE_TABLE): string[] {
  return Object.keys(table.regions);
}

/** The prices of `region`; a `CliError` naming the regions the table has when it has not this one. */
export function loadPrices(region: string, table: PriceTable = PRICE_TABLE): RegionPrices {
  const prices = Object.prototype.hasOwnProperty.call(table.regions, region) ? table.regions[region] : undefined;
  if (!prices) {
    throw new CliError(`--region ${region}: the price table (${table.date}) has no prices for it; it has ${priceRegions(table).join(', ')}. `
      + 'Choose one of them, or add the region to src/cli/cost/price-table.json with `npx projen prices:refresh`');
  }
  return prices as RegionPrices;
}

/**
 * How many of a region's figures are another region's, carried over where the region's own could
 * not be confirmed (their `source` starts with `us-east-1 figure:`).
 */
export function copiedFigures(prices: RegionPrices): number {
  return Object.values(prices).filter((e) => e !== undefined && /^us-east-1 figure:/.test(e.source)).length;
}

/** Checks the shape of a price table (the file is edited by a script and by people). */
export function checkTable(raw: unknown): PriceTable {
  const fail = (what: string): never => {
    throw new CliError(`src/cli/cost/price-table.json: ${what}; regenerate it with \`npx projen prices:refresh\``);
  };
  if (typeof raw !== 'object' || raw === null) return fail('not a JSON object');
  const t = raw as Record<string, unknown>;
  if (typeof t.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(t.date)) fail(`'date' must be YYYY-MM-DD, got ${JSON.stringify(t.date)}`);
  if (t.currency !== 'USD') fail(`'currency' must be USD, got ${JSON.stringify(t.currency)}`);
  if (typeof t.hoursPerMonth !== 'number' || t.hoursPerMonth <= 0) fail(`'hoursPerMonth' must be a positive number, got ${JSON.stringify(t.hoursPerMonth)}`);
  if (typeof t.regions !== 'object' || t.regions === null || Object.keys(t.regions).length === 0) fail("'regions' must map at least one region to its prices");
  for (const [region, prices] of Object.entries(t.regions as Record<string, unknown>)) {
    if (typeof prices !== 'object' || prices === null) fail(`region ${region} is not an object of prices`);
    for (const [key, entry] of Object.entries(prices as Record<string, unknown>)) {
      const e = entry as Partial<PriceEntry> | null;
      if (!e || typeof e.usd !== 'number' || !(e.usd >= 0) || typeof e.unit !== 'string' || typeof e.source !== 'string' || e.source === '') {
        fail(`${region}.${key} must be { usd: number >= 0, unit: string, source: string (where and when) }, got ${JSON.stringify(entry)}`);
      }
    }
    for (const key of REQUIRED_PRICE_KEYS) {
      if (!(key in (prices as object))) fail(`region ${region} has no '${key}'`);
    }
  }
  return raw as PriceTable;
}
