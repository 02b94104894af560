/** Checks and rendering of the budget structs (budget.ts). Not public. */
import type { StepBudget, WorkflowBudget } from './budget';
import { checkDuration, renderNumber, renderSeconds } from './checks';
import { LIMITS } from '../contract/definition';
import type { StepBudgetDocument, WorkflowBudgetDocument } from '../contract/definition';
import { checkRange } from '../private/checks';

function checkSpending(owner: string, prefix: string, budget: StepBudget): void {
  checkRange(owner, `${prefix}.maxTokens`, budget.maxTokens, { min: 1, max: LIMITS.maxBudgetTokens, unit: 'tokens' });
  checkRange(owner, `${prefix}.maxCostUsd`, budget.maxCostUsd, { min: 0, minExclusive: true, max: LIMITS.maxBudgetCostUsd, integer: false, unit: 'US dollars' });
}

/** Throws when a step budget is out of range (tokens are skipped). */
export function checkStepBudget(owner: string, budget: StepBudget | undefined): void {
  if (!budget) return;
  checkSpending(owner, 'budget', budget);
  if (budget.maxTokens === undefined && budget.maxCostUsd === undefined) {
    throw new Error(`${owner}: budget sets no limit: set maxTokens or maxCostUsd, or leave budget out`);
  }
}

/** Throws when a workflow budget is out of range (tokens are skipped). */
export function checkWorkflowBudget(owner: string, budget: WorkflowBudget | undefined): void {
  if (!budget) return;
  checkSpending(owner, 'budget', budget);
  if (budget.maxDuration) {
    checkDuration(owner, 'budget.maxDuration', budget.maxDuration, LIMITS.minBudgetDurationSeconds, LIMITS.maxBudgetDurationSeconds, "a workflow's wall-clock budget");
  }
  checkRange(owner, 'budget.maxAgentAttempts', budget.maxAgentAttempts, { min: 1, max: LIMITS.maxBudgetAgentAttempts, unit: 'attempts' });
  const limits = [budget.maxTokens, budget.maxCostUsd, budget.maxDuration, budget.maxAgentAttempts];
  if (limits.every((l) => l === undefined)) {
    throw new Error(`${owner}: budget sets no limit: set maxDuration, maxAgentAttempts, maxTokens or maxCostUsd, or leave budget out`);
  }
}

/** The step budget as the definition document holds it. */
export function renderStepBudget(owner: string, budget: StepBudget): StepBudgetDocument {
  return {
    ...(budget.maxTokens !== undefined ? { maxTokens: renderNumber(owner, 'budget.maxTokens', budget.maxTokens) } : {}),
    ...(budget.maxCostUsd !== undefined ? { maxCostUsd: renderNumber(owner, 'budget.maxCostUsd', budget.maxCostUsd) } : {}),
  };
}

/** The workflow budget as the definition document holds it. */
export function renderWorkflowBudget(owner: string, budget: WorkflowBudget): WorkflowBudgetDocument {
  return {
    ...renderStepBudget(owner, budget),
    ...(budget.maxDuration !== undefined ? { maxDurationSeconds: renderSeconds(owner, 'budget.maxDuration', budget.maxDuration) } : {}),
    ...(budget.maxAgentAttempts !== undefined ? { maxAgentAttempts: renderNumber(owner, 'budget.maxAgentAttempts', budget.maxAgentAttempts) } : {}),
  };
}
