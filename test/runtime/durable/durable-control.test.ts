import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DurableContext } from '@aws/durable-execution-sdk-js';
import {
  InvokeCommand,
  LambdaClient,
  SendDurableExecutionCallbackFailureCommand,
  SendDurableExecutionCallbackHeartbeatCommand,
  SendDurableExecutionCallbackSuccessCommand,
} from '@aws-sdk/client-lambda';
import { JournalDurableControl } from '../../../src/runtime/durable/journal-durable-control';
import { LambdaDurableControl } from '../../../src/runtime/durable/lambda-durable-control';
import { LocalDurableControl, LocalExecutionOutcome } from '../../../src/runtime/durable/local-durable-control';
import { CallbackNotPendingError, CallbackRecord } from '../../../src/runtime/ports';

jest.setTimeout(30_000);

function record(workflowId: string, durableCallbackId: string, stepName = 'wait'): CallbackRecord {
  return {
    callbackId: 'cb-AAAAAAAAAAAAAAAAAAAAAAAA',
    durableCallbackId,
    workflowId,
    stepName,
    kind: 'approval',
    state: 'PENDING',
    createdAt: new Date().toISOString(),
    deadline: new Date(Date.now() + 60_000).toISOString(),
  };
}

/** A local durable control under test: the testing SDK's runner, or the journal engine of the local server. */
interface LocalControl {
  readonly workflowIds: string[];
  start(workflowId: string, input: Record<string, unknown>): Promise<void>;
  callbackSuccess(callback: CallbackRecord, result: string): Promise<void>;
  callbackFailure(callback: CallbackRecord, error: { code: string; message: string }): Promise<void>;
  callbackHeartbeat(callback: CallbackRecord): Promise<void>;
  finished(workflowId: string): Promise<LocalExecutionOutcome>;
}

interface Engine {
  readonly name: string;
  /** Whether `workflowIds` still lists an execution that ended. */
  readonly keepsEnded: boolean;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  create(fn: any): LocalControl;
}

const engines: Engine[] = (() => {
  const journals: JournalDurableControl[] = [];
  return [
    {
      name: 'LocalDurableControl (LocalDurableTestRunner, real timers)',
      setup: () => LocalDurableControl.setup(),
      teardown: () => LocalDurableControl.teardown(),
      create: (fn: any) => new LocalDurableControl(fn),
      keepsEnded: true,
    },
    {
      name: 'JournalDurableControl (the local server\'s engine, a journal on disk)',
      setup: async () => undefined,
      teardown: async () => {
        for (const j of journals.splice(0)) await j.close();
      },
      create: (fn: any) => {
        const engine = new JournalDurableControl(fn, { dir: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-engine-')), 'executions') });
        journals.push(engine);
        return engine;
      },
      keepsEnded: false,
    },
  ];
})();

describe.each(engines)('$name', ({ setup, teardown, create, keepsEnded }) => {
  beforeAll(() => setup());
  afterAll(() => teardown());

  /** A durable function that waits for one approval-shaped callback and returns what it got. */
  function waiter(ids: Record<string, string>, starts: string[]) {
    return async (event: { workflow_id: string }, ctx: DurableContext) => {
      await ctx.step('started', async () => {
        starts.push(event.workflow_id);
      });
      try {
        const got = await ctx.waitForCallback('wait/decision', async (id) => {
          ids[event.workflow_id] = id;
        }, { timeout: { seconds: 20 } });
        return { got };
      } catch (e) {
        return { failed: (e as Error).message };
      }
    };
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error('condition never held');
  }

  test('start is idempotent per workflow id, and a callback is completed exactly once', async () => {
    const ids: Record<string, string> = {};
    const starts: string[] = [];
    const control = create(waiter(ids, starts));
    await control.start('wf-1', {});
    await control.start('wf-1', {});
    await until(() => ids['wf-1'] !== undefined);
    const cb = record('wf-1', ids['wf-1']);
    const results = await Promise.allSettled([control.callbackSuccess(cb, '"yes"'), control.callbackSuccess(cb, '"no"')]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(CallbackNotPendingError);
    const outcome = await control.finished('wf-1');
    expect(outcome.status).toBe('SUCCEEDED');
    expect(['yes', 'no']).toContain((outcome.result as any).got.replace(/"/g, ''));
    expect(starts).toEqual(['wf-1']);
    // The runner keeps its executions; the engine releases an execution when it ends.
    expect(control.workflowIds).toEqual(keepsEnded ? ['wf-1'] : []);
    await expect(control.callbackHeartbeat(cb)).rejects.toBeInstanceOf(CallbackNotPendingError);
  });

  test('a failure reaches the waiting function with its message', async () => {
    const ids: Record<string, string> = {};
    const control = create(waiter(ids, []));
    await control.start('wf-2', {});
    await until(() => ids['wf-2'] !== undefined);
    await control.callbackHeartbeat(record('wf-2', ids['wf-2']));
    await control.callbackFailure(record('wf-2', ids['wf-2']), { code: 'AgentReportedFailure', message: 'model down' });
    const outcome = await control.finished('wf-2');
    expect(JSON.stringify(outcome.result)).toContain('model down');
  });

  test('finds timers by their backoff operation, <step>/backoff-<attempt>', async () => {
    const ids: Record<string, string> = {};
    const control = create(async (event: { workflow_id: string }, ctx: DurableContext) => {
      try {
        await ctx.waitForCallback('research/backoff-2', async (id) => {
          ids[event.workflow_id] = id;
        }, { timeout: { seconds: 20 } });
        return { ended: 'early' };
      } catch (e) {
        return { failed: (e as Error).message };
      }
    });
    await control.start('wf-4', {});
    await until(() => ids['wf-4'] !== undefined);
    const timer: CallbackRecord = { ...record('wf-4', ids['wf-4'], 'research'), kind: 'timer', attempt: 2 };
    // The same record with another attempt names another operation.
    await expect(control.callbackFailure({ ...timer, attempt: 1 }, { code: 'WorkflowCancelled', message: 'stop' })).rejects.toBeInstanceOf(CallbackNotPendingError);
    await control.callbackFailure(timer, { code: 'WorkflowCancelled', message: 'stop now' });
    expect((await control.finished('wf-4')).result).toEqual({ failed: 'stop now' });
  });

  test('finds callbacks made with createCallback by their name, and records the execution\'s operations', async () => {
    const ids: Record<string, string> = {};
    const control = create(async (event: { workflow_id: string }, ctx: DurableContext) => {
      const [report, id] = await ctx.createCallback('research/attempt-1', { timeout: { seconds: 20 } });
      await ctx.step('research/attempt-1/dispatch', async () => {
        ids[event.workflow_id] = id;
      });
      return { got: await report };
    });
    await control.start('wf-5', {});
    await until(() => ids['wf-5'] !== undefined);
    const agent: CallbackRecord = { ...record('wf-5', ids['wf-5'], 'research'), kind: 'agent', attempt: 1 };
    await control.callbackSuccess(agent, '"done"');
    const outcome = await control.finished('wf-5');
    expect(outcome.result).toEqual({ got: '"done"' });
    expect(outcome.history?.operations.map((op) => [op.type, op.name, op.status, op.nested])).toEqual([
      ['CALLBACK', 'research/attempt-1', 'SUCCEEDED', false],
      ['STEP', 'research/attempt-1/dispatch', 'SUCCEEDED', false],
    ]);
    expect(outcome.history?.invocations).toBeGreaterThanOrEqual(1);
    await expect(control.callbackSuccess(agent, '"again"')).rejects.toBeInstanceOf(CallbackNotPendingError);
  });

  test('a callback of a workflow it does not run, or with a wrong id, is not pending', async () => {
    const ids: Record<string, string> = {};
    const control = create(waiter(ids, []));
    await expect(control.callbackSuccess(record('wf-none', 'x'), '1')).rejects.toBeInstanceOf(CallbackNotPendingError);
    await control.start('wf-3', {});
    await until(() => ids['wf-3'] !== undefined);
    await expect(control.callbackSuccess(record('wf-3', 'not-the-id'), '1')).rejects.toBeInstanceOf(CallbackNotPendingError);
    await control.callbackSuccess(record('wf-3', ids['wf-3']), '"ok"');
    await control.finished('wf-3');
    await expect(control.finished('wf-unknown')).rejects.toThrow(/no local execution/);
  });
});

describe('LambdaDurableControl (AWS SDK v3; the durable APIs are not emulated by moto, so the client is a mock)', () => {
  const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:controller:live';

  function clientWith(impl: (command: unknown) => unknown) {
    const send = jest.fn(async (command: unknown) => impl(command));
    return { client: { send } as unknown as LambdaClient, send };
  }

  test('rejects an unqualified controller ARN', () => {
    const { client } = clientWith(() => ({}));
    expect(() => new LambdaDurableControl({ client, controllerArn: 'arn:aws:lambda:us-east-1:123456789012:function:controller' }))
      .toThrow(/qualified function ARN \(alias or version\)/);
  });

  test('start invokes the alias asynchronously with the workflow id as the durable execution name', async () => {
    const { client, send } = clientWith(() => ({ StatusCode: 202 }));
    await new LambdaDurableControl({ client, controllerArn: ARN }).start('wf-1', { topic: 't' });
    const command = send.mock.calls[0][0] as InvokeCommand;
    expect(command).toBeInstanceOf(InvokeCommand);
    expect(command.input).toMatchObject({ FunctionName: ARN, InvocationType: 'Event', DurableExecutionName: 'wf-1' });
    expect(JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString())).toEqual({ workflow_id: 'wf-1', input: { topic: 't' } });
  });

  test('a repeated start (DurableExecutionAlreadyStartedException) is a no-op; other errors surface', async () => {
    const already = Object.assign(new Error('exists'), { name: 'DurableExecutionAlreadyStartedException' });
    const { client } = clientWith(() => {
      throw already;
    });
    await expect(new LambdaDurableControl({ client, controllerArn: ARN }).start('wf-1', {})).resolves.toBeUndefined();
    const throttled = clientWith(() => {
      throw Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' });
    });
    await expect(new LambdaDurableControl({ client: throttled.client, controllerArn: ARN }).start('wf-1', {})).rejects.toThrow('slow down');
  });

  test('callbacks map to the durable callback API; a closed callback becomes CallbackNotPendingError', async () => {
    const { client, send } = clientWith(() => ({}));
    const control = new LambdaDurableControl({ client, controllerArn: ARN });
    const cb = record('wf-1', 'durable-id-1');
    await control.callbackSuccess(cb, '{"a":1}');
    await control.callbackFailure(cb, { code: 'AgentReportedFailure', message: 'boom' });
    await control.callbackHeartbeat(cb);
    const [s, f, h] = send.mock.calls.map((c) => c[0] as any);
    expect(s).toBeInstanceOf(SendDurableExecutionCallbackSuccessCommand);
    expect(s.input.CallbackId).toBe('durable-id-1');
    expect(Buffer.from(s.input.Result).toString()).toBe('{"a":1}');
    expect(f).toBeInstanceOf(SendDurableExecutionCallbackFailureCommand);
    expect(f.input.Error).toEqual({ ErrorType: 'AgentReportedFailure', ErrorMessage: 'boom' });
    expect(h).toBeInstanceOf(SendDurableExecutionCallbackHeartbeatCommand);

    const closed = clientWith(() => {
      throw Object.assign(new Error('closed'), { name: 'CallbackTimeoutException' });
    });
    await expect(new LambdaDurableControl({ client: closed.client, controllerArn: ARN }).callbackSuccess(cb, '1'))
      .rejects.toBeInstanceOf(CallbackNotPendingError);
    const outage = clientWith(() => {
      throw Object.assign(new Error('internal'), { name: 'ServiceException' });
    });
    await expect(new LambdaDurableControl({ client: outage.client, controllerArn: ARN }).callbackHeartbeat(cb)).rejects.toThrow('internal');
    // A malformed id or payload is a genuine error, not a closed callback.
    const invalid = clientWith(() => {
      throw Object.assign(new Error('bad callback id'), { name: 'InvalidParameterValueException' });
    });
    const refused = new LambdaDurableControl({ client: invalid.client, controllerArn: ARN }).callbackSuccess(cb, '1');
    await expect(refused).rejects.toThrow('bad callback id');
    await expect(new LambdaDurableControl({ client: invalid.client, controllerArn: ARN }).callbackFailure(cb, { code: 'X', message: 'y' }))
      .rejects.not.toBeInstanceOf(CallbackNotPendingError);
  });
});
