import { Duration } from 'aws-cdk-lib';

/**
 * What one agent step may spend over all its attempts, as its agent reports it (`usage` in its
 * heartbeats and report). A heartbeat or report that goes over a limit stops the run: it ends
 * FAILED with the error code `BUDGET_EXCEEDED`, and its running agent tasks are cancelled.
 */
export interface StepBudget {
  /**
   * Most model tokens (input plus output) the step's agent may use.
   * @default - no token limit
   */
  readonly maxTokens?: number;
  /**
   * Most estimated cost in US dollars (from the agent's price table) the step's agent may spend.
   * @default - no cost limit
   */
  readonly maxCostUsd?: number;
}

/**
 * What a whole run may spend. A run over any limit ends FAILED with the error code
 * `BUDGET_EXCEEDED` (event `workflow_budget_exceeded` says which limit and the figures), and its
 * running agent tasks are cancelled.
 */
export interface WorkflowBudget extends StepBudget {
  /**
   * Most wall-clock time from the workflow's start (1 second to 365 days). No wait lasts longer
   * than this; the run is stopped at the next step, heartbeat or report after it has passed.
   * @default - no wall-clock limit (each step's own timeouts apply)
   */
  readonly maxDuration?: Duration;
  /**
   * Most agent attempts over all agent steps, retries included (1 to 10,000).
   * @default - no limit beyond each step's retry policy
   */
  readonly maxAgentAttempts?: number;
}
