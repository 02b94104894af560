/**
 * Budgets and usage: what a run and its agent steps may spend, what agents report against them,
 * and the one judgement of whether a run is over budget (the API applies it to every heartbeat and
 * report that carries usage; the controller to its agent attempts and its wall-clock).
 *
 * A run over budget ends FAILED with the error code `BUDGET_EXCEEDED` (not a status of its own:
 * see README "Budgets"), and an event `workflow_budget_exceeded` (status.ts EVENT_TYPES) says which budget and the figures.
 * Imports only the definition's types, so both sides can share it.
 */
import { allSteps, StepBudgetDocument, WorkflowDefinitionDocument } from './definition';

/** The error code of a run stopped by a budget (the workflow's and its step's `error.code`). */
export const BUDGET_EXCEEDED_CODE = 'BUDGET_EXCEEDED';

/**
 * Model usage an agent reports (snake case, as in its heartbeat and report bodies): the totals of
 * one attempt so far. A heartbeat carries the figures so far; the report the final ones.
 */
export interface UsageReport {
  readonly input_tokens: number;
  readonly output_tokens: number;
  /** Estimated from the agent's price table; absent when the agent has no price for its model. */
  readonly estimated_cost_usd?: number;
  /** The model the figures are for (`offline` for the offline provider). */
  readonly model?: string;
}

/** Usage added up: tokens are input plus output. */
export interface UsageTotal {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly total_tokens: number;
  readonly estimated_cost_usd: number;
}

/** Which budget a run went over. */
export type BudgetName = 'maxTokens' | 'maxCostUsd' | 'maxAgentAttempts' | 'maxDuration';

/** A budget a run went over, with the figures. */
export interface BudgetBreach {
  readonly budget: BudgetName;
  /** `workflow`, or the agent step whose budget it is. */
  readonly scope: 'workflow' | 'step';
  readonly step?: string;
  readonly limit: number;
  readonly used: number;
}

/** The key of one attempt's usage in a workflow record: `<step>#<attempt>`. */
export function usageKey(stepName: string, attempt: number): string {
  return `${stepName}#${attempt}`;
}

const ZERO: UsageTotal = { input_tokens: 0, output_tokens: 0, total_tokens: 0, estimated_cost_usd: 0 };

function add(a: UsageTotal, u: UsageReport): UsageTotal {
  return {
    input_tokens: a.input_tokens + u.input_tokens,
    output_tokens: a.output_tokens + u.output_tokens,
    total_tokens: a.total_tokens + u.input_tokens + u.output_tokens,
    // Rounded to a millionth of a dollar, so sums of floats read as written.
    estimated_cost_usd: Math.round((a.estimated_cost_usd + (u.estimated_cost_usd ?? 0)) * 1e6) / 1e6,
  };
}

/** Usage of a workflow (its attempts' usage, by `usageKey`): the total and each step's total. */
export function usageTotals(usage: Readonly<Record<string, UsageReport>> | undefined): { total: UsageTotal; steps: Record<string, UsageTotal> } {
  let total = ZERO;
  const steps: Record<string, UsageTotal> = {};
  for (const [key, u] of Object.entries(usage ?? {})) {
    const step = key.slice(0, key.lastIndexOf('#'));
    steps[step] = add(steps[step] ?? ZERO, u);
    total = add(total, u);
  }
  return { total, steps };
}

/**
 * The first token or cost budget the usage goes over (a step's before the workflow's), or
 * undefined. A limit is reached when usage is above it (spending exactly the budget is allowed).
 */
export function usageBreach(definition: WorkflowDefinitionDocument,
  usage: Readonly<Record<string, UsageReport>> | undefined): BudgetBreach | undefined {
  const { total, steps } = usageTotals(usage);
  for (const step of allSteps(definition.steps)) {
    if (step.type !== 'agent' || !step.budget) continue;
    const breach = overLimits(step.budget, steps[step.name] ?? ZERO);
    if (breach) return { ...breach, scope: 'step', step: step.name };
  }
  const breach = definition.budget ? overLimits(definition.budget, total) : undefined;
  return breach ? { ...breach, scope: 'workflow' } : undefined;
}

function overLimits(budget: StepBudgetDocument, used: UsageTotal): Pick<BudgetBreach, 'budget' | 'limit' | 'used'> | undefined {
  if (budget.maxTokens !== undefined && used.total_tokens > budget.maxTokens) {
    return { budget: 'maxTokens', limit: budget.maxTokens, used: used.total_tokens };
  }
  if (budget.maxCostUsd !== undefined && used.estimated_cost_usd > budget.maxCostUsd) {
    return { budget: 'maxCostUsd', limit: budget.maxCostUsd, used: used.estimated_cost_usd };
  }
  return undefined;
}

/** Whether the workflow's wall-clock budget has run out at `nowMs` (the run began at `createdAt`). */
export function durationBreach(definition: WorkflowDefinitionDocument, createdAt: string, nowMs: number): BudgetBreach | undefined {
  const max = definition.budget?.maxDurationSeconds;
  const began = Date.parse(createdAt);
  if (max === undefined || Number.isNaN(began)) return undefined;
  const used = Math.floor((nowMs - began) / 1000);
  return used >= max ? { budget: 'maxDuration', scope: 'workflow', limit: max, used } : undefined;
}

/** A breach in words, for the workflow's error message. */
export function describeBreach(b: BudgetBreach): string {
  const whose = b.scope === 'step' ? `step '${b.step}'` : 'the workflow';
  const unit = b.budget === 'maxCostUsd' ? ' USD (estimated)' : b.budget === 'maxDuration' ? ' seconds' : b.budget === 'maxAgentAttempts' ? ' agent attempts' : ' tokens';
  return `budget exceeded: ${whose} ${b.budget} is ${b.limit}${unit}, used ${b.used}${unit}; the run was stopped and its running agent tasks cancelled`;
}
