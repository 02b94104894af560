/**
 * The local server's durable engine: the controller runs in this process under the SDK's own
 * `withDurableExecution`, invoked the way the Lambda durable service invokes it, with a
 * `DurableExecutionClient` (checkpoint, getExecutionState) backed by memory and a journal on
 * disk (journal.ts). It survives a restart: a new engine on the same folder loads the executions
 * that had not ended and invokes them again (`resume`).
 *
 * The service's rules it keeps, per execution: one invocation at a time; an invocation that
 * returns PENDING is invoked again when something changes (a wait's timer fires, a step's retry
 * is due, a callback completes, times out or misses its heartbeat), at once when something changed
 * while it ran; SUCCEEDED or FAILED end the execution. Timers are absolute times, so one that fell
 * due while no server ran fires at once. A callback is completed at most once.
 */
import type {
  CheckpointDurableExecutionRequest,
  CheckpointDurableExecutionResponse,
  DurableExecutionClient,
  DurableExecutionHandler,
  DurableExecutionInvocationInput,
  DurableExecutionInvocationOutput,
  ErrorObject,
  GetDurableExecutionStateResponse,
  OperationUpdate,
} from '@aws/durable-execution-sdk-js';
import { DurableExecutionClientError, DurableExecutionClientErrorScope, withDurableExecution } from '@aws/durable-execution-sdk-js';
import { ExecutionJournal, END_RECORD } from './execution-journal';
import type { LocalExecutionHistory, LocalExecutionOutcome } from './local-durable-control';
import { LIMITS } from '../../contract/definition';
import { callbackOperations } from '../operation-names';
import { CallbackFailure, CallbackNotPendingError, CallbackRecord, DurableControl } from '../ports';

/** An operation as the SDK reads it (timestamps as ISO strings). */
interface WireOp {
  Id: string;
  ParentId?: string;
  Name?: string;
  Type: string;
  SubType?: string;
  Status: string;
  StartTimestamp: string;
  EndTimestamp?: string;
  ExecutionDetails?: { InputPayload?: string };
  ContextDetails?: { ReplayChildren?: boolean; Result?: string; Error?: ErrorObject };
  StepDetails?: { Attempt?: number; NextAttemptTimestamp?: string; Result?: string; Error?: ErrorObject };
  WaitDetails?: { ScheduledEndTimestamp?: string };
  CallbackDetails?: { CallbackId?: string; Result?: string; Error?: ErrorObject };
  ChainedInvokeDetails?: { Result?: string; Error?: ErrorObject };
}

/** An operation and the deadlines of a callback (epoch ms), as journaled. */
interface OpEntry {
  op: WireOp;
  /** When the callback times out. */
  timeoutAt?: number;
  /** When the callback times out for want of a heartbeat. */
  heartbeatAt?: number;
  heartbeatSeconds?: number;
}

interface Execution {
  readonly workflowId: string;
  readonly ops: Map<string, OpEntry>;
  /** Callback id -> operation id, of callbacks still STARTED. */
  readonly callbacks: Map<string, string>;
  /** Operations changed since the last checkpoint response (NewExecutionState). */
  readonly dirty: Set<string>;
  /** Operations changed from outside since the last invocation began (UpdatedOperationIds). */
  readonly updated: Set<string>;
  readonly executionOpId: string;
  readonly done: Promise<LocalExecutionOutcome>;
  readonly resolveDone: (outcome: LocalExecutionOutcome) => void;
  token: string;
  invocationSeq: number;
  invocations: number;
  invoking: boolean;
  /** Something changed while an invocation ran: invoke again after it. */
  again: boolean;
  timer?: NodeJS.Timeout;
  /** The execution's end, when a checkpoint (the SDK's large-result path) recorded it. */
  ended?: { status: 'SUCCEEDED' | 'FAILED'; result?: string; error?: ErrorObject };
  /** Invocations in a row that failed without an answer (retried, then the execution fails). */
  failedInvocations: number;
}

export interface JournalDurableControlOptions {
  /** Folder of the journal (`<dataDir>/executions`). */
  readonly dir: string;
  /** Told when an execution ends (after its journal is compacted). */
  readonly onEnd?: (workflowId: string, outcome: LocalExecutionOutcome) => void;
  /** Receives console lines (a torn journal line, an invocation that failed). @default - none */
  readonly log?: (line: string) => void;
}

/** Remaining time an invocation reports, as a Lambda function's would (15 minutes). */
const INVOCATION_MS = 15 * 60 * 1000;
/** Invocations that fail without an answer, in a row, before the execution fails. */
const MAX_FAILED_INVOCATIONS = 3;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * DurableControl with a journal on disk: see the module's description. Call `resume` once after
 * constructing it (and once the ports the controller uses are ready) and `close` at the end.
 */
export class JournalDurableControl implements DurableControl {
  private readonly handler: (event: DurableExecutionInvocationInput, context: any) => Promise<DurableExecutionInvocationOutput>;
  private readonly journal: ExecutionJournal;
  private readonly executions = new Map<string, Execution>();
  private readonly invocationsRunning = new Set<Promise<void>>();
  private closed = false;
  /** Set once a stop has waited for the invocations running: their checkpoints are refused from then on. */
  private refusing = false;

  constructor(controller: DurableExecutionHandler<any, any>, private readonly options: JournalDurableControlOptions) {
    const client: DurableExecutionClient = {
      checkpoint: (params) => this.checkpoint(params),
      getExecutionState: async (params) => this.executionState(params.CheckpointToken),
    };
    this.handler = withDurableExecution(controller, { durableExecutionClient: client }) as any;
    this.journal = new ExecutionJournal(options.dir);
  }

  /** Ids of the executions running now (ended ones are released). */
  public get workflowIds(): string[] {
    return [...this.executions.keys()];
  }

  /**
   * Loads the executions an earlier engine on this folder left unfinished and invokes them again.
   * Returns their workflow ids.
   */
  public resume(): string[] {
    const resumed: string[] = [];
    for (const loaded of this.journal.loadAll()) {
      if (loaded.torn) this.options.log?.(`note: the journal of execution ${loaded.name} ended in a torn line (a write cut short); it was left out`);
      const start = loaded.records[0];
      if (!start || start.t !== 'start' || loaded.records.some((r) => r.t === END_RECORD)) continue;
      const workflowId = String(start.name);
      if (this.executions.has(workflowId)) continue;
      const exec = this.newExecution(workflowId, String(start.executionOpId));
      for (const r of loaded.records) {
        if (r.t !== 'op') continue;
        const entry = r.entry as OpEntry;
        exec.ops.set(entry.op.Id, entry);
        if (entry.op.Type === 'CALLBACK' && entry.op.CallbackDetails?.CallbackId) {
          if (entry.op.Status === 'STARTED') exec.callbacks.set(entry.op.CallbackDetails.CallbackId, entry.op.Id);
          else exec.callbacks.delete(entry.op.CallbackDetails.CallbackId);
        }
      }
      if (!exec.ops.has(exec.executionOpId)) continue;
      this.executions.set(workflowId, exec);
      resumed.push(workflowId);
    }
    for (const id of resumed) {
      const exec = this.executions.get(id)!;
      // Timers that fell due while no engine ran fire now (the invocation below sees them).
      void this.fireDue(exec).catch((e) => this.options.log?.(`warning: execution ${id}: ${String(e)}`));
    }
    return resumed;
  }

  /**
   * Starts an execution. After `stop` it is only journaled (the next engine on this folder runs
   * it); after `close` it is refused.
   */
  async start(workflowId: string, input: Record<string, unknown>): Promise<void> {
    // Idempotent, like a repeated DurableExecutionName: a running or an ended execution stays as it is.
    if (this.executions.has(workflowId) || this.journal.has(workflowId)) return;
    const executionOpId = `execution-${workflowId}`;
    const exec = this.newExecution(workflowId, executionOpId);
    const entry: OpEntry = {
      op: {
        Id: executionOpId,
        Type: 'EXECUTION',
        Status: 'STARTED',
        StartTimestamp: new Date().toISOString(),
        ExecutionDetails: { InputPayload: JSON.stringify({ workflow_id: workflowId, input }) },
      },
    };
    exec.ops.set(executionOpId, entry);
    this.executions.set(workflowId, exec);
    await this.journal.append(workflowId, [{ t: 'start', name: workflowId, executionOpId, at: Date.now() }, { t: 'op', entry }]);
    this.invoke(exec);
  }

  /** Resolves when the workflow's execution ends (also for one that ended before this engine started). */
  public async finished(workflowId: string): Promise<LocalExecutionOutcome> {
    const exec = this.executions.get(workflowId);
    if (exec) return exec.done;
    const records = await this.journal.read(workflowId);
    const end = records?.find((r) => r.t === END_RECORD);
    if (end) return end.outcome as LocalExecutionOutcome;
    throw new Error(`no local execution for workflow ${workflowId}`);
  }

  /** Whether the durable callback `durableCallbackId` of a running execution still waits. */
  public callbackPending(workflowId: string, durableCallbackId: string): boolean {
    const exec = this.executions.get(workflowId);
    const opId = exec?.callbacks.get(durableCallbackId);
    return opId !== undefined && exec!.ops.get(opId)?.op.Status === 'STARTED';
  }

  async callbackSuccess(callback: CallbackRecord, result: string): Promise<void> {
    await this.complete(callback, 'SUCCEEDED', { Result: result });
  }

  async callbackFailure(callback: CallbackRecord, error: CallbackFailure): Promise<void> {
    const data = error.data !== undefined ? { ErrorData: error.data } : {};
    await this.complete(callback, 'FAILED', { Error: { ErrorType: error.code, ErrorMessage: error.message, ...data } });
  }

  async callbackHeartbeat(callback: CallbackRecord): Promise<void> {
    const { exec, entry } = this.pendingCallback(callback);
    // A heartbeat of a callback without a heartbeat timeout is accepted and changes nothing, as in Lambda.
    if (entry.heartbeatSeconds === undefined) return;
    entry.heartbeatAt = Date.now() + entry.heartbeatSeconds * 1000;
    this.armTimer(exec);
    await this.journal.append(exec.workflowId, [{ t: 'op', entry }]);
  }

  /**
   * Stops running executions: no more invocations or timers; waits (up to `waitMs`) for the
   * invocations running to end, still taking their checkpoints (a step that published an event
   * has its result kept, so it does not run again on the next start); after that wait their
   * checkpoints are refused, so they end soon.
   * Executions not ended stay in the journal, for the next engine on this folder; a start from
   * now on is only journaled.
   */
  public async stop(waitMs = 2_000): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const exec of this.executions.values()) clearTimeout(exec.timer);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.invocationsRunning]),
      new Promise((resolve) => { timer = setTimeout(resolve, waitMs); }),
    ]);
    clearTimeout(timer);
    this.refusing = true;
  }

  /** Stops (see `stop`), writes what is pending and closes the journal. */
  public async close(waitMs = 2_000): Promise<void> {
    await this.stop(waitMs);
    await this.journal.close();
    this.executions.clear();
  }

  // ---- the execution's lifecycle ----

  private newExecution(workflowId: string, executionOpId: string): Execution {
    let resolveDone!: (outcome: LocalExecutionOutcome) => void;
    const done = new Promise<LocalExecutionOutcome>((resolve) => { resolveDone = resolve; });
    return {
      workflowId,
      executionOpId,
      ops: new Map(),
      callbacks: new Map(),
      dirty: new Set(),
      updated: new Set(),
      done,
      resolveDone,
      token: '',
      invocationSeq: 0,
      invocations: 0,
      invoking: false,
      again: false,
      failedInvocations: 0,
    };
  }

  /** Invokes the handler now, or once the invocation running ends. */
  private invoke(exec: Execution): void {
    if (this.closed || this.executions.get(exec.workflowId) !== exec) return;
    if (exec.invoking) {
      exec.again = true;
      return;
    }
    exec.invoking = true;
    const run = this.invocationLoop(exec).catch((e) => this.options.log?.(`warning: execution ${exec.workflowId}: ${String(e)}`)).finally(() => {
      exec.invoking = false;
      this.invocationsRunning.delete(run);
    });
    this.invocationsRunning.add(run);
  }

  private async invocationLoop(exec: Execution): Promise<void> {
    do {
      exec.again = false;
      exec.invocationSeq++;
      exec.token = `${exec.workflowId}#${exec.invocationSeq}`;
      exec.dirty.clear();
      const updated = [...exec.updated];
      exec.updated.clear();
      const event: DurableExecutionInvocationInput = {
        DurableExecutionArn: exec.workflowId,
        CheckpointToken: exec.token,
        InitialExecutionState: { Operations: this.visibleOperations(exec) as any },
        ...(updated.length > 0 ? { UpdatedOperationIds: updated } : {}),
      };
      const startedAt = Date.now();
      const context = {
        awsRequestId: `${exec.workflowId}-${exec.invocationSeq}`,
        functionName: 'local-controller',
        getRemainingTimeInMillis: () => Math.max(0, startedAt + INVOCATION_MS - Date.now()),
      };
      let output: DurableExecutionInvocationOutput | undefined;
      let thrown: unknown;
      try {
        output = await this.handler(event, context);
      } catch (e) {
        thrown = e;
      }
      exec.invocations++;
      exec.token = '';
      if (this.refusing) return;
      if (exec.ended) {
        await this.end(exec, exec.ended.status, exec.ended.result, exec.ended.error);
        return;
      }
      if (output?.Status === 'SUCCEEDED') {
        await this.end(exec, 'SUCCEEDED', output.Result, undefined);
        return;
      }
      if (output?.Status === 'FAILED') {
        await this.end(exec, 'FAILED', undefined, output.Error);
        return;
      }
      if (!output) {
        // An invocation that failed without an answer is retried, as the service retries it.
        exec.failedInvocations++;
        const message = thrown instanceof Error ? thrown.message : String(thrown);
        if (exec.failedInvocations >= MAX_FAILED_INVOCATIONS) {
          await this.end(exec, 'FAILED', undefined, { ErrorType: 'InvocationFailed', ErrorMessage: `the controller's invocation failed ${exec.failedInvocations} times: ${message}` });
          return;
        }
        this.options.log?.(`warning: execution ${exec.workflowId}: invocation failed (${message}); invoking it again`);
        exec.again = true;
        continue;
      }
      exec.failedInvocations = 0;
      // Changed from outside since the invocation began: it may not have seen it; invoke again.
      if (exec.updated.size > 0) exec.again = true;
      if (!exec.again && !this.hasPendingWork(exec)) {
        await this.end(exec, 'FAILED', undefined, { ErrorType: 'InvalidParameterValueException', ErrorMessage: 'Cannot return PENDING status with no pending operations.' });
        return;
      }
    } while (exec.again && !this.closed);
  }

  /** Whether anything can still change the execution: an open callback, a wait or a retry. */
  private hasPendingWork(exec: Execution): boolean {
    for (const { op } of exec.ops.values()) {
      if (op.Type === 'CALLBACK' && op.Status === 'STARTED') return true;
      if (op.Type === 'WAIT' && op.Status === 'STARTED') return true;
      if (op.Type === 'STEP' && (op.Status === 'PENDING' || op.Status === 'READY')) return true;
    }
    return false;
  }

  private async end(exec: Execution, status: 'SUCCEEDED' | 'FAILED', result: string | undefined, error: ErrorObject | undefined): Promise<void> {
    clearTimeout(exec.timer);
    const outcome: LocalExecutionOutcome = status === 'SUCCEEDED'
      ? { status, result: parseResult(result), history: this.history(exec, result, undefined) }
      : { status, error: errorResult(error), history: this.history(exec, undefined, error) };
    // The journal becomes the end record; the execution's memory is released.
    await this.journal.compact(exec.workflowId, [{ t: 'start', name: exec.workflowId, executionOpId: exec.executionOpId }, { t: END_RECORD, outcome }]);
    this.executions.delete(exec.workflowId);
    exec.resolveDone(outcome);
    this.options.onEnd?.(exec.workflowId, outcome);
  }

  // ---- the DurableExecutionClient ----

  private executionOf(token: string | undefined): Execution {
    const hash = token?.lastIndexOf('#') ?? -1;
    const exec = token && hash > 0 ? this.executions.get(token.slice(0, hash)) : undefined;
    if (this.refusing || !exec || exec.token !== token) {
      throw new DurableExecutionClientError(`Invalid Checkpoint Token: ${this.refusing ? 'the local durable engine stopped' : 'not the token of a running invocation'}`,
        { scope: DurableExecutionClientErrorScope.INVOCATION });
    }
    return exec;
  }

  private async executionState(token: string | undefined): Promise<GetDurableExecutionStateResponse> {
    const exec = this.executionOf(token);
    return { Operations: this.visibleOperations(exec) as any };
  }

  private async checkpoint(params: CheckpointDurableExecutionRequest): Promise<CheckpointDurableExecutionResponse> {
    const exec = this.executionOf(params.CheckpointToken);
    const changed = new Set<string>(this.applyDue(exec, Date.now()));
    for (const update of params.Updates ?? []) {
      const id = this.applyUpdate(exec, update);
      if (id !== undefined) changed.add(id);
    }
    this.armTimer(exec);
    await this.journal.append(exec.workflowId, [...changed].map((id) => ({ t: 'op', entry: exec.ops.get(id)! })));
    const operations = [...exec.dirty].map((id) => exec.ops.get(id)?.op).filter((op): op is WireOp => op !== undefined);
    exec.dirty.clear();
    return { CheckpointToken: exec.token || params.CheckpointToken, NewExecutionState: { Operations: operations as any } };
  }

  /** Applies one update of the SDK; returns the id of the operation it changed. */
  private applyUpdate(exec: Execution, update: OperationUpdate): string | undefined {
    const now = new Date();
    if (!update.Id || !update.Type || !update.Action) throw invalid(`an update needs Id, Type and Action: ${JSON.stringify(update).slice(0, 200)}`);
    if (update.Type === 'EXECUTION') {
      if (update.Action === 'SUCCEED') exec.ended = { status: 'SUCCEEDED', result: update.Payload };
      else if (update.Action === 'FAIL') exec.ended = { status: 'FAILED', error: update.Error };
      else throw invalid(`EXECUTION takes SUCCEED or FAIL, not ${update.Action}`);
      return undefined;
    }
    const id = update.Id;
    let entry = exec.ops.get(id);
    if (!entry) {
      entry = {
        op: {
          Id: id,
          Type: update.Type,
          Status: 'STARTED',
          StartTimestamp: now.toISOString(),
          ...(update.ParentId !== undefined ? { ParentId: update.ParentId } : {}),
          ...(update.Name !== undefined ? { Name: update.Name } : {}),
          ...(update.SubType !== undefined ? { SubType: update.SubType } : {}),
        },
      };
      exec.ops.set(id, entry);
      this.started(exec, entry, update, now);
    } else if (update.Action === 'START') {
      // A START of an operation that exists: a step's next attempt (READY) or one re-run after an
      // interruption; waits and callbacks keep what they have.
      if (entry.op.Type === 'STEP' && entry.op.Status !== 'SUCCEEDED' && entry.op.Status !== 'FAILED') entry.op.Status = 'STARTED';
    }
    const op = entry.op;
    switch (update.Action) {
      case 'START':
        break;
      case 'SUCCEED':
      case 'FAIL': {
        if (isClosed(op.Status)) throw invalid(`operation ${op.Name ?? id} is ${op.Status} already`);
        op.Status = update.Action === 'SUCCEED' ? 'SUCCEEDED' : 'FAILED';
        op.EndTimestamp = now.toISOString();
        const outcome = update.Action === 'SUCCEED' ? { Result: update.Payload } : { Error: update.Error };
        if (op.Type === 'STEP') {op.StepDetails = { ...op.StepDetails, Attempt: (op.StepDetails?.Attempt ?? 0) + 1, NextAttemptTimestamp: undefined, ...outcome };} else if (op.Type === 'CONTEXT') {
          const replayChildren = update.ContextOptions?.ReplayChildren ?? op.ContextDetails?.ReplayChildren;
          op.ContextDetails = { ...op.ContextDetails, ...outcome, ReplayChildren: replayChildren };
        } else if (op.Type === 'CHAINED_INVOKE') {op.ChainedInvokeDetails = outcome;} else {throw invalid(`${op.Type} cannot be completed with ${update.Action}`);}
        break;
      }
      case 'RETRY': {
        if (op.Type !== 'STEP') throw invalid(`only a STEP can be retried, not a ${op.Type}`);
        const delay = update.StepOptions?.NextAttemptDelaySeconds ?? 0;
        op.Status = 'PENDING';
        op.StepDetails = {
          ...op.StepDetails,
          Attempt: (op.StepDetails?.Attempt ?? 0) + 1,
          NextAttemptTimestamp: new Date(now.getTime() + delay * 1000).toISOString(),
          Result: update.Payload,
          Error: update.Error,
        };
        break;
      }
      case 'CANCEL': {
        if (op.Type !== 'WAIT' && op.Type !== 'CALLBACK' && op.Type !== 'CHAINED_INVOKE') throw invalid(`a ${op.Type} cannot be cancelled`);
        if (!isClosed(op.Status)) {
          op.Status = 'CANCELLED';
          op.EndTimestamp = now.toISOString();
          this.closeCallback(exec, entry);
        }
        break;
      }
      default:
        throw invalid(`unknown action ${String(update.Action)}`);
    }
    exec.dirty.add(id);
    return id;
  }

  /** Sets up an operation the first update created (its timer, callback id, context options). */
  private started(exec: Execution, entry: OpEntry, update: OperationUpdate, now: Date): void {
    const op = entry.op;
    switch (op.Type) {
      case 'WAIT':
        op.WaitDetails = { ScheduledEndTimestamp: new Date(now.getTime() + (update.WaitOptions?.WaitSeconds ?? 0) * 1000).toISOString() };
        break;
      case 'CALLBACK': {
        const callbackId = `${exec.workflowId}:${op.Id}`;
        op.CallbackDetails = { CallbackId: callbackId };
        exec.callbacks.set(callbackId, op.Id);
        const timeout = update.CallbackOptions?.TimeoutSeconds;
        const heartbeat = update.CallbackOptions?.HeartbeatTimeoutSeconds;
        if (timeout !== undefined && timeout > 0) entry.timeoutAt = now.getTime() + timeout * 1000;
        if (heartbeat !== undefined && heartbeat > 0) {
          entry.heartbeatSeconds = heartbeat;
          entry.heartbeatAt = now.getTime() + heartbeat * 1000;
        }
        break;
      }
      case 'CONTEXT':
        op.ContextDetails = { ReplayChildren: update.ContextOptions?.ReplayChildren };
        break;
      case 'CHAINED_INVOKE':
        // The controller never invokes another function; the local engine has none to invoke.
        op.Status = 'FAILED';
        op.EndTimestamp = now.toISOString();
        op.ChainedInvokeDetails = { Error: { ErrorType: 'ChainedInvokeNotSupported', ErrorMessage: 'the local durable engine cannot invoke other functions' } };
        exec.updated.add(op.Id);
        exec.again = true;
        break;
      case 'STEP':
        break;
      default:
        throw invalid(`unknown operation type ${op.Type}`);
    }
  }

  private closeCallback(exec: Execution, entry: OpEntry): void {
    const callbackId = entry.op.CallbackDetails?.CallbackId;
    if (callbackId !== undefined) exec.callbacks.delete(callbackId);
    entry.timeoutAt = undefined;
    entry.heartbeatAt = undefined;
  }

  // ---- callbacks from outside ----

  private pendingCallback(callback: CallbackRecord): { exec: Execution; entry: OpEntry } {
    const exec = this.executions.get(callback.workflowId);
    if (!exec) throw new CallbackNotPendingError(`no execution of workflow ${callback.workflowId} runs here`);
    const opId = exec.callbacks.get(callback.durableCallbackId);
    const entry = opId !== undefined ? exec.ops.get(opId) : undefined;
    const names = callbackOperations(callback.kind, callback.stepName, callback.attempt, LIMITS.maxRetryAttempts);
    // A callback made with createCallback bears the name; one of waitForCallback sits in a CONTEXT that does.
    const parentName = entry?.op.ParentId !== undefined ? exec.ops.get(entry.op.ParentId)?.op.Name : undefined;
    if (!entry || !names.some((n) => n === entry.op.Name || n === parentName)) {
      throw new CallbackNotPendingError(`no open operation of workflow ${callback.workflowId} has this callback`);
    }
    if (entry.op.Status !== 'STARTED') throw new CallbackNotPendingError(`operation ${entry.op.Name} is ${entry.op.Status}`);
    return { exec, entry };
  }

  /**
   * Completes a callback at most once, as the Lambda durable service does: the state changes
   * before anything is awaited, so of two concurrent completions one wins and the other gets
   * CallbackNotPendingError. Resolves once the completion is in the journal.
   */
  private async complete(callback: CallbackRecord, status: 'SUCCEEDED' | 'FAILED', details: { Result?: string; Error?: ErrorObject }): Promise<void> {
    const { exec, entry } = this.pendingCallback(callback);
    this.closeWith(exec, entry, status, details);
    this.armTimer(exec);
    // Invoked at once: the journal keeps the order, so whatever the invocation checkpoints comes after this.
    const written = this.journal.append(exec.workflowId, [{ t: 'op', entry }]);
    this.invoke(exec);
    await written;
  }

  /** Closes a callback (completed, failed or timed out) and marks it changed for the next invocation. */
  private closeWith(exec: Execution, entry: OpEntry, status: string, details: { Result?: string; Error?: ErrorObject }): void {
    entry.op.Status = status;
    entry.op.EndTimestamp = new Date().toISOString();
    entry.op.CallbackDetails = { ...entry.op.CallbackDetails, ...details };
    this.closeCallback(exec, entry);
    exec.dirty.add(entry.op.Id);
    exec.updated.add(entry.op.Id);
  }

  // ---- timers ----

  /** Applies every deadline due at `now`; returns the operations it changed. */
  private applyDue(exec: Execution, now: number): string[] {
    const changed: string[] = [];
    for (const entry of exec.ops.values()) {
      const { op } = entry;
      if (op.Type === 'WAIT' && op.Status === 'STARTED' && time(op.WaitDetails?.ScheduledEndTimestamp) <= now) {
        op.Status = 'SUCCEEDED';
        op.EndTimestamp = new Date(now).toISOString();
      } else if (op.Type === 'STEP' && op.Status === 'PENDING' && time(op.StepDetails?.NextAttemptTimestamp) <= now) {
        op.Status = 'READY';
      } else if (op.Type === 'CALLBACK' && op.Status === 'STARTED' && (entry.timeoutAt ?? Infinity) <= now) {
        this.closeWith(exec, entry, 'TIMED_OUT', { Error: { ErrorMessage: 'Callback timed out' } });
      } else if (op.Type === 'CALLBACK' && op.Status === 'STARTED' && (entry.heartbeatAt ?? Infinity) <= now) {
        this.closeWith(exec, entry, 'TIMED_OUT', { Error: { ErrorMessage: 'Callback timed out on heartbeat' } });
      } else {
        continue;
      }
      exec.dirty.add(op.Id);
      exec.updated.add(op.Id);
      changed.push(op.Id);
    }
    return changed;
  }

  /** Sets the execution's one timer to its earliest deadline. */
  private armTimer(exec: Execution): void {
    clearTimeout(exec.timer);
    exec.timer = undefined;
    if (this.closed) return;
    let next = Infinity;
    for (const entry of exec.ops.values()) next = Math.min(next, deadlineOf(entry));
    if (next === Infinity) return;
    exec.timer = setTimeout(() => {
      void this.fireDue(exec).catch((e) => this.options.log?.(`warning: execution ${exec.workflowId}: ${String(e)}`));
    }, Math.min(Math.max(0, next - Date.now()), MAX_TIMER_MS));
  }

  private async fireDue(exec: Execution): Promise<void> {
    if (this.closed || this.executions.get(exec.workflowId) !== exec) return;
    const changed = this.applyDue(exec, Date.now());
    this.armTimer(exec);
    const written = this.journal.append(exec.workflowId, changed.map((id) => ({ t: 'op', entry: exec.ops.get(id)! })));
    // A resumed execution is invoked even when nothing fell due: its last invocation was cut short.
    if (changed.length > 0 || exec.invocationSeq === 0) this.invoke(exec);
    await written;
  }

  // ---- what the SDK and the server read ----

  /**
   * The operations an invocation starts with: all but the children of a completed context that
   * does not replay its children (the service leaves those out too).
   */
  private visibleOperations(exec: Execution): WireOp[] {
    const excluded = new Set<string>();
    const visible: WireOp[] = [];
    for (const { op } of exec.ops.values()) {
      const parent = op.ParentId !== undefined ? exec.ops.get(op.ParentId)?.op : undefined;
      if (parent && parent.Type === 'CONTEXT' && (parent.Status === 'SUCCEEDED' || parent.Status === 'FAILED')
        && (!parent.ContextDetails?.ReplayChildren || excluded.has(parent.Id))) {
        excluded.add(op.Id);
        continue;
      }
      visible.push(op);
    }
    return visible;
  }

  private history(exec: Execution, result: string | undefined, error: ErrorObject | undefined): LocalExecutionHistory {
    const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text));
    const json = (value: unknown) => (value === undefined ? 0 : bytes(JSON.stringify(value)));
    const input = exec.ops.get(exec.executionOpId)?.op.ExecutionDetails?.InputPayload;
    const operations = [...exec.ops.values()].filter(({ op }) => op.Type !== 'EXECUTION').map(({ op }) => {
      const details = [op.StepDetails, op.CallbackDetails, op.ContextDetails, op.ChainedInvokeDetails];
      const attempts = op.Type === 'STEP' ? op.StepDetails?.Attempt : undefined;
      return {
        payloadBytes: details.reduce((n, d) => n + bytes(d?.Result) + json(d?.Error), 0),
        type: op.Type,
        nested: op.ParentId !== undefined,
        ...(op.Name !== undefined ? { name: op.Name } : {}),
        ...(op.SubType !== undefined ? { subType: op.SubType } : {}),
        status: op.Status,
        ...(attempts !== undefined ? { attempts } : {}),
      };
    });
    return { operations, invocations: exec.invocations, executionPayloadBytes: bytes(input) + bytes(result) + json(error) };
  }
}

function deadlineOf(entry: OpEntry): number {
  const { op } = entry;
  if (op.Type === 'WAIT' && op.Status === 'STARTED') return time(op.WaitDetails?.ScheduledEndTimestamp);
  if (op.Type === 'STEP' && op.Status === 'PENDING') return time(op.StepDetails?.NextAttemptTimestamp);
  if (op.Type === 'CALLBACK' && op.Status === 'STARTED') return Math.min(entry.timeoutAt ?? Infinity, entry.heartbeatAt ?? Infinity);
  return Infinity;
}

function time(iso: string | undefined): number {
  if (iso === undefined) return Infinity;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? Infinity : t;
}

function isClosed(status: string): boolean {
  return ['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'STOPPED'].includes(status);
}

function invalid(message: string): Error {
  return new DurableExecutionClientError(`the local durable engine refused a checkpoint: ${message}`, { scope: DurableExecutionClientErrorScope.EXECUTION });
}

/** The execution's result as a value (JSON parsed), as the testing SDK's runner gives it. */
function parseResult(result: string | undefined): unknown {
  if (result === undefined) return undefined;
  try {
    return JSON.parse(result);
  } catch {
    return result;
  }
}

/** The execution's error in the shape the testing SDK's runner gives it. */
function errorResult(error: ErrorObject | undefined): unknown {
  if (!error) return undefined;
  return {
    ...(error.ErrorType !== undefined ? { errorType: error.ErrorType } : {}),
    ...(error.ErrorMessage !== undefined ? { errorMessage: error.ErrorMessage } : {}),
    ...(error.ErrorData !== undefined ? { errorData: error.ErrorData } : {}),
  };
}

