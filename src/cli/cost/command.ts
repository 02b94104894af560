/**
 * `cdk-durable-agents cost --app <cdk.out>`: the fixed monthly cost of a synthesized app, per
 * stack and per top-level construct, and (where the app has a DurableOrchestrator) the variable
 * cost per 1,000 workflows beside Step Functions Standard. A table for people, `--json` for CI,
 * `--max-fixed <usd>` to fail a pull request (exit code 3) when the fixed total grows past it.
 */
import { parseArgs } from 'util';
import { estimateFixedCost, FixedEstimate, fmtUsd, readAssemblyStacks } from './fixed';
import { copiedFigures, HOURS_PER_MONTH, loadPrices, PRICE_TABLE_DATE, priceRegions, RegionPrices } from './prices';
import { estimateVariableCost } from './variable';
import type { WorkflowDefinitionDocument } from '../../contract/definition';
import { LOCAL_METADATA_KEY } from '../../contract/table';
import { readAssembly } from '../assembly';
import { CliError } from '../errors';

/** The exit code of `--max-fixed` when the fixed total is above it. */
import { COST_USAGE, EXIT_OVER_BUDGET } from './usage';

export { COST_USAGE, EXIT_OVER_BUDGET };

/** The version of the `--json` document (bumped on any incompatible change). */
export const COST_JSON_SCHEMA_VERSION = 1;

/** The default per-step duration of agents when `--step-duration` is not given (seconds). */
export const DEFAULT_STEP_DURATION_SECONDS = 60;

/** What src/cli/cost/variable.ts returns (the contract between the fixed and the variable part). */
export interface VariableEstimate {
  readonly per1000: { readonly total: number; readonly lines: ReadonlyArray<VariableLine> };
  readonly stepFunctionsStandardPer1000: { readonly total: number; readonly transitions: number };
  readonly counted: Readonly<Record<string, number>>;
}

/** One line of the variable estimate. */
export interface VariableLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

/** The variable part: `estimateVariableCost` of src/cli/cost/variable.ts. */
export interface VariableCostModule {
  estimateVariableCost(input: {
    definition: WorkflowDefinitionDocument;
    agents: Record<string, { kind?: string }>;
    stepDurationSeconds: number;
    prices: RegionPrices;
  }): Promise<VariableEstimate>;
}

export interface CostIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}


/**
 * Runs `cost`; resolves with the exit code. `variable` is the variable-cost module (the real
 * src/cli/cost/variable.ts by default; tests pass their own).
 */
export async function runCost(args: readonly string[], io: CostIo,
  variable: VariableCostModule | undefined = { estimateVariableCost }): Promise<number> {
  const opts = parseOptions(args);
  const stacks = readAssemblyStacks(opts.app);
  const pinned = [...new Set(stacks.map((s) => s.region).filter((r): r is string => r !== undefined))];
  // The app's own region when the table has it; a region the app pins that the table lacks is
  // priced at us-east-1 with a note (a region given with --region must be in the table).
  const appRegion = pinned[0];
  const region = opts.region ?? (appRegion !== undefined && priceRegions().includes(appRegion) ? appRegion : 'us-east-1');
  const regionNote = opts.region !== undefined ? undefined
    : pinned.length === 0 ? 'the app pins no region: us-east-1 assumed (choose with --region)'
      : !priceRegions().includes(appRegion!) ? `the app is in ${appRegion}, which the price table (${PRICE_TABLE_DATE}) has no prices for: `
        + `priced at us-east-1's (the table has ${priceRegions().join(', ')})`
        : pinned.length > 1 ? `the stacks are in ${pinned.join(', ')}; all priced in ${region} (choose with --region)` : undefined;
  const prices = loadPrices(region);
  const copied = copiedFigures(prices);
  const copiedNote = copied === 0 ? undefined
    : `${copied} of the ${Object.keys(prices).length} figures for ${region} are us-east-1's, not confirmed for ${region} (each says so in its source; `
      + 'refresh the table with `npx projen prices:refresh` where AWS can be reached): the estimate may be low';
  const fixed = estimateFixedCost(stacks, prices, HOURS_PER_MONTH);

  const hasOrchestrator = stacks.some((s) => Object.values(s.template.Resources ?? {}).some((r) => r.Metadata?.[LOCAL_METADATA_KEY] !== undefined));
  const workflows: WorkflowVariable[] = [];
  let variableNote: string | undefined;
  if (hasOrchestrator) {
    if (!variable) {
      variableNote = 'the variable cost is not available in this build (src/cli/cost/variable.ts is missing)';
    } else {
      let found: ReturnType<typeof readAssembly> = [];
      try {
        found = readAssembly(opts.app);
      } catch (e) {
        // The fixed part stands on its own: an integ snapshot, for one, has no staged assets.
        if (!(e instanceof CliError)) throw e;
        variableNote = `the variable cost is not computed: ${e.message}`;
      }
      for (const wf of found) {
        const estimate = await variable.estimateVariableCost({
          definition: wf.definition, agents: { ...wf.agents }, stepDurationSeconds: opts.stepDuration, prices,
        });
        workflows.push({
          workflow: wf.name,
          construct: wf.constructPath ?? `${wf.template}/${wf.logicalId}`,
          estimate,
          ...(opts.workflowsPerMonth !== undefined ? { monthlyUsd: estimate.per1000.total * opts.workflowsPerMonth / 1000 } : {}),
        });
      }
    }
  }

  const over = opts.maxFixed !== undefined && fixed.monthlyUsd > opts.maxFixed;
  const report: CostReport = {
    schemaVersion: COST_JSON_SCHEMA_VERSION,
    assembly: opts.app,
    region,
    currency: 'USD',
    priceTableDate: PRICE_TABLE_DATE,
    hoursPerMonth: HOURS_PER_MONTH,
    notes: [regionNote, copiedNote, variableNote, 'list prices, on-demand, no free tier, taxes excluded; usage (requests, traffic, storage growth) is in the variable part, not the fixed total'].filter((n): n is string => n !== undefined),
    fixed,
    variable: hasOrchestrator && variable
      ? { stepDurationSeconds: opts.stepDuration, workflowsPerMonth: opts.workflowsPerMonth ?? null, workflows }
      : null,
    maxFixed: opts.maxFixed !== undefined ? { limitUsd: opts.maxFixed, exceeded: over } : null,
  };
  if (opts.json) io.out(JSON.stringify(report, null, 2));
  else for (const l of renderTable(report)) io.out(l);
  if (over) {
    io.err(`error: the fixed monthly cost ${fmtUsd(fixed.monthlyUsd)} is above --max-fixed ${fmtUsd(opts.maxFixed!)} (prices of ${PRICE_TABLE_DATE}, ${region}); `
      + 'see the lines above for what grew, or raise the limit');
    return EXIT_OVER_BUDGET;
  }
  return 0;
}

interface WorkflowVariable {
  readonly workflow: string;
  readonly construct: string;
  readonly estimate: VariableEstimate;
  readonly monthlyUsd?: number;
}

/** The `--json` document (schema version `COST_JSON_SCHEMA_VERSION`; README "What it costs"). */
export interface CostReport {
  readonly schemaVersion: number;
  readonly assembly: string;
  readonly region: string;
  readonly currency: 'USD';
  readonly priceTableDate: string;
  readonly hoursPerMonth: number;
  readonly notes: string[];
  readonly fixed: FixedEstimate;
  readonly variable: {
    readonly stepDurationSeconds: number;
    readonly workflowsPerMonth: number | null;
    readonly workflows: WorkflowVariable[];
  } | null;
  readonly maxFixed: { readonly limitUsd: number; readonly exceeded: boolean } | null;
}

interface Options {
  readonly app: string;
  readonly region?: string;
  readonly workflowsPerMonth?: number;
  readonly stepDuration: number;
  readonly json: boolean;
  readonly maxFixed?: number;
}

function parseOptions(args: readonly string[]): Options {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        'app': { type: 'string' },
        'region': { type: 'string' },
        'workflows-per-month': { type: 'string' },
        'step-duration': { type: 'string' },
        'json': { type: 'boolean' },
        'max-fixed': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new CliError(`cost: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n\nUsage:\n${COST_USAGE}`);
  }
  if (typeof values.app !== 'string') throw new CliError(`cost: --app <dir> is required: the cloud assembly of a synthesized app (cdk.out)\n\nUsage:\n${COST_USAGE}`);
  const number = (name: string, min: number): number | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min) throw new CliError(`--${name} ${String(v)}: expected a number >= ${min}`);
    return n;
  };
  return {
    app: values.app,
    ...(typeof values.region === 'string' ? { region: values.region } : {}),
    ...(values['workflows-per-month'] !== undefined ? { workflowsPerMonth: number('workflows-per-month', 0) } : {}),
    stepDuration: number('step-duration', 0) ?? DEFAULT_STEP_DURATION_SECONDS,
    json: values.json === true,
    ...(values['max-fixed'] !== undefined ? { maxFixed: number('max-fixed', 0) } : {}),
  };
}

/** The table for people. */
export function renderTable(report: CostReport): string[] {
  const out: string[] = [];
  const { fixed } = report;
  out.push(`cdk-durable-agents cost: ${report.assembly}`);
  out.push(`  region ${report.region}; prices of ${report.priceTableDate} (USD, ${report.hoursPerMonth} hours a month)`);
  for (const n of report.notes) out.push(`  note: ${n}`);
  out.push('');
  out.push(`Fixed monthly cost: ${fmtUsd(fixed.monthlyUsd)}`);
  for (const s of fixed.stacks) {
    out.push(`  ${s.stack} (${s.template})${' '.repeat(Math.max(1, 60 - s.stack.length - s.template.length))}${fmtUsd(s.monthlyUsd)}`);
    const constructs = [...s.constructs].sort((a, b) => b.monthlyUsd - a.monthlyUsd);
    for (const c of constructs) {
      out.push(`    ${c.construct}${' '.repeat(Math.max(1, 62 - c.construct.length))}${fmtUsd(c.monthlyUsd)}`);
      for (const l of c.lines) {
        out.push(`      ${l.item}: ${qty(l.quantity)} ${l.quantity === 1 ? l.unit.replace(/s$/, '') : l.unit} x $${Number(l.unitUsd.toPrecision(6))} = ${fmtUsd(l.monthlyUsd)}  [${l.logicalId}]${l.note ? `\n        (${l.note})` : ''}`);
      }
    }
    if (s.constructs.length === 0) out.push('    (nothing with a fixed cost)');
    if (s.groupedBy === 'logical id') out.push('    (no construct paths in this assembly: grouped by logical id)');
  }
  out.push('');
  if (fixed.notPriced.length > 0) {
    out.push(`Not priced (${fixed.notPriced.length}; not in the total - check them yourself):`);
    for (const n of fixed.notPriced) out.push(`  ${n.type} ${n.logicalId} (${n.stack}/${n.construct}): ${n.reason}`);
  } else {
    out.push('Not priced: none');
  }
  out.push('');
  out.push('Usage only (no cost until used):');
  for (const u of fixed.usageOnly) out.push(`  ${u.type} x${u.count}: ${u.reason}`);
  if (report.variable) {
    out.push('');
    out.push(`Variable cost per 1,000 workflows (agents' steps ${report.variable.stepDurationSeconds} s each; --step-duration):`);
    for (const w of report.variable.workflows) {
      const e = w.estimate;
      out.push(`  workflow '${w.workflow}' (${w.construct}): ${fmtUsd(e.per1000.total)} per 1,000`);
      for (const l of e.per1000.lines) out.push(`    ${l.item}: ${qty(l.quantity)} ${l.unit} = ${fmtUsd(l.usd)}`);
      out.push(`    the same workflow on Step Functions Standard: ${qty(e.stepFunctionsStandardPer1000.transitions)} state transitions = ${fmtUsd(e.stepFunctionsStandardPer1000.total)} per 1,000`);
      if (w.monthlyUsd !== undefined) {
        out.push(`    at ${qty(report.variable.workflowsPerMonth!)} workflows a month: ${fmtUsd(w.monthlyUsd)} variable + ${fmtUsd(fixed.monthlyUsd)} fixed = ${fmtUsd(w.monthlyUsd + fixed.monthlyUsd)} a month`);
      }
    }
  }
  if (report.maxFixed) {
    out.push('');
    out.push(`--max-fixed ${fmtUsd(report.maxFixed.limitUsd)}: ${report.maxFixed.exceeded ? 'EXCEEDED' : 'within'} (fixed ${fmtUsd(fixed.monthlyUsd)})`);
  }
  return out;
}

function qty(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

