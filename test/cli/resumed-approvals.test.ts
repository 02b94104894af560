/**
 * A workflow waiting for approval when the local server stops, on the next server on the folder:
 * `--approve auto` approves it without any API call, and in mode `api` the console shows its
 * approval commands and freshly issued links again; neither publishes the request a second time.
 */
import * as fs from 'fs';
import * as path from 'path';
import { http, startWorkflow, tempDir, testAgents, waitForApproval, waitForEnd, waitUntil } from './helpers';
import { eventLogEnd, reannounceApprovals } from '../../src/cli/resumed-approvals';
import { ApproveMode, LocalServer, startLocalServer } from '../../src/cli/server';
import { EVENT_TYPES } from '../../src/contract/status';
import { ApprovalLinkIssuer } from '../../src/runtime/approval-links';
import type { CallbackRecord, WorkflowEvent, WorkflowRecord } from '../../src/runtime/ports';

jest.setTimeout(90_000);

/** The approval requests of a workflow in the data folder's event log. */
function approvalEvents(dataDir: string, id: string): WorkflowEvent[] {
  return fs.readFileSync(path.join(dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as WorkflowEvent)
    .filter((e) => e.workflowId === id && e.type === EVENT_TYPES.approvalRequested);
}

/** A server on the folder whose console lines go to `lines`. */
function serve(dataDir: string, approve: ApproveMode, lines: string[], ask?: (question: string) => Promise<boolean>): Promise<LocalServer> {
  return startLocalServer({ port: 0, dataDir, approve, agentCommands: testAgents(), log: (l) => lines.push(l), ...(ask ? { ask } : {}) });
}

/** Starts a workflow on a server in mode `api` and stops the server once its approval is announced. */
async function leaveWaiting(dataDir: string): Promise<{ id: string; approveLink: string }> {
  const lines: string[] = [];
  const first = await serve(dataDir, 'api', lines);
  try {
    const id = await startWorkflow(first.url);
    await waitForApproval(first.url, id);
    // The console line follows the event's line in the log.
    await waitUntil(() => lines.some((l) => l.includes(`[${id.slice(0, 11)}]`) && l.includes('approve link: ')), 20_000, 'the approval announced');
    const approveLink = /approve link: (\S+)/.exec(lines.find((l) => l.includes(`[${id.slice(0, 11)}]`) && l.includes('approve link: '))!)![1];
    return { id, approveLink };
  } finally {
    await first.close();
  }
}

describe('approvals of workflows resumed after a restart', () => {
  const dirs: string[] = [];
  let server: LocalServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('--approve auto on the next server approves the waiting workflow without any API call', async () => {
    const dir = tempDir('cdkda-resumed-');
    dirs.push(dir);
    const { id } = await leaveWaiting(dir);

    const lines: string[] = [];
    server = await serve(dir, 'auto', lines);
    // Only reads from here on: the server approves by itself.
    const done = await waitForEnd(server.url, id, 30_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.decisions).toEqual([expect.objectContaining({ decision: 'approved', comment: expect.stringMatching(/approved automatically/) })]);
    const mine = lines.filter((l) => l.includes(`[${id.slice(0, 11)}]`));
    expect(mine.some((l) => l.includes('approval: approving automatically (--approve auto)'))).toBe(true);
    expect(approvalEvents(dir, id)).toHaveLength(1);
  });

  test('--approve prompt on the next server asks about the waiting workflow once, and sends the answer', async () => {
    const dir = tempDir('cdkda-resumed-');
    dirs.push(dir);
    const { id } = await leaveWaiting(dir);

    const questions: string[] = [];
    server = await serve(dir, 'prompt', [], async (question) => {
      questions.push(question);
      return false;
    });
    const done = await waitForEnd(server.url, id, 30_000);
    expect(done.status).toBe('REJECTED');
    expect(questions).toEqual([`Approve workflow ${id} (step approval)? [y/n] `]);
    expect(approvalEvents(dir, id)).toHaveLength(1);
  });

  test('in mode api the next server shows the approval commands and new links, which approve the workflow', async () => {
    const dir = tempDir('cdkda-resumed-');
    dirs.push(dir);
    const { id, approveLink: oldLink } = await leaveWaiting(dir);

    const lines: string[] = [];
    server = await serve(dir, 'api', lines);
    const mine = () => lines.filter((l) => l.includes(`[${id.slice(0, 11)}]`));
    await waitUntil(() => mine().some((l) => l.includes('approve link: ')), 20_000, 'the approve link shown again');
    expect(mine().some((l) => /approval: waiting for approval \(until .+\): /.test(l))).toBe(true);
    expect(mine().some((l) => l.includes(`approve: curl -s -X POST ${server!.url}/workflows/${id}/approval`))).toBe(true);
    expect(mine().some((l) => /to approve: agents\/writer\/.*report/.test(l))).toBe(true);
    const link = /approve link: (\S+)/.exec(mine().find((l) => l.includes('approve link: '))!)![1];
    expect(link.startsWith(`${server.url}/approvals/`)).toBe(true);
    expect(link.slice(link.lastIndexOf('/'))).not.toBe(oldLink.slice(oldLink.lastIndexOf('/')));
    expect(mine().filter((l) => l.includes('approve link: '))).toHaveLength(1);
    expect((await http(server.url, 'GET', `/workflows/${id}`)).body.status).toBe('RUNNING');

    const res = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'origin': server.url }, body: 'comment=after+the+restart' });
    expect(res.status).toBe(200);
    const done = await waitForEnd(server.url, id, 30_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.decisions).toEqual([expect.objectContaining({ decision: 'approved', via: 'link', comment: 'after the restart' })]);
    expect(approvalEvents(dir, id)).toHaveLength(1);
  });
});

describe('reannounceApprovals', () => {
  const linkIssuer = new ApprovalLinkIssuer({ keys: { key: async () => Buffer.alloc(32, 7) }, baseUrl: 'http://127.0.0.1:1', expirySeconds: 600 });
  const deadline = new Date(Date.now() + 3_600_000).toISOString();

  function callback(workflowId: string, createdAt: string, kind: CallbackRecord['kind'] = 'approval'): CallbackRecord {
    return { callbackId: `cb-${workflowId}-${kind}`, durableCallbackId: `d-${workflowId}`, workflowId, stepName: 'approval', kind, state: 'PENDING', createdAt, deadline };
  }

  function request(workflowId: string, time: string): WorkflowEvent {
    return { type: EVENT_TYPES.approvalRequested, workflowId, stepName: 'approval', time, detail: { prompt: `ok ${workflowId}?`, deadline, links: { approve: 'old' } } };
  }

  test('hands on the request of the pending approval only, announced before the restart, with new links', async () => {
    const dir = tempDir('cdkda-resumed-unit-');
    try {
      const file = path.join(dir, 'events.jsonl');
      const t0 = '2030-01-01T00:00:00.000Z';
      const t1 = '2030-01-01T00:01:00.000Z';
      const records: Record<string, Partial<WorkflowRecord>> = {
        'wf-a': { status: 'RUNNING', awaiting: 'approval' },
        'wf-old': { status: 'RUNNING', awaiting: 'approval' },
        'wf-late': { status: 'RUNNING', awaiting: 'approval' },
        'wf-agent': { status: 'RUNNING', awaiting: 'writing_completion' },
      };
      const callbacks: Record<string, CallbackRecord[]> = {
        'wf-a': [callback('wf-a', t0), callback('wf-a', t0, 'timer')],
        // Its request in the log is of an earlier approval of the step.
        'wf-old': [callback('wf-old', t1)],
        'wf-late': [callback('wf-late', t0)],
        'wf-agent': [callback('wf-agent', t0)],
      };
      fs.writeFileSync(file, [request('wf-a', t1), request('wf-old', t0), request('wf-agent', t1)].map((e) => `${JSON.stringify(e)}\n`).join('') + '{"torn');
      const logEnd = eventLogEnd(file);
      // Written after the restart: its step announces it itself.
      fs.appendFileSync(file, `\n${JSON.stringify(request('wf-late', t1))}\n`);
      const seen: WorkflowEvent[] = [];
      const handed = await reannounceApprovals(['wf-a', 'wf-old', 'wf-late', 'wf-agent', 'wf-gone'], {
        store: {
          getWorkflow: async (id) => (records[id] ? { workflowId: id, ...records[id] } as WorkflowRecord : undefined),
          pendingCallbacks: async (id) => callbacks[id] ?? [],
        },
        eventLogFile: file,
        logEnd,
        links: linkIssuer,
        sinks: [(e) => seen.push(e)],
        log: () => undefined,
      });
      expect(handed).toEqual(['wf-a']);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ type: EVENT_TYPES.approvalRequested, workflowId: 'wf-a', stepName: 'approval', time: t1 });
      expect(seen[0].detail).toMatchObject({ prompt: 'ok wf-a?', deadline });
      const links = seen[0].detail.links as Record<string, string>;
      expect(links.approve).toMatch(/^http:\/\/127\.0\.0\.1:1\/approvals\/v1\./);
      expect(links.reject).toMatch(/^http:\/\/127\.0\.0\.1:1\/approvals\/v1\./);
      expect(Date.parse(links.expires_at)).toBeLessThanOrEqual(Date.parse(deadline));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an empty or missing log hands nothing on', async () => {
    const dir = tempDir('cdkda-resumed-unit-');
    try {
      const file = path.join(dir, 'events.jsonl');
      expect(eventLogEnd(file)).toBe(0);
      const handed = await reannounceApprovals(['wf-a'], {
        store: {
          getWorkflow: async (id) => ({ workflowId: id, status: 'RUNNING', awaiting: 'approval' }) as WorkflowRecord,
          pendingCallbacks: async (id) => [callback(id, '2030-01-01T00:00:00.000Z')],
        },
        eventLogFile: file,
        logEnd: 0,
        sinks: [() => {
          throw new Error('nothing should be handed on');
        }],
        log: () => undefined,
      });
      expect(handed).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
