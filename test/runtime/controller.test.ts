import * as fs from 'fs';
import * as path from 'path';
import { definition, agentStep, researchDefinition } from './fixtures';
import { fails, makeRuntime, silent, succeeds, TestRuntime, sleep } from './harness';
import { LocalDurableControl } from '../../src/runtime/durable/local-durable-control';
import { ReferenceWorkflows, WorkflowAgent } from '../../src/workflow';

jest.setTimeout(60_000);
beforeAll(() => LocalDurableControl.setup());
afterAll(() => LocalDurableControl.teardown());

const AGENTS = {
  researcher: succeeds(['research']),
  analyst: succeeds(['analysis']),
  writer: succeeds(['report']),
};

let runtimes: TestRuntime[] = [];
afterEach(() => {
  runtimes.forEach((r) => r.dispose());
  runtimes = [];
});
function runtime(...args: Parameters<typeof makeRuntime>): TestRuntime {
  const rt = makeRuntime(...args);
  runtimes.push(rt);
  return rt;
}

describe('the reference research workflow, end to end', () => {
  test('the definition classes render the same document the tests below use', () => {
    const doc = ReferenceWorkflows.researchReport({
      researcher: WorkflowAgent.named('researcher'), analyst: WorkflowAgent.named('analyst'), writer: WorkflowAgent.named('writer'),
    })._toDocument();
    const fixture = researchDefinition();
    expect(doc.steps.map((s) => [s.type, s.name])).toEqual(fixture.steps.map((s) => [s.type, s.name]));
  });

  test('research, analysis, writing, approval, publish: SUCCEEDED with the report stored', async () => {
    const doc = ReferenceWorkflows.researchReport({
      researcher: WorkflowAgent.named('researcher'), analyst: WorkflowAgent.named('analyst'), writer: WorkflowAgent.named('writer'),
    })._toDocument();
    const rt = runtime(doc, AGENTS);
    const id = await rt.start({ topic: 'Quantum computing and cryptography', parameters: { depth: 'comprehensive' } });

    const waiting = await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
    expect(waiting.status).toBe('RUNNING');
    expect(waiting.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['research', 'SUCCEEDED'], ['analysis', 'SUCCEEDED'], ['writing', 'SUCCEEDED'], ['approval', 'WAITING'],
    ]);

    const approved = await rt.call('POST', `/workflows/${id}/approval`, { approved: true, comment: 'ship it' });
    expect(approved.status).toBe(200);

    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.awaiting).toBeNull();
    expect(done.result.report).toBe(`published/${id}/report.md`);
    const report = fs.readFileSync(path.join(rt.dir, 'artifacts', done.result.report), 'utf-8');
    expect(report).toContain('writing for');
    expect(done.steps.map((s: any) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    for (const s of done.steps) {
      expect(Date.parse(s.started_at)).toBeLessThanOrEqual(Date.parse(s.ended_at));
    }
    expect(done.steps[3].output).toMatchObject({ outcome: 'approved', approved: true, comment: 'ship it' });

    // Each agent got exactly one task, whose input came from the workflow input and earlier steps.
    expect(rt.agents.dispatches.map((d) => d.step_name)).toEqual(['research', 'analysis', 'writing']);
    expect(rt.agents.dispatchesOf('research')[0].input).toEqual({ topic: 'Quantum computing and cryptography', parameters: { depth: 'comprehensive' } });
    expect(rt.agents.dispatchesOf('analysis')[0].input).toEqual({ research: `agents/researcher/${id}/research/attempt-1/research.md` });
    expect(rt.agents.errors).toEqual([]);

    // Events from durable steps: one of each, in order.
    const types = rt.events.map((e) => `${e.type}${e.stepName ? `:${e.stepName}` : ''}`);
    expect(types[0]).toBe('Workflow Started');
    expect(types.filter((t) => t === 'Workflow Approval Requested:approval')).toHaveLength(1);
    expect(types.filter((t) => t === 'Workflow Step Completed:writing')).toHaveLength(1);
    expect(types[types.length - 1]).toBe('Workflow Completed');
  });
});

describe('agent failures', () => {
  test('a failing agent is retried with backoff, then the workflow fails naming the step and the error', async () => {
    const def = definition([agentStep('research', 'researcher', { retry: { maxAttempts: 3, initialDelaySeconds: 1, backoffRate: 1, maxDelaySeconds: 1 } })]);
    const rt = runtime(def, { researcher: fails('model quota exceeded') });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('AGENT_FAILED');
    expect(done.error.message).toContain("step 'research'");
    expect(done.error.message).toContain('after 3 attempt(s)');
    expect(done.error.message).toContain('model quota exceeded');
    expect(rt.agents.dispatchesOf('research').map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(done.steps[0]).toMatchObject({ name: 'research', status: 'FAILED', attempts: 3 });
  });

  test('an agent that never reports times out: TIMED_OUT after its attempts', async () => {
    const def = definition([agentStep('research', 'researcher', { timeoutSeconds: 1 })]);
    const rt = runtime(def, { researcher: silent });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('TIMED_OUT');
    expect(done.error.code).toBe('AGENT_TIMED_OUT');
    expect(done.steps[0].status).toBe('TIMED_OUT');
  });

  test('a flaky agent succeeds on its second attempt', async () => {
    let calls = 0;
    const def = definition([agentStep('research', 'researcher', { retry: { maxAttempts: 2, initialDelaySeconds: 1, backoffRate: 2, maxDelaySeconds: 5 } })]);
    const rt = runtime(def, {
      researcher: async (env, tools) => (++calls === 1 ? fails('transient')(env, tools) : succeeds(['research'])(env, tools)),
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
  });

  test('an unknown agent fails the step with a message naming the agent', async () => {
    const rt = runtime(definition([agentStep('research', 'nobody')]), AGENTS);
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('FAILED');
    expect(done.error.message).toContain("unknown agent 'nobody'");
  });

  void sleep;
});

describe('approvals', () => {
  test('a rejection ends the workflow REJECTED and nothing is published', async () => {
    const rt = runtime(researchDefinition(), AGENTS);
    const id = await rt.start({ topic: 't' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
    expect((await rt.call('POST', `/workflows/${id}/approval`, { approved: false, comment: 'not good enough' })).status).toBe(200);
    const done = await rt.finished(id);
    expect(done.status).toBe('REJECTED');
    expect(done.error).toEqual({ code: 'APPROVAL_REJECTED', message: "step 'approval' was rejected: not good enough" });
    expect(done.steps.map((s: any) => s.name)).not.toContain('publish');
    expect(done.result).toBeNull();
    expect(fs.existsSync(path.join(rt.dir, 'artifacts', 'published'))).toBe(false);
  });

  test.each([
    ['REJECT', 'REJECTED', 'APPROVAL_TIMED_OUT'],
    ['FAIL', 'TIMED_OUT', 'APPROVAL_TIMED_OUT'],
    ['APPROVE', 'SUCCEEDED', undefined],
  ] as const)('an approval nobody answers, with onTimeout %s, ends %s', async (onTimeout, status, code) => {
    const rt = runtime(researchDefinition(1, onTimeout), AGENTS);
    const id = await rt.start({ topic: 't' });
    const done = await rt.finished(id);
    expect(done.status).toBe(status);
    expect(done.error?.code).toBe(code);
    const approval = done.steps.find((s: any) => s.name === 'approval');
    expect(approval.output).toMatchObject({ timed_out: true, approved: onTimeout === 'APPROVE' });
    // A decision after the timeout changes nothing.
    const late = await rt.call('POST', `/workflows/${id}/approval`, { approved: true });
    expect(late.status).toBe(409);
  });

  test('a second decision is refused with 409 and changes nothing', async () => {
    const rt = runtime(researchDefinition(), { ...AGENTS });
    const id = await rt.start({ topic: 't' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
    const [a, b] = await Promise.all([
      rt.call('POST', `/workflows/${id}/approval`, { approved: true }),
      rt.call('POST', `/workflows/${id}/approval`, { approved: false }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const done = await rt.finished(id);
    expect(done.status).toBe(a.status === 200 ? 'SUCCEEDED' : 'REJECTED');
    const again = await rt.call('POST', `/workflows/${id}/approval`, { approved: false });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('has ended');
  });

  test('approving a workflow that waits for an agent is a 409 naming what it waits for', async () => {
    const rt = runtime(researchDefinition(), { ...AGENTS, researcher: silent });
    const id = await rt.start({ topic: 't' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'agent');
    const res = await rt.call('POST', `/workflows/${id}/approval`, { approved: true });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('not waiting for approval');
    expect(res.body.message).toContain('awaiting agent');
    await rt.call('POST', `/workflows/${id}/cancel`);
    await rt.finished(id);
  });
});

describe('cancellation', () => {
  test('cancel while waiting for approval ends the workflow CANCELLED', async () => {
    const rt = runtime(researchDefinition(), AGENTS);
    const id = await rt.start({ topic: 't' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
    const res = await rt.call('POST', `/workflows/${id}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body.cancel_requested).toBe(true);
    const done = await rt.finished(id);
    expect(done.status).toBe('CANCELLED');
    expect(done.error.code).toBe('CANCEL_REQUESTED');
    expect(rt.events[rt.events.length - 1].type).toBe('Workflow Cancelled');
    expect((await rt.call('POST', `/workflows/${id}/cancel`)).status).toBe(409);
  });

  test('cancel while an agent works: the agent\'s later report is refused and nothing else is dispatched', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let lateReport: any;
    const rt = runtime(researchDefinition(), {
      ...AGENTS,
      researcher: async (_env, tools) => {
        await gate;
        const key = await tools.writeArtifact('research', 'late');
        lateReport = await tools.report({ status: 'succeeded', artifacts: { research: key } });
      },
    });
    const id = await rt.start({ topic: 't' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'agent');
    expect((await rt.call('POST', `/workflows/${id}/cancel`)).status).toBe(202);
    const done = await rt.finished(id);
    release();
    await rt.waitFor(id, () => lateReport !== undefined);
    expect(done.status).toBe('CANCELLED');
    expect(lateReport.status).toBe(409);
    expect(rt.agents.dispatches.map((d) => d.step_name)).toEqual(['research']);
  });
});

describe('agent reports (callbacks)', () => {
  test('duplicate, forged, unknown and late reports change nothing and get 409, 403, 404, 409', async () => {
    const reports: Record<string, any> = {};
    const def = definition([agentStep('research', 'researcher'), agentStep('slow', 'slowpoke', { timeoutSeconds: 1 })]);
    const rt = runtime(def, {
      researcher: async (env, tools) => {
        const key = await tools.writeArtifact('research', 'x');
        reports.first = await tools.report({ status: 'succeeded', artifacts: { research: key } });
        reports.duplicate = await tools.report({ status: 'failed', error: { message: 'second report' } });
        reports.forged = await tools.report({ status: 'succeeded' }, { token: 'A'.repeat(43) });
        reports.unknown = await tools.runtime.call('POST', '/callbacks/cb-AAAAAAAAAAAAAAAAAAAAAAAA', { status: 'succeeded' }, { authorization: `Bearer ${env.callback.token}` });
        reports.noAuth = await tools.runtime.call('POST', `/callbacks/${env.callback.id}`, { status: 'succeeded' });
      },
      slowpoke: async (_env, tools) => {
        await sleep(2500); // after the 1 s deadline
        reports.late = await tools.report({ status: 'succeeded' });
      },
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    await rt.waitFor(id, () => reports.late !== undefined);
    expect(reports.first.status).toBe(200);
    expect(reports.duplicate).toMatchObject({ status: 409, body: { error: 'conflict' } });
    expect(reports.duplicate.body.message).toContain('a task reports once');
    expect(reports.forged).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    expect(reports.unknown).toMatchObject({ status: 404 });
    expect(reports.noAuth).toMatchObject({ status: 401 });
    expect(reports.late.status).toBe(409);
    expect(reports.late.body.message).toMatch(/late|no longer waiting|already completed/);
    // The duplicate failure report did not turn the succeeded step into a failure.
    expect(done.steps[0]).toMatchObject({ name: 'research', status: 'SUCCEEDED' });
    expect(done.status).toBe('TIMED_OUT');
  });

  test('a report naming an artifact outside its prefix, or one never written, is a 400 and the step keeps waiting', async () => {
    const results: any[] = [];
    const def = definition([agentStep('research', 'researcher')]);
    const rt = runtime(def, {
      researcher: async (env, tools) => {
        results.push(await tools.report({ status: 'succeeded', artifacts: { report: 'workflows/other/x.md' } }));
        results.push(await tools.report({ status: 'succeeded', artifacts: { report: `${env.artifacts.prefix}missing.md` } }));
        const key = await tools.writeArtifact('report', 'ok');
        results.push(await tools.report({ status: 'succeeded', artifacts: { report: key } }));
      },
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(results.map((r) => r.status)).toEqual([400, 400, 200]);
    expect(results[0].body.message).toContain("outside this task's prefix");
    expect(results[1].body.message).toContain('write the artifact before reporting');
    expect(done.status).toBe('SUCCEEDED');
  });

  test('heartbeats keep a step with a heartbeat timeout alive; a missed heartbeat times it out', async () => {
    const def = definition([
      agentStep('beating', 'beater', { timeoutSeconds: 20, heartbeatTimeoutSeconds: 2 }),
      agentStep('quiet', 'quiet', { timeoutSeconds: 20, heartbeatTimeoutSeconds: 1 }),
    ]);
    const beats: number[] = [];
    const rt = runtime(def, {
      beater: async (_env, tools) => {
        for (let i = 0; i < 4; i++) {
          await sleep(700);
          beats.push((await tools.heartbeat()).status);
        }
        await succeeds(['x'], 0)(_env, tools);
      },
      quiet: silent,
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(beats).toEqual([200, 200, 200, 200]);
    expect(done.steps[0].status).toBe('SUCCEEDED');
    expect(done.steps[1].status).toBe('TIMED_OUT');
    expect(done.status).toBe('TIMED_OUT');
  });
});

describe('parallel and choice', () => {
  test('parallel branches run with their concurrency limit and all outputs are kept', async () => {
    const branches = ['a', 'b', 'c', 'd', 'e'].map((n) => ({ name: n, steps: [agentStep(`task-${n}`, 'worker')] }));
    const def = definition([
      { type: 'parallel', name: 'fan-out', branches, maxConcurrency: 2, minSuccessful: 5 },
      agentStep('merge', 'worker', { input: { a: { from: 'step', step: 'task-a', path: 'artifacts.out' }, e: { from: 'step', step: 'task-e', path: 'artifacts.out' } } }),
    ]);
    const rt = runtime(def, { worker: succeeds(['out'], 150) });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('SUCCEEDED');
    expect(rt.agents.dispatches).toHaveLength(6);
    expect(rt.agents.maxInFlight).toBe(2);
    expect(done.steps.find((s: any) => s.name === 'fan-out').output).toEqual({ succeeded: ['a', 'b', 'c', 'd', 'e'], failed: [] });
    expect(rt.agents.dispatchesOf('merge')[0].input).toEqual({
      a: `agents/worker/${id}/task-a/attempt-1/out.md`, e: `agents/worker/${id}/task-e/attempt-1/out.md`,
    });
  });

  test('a parallel step succeeds with minSuccessful branches, and fails when fewer succeed', async () => {
    const branches = (agentB: string) => [
      { name: 'a', steps: [agentStep('pa', 'good')] },
      { name: 'b', steps: [agentStep('pb', agentB)] },
    ];
    const ok = runtime(definition([{ type: 'parallel', name: 'p', branches: branches('bad'), maxConcurrency: 2, minSuccessful: 1 }]),
      { good: succeeds(['x']), bad: fails('boom') });
    const okId = await ok.start({});
    expect((await ok.finished(okId)).status).toBe('SUCCEEDED');

    const bad = runtime(definition([{ type: 'parallel', name: 'p', branches: branches('bad'), maxConcurrency: 2, minSuccessful: 2 }]),
      { good: succeeds(['x']), bad: fails('boom') });
    const badId = await bad.start({});
    const done = await bad.finished(badId);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('PARALLEL_FAILED');
    expect(done.error.message).toMatch(/[01] of 2 branches succeeded, 2 required/);
    expect(done.error.message).toContain('boom');
  });

  test('a choice on the approval outcome runs the matching case only', async () => {
    const def = definition([
      { type: 'approval', name: 'review', prompt: 'ok?', timeoutSeconds: 60, onTimeout: 'REJECT', onReject: 'CONTINUE' },
      {
        type: 'choice',
        name: 'route',
        value: { from: 'step', step: 'review', path: 'outcome' },
        cases: [{ equals: 'approved', steps: [agentStep('ship', 'worker')] }],
        otherwise: [agentStep('rework', 'worker')],
      },
    ]);
    const rt = runtime(def, { worker: succeeds(['out']) });
    const id = await rt.start({});
    await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
    await rt.call('POST', `/workflows/${id}/approval`, { approved: false });
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(rt.agents.dispatches.map((d) => d.step_name)).toEqual(['rework']);
    expect(done.steps.find((s: any) => s.name === 'route').output).toEqual({ value: 'rejected', matched: 'otherwise' });
  });
});

describe('replay and scale', () => {
  test('a step interrupted mid-way is replayed without dispatching a completed step again', async () => {
    let failuresLeft = 2;
    const rt = runtime(researchDefinition(), AGENTS, {
      wrapStore: (store) => new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop !== 'putStep') return typeof value === 'function' ? value.bind(target) : value;
          return async (workflowId: string, step: any) => {
            // Crash twice while recording the end of the analysis step, after its agent reported.
            if (step.name === 'analysis' && step.status === 'SUCCEEDED' && failuresLeft-- > 0) {
              throw new Error('simulated crash while recording analysis');
            }
            return (value as Function).call(target, workflowId, step);
          };
        },
      }),
    });
    const id = await rt.start({ topic: 't' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'approval', 30_000);
    await rt.call('POST', `/workflows/${id}/approval`, { approved: true });
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(failuresLeft).toBeLessThan(0);
    expect(rt.agents.dispatchesOf('research')).toHaveLength(1);
    expect(rt.agents.dispatchesOf('analysis')).toHaveLength(1);
    expect(rt.agents.dispatchesOf('writing')).toHaveLength(1);
    expect(rt.events.filter((e) => e.type === 'Workflow Step Completed' && e.stepName === 'analysis')).toHaveLength(1);
  });

  test('100 concurrent workflows all reach approval and succeed; none is lost', async () => {
    const rt = runtime(researchDefinition(), {
      researcher: succeeds(['research'], 20), analyst: succeeds(['analysis'], 20), writer: succeeds(['report'], 20),
    });
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => rt.start({ topic: `topic ${i}` })));
    expect(new Set(ids).size).toBe(100);
    await Promise.all(ids.map((id) => rt.waitFor(id, (wf) => wf.awaiting === 'approval', 120_000)));
    const decisions = await Promise.all(ids.map((id) => rt.call('POST', `/workflows/${id}/approval`, { approved: true })));
    expect(decisions.every((d) => d.status === 200)).toBe(true);
    const finals = await Promise.all(ids.map((id) => rt.finished(id)));
    expect(finals.filter((f) => f.status === 'SUCCEEDED')).toHaveLength(100);
    const listed = await rt.call('GET', '/workflows?status=SUCCEEDED&limit=100');
    expect(listed.body.workflows).toHaveLength(100);
    expect(rt.agents.dispatches).toHaveLength(300);
  }, 180_000);
});
