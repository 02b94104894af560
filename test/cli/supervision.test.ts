import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { waitUntil } from './helpers';
import { isAlive } from '../../src/cli/data-dir';
import { SupervisedDispatcher, SupervisedDispatcherOptions } from '../../src/cli/supervision';
import { EVENT_TYPES, TaskEnvelope } from '../../src/contract/status';
import type { ApiHandler } from '../../src/runtime/api';
import type { CallbackRecord } from '../../src/runtime/ports';

jest.setTimeout(20_000);

function envelope(workflowId = 'wf-1'): TaskEnvelope {
  return {
    envelope_version: 1,
    workflow_id: workflowId,
    step_name: 'writing',
    attempt: 1,
    agent: 'writer',
    input: {},
    artifacts: { prefix: `runs/${workflowId}/writing/1/` },
    callback: { id: 'cb-1', url: 'http://127.0.0.1:1/callbacks/cb-1', token: 'secret-token', heartbeat_url: 'http://127.0.0.1:1/callbacks/cb-1/heartbeat' },
    deadline: new Date(Date.now() + 60_000).toISOString(),
  };
}

function callback(state: CallbackRecord['state']): CallbackRecord {
  const now = new Date().toISOString();
  return { callbackId: 'cb-1', durableCallbackId: 'd-1', workflowId: 'wf-1', stepName: 'writing', kind: 'agent', state, createdAt: now, deadline: now };
}

/** A dispatcher for one agent `writer` running `node -e <script>`, with everything it reports recorded. */
function supervised(script: string, state: CallbackRecord['state'] = 'PENDING', extra: Partial<SupervisedDispatcherOptions> = {}) {
  const requests: APIGatewayProxyEventV2[] = [];
  const notes: string[] = [];
  const output: string[] = [];
  const api: ApiHandler = async (req) => {
    requests.push(req);
    return { statusCode: 200, body: '{}' };
  };
  const dispatcher = new SupervisedDispatcher({
    targets: { writer: { type: 'local', command: [process.execPath, '-e', script] } },
    store: { getCallback: async () => callback(state) },
    api: () => api,
    onOutput: (line) => output.push(line.line),
    note: (workflowId, text) => notes.push(`[${workflowId}] ${text}`),
    console: (line) => notes.push(line),
    verbose: false,
    ...extra,
  });
  return { dispatcher, requests, notes, output };
}

describe('SupervisedDispatcher', () => {
  test('an agent that exits before its report was accepted has its callback failed, with its token and last output', async () => {
    const { dispatcher, requests, notes, output } = supervised("console.log('working'); console.error('[[any text: nope'); process.exit(3)");
    const { handle } = await dispatcher.dispatch('writer', envelope());
    await waitUntil(() => requests.length === 1);

    const [req] = requests;
    expect(req.rawPath).toBe('/callbacks/cb-1');
    expect(req.headers['x-callback-token']).toBe('secret-token');
    const body = JSON.parse(req.body ?? '');
    expect(body.status).toBe('failed');
    expect(body.error.code).toBe('AgentExited');
    expect(body.error.message).toMatch(new RegExp(`^agent 'writer' \\(pid ${handle}\\) exited with code 3 before its report was accepted; its last output:\n`));
    expect(body.error.message).toContain('working');
    // The output as the agent wrote it (a halt travels as data, so no text can pass for one).
    expect(body.error.message).toContain('[[any text: nope');
    expect(output.sort()).toEqual(['[[any text: nope', 'working']);
    expect(notes.join('\n')).toMatch(new RegExp(`^\\[wf-1\\] writing: agent writer \\(pid ${handle}\\) exited with code 3 before its report was accepted; last output:`));
  });

  test('an agent whose report was accepted exits without anything sent', async () => {
    const { dispatcher, requests, output } = supervised("console.log('done')", 'COMPLETED');
    await dispatcher.dispatch('writer', envelope());
    await waitUntil(() => output.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(requests).toHaveLength(0);
  });

  test('verbose: every line an agent writes is shown under its workflow', async () => {
    const { dispatcher, notes } = supervised("console.log('hello')", 'COMPLETED', { verbose: true });
    await dispatcher.dispatch('writer', envelope());
    await waitUntil(() => notes.length > 0);
    expect(notes).toEqual(['[wf-1] writing: [writer stdout] hello']);
  });

  test('the end of a workflow stops its agents, without failing their callbacks', async () => {
    const { dispatcher, requests } = supervised('setTimeout(() => undefined, 60_000)');
    const other = supervised('setTimeout(() => undefined, 60_000)');
    const pid = Number((await dispatcher.dispatch('writer', envelope('wf-1'))).handle);
    const otherPid = Number((await other.dispatcher.dispatch('writer', envelope('wf-2'))).handle);
    try {
      dispatcher.onEvent({ type: EVENT_TYPES.workflowCancelled, workflowId: 'wf-1', detail: {}, time: new Date().toISOString() });
      other.dispatcher.onEvent({ type: EVENT_TYPES.workflowCancelled, workflowId: 'wf-1', detail: {}, time: new Date().toISOString() });
      await waitUntil(() => !isAlive(pid));
      expect(isAlive(otherPid)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(requests).toHaveLength(0);
    } finally {
      other.dispatcher.stopAll();
    }
    await waitUntil(() => !isAlive(otherPid));
    expect(other.requests).toHaveLength(0);
  });
});
