/**
 * The durable controller's bookkeeping: the workflow, step and callback records it keeps in the
 * store, the events it publishes, and its metrics and logs. The interpreter (controller.ts)
 * decides what happens and when; it calls these methods only from inside its durable steps and
 * callback submitters, so each one runs again when its step is retried (records are rewritten,
 * events sent again) and never on a replay of a completed step.
 *
 * Nothing here is a durable operation, and nothing here decides how a workflow goes on: the
 * answers it gives (a cancel request, when a step started) are returned from the durable step
 * that asked, and replays use that step's recorded result.
 */
import { newCallbackId, sha256 } from './ids';
import type { CallbackRecord, ErrorInfo, EventPublisher, StepRecord, WorkflowStore } from './ports';
import { newRecord } from './records';
import type { Telemetry } from './telemetry';
import { BUDGET_EXCEEDED_CODE } from '../contract/budget';
import type { AgentStepDocument, StepDocument } from '../contract/definition';
import { awaitingOf, EVENT_TYPES, EventType, isTerminal, LOG_EVENT_TYPES, METRICS, StepStatus, WaitKind, WorkflowStatus } from '../contract/status';

/** What the bookkeeping needs to know of a run (the interpreter's run carries more). */
export interface RunIdentity {
  readonly workflowId: string;
  readonly input: Record<string, unknown>;
}

/** What a step's record holds besides its name, type, status and times. */
export interface StepExtra {
  readonly attempts?: number;
  readonly output?: Record<string, unknown>;
  readonly error?: ErrorInfo;
}

/** How the workflow record stood when the controller started on it. */
export interface WorkflowStart {
  /** A cancellation was requested before it started. */
  readonly cancelled: boolean;
  /** It had already ended (e.g. the API marked it FAILED when its start seemed to fail). */
  readonly ended?: { readonly status: WorkflowStatus; readonly error?: ErrorInfo };
}

/** How a workflow ended, as `workflowEnded` wrote it. */
export interface WorkflowEnd {
  readonly status: WorkflowStatus;
  readonly error?: ErrorInfo;
}

/** A step recorded as started, unless a cancellation was requested first. */
export interface StepStart {
  readonly cancelled: boolean;
  readonly startedAt: string;
}

/** What a waiting step's record holds besides its name, type and status. */
export interface StepWait {
  readonly startedAt: string;
  readonly attempts?: number;
  readonly output?: Record<string, unknown>;
}

/** A callback to register: an agent's report, a person's decision, or a backoff timer. */
export type CallbackRegistration = AgentCallback | ApprovalCallback | TimerCallback;

interface CallbackBase {
  readonly stepName: string;
  /** The durable execution's callback id (from `ctx.createCallback`). */
  readonly durableCallbackId: string;
  /** Seconds from now to the callback's deadline. */
  readonly timeoutSeconds: number;
}

/** An agent's report on one attempt. */
export interface AgentCallback extends CallbackBase {
  readonly kind: 'agent';
  readonly attempt: number;
  /** The bearer token handed to the agent (only its hash is stored). */
  readonly token: string;
  /** Where the agent's report may name artifacts. */
  readonly artifactPrefix: string;
}

/** A person's decision on an approval step. */
export interface ApprovalCallback extends CallbackBase {
  readonly kind: 'approval';
}

/** The pause after a failed attempt of an agent step. */
export interface TimerCallback extends CallbackBase {
  readonly kind: 'timer';
  readonly attempt: number;
}

/** How an attempt of an agent step ended, for its metrics. */
export interface AgentAttemptEnd {
  /** `failed`: the agent reported failure, or the task could not be dispatched. */
  readonly outcome: 'succeeded' | 'failed' | 'timed_out';
  /** When the task was handed to the agent (absent when the dispatch itself failed). */
  readonly dispatchedAt?: string;
}

/** A registered callback: our id, when it was made and its deadline (ISO times). */
export interface RegisteredCallback {
  readonly callbackId: string;
  readonly createdAt: string;
  readonly deadline: string;
}

export interface BookkeepingOptions {
  readonly store: WorkflowStore;
  readonly events: EventPublisher;
  readonly telemetry: Telemetry;
  /** The workflow definition's name: metrics' dimension, new records' definition. */
  readonly definitionName: string;
  /** Days a workflow's state is kept after its last update (for records the controller creates). */
  readonly stateRetentionDays?: number;
}

/** Statuses in which the workflow record may still be changed by the controller. */
const NON_TERMINAL: WorkflowStatus[] = ['PENDING', 'RUNNING'];

/** The records, events, metrics and logs of one workflow definition's executions. */
export class WorkflowBookkeeping {
  private readonly store: WorkflowStore;
  private readonly events: EventPublisher;
  private readonly telemetry: Telemetry;

  constructor(private readonly options: BookkeepingOptions) {
    this.store = options.store;
    this.events = options.events;
    this.telemetry = options.telemetry;
  }

  // ---------------------------------------------------------------------------------------
  // The workflow
  // ---------------------------------------------------------------------------------------

  /**
   * Marks the workflow RUNNING and announces it, unless it has ended or a cancellation was
   * requested. A workflow started without the API (e.g. a schedule) is given a record first.
   */
  public async workflowStarted(run: RunIdentity): Promise<WorkflowStart> {
    let wf = await this.store.getWorkflow(run.workflowId);
    if (!wf) {
      // Started without the API (e.g. a schedule): give it a projection so it can be followed.
      const now = new Date().toISOString();
      const record = newRecord(run.workflowId, this.options.definitionName, run.input, now, this.options.stateRetentionDays);
      wf = (await this.store.createWorkflow(record)).workflow;
    }
    if (isTerminal(wf.status)) {
      this.telemetry.warn(`workflow already ended ${wf.status}; nothing runs`, { workflow_id: run.workflowId });
      return { cancelled: false, ended: { status: wf.status, ...(wf.error ? { error: wf.error } : {}) } };
    }
    if (wf.cancelRequested) return { cancelled: true };
    await this.store.updateWorkflow(run.workflowId, { status: 'RUNNING' }, ['PENDING']);
    await this.events.publish(this.event(EVENT_TYPES.workflowStarted, run, undefined, { definition: this.options.definitionName }));
    this.telemetry.metric(METRICS.workflowsStarted, 'Count', 1, this.options.definitionName);
    this.telemetry.info('workflow started', { workflow_id: run.workflowId, event_type: LOG_EVENT_TYPES[EVENT_TYPES.workflowStarted] });
    return { cancelled: false };
  }

  /**
   * Writes how the workflow ended, closes its pending callbacks and the steps it ended in the
   * middle of, and announces the end.
   */
  public async workflowEnded(run: RunIdentity, ending: WorkflowStatus,
    result: Record<string, unknown> | undefined, ended: ErrorInfo | undefined): Promise<WorkflowEnd> {
    const { store } = this;
    // Stopped from outside for a reason of its own (a budget, the kill switch, stop.ts): the
    // workflow ends with that reason's status and code rather than as a plain cancellation.
    const stop = ending === 'CANCELLED' ? (await store.getWorkflow(run.workflowId))?.stopReason : undefined;
    const status: WorkflowStatus = stop ? stop.status : ending;
    const error: ErrorInfo | undefined = stop ? { code: stop.code, message: stop.message } : ended;
    if (stop?.code === BUDGET_EXCEEDED_CODE) {
      await this.events.publish(this.event(EVENT_TYPES.workflowBudgetExceeded, run, undefined, { ...stop.detail, message: stop.message }));
    }
    for (const cb of await store.pendingCallbacks(run.workflowId)) {
      await store.completeCallback(cb.callbackId, status === 'CANCELLED' ? 'CANCELLED' : 'FAILED');
    }
    // Steps the workflow ended in the middle of (cancelled while waiting, a failure between two
    // bookkeeping steps) are closed, so that no step of an ended workflow reads as running.
    const endedAt = new Date().toISOString();
    for (const s of (await store.getWorkflow(run.workflowId))?.steps ?? []) {
      if (s.status !== 'RUNNING' && s.status !== 'WAITING') continue;
      const stepStatus: StepStatus = status === 'CANCELLED' ? 'CANCELLED' : 'FAILED';
      await store.putStep(run.workflowId, {
        ...s,
        status: stepStatus,
        endedAt,
        error: stop && stop.status !== 'CANCELLED' ? { code: stop.code, message: stop.message }
          : { code: 'WORKFLOW_ENDED', message: `the workflow ended ${status} before step '${s.name}' finished` },
      });
    }
    // The status last: a reader that sees the workflow ended sees its steps and callbacks ended too.
    await store.updateWorkflow(run.workflowId, { status, awaiting: null, result: result ?? null, error: error ?? null }, NON_TERMINAL);
    const type = status === 'SUCCEEDED' ? EVENT_TYPES.workflowCompleted
      : status === 'CANCELLED' ? EVENT_TYPES.workflowCancelled : EVENT_TYPES.workflowFailed;
    await this.events.publish(this.event(type, run, undefined, { status, ...(result ? { result } : {}), ...(error ? { error } : {}) }));
    if (status === 'SUCCEEDED') this.telemetry.metric(METRICS.workflowsSucceeded, 'Count', 1, this.options.definitionName);
    if (status === 'FAILED' || status === 'TIMED_OUT') this.telemetry.metric(METRICS.workflowsFailed, 'Count', 1, this.options.definitionName);
    this.telemetry.info(`workflow ended ${status}`, { workflow_id: run.workflowId, event_type: LOG_EVENT_TYPES[type], ...(error ? { error } : {}) });
    return { status, ...(error ? { error } : {}) };
  }

  /** Whether the workflow record says a cancellation was requested. */
  public async cancelRequested(run: RunIdentity): Promise<boolean> {
    return (await this.store.getWorkflow(run.workflowId))?.cancelRequested === true;
  }

  /** A callback failed with a cancellation the workflow record does not confirm (a warning). */
  public cancellationUnconfirmed(run: RunIdentity, operation: string): void {
    this.telemetry.warn('a callback failed with a cancellation the workflow record does not confirm; treated as a failure',
      { workflow_id: run.workflowId, operation });
  }

  // ---------------------------------------------------------------------------------------
  // Steps
  // ---------------------------------------------------------------------------------------

  /** Records a step as RUNNING and announces it, unless a cancellation was requested. */
  public async stepStarted(run: RunIdentity, step: StepDocument): Promise<StepStart> {
    const startedAt = new Date().toISOString();
    if (await this.cancelRequested(run)) return { cancelled: true, startedAt };
    await this.store.putStep(run.workflowId, { name: step.name, type: step.type, status: 'RUNNING', startedAt });
    await this.stepAnnounced(run, step);
    return { cancelled: false, startedAt };
  }

  /** Announces a step's start (its record is written by the caller, or at its end). */
  public async stepAnnounced(run: RunIdentity, step: StepDocument): Promise<void> {
    await this.events.publish(this.event(EVENT_TYPES.stepStarted, run, step.name, { step_type: step.type }));
    this.telemetry.info('step started', { workflow_id: run.workflowId, step_name: step.name, event_type: LOG_EVENT_TYPES[EVENT_TYPES.stepStarted] });
  }

  /**
   * Records a step as WAITING, then the workflow as awaiting it (`<step>_completion` for an agent
   * step, `approval` for an approval step): whoever sees the workflow awaiting sees the step waiting.
   */
  public async stepWaiting(run: RunIdentity, step: StepDocument, kind: WaitKind, wait: StepWait): Promise<void> {
    await this.store.putStep(run.workflowId, {
      name: step.name,
      type: step.type,
      status: 'WAITING',
      ...(wait.attempts !== undefined ? { attempts: wait.attempts } : {}),
      startedAt: wait.startedAt,
      ...(wait.output ? { output: wait.output } : {}),
    });
    await this.store.updateWorkflow(run.workflowId, { awaiting: awaitingOf(kind, step.name) }, NON_TERMINAL);
  }

  /** Announces that a person's decision is asked for. */
  public async approvalRequested(run: RunIdentity, step: StepDocument, prompt: string, deadline: string,
    extra: Record<string, unknown> = {}): Promise<void> {
    await this.events.publish(this.event(EVENT_TYPES.approvalRequested, run, step.name, { prompt, deadline, ...extra }));
    this.telemetry.metric(METRICS.approvalsRequested, 'Count', 1, this.options.definitionName);
    this.telemetry.info('approval requested', { workflow_id: run.workflowId, step_name: step.name, event_type: LOG_EVENT_TYPES[EVENT_TYPES.approvalRequested] });
  }

  /** Logs a task handed to an agent. */
  /** An agent task of an ended workflow was stopped. */
  public taskStopped(run: RunIdentity, operation: string, handle: string, reason: string): void {
    this.telemetry.info('task stopped', { workflow_id: run.workflowId, operation, handle, reason });
  }

  /** An agent task of an ended workflow could not be stopped (it runs until its own deadline). */
  public taskNotStopped(run: RunIdentity, operation: string, handle: string, error: string): void {
    this.telemetry.warn('task could not be stopped; it runs until its deadline', { workflow_id: run.workflowId, operation, handle, error });
  }

  public taskDispatched(run: RunIdentity, step: AgentStepDocument, attempt: number, handle: string, callbackId: string): void {
    this.telemetry.info('task dispatched', { workflow_id: run.workflowId, step_name: step.name, agent: step.agent, attempt, handle, callback_id: callbackId });
  }

  /**
   * The metrics of an attempt of an agent step that has ended: `AgentTasksFailed` unless it
   * succeeded, and `AgentTaskDuration` (from its dispatch to now, when the controller takes the
   * agent's report) unless it timed out or was never dispatched. Called from the durable step that
   * first acts on the attempt's outcome, so a replay does not count it again (the attempt's
   * failure is logged by `attemptFailed`, or with the step's end).
   */
  public agentAttemptEnded(end: AgentAttemptEnd, takenAt: number = Date.now()): void {
    const definition = this.options.definitionName;
    if (end.outcome !== 'succeeded') this.telemetry.metric(METRICS.agentTasksFailed, 'Count', 1, definition);
    if (end.outcome !== 'timed_out' && end.dispatchedAt !== undefined) {
      const elapsed = Math.max(0, takenAt - Date.parse(end.dispatchedAt));
      if (Number.isFinite(elapsed)) this.telemetry.metric(METRICS.agentTaskDuration, 'Milliseconds', elapsed, definition);
    }
  }

  /** Records a failed attempt of an agent step that will be retried after `delaySeconds`. */
  public async attemptFailed(run: RunIdentity, step: StepDocument, attempt: number, startedAt: string,
    error: ErrorInfo, delaySeconds: number): Promise<void> {
    await this.store.putStep(run.workflowId, { name: step.name, type: step.type, status: 'RUNNING', attempts: attempt, startedAt, error });
    this.telemetry.warn('agent attempt failed; retrying', { workflow_id: run.workflowId, step_name: step.name, attempt, delay_seconds: delaySeconds });
  }

  /** A backoff timer failed for another reason than a cancellation: the pause ends early (a warning). */
  public backoffEndedEarly(run: RunIdentity, step: StepDocument, attempt: number, error: string): void {
    this.telemetry.warn('backoff timer ended early; continuing', { workflow_id: run.workflowId, step_name: step.name, attempt, error });
  }

  /**
   * Records how a step ended and announces it. `startedAt` is the step's durable start; where the
   * step that would have set it failed, the store's record (or now) stands in. `clearAwaiting`:
   * the workflow no longer awaits anything (false when the caller sets `awaiting` itself, or
   * nothing waited).
   */
  public async stepEnded(run: RunIdentity, step: StepDocument, startedAt: string | undefined, status: StepStatus,
    extra: StepExtra, clearAwaiting = true): Promise<void> {
    const started = startedAt ?? await this.recordedStart(run, step);
    const endedAt = new Date().toISOString();
    const record: StepRecord = { name: step.name, type: step.type, status, startedAt: started, endedAt, ...extra };
    await this.store.putStep(run.workflowId, record);
    if (clearAwaiting) await this.store.updateWorkflow(run.workflowId, { awaiting: null }, NON_TERMINAL);
    await this.events.publish(this.event(EVENT_TYPES.stepCompleted, run, step.name, {
      step_type: step.type, status, ...(extra.output ? { output: extra.output } : {}), ...(extra.error ? { error: extra.error } : {}),
    }));
    this.telemetry.metric(METRICS.stepDuration, 'Milliseconds', Date.parse(endedAt) - Date.parse(started), this.options.definitionName);
    this.telemetry.info(`step ${status}`, { workflow_id: run.workflowId, step_name: step.name, event_type: LOG_EVENT_TYPES[EVENT_TYPES.stepCompleted] });
  }

  /** When the store says a step started (or now, if it has no record of it). */
  public async recordedStart(run: RunIdentity, step: StepDocument): Promise<string> {
    const recorded = (await this.store.getWorkflow(run.workflowId))?.steps.find((s) => s.name === step.name)?.startedAt;
    return recorded ?? new Date().toISOString();
  }

  /** Closes the record of a step of an abandoned branch as CANCELLED, if it reads as running. */
  public async stepAbandoned(run: RunIdentity, step: StepDocument): Promise<void> {
    const current = (await this.store.getWorkflow(run.workflowId))?.steps.find((s) => s.name === step.name);
    if (current && (current.status === 'RUNNING' || current.status === 'WAITING')) {
      const endedAt = new Date().toISOString();
      await this.store.putStep(run.workflowId, { ...current, status: 'CANCELLED', endedAt, error: abandonedError(step.name) });
    }
  }

  /**
   * Closes, as CANCELLED, the running records of the steps named in `inside` (the steps of the
   * branches parallel step `parallel` no longer waits for), and announces each.
   */
  public async branchStepsAbandoned(run: RunIdentity, parallel: string, inside: ReadonlySet<string>): Promise<void> {
    const endedAt = new Date().toISOString();
    for (const s of (await this.store.getWorkflow(run.workflowId))?.steps ?? []) {
      if (!inside.has(s.name) || (s.status !== 'RUNNING' && s.status !== 'WAITING')) continue;
      const error = abandonedError(s.name, parallel);
      await this.store.putStep(run.workflowId, { ...s, status: 'CANCELLED', endedAt, error });
      await this.events.publish(this.event(EVENT_TYPES.stepCompleted, run, s.name, { step_type: s.type, status: 'CANCELLED', error }));
      this.telemetry.info('step abandoned', { workflow_id: run.workflowId, step_name: s.name, event_type: LOG_EVENT_TYPES[EVENT_TYPES.stepCompleted], parallel });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Callbacks
  // ---------------------------------------------------------------------------------------

  /** Registers a PENDING callback of any kind: the one path for agents, approvals and timers. */
  public async registerCallback(run: RunIdentity, registration: CallbackRegistration): Promise<RegisteredCallback> {
    const callbackId = newCallbackId();
    const now = new Date();
    const createdAt = now.toISOString();
    const deadline = new Date(now.getTime() + registration.timeoutSeconds * 1000).toISOString();
    const record: CallbackRecord = {
      callbackId,
      durableCallbackId: registration.durableCallbackId,
      workflowId: run.workflowId,
      stepName: registration.stepName,
      kind: registration.kind,
      ...(registration.kind === 'agent' ? { tokenHash: sha256(registration.token) } : {}),
      state: 'PENDING',
      createdAt,
      deadline,
      ...(registration.kind !== 'approval' ? { attempt: registration.attempt } : {}),
      ...(registration.kind === 'agent' ? { artifactPrefix: registration.artifactPrefix } : {}),
    };
    await this.store.putCallback(record);
    return { callbackId, createdAt, deadline };
  }

  /** Marks a pending callback COMPLETED with `outcome`; false if it was no longer pending. */
  public async closeCallback(callbackId: string, outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'): Promise<boolean> {
    return this.store.completeCallback(callbackId, outcome);
  }

  /** Closes the pending backoff timers of a step (their pause has run out) as SUCCEEDED. */
  public async closeTimers(run: RunIdentity, step: StepDocument): Promise<void> {
    for (const cb of await this.store.pendingCallbacks(run.workflowId)) {
      if (cb.kind === 'timer' && cb.stepName === step.name) await this.store.completeCallback(cb.callbackId, 'SUCCEEDED');
    }
  }

  /** The workflow's pending callbacks that belong to the steps named in `steps`. */
  public async pendingCallbacks(run: RunIdentity, steps: ReadonlySet<string>): Promise<CallbackRecord[]> {
    return (await this.store.pendingCallbacks(run.workflowId)).filter((cb) => steps.has(cb.stepName));
  }

  /**
   * An event of `type`; its detail carries the `event_type` the log lines carry (snake case) and
   * `workflow`, the definition's name, so rules of one orchestrator match only its events when
   * several share a bus.
   */
  private event(type: EventType, run: RunIdentity, stepName: string | undefined, detail: Record<string, unknown>) {
    return {
      type,
      workflowId: run.workflowId,
      ...(stepName ? { stepName } : {}),
      detail: { event_type: LOG_EVENT_TYPES[type], workflow: this.options.definitionName, ...detail },
      time: new Date().toISOString(),
    };
  }
}

function abandonedError(stepName: string, parallel?: string): ErrorInfo {
  return {
    code: 'BRANCH_ABANDONED',
    message: `step '${stepName}' was abandoned: ${parallel ? `parallel step '${parallel}'` : 'its parallel step'} finished without waiting for its branch`,
  };
}
