/**
 * What one reference workflow costs to run (not a test):
 *
 *   npx ts-node --project tsconfig.dev.json bench/durable-operations.bench.ts \
 *     [--out bench/results/durable-operations.json] [--workflows 3] [--baseline <git revision>]
 *
 * Runs `ReferenceWorkflows.researchReport` for real, counted and priced by the code of
 * `cdk-durable-agents cost` (src/cli/cost: run.ts runs any definition on the durable-execution
 * testing SDK's LocalDurableTestRunner with the API handler, agents and approvals in process and
 * every port counted; variable.ts prices the figures per 1,000 workflows with its latency MODEL
 * and compares them with a Step Functions Standard state machine, see `stepFunctionsTransitions`).
 *
 * The prices are those of the package's price table ({@link PRICES}, us-east-1). The result is the orchestration
 * cost: the agents' own work (their compute, model calls and artifact writes) is left out, as it
 * is the same under either engine.
 *
 * `--baseline <rev>` also measures the controller of that git revision (its
 * src/runtime/controller.ts, copied next to this file for the run and removed afterwards) with
 * everything else as it is now, so that the JSON holds figures before and after a change.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { loadPrices, PRICE_TABLE_DATE } from '../src/cli/cost/prices';
import { ControllerFactory, countWorkflows, WorkflowFigures } from '../src/cli/cost/run';
import { BILLING_RULE, DEFAULTS, isOrchestrationLine, MODEL, priceFigures, VariableEstimate, VariablePrices } from '../src/cli/cost/variable';
import type { StepDocument, WorkflowDefinitionDocument } from '../src/contract/definition';
import { createController } from '../src/runtime/controller';
import { ReferenceWorkflows, WorkflowAgent } from '../src/workflow';

// ---------------------------------------------------------------------------------------------
// Prices and assumptions
// ---------------------------------------------------------------------------------------------

/**
 * The list prices of the package's dated price table (src/cli/cost/price-table.json, the one
 * `cdk-durable-agents cost` uses), us-east-1, each with its source and whether it was checked.
 */
const PRICES: VariablePrices = loadPrices('us-east-1');

/** A price of the table, which must have it. */
function price(key: keyof VariablePrices): number {
  const entry = PRICES[key];
  if (!entry) throw new Error(`the price table has no ${key} for us-east-1`);
  return entry.usd;
}

// ---------------------------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------------------------

interface Costs {
  /** USD per 1,000 workflows, by item (the agents' own artifact writes apart). */
  readonly per1000: Record<string, number>;
  /** All in for the runtime: every item of `per1000`. */
  readonly totalPer1000: number;
  /**
   * The agents' S3 PUTs of their artifacts: agent-side work, like their compute, and the same
   * under either engine; not in `totalPer1000`.
   */
  readonly agentArtifactWritesPer1000: number;
  readonly totalWithAgentArtifactWritesPer1000: number;
  /** Items counted but without a checked price here (listed, not in the totals). */
  readonly notPriced: Array<{ item: string; quantity: number; unit: string }>;
  readonly lambda: {
    readonly controllerBilledMsPerWorkflow: number;
    readonly apiInvocations: number;
    readonly apiBilledMsPerWorkflow: number;
  };
}

/** The orchestration lines of the estimate, in the bench's result format. */
function costsOf(estimate: VariableEstimate): Costs {
  const orchestration = estimate.per1000.lines.filter((l) => isOrchestrationLine(l) && l.priced);
  const total = orchestration.reduce((n, l) => n + l.usd, 0);
  const agentWrites = estimate.per1000.lines.filter((l) => l.key === 'agentS3Put').reduce((n, l) => n + l.usd, 0);
  return {
    per1000: roundAll(Object.fromEntries(orchestration.map((l) => [l.key, l.usd]))),
    totalPer1000: round(total),
    agentArtifactWritesPer1000: round(agentWrites),
    totalWithAgentArtifactWritesPer1000: round(total + agentWrites),
    notPriced: estimate.per1000.lines.filter((l) => isOrchestrationLine(l) && !l.priced)
      .map((l) => ({ item: l.item, quantity: l.quantity, unit: l.unit })),
    lambda: {
      controllerBilledMsPerWorkflow: estimate.counted.controllerBilledMs,
      apiInvocations: estimate.counted.apiRequests,
      apiBilledMsPerWorkflow: estimate.counted.apiBilledMs,
    },
  };
}

/**
 * A second, leaner count from the definition alone: the least a hand-written state machine needs
 * for the same records and events, with every DynamoDB write of one moment in one
 * TransactWriteItems state, cancellation by StopExecution (no cancel checks) and no retries.
 * Workflow start: UpdateItem, PutEvents (2). Agent step: TransactWriteItems (callback, step,
 * awaiting), PutEvents (started), RunTask `.waitForTaskToken`, TransactWriteItems (step ended,
 * awaiting, callback closed), PutEvents (completed) (5). Approval: the same with PutEvents
 * (approval requested) `.waitForTaskToken` in place of RunTask, one more PutEvents (started),
 * and a Choice on the decision (6). Publish: CopyObject, UpdateItem, 2 PutEvents (4). Choice: a
 * Choice state, UpdateItem, 2 PutEvents (4), plus the case's steps (the longest). Parallel: the
 * Parallel state, UpdateItem twice, 2 PutEvents (5), plus its branches. End: UpdateItem,
 * PutEvents, Succeed (3).
 */
function minimalStateMachineTransitions(definition: WorkflowDefinitionDocument): number {
  const count = (steps: readonly StepDocument[]): number => steps.reduce((n, step) => {
    switch (step.type) {
      case 'agent': return n + 5;
      case 'approval': return n + 6;
      case 'publish': return n + 4;
      case 'choice': return n + 4 + Math.max(count(step.otherwise), ...step.cases.map((c) => count(c.steps)));
      case 'parallel': return n + 5 + step.branches.reduce((b, branch) => b + count(branch.steps), 0);
    }
    return n;
  }, 0);
  return 2 + count(definition.steps) + 3;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function roundAll(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]));
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

interface Variant {
  readonly controller: string;
  readonly figures: WorkflowFigures;
  /** Figures in which the workflows of the run differed (none expected: the counts follow from the definition). */
  readonly differences: string[];
  readonly costs: Costs;
  readonly stepFunctions: {
    /** One Task state per call the controller made (see stepFunctionsTransitions). */
    readonly transitions: number;
    readonly explanation: Record<string, number>;
    readonly transitionsPer1000: number;
    /** What both engines pay: the API and its function, DynamoDB, EventBridge, S3. */
    readonly sharedPer1000: number;
    readonly totalPer1000: number;
    /** The durable runtime's `totalPer1000` over Step Functions' (goal: at most 0.6). */
    readonly durableToStepFunctionsRatio: number;
    /** The leaner count of minimalStateMachineTransitions, and the ratio against it. */
    readonly minimalTransitions: number;
    readonly minimalTotalPer1000: number;
    readonly durableToMinimalStepFunctionsRatio: number;
  };
  /** The orchestration cost of one workflow and the same on Step Functions Standard, USD. */
  readonly perWorkflow: {
    readonly orchestrationUsd: number;
    readonly stepFunctionsStandardUsd: number;
    readonly durableToStepFunctionsRatio: number;
  };
}

async function variant(label: string, definition: WorkflowDefinitionDocument, factory: ControllerFactory, workflows: number): Promise<Variant> {
  // The input the benchmark has always used, so that item sizes stay comparable with earlier results.
  const input = (i: number) => ({ topic: `Quantum computing and cryptography (${i})`, parameters: { depth: 'comprehensive' } });
  const runs = await countWorkflows({ definition, workflows, controller: factory, input });
  const differences = (Object.keys(runs[0]) as (keyof WorkflowFigures)[])
    .filter((k) => runs.some((r) => JSON.stringify(r[k]) !== JSON.stringify(runs[0][k])))
    .map((k) => `${k}: ${runs.map((r) => JSON.stringify(r[k])).join(' | ')}`);
  const figures = runs[0];
  // The orchestration alone: agents' time is not priced here (0 s a step; they are the same under either engine).
  const estimate = priceFigures(figures, { agents: {}, stepDurationSeconds: 0, prices: PRICES });
  const costs = costsOf(estimate);
  const sfn = estimate.stepFunctionsStandardPer1000;
  // What both engines pay: every orchestration line but the durable operations, the execution
  // data and the controller function (a state machine makes the same API, store, event and S3
  // requests; the controller's own ones among them).
  const notOnStepFunctions = ['durableOperations', 'durableDataWritten', 'durableDataRetained', 'controllerRequests', 'controllerDuration'];
  const shared = Object.entries(costs.per1000).filter(([k]) => !notOnStepFunctions.includes(k)).reduce((n, [, v]) => n + v, 0);
  const transitionPerThousand = price('stepFunctionsStandardTransitionPerThousand');
  const transitionsPer1000 = sfn.transitions * transitionPerThousand;
  const sfnTotal = transitionsPer1000 + shared;
  const minimal = minimalStateMachineTransitions(definition);
  const minimalTotal = minimal * transitionPerThousand + shared;
  return {
    controller: label,
    figures,
    differences,
    costs,
    stepFunctions: {
      transitions: sfn.transitions,
      explanation: sfn.explanation,
      transitionsPer1000: round(transitionsPer1000),
      sharedPer1000: round(shared),
      totalPer1000: round(sfnTotal),
      durableToStepFunctionsRatio: Math.round((costs.totalPer1000 / sfnTotal) * 1000) / 1000,
      minimalTransitions: minimal,
      minimalTotalPer1000: round(minimalTotal),
      durableToMinimalStepFunctionsRatio: Math.round((costs.totalPer1000 / minimalTotal) * 1000) / 1000,
    },
    perWorkflow: {
      orchestrationUsd: costs.totalPer1000 / 1000,
      stepFunctionsStandardUsd: sfnTotal / 1000,
      durableToStepFunctionsRatio: Math.round((costs.totalPer1000 / sfnTotal) * 1000) / 1000,
    },
  };
}

/**
 * Copies src/runtime/controller.ts of `rev` next to this file, with its imports pointed at src/;
 * `label` names the commit that last changed that file as of `rev`.
 */
function baselineController(rev: string): { file: string; label: string; dispose: () => void } {
  const root = path.join(__dirname, '..');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf-8' }).trim();
  const text = git('show', `${rev}:src/runtime/controller.ts`);
  const commit = git('log', '-1', '--format=%h %s', rev, '--', 'src/runtime/controller.ts');
  const label = `src/runtime/controller.ts at ${rev} (last changed in ${commit})`;
  const dir = fs.mkdtempSync(path.join(__dirname, '.baseline-'));
  const rewritten = text
    .replace(/from '\.\.\/contract\//g, "from '../../src/contract/")
    .replace(/from '\.\/(?!\.)/g, "from '../../src/runtime/");
  const file = path.join(dir, 'controller.ts');
  fs.writeFileSync(file, `${rewritten}\n`);
  return { file, label, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join('bench', 'results', 'durable-operations.json') },
      workflows: { type: 'string', default: '3' },
      baseline: { type: 'string' },
    },
  });
  const workflows = Number(values.workflows);
  if (!Number.isInteger(workflows) || workflows < 1) throw new Error(`--workflows must be a whole number of 1 or more, got ${values.workflows}`);
  const definition = ReferenceWorkflows.researchReport({
    researcher: WorkflowAgent.named('researcher'), analyst: WorkflowAgent.named('analyst'), writer: WorkflowAgent.named('writer'),
  })._toDocument();

  // countWorkflows sets up (and tears down) the local durable backend for each variant.
  const variants: Variant[] = [];
  if (values.baseline) {
    const base = baselineController(values.baseline);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(base.file) as { createController: ControllerFactory };
      variants.push(await variant(base.label, definition, mod.createController, workflows));
    } finally {
      base.dispose();
    }
  }
  const current = await variant('src/runtime/controller.ts (working tree)', definition, createController, workflows);
  variants.push(current);

  const result = {
    benchmark: 'durable-operations',
    workflow: `${definition.name} (ReferenceWorkflows.researchReport): research -> analysis -> writing -> approval -> publish, agents report in process, approval given`,
    workflowsPerVariant: workflows,
    referenceWorkflow: {
      what: 'The orchestration cost of one reference workflow (durable operations, controller and API functions, HTTP API, DynamoDB, '
        + 'EventBridge, S3; not the agents\' own work) on the working tree\'s controller, and the same steps on Step Functions Standard',
      orchestrationPer1000Usd: current.costs.totalPer1000,
      stepFunctionsStandardPer1000Usd: current.stepFunctions.totalPer1000,
      orchestrationPerWorkflowUsd: current.perWorkflow.orchestrationUsd,
      stepFunctionsStandardPerWorkflowUsd: current.perWorkflow.stepFunctionsStandardUsd,
      durableToStepFunctionsRatio: current.stepFunctions.durableToStepFunctionsRatio,
    },
    billingRule: `${BILLING_RULE} The reference run retries nothing. (No stored copy of the pricing page said which operations count; `
      + 'the rule is the issue\'s, and on the controller before this change it gives the issue\'s 26.)',
    prices: { date: PRICE_TABLE_DATE, region: 'us-east-1', ...PRICES },
    model: { controllerMemoryGb: DEFAULTS.controllerMemoryMiB / 1024, apiMemoryGb: DEFAULTS.apiMemoryMiB / 1024, ...MODEL },
    notes: [
      'Costs are USD per 1,000 workflows. Not included (agent-side, or the same under both engines): agent compute and model calls, the agents\' '
        + 'own artifact writes (shown apart as agentArtifactWritesPer1000), SSM reads, status polling by clients. Durable execution data written '
        + 'and retained (figures.durableOperations.payloadBytes) is priced at the price table\'s figures, whose sources say whether they were checked '
        + '(prices.durableDataWrittenPerGb, prices.durableDataRetainedPerGbMonth).',
      'Counted and priced by src/cli/cost (run.ts, metering.ts, variable.ts), the code of `cdk-durable-agents cost`.',
      'Step Functions: the same API, store, event and S3 requests (sharedPer1000) plus one transition per state entered, in place of the durable '
        + 'operations and the controller function; `transitions` maps each call the controller made to a state, `minimalTransitions` is the '
        + 'least a hand-written state machine needs (see the functions of the same names).',
      'DynamoDB units follow the DynamoDB adapter\'s requests and DynamoDB\'s capacity and item-size rules (see MeteredStore and itemBytes).',
    ],
    variants,
    finishedAt: new Date().toISOString(),
  };
  const out = path.resolve(values.out!);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  for (const v of variants) {
    const f = v.figures;
    const c = v.costs;
    const sfn = v.stepFunctions;
    process.stdout.write([
      `${v.controller}:`,
      `  ${f.durableOperations.billable} billable durable operations (${JSON.stringify(f.durableOperations.byType)} + 1 execution), ${f.controllerInvocations} invocations`,
      `  ${f.dynamo.writeRequestUnits} WRU, ${f.dynamo.readRequestUnits} RRU, ${f.events} events, S3 ${f.s3.putClass} PUT/${f.s3.getClass} GET (+ ${f.s3.agentPutClass} agent PUT)`,
      `  ${f.durableOperations.payloadBytes} bytes of execution data checkpointed ($${((c.per1000.durableDataWritten ?? 0) + (c.per1000.durableDataRetained ?? 0)).toFixed(4)} per 1,000 written and retained)`,
      `  $${c.totalPer1000.toFixed(4)} per 1,000 workflows all in (operations $${c.per1000.durableOperations.toFixed(4)}); `
        + `$${c.totalWithAgentArtifactWritesPer1000.toFixed(4)} with the agents' artifact writes`,
      `  Step Functions: ${sfn.transitions} transitions, $${sfn.totalPer1000.toFixed(4)} per 1,000: ratio ${sfn.durableToStepFunctionsRatio}; `
        + `minimal state machine ${sfn.minimalTransitions} transitions, $${sfn.minimalTotalPer1000.toFixed(4)}: ratio ${sfn.durableToMinimalStepFunctionsRatio}`,
      ...v.differences.map((d) => `  the runs differed in ${d}`),
    ].join('\n') + '\n');
  }
  process.stdout.write(`written to ${path.relative(process.cwd(), out)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
