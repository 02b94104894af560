/**
 * Ports of the workflow runtime. Each has an AWS SDK v3 adapter (adapters/aws) and a local
 * adapter (adapters/local); both pass the same contract test suite (test/runtime/contract).
 * Nothing here imports aws-cdk-lib or an AWS SDK.
 */
import { encodeOutcome } from './outcome';
import type { UsageReport } from '../contract/budget';
import type { Awaiting, StepStatus, TaskEnvelope, WorkflowStatus } from '../contract/status';

/** An error with a stable code, as shown in the API's `error`. */
export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
}

/**
 * How a callback is failed: a code and a message, and optionally the runtime's own data (an
 * encoded outcome, see outcome.ts), sent as the failure's `ErrorData`. Only the runtime sets
 * `data`; an agent's report never does.
 */
export interface CallbackFailure extends ErrorInfo {
  readonly data?: string;
}

/** One step in the status projection. */
export interface StepRecord {
  readonly name: string;
  readonly type: string;
  readonly status: StepStatus;
  /** Attempts made so far (agent steps). */
  readonly attempts?: number;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** Small output (pointers, outcome): never a large body. */
  readonly output?: Record<string, unknown>;
  readonly error?: ErrorInfo;
}

/** The status projection of one workflow: what the API reads. */
export interface WorkflowRecord {
  readonly workflowId: string;
  readonly definitionName: string;
  readonly status: WorkflowStatus;
  readonly awaiting: Awaiting;
  readonly input: Record<string, unknown>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly steps: readonly StepRecord[];
  readonly result?: Record<string, unknown>;
  readonly error?: ErrorInfo;
  readonly idempotencyKey?: string;
  /** Set by a cancel request; the controller ends the workflow CANCELLED at its next boundary. */
  readonly cancelRequested?: boolean;
  /**
   * Why the workflow was stopped, when it was not a plain cancel request (a budget, the kill
   * switch): set with `cancelRequested`; the controller ends the workflow with its status and code.
   */
  readonly stopReason?: StopReason;
  /** Model usage agents reported, per attempt (`usageKey(step, attempt)` of contract/budget.ts). */
  readonly usage?: Readonly<Record<string, UsageReport>>;
  /** Epoch seconds after which the store may forget the record. */
  readonly expiresAt?: number;
}

/** What changes in a workflow record (absent fields stay as they are; `null` clears). */
export interface WorkflowPatch {
  readonly status?: WorkflowStatus;
  readonly awaiting?: Awaiting;
  readonly result?: Record<string, unknown> | null;
  readonly error?: ErrorInfo | null;
  readonly cancelRequested?: boolean;
  readonly stopReason?: StopReason;
}

/** Why a workflow was stopped from outside (see WorkflowRecord.stopReason). */
export interface StopReason extends ErrorInfo {
  /** The status the workflow ends with. */
  readonly status: 'CANCELLED' | 'FAILED';
  /** Figures for the event that announces it (a budget's limit and use). */
  readonly detail?: Record<string, unknown>;
}

/** The kill switch: while engaged, no workflow starts (a single item of the workflow store). */
export interface KillSwitchState {
  readonly engaged: boolean;
  /** Why it was engaged (or released). */
  readonly reason?: string;
  /** Who changed it last (IAM principal, or `unauthenticated (local)`). */
  readonly changedBy: string;
  readonly changedAt: string;
}

/**
 * A callback the runtime waits for: an agent's report, a person's approval, or a timer (the
 * backoff between two attempts of an agent step, registered so that a cancel request can end it).
 */
export interface CallbackRecord {
  /** Our id, used in `/callbacks/{callback_id}`: url-safe, unguessable. */
  readonly callbackId: string;
  /** The durable execution's callback id, used with the durable callback API. */
  readonly durableCallbackId: string;
  readonly workflowId: string;
  readonly stepName: string;
  readonly kind: 'agent' | 'approval' | 'timer';
  /** SHA-256 (hex) of the bearer token handed to the agent; absent for approvals and timers. */
  readonly tokenHash?: string;
  readonly state: 'PENDING' | 'COMPLETED';
  readonly createdAt: string;
  /** ISO time after which a report is late. */
  readonly deadline: string;
  /** Attempt of the agent step it belongs to (agent callbacks and timers). */
  readonly attempt?: number;
  /**
   * Where the agent's report may name artifacts (agent callbacks): fixed by the controller that
   * dispatched the task, from the definition the workflow started with, so that a report is
   * judged by that definition even after a deploy changed it.
   */
  readonly artifactPrefix?: string;
  /** How it was completed (set with state COMPLETED). */
  readonly outcome?: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
}

/**
 * The audit record of one decision on an approval: who, when, from where, what. Written once per
 * approval callback (a second write for the same callback is refused), never overwritten.
 */
export interface DecisionRecord {
  readonly workflowId: string;
  /** The approval callback the decision completed. */
  readonly callbackId: string;
  readonly stepName: string;
  readonly decision: 'approved' | 'rejected';
  readonly comment?: string;
  /** IAM principal ARN, `jwt:<sub>`, `link:<link id>`, or `unauthenticated (local)`. */
  readonly by: string;
  /** How the decider was identified. */
  readonly via: 'iam' | 'jwt' | 'link' | 'local';
  readonly decidedAt: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  /** The approval link used (decisions through a link). */
  readonly linkId?: string;
}

/** One page of a listing. */
export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

export interface ListOptions {
  readonly status?: WorkflowStatus;
  /** 1..100 */
  readonly limit: number;
  readonly nextToken?: string;
}

/** Thrown when a `nextToken` was not produced by this store. */
export class InvalidPageTokenError extends Error {
  constructor() {
    super('next_token is not valid: pass the next_token of a previous page unchanged');
    this.name = 'InvalidPageTokenError';
  }
}

/** Workflow state and the status projection. */
export interface WorkflowStore {
  /**
   * Creates the record unless one with the same id exists, or (when `idempotencyKey` is set)
   * one was created with the same key: then returns that one and `created: false`.
   */
  createWorkflow(record: WorkflowRecord): Promise<{ created: boolean; workflow: WorkflowRecord }>;
  getWorkflow(workflowId: string): Promise<WorkflowRecord | undefined>;
  /** Newest first (by `updatedAt`), optionally of one status. */
  listWorkflows(options: ListOptions): Promise<Page<WorkflowRecord>>;
  /**
   * Applies the patch if the workflow exists and (when given) its status is one of
   * `onlyIfStatusIn`. Returns whether it was applied.
   */
  updateWorkflow(workflowId: string, patch: WorkflowPatch, onlyIfStatusIn?: readonly WorkflowStatus[]): Promise<boolean>;
  /**
   * Inserts or replaces the step with the same name (steps keep the order their names were first
   * seen in). Rejects for an unknown workflow. Sets the workflow's `updatedAt`, as
   * `updateWorkflow` does; an empty `onlyIfStatusIn` applies nothing.
   */
  putStep(workflowId: string, step: StepRecord): Promise<void>;
  /** Stores a PENDING callback; rejects for an unknown workflow. */
  putCallback(callback: CallbackRecord): Promise<void>;
  getCallback(callbackId: string): Promise<CallbackRecord | undefined>;
  /** Pending callbacks of a workflow. */
  pendingCallbacks(workflowId: string): Promise<CallbackRecord[]>;
  /**
   * Marks a PENDING callback COMPLETED with the outcome; returns false (and changes nothing)
   * when it is unknown or no longer pending. Exactly one concurrent caller wins.
   */
  completeCallback(callbackId: string, outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'): Promise<boolean>;
  /**
   * Stores the audit record of a decision unless the workflow already has one for the same
   * callback: returns false then (and changes nothing). Rejects for an unknown workflow.
   */
  putDecision(decision: DecisionRecord): Promise<boolean>;
  /** The decisions of a workflow, oldest first ([] for an unknown workflow). */
  listDecisions(workflowId: string): Promise<DecisionRecord[]>;
  /**
   * Marks an approval link of a workflow used, unless it was: returns false then. Exactly one
   * concurrent caller wins. Rejects for an unknown workflow.
   */
  claimLink(workflowId: string, linkId: string): Promise<boolean>;
  /**
   * Sets the usage of one attempt (`key`: `usageKey(step, attempt)`), replacing what it held, and
   * returns the record after the change (undefined for an unknown workflow). Concurrent calls for
   * different keys never lose each other's figures.
   */
  recordUsage(workflowId: string, key: string, usage: UsageReport): Promise<WorkflowRecord | undefined>;
  /** The kill switch, or undefined when it was never set (released). */
  getKillSwitch(): Promise<KillSwitchState | undefined>;
  putKillSwitch(state: KillSwitchState): Promise<void>;
}

/** Artifacts: agents' outputs and published reports. */
export interface ArtifactStore {
  /** Where agents write: `bucket` for S3, `localDir` for local runs. */
  readonly location: { readonly bucket?: string; readonly localDir?: string };
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** Undefined if absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  exists(key: string): Promise<boolean>;
  copy(fromKey: string, toKey: string): Promise<void>;
}

/**
 * Thrown by an artifact store that refuses what is stored at a key, for a reason retrying cannot
 * fix (a local artifact that is a symbolic link): the API answers 400 and a publish fails at once.
 */
export class ArtifactRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactRefusedError';
  }
}

/** A runtime event. */
export interface WorkflowEvent {
  readonly type: string;
  readonly workflowId: string;
  readonly stepName?: string;
  readonly detail: Record<string, unknown>;
  readonly time: string;
}

export interface EventPublisher {
  publish(event: WorkflowEvent): Promise<void>;
}

/** Dispatches a task to an agent (ECS RunTask, Lambda invoke, local child process). */
export interface AgentDispatcher {
  /** Starts the agent on the envelope. Resolves once the agent is started, not when it is done. */
  dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }>;
  /**
   * Stops a task `dispatch` started (its `handle`), when the workflow ended without waiting for it
   * (cancelled, over budget, the kill switch). Best effort and idempotent: a task that has already
   * stopped is fine. Absent where tasks cannot be stopped (they are then left to their own deadline).
   */
  stop?(agent: string, handle: string, reason: string): Promise<void>;
}

/** Thrown by a dispatcher for an agent it does not know: final, never retried (outcome.ts). */
export class UnknownAgentError extends Error {
  public readonly errorData = encodeOutcome({ kind: 'final', reason: 'UNKNOWN_AGENT' });

  constructor(agent: string, known: string[]) {
    super(`unknown agent '${agent}'; known agents: ${known.length ? known.join(', ') : '(none)'}`);
    this.name = 'UnknownAgentError';
  }
}

/**
 * Thrown by a DurableControl when the durable execution no longer waits for that callback
 * (already completed, timed out, or its execution has ended): the report changes nothing.
 */
export class CallbackNotPendingError extends Error {
  constructor(detail: string) {
    super(`the workflow is no longer waiting for this callback: ${detail}`);
    this.name = 'CallbackNotPendingError';
  }
}

/** Starts durable executions and completes their callbacks. */
export interface DurableControl {
  /** Starts the controller for a workflow (execution name = workflow id); a repeat is a no-op. */
  start(workflowId: string, input: Record<string, unknown>): Promise<void>;
  /** Completes the durable callback behind `callback` (its `durableCallbackId`) with a JSON string. */
  callbackSuccess(callback: CallbackRecord, result: string): Promise<void>;
  /** Fails the durable callback behind `callback`; `error.data` becomes the failure's `ErrorData`. */
  callbackFailure(callback: CallbackRecord, error: CallbackFailure): Promise<void>;
  callbackHeartbeat(callback: CallbackRecord): Promise<void>;
}

/** Everything the controller and the API need. */
export interface RuntimePorts {
  readonly store: WorkflowStore;
  readonly artifacts: ArtifactStore;
  readonly events: EventPublisher;
  readonly dispatcher: AgentDispatcher;
  readonly durable: DurableControl;
}
