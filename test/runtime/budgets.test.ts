/**
 * Budgets, usage reports and the kill switch, through the API handler and the real controller
 * (LocalDurableControl): a heartbeat or report over a token or cost budget stops the run FAILED
 * with BUDGET_EXCEEDED, the event says which budget and the figures, and the kill switch refuses
 * starts and cancels what runs.
 */
import { agentStep, definition } from './fixtures';
import { AgentBehavior, makeRuntime, sleep, TestRuntime } from './harness';
import { usageBreach, usageTotals } from '../../src/contract/budget';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import { EVENT_TYPES, TaskEnvelope } from '../../src/contract/status';
import { LocalDurableControl } from '../../src/runtime/durable/local-durable-control';

jest.setTimeout(60_000);

beforeAll(async () => LocalDurableControl.setup());
afterAll(async () => LocalDurableControl.teardown());

const runtimes: TestRuntime[] = [];
afterEach(() => {
  for (const rt of runtimes.splice(0)) rt.dispose();
});

/** Tasks the controller stopped (the test runtime's dispatcher, given a `stop`). */
let stopped: Array<{ agent: string; handle: string; reason: string }> = [];

function runtime(def: WorkflowDefinitionDocument, behaviors: Record<string, AgentBehavior>): TestRuntime {
  stopped = [];
  const rt = makeRuntime(def, behaviors, {
    wrapDispatcher: (inner) => ({
      dispatch: (agent, envelope) => inner.dispatch(agent, envelope),
      stop: async (agent, handle, reason) => void stopped.push({ agent, handle, reason }),
    }),
  });
  runtimes.push(rt);
  return rt;
}

/** An agent that heartbeats each usage in turn (recording the answers), then waits to be released. */
function heartbeats(usages: unknown[], answers: number[], held: { env?: TaskEnvelope }): AgentBehavior {
  return async (env, tools) => {
    held.env = env;
    for (const usage of usages) {
      const res = await tools.runtime.call('POST', `/callbacks/${env.callback.id}/heartbeat`, { usage }, { 'x-callback-token': env.callback.token });
      answers.push(res.status);
      if (res.status !== 200) return;
    }
  };
}

describe('usage reports', () => {
  test('heartbeats and the report record usage per step and per workflow, shown by GET /workflows/{id}', async () => {
    const rt = runtime(definition([agentStep('a', 'alpha'), agentStep('b', 'beta')]), {
      alpha: async (env, tools) => {
        await tools.runtime.call('POST', `/callbacks/${env.callback.id}/heartbeat`,
          { usage: { input_tokens: 10, output_tokens: 5, estimated_cost_usd: 0.001, model: 'm1' } }, { 'x-callback-token': env.callback.token });
        await tools.report({ status: 'succeeded', usage: { input_tokens: 100, output_tokens: 50, estimated_cost_usd: 0.01, model: 'm1' } });
      },
      beta: async (_env, tools) => {
        await tools.report({ status: 'succeeded', usage: { input_tokens: 7, output_tokens: 3, model: 'offline' } });
      },
    });
    const id = await rt.start({});
    const wf = await rt.finished(id);
    expect(wf.status).toBe('SUCCEEDED');
    expect(stopped).toEqual([]);
    // The report's final figures replace the heartbeat's figures of the same attempt.
    expect(wf.usage).toEqual({
      input_tokens: 107,
      output_tokens: 53,
      total_tokens: 160,
      estimated_cost_usd: 0.01,
      models: ['m1', 'offline'],
      steps: {
        a: { input_tokens: 100, output_tokens: 50, total_tokens: 150, estimated_cost_usd: 0.01 },
        b: { input_tokens: 7, output_tokens: 3, total_tokens: 10, estimated_cost_usd: 0 },
      },
    });
  });

  test('a malformed usage is a 400 naming the field, and records nothing', async () => {
    const held: { env?: TaskEnvelope } = {};
    const answers: number[] = [];
    const rt = runtime(definition([agentStep('a', 'alpha')]), { alpha: heartbeats([], answers, held) });
    const id = await rt.start({});
    await rt.waitFor(id, (wf) => wf.awaiting === 'a_completion');
    const env = held.env!;
    const token = { 'x-callback-token': env.callback.token };
    const cases: Array<[unknown, RegExp]> = [
      [{ usage: { input_tokens: -1, output_tokens: 0 } }, /field 'usage.input_tokens': expected a whole number from 0/],
      [{ usage: { input_tokens: 1.5, output_tokens: 0 } }, /field 'usage.input_tokens': expected a whole number/],
      [{ usage: { input_tokens: 1 } }, /field 'usage.output_tokens': expected number, received undefined/],
      [{ usage: { input_tokens: 1, output_tokens: 1, estimated_cost_usd: 'cheap' } }, /field 'usage.estimated_cost_usd': expected number, received string/],
      [{ usage: { input_tokens: 1, output_tokens: 1, tokens: 2 } }, /unknown field 'tokens' in 'usage'/],
      [{ tokens: 3 }, /unknown field 'tokens'/],
    ];
    for (const [body, message] of cases) {
      const res = await rt.call('POST', `/callbacks/${env.callback.id}/heartbeat`, body, token);
      expect({ status: res.status, message: res.body.message }).toEqual({ status: 400, message: expect.stringMatching(message) });
    }
    const bad = await rt.call('POST', `/callbacks/${env.callback.id}`, { status: 'succeeded', usage: { input_tokens: 'many', output_tokens: 1 } }, token);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/field 'usage.input_tokens': expected number, received string/);
    // An empty heartbeat is still fine.
    expect((await rt.call('POST', `/callbacks/${env.callback.id}/heartbeat`, undefined, token)).status).toBe(200);
    expect((await rt.store.getWorkflow(id))!.usage).toBeUndefined();
    await rt.call('POST', `/workflows/${id}/cancel`);
    await rt.finished(id);
  });
});

describe('budgets', () => {
  test('a heartbeat past the workflow token budget ends the run FAILED with BUDGET_EXCEEDED, without waiting for the task', async () => {
    const held: { env?: TaskEnvelope } = {};
    const answers: number[] = [];
    const def = { ...definition([agentStep('a', 'alpha', { timeoutSeconds: 600 })]), budget: { maxTokens: 1000 } };
    const rt = runtime(def, {
      alpha: heartbeats([{ input_tokens: 400, output_tokens: 100 }, { input_tokens: 800, output_tokens: 300 }], answers, held),
    });
    const id = await rt.start({});
    const wf = await rt.finished(id);
    expect(answers).toEqual([200, 409]);
    expect(wf.status).toBe('FAILED');
    expect(wf.error.code).toBe('BUDGET_EXCEEDED');
    expect(wf.error.message).toMatch(/the workflow maxTokens is 1000 tokens, used 1100 tokens/);
    expect(wf.steps[0]).toMatchObject({ name: 'a', status: 'FAILED', error: { code: 'BUDGET_EXCEEDED' } });
    const budgetEvent = rt.events.find((e) => e.type === EVENT_TYPES.workflowBudgetExceeded);
    expect(budgetEvent?.detail).toMatchObject({ event_type: 'workflow_budget_exceeded', budget: 'maxTokens', scope: 'workflow', limit: 1000, used: 1100 });
    const failed = rt.events.find((e) => e.type === EVENT_TYPES.workflowFailed);
    expect(failed?.detail).toMatchObject({ status: 'FAILED', error: { code: 'BUDGET_EXCEEDED' } });
    // Its running task was stopped (the only one), with why.
    expect(stopped).toEqual([{ agent: 'alpha', handle: 'fake-1', reason: `workflow ${id} ended FAILED (BUDGET_EXCEEDED)` }]);
    // The task's report after that changes nothing.
    const late = await rt.call('POST', `/callbacks/${held.env!.callback.id}`, { status: 'succeeded' }, { 'x-callback-token': held.env!.callback.token });
    expect(late.status).toBe(409);
  });

  test('a report past a step cost budget stops the run; spending exactly the budget does not', async () => {
    const def = definition([
      agentStep('a', 'alpha', { budget: { maxCostUsd: 0.5 } }),
      agentStep('b', 'beta', { budget: { maxCostUsd: 0.5 } }),
    ]);
    const rt = runtime(def, {
      alpha: async (_env, tools) => {
        await tools.report({ status: 'succeeded', usage: { input_tokens: 1, output_tokens: 1, estimated_cost_usd: 0.5 } });
      },
      beta: async (_env, tools) => {
        const res = await tools.report({ status: 'succeeded', usage: { input_tokens: 1, output_tokens: 1, estimated_cost_usd: 0.75 } });
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ error: 'budget_exceeded' });
      },
    });
    const id = await rt.start({});
    const wf = await rt.finished(id);
    expect(wf.status).toBe('FAILED');
    expect(wf.error).toMatchObject({ code: 'BUDGET_EXCEEDED', message: expect.stringMatching(/step 'b' maxCostUsd is 0.5 USD \(estimated\), used 0.75/) });
    expect(wf.steps.map((s: { status: string }) => s.status)).toEqual(['SUCCEEDED', 'FAILED']);
    // Only the task whose report was refused is stopped; the one that reported is done.
    expect(stopped.map((t) => t.handle)).toEqual(['fake-2']);
    expect(rt.agents.errors).toEqual([]);
  });

  test('maxAgentAttempts stops the run before the attempt that would go over it', async () => {
    const def = {
      ...definition([
        agentStep('a', 'alpha', { retry: { maxAttempts: 3, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 } }),
      ]),
      budget: { maxAgentAttempts: 2 },
    };
    const rt = runtime(def, { alpha: async (_env, tools) => void await tools.report({ status: 'failed', error: { message: 'no luck' } }) });
    const id = await rt.start({});
    const wf = await rt.finished(id);
    expect(rt.agents.dispatchesOf('a')).toHaveLength(2);
    expect(wf.status).toBe('FAILED');
    expect(wf.error.code).toBe('BUDGET_EXCEEDED');
    expect(wf.error.message).toMatch(/maxAgentAttempts is 2 agent attempts, used 3/);
  });

  test('maxDuration: a heartbeat after the wall-clock budget ends the run', async () => {
    const def = { ...definition([agentStep('a', 'alpha', { timeoutSeconds: 600 })]), budget: { maxDurationSeconds: 1 } };
    const answers: number[] = [];
    const rt = runtime(def, {
      alpha: async (env, tools) => {
        // Heartbeats until one is refused (at the latest about a second after the start).
        for (let i = 0; i < 500; i++) {
          const res = await tools.runtime.call('POST', `/callbacks/${env.callback.id}/heartbeat`, undefined, { 'x-callback-token': env.callback.token });
          answers.push(res.status);
          if (res.status !== 200) return;
          await sleep(20);
        }
      },
    });
    const id = await rt.start({});
    const wf = await rt.finished(id);
    expect(answers[answers.length - 1]).toBe(409);
    expect(wf.error).toMatchObject({ code: 'BUDGET_EXCEEDED', message: expect.stringMatching(/maxDuration is 1 seconds/) });
  });

  test('maxDuration: an agent that never reports nor heartbeats is stopped when the budget runs out, not at its step timeout', async () => {
    const def = {
      ...definition([agentStep('a', 'alpha', { timeoutSeconds: 600, retry: { maxAttempts: 3, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 } })]),
      budget: { maxDurationSeconds: 1 },
    };
    const rt = runtime(def, { alpha: async () => undefined });
    const id = await rt.start({});
    const wf = await rt.finished(id);
    expect(wf.status).toBe('FAILED');
    expect(wf.error).toMatchObject({ code: 'BUDGET_EXCEEDED', message: expect.stringMatching(/the workflow maxDuration is 1 seconds, used \d+ seconds/) });
    // No retry after the budget ran out, and the silent task was stopped.
    expect(rt.agents.dispatchesOf('a')).toHaveLength(1);
    expect(stopped).toEqual([{ agent: 'alpha', handle: 'fake-1', reason: `workflow ${id} ended FAILED (BUDGET_EXCEEDED)` }]);
    expect(rt.events.find((e) => e.type === EVENT_TYPES.workflowBudgetExceeded)?.detail).toMatchObject({ budget: 'maxDuration', limit: 1 });
  });

  test('usageBreach: a step budget is judged before the workflow budget, and only over it', () => {
    const def = { ...definition([agentStep('a', 'x', { budget: { maxTokens: 10 } })]), budget: { maxTokens: 5 } };
    expect(usageBreach(def, { 'a#1': { input_tokens: 3, output_tokens: 2 } })).toBeUndefined();
    expect(usageBreach(def, { 'a#1': { input_tokens: 3, output_tokens: 3 } })).toMatchObject({ scope: 'workflow', used: 6 });
    expect(usageBreach(def, { 'a#1': { input_tokens: 6, output_tokens: 3 }, 'a#2': { input_tokens: 2, output_tokens: 0 } }))
      .toMatchObject({ scope: 'step', step: 'a', budget: 'maxTokens', limit: 10, used: 11 });
    expect(usageTotals({ 'a#b#1': { input_tokens: 1, output_tokens: 1 } }).steps).toHaveProperty(['a#b']);
  });
});

describe('kill switch', () => {
  test('engaging refuses starts with 503 naming the reason and who, cancels running workflows with it; releasing lets starts through', async () => {
    const held: { env?: TaskEnvelope } = {};
    const rt = runtime(definition([agentStep('a', 'alpha', { timeoutSeconds: 600 })]), {
      alpha: heartbeats([], [], held),
    });
    expect((await rt.call('GET', '/admin/kill-switch')).body).toMatchObject({ engaged: false, reason: null });
    const running = [await rt.start({}), await rt.start({})];
    for (const id of running) await rt.waitFor(id, (wf) => wf.awaiting === 'a_completion');

    const bad = await rt.call('PUT', '/admin/kill-switch', { engaged: true });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/field 'reason': required when engaged is true/);

    const on = await rt.call('PUT', '/admin/kill-switch', { engaged: true, reason: 'runaway costs' });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ engaged: true, reason: 'runaway costs', changed_by: 'unauthenticated (local)', cancelled_workflows: 2 });
    for (const id of running) {
      const wf = await rt.finished(id);
      expect(wf.status).toBe('CANCELLED');
      expect(stopped.filter((t) => t.reason === `workflow ${id} ended CANCELLED (KILL_SWITCH)`)).toHaveLength(1);
      expect(wf.error).toEqual({ code: 'KILL_SWITCH', message: 'stopped by the kill switch: runaway costs (engaged by unauthenticated (local))' });
    }
    const refused = await rt.call('POST', '/workflows', {});
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'kill_switch_engaged', message: expect.stringMatching(/runaway costs \(by unauthenticated \(local\) at /) });
    expect((await rt.store.listWorkflows({ limit: 100 })).items).toHaveLength(2);

    // Idempotent: engaging again cancels nothing more.
    expect((await rt.call('PUT', '/admin/kill-switch', { engaged: true, reason: 'still' })).body.cancelled_workflows).toBe(0);

    const off = await rt.call('PUT', '/admin/kill-switch', { engaged: false });
    expect(off.body).toMatchObject({ engaged: false, message: expect.stringMatching(/released/) });
    const again = await rt.start({});
    await rt.waitFor(again, (wf) => wf.awaiting === 'a_completion');
    await rt.call('POST', `/workflows/${again}/cancel`);
    expect((await rt.finished(again)).status).toBe('CANCELLED');
  });

  test('a plain cancel still ends CANCELLED with CANCEL_REQUESTED', async () => {
    const rt = runtime(definition([agentStep('a', 'alpha', { timeoutSeconds: 600 })]), { alpha: heartbeats([], [], {}) });
    const id = await rt.start({});
    await rt.waitFor(id, (wf) => wf.awaiting === 'a_completion');
    await rt.call('POST', `/workflows/${id}/cancel`);
    const wf = await rt.finished(id);
    expect(wf.status).toBe('CANCELLED');
    expect(wf.error.code).toBe('CANCEL_REQUESTED');
  });
});
