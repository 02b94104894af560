import type { DurableExecutionHandler } from '@aws/durable-execution-sdk-js';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';
import type { TestResult } from '@aws/durable-execution-sdk-js-testing';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { LIMITS } from '../../contract/definition';
import { callbackOperations } from '../operation-names';
import { CallbackFailure, CallbackNotPendingError, CallbackRecord, DurableControl } from '../ports';

/** One durable operation of a local execution, as its history records it. */
export interface LocalOperationRecord {
  readonly name?: string;
  /** STEP, WAIT, CALLBACK, CONTEXT, CHAINED_INVOKE (the execution itself is not listed). */
  readonly type: string;
  /** As the SDK names it: e.g. `WaitForCallback` or `Parallel` for a CONTEXT, `Step` for a STEP. */
  readonly subType?: string;
  readonly status?: string;
  /** Whether it runs inside a child context. */
  readonly nested: boolean;
  /** Attempts a STEP took (more than 1 when it was retried). */
  readonly attempts?: number;
  /** Bytes of the result and error payloads the operation checkpointed (UTF-8). */
  readonly payloadBytes: number;
}

/** What the local backend recorded of one execution: its operations and its invocations. */
export interface LocalExecutionHistory {
  readonly operations: readonly LocalOperationRecord[];
  /** Invocations of the handler (the first one and one per resume or retry). */
  readonly invocations: number;
  /**
   * Bytes of the execution's input and result payloads (UTF-8 JSON); with the operations'
   * `payloadBytes`, the data the execution wrote to its history.
   */
  readonly executionPayloadBytes: number;
}

/** How a local execution ended. */
export interface LocalExecutionOutcome {
  readonly status: string;
  readonly result?: unknown;
  readonly error?: unknown;
  /** Absent when the runner itself failed. */
  readonly history?: LocalExecutionHistory;
}

/**
 * DurableControl on the durable-execution testing SDK's LocalDurableTestRunner: one runner per
 * workflow, real timers. This is the embedded default: the controller code is the same that runs
 * in Lambda; only the execution backend is local and in-process.
 *
 * Call `LocalDurableControl.setup` once per process before starting workflows and
 * `LocalDurableControl.teardown` at the end.
 */
export class LocalDurableControl implements DurableControl {
  /** Prepares the local execution backend (real timers). */
  public static async setup(): Promise<void> {
    await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
  }

  public static async teardown(): Promise<void> {
    await LocalDurableTestRunner.teardownTestEnvironment();
  }

  private readonly runners = new Map<string, { runner: LocalDurableTestRunner; done: Promise<LocalExecutionOutcome>; ended: boolean }>();
  private readonly handler: ReturnType<typeof withDurableExecution>;
  private readonly settled = new Set<string>();

  constructor(controller: DurableExecutionHandler<any, any>, private readonly onEnd?: (workflowId: string, outcome: LocalExecutionOutcome) => void) {
    this.handler = withDurableExecution(controller);
  }

  async start(workflowId: string, input: Record<string, unknown>): Promise<void> {
    if (this.runners.has(workflowId)) return; // idempotent, like a repeated DurableExecutionName
    const runner = new LocalDurableTestRunner({ handlerFunction: this.handler });
    const payload = { workflow_id: workflowId, input };
    const done = runner.run({ payload }).then(
      (r) => {
        const status = String(r.getStatus());
        const history = historyOf(r, payload);
        return status === 'SUCCEEDED' ? { status, result: r.getResult(), history } : { status, error: r.getError(), history };
      },
      (e: unknown) => ({ status: 'FAILED', error: e instanceof Error ? e.message : String(e) }),
    ).then((outcome) => {
      const entry = this.runners.get(workflowId);
      if (entry) entry.ended = true;
      this.onEnd?.(workflowId, outcome);
      return outcome;
    });
    this.runners.set(workflowId, { runner, done, ended: false });
  }

  /** Resolves when the workflow's execution ends. */
  public async finished(workflowId: string): Promise<LocalExecutionOutcome> {
    const entry = this.runners.get(workflowId);
    if (!entry) throw new Error(`no local execution for workflow ${workflowId}`);
    return entry.done;
  }

  /** Ids of the executions this control started. */
  public get workflowIds(): string[] {
    return [...this.runners.keys()];
  }

  async callbackSuccess(callback: CallbackRecord, result: string): Promise<void> {
    await this.settle(callback, async (op) => { await op.sendCallbackSuccess(result); });
  }

  async callbackFailure(callback: CallbackRecord, error: CallbackFailure): Promise<void> {
    await this.settle(callback, async (op) => {
      const data = error.data !== undefined ? { ErrorData: error.data } : {};
      await op.sendCallbackFailure({ ErrorType: error.code, ErrorMessage: error.message, ...data });
    });
  }

  /**
   * Completes a callback at most once, as the Lambda durable service does: of two concurrent
   * completions one wins and the other gets CallbackNotPendingError.
   */
  private async settle(callback: CallbackRecord, send: (op: Awaited<ReturnType<LocalDurableControl['pendingOperation']>>) => Promise<void>): Promise<void> {
    if (this.settled.has(callback.durableCallbackId)) {
      throw new CallbackNotPendingError('it was already completed');
    }
    this.settled.add(callback.durableCallbackId);
    try {
      await send(await this.pendingOperation(callback));
    } catch (e) {
      // Not sent: a later completion looks the operation up again (a closed one stays refused).
      this.settled.delete(callback.durableCallbackId);
      throw e;
    }
  }

  async callbackHeartbeat(callback: CallbackRecord): Promise<void> {
    const op = await this.pendingOperation(callback);
    try {
      await op.sendCallbackHeartbeat();
    } catch (e) {
      // The local backend only tracks heartbeats of callbacks with a heartbeat timeout; for the
      // others a heartbeat is accepted and changes nothing, as in Lambda.
      if (!/requires heartbeat/.test((e as Error).message)) throw e;
    }
  }

  /**
   * Finds the callback operation (a CALLBACK, or the CONTEXT of a waitForCallback) whose callback
   * id is the record's durable callback id, by the names the controller gives them
   * (`callbackOperations`).
   */
  private async pendingOperation(callback: CallbackRecord) {
    const entry = this.runners.get(callback.workflowId);
    if (!entry) throw new CallbackNotPendingError(`no execution of workflow ${callback.workflowId} runs here`);
    const names = callbackOperations(callback.kind, callback.stepName, callback.attempt, LIMITS.maxRetryAttempts);
    const find = () => {
      for (const name of names) {
        const op = entry.runner.getOperation(name);
        if (op.getCallbackDetails()?.callbackId === callback.durableCallbackId) {
          const status = String(op.getStatus());
          if (status !== 'STARTED' && status !== 'PENDING') {
            throw new CallbackNotPendingError(`operation ${name} is ${status}`);
          }
          return op;
        }
      }
      return undefined;
    };
    // The runner learns of a new callback by polling its checkpoint worker: an agent that reports at
    // once can be faster than that. While the execution runs, give it a moment to see the operation
    // (a callback id it never registers is refused after that moment instead of at once).
    const deadline = Date.now() + CALLBACK_DISCOVERY_MS;
    for (;;) {
      const op = find();
      if (op) return op;
      if (entry.ended || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new CallbackNotPendingError(`no open operation of workflow ${callback.workflowId} has this callback`);
  }
}

/** How long a callback may wait for the local runner to see its operation. */
const CALLBACK_DISCOVERY_MS = 5_000;

function historyOf(result: TestResult, input: unknown): LocalExecutionHistory {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text));
  const json = (value: unknown) => (value === undefined ? 0 : bytes(JSON.stringify(value)));
  let output: unknown;
  try {
    output = result.getResult();
  } catch {
    output = result.getError();
  }
  return {
    executionPayloadBytes: json(input) + json(output),
    operations: result.getOperations().map((op) => {
      const type = String(op.getType());
      const attempts = type === 'STEP' ? op.getStepDetails()?.attempt : undefined;
      const name = op.getName();
      const subType = op.getSubType();
      const status = op.getStatus();
      const raw = op.getOperationData();
      const details = [raw?.StepDetails, raw?.CallbackDetails, raw?.ContextDetails, raw?.ChainedInvokeDetails];
      const payloadBytes = details.reduce((n, d) => n + bytes(d?.Result) + json(d?.Error), 0);
      return {
        payloadBytes,
        type,
        nested: op.getParentId() !== undefined,
        ...(name !== undefined ? { name } : {}),
        ...(subType !== undefined ? { subType: String(subType) } : {}),
        ...(status !== undefined ? { status: String(status) } : {}),
        ...(attempts !== undefined ? { attempts } : {}),
      };
    }),
    invocations: result.getInvocations().length,
  };
}
