/**
 * A deploy that changes the definition while workflows run. On AWS the controller version a
 * workflow started on keeps its definition (it is in that version's layer); the API function is
 * replaced by one built with the new definition. The workflow's callbacks, approval and status must
 * still be judged by the definition it started with.
 */
import { agentStep, definition, researchDefinition } from './fixtures';
import { AgentBehavior, makeRuntime, succeeds, TestRuntime } from './harness';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import type { TaskEnvelope } from '../../src/contract/status';
import { LocalDurableControl } from '../../src/runtime/durable/local-durable-control';

/** Definition B: the same step names, other agents (so other artifact prefixes), a new required input. */
function definitionB(): WorkflowDefinitionDocument {
  return definition([
    agentStep('research', 'scout', { input: { topic: { from: 'input', path: 'topic' }, audience: { from: 'input', path: 'audience' } } }),
    agentStep('analysis', 'analyst'),
    { type: 'approval', name: 'approval', prompt: 'Approve the analysis (definition B)', timeoutSeconds: 3600, onTimeout: 'REJECT', onReject: 'END' },
  ], 'research-report');
}

/** Succeeds once `gate` resolves: the test redeploys the API while the agent works. */
function after(gate: Promise<void>, behavior: AgentBehavior): AgentBehavior {
  return async (envelope, tools) => {
    await gate;
    await behavior(envelope, tools);
  };
}

beforeAll(() => LocalDurableControl.setup());
afterAll(() => LocalDurableControl.teardown());

describe('a workflow started on definition A, after the app is changed to definition B', () => {
  let rt: TestRuntime;
  afterEach(() => rt?.dispose());

  test('its agent reports, its approval and its status are judged by A, and it ends as A says', async () => {
    let redeployed!: () => void;
    const gate = new Promise<void>((resolve) => { redeployed = resolve; });
    const envelopes: TaskEnvelope[] = [];
    const record = (behavior: AgentBehavior): AgentBehavior => async (envelope, tools) => {
      envelopes.push(envelope);
      await behavior(envelope, tools);
    };
    rt = makeRuntime(researchDefinition(), {
      researcher: record(after(gate, succeeds(['research']))),
      analyst: record(succeeds(['analysis'])),
      writer: record(succeeds(['report'])),
    });
    const id = await rt.start({ topic: 'tides' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'research_completion' && wf.steps.some((s: { name: string; status: string }) => s.name === 'research' && s.status === 'WAITING'));

    rt.redeployApi(definitionB());
    // B's API applies B to new workflows: 'audience' is now required.
    expect((await rt.call('POST', '/workflows', { topic: 'new' })).status).toBe(400);
    redeployed();

    // The researcher reported to B's API artifacts under A's prefix (agents/researcher/...): accepted.
    const atApproval = await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
    expect(envelopes.map((e) => e.artifacts.prefix)).toEqual([
      expect.stringMatching(/^agents\/researcher\//),
      expect.stringMatching(/^agents\/analyst\//),
      expect.stringMatching(/^agents\/writer\//),
    ]);
    expect(rt.agents.errors).toEqual([]);
    // A's steps, the writing step included, which B does not have.
    expect(atApproval.steps.map((s: { name: string }) => s.name)).toEqual(['research', 'analysis', 'writing', 'approval']);

    const approved = await rt.call('POST', `/workflows/${id}/approval`, { approved: true, comment: 'ok' });
    expect(approved.status).toBe(200);
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    // A publishes the report; B has no publish step.
    expect(done.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['research', 'SUCCEEDED'], ['analysis', 'SUCCEEDED'], ['writing', 'SUCCEEDED'], ['approval', 'SUCCEEDED'], ['publish', 'SUCCEEDED'],
    ]);
  });

  test('a report naming an artifact outside the prefix the workflow\'s own controller set is still refused', async () => {
    let redeployed!: () => void;
    const gate = new Promise<void>((resolve) => { redeployed = resolve; });
    let answer: { status: number; body: { message: string } } | undefined;
    rt = makeRuntime(researchDefinition(), {
      researcher: after(gate, async (envelope, tools) => {
        // Where definition B's agent would write: not this task's prefix.
        const key = envelope.artifacts.prefix.replace('agents/researcher/', 'agents/scout/') + 'research.md';
        await tools.runtime.ports.artifacts.put(key, 'x');
        answer = await tools.report({ status: 'succeeded', artifacts: { research: key } });
      }),
    });
    const id = await rt.start({ topic: 'tides' });
    await rt.waitFor(id, (wf) => wf.awaiting === 'research_completion');
    rt.redeployApi(definitionB());
    redeployed();
    const deadline = Date.now() + 20_000;
    while (!answer && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(answer?.status).toBe(400);
    expect(answer?.body.message).toMatch(/outside this task's prefix 'agents\/researcher\//);
    await rt.call('POST', `/workflows/${id}/cancel`);
    await rt.finished(id);
  });
});
