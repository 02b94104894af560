import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClientResponse, LocalClient } from '../../src/cli/client';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';

/** The test agent (follows the agent contract; see fixtures/agent.js). */
export const TEST_AGENT = path.join(__dirname, 'fixtures', 'agent.js');

/** `--agent`-style commands running the test agent for the three reference agent names. */
export function testAgents(extra: Partial<Record<'researcher' | 'analyst' | 'writer', string[]>> = {}): Record<string, string[]> {
  return {
    researcher: ['node', TEST_AGENT, ...(extra.researcher ?? [])],
    analyst: ['node', TEST_AGENT, ...(extra.analyst ?? [])],
    writer: ['node', TEST_AGENT, ...(extra.writer ?? [])],
  };
}

export function tempDir(prefix = 'cdkda-cli-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export type HttpResult = ClientResponse;

/** A request to the server over HTTP (JSON in, JSON out), with the command line's own client. */
export function http(url: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new LocalClient(url).call(method, p, body, headers);
}

/** Starts a workflow and returns its id. */
export async function startWorkflow(url: string, input: Record<string, unknown> = { topic: 'durable agents', parameters: { depth: 'brief' } },
  headers: Record<string, string> = {}): Promise<string> {
  const res = await http(url, 'POST', '/workflows', input, headers);
  if (res.status !== 202) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.workflow_id;
}

/** Polls a condition every 20 ms until it holds; fails with `what` after the deadline. */
export async function waitUntil(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} never held within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELLED'];

/** Polls GET /workflows/{id} until `until` holds (or the workflow ended, if `orEnded`). */
export async function waitFor(url: string, id: string, until: (wf: any) => boolean, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await http(url, 'GET', `/workflows/${id}`);
    if (res.status === 200 && until(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${id}; last: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function waitForEnd(url: string, id: string, timeoutMs = 20_000): Promise<any> {
  return waitFor(url, id, (wf) => TERMINAL.includes(wf.status), timeoutMs);
}

export function waitForApproval(url: string, id: string, timeoutMs = 20_000): Promise<any> {
  return waitFor(url, id, (wf) => wf.awaiting === 'approval' || TERMINAL.includes(wf.status), timeoutMs);
}

/** Approves (retrying while the approval is still being registered, as a person would not notice). */
export async function decide(url: string, id: string, approved: boolean, comment?: string): Promise<HttpResult> {
  for (let i = 0; ; i++) {
    const res = await http(url, 'POST', `/workflows/${id}/approval`, { approved, ...(comment ? { comment } : {}) });
    if (res.status !== 409 || i >= 40) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One agent step, a short approval, and the publish of the agent's report. */
export function shortApprovalDefinition(approvalTimeoutSeconds: number, onTimeout: 'REJECT' | 'APPROVE' | 'FAIL' = 'REJECT'): WorkflowDefinitionDocument {
  return {
    schemaVersion: 1,
    name: 'short-approval',
    steps: [
      {
        type: 'agent',
        name: 'writing',
        agent: 'writer',
        input: { topic: { from: 'input', path: 'topic' } },
        timeoutSeconds: 30,
        retry: { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 },
      },
      { type: 'approval', name: 'approval', prompt: 'Publish it?', timeoutSeconds: approvalTimeoutSeconds, onTimeout, onReject: 'END' },
      { type: 'publish', name: 'publish', artifact: { from: 'step', step: 'writing', path: 'artifacts.report' } },
    ],
  };
}

/** The pid of the agent process dispatched for the workflow (the handle in the server's runtime log). */
export async function agentPid(dataDir: string, workflowId: string, timeoutMs = 20_000): Promise<number> {
  let pid: number | undefined;
  const log = path.join(dataDir, 'runtime.log');
  await waitUntil(() => {
    const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    // A line still being written is not JSON yet: skipped until it is whole.
    const line = text.split('\n').flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    }).find((l) => l.message === 'task dispatched' && l.workflow_id === workflowId);
    pid = line ? Number(line.handle) : undefined;
    return pid !== undefined;
  }, timeoutMs, 'the task to be dispatched');
  return pid!;
}
