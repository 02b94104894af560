/**
 * The names of the durable operations the controller runs, derived from the definition: stable
 * across replays and releases of the same definition (a replay matches operations by name). The
 * controller names its operations with these, and the local durable control finds a callback's
 * operation with the same functions; nothing else builds them.
 */
export const OPERATION = {
  /** Step: the workflow record and its first events. */
  workflowStart: 'workflow/start',
  /** Step: the end of the workflow (status, result, the last step's completion). */
  workflowFinish: 'workflow/finish',
  /** Callback: an agent's report on attempt `attempt`. */
  agentReport: (step: string, attempt: number) => `${step}/attempt-${attempt}`,
  /** Step: registers that callback and dispatches the task (on attempt 1 also records the step's start). */
  agentDispatch: (step: string, attempt: number) => `${OPERATION.agentReport(step, attempt)}/dispatch`,
  /** Step: records a failed attempt and registers the backoff timer. */
  attemptFailed: (step: string, attempt: number) => `${OPERATION.agentReport(step, attempt)}/failed`,
  /** Callback: the pause after attempt `attempt` (times out to go on; a cancel request fails it). */
  backoff: (step: string, attempt: number) => `${step}/backoff-${attempt}`,
  /** Callback: a person's decision. */
  decision: (step: string) => `${step}/decision`,
  /** Step: records the approval step's start and asks for the decision. */
  decisionRequest: (step: string) => `${OPERATION.decision(step)}/request`,
  /** Step: a step's start, where nothing else records it (parallel steps). */
  start: (step: string) => `${step}/start`,
  /** Step: a step's end, where the next step does not record it. */
  complete: (step: string) => `${step}/complete`,
  /** Step: a publish step, from start to end. */
  publish: (step: string) => `${step}/publish`,
  /** Step: a choice step, from start to end. */
  choose: (step: string) => `${step}/choose`,
  /** Step: closes the branches a parallel step no longer waits for. */
  abandon: (step: string) => `${step}/abandon`,
  /** Step: whether a failed wait was a cancellation the workflow record confirms. */
  cancelCheck: (operation: string) => `${operation}/cancel-check`,
  /** Step: whether a wait that timed out ran into the workflow's wall-clock budget (only with one). */
  budgetCheck: (operation: string) => `${operation}/budget-check`,
} as const;

/**
 * The callback operations a callback record can belong to: its decision (approvals), or its
 * attempt's report or backoff (`attempt` unknown: every attempt up to `maxAttempts`).
 */
export function callbackOperations(kind: 'agent' | 'approval' | 'timer', step: string, attempt: number | undefined, maxAttempts: number): string[] {
  if (kind === 'approval') return [OPERATION.decision(step)];
  const name = kind === 'timer' ? OPERATION.backoff : OPERATION.agentReport;
  return attempt !== undefined ? [name(step, attempt)] : Array.from({ length: maxAttempts }, (_, i) => name(step, i + 1));
}
