/**
 * Spike: does a structured value attached through the durable SDK's error carrier (`errorData`
 * of a DurableOperationError, `ErrorData` of the wire ErrorObject) survive every path the
 * controller's halts and failures travel, on the first invocation and on a replay?
 *
 * Each durable function below fails one operation, reads the carrier from what it caught, then
 * waits one second: the local runner re-invokes it after the wait, and that invocation replays the
 * failed operation from its checkpoint, so the function's result is what a replay sees.
 */
import { DurableContext, DurableOperationError } from '@aws/durable-execution-sdk-js';
import { LocalDurableControl } from '../../../src/runtime/durable/local-durable-control';
import { CallbackRecord } from '../../../src/runtime/ports';

jest.setTimeout(30_000);

const HALT = { kind: 'halt', status: 'CANCELLED', code: 'CANCEL_REQUESTED' };
const DATA = JSON.stringify(HALT);

/** An error the SDK serializes with its errorData (any DurableOperationError). */
class Carrier extends DurableOperationError {
  public readonly errorType = 'SpikeHalt';
  constructor(data: string | undefined) {
    super('halted (the message says nothing about how)', undefined, data);
  }
}

/** The first errorData found along an error's cause chain. */
function carried(e: unknown): unknown {
  for (let cur = e as { errorData?: unknown; cause?: unknown } | undefined, i = 0; cur && i < 10; cur = cur.cause as typeof cur, i++) {
    if (typeof cur.errorData === 'string') return JSON.parse(cur.errorData);
  }
  return undefined;
}

interface Seen { readonly invocation: number; readonly data: unknown; readonly type: string }

/**
 * Runs `fail` (which must reject), records what was carried, waits, and returns what the last
 * (replaying) invocation saw. `seen` gets one entry per invocation.
 */
function probe(fail: (ctx: DurableContext) => Promise<unknown>, seen: Seen[]) {
  let invocation = 0;
  return async (_event: unknown, ctx: DurableContext) => {
    invocation++;
    let data: unknown = 'no error';
    let type = '';
    try {
      await fail(ctx);
    } catch (e) {
      data = carried(e);
      type = (e as Error).name;
    }
    seen.push({ invocation, data, type });
    await ctx.wait('let-it-replay', { seconds: 1 });
    return { data, type };
  };
}

async function run(fn: ReturnType<typeof probe>, drive?: (control: LocalDurableControl, id: string) => Promise<void>) {
  const control = new LocalDurableControl(fn);
  const id = `spike-${Math.random().toString(36).slice(2)}`;
  await control.start(id, {});
  if (drive) await drive(control, id);
  return control.finished(id);
}

describe('the SDK error carrier (errorData) with the local durable runner', () => {
  beforeAll(() => LocalDurableControl.setup());
  afterAll(() => LocalDurableControl.teardown());

  /** The function ran twice, and both the first run and the replay saw the value. */
  function expectSurvived(outcome: { status: string; result?: unknown; history?: { invocations: number } }, seen: Seen[]) {
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.history!.invocations).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) expect(s.data).toEqual(HALT);
    expect((outcome.result as { data: unknown }).data).toEqual(HALT);
  }

  test('a throw inside ctx.step', async () => {
    const seen: Seen[] = [];
    const outcome = await run(probe((ctx) => ctx.step('fails', async () => { throw new Carrier(DATA); }, {
      retryStrategy: () => ({ shouldRetry: false }),
    }), seen));
    expectSurvived(outcome, seen);
  });

  test('a throw directly inside ctx.runInChildContext (not in a step)', async () => {
    const seen: Seen[] = [];
    const outcome = await run(probe((ctx) => ctx.runInChildContext('child', async () => { throw new Carrier(DATA); }), seen));
    expectSurvived(outcome, seen);
  });

  test('a failed step inside a child context', async () => {
    const seen: Seen[] = [];
    const outcome = await run(probe((ctx) => ctx.runInChildContext('child', async (child) => child.step('fails', async () => {
      throw new Carrier(DATA);
    }, { retryStrategy: () => ({ shouldRetry: false }) })), seen));
    expectSurvived(outcome, seen);
  });

  test('a throw inside a ctx.parallel branch (the error the parent reads from the batch)', async () => {
    const seen: Seen[] = [];
    const outcome = await run(probe(async (ctx) => {
      const batch = await ctx.parallel('par', [
        { name: 'par.ok', func: async () => 'fine' },
        { name: 'par.halts', func: async () => { throw new Carrier(DATA); } },
      ], { completionConfig: { minSuccessful: 1, toleratedFailureCount: 1 } });
      throw batch.failed()[0].error;
    }, seen));
    expectSurvived(outcome, seen);
  });

  test('a callback completed with failure (SendDurableExecutionCallbackFailure, ErrorData set)', async () => {
    const seen: Seen[] = [];
    let durableCallbackId: string | undefined;
    const outcome = await run(probe(async (ctx) => {
      const [promise, callbackId] = await ctx.createCallback('spike/decision', { timeout: { seconds: 20 } });
      durableCallbackId = callbackId;
      return promise;
    }, seen), async (control, id) => {
      for (let i = 0; i < 500 && !durableCallbackId; i++) await new Promise((r) => setTimeout(r, 10));
      const callback: CallbackRecord = {
        callbackId: 'cb-spike',
        durableCallbackId: durableCallbackId!,
        workflowId: id,
        stepName: 'spike',
        kind: 'approval',
        state: 'PENDING',
        createdAt: new Date().toISOString(),
        deadline: new Date(Date.now() + 20_000).toISOString(),
      };
      await control.callbackFailure(callback, { code: 'WorkflowCancelled', message: 'cancelled by request', data: DATA });
    });
    expectSurvived(outcome, seen);
    expect(seen[0].type).toBe('CallbackExternalError');
  });

  test('not a carrier: errorData on a plain Error thrown in a step is dropped by the SDK', async () => {
    const seen: Seen[] = [];
    const outcome = await run(probe((ctx) => ctx.step('fails', async () => {
      throw Object.assign(new Error('plain'), { errorData: DATA });
    }, { retryStrategy: () => ({ shouldRetry: false }) }), seen));
    expect(outcome.status).toBe('SUCCEEDED');
    for (const s of seen) expect(s.data).toBeUndefined();
  });
});
