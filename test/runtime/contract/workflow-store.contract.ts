import { randomUUID } from 'crypto';
import type { WorkflowStatus } from '../../../src/contract/status';
import { CallbackRecord, DecisionRecord, InvalidPageTokenError, StepRecord, WorkflowRecord, WorkflowStore } from '../../../src/runtime/ports';

/**
 * The WorkflowStore contract: every semantic of the port's doc comments. `makeStore` is
 * called once per test and must return an empty store.
 */
export function workflowStoreContract(makeStore: () => Promise<WorkflowStore>): void {
  let store: WorkflowStore;
  let run: string;
  let n = 0;

  beforeEach(async () => {
    store = await makeStore();
    run = randomUUID().slice(0, 8);
  });

  /** A record updated `second` seconds after 2024-05-01T00:00:00Z. */
  const workflow = (second = 0, overrides: Partial<WorkflowRecord> = {}): WorkflowRecord => {
    const at = new Date(Date.UTC(2024, 4, 1) + second * 1000).toISOString();
    return {
      workflowId: `wf-${run}-${++n}`,
      definitionName: 'research-report',
      status: 'RUNNING',
      awaiting: null,
      input: { topic: 'durable agents', depth: 2, tags: ['a', 'b'] },
      createdAt: at,
      updatedAt: at,
      steps: [],
      ...overrides,
    };
  };
  const callback = (workflowId: string, overrides: Partial<CallbackRecord> = {}): CallbackRecord => ({
    callbackId: `cb-${run}-${++n}`,
    durableCallbackId: `durable-${n}`,
    workflowId,
    stepName: 'research',
    kind: 'agent',
    tokenHash: 'ab'.repeat(32),
    state: 'PENDING',
    createdAt: new Date(Date.UTC(2024, 4, 1) + n * 1000).toISOString(),
    deadline: '2024-05-02T00:00:00.000Z',
    ...overrides,
  });
  const step = (name: string, overrides: Partial<StepRecord> = {}): StepRecord => ({ name, type: 'agent', status: 'RUNNING', attempts: 1, ...overrides });
  /** A record without what a store may add on its own (`expiresAt`). */
  const stored = (record: WorkflowRecord | undefined) => {
    if (!record) return record;
    const { expiresAt: _expiresAt, ...rest } = record;
    return rest;
  };
  const listAll = async (status?: WorkflowStatus, limit = 100) => {
    const pages: WorkflowRecord[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await store.listWorkflows({ status, limit, nextToken });
      pages.push(page.items);
      nextToken = page.nextToken;
      if (pages.length > 50) throw new Error('listing does not end');
    } while (nextToken);
    return pages;
  };
  const ids = (records: readonly WorkflowRecord[]) => records.map((r) => r.workflowId);

  describe('createWorkflow and getWorkflow', () => {
    test('creates a record and reads it back as it was given', async () => {
      const record = workflow(0, {
        steps: [step('research'), step('write', { status: 'WAITING' })],
        idempotencyKey: `key-${run}`,
        result: { report: 'reports/x.md' },
        cancelRequested: false,
      });
      const out = await store.createWorkflow(record);
      expect(out.created).toBe(true);
      expect(stored(out.workflow)).toEqual(record);
      expect(stored(await store.getWorkflow(record.workflowId))).toEqual(record);
    });

    test('an unknown id reads as undefined', async () => {
      expect(await store.getWorkflow(`wf-${run}-missing`)).toBeUndefined();
    });

    test('a repeat with the same id returns the existing record, unchanged', async () => {
      const first = workflow(0);
      await store.createWorkflow(first);
      const again = await store.createWorkflow({ ...first, definitionName: 'other', input: { topic: 'changed' }, status: 'PENDING' });
      expect(again.created).toBe(false);
      expect(stored(again.workflow)).toEqual(first);
      expect(stored(await store.getWorkflow(first.workflowId))).toEqual(first);
      expect(ids((await listAll()).flat())).toEqual([first.workflowId]);
    });

    test('a repeat with the same idempotency key (another id) returns the first record and creates nothing', async () => {
      const first = workflow(0, { idempotencyKey: `key-${run}` });
      await store.createWorkflow(first);
      const second = workflow(1, { idempotencyKey: `key-${run}` });
      const again = await store.createWorkflow(second);
      expect(again.created).toBe(false);
      expect(again.workflow.workflowId).toBe(first.workflowId);
      expect(await store.getWorkflow(second.workflowId)).toBeUndefined();
      expect(ids((await listAll()).flat())).toEqual([first.workflowId]);
    });

    test('different idempotency keys create different workflows', async () => {
      const a = await store.createWorkflow(workflow(0, { idempotencyKey: `key-a-${run}` }));
      const b = await store.createWorkflow(workflow(1, { idempotencyKey: `key-b-${run}` }));
      expect([a.created, b.created]).toEqual([true, true]);
      expect(await store.getWorkflow(b.workflow.workflowId)).toBeDefined();
    });

    test('concurrent creates with one idempotency key create exactly one workflow', async () => {
      const records = Array.from({ length: 5 }, (_, i) => workflow(i, { idempotencyKey: `key-${run}` }));
      const results = await Promise.all(records.map((r) => store.createWorkflow(r)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.find((r) => r.created)!.workflow.workflowId;
      expect(new Set(results.map((r) => r.workflow.workflowId))).toEqual(new Set([winner]));
      expect(ids((await listAll()).flat())).toEqual([winner]);
    });

    test('records handed out are copies: changing them changes nothing stored', async () => {
      const record = workflow(0, { input: { topic: 'original' } });
      const out = await store.createWorkflow(record);
      (record.input as Record<string, unknown>).topic = 'mutated by caller';
      (out.workflow.input as Record<string, unknown>).topic = 'mutated by caller';
      const read = await store.getWorkflow(record.workflowId);
      (read!.input as Record<string, unknown>).topic = 'mutated by caller';
      expect((await store.getWorkflow(record.workflowId))?.input).toEqual({ topic: 'original' });
    });
  });

  describe('updateWorkflow', () => {
    test('applies the patch: given fields change, absent ones stay, null clears, updatedAt moves on', async () => {
      const record = workflow(0, { result: { old: true }, error: { code: 'E_OLD', message: 'old' }, awaiting: 'research_completion' });
      await store.createWorkflow(record);
      const before = Date.now();
      expect(await store.updateWorkflow(record.workflowId, { status: 'SUCCEEDED', awaiting: null, result: { report: 'r.md' }, error: null })).toBe(true);
      const updated = await store.getWorkflow(record.workflowId);
      expect(updated).toMatchObject({ status: 'SUCCEEDED', awaiting: null, result: { report: 'r.md' }, input: record.input, definitionName: record.definitionName });
      expect(updated).not.toHaveProperty('error');
      expect(Date.parse(updated!.updatedAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(updated!.createdAt).toBe(record.createdAt);

      expect(await store.updateWorkflow(record.workflowId, { cancelRequested: true })).toBe(true);
      expect(await store.getWorkflow(record.workflowId)).toMatchObject({ status: 'SUCCEEDED', cancelRequested: true, result: { report: 'r.md' } });
      expect(await store.updateWorkflow(record.workflowId, { result: null })).toBe(true);
      expect(await store.getWorkflow(record.workflowId)).not.toHaveProperty('result');
    });

    test('an unknown workflow is not updated, and not created', async () => {
      expect(await store.updateWorkflow(`wf-${run}-missing`, { status: 'FAILED' })).toBe(false);
      expect(await store.getWorkflow(`wf-${run}-missing`)).toBeUndefined();
    });

    test('onlyIfStatusIn: applied only when the current status is listed', async () => {
      const record = workflow(0, { status: 'RUNNING' });
      await store.createWorkflow(record);
      expect(await store.updateWorkflow(record.workflowId, { status: 'FAILED' }, ['PENDING', 'SUCCEEDED'])).toBe(false);
      expect(await store.updateWorkflow(record.workflowId, { status: 'FAILED' }, [])).toBe(false);
      expect(stored(await store.getWorkflow(record.workflowId))).toEqual(record);
      expect(await store.updateWorkflow(record.workflowId, { status: 'CANCELLED' }, ['PENDING', 'RUNNING'])).toBe(true);
      expect((await store.getWorkflow(record.workflowId))?.status).toBe('CANCELLED');
    });

    test('concurrent conditional updates: exactly one applies', async () => {
      const record = workflow(0, { status: 'RUNNING' });
      await store.createWorkflow(record);
      const targets: WorkflowStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'REJECTED'];
      const attempts = Array.from({ length: 10 }, (_, i) => targets[i % targets.length]);
      const applied = await Promise.all(attempts.map((status) => store.updateWorkflow(record.workflowId, { status }, ['RUNNING'])));
      expect(applied.filter(Boolean)).toHaveLength(1);
      expect((await store.getWorkflow(record.workflowId))?.status).toBe(attempts[applied.indexOf(true)]);
    });
  });

  describe('listWorkflows', () => {
    /** Seven workflows created out of order; returns them newest first. */
    const seed = async () => {
      const statuses: WorkflowStatus[] = ['RUNNING', 'SUCCEEDED', 'RUNNING', 'FAILED', 'RUNNING', 'RUNNING', 'SUCCEEDED'];
      const records = statuses.map((status, i) => workflow(i * 10, { status }));
      for (const i of [3, 0, 6, 1, 5, 2, 4]) await store.createWorkflow(records[i]);
      return [...records].reverse();
    };

    test('newest update first, with the whole record', async () => {
      const newestFirst = await seed();
      const [page] = await listAll();
      expect(ids(page)).toEqual(ids(newestFirst));
      expect(page.map(stored)).toEqual(newestFirst);
    });

    test('pages of `limit` items, a next token exactly while more remain, no item twice or missed', async () => {
      const newestFirst = await seed();
      const pages = await listAll(undefined, 3);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      expect(ids(pages.flat())).toEqual(ids(newestFirst));
      const exact = await listAll(undefined, 7);
      expect(exact.map((p) => p.length)).toEqual([7]);
    });

    test('a status filter, also across pages', async () => {
      const newestFirst = await seed();
      const running = newestFirst.filter((r) => r.status === 'RUNNING');
      const pages = await listAll('RUNNING', 2);
      expect(pages.map((p) => p.length)).toEqual([2, 2]);
      expect(ids(pages.flat())).toEqual(ids(running));
      expect(ids((await listAll('FAILED', 2)).flat())).toEqual(ids(newestFirst.filter((r) => r.status === 'FAILED')));
      expect(await store.listWorkflows({ status: 'TIMED_OUT', limit: 5 })).toEqual({ items: [] });
    });

    test('an update moves a workflow to the top and into its new status', async () => {
      const newestFirst = await seed();
      const oldest = newestFirst[newestFirst.length - 1];
      expect(await store.updateWorkflow(oldest.workflowId, { status: 'CANCELLED' })).toBe(true);
      const [page] = await listAll();
      expect(page[0].workflowId).toBe(oldest.workflowId);
      expect(ids((await listAll('CANCELLED')).flat())).toEqual([oldest.workflowId]);
      expect(ids((await listAll(oldest.status)).flat())).not.toContain(oldest.workflowId);
    });

    test('an empty store lists nothing', async () => {
      expect(await store.listWorkflows({ limit: 10 })).toEqual({ items: [] });
    });

    test('a forged, garbled or foreign next token is refused with InvalidPageTokenError', async () => {
      await seed();
      const { nextToken } = await store.listWorkflows({ limit: 2 });
      const { nextToken: runningToken } = await store.listWorkflows({ status: 'RUNNING', limit: 1 });
      expect(nextToken).toBeDefined();
      expect(runningToken).toBeDefined();
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const forged = [
        'not a token!',
        'abc',
        nextToken!.slice(0, -3),
        `${nextToken}==`,
        b64({}),
        b64([1, 2]),
        b64('WF#x'),
        b64({ pk: 'WF#x', sk: 'WF', entity: 'WORKFLOW', updatedAt: '2024-05-01T00:00:00.000Z', extra: 'x' }),
        b64({ pk: 'WF#x', sk: 'CB#y', entity: 'WORKFLOW', updatedAt: '2024-05-01T00:00:00.000Z' }),
        b64({ v: 2, s: null, u: '2024-05-01T00:00:00.000Z', id: 'x' }),
        'x'.repeat(10_000),
      ];
      for (const token of forged) {
        await expect(store.listWorkflows({ limit: 2, nextToken: token })).rejects.toBeInstanceOf(InvalidPageTokenError);
      }
      // A token of one listing is refused by a listing with another filter.
      await expect(store.listWorkflows({ limit: 2, nextToken: runningToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(store.listWorkflows({ status: 'RUNNING', limit: 2, nextToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(store.listWorkflows({ status: 'FAILED', limit: 2, nextToken: runningToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      // and the genuine one still works
      expect((await store.listWorkflows({ limit: 2, nextToken })).items).toHaveLength(2);
    });

    test('a limit outside 1..100 is refused', async () => {
      for (const limit of [0, 101, 1.5, -1, Number.NaN]) {
        await expect(store.listWorkflows({ limit })).rejects.toThrow(/limit must be an integer from 1 to 100/);
      }
    });
  });

  describe('putStep', () => {
    test('appends new steps in first-seen order and replaces a known one where it is', async () => {
      const record = workflow(0, { steps: [step('plan', { status: 'SUCCEEDED' })] });
      await store.createWorkflow(record);
      await store.putStep(record.workflowId, step('research'));
      await store.putStep(record.workflowId, step('write'));
      const done = step('research', { status: 'SUCCEEDED', attempts: 2, output: { artifacts: { notes: 'a/notes.md' } }, endedAt: '2024-05-01T01:00:00.000Z' });
      await store.putStep(record.workflowId, done);
      await store.putStep(record.workflowId, step('review', { type: 'approval', status: 'WAITING' }));
      // A replacement is the new step as given: nothing of the old one is merged into it.
      await store.putStep(record.workflowId, { name: 'write', type: 'agent', status: 'FAILED', error: { code: 'E_AGENT', message: 'boom' } });
      const read = await store.getWorkflow(record.workflowId);
      expect(read!.steps).toEqual([
        step('plan', { status: 'SUCCEEDED' }),
        done,
        { name: 'write', type: 'agent', status: 'FAILED', error: { code: 'E_AGENT', message: 'boom' } },
        step('review', { type: 'approval', status: 'WAITING' }),
      ]);
      expect(read!.updatedAt > record.updatedAt).toBe(true);
      const [page] = await listAll();
      expect(page[0].steps.map((s) => s.name)).toEqual(['plan', 'research', 'write', 'review']);
    });

    test('a step of an unknown workflow is refused and creates nothing', async () => {
      await expect(store.putStep(`wf-${run}-missing`, step('research'))).rejects.toThrow(/not found/);
      expect(await store.getWorkflow(`wf-${run}-missing`)).toBeUndefined();
    });
  });

  describe('callbacks', () => {
    test('put and get; an unknown id reads as undefined', async () => {
      const record = workflow(0);
      await store.createWorkflow(record);
      const cb = callback(record.workflowId);
      const approval = callback(record.workflowId, { kind: 'approval', tokenHash: undefined, stepName: 'review' });
      delete (approval as { tokenHash?: string }).tokenHash;
      const agent = callback(record.workflowId, { attempt: 2 });
      const timer = callback(record.workflowId, { kind: 'timer', attempt: 1 });
      delete (timer as { tokenHash?: string }).tokenHash;
      await store.putCallback(cb);
      await store.putCallback(approval);
      await store.putCallback(agent);
      await store.putCallback(timer);
      expect(await store.getCallback(cb.callbackId)).toEqual(cb);
      expect(await store.getCallback(approval.callbackId)).toEqual(approval);
      expect(await store.getCallback(agent.callbackId)).toEqual(agent);
      expect(await store.getCallback(timer.callbackId)).toEqual(timer);
      expect((await store.pendingCallbacks(record.workflowId)).find((c) => c.kind === 'timer')).toEqual(timer);
      expect(await store.completeCallback(timer.callbackId, 'CANCELLED')).toBe(true);
      expect(await store.getCallback(timer.callbackId)).toEqual({ ...timer, state: 'COMPLETED', outcome: 'CANCELLED' });
      expect(await store.getCallback(`cb-${run}-missing`)).toBeUndefined();
    });

    test('a callback of an unknown workflow is refused', async () => {
      const cb = callback(`wf-${run}-missing`);
      await expect(store.putCallback(cb)).rejects.toThrow(/not found/);
      expect(await store.getCallback(cb.callbackId)).toBeUndefined();
    });

    test('pendingCallbacks lists the pending callbacks of that workflow only', async () => {
      const a = workflow(0);
      const b = workflow(1);
      await store.createWorkflow(a);
      await store.createWorkflow(b);
      const [a1, a2, a3] = [callback(a.workflowId), callback(a.workflowId, { kind: 'approval' }), callback(a.workflowId)];
      const b1 = callback(b.workflowId);
      for (const cb of [a1, a2, a3, b1]) await store.putCallback(cb);
      expect(await store.completeCallback(a2.callbackId, 'SUCCEEDED')).toBe(true);
      const pending = await store.pendingCallbacks(a.workflowId);
      expect(pending.map((c) => c.callbackId).sort()).toEqual([a1.callbackId, a3.callbackId].sort());
      expect(pending.find((c) => c.callbackId === a1.callbackId)).toEqual(a1);
      expect(await store.pendingCallbacks(`wf-${run}-missing`)).toEqual([]);
    });

    test('completeCallback completes a pending callback once; then, and for an unknown id, it returns false', async () => {
      const record = workflow(0);
      await store.createWorkflow(record);
      const cb = callback(record.workflowId);
      await store.putCallback(cb);
      expect(await store.completeCallback(cb.callbackId, 'FAILED')).toBe(true);
      expect(await store.getCallback(cb.callbackId)).toEqual({ ...cb, state: 'COMPLETED', outcome: 'FAILED' });
      expect(await store.completeCallback(cb.callbackId, 'SUCCEEDED')).toBe(false);
      expect(await store.getCallback(cb.callbackId)).toMatchObject({ state: 'COMPLETED', outcome: 'FAILED' });
      expect(await store.pendingCallbacks(record.workflowId)).toEqual([]);
      expect(await store.completeCallback(`cb-${run}-missing`, 'SUCCEEDED')).toBe(false);
      expect(await store.getCallback(`cb-${run}-missing`)).toBeUndefined();
    });

    test('exactly one of 10 concurrent completes wins, and its outcome is kept', async () => {
      const record = workflow(0);
      await store.createWorkflow(record);
      const cb = callback(record.workflowId);
      await store.putCallback(cb);
      const outcomes = Array.from({ length: 10 }, (_, i) => (['SUCCEEDED', 'FAILED', 'CANCELLED'] as const)[i % 3]);
      const won = await Promise.all(outcomes.map((o) => store.completeCallback(cb.callbackId, o)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await store.getCallback(cb.callbackId)).toEqual({ ...cb, state: 'COMPLETED', outcome: outcomes[won.indexOf(true)] });
      expect(await store.pendingCallbacks(record.workflowId)).toEqual([]);
    });

    test('an outcome that is not one of SUCCEEDED, FAILED, CANCELLED is refused', async () => {
      const record = workflow(0);
      await store.createWorkflow(record);
      const cb = callback(record.workflowId);
      await store.putCallback(cb);
      await expect(store.completeCallback(cb.callbackId, 'DONE' as never)).rejects.toThrow(/outcome must be one of/);
      expect(await store.getCallback(cb.callbackId)).toEqual(cb);
    });
  });

  describe('decisions (audit records) and approval links', () => {
    const decision = (workflowId: string, callbackId: string, overrides: Partial<DecisionRecord> = {}): DecisionRecord => ({
      workflowId,
      callbackId,
      stepName: 'review',
      decision: 'approved',
      comment: 'looks right',
      by: 'arn:aws:iam::123456789012:user/alice',
      via: 'iam',
      decidedAt: '2024-05-01T10:00:00.000Z',
      sourceIp: '203.0.113.7',
      userAgent: 'curl/8.5.0',
      ...overrides,
    });

    test('a decision is stored once, read back oldest first, and never overwritten', async () => {
      const record = workflow(0);
      await store.createWorkflow(record);
      const later = decision(record.workflowId, `cb-${run}-b`, { decidedAt: '2024-05-01T11:00:00.000Z', decision: 'rejected', via: 'link', by: 'link:lk-1', linkId: 'lk-1' });
      const first = decision(record.workflowId, `cb-${run}-a`);
      expect(await store.putDecision(later)).toBe(true);
      expect(await store.putDecision(first)).toBe(true);
      expect(await store.putDecision({ ...first, decision: 'rejected', by: 'someone else' })).toBe(false);
      expect(await store.listDecisions(record.workflowId)).toEqual([first, later]);
      // The decision items do not show up as callbacks, steps or workflows.
      expect(await store.pendingCallbacks(record.workflowId)).toEqual([]);
      expect(stored(await store.getWorkflow(record.workflowId))).toEqual(record);
      expect(ids((await listAll()).flat())).toEqual([record.workflowId]);
    });

    test('exactly one of 10 concurrent decisions on one callback is kept', async () => {
      const record = workflow(0);
      await store.createWorkflow(record);
      const tries = Array.from({ length: 10 }, (_, i) => decision(record.workflowId, `cb-${run}-x`, { by: `user-${i}` }));
      const won = await Promise.all(tries.map((d) => store.putDecision(d)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await store.listDecisions(record.workflowId)).toEqual([tries[won.indexOf(true)]]);
    });

    test('decisions of an unknown workflow: none to list, and none can be written', async () => {
      expect(await store.listDecisions(`wf-${run}-missing`)).toEqual([]);
      await expect(store.putDecision(decision(`wf-${run}-missing`, `cb-${run}-a`))).rejects.toThrow(/not found/);
    });

    test('a link is claimed once; concurrent claims have one winner; other links and workflows are apart', async () => {
      const a = workflow(0);
      const b = workflow(1);
      await store.createWorkflow(a);
      await store.createWorkflow(b);
      const won = await Promise.all(Array.from({ length: 10 }, () => store.claimLink(a.workflowId, 'lk-one')));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await store.claimLink(a.workflowId, 'lk-one')).toBe(false);
      expect(await store.claimLink(a.workflowId, 'lk-two')).toBe(true);
      expect(await store.claimLink(b.workflowId, 'lk-one')).toBe(true);
      await expect(store.claimLink(`wf-${run}-missing`, 'lk-three')).rejects.toThrow(/not found/);
      expect(stored(await store.getWorkflow(a.workflowId))).toEqual(a);
    });
  });

  describe('usage, stop reasons and the kill switch', () => {
    test('recordUsage sets one key, keeps the others (concurrent writers too), replaces its own, and returns the record after the change', async () => {
      const wf = workflow(1);
      await store.createWorkflow(wf);
      expect(await store.recordUsage(`wf-${run}-unknown`, 'a#1', { input_tokens: 1, output_tokens: 1 })).toBeUndefined();
      await Promise.all([
        store.recordUsage(wf.workflowId, 'a#1', { input_tokens: 10, output_tokens: 5, model: 'm' }),
        store.recordUsage(wf.workflowId, 'b#1', { input_tokens: 1, output_tokens: 2, estimated_cost_usd: 0.25 }),
      ]);
      const after = await store.recordUsage(wf.workflowId, 'a#1', { input_tokens: 20, output_tokens: 8, model: 'm' });
      expect(after?.usage).toEqual({ 'a#1': { input_tokens: 20, output_tokens: 8, model: 'm' }, 'b#1': { input_tokens: 1, output_tokens: 2, estimated_cost_usd: 0.25 } });
      const read = await store.getWorkflow(wf.workflowId);
      expect(read?.usage).toEqual(after?.usage);
      expect(read?.input).toEqual(wf.input);
      expect(read?.status).toBe('RUNNING');
    });

    test('updateWorkflow keeps a stop reason with the cancel request', async () => {
      const wf = workflow(2);
      await store.createWorkflow(wf);
      const reason = { status: 'FAILED' as const, code: 'BUDGET_EXCEEDED', message: 'over', detail: { budget: 'maxTokens', limit: 5, used: 6 } };
      expect(await store.updateWorkflow(wf.workflowId, { cancelRequested: true, stopReason: reason }, ['PENDING', 'RUNNING'])).toBe(true);
      expect(await store.getWorkflow(wf.workflowId)).toMatchObject({ cancelRequested: true, stopReason: reason });
    });

    test('the kill switch is absent in a new store, then reads back as last put', async () => {
      const first = await store.getKillSwitch();
      // A store shared by several tests (one table) may hold an earlier test's switch: only a new one must be empty.
      if (first !== undefined) expect(typeof first.engaged).toBe('boolean');
      const on = { engaged: true, reason: `incident ${run}`, changedBy: 'arn:aws:iam::123456789012:role/ops', changedAt: '2024-05-01T00:00:00.000Z' };
      await store.putKillSwitch(on);
      expect(await store.getKillSwitch()).toEqual(on);
      const off = { engaged: false, changedBy: 'arn:aws:iam::123456789012:role/ops', changedAt: '2024-05-01T01:00:00.000Z' };
      await store.putKillSwitch(off);
      expect(await store.getKillSwitch()).toEqual(off);
      // It is no workflow: listings never show it.
      expect((await store.listWorkflows({ limit: 100 })).items.every((w) => typeof w.workflowId === 'string' && w.workflowId.startsWith('wf-'))).toBe(true);
    });
  });
}
