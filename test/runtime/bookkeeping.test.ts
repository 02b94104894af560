import type { AgentStepDocument } from '../../src/contract/definition';
import { EVENT_TYPES, LOG_EVENT_TYPES } from '../../src/contract/status';
import { LocalWorkflowStore } from '../../src/runtime/adapters/local';
import { WorkflowBookkeeping } from '../../src/runtime/bookkeeping';
import { sha256 } from '../../src/runtime/ids';
import type { CallbackRecord, EventPublisher, WorkflowEvent, WorkflowStore } from '../../src/runtime/ports';
import { newRecord } from '../../src/runtime/records';
import { RecordingTelemetry, Telemetry } from '../../src/runtime/telemetry';

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

describe('log lines and events carry a snake-case event_type (seed 000\'s Logs Insights queries)', () => {
  /** A bookkeeping over an in-memory store, recording what it logs and publishes. */
  function recording() {
    const store = new LocalWorkflowStore();
    const events: WorkflowEvent[] = [];
    const telemetry = new RecordingTelemetry();
    const bookkeeping = new WorkflowBookkeeping({ store, events: { publish: async (e) => void events.push(e) }, telemetry, definitionName: 'report' });
    return { store, events, telemetry, bookkeeping };
  }
  const step: AgentStepDocument = {
    type: 'agent',
    name: 'research',
    agent: 'researcher',
    input: {},
    timeoutSeconds: 60,
    retry: { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 },
  };

  test('the step-completed log line has event_type step_completed, and so has the event\'s detail', async () => {
    const { store, events, telemetry, bookkeeping } = recording();
    await store.createWorkflow(newRecord(run.workflowId, 'report', {}, new Date().toISOString()));
    await bookkeeping.stepEnded(run, step, new Date().toISOString(), 'SUCCEEDED', { attempts: 1 });
    expect(telemetry.logs).toEqual([{ level: 'info', message: 'step SUCCEEDED', fields: { workflow_id: 'wf-1', step_name: 'research', event_type: 'step_completed' } }]);
    // The detail-type stays as documented; the detail carries the log's event_type.
    expect(events).toEqual([expect.objectContaining({
      type: 'Workflow Step Completed', workflowId: 'wf-1', stepName: 'research', detail: { event_type: 'step_completed', workflow: 'report', step_type: 'agent', status: 'SUCCEEDED' },
    })]);
  });

  test('every event names its workflow definition in detail.workflow (several orchestrators may share one bus)', async () => {
    const { store, events, bookkeeping } = recording();
    await bookkeeping.workflowStarted(run);
    await bookkeeping.stepStarted(run, step);
    await bookkeeping.stepEnded(run, step, undefined, 'SUCCEEDED', {});
    await bookkeeping.workflowEnded(run, 'SUCCEEDED', undefined, undefined);
    await store.createWorkflow(newRecord('wf-2', 'report', {}, new Date().toISOString()));
    await bookkeeping.workflowEnded({ workflowId: 'wf-2', input: {} }, 'FAILED', undefined, { code: 'X', message: 'boom' });
    expect(events).toHaveLength(5);
    for (const e of events) expect(e.detail.workflow).toBe('report');
  });

  test('every event of a workflow, in its log line and its detail', async () => {
    const { store, events, telemetry, bookkeeping } = recording();
    await bookkeeping.workflowStarted(run);
    await bookkeeping.stepStarted(run, step);
    await bookkeeping.approvalRequested(run, { type: 'approval', name: 'review', prompt: 'ok?', timeoutSeconds: 60, onTimeout: 'REJECT', onReject: 'END' }, 'ok?', 'later');
    await bookkeeping.stepEnded(run, step, undefined, 'SUCCEEDED', {});
    await bookkeeping.workflowEnded(run, 'SUCCEEDED', undefined, undefined);
    for (const [status, done] of [['FAILED', 'workflow_failed'], ['CANCELLED', 'workflow_cancelled']] as const) {
      const other = { workflowId: `wf-${status.toLowerCase()}`, input: {} };
      await store.createWorkflow(newRecord(other.workflowId, 'report', {}, new Date().toISOString()));
      await bookkeeping.workflowEnded(other, status, undefined, undefined);
      expect(events[events.length - 1].detail.event_type).toBe(done);
    }
    expect(events.map((e) => [e.type, e.detail.event_type])).toEqual([
      ['Workflow Started', 'workflow_started'],
      ['Workflow Step Started', 'step_started'],
      ['Workflow Approval Requested', 'approval_requested'],
      ['Workflow Step Completed', 'step_completed'],
      ['Workflow Completed', 'workflow_completed'],
      ['Workflow Failed', 'workflow_failed'],
      ['Workflow Cancelled', 'workflow_cancelled'],
    ]);
    expect(telemetry.logs.map((l) => l.fields.event_type)).toEqual([
      'workflow_started', 'step_started', 'approval_requested', 'step_completed', 'workflow_completed', 'workflow_failed', 'workflow_cancelled',
    ]);
  });

  test('LOG_EVENT_TYPES names every detail-type, in snake case', () => {
    expect(Object.keys(LOG_EVENT_TYPES).sort()).toEqual(Object.values(EVENT_TYPES).sort());
    for (const t of Object.values(LOG_EVENT_TYPES)) expect(t).toMatch(/^[a-z]+(_[a-z]+)+$/);
  });

  test('a waiting agent step makes the workflow await <step>_completion; an approval step, approval', async () => {
    const { store, bookkeeping } = recording();
    await store.createWorkflow(newRecord(run.workflowId, 'report', {}, new Date().toISOString()));
    await bookkeeping.stepWaiting(run, step, 'agent', { startedAt: new Date().toISOString(), attempts: 1 });
    expect(await store.getWorkflow(run.workflowId)).toMatchObject({ awaiting: 'research_completion', steps: [{ name: 'research', status: 'WAITING' }] });
    await bookkeeping.stepWaiting(run, { type: 'approval', name: 'review', prompt: 'ok?', timeoutSeconds: 60, onTimeout: 'REJECT', onReject: 'END' }, 'approval', { startedAt: new Date().toISOString() });
    expect((await store.getWorkflow(run.workflowId))!.awaiting).toBe('approval');
  });
});

describe('metrics of approvals and agent attempts (dimension: the workflow definition)', () => {
  function recording() {
    const telemetry = new RecordingTelemetry();
    const store = new LocalWorkflowStore();
    const bookkeeping = new WorkflowBookkeeping({ store, events: { publish: async () => undefined }, telemetry, definitionName: 'report' });
    return { telemetry, bookkeeping };
  }

  test('an approval request counts ApprovalsRequested', async () => {
    const { telemetry, bookkeeping } = recording();
    await bookkeeping.approvalRequested(run, { type: 'approval', name: 'review', prompt: 'ok?', timeoutSeconds: 60, onTimeout: 'REJECT', onReject: 'END' }, 'ok?', 'later');
    expect(telemetry.metrics).toEqual([{ name: 'ApprovalsRequested', value: 1, definition: 'report' }]);
  });

  test('a succeeded attempt is timed from its dispatch; a failed one is timed and counted; a timed-out one is only counted', () => {
    const { telemetry, bookkeeping } = recording();
    const dispatchedAt = new Date(Date.now() - 1500).toISOString();
    bookkeeping.agentAttemptEnded({ outcome: 'succeeded', dispatchedAt });
    bookkeeping.agentAttemptEnded({ outcome: 'failed', dispatchedAt });
    bookkeeping.agentAttemptEnded({ outcome: 'timed_out', dispatchedAt });
    // A dispatch that itself failed: counted, not timed.
    bookkeeping.agentAttemptEnded({ outcome: 'failed' });
    expect(telemetry.metrics.map((m) => m.name)).toEqual(['AgentTaskDuration', 'AgentTasksFailed', 'AgentTaskDuration', 'AgentTasksFailed', 'AgentTasksFailed']);
    for (const m of telemetry.metrics) expect(m.definition).toBe('report');
    for (const m of telemetry.metrics.filter((x) => x.name === 'AgentTaskDuration')) {
      expect(m.value).toBeGreaterThanOrEqual(1500);
      expect(m.value).toBeLessThan(60_000);
    }
  });
});
