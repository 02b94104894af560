import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import {
  AgentSpec, createLogger, CredentialResolver, ModelProvider, OfflineProvider, parseMessage, requiredText, runAsProcess, runWorker,
  WorkerOptions, WorkerOutput,
} from '../src';
import { envelope, memoryLogger } from './fixtures';
import { callbackServer, closeAllServers, TestServer } from './servers';

afterAll(closeAllServers);

const spec: AgentSpec = {
  name: 'researcher',
  artifactName: 'research',
  system: 'Sections:\n## Summary\n',
  buildPrompt: (inputs) => `Topic: ${requiredText(inputs, 'topic', 'a topic')}`,
};

/** A provider that answers only when aborted (it then fails), and counts its calls. */
function hangingProvider(): ModelProvider & { calls: number } {
  const provider = {
    name: 'hanging',
    calls: 0,
    complete: (request: { signal?: AbortSignal }) => {
      provider.calls++;
      return new Promise<never>((_resolve, reject) => {
        request.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      });
    },
  };
  return provider;
}

interface Harness {
  readonly input: PassThrough;
  readonly out: WorkerOutput[];
  readonly log: ReturnType<typeof memoryLogger>;
  readonly exit: Promise<number>;
  send(message: unknown): void;
}

function worker(options: Partial<WorkerOptions> = {}): Harness {
  const input = new PassThrough();
  const out: WorkerOutput[] = [];
  const log = memoryLogger();
  const exit = runWorker(spec, {
    input,
    write: (line) => out.push(JSON.parse(line) as WorkerOutput),
    logger: createLogger({ agent: 'researcher' }, { write: log.write }),
    env: {},
    provider: new OfflineProvider(),
    delivery: { credentials: new CredentialResolver({ env: {} }), baseDelayMs: 10 },
    ...options,
  });
  return { input, out, log, exit, send: (m) => input.write(`${typeof m === 'string' ? m : JSON.stringify(m)}\n`) };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function task(server: TestServer, dir: string, i: number, overrides: Record<string, unknown> = {}) {
  const e = envelope(server.url, overrides);
  const id = `cb-${i}`;
  return {
    type: 'task',
    envelope: {
      ...e,
      workflow_id: `wf-${i}`,
      artifacts: { prefix: `agents/researcher/wf-${i}/research/attempt-1/`, local_dir: dir },
      callback: { ...e.callback, id, url: `${server.url}/callbacks/${id}`, heartbeat_url: `${server.url}/callbacks/${id}/heartbeat` },
    },
  };
}

describe('worker mode', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'worker-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  test('runs many tasks, each reported once through its own callback, and says when each is done', async () => {
    const server = await callbackServer([200]);
    const w = worker();
    for (let i = 0; i < 25; i++) w.send(task(server, dir, i));
    await until(() => w.out.filter((m) => m.type === 'done').length === 25, '25 done messages');
    expect(w.out[0]).toEqual({ type: 'ready', agents: ['researcher'], pid: process.pid });
    const done = w.out.filter((m) => m.type === 'done');
    expect(new Set(done.map((m) => m.type === 'done' && m.callback_id)).size).toBe(25);
    expect(done.every((m) => m.type === 'done' && m.status === 'succeeded' && m.report === 'accepted')).toBe(true);
    expect(done).toContainEqual({ type: 'done', callback_id: 'cb-7', workflow_id: 'wf-7', step_name: 'research', status: 'succeeded', report: 'accepted' });
    const paths = server.requests.map((r) => r.path).sort();
    expect(paths).toEqual(Array.from({ length: 25 }, (_, i) => `/callbacks/cb-${i}`).sort());
    expect(JSON.parse(server.requests.find((r) => r.path === '/callbacks/cb-3')!.body).artifacts.research)
      .toBe('agents/researcher/wf-3/research/attempt-1/research.md');
    await expect(fsp.readFile(path.join(dir, 'agents/researcher/wf-3/research/attempt-1/research.md'), 'utf8')).resolves.toContain('Topic');
    // The task's lines carry its ids.
    expect(w.log.lines.find((l) => l.message === 'task received' && l.workflow_id === 'wf-3')).toMatchObject({ step_name: 'research', callback_id: 'cb-3' });
    w.input.end();
    await expect(w.exit).resolves.toBe(0);
  });

  test('a cancel message aborts the task: nothing is written or reported, and it is done as cancelled', async () => {
    const server = await callbackServer([200]);
    const provider = hangingProvider();
    const w = worker({ provider });
    w.send(task(server, dir, 1));
    w.send(task(server, dir, 2));
    await until(() => provider.calls === 2, 'two model calls');
    w.send({ type: 'cancel', callback_id: 'cb-1' });
    await until(() => w.out.some((m) => m.type === 'done'), 'a done message');
    expect(w.out.filter((m) => m.type === 'done')).toEqual([
      { type: 'done', callback_id: 'cb-1', workflow_id: 'wf-1', step_name: 'research', status: 'cancelled', report: 'none' },
    ]);
    expect(w.log.lines.find((l) => l.message === 'task cancelled; no report sent')).toMatchObject({ workflow_id: 'wf-1' });
    // A cancel of a task that is not running changes nothing.
    w.send({ type: 'cancel', callback_id: 'cb-unknown' });
    w.input.end();
    await expect(w.exit).resolves.toBe(0);
    expect(server.requests).toHaveLength(0);
    await expect(fsp.readdir(path.join(dir, 'agents/researcher/wf-1/research/attempt-1'))).rejects.toThrow(/ENOENT/);
  });

  test('the worker exits when its input ends, cancelling what still runs', async () => {
    const server = await callbackServer([200]);
    const provider = hangingProvider();
    const w = worker({ provider });
    w.send(task(server, dir, 1));
    await until(() => provider.calls === 1, 'the model call');
    w.input.end();
    await expect(w.exit).resolves.toBe(0);
    expect(w.out.filter((m) => m.type === 'done')).toEqual([
      { type: 'done', callback_id: 'cb-1', workflow_id: 'wf-1', step_name: 'research', status: 'cancelled', report: 'none' },
    ]);
    expect(server.requests).toHaveLength(0);
  });

  test('when its input ends, a report being retried is given up at once (no try after the end)', async () => {
    const server = await callbackServer([503]);
    // Without the end stopping it, the next try would come a minute later (and the test would time out).
    const w = worker({ delivery: { credentials: new CredentialResolver({ env: {} }), baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1 } });
    w.send(task(server, dir, 1, { deadline: new Date(Date.now() + 600_000).toISOString() }));
    await until(() => server.requests.length === 1, 'the first try');
    w.input.end();
    await expect(w.exit).resolves.toBe(0);
    expect(server.requests).toHaveLength(1);
    expect(w.out.filter((m) => m.type === 'done')).toEqual([
      { type: 'done', callback_id: 'cb-1', workflow_id: 'wf-1', step_name: 'research', status: 'cancelled', report: 'none' },
    ]);
  });

  test('a bad line is logged as an error and the worker goes on', async () => {
    const server = await callbackServer([200]);
    const w = worker();
    w.send('not json');
    w.send({ type: 'sing' });
    w.send({ type: 'task' });
    w.send({ type: 'cancel', callback_id: '' });
    w.send(task(server, dir, 9));
    await until(() => w.out.some((m) => m.type === 'done'), 'the good task');
    const errors = w.log.lines.filter((l) => l.level === 'error').map((l) => l.message);
    expect(errors).toEqual([
      expect.stringMatching(/^worker: not JSON \(.*\); line skipped$/),
      'worker: unknown message type "sing" (expected "task" or "cancel"); line skipped',
      'worker: a task message needs "envelope" (the task envelope, an object); line skipped',
      'worker: a cancel message needs "callback_id" (a non-empty string); line skipped',
    ]);
    expect(w.out.find((m) => m.type === 'done')).toMatchObject({ callback_id: 'cb-9', status: 'succeeded' });
    w.input.end();
    await w.exit;
  });

  test('an invalid envelope is reported failed through its callback', async () => {
    const server = await callbackServer([200]);
    const w = worker();
    w.send(task(server, dir, 4, { attempt: 0 }));
    await until(() => w.out.some((m) => m.type === 'done'), 'done');
    expect(w.out.find((m) => m.type === 'done')).toMatchObject({ callback_id: 'cb-4', status: 'failed', report: 'accepted' });
    expect(JSON.parse(server.requests[0].body).error.code).toBe('InvalidEnvelope');
    w.input.end();
    await w.exit;
  });

  test('one worker serves several agents: each task runs the spec its envelope names; a task for another agent is reported failed', async () => {
    const server = await callbackServer([200]);
    const analyst: AgentSpec = { name: 'analyst', artifactName: 'analysis', system: 'Analyse.', buildPrompt: () => 'analyse' };
    const w = worker();
    const exit = runWorker([spec, analyst], {
      input: w.input,
      write: () => undefined,
      logger: createLogger({}, { write: () => undefined }),
      env: {},
      provider: new OfflineProvider(),
      delivery: { credentials: new CredentialResolver({ env: {} }), baseDelayMs: 10 },
    });
    w.send(task(server, dir, 1, { agent: 'analyst' }));
    w.send(task(server, dir, 2, { agent: 'researcher' }));
    w.send(task(server, dir, 3, { agent: 'writer' }));
    await until(() => server.requests.length === 6, 'three reports to each worker'); // both workers read the same input
    const reports = server.requests.map((r) => ({ path: r.path, body: JSON.parse(r.body) }));
    const fromMulti = reports.filter((r) => r.path === '/callbacks/cb-1');
    expect(fromMulti.map((r) => r.body.artifacts?.analysis ?? r.body.artifacts?.research).sort())
      .toEqual(['agents/researcher/wf-1/research/attempt-1/analysis.md', 'agents/researcher/wf-1/research/attempt-1/research.md']);
    expect(reports.filter((r) => r.path === '/callbacks/cb-3').map((r) => r.body.status).sort()).toEqual(['failed', 'succeeded']);
    expect(reports.find((r) => r.path === '/callbacks/cb-3' && r.body.status === 'failed')!.body.error)
      .toEqual({ code: 'AgentError', message: 'this worker runs the agents researcher, analyst; the task is for agent "writer"' });
    w.input.end();
    await Promise.all([w.exit, exit]);
  });

  test('parseMessage', () => {
    expect(parseMessage('{"type":"cancel","callback_id":"c"}')).toEqual({ type: 'cancel', callback_id: 'c' });
    expect(parseMessage('[]')).toBe('expected a JSON object with a "type"');
  });

  test('runAsProcess refuses a worker mode it does not know', async () => {
    const log = memoryLogger();
    expect(await runAsProcess(spec, { env: { CDK_DURABLE_AGENTS_WORKER: 'http' }, logger: createLogger({}, { write: log.write }) })).toBe(2);
    expect(log.lines[0].message).toBe("CDK_DURABLE_AGENTS_WORKER is 'http': the worker modes are stdio; unset it to run the one task in TASK_ENVELOPE");
  });
});
