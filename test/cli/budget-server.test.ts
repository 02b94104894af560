/**
 * Budgets on the local server, end to end (issue 20): an agent process that heartbeats usage past
 * the workflow's token budget and then keeps working ends the run with BUDGET_EXCEEDED, its process
 * is stopped, and the events say which budget and the figures. And the kill switch over HTTP.
 */
import * as fs from 'fs';
import * as path from 'path';
import { agentPid, http, startWorkflow, tempDir, TEST_AGENT, waitFor, waitForEnd, waitUntil } from './helpers';
import { isAlive } from '../../src/cli/data-dir';
import { startLocalServer } from '../../src/cli/server';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';

jest.setTimeout(60_000);

const RETRY_ONCE = { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 };

function budgetedDefinition(maxTokens: number): WorkflowDefinitionDocument {
  return {
    schemaVersion: 1,
    name: 'budgeted',
    budget: { maxTokens },
    steps: [{ type: 'agent', name: 'research', agent: 'researcher', input: {}, timeoutSeconds: 600, retry: RETRY_ONCE }],
  };
}


function events(dataDir: string, workflowId: string): Array<{ type: string; detail: Record<string, any> }> {
  const file = path.join(dataDir, 'events.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.workflowId === workflowId);
}

test('an agent that heartbeats tokens past the budget ends the run with BUDGET_EXCEEDED; its process is stopped; the event says why', async () => {
  const dir = tempDir();
  const server = await startLocalServer({
    port: 0,
    dataDir: dir,
    definition: budgetedDefinition(1000),
    agentCommands: { researcher: ['node', TEST_AGENT, '--heartbeat-usage', '900,300'] },
    log: () => undefined,
  });
  try {
    const id = await startWorkflow(server.url, { topic: 'expensive' });
    const pid = await agentPid(server.dataDir, id);
    const done = await waitForEnd(server.url, id, 30_000);
    expect(done.status).toBe('FAILED');
    expect(done.error).toEqual({ code: 'BUDGET_EXCEEDED', message: expect.stringMatching(/the workflow maxTokens is 1000 tokens, used 1200 tokens/) });
    expect(done.usage).toMatchObject({ input_tokens: 900, output_tokens: 300, total_tokens: 1200, steps: { research: { total_tokens: 1200 } } });
    expect(done.steps[0]).toMatchObject({ name: 'research', status: 'FAILED', error: { code: 'BUDGET_EXCEEDED' } });
    // The agent kept working after its heartbeat was refused: only the server could end it.
    await waitUntil(() => !isAlive(pid), 20_000, `agent process ${pid} to be stopped`);
    const seen = events(server.dataDir, id);
    expect(seen.find((e) => e.type === 'Workflow Budget Exceeded')?.detail).toMatchObject({
      event_type: 'workflow_budget_exceeded', budget: 'maxTokens', scope: 'workflow', limit: 1000, used: 1200,
    });
    expect(seen.find((e) => e.type === 'Workflow Failed')?.detail).toMatchObject({ error: { code: 'BUDGET_EXCEEDED' } });
  } finally {
    await server.close();
  }
});

test('the kill switch on the local server: running agents are stopped, starts refused until it is released, and it survives a restart', async () => {
  const dir = tempDir();
  const options = {
    port: 0,
    dataDir: dir,
    definition: budgetedDefinition(1_000_000),
    agentCommands: { researcher: ['node', TEST_AGENT, '--silent'] },
    log: () => undefined,
  };
  let server = await startLocalServer(options);
  try {
    const id = await startWorkflow(server.url, { topic: 'runaway' });
    const pid = await agentPid(server.dataDir, id);
    const on = await http(server.url, 'PUT', '/admin/kill-switch', { engaged: true, reason: 'incident 42' });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ engaged: true, reason: 'incident 42', cancelled_workflows: 1 });
    const done = await waitForEnd(server.url, id, 30_000);
    expect(done).toMatchObject({ status: 'CANCELLED', error: { code: 'KILL_SWITCH', message: expect.stringContaining('incident 42') } });
    await waitUntil(() => !isAlive(pid), 20_000, `agent process ${pid} to be stopped`);
    await server.close();

    server = await startLocalServer(options);
    const refused = await http(server.url, 'POST', '/workflows', { topic: 'again' });
    expect(refused.status).toBe(503);
    expect(refused.body.message).toMatch(/the kill switch is engaged: incident 42 \(by /);
    expect((await http(server.url, 'PUT', '/admin/kill-switch', { engaged: false })).status).toBe(200);
    const again = await startWorkflow(server.url, { topic: 'again' });
    await waitFor(server.url, again, (wf) => wf.awaiting === 'research_completion');
    await http(server.url, 'POST', `/workflows/${again}/cancel`);
    await waitForEnd(server.url, again, 30_000);
  } finally {
    await server.close();
  }
});
