/**
 * The variable cost of a workflow: what one run of its definition does, counted (run.ts), priced
 * per 1,000 workflows, beside the same steps on a Step Functions Standard state machine.
 *
 * What is counted (each run's figures) and what is modelled (the Lambda time of the functions,
 * see `MODEL`) are kept apart: the counts are exact for the runtime in this package; the
 * durations are typical same-region latencies of a warm function, not measurements.
 */
import { countWorkflows, WorkflowFigures } from './run';
import type { WorkflowDefinitionDocument } from '../../contract/definition';

/**
 * The prices this module reads, by the keys of the price table (src/cli/cost/prices.ts, whose
 * `RegionPrices` has every one of them). A key that is missing prices its lines as "not priced".
 */
export type VariablePriceKey =
  | 'lambdaRequestPerMillion'
  | 'lambdaArmGbSecond'
  | 'lambdaX86GbSecond'
  | 'durableOperationPerMillion'
  | 'durableDataWrittenPerGb'
  | 'durableDataRetainedPerGbMonth'
  | 'httpApiRequestPerMillion'
  | 'dynamoWriteRequestUnitPerMillion'
  | 'dynamoReadRequestUnitPerMillion'
  | 'eventBridgeCustomEventPerMillion'
  | 's3PutPerThousand'
  | 's3GetPerThousand'
  | 'stepFunctionsStandardTransitionPerThousand'
  | 'fargateArmVcpuHour'
  | 'fargateArmGbHour'
  | 'fargateX86VcpuHour'
  | 'fargateX86GbHour';

/** One price: USD per `unit`, and where the figure came from. */
export interface PriceEntry {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
}

/** Prices by key; a region's `RegionPrices` of the price table is one. */
export type VariablePrices = Partial<Record<VariablePriceKey, PriceEntry>>;

/** One priced item of 1,000 workflows. */
export interface CostLine {
  /** Stable id of the item (e.g. `durableOperations`, `agent:writer:duration`). */
  readonly key: string;
  /** What is priced, in words; says "not priced" (with the reason) when `usd` is not a price. */
  readonly item: string;
  /** How many `unit`s 1,000 workflows use. */
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
  /** False when no price applies (the line is listed, not silently zero). */
  readonly priced: boolean;
}

export interface VariableEstimate {
  readonly per1000: { readonly total: number; readonly lines: CostLine[] };
  readonly stepFunctionsStandardPer1000: {
    /** The transitions, the same requests of the API, store, events and S3, and the same agents' time. */
    readonly total: number;
    /** State transitions of one workflow (see `stepFunctionsTransitions`). */
    readonly transitions: number;
    /** USD of the transitions alone, per 1,000 workflows (0 when not priced). */
    readonly transitionsUsd: number;
    /** False when the table has no transition price (`stepFunctionsStandardTransitionPerThousand`). */
    readonly priced: boolean;
    /** What each kind of state contributes to `transitions`. */
    readonly explanation: Record<string, number>;
  };
  /** What one workflow did, counted (flat: `durableOperations`, `dynamoWriteRequestUnits`, `dispatches:<agent>`, ...). */
  readonly counted: Record<string, number>;
}

/** The agents of a workflow, by name, with where they run (`lambda`, `ecs`; unknown if absent). */
export type AgentKinds = Record<string, { readonly kind?: string }>;

export interface VariableCostInput {
  readonly definition: WorkflowDefinitionDocument;
  readonly agents: AgentKinds;
  /** How long an agent works on one step, in seconds (its Lambda or Fargate time). */
  readonly stepDurationSeconds: number;
  readonly prices: VariablePrices;
  /**
   * Memory of the controller function (DurableOrchestratorProps.controllerMemoryMiB).
   * @default 1024
   */
  readonly controllerMemoryMiB?: number;
  /**
   * Memory of the API function (DurableOrchestratorProps.apiMemoryMiB).
   * @default 512
   */
  readonly apiMemoryMiB?: number;
  /**
   * Days Lambda keeps a finished execution's history (DurableOrchestratorProps.executionHistoryRetention).
   * @default 14
   */
  readonly executionHistoryRetentionDays?: number;
}

/**
 * The defaults of the constructs: the DurableOrchestrator's functions (Arm, src/private/bundled-function.ts),
 * and a ContainerAgent's compute (Arm by default): AgentCompute.lambdaFunction 2048 MiB,
 * AgentCompute.fargate 1024 CPU units (1 vCPU) and 2048 MiB.
 */
export const DEFAULTS = {
  controllerMemoryMiB: 1024,
  apiMemoryMiB: 512,
  executionHistoryRetentionDays: 14,
  lambdaAgentMemoryMiB: 2048,
  fargateAgentVcpu: 1,
  fargateAgentMemoryMiB: 2048,
  /** Fargate bills Linux tasks per second with a one-minute minimum. */
  fargateMinimumSeconds: 60,
} as const;

/**
 * What cannot be measured here and is assumed instead: typical same-region latencies of a warm
 * function, which make up the billed time of the controller and the API function.
 */
export const MODEL = {
  /** Billed time of an invocation besides its calls: runtime, replay of the checkpoint log. */
  controllerBaseMs: 25,
  apiBaseMs: 10,
  /** Share of invocations that start cold, and the billed init time of those. */
  coldStartShare: 0.1,
  controllerInitMs: 300,
  apiInitMs: 250,
  /** One CheckpointDurableExecution call per billable operation (start and end are batched). */
  checkpointMs: 15,
  dynamoItemMs: 6,
  dynamoTransactionMs: 12,
  eventBridgeMs: 20,
  s3Ms: 20,
  /** SSM GetParameter (cached after the first) and ECS RunTask of a ContainerAgent. */
  dispatchMs: 250,
  /** SendDurableExecutionCallback* and Invoke (start) from the API. */
  durableApiMs: 25,
} as const;

/** What counts as one billable durable operation. */
export const BILLING_RULE = 'One durable operation per operation in the execution\'s history (STEP, WAIT, CALLBACK, CONTEXT, '
  + 'CHAINED_INVOKE: a waitForCallback is a CONTEXT holding a CALLBACK and its submitter STEP, 3 operations; a parallel step '
  + 'is a CONTEXT and one CONTEXT per branch) plus one for starting the execution. Retried attempts of a step are counted '
  + 'apart (retriedStepAttempts) and priced as one operation each (an upper bound). Replays on later invocations re-read '
  + 'checkpoints and create no operation. Data written: the result and error payloads of the operations and the execution\'s '
  + 'input and result; retained: that data for the execution history\'s retention period.';

const GIB = 1024 ** 3;
/** Hours in the month of AWS's GB-month (365 * 24 / 12). */
const HOURS_PER_MONTH = 730;

/**
 * Runs the definition once on the local durable runner (every agent step succeeding, every
 * approval given, choices and parallel steps as the definition says) and prices what it did per
 * 1,000 workflows.
 */
export async function estimateVariableCost(input: VariableCostInput): Promise<VariableEstimate> {
  const [figures] = await countWorkflows({ definition: input.definition, workflows: 1 });
  return priceFigures(figures, input);
}

/** The Lambda time the latency model gives to one actor's calls, in ms. */
function callMs(f: WorkflowFigures, actor: 'controller' | 'api'): number {
  const c = f.calls[actor];
  const n = (prefix: string) => Object.entries(c).filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
  const dynamo = f.dynamo.apiCalls[actor];
  return dynamo.items * MODEL.dynamoItemMs + dynamo.transactions * MODEL.dynamoTransactionMs
    + n('events.') * MODEL.eventBridgeMs + n('artifacts.') * MODEL.s3Ms
    + n('dispatcher.') * MODEL.dispatchMs + n('durable.') * MODEL.durableApiMs;
}

/** Billed Lambda milliseconds of one workflow: the controller's and the API function's (all its invocations). */
export function billedMs(f: WorkflowFigures): { controller: number; api: number; apiInvocations: number } {
  const apiInvocations = Object.values(f.apiRequests).reduce((a, b) => a + b, 0);
  const controller = f.controllerInvocations * (MODEL.controllerBaseMs + MODEL.coldStartShare * MODEL.controllerInitMs)
    + f.durableOperations.billable * MODEL.checkpointMs + callMs(f, 'controller');
  const api = apiInvocations * (MODEL.apiBaseMs + MODEL.coldStartShare * MODEL.apiInitMs) + callMs(f, 'api');
  return { controller, api, apiInvocations };
}

/** The figures of one workflow priced per 1,000 workflows. */
export function priceFigures(f: WorkflowFigures, input: Omit<VariableCostInput, 'definition'>): VariableEstimate {
  if (!Number.isFinite(input.stepDurationSeconds) || input.stepDurationSeconds < 0) {
    throw new Error(`stepDurationSeconds must be a number of seconds, 0 or more, got ${input.stepDurationSeconds}`);
  }
  const prices = input.prices;
  const controllerGb = (input.controllerMemoryMiB ?? DEFAULTS.controllerMemoryMiB) / 1024;
  const apiGb = (input.apiMemoryMiB ?? DEFAULTS.apiMemoryMiB) / 1024;
  const retentionDays = input.executionHistoryRetentionDays ?? DEFAULTS.executionHistoryRetentionDays;
  const ms = billedMs(f);
  const lines: CostLine[] = [];
  /** A line of `quantity` units at `key`'s price, which is per `per` units. */
  const line = (key: string, item: string, quantity: number, unit: string, priceKey: VariablePriceKey, per: number) => {
    const price = prices[priceKey];
    lines.push(price
      ? { key, item, quantity, unit, usd: (quantity / per) * price.usd, priced: true }
      : { key, item: `${item} (not priced: no price '${priceKey}' in the table)`, quantity, unit, usd: 0, priced: false });
  };
  const per1000 = (n: number) => n * 1000;
  const ops = f.durableOperations.billable + f.durableOperations.retriedStepAttempts;
  const writtenGb = per1000(f.durableOperations.payloadBytes) / GIB;

  line('durableOperations', 'Lambda durable operations', per1000(ops), 'operations', 'durableOperationPerMillion', 1e6);
  line('durableDataWritten', 'Lambda durable execution data written', writtenGb, 'GB', 'durableDataWrittenPerGb', 1);
  line('durableDataRetained', `Lambda durable execution data retained (${retentionDays} days)`, writtenGb * (retentionDays * 24) / HOURS_PER_MONTH,
    'GB-months', 'durableDataRetainedPerGbMonth', 1);
  line('controllerRequests', 'controller function requests', per1000(f.controllerInvocations), 'requests', 'lambdaRequestPerMillion', 1e6);
  line('controllerDuration', `controller function duration (Arm, ${controllerGb * 1024} MiB, ${Math.round(ms.controller)} ms per workflow, modelled)`,
    per1000(ms.controller / 1000) * controllerGb, 'GB-seconds', 'lambdaArmGbSecond', 1);
  line('apiGatewayRequests', 'HTTP API requests', per1000(ms.apiInvocations), 'requests', 'httpApiRequestPerMillion', 1e6);
  line('apiRequests', 'API function requests', per1000(ms.apiInvocations), 'requests', 'lambdaRequestPerMillion', 1e6);
  line('apiDuration', `API function duration (Arm, ${apiGb * 1024} MiB, ${Math.round(ms.api)} ms per workflow, modelled)`,
    per1000(ms.api / 1000) * apiGb, 'GB-seconds', 'lambdaArmGbSecond', 1);
  line('dynamoWrites', 'DynamoDB on-demand write request units', per1000(f.dynamo.writeRequestUnits), 'WRU', 'dynamoWriteRequestUnitPerMillion', 1e6);
  line('dynamoReads', 'DynamoDB on-demand read request units', per1000(f.dynamo.readRequestUnits), 'RRU', 'dynamoReadRequestUnitPerMillion', 1e6);
  line('eventBridge', 'EventBridge custom events', per1000(f.events), 'events', 'eventBridgeCustomEventPerMillion', 1e6);
  line('s3Put', 'S3 PUT/COPY requests (controller, API)', per1000(f.s3.putClass), 'requests', 's3PutPerThousand', 1000);
  line('s3Get', 'S3 GET/HEAD requests (controller, API)', per1000(f.s3.getClass), 'requests', 's3GetPerThousand', 1000);
  line('agentS3Put', 'S3 PUT requests (the agents\' artifacts)', per1000(f.s3.agentPutClass), 'requests', 's3PutPerThousand', 1000);
  agentLines(f, input.agents, input.stepDurationSeconds, line, lines);

  const total = lines.reduce((n, l) => n + l.usd, 0);
  const sfn = stepFunctionsTransitions(f);
  const transitionPrice = prices.stepFunctionsStandardTransitionPerThousand;
  // Per 1,000 workflows: `transitions` thousand transitions.
  const transitionsUsd = transitionPrice ? sfn.transitions * transitionPrice.usd : 0;
  // A state machine makes the same API, store, event and S3 requests and runs the same agents; it
  // has no durable operations, execution data or controller function (its transitions instead).
  const notOnStepFunctions = new Set(['durableOperations', 'durableDataWritten', 'durableDataRetained', 'controllerRequests', 'controllerDuration']);
  const shared = lines.filter((l) => !notOnStepFunctions.has(l.key)).reduce((n, l) => n + l.usd, 0);

  const counted: Record<string, number> = {
    durableOperations: f.durableOperations.billable,
    retriedStepAttempts: f.durableOperations.retriedStepAttempts,
    durablePayloadBytes: f.durableOperations.payloadBytes,
    controllerInvocations: f.controllerInvocations,
    controllerBilledMs: Math.round(ms.controller),
    apiRequests: ms.apiInvocations,
    apiBilledMs: Math.round(ms.api),
    dynamoWriteRequestUnits: f.dynamo.writeRequestUnits,
    dynamoReadRequestUnits: f.dynamo.readRequestUnits,
    events: f.events,
    s3Put: f.s3.putClass,
    s3Get: f.s3.getClass,
    agentS3Put: f.s3.agentPutClass,
    stepFunctionsTransitions: sfn.transitions,
  };
  for (const [type, n] of Object.entries(f.durableOperations.byType)) counted[`durableOperations:${type}`] = n;
  for (const [agent, n] of Object.entries(f.dispatches)) counted[`dispatches:${agent}`] = n;
  return {
    per1000: { total, lines },
    stepFunctionsStandardPer1000: {
      total: transitionsUsd + shared,
      transitions: sfn.transitions,
      transitionsUsd,
      priced: transitionPrice !== undefined,
      explanation: sfn.explanation,
    },
    counted,
  };
}

/** Keys of the lines that are the orchestration (not the agents' own work: their time and their artifact writes). */
export function isOrchestrationLine(l: CostLine): boolean {
  return !l.key.startsWith('agent:') && l.key !== 'agentS3Put';
}

type LineFn = (key: string, item: string, quantity: number, unit: string, priceKey: VariablePriceKey, per: number) => void;

/**
 * The agents' time: each task dispatched works `stepDurationSeconds`. A Lambda agent (Arm, the
 * ContainerAgent default of 2048 MiB) pays one request and its GB-seconds per task; a Fargate
 * agent (Arm, 1 vCPU and 2048 MiB) its vCPU-hours and GB-hours, at least one minute a task. An
 * agent of unknown kind is listed as not priced.
 */
function agentLines(f: WorkflowFigures, agents: AgentKinds, seconds: number, line: LineFn, lines: CostLine[]): void {
  for (const [agent, tasks] of Object.entries(f.dispatches)) {
    const kind = agents[agent]?.kind;
    const n = tasks * 1000;
    if (kind === 'lambda') {
      const gb = DEFAULTS.lambdaAgentMemoryMiB / 1024;
      line(`agent:${agent}:requests`, `agent '${agent}' (Lambda) requests`, n, 'requests', 'lambdaRequestPerMillion', 1e6);
      line(`agent:${agent}:duration`, `agent '${agent}' (Lambda, Arm, ${DEFAULTS.lambdaAgentMemoryMiB} MiB) for ${seconds} s a task`,
        n * seconds * gb, 'GB-seconds', 'lambdaArmGbSecond', 1);
    } else if (kind === 'ecs') {
      const hours = (n * Math.max(seconds, DEFAULTS.fargateMinimumSeconds)) / 3600;
      const what = `agent '${agent}' (Fargate, Arm, ${DEFAULTS.fargateAgentVcpu} vCPU, ${DEFAULTS.fargateAgentMemoryMiB} MiB) for ${seconds} s a task`
        + (seconds < DEFAULTS.fargateMinimumSeconds ? ` (billed ${DEFAULTS.fargateMinimumSeconds} s: Fargate's minimum)` : '');
      line(`agent:${agent}:vcpu`, `${what}: vCPU`, hours * DEFAULTS.fargateAgentVcpu, 'vCPU-hours', 'fargateArmVcpuHour', 1);
      line(`agent:${agent}:memory`, `${what}: memory`, hours * (DEFAULTS.fargateAgentMemoryMiB / 1024), 'GB-hours', 'fargateArmGbHour', 1);
    } else {
      lines.push({
        key: `agent:${agent}`,
        item: `agent '${agent}' for ${seconds} s a task (not priced: its kind is ${kind === undefined ? 'unknown' : `'${kind}'`}, not 'lambda' or 'ecs')`,
        quantity: n * seconds,
        unit: 'task-seconds',
        usd: 0,
        priced: false,
      });
    }
  }
}

/**
 * State transitions of a Step Functions Standard state machine doing what the controller did,
 * counted from the controller's calls: its SDK integrations make one API call per Task state, so
 * each call the controller made (store read or write, event, artifact operation, dispatch) is one
 * Task state; each read decides something (cancelled? ended? which callbacks are left?), so it is
 * followed by one Choice state; an approval's outcome is one more Choice; the execution ends in
 * one Succeed state. A wait is no state of its own: the dispatch (ECS RunTask / Lambda Invoke) and
 * the approval-requested event are Task states with `.waitForTaskToken`. Every state entered is
 * one transition. Not counted (in Step Functions' favour): Pass states to shape data, Catch and
 * Retry paths, and the DynamoDB adapter's second request where a port call takes two. The API,
 * its function and the store, event and S3 requests are the same under both engines.
 */
export function stepFunctionsTransitions(f: WorkflowFigures): { transitions: number; explanation: Record<string, number> } {
  const c = f.calls.controller;
  const sum = (prefixes: string[]) => Object.entries(c).filter(([k]) => prefixes.some((p) => k.startsWith(p))).reduce((s, [, v]) => s + v, 0);
  const taskStates = sum(['store.', 'events.', 'artifacts.', 'dispatcher.']);
  const reads = sum(['store.getWorkflow', 'store.pendingCallbacks', 'store.getCallback', 'artifacts.exists', 'artifacts.get']);
  // Approvals the run went through (one in a choice case not taken is not counted).
  const approvals = f.eventTypes.filter((e) => e.startsWith('Workflow Approval Requested')).length;
  const explanation = { taskStates, choiceAfterRead: reads, approvalChoice: approvals, succeed: 1 };
  return { transitions: taskStates + reads + approvals + 1, explanation };
}
