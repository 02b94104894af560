/**
 * The durable controller: interprets a workflow definition document with durable operations.
 *
 * Replay rules: every side effect (store writes, events, dispatches, artifact copies) happens
 * inside a durable step (`ctx.step`). What is recorded, announced and logged is the bookkeeping's
 * (bookkeeping.ts, `WorkflowBookkeeping`); this module decides when, from inside its steps. Code outside steps only branches on the definition and on
 * results that the durable execution replays, so it makes the same decisions on every replay.
 * Operation names are derived from the definition:
 *
 * | operation | type | what it does |
 * |---|---|---|
 * | `workflow/start`, `workflow/finish` | step | the workflow record and its events |
 * | `<step>/attempt-<n>` | callback | an agent's report on attempt n |
 * | `<step>/attempt-<n>/dispatch` | step | registers that callback and dispatches the task; on attempt 1 also records the step's start |
 * | `<step>/attempt-<n>/failed` | step | records a failed attempt and registers the backoff timer |
 * | `<step>/backoff-<n>` | callback | the pause after attempt n (times out to go on; a cancel request fails it) |
 * | `<step>/decision` | callback | a person's decision |
 * | `<step>/decision/request` | step | records the approval step's start and asks for the decision |
 * | `<step>/publish`, `<step>/choose` | step | a step that does not wait, from start to end in one |
 * | `<step>/start`, `<step>` (parallel), `<step>.<branch>` | step, contexts | a parallel step and its branches |
 * | `<step>/complete` | step | records a step that failed, or one that ends its workflow or parallel branch |
 * | `<operation>/cancel-check`, `<step>/abandon` | step | cancellation and abandoned branches |
 *
 * Cost: each operation is billed ($8 per million; see bench/durable-operations.bench.ts), so no
 * operation only records: a step's start is recorded by the step that registers its wait (or by
 * its only step), and a step that ends and lets the workflow go on has its completion written by
 * the next step (Run.owed). A callback is created with `ctx.createCallback` next to the step that
 * registers it (2 operations) rather than with `ctx.waitForCallback` (a child context around the
 * same two: 3). A retried step repeats all it does, the completion it carries included: records
 * are rewritten and events sent again (events are at least once, as for any retried step).
 */
import { DurableContext, DurableOperationError, StepConfig } from '@aws/durable-execution-sdk-js';
import type { ApprovalLinkIssuer } from './approval-links';
import { approvalSummary } from './approval-summary';
import { AgentAttemptEnd, StepExtra, WorkflowBookkeeping } from './bookkeeping';
import { newCallbackToken } from './ids';
import { OPERATION } from './operation-names';
import { causeChain, encodeOutcome, haltOf, HaltStatus, isRetryable } from './outcome';
import { ArtifactRefusedError, CallbackNotPendingError, ErrorInfo, RuntimePorts } from './ports';
import { budgetStopReason, requestStop } from './stop';
import type { Telemetry } from './telemetry';
import { resolveRef, UnresolvedValueError } from './values';
import { attemptArtifactPrefix, publishedPrefix } from '../contract/artifacts';
import { BudgetBreach, durationBreach } from '../contract/budget';
import {
  AgentStepDocument,
  allSteps,
  ApprovalStepDocument,
  ChoiceStepDocument,
  ParallelStepDocument,
  PublishStepDocument,
  StepDocument,
  WorkflowDefinitionDocument,
} from '../contract/definition';
import { StepStatus, TaskEnvelope, WorkflowStatus } from '../contract/status';

export { newRecord } from './records';

/** The payload a durable execution of the controller starts with. */
export interface ControllerEvent {
  readonly workflow_id: string;
  readonly input: Record<string, unknown>;
}

/** What the durable execution returns. */
export interface ControllerResult {
  readonly workflow_id: string;
  readonly status: WorkflowStatus;
  readonly result?: Record<string, unknown>;
  readonly error?: ErrorInfo;
}

export interface ControllerOptions {
  readonly definition: WorkflowDefinitionDocument;
  readonly ports: RuntimePorts;
  readonly telemetry: Telemetry;
  /** Base URL agents report to: `{callbackBaseUrl}/callbacks/{id}`. */
  readonly callbackBaseUrl: string;
  /** Days a workflow's state is kept after its last update (for records the controller creates). */
  readonly stateRetentionDays?: number;
  /**
   * Issues signed approve and reject links when an approval step starts; they travel in the
   * `approval_requested` event (`links`), with a summary of what is approved (`summary`).
   * @default - no links (the event carries the summary only)
   */
  readonly approvalLinks?: ApprovalLinkIssuer;
}

/** An agent's report, as the API hands it over after validating it. */
export interface AgentReport {
  readonly artifacts: Record<string, string>;
  readonly output: Record<string, unknown>;
}

/** A person's decision, as the API hands it over. */
export interface ApprovalDecision {
  readonly approved: boolean;
  readonly comment?: string;
  readonly by?: string;
}

/**
 * Ends the workflow with a status other than SUCCEEDED. The status travels as the SDK's error data
 * (outcome.ts), so it survives durable operations and child contexts on replay; the message is
 * plain words.
 */
export class WorkflowHalt extends DurableOperationError {
  public readonly errorType = 'WorkflowHalt';

  constructor(status: HaltStatus, code: string, message: string) {
    super(message, undefined, encodeOutcome({ kind: 'halt', status, code, message }));
    this.name = 'WorkflowHalt';
  }
}

/** Error code with which a parallel step fails the callbacks of the branches it no longer waits for. */
export const BRANCH_ABANDONED_CODE = 'BranchAbandoned';

/**
 * Thrown inside a branch that its parallel step has stopped waiting for: the branch stops
 * without recording anything more. It is final (never retried) and no halt, so it can never end
 * the workflow.
 */
class BranchAbandonedError extends DurableOperationError {
  public readonly errorType = 'BranchAbandonedError';

  constructor(stepName: string) {
    super(`step '${stepName}' stopped: its parallel step finished without it`, undefined, encodeOutcome({ kind: 'final', reason: 'BRANCH_ABANDONED' }));
    this.name = 'BranchAbandonedError';
  }
}

/**
 * Bookkeeping steps talk to the store and the bus: retry transient failures a few times (an error
 * whose data says it is final, see outcome.ts, is not retried).
 */
const BOOKKEEPING = {
  retryStrategy: (error: Error, attempt: number) => ({
    shouldRetry: attempt < 4 && isRetryable(error),
    delay: { seconds: attempt * 2 },
  }),
};

/**
 * Callback submitters (dispatch, approval request, timer) retry transient failures: 3 attempts,
 * 1 s then 2 s apart. An unknown agent, a halt (cancellation) or an abandoned branch is final
 * (its error data says so).
 */
const SUBMITTER_RETRY = (error: Error, attempt: number) => ({
  shouldRetry: attempt < 3 && isRetryable(error),
  delay: { seconds: attempt },
});

/** How a step ended, as a step that does not wait records it. */
interface StepEnd {
  readonly status: StepStatus;
  readonly output?: Record<string, unknown>;
  readonly error?: ErrorInfo;
}

/** What the one durable step of a step that does not wait returns (see Interpreter.atOnce). */
type AtOnce = ({ readonly cancelled: true } & Partial<StepEnd>) | ({ readonly cancelled: false } & StepEnd);

function cancelledBefore(step: StepDocument): WorkflowHalt {
  return new WorkflowHalt('CANCELLED', 'CANCEL_REQUESTED', `the workflow was cancelled before step '${step.name}'`);
}

/** What a parallel branch hands back to its parent. */
interface BranchOutcome {
  readonly outputs: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
}

/** What one execution knows as it goes: rebuilt identically on every replay. */
interface Run {
  readonly workflowId: string;
  readonly input: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  /**
   * Agent tasks dispatched whose attempt ended without their report (cancelled, stopped by a
   * budget, timed out), by the attempt's operation name: stopped when the workflow ends. Shared by
   * the branches of a parallel step; filled from the dispatch steps' results, so replays agree.
   */
  readonly tasks: Map<string, { readonly agent: string; readonly handle: string }>;
  result?: Record<string, unknown>;
  /**
   * True once a parallel step this run is a branch of has returned. A branch still running then
   * has been abandoned and must stop. Only code of such a branch ever sees `true`: a completed
   * parallel operation is not re-entered on replay, so this never changes a replayed decision.
   */
  readonly abandoned: () => boolean;
  /**
   * The completion of the step that ended last, when the workflow goes on after it: written by
   * this run's next durable step (the next step's dispatch or request or its only step, the
   * `<step>/start` of a parallel step, `workflow/finish`, or a `<step>/complete` at the end of a
   * parallel branch) rather than by a step of its own. It is set from a replayed result and
   * cleared when a step that wrote it returns, so every replay owes the same.
   */
  owed?: OwedCompletion;
}

/** A step's completion record, not written yet (see Run.owed). */
interface OwedCompletion {
  readonly step: StepDocument;
  readonly startedAt: string | undefined;
  readonly status: StepStatus;
  readonly extra: StepExtra;
  /** For an agent step: how its last attempt ended (its metrics are written with the completion). */
  readonly agentAttempt?: AgentAttemptEnd;
}

/** Why an attempt of an agent step failed, and when its task was dispatched (if it was). */
interface AttemptFailure {
  readonly timedOut: boolean;
  readonly message: string;
  readonly dispatchedAt?: string;
}

function attemptEndOf(failure: AttemptFailure): AgentAttemptEnd {
  return { outcome: failure.timedOut ? 'timed_out' : 'failed', ...(failure.dispatchedAt ? { dispatchedAt: failure.dispatchedAt } : {}) };
}

/** Creates the durable handler (wrap it with `withDurableExecution` in Lambda). */
export function createController(options: ControllerOptions): (event: ControllerEvent, ctx: DurableContext) => Promise<ControllerResult> {
  return async (event, ctx) => new Interpreter(options).execute(event, ctx);
}

class Interpreter {
  private readonly def: WorkflowDefinitionDocument;
  private readonly ports: RuntimePorts;
  /** Every record, event, metric and log line: called only inside durable steps and submitters. */
  private readonly books: WorkflowBookkeeping;

  constructor(private readonly options: ControllerOptions) {
    this.def = options.definition;
    this.ports = options.ports;
    this.books = new WorkflowBookkeeping({
      store: options.ports.store,
      events: options.ports.events,
      telemetry: options.telemetry,
      definitionName: options.definition.name,
      stateRetentionDays: options.stateRetentionDays,
    });
  }

  public async execute(event: ControllerEvent, ctx: DurableContext): Promise<ControllerResult> {
    const run: Run = { workflowId: event.workflow_id, input: event.input ?? {}, outputs: {}, tasks: new Map(), abandoned: () => false };

    let status: WorkflowStatus = 'SUCCEEDED';
    let error: ErrorInfo | undefined;
    try {
      const begun = await ctx.step(OPERATION.workflowStart, async () => this.books.workflowStarted(run), BOOKKEEPING);
      if (begun.ended) {
        // Already ended (e.g. the API marked it FAILED when its start seemed to fail): run nothing.
        const ended = begun.ended;
        return { workflow_id: run.workflowId, status: ended.status, ...(ended.error ? { error: ended.error } : {}) };
      }
      if (begun.cancelled) {
        throw new WorkflowHalt('CANCELLED', 'CANCEL_REQUESTED', 'the workflow was cancelled before it started');
      }
      await this.runSteps(ctx, this.def.steps, run);
    } catch (e) {
      const halt = haltOf(e);
      if (halt) {
        status = halt.status;
        error = { code: halt.code, message: halt.message };
      } else {
        status = 'FAILED';
        error = { code: 'WORKFLOW_ERROR', message: errorMessage(e) };
      }
    }
    const result = status === 'SUCCEEDED' ? run.result ?? {} : undefined;
    // `workflow/finish` clears `awaiting` itself, after writing what the run still owes. A
    // cancellation with a reason of its own (a budget, the kill switch) ends with that reason.
    const ending = { status, error };
    const end = await this.runStep(ctx, run, OPERATION.workflowFinish, async () => {
      const ended = await this.books.workflowEnded(run, ending.status, result, ending.error);
      await this.stopTasks(run, ended);
      return ended;
    }, BOOKKEEPING, true);
    // A result recorded by an earlier version holds nothing: it ended as decided here.
    if (end?.status) {
      status = end.status;
      error = end.error;
    }
    return { workflow_id: run.workflowId, status, ...(result ? { result } : {}), ...(error ? { error } : {}) };
  }

  private async runSteps(ctx: DurableContext, steps: readonly StepDocument[], run: Run): Promise<void> {
    // Each step type records its own start: in the step that registers its wait (agent,
    // approval), in its only step (choice, publish), or in a start step (parallel).
    for (const step of steps) {
      if (run.abandoned()) throw new BranchAbandonedError(step.name);
      switch (step.type) {
        case 'agent':
          await this.agentStep(ctx, step, run);
          break;
        case 'approval':
          await this.approvalStep(ctx, step, run);
          break;
        case 'parallel':
          await this.parallelStep(ctx, step, run);
          break;
        case 'choice':
          await this.choiceStep(ctx, step, run);
          break;
        case 'publish':
          await this.publishStep(ctx, step, run);
          break;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Step types
  // ---------------------------------------------------------------------------------------

  private async agentStep(ctx: DurableContext, step: AgentStepDocument, run: Run): Promise<void> {
    let input: Record<string, unknown> = {};
    try {
      input = this.resolveInputs(step, run);
    } catch (e) {
      await this.failUnresolved(ctx, step, run, e);
    }
    const maxAttempts = Math.max(1, step.retry.maxAttempts);
    let failure: AttemptFailure | undefined;
    // When the step started: set by the step that dispatched attempt 1 (or, if that failed, by the
    // one that recorded the failure), so it is the same on every replay.
    let startedAt: string | undefined;

    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let report: AgentReport | undefined;
      // When this attempt's task was handed over: from the dispatch step's result, so replays agree.
      let dispatchedAt: string | undefined;
      const name = OPERATION.agentReport(step.name, attempt);
      try {
        const [reported, durableCallbackId] = await ctx.createCallback(name, {
          timeout: { seconds: this.waitSeconds(step.timeoutSeconds) },
          ...(step.heartbeatTimeoutSeconds ? { heartbeatTimeout: { seconds: step.heartbeatTimeoutSeconds } } : {}),
        });
        const since = startedAt;
        const dispatched = await this.runStep(ctx, run, OPERATION.agentDispatch(step.name, attempt),
          async () => this.dispatchAgent(run, step, attempt, input, durableCallbackId, since), { retryStrategy: SUBMITTER_RETRY }, true);
        startedAt = dispatched.startedAt;
        dispatchedAt = dispatched.dispatchedAt;
        if (dispatched.handle !== undefined) run.tasks.set(name, { agent: step.agent, handle: dispatched.handle });
        report = parseReport(await reported);
        run.tasks.delete(name);
      } catch (e) {
        // A task that reported its failure is done; one cancelled, stopped or silent may still run.
        if (!isTimeout(e) && !haltOf(e)) run.tasks.delete(name);
        if (run.abandoned()) throw new BranchAbandonedError(step.name);
        const trusted = await this.cancellationConfirmed(ctx, name, run, e);
        if (trusted) throw e;
        await this.haltIfOutOfTime(ctx, name, run, e);
        failure = { timedOut: isTimeout(e), message: describeAgentFailure(e), ...(dispatchedAt ? { dispatchedAt } : {}) };
      }
      if (report) {
        const output = { artifacts: report.artifacts, output: report.output };
        run.outputs[step.name] = output;
        run.owed = {
          step,
          startedAt,
          status: 'SUCCEEDED',
          extra: { attempts: attempt, output },
          agentAttempt: { outcome: 'succeeded', ...(dispatchedAt ? { dispatchedAt } : {}) },
        };
        return;
      }
      if (attempt < maxAttempts) {
        startedAt = await this.backoff(ctx, step, run, attempt, maxAttempts, failure!, startedAt);
      }
    }
    const status: StepStatus = failure!.timedOut ? 'TIMED_OUT' : 'FAILED';
    const code = failure!.timedOut ? 'AGENT_TIMED_OUT' : 'AGENT_FAILED';
    const message = `step '${step.name}' (agent '${step.agent}') ${failure!.timedOut ? 'timed out' : 'failed'} after ${maxAttempts} attempt(s): ${failure!.message}`;
    const since = startedAt;
    const lastAttempt = attemptEndOf(failure!);
    await this.runStep(ctx, run, OPERATION.complete(step.name), async () => {
      const takenAt = Date.now();
      await this.books.stepEnded(run, step, since, status, { attempts: maxAttempts, error: { code, message } });
      // Counted once the step's writes succeeded (a retried step does not count it again), timed to when it was taken.
      this.books.agentAttemptEnded(lastAttempt, takenAt);
    }, BOOKKEEPING);
    throw new WorkflowHalt(failure!.timedOut ? 'TIMED_OUT' : 'FAILED', code, message);
  }

  /**
   * The pause between two attempts (returns when the step started, for the attempts to come).
   *
   * Why a callback and not `ctx.wait`: a cancel request must end the pause at once (the cancel
   * route fails every pending callback of the workflow), and nothing outside the execution can
   * end a wait early (the durable API completes callbacks only; StopDurableExecution would skip
   * `workflow/finish`). With `ctx.wait`, a cancel during a backoff of up to `maxDelay` (5 minutes
   * by default, a day at most) would only be seen when the next attempt is dispatched. The
   * callback costs what a wait costs, one operation (`<step>/backoff-<n>`, timing out after the
   * delay), because it is created with `ctx.createCallback` and registered by the step that
   * records the failed attempt, which the step needs with either (`<step>/attempt-<n>/failed`).
   */
  private async backoff(ctx: DurableContext, step: AgentStepDocument, run: Run, attempt: number, maxAttempts: number,
    failure: AttemptFailure, startedAt: string | undefined): Promise<string> {
    const delay = backoffSeconds(step, attempt);
    const name = OPERATION.backoff(step.name, attempt);
    const [elapsed, durableCallbackId] = delay > 0
      ? await ctx.createCallback(name, { timeout: { seconds: delay } })
      : [undefined, undefined];
    const since = await this.runStep(ctx, run, OPERATION.attemptFailed(step.name, attempt), async () => {
      const takenAt = Date.now();
      const started = startedAt ?? await this.books.recordedStart(run, step);
      await this.books.attemptFailed(run, step, attempt, started, {
        code: failure.timedOut ? 'AGENT_TIMED_OUT' : 'AGENT_FAILED',
        message: `attempt ${attempt} of ${maxAttempts}: ${failure.message}; retrying in ${delay}s`,
      }, delay);
      if (durableCallbackId !== undefined) await this.registerTimer(run, step, attempt, delay, durableCallbackId);
      // Counted once the step's writes succeeded (a retried step does not count it again), timed to when it was taken.
      this.books.agentAttemptEnded(attemptEndOf(failure), takenAt);
      return started;
    }, { retryStrategy: SUBMITTER_RETRY });
    if (!elapsed) return since;
    try {
      await elapsed;
    } catch (e) {
      if (isTimeout(e)) return since; // the pause is over
      if (run.abandoned()) throw new BranchAbandonedError(step.name);
      if (await this.cancellationConfirmed(ctx, name, run, e)) throw e;
      // A timer failed for another reason only ends the pause early.
      this.books.backoffEndedEarly(run, step, attempt, errorMessage(e));
    }
    return since;
  }

  /**
   * `ctx.step` for a step of `run`: writes the completion the run owes (Run.owed) first, then
   * runs `fn`. `setsAwaiting`: the step sets the workflow's `awaiting` itself, so the completion
   * leaves it for that step to replace rather than clearing it first.
   */
  private async runStep<T>(ctx: DurableContext, run: Run, name: string, fn: () => Promise<T>,
    config: StepConfig<T>, setsAwaiting = false): Promise<T> {
    const owed = run.owed;
    const value = await ctx.step(name, async () => {
      const takenAt = Date.now();
      if (owed) await this.books.stepEnded(run, owed.step, owed.startedAt, owed.status, owed.extra, !setsAwaiting);
      const result = await fn();
      // The owed attempt is counted once the whole step succeeded (a retried step does not count it
      // again), timed to when the step took it, before the step's own writes.
      if (owed?.agentAttempt) this.books.agentAttemptEnded(owed.agentAttempt, takenAt);
      return result;
    }, config);
    if (run.owed === owed) run.owed = undefined;
    return value;
  }

  /**
   * Whether a callback error that says the workflow was cancelled is true: the workflow record
   * must say a cancellation was requested (checked in a durable step, so replays agree). A
   * cancellation carried by anything else (a failure sent straight to the durable API with the
   * runtime's error data) is an ordinary failure.
   */
  private async cancellationConfirmed(ctx: DurableContext, operation: string, run: Run, e: unknown): Promise<boolean> {
    if (haltOf(e)?.status !== 'CANCELLED') return false;
    return ctx.step(OPERATION.cancelCheck(operation), async () => {
      const confirmed = await this.books.cancelRequested(run);
      if (!confirmed) this.books.cancellationUnconfirmed(run, operation);
      return confirmed;
    }, BOOKKEEPING);
  }

  /**
   * A wait that timed out may have run into the workflow's wall-clock budget (every wait is
   * bounded by it, see waitSeconds): then the run stops over budget, as a dispatch after it would,
   * rather than failing the step for its timeout. Checked in a durable step (so replays agree),
   * and only for a timeout in a workflow with a wall-clock budget: no operation otherwise.
   */
  private async haltIfOutOfTime(ctx: DurableContext, operation: string, run: Run, e: unknown): Promise<void> {
    if (!isTimeout(e) || this.def.budget?.maxDurationSeconds === undefined) return;
    const stopped = await ctx.step(OPERATION.budgetCheck(operation), async () => {
      await this.stopIfOverBudget(run);
      return this.books.cancelRequested(run);
    }, BOOKKEEPING);
    if (stopped) throw new WorkflowHalt('CANCELLED', 'CANCEL_REQUESTED', `the workflow was stopped while '${operation}' waited`);
  }

  private async approvalStep(ctx: DurableContext, step: ApprovalStepDocument, run: Run): Promise<void> {
    let decision: ApprovalDecision & { timed_out: boolean };
    const name = OPERATION.decision(step.name);
    // When the step started: set by the step that asked for the decision.
    let startedAt: string | undefined;
    try {
      const [decided, durableCallbackId] = await ctx.createCallback(name, { timeout: { seconds: this.waitSeconds(step.timeoutSeconds) } });
      const requested = await this.runStep(ctx, run, OPERATION.decisionRequest(step.name),
        async () => this.requestApproval(run, step, durableCallbackId), { retryStrategy: SUBMITTER_RETRY }, true);
      startedAt = requested.startedAt;
      decision = { ...parseDecision(await decided), timed_out: false };
    } catch (e) {
      if (run.abandoned()) throw new BranchAbandonedError(step.name);
      if (await this.cancellationConfirmed(ctx, name, run, e)) throw e;
      await this.haltIfOutOfTime(ctx, name, run, e);
      if (!isTimeout(e)) {
        // Only the cancel route fails an approval; anything else is a failure of the step.
        const message = `step '${step.name}': the approval could not be completed: ${describeAgentFailure(e)}`;
        const since = startedAt;
        await this.runStep(ctx, run, OPERATION.complete(step.name), async () => {
          await this.books.stepEnded(run, step, since, 'FAILED', { error: { code: 'APPROVAL_FAILED', message } });
        }, BOOKKEEPING);
        throw new WorkflowHalt('FAILED', 'APPROVAL_FAILED', message);
      }
      if (step.onTimeout === 'FAIL') {
        const message = `step '${step.name}': nobody approved or rejected within ${step.timeoutSeconds}s`;
        const since = startedAt;
        await this.runStep(ctx, run, OPERATION.complete(step.name), async () => {
          await this.books.stepEnded(run, step, since, 'TIMED_OUT', { error: { code: 'APPROVAL_TIMED_OUT', message }, output: { outcome: 'timed_out', approved: false, timed_out: true } });
        }, BOOKKEEPING);
        throw new WorkflowHalt('TIMED_OUT', 'APPROVAL_TIMED_OUT', message);
      }
      decision = { approved: step.onTimeout === 'APPROVE', comment: `no decision within ${step.timeoutSeconds}s; ${step.onTimeout === 'APPROVE' ? 'approved' : 'rejected'} by the step's timeout rule`, timed_out: true };
    }
    const output = {
      outcome: decision.approved ? 'approved' : 'rejected',
      approved: decision.approved,
      timed_out: decision.timed_out,
      ...(decision.comment !== undefined ? { comment: decision.comment } : {}),
      ...(decision.by !== undefined ? { by: decision.by } : {}),
    };
    const status: StepStatus = decision.approved ? 'SUCCEEDED' : 'REJECTED';
    if (!decision.approved && step.onReject === 'END') {
      const since = startedAt;
      await this.runStep(ctx, run, OPERATION.complete(step.name), async () => {
        await this.books.stepEnded(run, step, since, status, { output });
      }, BOOKKEEPING);
      throw new WorkflowHalt('REJECTED', decision.timed_out ? 'APPROVAL_TIMED_OUT' : 'APPROVAL_REJECTED',
        `step '${step.name}' was ${decision.timed_out ? 'not answered in time (rejected by its timeout rule)' : 'rejected'}${decision.comment && !decision.timed_out ? `: ${decision.comment}` : ''}`);
    }
    run.outputs[step.name] = output;
    run.owed = { step, startedAt, status, extra: { output } };
  }

  private async parallelStep(ctx: DurableContext, step: ParallelStepDocument, run: Run): Promise<void> {
    // The branches wait, not the parallel step itself: it keeps a start step of its own.
    const begun = await this.runStep(ctx, run, OPERATION.start(step.name), async () => this.books.stepStarted(run, step), BOOKKEEPING);
    if (begun.cancelled) throw cancelledBefore(step);
    const startedAt = begun.startedAt;
    const total = step.branches.length;
    let returned = false;
    const abandoned = () => returned || run.abandoned();
    // A completed parallel operation is not re-entered on replay, so each branch returns what it
    // learnt (its steps' outputs, a published result) and the parent merges it afterwards.
    const batch = await ctx.parallel(
      step.name,
      step.branches.map((branch) => ({
        name: `${step.name}.${branch.name}`,
        func: async (child: DurableContext): Promise<BranchOutcome> => {
          const branchRun: Run = { workflowId: run.workflowId, input: run.input, outputs: { ...run.outputs }, tasks: run.tasks, abandoned };
          await this.runSteps(child, branch.steps, branchRun);
          // Nothing comes after the branch's last step in the branch: write its completion here.
          const last = branchRun.owed;
          if (last) await this.runStep(child, branchRun, OPERATION.complete(last.step.name), async () => undefined, BOOKKEEPING);
          const outputs: Record<string, unknown> = {};
          for (const [name, value] of Object.entries(branchRun.outputs)) {
            if (!(name in run.outputs)) outputs[name] = value;
          }
          return { outputs, ...(branchRun.result ? { result: branchRun.result } : {}) };
        },
      })),
      {
        maxConcurrency: step.maxConcurrency,
        completionConfig: { minSuccessful: step.minSuccessful, toleratedFailureCount: total - step.minSuccessful },
      },
    );
    // Branches still running from here on are abandoned (see Run.abandoned).
    returned = true;
    for (const item of batch.succeeded()) {
      Object.assign(run.outputs, item.result.outputs);
      if (item.result.result) run.result = item.result.result;
    }
    const succeeded = batch.succeeded().map((item) => step.branches[item.index].name);
    const failed = batch.failed().map((item) => ({ branch: step.branches[item.index].name, error: item.error }));
    const cancelled = failed.find((f) => haltOf(f.error)?.status === 'CANCELLED');
    if (cancelled) throw new WorkflowHalt('CANCELLED', 'CANCEL_REQUESTED', `the workflow was cancelled during step '${step.name}'`);

    // The parallel step may have finished before every branch did (minSuccessful reached, or too
    // many failures): stop waiting for what is left. Which branches are left is decided inside
    // the step, from the store, over every step the branches contain; `batch.started()` is not
    // stable across replays.
    await ctx.step(OPERATION.abandon(step.name), async () => this.abandonBranches(run, step), BOOKKEEPING);

    const output = { succeeded, failed: failed.map((f) => f.branch) };
    if (succeeded.length < step.minSuccessful) {
      const reasons = failed.map((f) => `${f.branch}: ${haltOf(f.error)?.message ?? errorMessage(f.error)}`).join('; ');
      const message = `step '${step.name}': ${succeeded.length} of ${total} branches succeeded, ${step.minSuccessful} required (${reasons})`;
      await this.runStep(ctx, run, OPERATION.complete(step.name), async () => {
        await this.books.stepEnded(run, step, startedAt, 'FAILED', { output, error: { code: 'PARALLEL_FAILED', message } });
      }, BOOKKEEPING);
      const timedOut = failed.length > 0 && failed.every((f) => haltOf(f.error)?.status === 'TIMED_OUT');
      throw new WorkflowHalt(timedOut ? 'TIMED_OUT' : 'FAILED', 'PARALLEL_FAILED', message);
    }
    run.outputs[step.name] = output;
    run.owed = { step, startedAt, status: 'SUCCEEDED', extra: { output } };
  }

  private async choiceStep(ctx: DurableContext, step: ChoiceStepDocument, run: Run): Promise<void> {
    let value: unknown;
    try {
      value = resolveRef(step.value, run.input, run.outputs, step.name);
    } catch (e) {
      await this.failUnresolved(ctx, step, run, e);
    }
    const chosen = step.cases.find((c) => c.equals === value);
    const output = { value: value as string | number | boolean, matched: chosen ? String(chosen.equals) : 'otherwise' };
    const done = await this.runStep(ctx, run, OPERATION.choose(step.name), async () => this.atOnce(run, step, async () => ({ status: 'SUCCEEDED', output })), BOOKKEEPING);
    if (done.cancelled) throw cancelledBefore(step);
    run.outputs[step.name] = output;
    await this.runSteps(ctx, chosen ? chosen.steps : step.otherwise, run);
  }

  /** Publishing is one step: the copy, and the step's start and end records around it. */
  private async publishStep(ctx: DurableContext, step: PublishStepDocument, run: Run): Promise<void> {
    let key: unknown;
    try {
      key = resolveRef(step.artifact, run.input, run.outputs, step.name);
    } catch (e) {
      await this.failUnresolved(ctx, step, run, e);
    }
    if (typeof key !== 'string' || key.length === 0) {
      return this.failUnresolved(ctx, step, run, new UnresolvedValueError(`step '${step.name}': the artifact to publish must be an artifact key (a string), got ${JSON.stringify(key)}`));
    }
    const artifactKey = key;
    let done: AtOnce;
    try {
      done = await this.runStep(ctx, run, OPERATION.publish(step.name), async () => this.atOnce(run, step, async () => {
        const destination = `${publishedPrefix(run.workflowId)}${artifactKey.split('/').pop()}`;
        try {
          if (!(await this.ports.artifacts.exists(artifactKey))) {
            const message = `step '${step.name}': artifact '${artifactKey}' does not exist in the artifact store`;
            return { status: 'FAILED', error: { code: 'PUBLISH_FAILED', message } };
          }
          await this.ports.artifacts.copy(artifactKey, destination);
        } catch (e) {
          // Refused for what it is (a link): retrying cannot change that.
          if (e instanceof ArtifactRefusedError) return { status: 'FAILED', error: { code: 'PUBLISH_FAILED', message: `step '${step.name}': ${e.message}` } };
          throw e;
        }
        const { bucket, localDir } = this.ports.artifacts.location;
        const location = bucket ? `s3://${bucket}/${destination}` : `${(localDir ?? '').replace(/\/$/, '')}/${destination}`;
        return { status: 'SUCCEEDED', output: { report: destination, location } };
      }), BOOKKEEPING);
    } catch (e) {
      // The copy kept failing (the step's retries are spent): record the failure on its own.
      const message = describeAgentFailure(e);
      await this.runStep(ctx, run, OPERATION.complete(step.name), async () => {
        await this.books.stepEnded(run, step, undefined, 'FAILED', { error: { code: 'PUBLISH_FAILED', message } });
      }, BOOKKEEPING);
      throw new WorkflowHalt('FAILED', 'PUBLISH_FAILED', message);
    }
    if (done.cancelled) throw cancelledBefore(step);
    if (done.error) throw new WorkflowHalt('FAILED', done.error.code, done.error.message);
    const published = done.output ?? {};
    run.outputs[step.name] = published;
    run.result = published;
  }

  /** Records a step whose input cannot be resolved as started and FAILED, and ends the workflow. */
  private async failUnresolved(ctx: DurableContext, step: StepDocument, run: Run, e: unknown): Promise<never> {
    const message = errorMessage(e);
    const done = await this.runStep(ctx, run, OPERATION.complete(step.name),
      async () => this.atOnce(run, step, async () => ({ status: 'FAILED', error: { code: 'INPUT_UNRESOLVED', message } })), BOOKKEEPING);
    if (done.cancelled) throw cancelledBefore(step);
    throw new WorkflowHalt('FAILED', 'INPUT_UNRESOLVED', message);
  }

  private resolveInputs(step: AgentStepDocument, run: Run): Record<string, unknown> {
    const input: Record<string, unknown> = {};
    for (const [k, ref] of Object.entries(step.input)) {
      try {
        input[k] = resolveRef(ref, run.input, run.outputs, step.name);
      } catch (e) {
        throw new UnresolvedValueError(`${errorMessage(e)} (input '${k}')`);
      }
    }
    return input;
  }

  // ---------------------------------------------------------------------------------------
  // Side effects: only ever called inside durable steps or callback submitters. What they
  // record, announce and log is the bookkeeping's (bookkeeping.ts).
  // ---------------------------------------------------------------------------------------

  /**
   * A step that does not wait, from start to end inside one durable step: what a start step and a
   * complete step did in two. Checks for a cancel request, announces the start, runs `work`, and
   * records the step with how it ended. Nothing waits in between, so `awaiting` is left as the
   * previous step's completion left it (clear).
   */
  private async atOnce(run: Run, step: StepDocument, work: () => Promise<StepEnd>): Promise<AtOnce> {
    const startedAt = new Date().toISOString();
    if (await this.books.cancelRequested(run)) return { cancelled: true };
    await this.books.stepAnnounced(run, step);
    const end = await work();
    await this.books.stepEnded(run, step, startedAt, end.status, {
      ...(end.output ? { output: end.output } : {}), ...(end.error ? { error: end.error } : {}),
    }, false);
    return { cancelled: false, ...end };
  }

  /**
   * Registers the agent's callback and dispatches the task. On the first attempt this is where
   * the step starts: `startedAt` is then undefined and the start time is made (and returned) here.
   */
  private async dispatchAgent(run: Run, step: AgentStepDocument, attempt: number, input: Record<string, unknown>,
    durableCallbackId: string, startedAt: string | undefined): Promise<{ startedAt: string; dispatchedAt?: string; handle?: string }> {
    const { dispatcher, artifacts } = this.ports;
    const started = startedAt ?? new Date().toISOString();
    // The timer of the pause before this attempt has run out: close its record.
    if (attempt > 1) await this.books.closeTimers(run, step);
    const token = newCallbackToken();
    const { callbackId, deadline } = await this.books.registerCallback(run, {
      kind: 'agent',
      stepName: step.name,
      attempt,
      durableCallbackId,
      timeoutSeconds: this.waitSeconds(step.timeoutSeconds),
      token,
      artifactPrefix: attemptArtifactPrefix(step.agent, run.workflowId, step.name, attempt),
    });
    let dispatchedAt: string | undefined;
    let taskHandle: string | undefined;
    await this.closeOnFailure(callbackId, async () => {
      // A run out of agent attempts or time is stopped as the API stops one over its token budget.
      await this.stopIfOverBudget(run, { step: step.name, previousAttempts: attempt - 1 });
      // Checked after registering, so a cancel request either sees this callback or is seen here.
      if (await this.books.cancelRequested(run)) {
        await this.books.closeCallback(callbackId, 'CANCELLED');
        throw new WorkflowHalt('CANCELLED', 'CANCEL_REQUESTED', `the workflow was cancelled before step '${step.name}' was dispatched`);
      }
      await this.books.stepWaiting(run, step, 'agent', { attempts: attempt, startedAt: started });
      await this.stopIfAbandoned(run, step, callbackId);
      if (attempt === 1) await this.books.stepAnnounced(run, step);
      const base = this.options.callbackBaseUrl.replace(/\/$/, '');
      const envelope: TaskEnvelope = {
        envelope_version: 1,
        workflow_id: run.workflowId,
        step_name: step.name,
        attempt,
        agent: step.agent,
        input,
        artifacts: {
          ...(artifacts.location.bucket ? { bucket: artifacts.location.bucket } : {}),
          prefix: attemptArtifactPrefix(step.agent, run.workflowId, step.name, attempt),
          ...(artifacts.location.localDir ? { local_dir: artifacts.location.localDir } : {}),
        },
        callback: { id: callbackId, url: `${base}/callbacks/${callbackId}`, heartbeat_url: `${base}/callbacks/${callbackId}/heartbeat`, token },
        deadline,
        ...(step.heartbeatTimeoutSeconds ? { heartbeat_interval_seconds: Math.max(1, Math.floor(step.heartbeatTimeoutSeconds / 3)) } : {}),
      };
      const { handle } = await dispatcher.dispatch(step.agent, envelope);
      taskHandle = handle;
      dispatchedAt = new Date().toISOString();
      this.books.taskDispatched(run, step, attempt, handle, callbackId);
    });
    return { startedAt: started, ...(dispatchedAt ? { dispatchedAt } : {}), ...(taskHandle !== undefined ? { handle: taskHandle } : {}) };
  }

  /**
   * Stops the agent tasks still running when the workflow ended other than SUCCEEDED (inside
   * `workflow/finish`). Best effort: a task that cannot be stopped is logged and left to its own
   * deadline; the workflow has ended either way.
   */
  private async stopTasks(run: Run, end: { readonly status: WorkflowStatus; readonly error?: ErrorInfo }): Promise<void> {
    const { dispatcher } = this.ports;
    if (end.status === 'SUCCEEDED' || !dispatcher.stop) return;
    const reason = `workflow ${run.workflowId} ended ${end.status}${end.error ? ` (${end.error.code})` : ''}`;
    for (const [operation, task] of run.tasks) {
      try {
        await dispatcher.stop(task.agent, task.handle, reason);
        this.books.taskStopped(run, operation, task.handle, reason);
      } catch (e) {
        this.books.taskNotStopped(run, operation, task.handle, errorMessage(e));
      }
    }
  }

  /**
   * How long one wait may last: a step's timeout, but never longer than the workflow's whole
   * wall-clock budget (the dispatch or request after it then stops the run over budget).
   */
  private waitSeconds(stepTimeoutSeconds: number): number {
    const max = this.def.budget?.maxDurationSeconds;
    return max === undefined ? stepTimeoutSeconds : Math.min(stepTimeoutSeconds, max);
  }

  /**
   * Stops the run (stop.ts, as the API stops one over its token budget) when the workflow's
   * wall-clock budget has run out, or when dispatching one more agent attempt would go over its
   * attempt budget (`dispatching`: the agent step about to dispatch, and its earlier attempts). The
   * caller's cancel check then sees the stop request. Attempts are counted from the step records,
   * so parallel branches dispatching at the same moment may each see the last attempt free.
   */
  private async stopIfOverBudget(run: Run, dispatching?: { readonly step: string; readonly previousAttempts: number }): Promise<void> {
    const budget = this.def.budget;
    if (!budget || (budget.maxDurationSeconds === undefined && budget.maxAgentAttempts === undefined)) return;
    const wf = await this.ports.store.getWorkflow(run.workflowId);
    if (!wf || wf.cancelRequested) return;
    let breach: BudgetBreach | undefined = durationBreach(this.def, wf.createdAt, Date.now());
    if (!breach && dispatching && budget.maxAgentAttempts !== undefined) {
      // Every other agent step's record counts the attempts it dispatched (a waiting one's included).
      const agentSteps = new Set(allSteps(this.def.steps).filter((s) => s.type === 'agent').map((s) => s.name));
      const others = wf.steps.filter((s) => agentSteps.has(s.name) && s.name !== dispatching.step).reduce((sum, s) => sum + (s.attempts ?? 0), 0);
      const used = others + dispatching.previousAttempts + 1;
      if (used > budget.maxAgentAttempts) breach = { budget: 'maxAgentAttempts', scope: 'workflow', limit: budget.maxAgentAttempts, used };
    }
    if (breach) await requestStop(this.ports, run.workflowId, budgetStopReason(breach));
  }

  /** Registers the approval's callback and asks for the decision: where the approval step starts. */
  private async requestApproval(run: Run, step: ApprovalStepDocument, durableCallbackId: string): Promise<{ startedAt: string }> {
    const { callbackId, createdAt: startedAt, deadline } = await this.books.registerCallback(run, {
      kind: 'approval',
      stepName: step.name,
      durableCallbackId,
      timeoutSeconds: this.waitSeconds(step.timeoutSeconds),
    });
    await this.closeOnFailure(callbackId, async () => {
      await this.stopIfOverBudget(run);
      if (await this.books.cancelRequested(run)) {
        await this.books.closeCallback(callbackId, 'CANCELLED');
        throw new WorkflowHalt('CANCELLED', 'CANCEL_REQUESTED', `the workflow was cancelled before approval '${step.name}' was requested`);
      }
      await this.books.stepWaiting(run, step, 'approval', { startedAt, output: { prompt: step.prompt, deadline } });
      await this.stopIfAbandoned(run, step, callbackId);
      await this.books.stepAnnounced(run, step);
      // What the person is asked to approve, and (with approval links) how: inside this step.
      const summary = await approvalSummary(this.ports.artifacts, run.outputs);
      const links = this.options.approvalLinks ? await this.options.approvalLinks.issue(run.workflowId, callbackId, deadline) : undefined;
      await this.books.approvalRequested(run, step, step.prompt, deadline, {
        // Always present, so that a notification's template finds its fields (null: no artifact yet).
        summary: summary ?? { artifact: null, artifact_key: null, step_name: null, excerpt: null, truncated: false },
        ...(links ? { links: { approve: links.approve, reject: links.reject, expires_at: links.expiresAt } } : {}),
      });
    });
    return { startedAt };
  }

  /** Registers the backoff timer of an agent step, so that a cancel request can end the pause. */
  private async registerTimer(run: Run, step: AgentStepDocument, attempt: number, delaySeconds: number, durableCallbackId: string): Promise<void> {
    const { callbackId } = await this.books.registerCallback(run, {
      kind: 'timer',
      stepName: step.name,
      attempt,
      durableCallbackId,
      timeoutSeconds: delaySeconds,
    });
    await this.closeOnFailure(callbackId, async () => {
      if (await this.books.cancelRequested(run)) {
        await this.books.closeCallback(callbackId, 'CANCELLED');
        throw new WorkflowHalt('CANCELLED', 'CANCEL_REQUESTED', `the workflow was cancelled before attempt ${attempt + 1} of step '${step.name}'`);
      }
      if (run.abandoned()) {
        await this.books.closeCallback(callbackId, 'CANCELLED');
        throw new BranchAbandonedError(step.name);
      }
    });
  }

  /**
   * Runs the rest of a callback submitter; if it fails, the callback it registered is closed
   * (best effort) before the error goes on, so that a retried submitter leaves no stale record.
   */
  private async closeOnFailure(callbackId: string, rest: () => Promise<void>): Promise<void> {
    try {
      await rest();
    } catch (e) {
      await this.books.closeCallback(callbackId, 'FAILED').catch(() => false);
      throw e;
    }
  }

  /**
   * In a branch its parallel step no longer waits for: closes the callback just registered and
   * the step record just written, and stops. Checked after both are written, so the parallel
   * step's abandon either sees them or is seen here.
   */
  private async stopIfAbandoned(run: Run, step: StepDocument, callbackId: string): Promise<void> {
    if (!run.abandoned()) return;
    await this.books.closeCallback(callbackId, 'CANCELLED');
    await this.books.stepAbandoned(run, step);
    throw new BranchAbandonedError(step.name);
  }

  /**
   * After a parallel step returned: fails the pending callbacks of every step inside its
   * branches (agents, approvals, timers) and closes those steps' running records as CANCELLED.
   */
  private async abandonBranches(run: Run, step: ParallelStepDocument): Promise<void> {
    const inside = new Set(allSteps(step.branches.flatMap((b) => b.steps)).map((s) => s.name));
    const failure: ErrorInfo = {
      code: BRANCH_ABANDONED_CODE,
      message: `parallel step '${step.name}' finished without waiting for this branch`,
    };
    for (const cb of await this.books.pendingCallbacks(run, inside)) {
      try {
        await this.ports.durable.callbackFailure(cb, failure);
      } catch (e) {
        if (!(e instanceof CallbackNotPendingError)) throw e;
      }
      await this.books.closeCallback(cb.callbackId, 'CANCELLED');
    }
    await this.books.branchStepsAbandoned(run, step.name, inside);
  }
}

function backoffSeconds(step: AgentStepDocument, attempt: number): number {
  const r = step.retry;
  return Math.min(r.maxDelaySeconds, Math.round(r.initialDelaySeconds * Math.pow(r.backoffRate, attempt - 1)));
}

function isTimeout(e: unknown): boolean {
  return causeChain(e).some((x) => {
    const { errorType, name } = x as { errorType?: unknown; name?: unknown };
    return errorType === 'CallbackTimeoutError' || name === 'CallbackTimeoutError';
  });
}

/**
 * What went wrong with a callback or a step, in words fit for a step's error. This text may be an
 * agent's: it is only ever a message, and never decides how the workflow ends (outcome.ts).
 */
function describeAgentFailure(e: unknown): string {
  if (isTimeout(e)) return 'no report before the deadline (or a missed heartbeat)';
  // The agent's reported error arrives as the callback failure's message (and the cause's).
  const messages = causeChain(e).map((x) => (x as { message?: unknown }).message).filter((m): m is string => typeof m === 'string' && m !== '');
  return messages.pop() ?? 'unknown error';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function parseReport(raw: string): AgentReport {
  const parsed = JSON.parse(raw) as Partial<AgentReport>;
  return { artifacts: parsed.artifacts ?? {}, output: parsed.output ?? {} };
}

function parseDecision(raw: string): ApprovalDecision {
  const parsed = JSON.parse(raw) as Partial<ApprovalDecision>;
  return {
    approved: parsed.approved === true,
    ...(parsed.comment !== undefined ? { comment: parsed.comment } : {}),
    ...(parsed.by !== undefined ? { by: parsed.by } : {}),
  };
}

