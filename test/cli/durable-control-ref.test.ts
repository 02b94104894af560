import { DurableControlRef } from '../../src/cli/durable-control-ref';
import type { CallbackRecord, DurableControl } from '../../src/runtime/ports';

const CALLBACK: CallbackRecord = {
  callbackId: 'cb-1',
  durableCallbackId: 'durable-1',
  workflowId: 'wf-1',
  stepName: 'writing',
  kind: 'agent',
  state: 'PENDING',
  createdAt: '2025-01-01T00:00:00.000Z',
  deadline: '2025-01-01T01:00:00.000Z',
};

/** A control that records its calls. */
function recordingControl(calls: unknown[][]): DurableControl {
  return {
    start: async (...args) => void calls.push(['start', ...args]),
    callbackSuccess: async (...args) => void calls.push(['callbackSuccess', ...args]),
    callbackFailure: async (...args) => void calls.push(['callbackFailure', ...args]),
    callbackHeartbeat: async (...args) => void calls.push(['callbackHeartbeat', ...args]),
  };
}

describe('DurableControlRef', () => {
  test('forwards every call, with its arguments, to the control bound', async () => {
    const calls: unknown[][] = [];
    const ref = new DurableControlRef();
    expect(ref.bound).toBe(false);
    ref.bind(recordingControl(calls));
    expect(ref.bound).toBe(true);

    await ref.start('wf-1', { topic: 't' });
    await ref.callbackSuccess(CALLBACK, '{"ok":true}');
    await ref.callbackFailure(CALLBACK, { code: 'AgentExited', message: 'gone' });
    await ref.callbackHeartbeat(CALLBACK);
    expect(calls).toEqual([
      ['start', 'wf-1', { topic: 't' }],
      ['callbackSuccess', CALLBACK, '{"ok":true}'],
      ['callbackFailure', CALLBACK, { code: 'AgentExited', message: 'gone' }],
      ['callbackHeartbeat', CALLBACK],
    ]);
  });

  test('passes the control\'s rejections on', async () => {
    const ref = new DurableControlRef();
    ref.bind({ ...recordingControl([]), callbackSuccess: async () => { throw new Error('not pending'); } });
    await expect(ref.callbackSuccess(CALLBACK, '{}')).rejects.toThrow('not pending');
  });

  test('a call before a control is bound rejects, naming the method', async () => {
    const ref = new DurableControlRef();
    await expect(ref.start('wf-1', {})).rejects.toThrow(/start\(\) was called before a durable control was bound/);
    await expect(ref.callbackHeartbeat(CALLBACK)).rejects.toThrow(/callbackHeartbeat\(\) was called before/);
  });

  test('binding twice throws, and the first control stays bound', async () => {
    const first: unknown[][] = [];
    const ref = new DurableControlRef();
    ref.bind(recordingControl(first));
    expect(() => ref.bind(recordingControl([]))).toThrow(/already bound; bind it once/);
    await ref.start('wf-2', {});
    expect(first).toEqual([['start', 'wf-2', {}]]);
  });
});
