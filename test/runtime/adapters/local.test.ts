import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AgentTarget } from '../../../src/contract/agents';
import type { TaskEnvelope } from '../../../src/contract/status';
import {
  AgentExit,
  AgentOutputLine,
  LocalArtifactStore,
  LocalEventPublisher,
  LocalWorkflowStore,
  ProcessAgentDispatcher,
} from '../../../src/runtime/adapters/local';
import type { CallbackRecord, WorkflowEvent, WorkflowRecord } from '../../../src/runtime/ports';
import { agentDispatcherContract, envelopeFor } from '../contract/agent-dispatcher.contract';
import { artifactStoreContract } from '../contract/artifact-store.contract';
import { eventPublisherContract, ObservedEvent } from '../contract/event-publisher.contract';
import { workflowStoreContract } from '../contract/workflow-store.contract';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cda-local-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A node program run as an agent: `node -e <script>`. */
function nodeAgent(script: string, extra: Partial<Extract<AgentTarget, { type: 'local' }>> = {}): AgentTarget {
  return { type: 'local', command: [process.execPath, '-e', script], ...extra };
}

const workflow = (id: string, overrides: Partial<WorkflowRecord> = {}): WorkflowRecord => ({
  workflowId: id,
  definitionName: 'research-report',
  status: 'RUNNING',
  awaiting: 'research_completion',
  input: { topic: 't' },
  createdAt: '2024-05-01T00:00:00.000Z',
  updatedAt: '2024-05-01T00:00:00.000Z',
  steps: [],
  ...overrides,
});
const callback = (id: string, workflowId: string): CallbackRecord => ({
  callbackId: id,
  durableCallbackId: `durable-${id}`,
  workflowId,
  stepName: 'research',
  kind: 'agent',
  tokenHash: '00'.repeat(32),
  state: 'PENDING',
  createdAt: '2024-05-01T00:00:01.000Z',
  deadline: '2024-05-02T00:00:00.000Z',
});

describe('LocalWorkflowStore (in memory) passes the WorkflowStore contract', () => {
  workflowStoreContract(async () => new LocalWorkflowStore());
});

describe('LocalWorkflowStore (with a folder) passes the WorkflowStore contract', () => {
  workflowStoreContract(async () => new LocalWorkflowStore({ dir: tempDir() }));
});

describe('LocalWorkflowStore folder', () => {
  test('a new store on the same folder sees the workflows, steps, callbacks and idempotency keys of the previous one', async () => {
    const dir = tempDir();
    const first = new LocalWorkflowStore({ dir });
    const a = workflow('wf/a: odd id', { idempotencyKey: 'key-a' });
    const b = workflow('WF/A: ODD ID', { updatedAt: '2024-05-01T00:00:05.000Z' });
    await first.createWorkflow(a);
    await first.createWorkflow(b);
    await first.putStep(a.workflowId, { name: 'research', type: 'agent', status: 'RUNNING' });
    await first.updateWorkflow(a.workflowId, { awaiting: null, result: { report: 'r.md' } });
    await first.putCallback(callback('cb-1', a.workflowId));
    await first.putCallback(callback('cb-2', a.workflowId));
    await first.completeCallback('cb-1', 'SUCCEEDED');
    await first.flush();

    const second = new LocalWorkflowStore({ dir });
    expect(await second.getWorkflow(a.workflowId)).toEqual(await first.getWorkflow(a.workflowId));
    expect(await second.getWorkflow(b.workflowId)).toEqual(b);
    expect(await second.listWorkflows({ limit: 10 })).toEqual(await first.listWorkflows({ limit: 10 }));
    expect(await second.getCallback('cb-1')).toMatchObject({ state: 'COMPLETED', outcome: 'SUCCEEDED' });
    expect((await second.pendingCallbacks(a.workflowId)).map((c) => c.callbackId)).toEqual(['cb-2']);
    expect(await second.completeCallback('cb-1', 'FAILED')).toBe(false);
    expect(await second.completeCallback('cb-2', 'FAILED')).toBe(true);
    const again = await second.createWorkflow(workflow('wf-other', { idempotencyKey: 'key-a' }));
    expect(again).toMatchObject({ created: false, workflow: { workflowId: a.workflowId } });
  });

  test('writes one JSON file per workflow, atomically (no temporary file left), ids differing in case apart', async () => {
    const dir = tempDir();
    const store = new LocalWorkflowStore({ dir });
    await store.createWorkflow(workflow('abc'));
    await store.createWorkflow(workflow('ABC'));
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.putStep('abc', { name: `s${i}`, type: 'agent', status: 'RUNNING' })));
    await store.flush();
    const files = fs.readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => /^(abc|ABC)\.[0-9a-f]{16}\.json$/.test(f))).toBe(true);
    const abc = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))).find((d) => d.workflow.workflowId === 'abc');
    // The last write carries every change, whatever order the queued writes finished in.
    expect(abc.workflow.steps).toHaveLength(20);
    expect(abc).toMatchObject({ version: 1, callbacks: [] });
  });

  test('removes temporary files of interrupted writes at start (and nothing else), and refuses a corrupt file naming it', async () => {
    const dir = tempDir();
    const first = new LocalWorkflowStore({ dir });
    await first.createWorkflow(workflow('kept'));
    await first.flush();
    const [kept] = fs.readdirSync(dir);
    // What a write killed between its writeFile and its rename leaves: empty or half written.
    const leftovers = [`.${kept}.4242.1.tmp`, `.${kept}.4242.2.tmp`, '.other.0123456789abcdef.json.99.7.tmp'];
    fs.writeFileSync(path.join(dir, leftovers[0]), '');
    fs.writeFileSync(path.join(dir, leftovers[1]), '{ half');
    fs.writeFileSync(path.join(dir, leftovers[2]), '{ half');
    fs.writeFileSync(path.join(dir, '.notes'), 'not ours');
    fs.writeFileSync(path.join(dir, 'readme.txt'), 'not ours');
    const second = new LocalWorkflowStore({ dir });
    expect((await second.listWorkflows({ limit: 10 })).items.map((w) => w.workflowId)).toEqual(['kept']);
    expect(fs.readdirSync(dir).sort()).toEqual(['.notes', kept, 'readme.txt'].sort());
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ half');
    expect(() => new LocalWorkflowStore({ dir })).toThrow(/cannot read workflow file '.*broken\.json'/);
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"hello": 1}');
    expect(() => new LocalWorkflowStore({ dir })).toThrow(/broken\.json' is not a workflow file/);
  });

  test('flush resolves only once every write is on disk, including writes queued while it waits', async () => {
    const dir = tempDir();
    const store = new LocalWorkflowStore({ dir });
    await store.createWorkflow(workflow('wf-1', { status: 'RUNNING' }));
    // A change queued while flush waits (as an agent stopped during shutdown reports its end).
    const first = store.updateWorkflow('wf-1', { awaiting: 'approval' });
    const later = first.then(() => store.updateWorkflow('wf-1', { status: 'FAILED', awaiting: null }));
    await store.flush();
    const onDisk = () => {
      const [file] = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
      return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).workflow;
    };
    expect(onDisk()).toMatchObject({ status: 'FAILED', awaiting: null });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await later;
  });

  test('a burst of changes to one workflow is coalesced into few writes, each change resolving once on disk', async () => {
    const dir = tempDir();
    const store = new LocalWorkflowStore({ dir });
    await store.createWorkflow(workflow('wf-1'));
    await store.createWorkflow(workflow('wf-2'));
    const writes = jest.spyOn(fs.promises, 'writeFile');
    try {
      const [file] = fs.readdirSync(dir).filter((f) => f.startsWith('wf-1'));
      const onDisk = () => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      const changes = Array.from({ length: 50 }, (_, i) => store.putStep('wf-1', { name: `s${i}`, type: 'agent', status: 'RUNNING' })
        // Each change is on disk when its promise resolves.
        .then(() => expect(onDisk().workflow.steps.map((st: { name: string }) => st.name)).toContain(`s${i}`)));
      changes.push(store.putCallback(callback('cb-1', 'wf-1')), store.updateWorkflow('wf-2', { status: 'FAILED' }).then(() => undefined));
      await Promise.all(changes);
      // 50 steps and a callback of wf-1: the first write, then one for everything changed meanwhile; one write of wf-2.
      expect(writes.mock.calls.length).toBeLessThanOrEqual(3);
      expect(onDisk().workflow.steps).toHaveLength(50);
      expect(onDisk().callbacks.map((c: CallbackRecord) => c.callbackId)).toEqual(['cb-1']);
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const again = new LocalWorkflowStore({ dir });
      expect((await again.getWorkflow('wf-2'))?.status).toBe('FAILED');
    } finally {
      writes.mockRestore();
    }
  });

  test('a write that fails leaves no temporary file behind', async () => {
    const dir = tempDir();
    const store = new LocalWorkflowStore({ dir });
    await store.createWorkflow(workflow('wf-1'));
    const [file] = fs.readdirSync(dir);
    // The rename fails: a folder stands where the workflow's file goes.
    fs.rmSync(path.join(dir, file));
    fs.mkdirSync(path.join(dir, file));
    fs.writeFileSync(path.join(dir, file, 'x'), 'x');
    await expect(store.updateWorkflow('wf-1', { status: 'FAILED' })).rejects.toThrow();
    expect(fs.readdirSync(dir)).toEqual([file]);
  });

  test('an in-memory store forgets everything with it', async () => {
    const store = new LocalWorkflowStore();
    await store.createWorkflow(workflow('a'));
    expect(await new LocalWorkflowStore().getWorkflow('a')).toBeUndefined();
  });
});

describe('LocalArtifactStore passes the ArtifactStore contract', () => {
  const dir = tempDir();
  artifactStoreContract(async () => new LocalArtifactStore(dir));
});

describe('LocalArtifactStore folder', () => {
  test('location.localDir is the folder, as an absolute path', () => {
    const dir = tempDir();
    const relative = path.relative(process.cwd(), dir);
    expect(new LocalArtifactStore(relative).location).toEqual({ localDir: dir });
  });

  test('keys are files under the folder, and keys escaping it write nothing anywhere', async () => {
    const parent = tempDir();
    const dir = path.join(parent, 'artifacts');
    const store = new LocalArtifactStore(dir);
    await store.put('reports/wf-1/report.md', 'hello');
    expect(fs.readFileSync(path.join(dir, 'reports', 'wf-1', 'report.md'), 'utf8')).toBe('hello');
    for (const key of ['../escaped.md', 'a/../../escaped.md', path.join(parent, 'escaped.md')]) {
      await expect(store.put(key, 'nope')).rejects.toThrow(new RegExp('artifact key \'.*escaped\\.md\' is not valid'));
    }
    expect(fs.readdirSync(parent)).toEqual(['artifacts']);
    expect(fs.readdirSync(path.join(dir, 'reports', 'wf-1'))).toEqual(['report.md']);
  });

  test('a key that needs a folder where another key is a file (or the reverse) is refused with why', async () => {
    const store = new LocalArtifactStore(tempDir());
    await store.put('a/b.md', 'b');
    await store.put('c.md', 'c');
    await expect(store.put('a', 'x')).rejects.toThrow(/cannot write artifact 'a' under .*'a' and 'a\/b' cannot both exist/);
    await expect(store.put('c.md/d.md', 'x')).rejects.toThrow(/cannot write artifact 'c\.md\/d\.md'/);
    await expect(store.copy('c.md', 'a')).rejects.toThrow(/cannot write artifact 'a'/);
    expect(await store.get('a/b.md')).toEqual(new Uint8Array(Buffer.from('b')));
  });

  test('an empty folder path is refused', () => {
    expect(() => new LocalArtifactStore('')).toThrow(/dir must be a folder path/);
  });
});

describe('LocalEventPublisher passes the EventPublisher contract (log file)', () => {
  eventPublisherContract(async () => {
    const logFile = path.join(tempDir(), 'logs', 'events.jsonl');
    return {
      publisher: new LocalEventPublisher({ logFile }),
      observed: async () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : [])
        .map((line) => JSON.parse(line) as ObservedEvent),
    };
  });
});

describe('LocalEventPublisher passes the EventPublisher contract (sink)', () => {
  eventPublisherContract(async () => {
    const seen: WorkflowEvent[] = [];
    return { publisher: new LocalEventPublisher({ sink: (e) => seen.push(e) }), observed: async () => seen };
  });
});

describe('LocalEventPublisher', () => {
  const event = (i: number): WorkflowEvent => ({ type: 'Workflow Step Started', workflowId: 'wf-1', stepName: `s${i}`, detail: { i }, time: '2024-05-01T00:00:00.000Z' });

  test('lines are in publish order, one JSON event each, and the sink sees each after it is written', async () => {
    const logFile = path.join(tempDir(), 'events.jsonl');
    const linesWhenSunk: number[] = [];
    const publisher = new LocalEventPublisher({
      logFile,
      sink: () => linesWhenSunk.push(fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).length),
    });
    const events = Array.from({ length: 20 }, (_, i) => event(i));
    await Promise.all(events.map((e) => publisher.publish(e)));
    expect(fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual(events);
    expect(linesWhenSunk).toHaveLength(20);
    expect(Math.min(...linesWhenSunk)).toBeGreaterThanOrEqual(1);
  });

  test('a sink that throws makes publish reject', async () => {
    const publisher = new LocalEventPublisher({ sink: () => { throw new Error('sink broke'); } });
    await expect(publisher.publish(event(1))).rejects.toThrow('sink broke');
  });

  test('with neither file nor sink, publishing still checks the event', async () => {
    const publisher = new LocalEventPublisher();
    await expect(publisher.publish(event(1))).resolves.toBeUndefined();
    await expect(publisher.publish({ ...event(1), time: '' })).rejects.toThrow(/event time/);
  });
});

describe('ProcessAgentDispatcher passes the AgentDispatcher contract', () => {
  agentDispatcherContract(async () => {
    const out = tempDir();
    // The agent writes the envelope it got to <out>/<its pid>.json: beside it first, then renamed, so
    // that the file exists only once it is whole (the test reads it as soon as it exists).
    const script = `const fs = require('fs'); const p = require('path').join(${JSON.stringify(out)}, process.pid + '.json'); `
      + 'fs.writeFileSync(p + \'.part\', process.env.TASK_ENVELOPE); fs.renameSync(p + \'.part\', p)';
    const dispatcher = new ProcessAgentDispatcher({ researcher: nodeAgent(script), writer: nodeAgent(script) });
    return {
      dispatcher,
      agent: 'researcher',
      received: async (handle) => {
        const file = path.join(out, `${handle}.json`);
        const text = await waitFor(`agent ${handle} to write ${file}`, () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined));
        return JSON.parse(text) as TaskEnvelope;
      },
    };
  });
});

describe('ProcessAgentDispatcher', () => {
  test('runs the command in its cwd with the target env over this process env; the envelope variable cannot be overridden', async () => {
    const out = tempDir();
    const cwd = tempDir();
    process.env.CDA_PARENT_ONLY = 'from-parent';
    process.env.CDA_OVERRIDDEN = 'from-parent';
    try {
      const script = `require('fs').writeFileSync(${JSON.stringify(path.join(out, 'env.json'))}, JSON.stringify({
        cwd: process.cwd(), parent: process.env.CDA_PARENT_ONLY, overridden: process.env.CDA_OVERRIDDEN, extra: process.env.CDA_EXTRA,
        envelope: JSON.parse(process.env.TASK_ENVELOPE), args: process.argv.slice(1) }))`;
      const dispatcher = new ProcessAgentDispatcher({
        researcher: nodeAgent(script, { cwd, env: { CDA_OVERRIDDEN: 'from-target', CDA_EXTRA: 'extra', TASK_ENVELOPE: 'forged' } }),
      });
      const envelope = envelopeFor('researcher');
      await dispatcher.dispatch('researcher', envelope);
      const file = path.join(out, 'env.json');
      const seen = JSON.parse(await waitFor('env.json', () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined)));
      expect(seen).toEqual({ cwd: fs.realpathSync(cwd), parent: 'from-parent', overridden: 'from-target', extra: 'extra', envelope, args: [] });
    } finally {
      delete process.env.CDA_PARENT_ONLY;
      delete process.env.CDA_OVERRIDDEN;
    }
  });

  test('resolves once the process has started, before it ends; output lines and the exit go to the callbacks', async () => {
    const lines: AgentOutputLine[] = [];
    const exits: AgentExit[] = [];
    const script = 'console.log("starting"); console.error("a warning"); setTimeout(() => { process.stdout.write("done\\npartial"); process.exit(3); }, 800)';
    const dispatcher = new ProcessAgentDispatcher({ researcher: nodeAgent(script) }, {
      onOutput: (l) => lines.push(l),
      onExit: (e) => exits.push(e),
    });
    const envelope = envelopeFor('researcher');
    const { handle } = await dispatcher.dispatch('researcher', envelope);
    const pid = Number(handle);
    expect(Number.isInteger(pid) && pid > 0).toBe(true);
    expect(() => process.kill(pid, 0)).not.toThrow(); // still running
    expect(exits).toEqual([]);
    const [exit] = await waitFor('exit', () => (exits.length ? exits : undefined));
    const about = { agent: 'researcher', pid, workflowId: envelope.workflow_id, stepName: 'research' };
    expect(exit).toEqual({ ...about, code: 3, signal: null });
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['starting', 'done', 'partial']);
    expect(lines.filter((l) => l.stream === 'stderr')).toEqual([{ ...about, stream: 'stderr', line: 'a warning' }]);
  });

  test('a command that cannot start rejects, naming the agent and the command', async () => {
    const dispatcher = new ProcessAgentDispatcher({
      ghost: { type: 'local', command: ['cda-no-such-program-xyz', '--flag'] },
      lost: { type: 'local', command: [process.execPath, '-e', '0'], cwd: path.join(tempDir(), 'missing-folder') },
      empty: { type: 'local', command: [] },
    });
    await expect(dispatcher.dispatch('ghost', envelopeFor('ghost')))
      .rejects.toThrow(/agent 'ghost': cannot start command 'cda-no-such-program-xyz --flag': .*ENOENT.*installed and on PATH/);
    await expect(dispatcher.dispatch('lost', envelopeFor('lost'))).rejects.toThrow(/agent 'lost': cannot start .* in '.*missing-folder'.*folder exists/);
    await expect(dispatcher.dispatch('empty', envelopeFor('empty'))).rejects.toThrow(/agent 'empty' has an empty command/);
  });

  test('an ecs or lambda target is refused with what to use instead', async () => {
    const dispatcher = new ProcessAgentDispatcher({ cloud: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f' } });
    await expect(dispatcher.dispatch('cloud', envelopeFor('cloud'))).rejects.toThrow(/agent 'cloud' runs as a 'lambda' target; ProcessAgentDispatcher starts only 'local' targets/);
  });
});
