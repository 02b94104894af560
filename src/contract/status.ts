/**
 * Statuses, events and envelopes shared by the runtime, the constructs and agents.
 */

/** A workflow's status. The last five are terminal. */
export type WorkflowStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'CANCELLED';

export const TERMINAL_STATUSES: readonly WorkflowStatus[] = ['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELLED'];
export const ALL_STATUSES: readonly WorkflowStatus[] = ['PENDING', 'RUNNING', ...TERMINAL_STATUSES];

export function isTerminal(status: WorkflowStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** A step's status in the status projection. */
export type StepStatus = 'RUNNING' | 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'REJECTED' | 'SKIPPED' | 'CANCELLED';

/** The kind of step a running workflow waits on (`wait_kind` in the API). */
export type WaitKind = 'agent' | 'approval';

/**
 * What a running workflow waits for (`awaiting` in the API and in the status record), in seed
 * 000's words: `<step>_completion` while agent step `<step>` waits for its agent's report (the
 * reference workflow's first step: `research_completion`), `approval` while an approval step
 * waits for a person, `null` otherwise. (Records written by earlier versions hold `agent` for
 * any agent step; the API shows those as `<step>_completion` too.)
 */
export type Awaiting = `${string}_completion` | 'approval' | null;

/** What a workflow waiting on step `stepName` of kind `kind` awaits. */
export function awaitingOf(kind: WaitKind, stepName: string): Exclude<Awaiting, null> {
  return kind === 'agent' ? `${stepName}_completion` : 'approval';
}

/** The kind of wait an `awaiting` value names. */
export function waitKindOf(awaiting: Awaiting): WaitKind | null {
  if (awaiting === null) return null;
  return awaiting === 'approval' ? 'approval' : 'agent';
}

/** An `awaiting` value in words: `research completion` (`_` and `-` read as spaces), `approval`. */
export function awaitingWords(awaiting: Exclude<Awaiting, null>): string {
  return awaiting.replace(/[_-]/g, ' ');
}

/**
 * What a workflow is suspended on, in seed 000's words: `Workflow suspended awaiting research
 * completion`, `Workflow suspended awaiting approval`.
 */
export function suspendedMessage(awaiting: Exclude<Awaiting, null>): string {
  return `Workflow suspended awaiting ${awaitingWords(awaiting)}`;
}

/** Event `detail-type`s the runtime emits (source: `EVENT_SOURCE`). */
export const EVENT_TYPES = {
  workflowStarted: 'Workflow Started',
  stepStarted: 'Workflow Step Started',
  stepCompleted: 'Workflow Step Completed',
  approvalRequested: 'Workflow Approval Requested',
  workflowCompleted: 'Workflow Completed',
  workflowFailed: 'Workflow Failed',
  workflowCancelled: 'Workflow Cancelled',
  /** A budget stopped the run (which budget, its limit and the use: contract/budget.ts); `Workflow Failed` follows. */
  workflowBudgetExceeded: 'Workflow Budget Exceeded',
} as const;
export type EventType = typeof EVENT_TYPES[keyof typeof EVENT_TYPES];

/**
 * The `event_type` of each event, by its `detail-type`: snake case, as seed 000's Logs Insights
 * queries match it (`filter event_type = "step_completed"`). The runtime's log lines carry it, and
 * so does every event's `detail`, so an EventBridge rule can match either.
 */
export const LOG_EVENT_TYPES = {
  [EVENT_TYPES.workflowStarted]: 'workflow_started',
  [EVENT_TYPES.stepStarted]: 'step_started',
  [EVENT_TYPES.stepCompleted]: 'step_completed',
  [EVENT_TYPES.approvalRequested]: 'approval_requested',
  [EVENT_TYPES.workflowCompleted]: 'workflow_completed',
  [EVENT_TYPES.workflowFailed]: 'workflow_failed',
  [EVENT_TYPES.workflowCancelled]: 'workflow_cancelled',
  [EVENT_TYPES.workflowBudgetExceeded]: 'workflow_budget_exceeded',
} as const satisfies Record<EventType, string>;
export type LogEventType = typeof LOG_EVENT_TYPES[EventType];

/** EventBridge `source` of every runtime event. */
export const EVENT_SOURCE = 'cdk-durable-agents';

/** The metric namespace of the runtime (Powertools metrics). */
export const METRIC_NAMESPACE = 'CdkDurableAgents';

/** The handlers' service names: Powertools' `service` in their logs and the `service` dimension of their metrics. */
export const SERVICE_NAMES = {
  controller: 'durable-controller',
  api: 'durable-api',
} as const;
/**
 * The runtime's metrics (namespace `METRIC_NAMESPACE`, dimensions `service` and `workflow`),
 * all written by the controller from inside its durable steps.
 */
export const METRICS = {
  /** Count: a workflow began running. */
  workflowsStarted: 'WorkflowsStarted',
  /** Count: a workflow ended SUCCEEDED. */
  workflowsSucceeded: 'WorkflowsSucceeded',
  /** Count: a workflow ended FAILED or TIMED_OUT. */
  workflowsFailed: 'WorkflowsFailed',
  /** Milliseconds: a step, from its start to its end. */
  stepDuration: 'StepDuration',
  /** Count: an approval step began waiting for a person's decision. */
  approvalsRequested: 'ApprovalsRequested',
  /** Count: an attempt of an agent step failed (the agent reported failure, or the task could not be dispatched) or timed out. */
  agentTasksFailed: 'AgentTasksFailed',
  /** Milliseconds: an attempt of an agent step, from its dispatch to the agent's report (success or failure); timed-out attempts are not measured. */
  agentTaskDuration: 'AgentTaskDuration',
} as const;

/**
 * The task envelope an agent receives (as the `TASK_ENVELOPE` environment variable of its
 * container or process, or as the event of a Lambda agent). snake_case, language-neutral.
 */
export interface TaskEnvelope {
  readonly envelope_version: 1;
  readonly workflow_id: string;
  readonly step_name: string;
  /** Attempt number, starting at 1. */
  readonly attempt: number;
  /** The agent's name. */
  readonly agent: string;
  /** The resolved input of the step (small values and artifact keys). */
  readonly input: Record<string, unknown>;
  /** Where to write artifacts: `bucket` (absent locally), `prefix`, and for local runs `local_dir`. */
  readonly artifacts: { readonly bucket?: string; readonly prefix: string; readonly local_dir?: string };
  /** Report here: `POST {url}` with header `X-Callback-Token: {token}` (and SigV4 where the API uses IAM). */
  readonly callback: { readonly id: string; readonly url: string; readonly token: string; readonly heartbeat_url: string };
  /** ISO timestamp after which the report is refused. */
  readonly deadline: string;
  /** Heartbeat at least this often (seconds), if set. */
  readonly heartbeat_interval_seconds?: number;
}

/**
 * Header that carries an agent's callback token (lower case, as HTTP APIs deliver headers).
 * `Authorization: Bearer <token>` is accepted too where no SigV4 signature needs that header.
 */
export const CALLBACK_TOKEN_HEADER = 'x-callback-token';

/** Header that makes `POST /workflows` idempotent. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * The one key of the event a schedule of `DurableOrchestrator.addSchedule` invokes the API
 * function with: `{ "scheduled_start": { "schedule": "<name>", "scheduled_time": "<ISO time>",
 * "input": { ... } } }`. The API starts the workflow once per schedule and scheduled time.
 */
export const SCHEDULED_START_KEY = 'scheduled_start';

/** Names of schedules (the `schedule` of a scheduled start): EventBridge Scheduler's name characters. */
export const SCHEDULE_NAME_PATTERN = /^[0-9A-Za-z_.-]{1,64}$/;
