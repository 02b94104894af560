import * as fs from 'fs';
import * as path from 'path';
import { definition, agentStep, researchDefinition } from './fixtures';
import { fails, makeRuntime, silent, succeeds, TestRuntime, sleep } from './harness';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import { newRecord } from '../../src/runtime/controller';
import { LocalDurableControl } from '../../src/runtime/durable/local-durable-control';
import { newWorkflowId } from '../../src/runtime/ids';
import { cancellationError, encodeOutcome } from '../../src/runtime/outcome';
import { AgentDispatcher, CallbackRecord, WorkflowStore } from '../../src/runtime/ports';
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

/** A store whose `method` is replaced by `replace(original)`. */
function wrapMethod<K extends keyof WorkflowStore>(store: WorkflowStore, method: K,
  replace: (original: WorkflowStore[K]) => WorkflowStore[K]): WorkflowStore {
  const original = (store[method] as Function).bind(store) as WorkflowStore[K];
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === method) return replace(original);
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * A store failure the controller's bookkeeping retry gives up on at once (it does not retry an
 * error whose data says it is final), so that a test need not wait out the retries.
 */
function permanentFailure(message: string): Error {
  return Object.assign(new Error(message), { errorData: encodeOutcome({ kind: 'final', reason: 'TEST' }) });
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition never held');
    await sleep(20);
  }
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

    // Metrics: one approval asked for, three agent attempts timed, none failed.
    const metrics = (name: string) => rt.telemetry.metrics.filter((m) => m.name === name);
    expect(metrics('ApprovalsRequested')).toEqual([{ name: 'ApprovalsRequested', value: 1, definition: 'research-report' }]);
    expect(metrics('AgentTaskDuration')).toHaveLength(3);
    expect(metrics('AgentTasksFailed')).toEqual([]);
  });
});

describe('durable operations (each one is billed)', () => {
  /**
   * The operations the controller takes for a workflow of top-level agent, approval and publish
   * steps that runs straight through (each agent reports success at once, the approval approves),
   * derived from its definition: `workflow/start`; per agent step the callback of its attempt and
   * the step that dispatches it (and records the step's start); per approval its callback and the
   * step that requests it; one step per publish; `workflow/finish`. A step's completion is
   * written by the run's next step, so it takes no operation of its own.
   */
  function straightThroughOperations(doc: WorkflowDefinitionDocument): string[] {
    const ops = ['STEP workflow/start'];
    for (const step of doc.steps) {
      switch (step.type) {
        case 'agent':
          ops.push(`CALLBACK ${step.name}/attempt-1`, `STEP ${step.name}/attempt-1/dispatch`);
          break;
        case 'approval':
          ops.push(`CALLBACK ${step.name}/decision`, `STEP ${step.name}/decision/request`);
          break;
        case 'publish':
          ops.push(`STEP ${step.name}/publish`);
          break;
        default:
          throw new Error(`straightThroughOperations does not count ${step.type} steps`);
      }
    }
    ops.push('STEP workflow/finish');
    return ops;
  }

  /** The events of the same run, in order: each step's start, (approval request,) and completion. */
  function straightThroughEvents(doc: WorkflowDefinitionDocument): string[] {
    return [
      'Workflow Started',
      ...doc.steps.flatMap((s) => [
        `Workflow Step Started:${s.name}`,
        ...(s.type === 'approval' ? [`Workflow Approval Requested:${s.name}`] : []),
        `Workflow Step Completed:${s.name}`,
      ]),
      'Workflow Completed',
    ];
  }

  test('the reference workflow takes a callback and one step per wait, one step to publish, and no child context', async () => {
    const doc = ReferenceWorkflows.researchReport({
      researcher: WorkflowAgent.named('researcher'), analyst: WorkflowAgent.named('analyst'), writer: WorkflowAgent.named('writer'),
    })._toDocument();
    const rt = runtime(doc, AGENTS);
    const id = await rt.start({ topic: 'Quantum computing and cryptography' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
    expect((await rt.call('POST', `/workflows/${id}/approval`, { approved: true })).status).toBe(200);
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');

    const { history } = await rt.durable.finished(id);
    const expected = straightThroughOperations(doc);
    expect(history!.operations.map((op) => `${op.type} ${op.name}`)).toEqual(expected);
    // Billed: those operations and the execution's start (26 before the start records were folded).
    const waits = doc.steps.filter((s) => s.type === 'agent' || s.type === 'approval').length;
    const publishes = doc.steps.filter((s) => s.type === 'publish').length;
    expect(history!.operations.length + 1).toBe(1 + 2 + 2 * waits + publishes);
    expect(history!.operations.filter((op) => op.nested)).toEqual([]);
    expect(history!.operations.filter((op) => (op.attempts ?? 1) > 1)).toEqual([]);

    // Each step still records its start and its end, with one event of each, in order.
    expect(rt.events.map((e) => `${e.type}${e.stepName ? `:${e.stepName}` : ''}`)).toEqual(straightThroughEvents(doc));
    expect(done.steps.map((s: any) => [s.name, s.status])).toEqual(doc.steps.map((s) => [s.name, 'SUCCEEDED']));
    for (const [i, s] of done.steps.entries()) {
      expect(Date.parse(s.started_at)).toBeLessThanOrEqual(Date.parse(s.ended_at));
      if (i > 0) expect(Date.parse(done.steps[i - 1].ended_at)).toBeLessThanOrEqual(Date.parse(s.started_at));
    }
    expect(done.steps.filter((s: any) => s.type === 'agent').map((s: any) => s.attempts)).toEqual([1, 1, 1]);
  });

  test('a completion written by the next step is there while that step waits, and once the workflow has ended', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rt = runtime(researchDefinition(), {
      ...AGENTS,
      analyst: async (env, tools) => {
        await gate;
        await succeeds(['analysis'], 0)(env, tools);
      },
    });
    const id = await rt.start({ topic: 't' });
    const waiting = await rt.waitFor(id, (wf) => wf.steps.some((s: any) => s.name === 'analysis' && s.status === 'WAITING'));
    expect(waiting).toMatchObject({ awaiting: 'analysis_completion', wait_kind: 'agent' });
    expect(waiting.steps[0]).toMatchObject({ name: 'research', status: 'SUCCEEDED', attempts: 1, output: { artifacts: { research: expect.any(String) } } });
    release();
    await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
    expect((await rt.call('POST', `/workflows/${id}/approval`, { approved: false, comment: 'no' })).status).toBe(200);
    const done = await rt.finished(id);
    // The approval's rejection ends the workflow: recorded by its own step before the end.
    expect(done.status).toBe('REJECTED');
    expect(done.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['research', 'SUCCEEDED'], ['analysis', 'SUCCEEDED'], ['writing', 'SUCCEEDED'], ['approval', 'REJECTED'],
    ]);
  });

  test('a dispatch that is tried again dispatches once, and the previous step\'s completion it carries is written', async () => {
    let failures = 1;
    const rt = runtime(researchDefinition(), AGENTS, {
      wrapDispatcher: (inner): AgentDispatcher => ({
        dispatch: async (agent, envelope) => {
          if (envelope.step_name === 'analysis' && failures-- > 0) throw new Error('ECS RunTask throttled');
          return inner.dispatch(agent, envelope);
        },
      }),
    });
    const id = await rt.start({ topic: 't' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'approval', 30_000);
    await rt.call('POST', `/workflows/${id}/approval`, { approved: true });
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(rt.agents.dispatches.map((d) => d.step_name)).toEqual(['research', 'analysis', 'writing']);
    expect(done.steps[0]).toMatchObject({ name: 'research', status: 'SUCCEEDED', attempts: 1 });
    expect(Date.parse(done.steps[0].ended_at)).toBeLessThanOrEqual(Date.parse(done.steps[1].started_at));
    // Events are at least once: the retried step sends its own and the carried ones again.
    const completed = rt.events.filter((e) => e.type === 'Workflow Step Completed').map((e) => e.stepName);
    expect(new Set(completed)).toEqual(new Set(['research', 'analysis', 'writing', 'approval', 'publish']));
  });
});

/** The metrics named `name` the runtime recorded. */
function metricsOf(rt: TestRuntime, name: string) {
  return rt.telemetry.metrics.filter((m) => m.name === name);
}

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
    // Each failed attempt is counted once and timed from its dispatch to its failure report.
    expect(metricsOf(rt, 'AgentTasksFailed')).toEqual(Array(3).fill({ name: 'AgentTasksFailed', value: 1, definition: 'test' }));
    expect(metricsOf(rt, 'AgentTaskDuration')).toHaveLength(3);
  });

  test('an agent that never reports times out: TIMED_OUT after its attempts', async () => {
    const def = definition([agentStep('research', 'researcher', { timeoutSeconds: 1 })]);
    const rt = runtime(def, { researcher: silent });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('TIMED_OUT');
    expect(done.error.code).toBe('AGENT_TIMED_OUT');
    expect(done.steps[0].status).toBe('TIMED_OUT');
    // A timed-out attempt is a failed one; it has no report to time.
    expect(metricsOf(rt, 'AgentTasksFailed')).toHaveLength(1);
    expect(metricsOf(rt, 'AgentTaskDuration')).toEqual([]);
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
    expect(metricsOf(rt, 'AgentTasksFailed')).toHaveLength(1);
    expect(metricsOf(rt, 'AgentTaskDuration')).toHaveLength(2);
  });

  test('AgentTaskDuration runs from the dispatch to the agent\'s report', async () => {
    const rt = runtime(definition([agentStep('research', 'researcher')]), { researcher: succeeds(['research'], 300) });
    const id = await rt.start({});
    expect((await rt.finished(id)).status).toBe('SUCCEEDED');
    const [duration] = metricsOf(rt, 'AgentTaskDuration');
    expect(duration.value).toBeGreaterThanOrEqual(290);
    expect(duration.value).toBeLessThan(10_000);
    // The step's duration covers the attempt's.
    expect(metricsOf(rt, 'StepDuration')[0].value).toBeGreaterThanOrEqual(duration.value);
  });

  test('an unknown agent fails the step with a message naming the agent', async () => {
    const rt = runtime(definition([agentStep('research', 'nobody')]), AGENTS);
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('FAILED');
    expect(done.error.message).toContain("unknown agent 'nobody'");
    // An attempt that could not be dispatched failed, and has nothing to time.
    expect(metricsOf(rt, 'AgentTasksFailed')).toHaveLength(1);
    expect(metricsOf(rt, 'AgentTaskDuration')).toEqual([]);
  });

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
    await rt.waitFor(id, (wf) => wf.awaiting === 'research_completion');
    const res = await rt.call('POST', `/workflows/${id}/approval`, { approved: true });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('not waiting for approval');
    expect(res.body.message).toContain('awaiting research_completion');
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
    await rt.waitFor(id, (wf) => wf.awaiting === 'research_completion');
    expect((await rt.call('POST', `/workflows/${id}/cancel`)).status).toBe(202);
    const done = await rt.finished(id);
    release();
    await rt.waitFor(id, () => lateReport !== undefined);
    expect(done.status).toBe('CANCELLED');
    expect(lateReport.status).toBe(409);
    expect(rt.agents.dispatches.map((d) => d.step_name)).toEqual(['research']);
    // The step it was waiting in is closed, not left WAITING.
    expect(done.steps).toEqual([expect.objectContaining({
      name: 'research',
      status: 'CANCELLED',
      error: { code: 'WORKFLOW_ENDED', message: "the workflow ended CANCELLED before step 'research' finished" },
    })]);
    // A cancelled task is no failure of the agent's.
    expect(metricsOf(rt, 'AgentTasksFailed')).toEqual([]);
  });
});

describe('agent reports (callbacks)', () => {
  test('duplicate, forged, unknown and late reports change nothing and get 409, 403, 404, 409', async () => {
    const reports: Record<string, any> = {};
    // 'slow' has two attempts of 2 s each: attempt 1 reports at 3 s, after its deadline, while
    // attempt 2 still runs, so the report reaches the deadline check (not an ended workflow).
    const slowRetry = { maxAttempts: 2, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 };
    const def = definition([agentStep('research', 'researcher'), agentStep('slow', 'slowpoke', { timeoutSeconds: 2, retry: slowRetry })]);
    const rt = runtime(def, {
      researcher: async (env, tools) => {
        const key = await tools.writeArtifact('research', 'x');
        reports.first = await tools.report({ status: 'succeeded', artifacts: { research: key } });
        reports.duplicate = await tools.report({ status: 'failed', error: { message: 'second report' } });
        reports.forged = await tools.report({ status: 'succeeded' }, { token: 'A'.repeat(43) });
        reports.unknown = await tools.runtime.call('POST', '/callbacks/cb-AAAAAAAAAAAAAAAAAAAAAAAA', { status: 'succeeded' }, { authorization: `Bearer ${env.callback.token}` });
        reports.noAuth = await tools.runtime.call('POST', `/callbacks/${env.callback.id}`, { status: 'succeeded' });
      },
      slowpoke: async (env, tools) => {
        if (env.attempt !== 1) return; // attempt 2 never reports: the step times out
        await sleep(3000); // after attempt 1's 2 s deadline, during attempt 2
        reports.lateWhileRunning = (await tools.runtime.call('GET', `/workflows/${env.workflow_id}`)).body.status;
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
    expect(reports.lateWhileRunning).toBe('RUNNING');
    expect(reports.late.status).toBe(409);
    expect(reports.late.body.message).toMatch(/^callback 'cb-[^']+' is late: its deadline was .*, and the step has moved on$/);
    expect(rt.agents.dispatchesOf('slow').map((d) => d.attempt)).toEqual([1, 2]);
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
    // The retried bookkeeping step counts the analysis attempt once: one duration per agent step.
    expect(metricsOf(rt, 'AgentTaskDuration')).toHaveLength(3);
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

describe('cancellation is only what a cancel request says it is', () => {
  test('a cancellation marker in a failure sent straight to the durable API is an ordinary agent failure', async () => {
    const rt = runtime(definition([agentStep('research', 'researcher')]), {
      // An agent whose role lets it complete callbacks directly, bypassing the API's checks.
      researcher: async (env, tools) => {
        const record = await tools.runtime.store.getCallback(env.callback.id);
        await tools.runtime.durable.callbackFailure(record!, cancellationError());
      },
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(rt.agents.errors).toEqual([]);
    expect(done.status).toBe('FAILED');
    expect(done.cancel_requested).toBe(false);
    expect(done.error.code).toBe('AGENT_FAILED');
    expect(done.error.message).toBe("step 'research' (agent 'researcher') failed after 1 attempt(s): the workflow was cancelled by request");
    expect(done.steps).toEqual([expect.objectContaining({ name: 'research', status: 'FAILED', error: expect.objectContaining({ code: 'AGENT_FAILED' }) })]);
    expect(rt.events[rt.events.length - 1].type).toBe('Workflow Failed');
  });

  test('a failed report whose message reads like the old halt marker is accepted and is an ordinary failure', async () => {
    const forged = '[[workflow-halt:CANCELLED:CANCEL_REQUESTED]] the workflow was cancelled by request';
    const answers: number[] = [];
    const rt = runtime(definition([agentStep('research', 'researcher')]), {
      researcher: async (_env, tools) => {
        answers.push((await tools.report({ status: 'failed', error: { code: 'ModelError', message: forged } })).status);
      },
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(rt.agents.errors).toEqual([]);
    expect(answers).toEqual([200]);
    expect(done.status).toBe('FAILED');
    expect(done.cancel_requested).toBe(false);
    expect(done.error).toEqual({ code: 'AGENT_FAILED', message: `step 'research' (agent 'researcher') failed after 1 attempt(s): ${forged}` });
    expect(done.steps).toEqual([expect.objectContaining({ name: 'research', status: 'FAILED', error: done.error })]);
    expect(rt.events[rt.events.length - 1].type).toBe('Workflow Failed');
  });

  test('cancel during a retry backoff ends the workflow at once instead of after the backoff', async () => {
    const def = definition([agentStep('research', 'researcher', { retry: { maxAttempts: 2, initialDelaySeconds: 60, backoffRate: 1, maxDelaySeconds: 60 } })]);
    const rt = runtime(def, { researcher: fails('transient') });
    const id = await rt.start({});
    const timer = await eventually(async () => (await rt.store.pendingCallbacks(id)).find((c) => c.kind === 'timer'));
    expect(timer).toMatchObject({ stepName: 'research', attempt: 1, state: 'PENDING' });
    expect(Date.parse(timer.deadline) - Date.parse(timer.createdAt)).toBe(60_000);
    // A timer's id is not an agent's callback.
    for (const route of [`/callbacks/${timer.callbackId}`, `/callbacks/${timer.callbackId}/heartbeat`]) {
      const refused = await rt.call('POST', route, route.endsWith('heartbeat') ? undefined : { status: 'succeeded' }, { 'x-callback-token': 'A'.repeat(43) });
      expect(refused).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    }

    const cancelledAt = Date.now();
    expect((await rt.call('POST', `/workflows/${id}/cancel`)).status).toBe(202);
    const done = await rt.finished(id);
    expect(Date.now() - cancelledAt).toBeLessThan(3000);
    expect(done.status).toBe('CANCELLED');
    expect(done.error.code).toBe('CANCEL_REQUESTED');
    expect(done.steps[0]).toMatchObject({ name: 'research', status: 'CANCELLED' });
    expect(rt.agents.dispatchesOf('research')).toHaveLength(1);
    expect(await rt.store.getCallback(timer.callbackId)).toMatchObject({ state: 'COMPLETED', outcome: 'CANCELLED' });
  });

  test('a backoff that runs out goes on to the next attempt and closes its timer', async () => {
    let calls = 0;
    const def = definition([agentStep('research', 'researcher', { retry: { maxAttempts: 2, initialDelaySeconds: 1, backoffRate: 1, maxDelaySeconds: 1 } })]);
    const rt = runtime(def, { researcher: async (env, tools) => (++calls === 1 ? fails('transient')(env, tools) : succeeds(['research'])(env, tools)) });
    const id = await rt.start({});
    const timer = await eventually(async () => (await rt.store.pendingCallbacks(id)).find((c) => c.kind === 'timer'));
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(await rt.store.getCallback(timer.callbackId)).toMatchObject({ state: 'COMPLETED', outcome: 'SUCCEEDED' });
  });
});

describe('parallel steps that finish early', () => {
  test('abandon the branches still running: their steps end CANCELLED, their callbacks close, /approval answers the next approval', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let late: any;
    const def = definition([
      {
        type: 'parallel',
        name: 'p',
        branches: [
          { name: 'fast', steps: [agentStep('quick', 'fast')] },
          { name: 'slow', steps: [agentStep('lagging', 'slow', { timeoutSeconds: 600 })] },
          { name: 'review', steps: [{ type: 'approval', name: 'branch-review', prompt: 'ok?', timeoutSeconds: 600, onTimeout: 'REJECT', onReject: 'END' }] },
        ],
        maxConcurrency: 3,
        minSuccessful: 1,
      },
      { type: 'approval', name: 'final', prompt: 'ship?', timeoutSeconds: 600, onTimeout: 'REJECT', onReject: 'END' },
    ]);
    const rt = runtime(def, {
      fast: async (env, tools) => {
        await sleep(300);
        await succeeds(['out'], 0)(env, tools);
      },
      slow: async (_env, tools) => {
        await gate;
        const key = await tools.writeArtifact('out', 'late');
        late = await tools.report({ status: 'succeeded', artifacts: { out: key } });
      },
    });
    const id = await rt.start({});
    const waiting = await rt.waitFor(id, (wf) => wf.steps.some((s: any) => s.name === 'final' && s.status === 'WAITING'));
    const step = (name: string) => waiting.steps.find((s: any) => s.name === name);
    expect(waiting.status).toBe('RUNNING');
    expect(step('quick').status).toBe('SUCCEEDED');
    for (const name of ['lagging', 'branch-review']) {
      expect(step(name)).toMatchObject({ status: 'CANCELLED', error: { code: 'BRANCH_ABANDONED' } });
      expect(step(name).error.message).toContain("parallel step 'p' finished without waiting for its branch");
    }
    expect(step('p')).toMatchObject({ status: 'SUCCEEDED', output: { succeeded: ['fast'], failed: [] } });
    // Only the next approval still waits.
    expect((await rt.store.pendingCallbacks(id)).map((c) => [c.kind, c.stepName])).toEqual([['approval', 'final']]);

    const answered = await rt.call('POST', `/workflows/${id}/approval`, { approved: true });
    expect(answered).toMatchObject({ status: 200, body: { step_name: 'final' } });
    release();
    await rt.waitFor(id, () => late !== undefined);
    expect(late.status).toBe(409);
    expect(late.body.message).toContain('already completed (CANCELLED)');

    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps.find((s: any) => s.name === 'lagging').status).toBe('CANCELLED');
    expect(rt.agents.dispatchesOf('lagging')).toHaveLength(1);
    expect(rt.agents.errors).toEqual([]);
  });
});

describe('workflow start and finish', () => {
  test('an execution of a workflow the API already marked FAILED runs nothing and returns that status', async () => {
    const rt = runtime(definition([agentStep('research', 'researcher')]), AGENTS);
    const id = newWorkflowId();
    await rt.store.createWorkflow(newRecord(id, 'test', {}, new Date().toISOString()));
    const startFailed = { code: 'START_FAILED', message: 'the workflow could not be started' };
    expect(await rt.store.updateWorkflow(id, { status: 'FAILED', error: startFailed }, ['PENDING'])).toBe(true);
    const before = await rt.store.getWorkflow(id);

    await rt.durable.start(id, {});
    const outcome = await rt.durable.finished(id);
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.result).toEqual({ workflow_id: id, status: 'FAILED', error: startFailed });
    expect(rt.agents.dispatches).toEqual([]);
    expect(rt.events).toEqual([]);
    expect(await rt.store.getWorkflow(id)).toEqual(before);
  });

  test('a failing workflow/start still ends through workflow/finish: FAILED, nothing dispatched', async () => {
    const rt = runtime(definition([agentStep('research', 'researcher')]), AGENTS, {
      wrapStore: (store) => wrapMethod(store, 'updateWorkflow', (original) => async (workflowId, patch, onlyIf) => {
        if (patch.status === 'RUNNING') throw permanentFailure('the table is unavailable');
        return original(workflowId, patch, onlyIf);
      }),
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('WORKFLOW_ERROR');
    expect(done.error.message).toContain('the table is unavailable');
    expect(rt.agents.dispatches).toEqual([]);
    expect(rt.events.map((e) => e.type)).toEqual(['Workflow Failed']);
  });

  test('a workflow that ends in the middle of a step closes it FAILED, saying the workflow ended first', async () => {
    const def = definition([agentStep('research', 'researcher', { retry: { maxAttempts: 2, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 } })]);
    const rt = runtime(def, { researcher: fails('boom') }, {
      // Recording the failed first attempt fails for good: the workflow ends between two steps.
      wrapStore: (store) => wrapMethod(store, 'putStep', (original) => async (workflowId, step) => {
        if (step.status === 'RUNNING' && step.error) throw permanentFailure('disk full');
        return original(workflowId, step);
      }),
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('WORKFLOW_ERROR');
    expect(done.steps).toEqual([expect.objectContaining({
      name: 'research',
      status: 'FAILED',
      error: { code: 'WORKFLOW_ENDED', message: "the workflow ended FAILED before step 'research' finished" },
    })]);
    expect(done.steps[0].ended_at).toEqual(expect.any(String));
  });

  test('a step whose input cannot be resolved is recorded FAILED before the workflow ends', async () => {
    const def = definition([
      agentStep('research', 'researcher'),
      agentStep('analysis', 'analyst', { input: { research: { from: 'step', step: 'research', path: 'artifacts.research' } } }),
    ]);
    // The researcher reports success without the artifact the analysis reads.
    const rt = runtime(def, { researcher: succeeds([]), analyst: succeeds(['analysis']) });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('INPUT_UNRESOLVED');
    expect(done.error.message).toContain("input 'research'");
    expect(done.steps[1]).toMatchObject({ name: 'analysis', status: 'FAILED', error: { code: 'INPUT_UNRESOLVED' } });
    expect(done.steps[1].error.message).toBe(done.error.message);
    expect(rt.agents.dispatchesOf('analysis')).toEqual([]);
  });
});

describe('callback submitters', () => {
  test('a dispatch that fails transiently is tried again (3 attempts, 1 s then 2 s apart)', async () => {
    let calls = 0;
    const startedAt = Date.now();
    const rt = runtime(definition([agentStep('research', 'researcher')]), AGENTS, {
      wrapDispatcher: (inner): AgentDispatcher => ({
        dispatch: async (agent, envelope) => {
          if (++calls <= 2) throw new Error('ECS RunTask throttled');
          return inner.dispatch(agent, envelope);
        },
      }),
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(calls).toBe(3);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2900);
    expect(done.steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  test('an unknown agent is not tried again', async () => {
    let calls = 0;
    const rt = runtime(definition([agentStep('research', 'nobody')]), AGENTS, {
      wrapDispatcher: (inner): AgentDispatcher => ({
        dispatch: async (agent, envelope) => {
          calls++;
          return inner.dispatch(agent, envelope);
        },
      }),
    });
    const id = await rt.start({});
    const done = await rt.finished(id);
    expect(done.status).toBe('FAILED');
    expect(calls).toBe(1);
  });

  test('agent callbacks carry their attempt', async () => {
    const seen: CallbackRecord[] = [];
    const def = definition([agentStep('research', 'researcher', { retry: { maxAttempts: 2, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 } })]);
    let calls = 0;
    const rt = runtime(def, {
      researcher: async (env, tools) => {
        seen.push((await tools.runtime.store.getCallback(env.callback.id))!);
        return ++calls === 1 ? fails('once')(env, tools) : succeeds(['research'])(env, tools);
      },
    });
    const id = await rt.start({});
    expect((await rt.finished(id)).status).toBe('SUCCEEDED');
    expect(seen.map((c) => [c.kind, c.attempt])).toEqual([['agent', 1], ['agent', 2]]);
  });
});
