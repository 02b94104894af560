import { WorkflowBookkeeping } from '../../src/runtime/bookkeeping';
import { sha256 } from '../../src/runtime/ids';
import type { CallbackRecord, EventPublisher, WorkflowStore } from '../../src/runtime/ports';
import type { Telemetry } from '../../src/runtime/telemetry';

/** A bookkeeping over a store that only records the callbacks put into it. */
function books(): { bookkeeping: WorkflowBookkeeping; callbacks: CallbackRecord[] } {
  const callbacks: CallbackRecord[] = [];
  const store = { putCallback: async (cb: CallbackRecord) => void callbacks.push(cb) } as unknown as WorkflowStore;
  const events: EventPublisher = { publish: async () => undefined };
  const telemetry: Telemetry = { info: () => undefined, warn: () => undefined, error: () => undefined, metric: () => undefined };
  return { bookkeeping: new WorkflowBookkeeping({ store, events, telemetry, definitionName: 'report' }), callbacks };
}

const run = { workflowId: 'wf-1', input: {} };

describe('WorkflowBookkeeping.registerCallback', () => {
  test('an agent callback stores the token hash, the attempt and the artifact prefix', async () => {
    const { bookkeeping, callbacks } = books();
    const registered = await bookkeeping.registerCallback(run, {
      kind: 'agent', stepName: 'research', attempt: 2, durableCallbackId: 'd-1', timeoutSeconds: 60, token: 'secret', artifactPrefix: 'agents/a/wf-1/research/2/',
    });
    expect(callbacks).toEqual([{
      callbackId: registered.callbackId,
      durableCallbackId: 'd-1',
      workflowId: 'wf-1',
      stepName: 'research',
      kind: 'agent',
      tokenHash: sha256('secret'),
      state: 'PENDING',
      createdAt: registered.createdAt,
      deadline: registered.deadline,
      attempt: 2,
      artifactPrefix: 'agents/a/wf-1/research/2/',
    }]);
    expect(Date.parse(registered.deadline) - Date.parse(registered.createdAt)).toBe(60_000);
  });

  test('an approval callback has no token, attempt or artifact prefix', async () => {
    const { bookkeeping, callbacks } = books();
    const registered = await bookkeeping.registerCallback(run, { kind: 'approval', stepName: 'review', durableCallbackId: 'd-2', timeoutSeconds: 3600 });
    expect(Object.keys(callbacks[0]).sort()).toEqual(['callbackId', 'createdAt', 'deadline', 'durableCallbackId', 'kind', 'state', 'stepName', 'workflowId']);
    expect(callbacks[0]).toMatchObject({ kind: 'approval', stepName: 'review', durableCallbackId: 'd-2', state: 'PENDING', callbackId: registered.callbackId });
    expect(Date.parse(registered.deadline) - Date.parse(registered.createdAt)).toBe(3_600_000);
  });

  test('a timer callback carries its attempt, and its deadline is the end of the pause', async () => {
    const { bookkeeping, callbacks } = books();
    const registered = await bookkeeping.registerCallback(run, { kind: 'timer', stepName: 'research', attempt: 1, durableCallbackId: 'd-3', timeoutSeconds: 5 });
    expect(Object.keys(callbacks[0]).sort()).toEqual(['attempt', 'callbackId', 'createdAt', 'deadline', 'durableCallbackId', 'kind', 'state', 'stepName', 'workflowId']);
    expect(callbacks[0]).toMatchObject({ kind: 'timer', attempt: 1, durableCallbackId: 'd-3' });
    expect(Date.parse(registered.deadline) - Date.parse(registered.createdAt)).toBe(5_000);
  });

  test('each registration gets a new id', async () => {
    const { bookkeeping } = books();
    const a = await bookkeeping.registerCallback(run, { kind: 'approval', stepName: 'review', durableCallbackId: 'd', timeoutSeconds: 1 });
    const b = await bookkeeping.registerCallback(run, { kind: 'approval', stepName: 'review', durableCallbackId: 'd', timeoutSeconds: 1 });
    expect(a.callbackId).not.toBe(b.callbackId);
  });
});
