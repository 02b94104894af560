/**
 * The local server's bounded agent dispatch (src/cli/supervision.ts): worker pools, the queue, a
 * process per task with a bound, tasks bound to their attempt, crashed workers, and the record of
 * agent processes that lets the next server stop what a crash left running.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { tempDir, waitUntil } from './helpers';
import { AgentPidFile, AGENT_PIDS_FILE, stopLeftoverAgents } from '../../src/cli/agent-pids';
import { isAlive } from '../../src/cli/data-dir';
import { referenceWorkerEntry } from '../../src/cli/paths';
import { SupervisedDispatcher, SupervisedDispatcherOptions } from '../../src/cli/supervision';
import type { AgentTarget } from '../../src/contract/agents';
import { EVENT_TYPES, TaskEnvelope } from '../../src/contract/status';
import type { ApiHandler } from '../../src/runtime/api';
import type { CallbackRecord } from '../../src/runtime/ports';

jest.setTimeout(30_000);

const WORKER = path.join(__dirname, 'fixtures', 'worker.js');

function envelope(i: number, input: Record<string, unknown> = {}, deadlineMs = 60_000, agent = 'writer'): TaskEnvelope {
  const id = `cb-${i}`;
  return {
    envelope_version: 1,
    workflow_id: `wf-${i}`,
    step_name: 'writing',
    attempt: 1,
    agent,
    input,
    artifacts: { prefix: `agents/writer/wf-${i}/writing/attempt-1/`, local_dir: '/tmp/unused' },
    callback: { id, url: `http://127.0.0.1:1/callbacks/${id}`, token: `token-${i}`, heartbeat_url: `http://127.0.0.1:1/callbacks/${id}/heartbeat` },
    deadline: new Date(Date.now() + deadlineMs).toISOString(),
  };
}

interface Harness {
  readonly dispatcher: SupervisedDispatcher;
  readonly requests: APIGatewayProxyEventV2[];
  readonly lines: string[];
  readonly notes: string[];
  /** Callback states the store answers (PENDING when absent). */
  readonly callbacks: Map<string, Pick<CallbackRecord, 'state' | 'outcome'>>;
}

const open: SupervisedDispatcher[] = [];
afterEach(() => {
  for (const d of open.splice(0)) d.stopAll();
});

function harness(targets: Record<string, AgentTarget>, extra: Partial<SupervisedDispatcherOptions> = {}): Harness {
  const requests: APIGatewayProxyEventV2[] = [];
  const lines: string[] = [];
  const notes: string[] = [];
  const callbacks = new Map<string, Pick<CallbackRecord, 'state' | 'outcome'>>();
  const api: ApiHandler = async (req) => {
    requests.push(req);
    return { statusCode: 200, body: '{}' };
  };
  const dispatcher = new SupervisedDispatcher({
    targets,
    store: {
      getCallback: async (id) => {
        const now = new Date().toISOString();
        return {
          callbackId: id,
          durableCallbackId: 'd',
          workflowId: 'wf',
          stepName: 'writing',
          kind: 'agent',
          createdAt: now,
          deadline: now,
          ...(callbacks.get(id) ?? { state: 'PENDING' }),
        } as CallbackRecord;
      },
    },
    api: () => api,
    onOutput: (line) => lines.push(`${line.pid} ${line.line}`),
    note: (workflowId, text) => notes.push(`[${workflowId}] ${text}`),
    console: (line) => notes.push(line),
    verbose: false,
    ...extra,
  });
  open.push(dispatcher);
  return { dispatcher, requests, lines, notes, callbacks };
}

const workerTarget: AgentTarget = { type: 'local', command: [process.execPath, WORKER] };
const received = (h: Harness, callbackId: string) => h.lines.some((l) => l.includes('"task received"') && l.includes(`"callback_id":"${callbackId}"`));
const cancelled = (h: Harness, callbackId: string) => h.lines.some((l) => l.includes('"cancelled"') && l.includes(`"callback_id":"${callbackId}"`));

describe('worker pools', () => {
  test('a worker takes tasks up to its bound; the rest wait in the queue and start as tasks end', async () => {
    const h = harness({ writer: workerTarget }, { workers: ['writer'], limits: { workersPerAgent: 1, tasksPerWorker: 2 } });
    const handles = [];
    for (let i = 0; i < 5; i++) handles.push((await h.dispatcher.dispatch('writer', envelope(i))).handle);
    expect(handles.slice(2)).toEqual(['queued', 'queued', 'queued']);
    expect(handles[0]).toMatch(/^worker:\d+$/);
    expect(handles[1]).toBe(handles[0]);
    expect(h.dispatcher.load).toEqual({ queued: 3, running: 2, workers: 1, processes: 0 });
    await waitUntil(() => received(h, 'cb-0') && received(h, 'cb-1'), 10_000, 'the first two tasks in the worker');
    expect(received(h, 'cb-2')).toBe(false);

    // The end of workflow wf-0 cancels its task in the worker; the next queued task takes its place.
    h.dispatcher.onEvent({ type: EVENT_TYPES.workflowCancelled, workflowId: 'wf-0', detail: {}, time: new Date().toISOString() });
    await waitUntil(() => cancelled(h, 'cb-0') && received(h, 'cb-2'), 10_000, 'cb-0 cancelled and cb-2 started');
    expect(h.dispatcher.load).toEqual({ queued: 2, running: 2, workers: 1, processes: 0 });
    // A queued task of a workflow that ends is dropped without reaching the worker.
    h.dispatcher.stopWorkflow('wf-4');
    expect(h.dispatcher.load.queued).toBe(1);
    expect(h.requests).toHaveLength(0);
  });

  test('agents that run the same program share one worker; two workers when the first is busy and the pool allows', async () => {
    const h = harness({ writer: workerTarget, analyst: workerTarget }, { workers: ['writer', 'analyst'], limits: { workersPerAgent: 2, tasksPerWorker: 4 } });
    const a = await h.dispatcher.dispatch('writer', envelope(1, { finish: true }));
    await waitUntil(() => h.dispatcher.load.running === 0, 10_000, 'the first task done');
    const b = await h.dispatcher.dispatch('analyst', envelope(2, {}, 60_000, 'analyst'));
    expect(b.handle).toBe(a.handle);
    const c = await h.dispatcher.dispatch('writer', envelope(3));
    expect(c.handle).toMatch(/^worker:\d+$/);
    expect(c.handle).not.toBe(a.handle);
    expect(h.dispatcher.load.workers).toBe(2);
  });

  test('a worker that crashes has its tasks failed at once through the callback route, and a new worker takes the next task', async () => {
    const h = harness({ writer: workerTarget }, { workers: ['writer'] });
    const first = await h.dispatcher.dispatch('writer', envelope(1));
    await waitUntil(() => received(h, 'cb-1'), 10_000, 'the held task');
    await h.dispatcher.dispatch('writer', envelope(2, { crash: true }));
    await waitUntil(() => h.requests.length === 2, 10_000, 'both tasks failed');
    const bodies = h.requests.map((r) => ({ path: r.rawPath, token: r.headers['x-callback-token'], body: JSON.parse(r.body ?? '') }));
    expect(bodies.map((b) => b.path).sort()).toEqual(['/callbacks/cb-1', '/callbacks/cb-2']);
    for (const b of bodies) {
      expect(b.token).toBe(`token-${b.path.slice(-1)}`);
      expect(b.body.status).toBe('failed');
      expect(b.body.error.code).toBe('AgentExited');
      expect(b.body.error.message).toMatch(/^agent 'writer' \(worker writer, pid \d+\) exited with code 3 before its report was accepted; its last output:\n/);
    }
    const next = await h.dispatcher.dispatch('writer', envelope(3));
    expect(next.handle).toMatch(/^worker:\d+$/);
    expect(next.handle).not.toBe(first.handle);
    await waitUntil(() => received(h, 'cb-3'), 10_000, 'the new worker took the task');
  });

  test('a task still running at its attempt\'s deadline is cancelled in its worker', async () => {
    const h = harness({ writer: workerTarget }, { workers: ['writer'] });
    await h.dispatcher.dispatch('writer', envelope(1, {}, 300));
    await h.dispatcher.dispatch('writer', envelope(2));
    await waitUntil(() => cancelled(h, 'cb-1'), 10_000, 'the timed-out task cancelled');
    expect(cancelled(h, 'cb-2')).toBe(false);
    expect(h.notes.join('\n')).toMatch(/\[wf-1\] writing: task of agent writer \(worker writer, pid \d+\) cancelled: its attempt's deadline .* passed/);
    expect(h.requests).toHaveLength(0);
  });

  test('a task whose callback was closed (a cancel, an abandoned branch) is cancelled; one whose report was accepted is not', async () => {
    const h = harness({ writer: workerTarget }, { workers: ['writer'] });
    await h.dispatcher.dispatch('writer', envelope(1));
    await h.dispatcher.dispatch('writer', envelope(2));
    await waitUntil(() => received(h, 'cb-1') && received(h, 'cb-2'), 10_000, 'both tasks in the worker');
    h.callbacks.set('cb-1', { state: 'COMPLETED', outcome: 'CANCELLED' });
    h.callbacks.set('cb-2', { state: 'COMPLETED', outcome: 'SUCCEEDED' });
    await waitUntil(() => cancelled(h, 'cb-1'), 10_000, 'cb-1 cancelled by the sweep');
    expect(cancelled(h, 'cb-2')).toBe(false);
  });

  test('a worker whose program exits as it starts: the agent\'s dispatches fail after three tries, naming its output', async () => {
    const broken: AgentTarget = { type: 'local', command: [process.execPath, '-e', 'console.error("no model configured"); process.exit(1)'] };
    const h = harness({ writer: broken }, { workers: ['writer'] });
    let error: Error | undefined;
    for (let i = 0; i < 20 && !error; i++) {
      try {
        await h.dispatcher.dispatch('writer', envelope(i));
      } catch (e) {
        error = e as Error;
      }
      await waitUntil(() => h.dispatcher.load.workers === 0, 10_000, 'the worker gone');
    }
    expect(error?.message).toMatch(/^agent 'writer': its worker exited 3 times as it started; its last output:\nno model configured/);
    // Each task it was given was failed through its callback.
    expect(h.requests.length).toBeGreaterThanOrEqual(3);
  });
});

describe('a process per task', () => {
  test('at most processesAtOnce run; the others wait and start as processes end', async () => {
    const held: AgentTarget = { type: 'local', command: [process.execPath, '-e', 'setTimeout(() => undefined, 60_000)'] };
    const h = harness({ writer: held }, { limits: { processesAtOnce: 2 } });
    const handles = [];
    for (let i = 0; i < 4; i++) handles.push((await h.dispatcher.dispatch('writer', envelope(i))).handle);
    expect(handles.slice(0, 2).every((x) => /^\d+$/.test(x))).toBe(true);
    expect(handles.slice(2)).toEqual(['queued', 'queued']);
    expect(h.dispatcher.load).toMatchObject({ queued: 2, processes: 2 });
    const first = Number(handles[0]);
    h.dispatcher.stopWorkflow('wf-0');
    await waitUntil(() => !isAlive(first), 10_000, 'the first process stopped');
    await waitUntil(() => h.dispatcher.load.queued === 1 && h.dispatcher.load.processes === 2, 10_000, 'a queued task started');
    expect(h.requests).toHaveLength(0);
  });

  test('the processes are recorded in the data folder while they run', async () => {
    const dir = tempDir();
    const held: AgentTarget = { type: 'local', command: [process.execPath, '-e', 'setTimeout(() => undefined, 60_000)'] };
    const h = harness({ writer: held }, { pids: new AgentPidFile(dir) });
    const pid = Number((await h.dispatcher.dispatch('writer', envelope(1))).handle);
    const record = JSON.parse(fs.readFileSync(path.join(dir, AGENT_PIDS_FILE), 'utf8'));
    expect(record.processes).toEqual([{ pid, command: held.command }]);
    h.dispatcher.stopAll();
    // Forgotten once its exit is seen (the last one takes the record away).
    await waitUntil(() => !isAlive(pid), 10_000, 'the process stopped');
    await waitUntil(() => !fs.existsSync(path.join(dir, AGENT_PIDS_FILE)), 10_000, 'the record removed');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a process that ignores SIGTERM stays recorded after a stop, for the next server to stop', async () => {
    const dir = tempDir();
    const stubborn: AgentTarget = {
      type: 'local',
      command: [process.execPath, '-e', 'process.on("SIGTERM", () => undefined); console.log("up"); setTimeout(() => undefined, 60_000)'],
    };
    const h = harness({ writer: stubborn }, { pids: new AgentPidFile(dir) });
    const pid = Number((await h.dispatcher.dispatch('writer', envelope(1))).handle);
    try {
      await waitUntil(() => h.lines.some((line) => line.endsWith(' up')), 10_000, 'the process installed its SIGTERM handler');
      h.dispatcher.stopAll();
      expect(isAlive(pid)).toBe(true);
      expect(stopLeftoverAgents(dir)).toEqual({ stopped: [pid], reused: [] });
      await waitUntil(() => !isAlive(pid), 10_000, 'the leftover stopped');
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('leftover agent processes', () => {
  test('the next server stops recorded processes still running their command, and leaves a reused pid alone', async () => {
    const dir = tempDir();
    const command = [process.execPath, '-e', 'setTimeout(() => undefined, 60_000)'];
    const leftover = spawn(command[0], command.slice(1), { stdio: 'ignore' });
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60_000) // another program'], { stdio: 'ignore' });
    try {
      await waitUntil(() => leftover.pid !== undefined && other.pid !== undefined);
      const record = new AgentPidFile(dir);
      record.add(leftover.pid!, command);
      record.add(other.pid!, command); // the pid now runs something else
      record.add(999_999_999, command); // gone
      expect(stopLeftoverAgents(dir)).toEqual({ stopped: [leftover.pid], reused: [other.pid] });
      await waitUntil(() => !isAlive(leftover.pid!), 10_000, 'the leftover stopped');
      expect(isAlive(other.pid!)).toBe(true);
      expect(fs.existsSync(path.join(dir, AGENT_PIDS_FILE))).toBe(false);
      expect(stopLeftoverAgents(dir)).toEqual({ stopped: [], reused: [] });
    } finally {
      leftover.kill('SIGKILL');
      other.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the reference agents\' worker (bundled)', () => {
  const entry = referenceWorkerEntry();
  const run = fs.existsSync(entry) ? test : test.skip;
  run('says ready for all three agents and exits when its stdin closes', async () => {
    const child: ChildProcess = spawn(process.execPath, [entry], {
      env: { ...process.env, CDK_DURABLE_AGENTS_WORKER: 'stdio', AGENT_MODEL_PROVIDER: 'offline' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitUntil(() => out.includes('\n'), 10_000, 'ready');
    expect(JSON.parse(out.split('\n')[0])).toEqual({ type: 'ready', agents: ['researcher', 'analyst', 'writer'], pid: child.pid });
    child.stdin!.end();
    expect(await exited).toBe(0);
  });
});
