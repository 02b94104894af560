import { randomUUID } from 'crypto';
import type { TaskEnvelope } from '../../../src/contract/status';
import { AgentDispatcher, UnknownAgentError } from '../../../src/runtime/ports';

export interface AgentDispatcherSetup {
  readonly dispatcher: AgentDispatcher;
  /** An agent the dispatcher knows. */
  readonly agent: string;
  /** The envelope the agent started under `handle` received (as it would parse it). */
  received(handle: string): Promise<TaskEnvelope>;
}

/** A task envelope for `agent`, with a fresh workflow id. */
export function envelopeFor(agent: string, overrides: Partial<TaskEnvelope> = {}): TaskEnvelope {
  const workflowId = `wf-${randomUUID()}`;
  return {
    envelope_version: 1,
    workflow_id: workflowId,
    step_name: 'research',
    attempt: 1,
    agent,
    input: { topic: 'durable agents', sources: ['a', 'b'], quote: 'it\'s "quoted" & ünïcode' },
    artifacts: { prefix: `runs/${workflowId}/research/` },
    callback: {
      id: `cb-${randomUUID()}`,
      url: 'http://127.0.0.1:8787/callbacks/cb-1',
      token: 'secret-token',
      heartbeat_url: 'http://127.0.0.1:8787/callbacks/cb-1/heartbeat',
    },
    deadline: '2030-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** The AgentDispatcher contract: the agent starts with exactly the envelope; unknown agents are refused. */
export function agentDispatcherContract(makeSetup: () => Promise<AgentDispatcherSetup>): void {
  let setup: AgentDispatcherSetup;

  beforeEach(async () => {
    setup = await makeSetup();
  });

  test('dispatch resolves with a handle once the agent is started, and the agent gets the envelope unchanged', async () => {
    const envelope = envelopeFor(setup.agent);
    const { handle } = await setup.dispatcher.dispatch(setup.agent, envelope);
    expect(typeof handle).toBe('string');
    expect(handle.length).toBeGreaterThan(0);
    expect(await setup.received(handle)).toEqual(envelope);
  });

  test('each dispatch starts its own agent', async () => {
    const first = envelopeFor(setup.agent);
    const second = envelopeFor(setup.agent, { attempt: 2, step_name: 'write' });
    const [a, b] = await Promise.all([setup.dispatcher.dispatch(setup.agent, first), setup.dispatcher.dispatch(setup.agent, second)]);
    expect(a.handle).not.toBe(b.handle);
    expect(await setup.received(a.handle)).toEqual(first);
    expect(await setup.received(b.handle)).toEqual(second);
  });

  test.each(['no-such-agent', 'toString', '__proto__'])('the unknown agent %j is refused with UnknownAgentError listing the known ones', async (name) => {
    const attempt = setup.dispatcher.dispatch(name, envelopeFor(name));
    await expect(attempt).rejects.toBeInstanceOf(UnknownAgentError);
    await expect(attempt).rejects.toThrow(new RegExp(`unknown agent '${name}'; known agents: .*${setup.agent}`));
  });
}
