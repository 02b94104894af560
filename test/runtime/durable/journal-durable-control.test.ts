import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DurableContext } from '@aws/durable-execution-sdk-js';
import { JournalDurableControl } from '../../../src/runtime/durable/journal-durable-control';
import { CallbackNotPendingError, CallbackRecord } from '../../../src/runtime/ports';

jest.setTimeout(30_000);

const engines: JournalDurableControl[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

function folder(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-journal-')), 'executions');
}

function engine(fn: (event: any, ctx: DurableContext) => Promise<unknown>, dir = folder()): JournalDurableControl {
  const e = new JournalDurableControl(fn, { dir });
  engines.push(e);
  return e;
}

function approval(workflowId: string, durableCallbackId: string, stepName = 'wait'): CallbackRecord {
  const now = new Date().toISOString();
  return { callbackId: 'cb-1', durableCallbackId, workflowId, stepName, kind: 'approval', state: 'PENDING', createdAt: now, deadline: now };
}

async function until(check: () => boolean, what = 'condition'): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} never held`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('JournalDurableControl', () => {
  test('a step retried with a delay runs again after it, and the attempts are recorded', async () => {
    const runs: number[] = [];
    const e = engine(async (_event, ctx) => ctx.step('flaky', async () => {
      runs.push(Date.now());
      if (runs.length < 3) throw new Error(`attempt ${runs.length} failed`);
      return 'ok';
    }, { retryStrategy: (_err, attempt) => ({ shouldRetry: attempt < 3, delay: { seconds: 1 } }) }));
    await e.start('wf-retry', {});
    const outcome = await e.finished('wf-retry');
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', result: 'ok' });
    expect(runs).toHaveLength(3);
    expect(runs[2] - runs[1]).toBeGreaterThanOrEqual(900);
    expect(outcome.history?.operations).toEqual([expect.objectContaining({ type: 'STEP', name: 'flaky', status: 'SUCCEEDED', attempts: 3 })]);
  });

  test('a wait ends after its time; parallel branches and a map complete', async () => {
    const e = engine(async (_event, ctx) => {
      const started = Date.now();
      await ctx.wait('pause', { seconds: 1 });
      const waited = Date.now() - started;
      const par = await ctx.parallel('both', [
        async (c) => c.step('a', async () => 'A'),
        async (c) => c.step('b', async () => 'B'),
      ]);
      const mapped = await ctx.map('double', [1, 2, 3], async (c, n) => c.step(`x${n}`, async () => n * 2));
      return { waited, par: par.getResults(), mapped: mapped.getResults() };
    });
    await e.start('wf-wait', {});
    const outcome = await e.finished('wf-wait');
    expect(outcome.status).toBe('SUCCEEDED');
    const result = outcome.result as { waited: number; par: string[]; mapped: number[] };
    expect(result.par).toEqual(['A', 'B']);
    expect(result.mapped).toEqual([2, 4, 6]);
    expect(outcome.history?.invocations).toBeGreaterThanOrEqual(2);
    expect(outcome.history?.operations.find((op) => op.name === 'pause')).toMatchObject({ type: 'WAIT', status: 'SUCCEEDED' });
  });

  test('a callback times out, and one with a heartbeat timeout times out without heartbeats', async () => {
    const ids: Record<string, string> = {};
    const e = engine(async (event: { workflow_id: string; input: { heartbeat?: boolean } }, ctx) => {
      try {
        await ctx.waitForCallback('wait/decision', async (id) => {
          ids[event.workflow_id] = id;
        }, event.input.heartbeat ? { timeout: { seconds: 20 }, heartbeatTimeout: { seconds: 1 } } : { timeout: { seconds: 1 } });
        return 'answered';
      } catch (err) {
        return `${(err as Error).name}: ${(err as Error).message}`;
      }
    });
    await e.start('wf-timeout', {});
    await e.start('wf-heartbeat', { heartbeat: true });
    expect((await e.finished('wf-timeout')).result).toMatch(/CallbackTimeoutError: Callback timed out/);
    expect((await e.finished('wf-heartbeat')).result).toMatch(/CallbackTimeoutError: Callback timed out on heartbeat/);
    await expect(e.callbackSuccess(approval('wf-timeout', ids['wf-timeout']), '"late"')).rejects.toBeInstanceOf(CallbackNotPendingError);
  });

  test('heartbeats keep a callback with a heartbeat timeout open', async () => {
    const ids: Record<string, string> = {};
    const e = engine(async (event: { workflow_id: string }, ctx) => ctx.waitForCallback('wait/decision', async (id) => {
      ids[event.workflow_id] = id;
    }, { timeout: { seconds: 20 }, heartbeatTimeout: { seconds: 1 } }));
    await e.start('wf-beat', {});
    await until(() => ids['wf-beat'] !== undefined);
    const cb = approval('wf-beat', ids['wf-beat']);
    const until2s = Date.now() + 2_000;
    while (Date.now() < until2s) {
      await e.callbackHeartbeat(cb);
      await new Promise((r) => setTimeout(r, 200));
    }
    await e.callbackSuccess(cb, '"alive"');
    expect(await e.finished('wf-beat')).toMatchObject({ status: 'SUCCEEDED', result: '"alive"' });
  });

  test('a second engine on the same folder resumes: a completed step does not run again, the callback is still completed', async () => {
    const dir = folder();
    const runs: string[] = [];
    const ids: Record<string, string> = {};
    const fn = async (event: { workflow_id: string }, ctx: DurableContext) => {
      const first = await ctx.step('first', async () => {
        runs.push('first');
        return 1;
      });
      const got = await ctx.waitForCallback('wait/decision', async (id) => {
        ids[event.workflow_id] = id;
      }, { timeout: { seconds: 60 } });
      await ctx.wait('pause', { seconds: 1 });
      return { first, got };
    };
    const one = engine(fn, dir);
    await one.start('wf-resume', {});
    await until(() => ids['wf-resume'] !== undefined);
    const id = ids['wf-resume'];
    await one.close();

    const two = engine(fn, dir);
    expect(two.resume()).toEqual(['wf-resume']);
    expect(two.callbackPending('wf-resume', id)).toBe(true);
    await two.callbackSuccess(approval('wf-resume', id), '"yes"');
    const outcome = await two.finished('wf-resume');
    expect(outcome).toMatchObject({ status: 'SUCCEEDED', result: { first: 1, got: '"yes"' } });
    expect(runs).toEqual(['first']);
    // Ended: the journal holds only its end; memory is released; a third engine resumes nothing.
    expect(two.workflowIds).toEqual([]);
    const lines = fs.readFileSync(path.join(dir, 'wf-resume.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).t)).toEqual(['start', 'end']);
    const three = engine(fn, dir);
    expect(three.resume()).toEqual([]);
    expect((await three.finished('wf-resume')).status).toBe('SUCCEEDED');
    await three.start('wf-resume', {}); // idempotent: an ended execution is not started again
    expect(three.workflowIds).toEqual([]);
  });

  test('a timer that fell due while no engine ran fires at once on resume (absolute times in the journal)', async () => {
    const dir = folder();
    const fn = async (_event: unknown, ctx: DurableContext) => {
      await ctx.wait('pause', { seconds: 30 });
      return 'woke';
    };
    const one = engine(fn, dir);
    await one.start('wf-due', {});
    const file = path.join(dir, 'wf-due.jsonl');
    await until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('ScheduledEndTimestamp'), 'the wait journaled');
    await one.close();
    // The 30 s went by while no engine ran: the journal's end time is in the past.
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const wait = lines.filter((l) => l.entry?.op.Name === 'pause').pop();
    expect(Date.parse(wait.entry.op.WaitDetails.ScheduledEndTimestamp)).toBeGreaterThan(Date.now() + 20_000);
    wait.entry.op.WaitDetails.ScheduledEndTimestamp = new Date(Date.now() - 1_000).toISOString();
    fs.appendFileSync(file, `${JSON.stringify(wait)}\n`);

    const two = engine(fn, dir);
    expect(two.resume()).toEqual(['wf-due']);
    const started = Date.now();
    expect(await two.finished('wf-due')).toMatchObject({ status: 'SUCCEEDED', result: 'woke' });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test('a torn last line is ignored (and cut off) on load', async () => {
    const dir = folder();
    const ids: Record<string, string> = {};
    const fn = async (event: { workflow_id: string }, ctx: DurableContext) => ctx.waitForCallback('wait/decision', async (id) => {
      ids[event.workflow_id] = id;
    }, { timeout: { seconds: 60 } });
    const one = engine(fn, dir);
    await one.start('wf-torn', {});
    await until(() => ids['wf-torn'] !== undefined);
    await one.close();
    const file = path.join(dir, 'wf-torn.jsonl');
    const good = fs.readFileSync(file, 'utf8');
    fs.appendFileSync(file, '{"t":"op","entry":{"op":{"Id":"x","Ty');

    const lines: string[] = [];
    const two = new JournalDurableControl(fn, { dir, log: (l) => lines.push(l) });
    engines.push(two);
    expect(two.resume()).toEqual(['wf-torn']);
    expect(fs.readFileSync(file, 'utf8')).toBe(good);
    expect(lines.join('\n')).toMatch(/torn line/);
    await two.callbackSuccess(approval('wf-torn', ids['wf-torn']), '"fine"');
    expect(await two.finished('wf-torn')).toMatchObject({ status: 'SUCCEEDED', result: '"fine"' });
  });
});
