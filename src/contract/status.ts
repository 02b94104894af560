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

/** What a running workflow waits for (`awaiting` in the API). */
export type Awaiting = 'agent' | 'approval' | null;

/** Event `detail-type`s the runtime emits (source: {@link EVENT_SOURCE}). */
export const EVENT_TYPES = {
  workflowStarted: 'Workflow Started',
  stepStarted: 'Workflow Step Started',
  stepCompleted: 'Workflow Step Completed',
  approvalRequested: 'Workflow Approval Requested',
  workflowCompleted: 'Workflow Completed',
  workflowFailed: 'Workflow Failed',
  workflowCancelled: 'Workflow Cancelled',
} as const;
export type EventType = typeof EVENT_TYPES[keyof typeof EVENT_TYPES];

/** EventBridge `source` of every runtime event. */
export const EVENT_SOURCE = 'cdk-durable-agents';

/** The metric namespace of the runtime (Powertools metrics). */
export const METRIC_NAMESPACE = 'CdkDurableAgents';

/** The handlers' service names: Powertools' `service` in their logs and the `service` dimension of their metrics. */
export const SERVICE_NAMES = {
  controller: 'durable-controller',
  api: 'durable-api',
} as const;
export const METRICS = {
  workflowsStarted: 'WorkflowsStarted',
  workflowsSucceeded: 'WorkflowsSucceeded',
  workflowsFailed: 'WorkflowsFailed',
  stepDuration: 'StepDuration',
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
