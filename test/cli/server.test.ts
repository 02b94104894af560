import * as fs from 'fs';
import * as nodeHttp from 'http';
import * as net from 'net';
import * as path from 'path';
import { agentPid, decide, http, shortApprovalDefinition, startWorkflow, tempDir, testAgents, waitFor, waitForApproval, waitForEnd, waitUntil } from './helpers';
import { isAlive } from '../../src/cli/data-dir';
import { CliError } from '../../src/cli/errors';
import { packageVersion } from '../../src/cli/paths';
import { LocalServer, startLocalServer } from '../../src/cli/server';
import { seedStartAnswer } from '../runtime/fixtures';

jest.setTimeout(30_000);

describe('local server: the reference workflow over HTTP (test agents)', () => {
  let server: LocalServer;
  const lines: string[] = [];

  beforeAll(async () => {
    server = await startLocalServer({ port: 0, dataDir: tempDir(), agentCommands: testAgents(), log: (l) => lines.push(l) });
  });
  afterAll(() => server?.close());

  test('listens on 127.0.0.1 only, on the port it reports', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect(server.definition.name).toBe('research-report');
  });

  test('start -> approval -> approve -> SUCCEEDED, with the report published as a file', async () => {
    const id = await startWorkflow(server.url);
    const waiting = await waitForApproval(server.url, id);
    expect(waiting).toMatchObject({ status: 'RUNNING', awaiting: 'approval' });
    expect(waiting.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['research', 'SUCCEEDED'], ['analysis', 'SUCCEEDED'], ['writing', 'SUCCEEDED'], ['approval', 'WAITING'],
    ]);

    // The console says what it waits for, and how to answer (curl and the command line). The
    // lines are written when the server sees the approval requested: wait for them, do not race them.
    const mine = () => lines.filter((l) => l.includes(`[${id.slice(0, 11)}]`));
    await waitUntil(() => mine().some((l) => l.includes(`npx cdk-durable-agents approve ${id} --port ${server.port}`)), 20_000);
    expect(mine().some((l) => l.includes('approval: waiting for approval'))).toBe(true);
    expect(mine().some((l) => l.includes(`curl -s -X POST ${server.url}/workflows/${id}/approval`) && l.includes('"approved": true'))).toBe(true);

    expect((await decide(server.url, id, true, 'looks good')).status).toBe(200);
    const done = await waitForEnd(server.url, id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.result.report).toBe(`published/${id}/report.md`);
    const file = path.join(server.artifactsDir, 'published', id, 'report.md');
    expect(done.result.location).toBe(file);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/offline/);

    // Progress lines: every step started and finished, and where the report is (the last line written).
    await waitUntil(() => mine().some((l) => l.includes(`report: ${file}`)), 20_000);
    const after = mine().join('\n');
    for (const step of ['research', 'analysis', 'writing', 'approval', 'publish']) expect(after).toContain(`${step}: started`);
    expect(after).toMatch(/research: succeeded in [\d.]+s \(artifacts: research\)/);
    expect(after).toContain('approval: approved');
    expect(after).toContain('SUCCEEDED after');
    expect(after).toContain(`report: ${file}`);

    // The events are also in events.jsonl.
    const events = fs.readFileSync(path.join(server.dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((e) => e.workflowId === id).map((e) => e.type);
    expect(events[0]).toBe('Workflow Started');
    expect(events[events.length - 1]).toBe('Workflow Completed');
  });

  test('POST /workflows answers seed 000\'s body; GET and the list say what it waits on, as the cloud API does', async () => {
    const res = await http(server.url, 'POST', '/workflows', { topic: 'Impact of quantum computing on cryptography', parameters: { depth: 'comprehensive' } });
    expect(res.status).toBe(202);
    expect(res.body.workflow_id).toMatch(/^wf-[0-9a-f]{32}$/);
    expect(res.body).toEqual(seedStartAnswer(res.body.workflow_id));
    const id = res.body.workflow_id;
    const waiting = await waitForApproval(server.url, id);
    expect(waiting).toMatchObject({ awaiting: 'approval', wait_kind: 'approval' });
    const listed = (await http(server.url, 'GET', '/workflows?status=RUNNING&limit=100')).body.workflows.find((w: any) => w.workflow_id === id);
    expect(listed).toMatchObject({ awaiting: 'approval', wait_kind: 'approval' });
    await decide(server.url, id, false);
    const done = await waitForEnd(server.url, id);
    expect(done).toMatchObject({ awaiting: null, wait_kind: null });
  });

  test('the runtime log and the events carry event_type in snake case (seed 000\'s `filter event_type = "step_completed"`)', async () => {
    const id = await startWorkflow(server.url);
    await waitForApproval(server.url, id);
    await decide(server.url, id, false);
    await waitForEnd(server.url, id);
    const runtimeLog = path.join(server.dataDir, 'runtime.log');
    const completed = () => fs.readFileSync(runtimeLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((l) => l.workflow_id === id && l.event_type === 'step_completed');
    // runtime.log is written behind the requests: wait for the lines.
    await waitUntil(() => completed().length === 4, 10_000, 'four step_completed lines');
    expect(completed().map((l) => l.step_name)).toEqual(['research', 'analysis', 'writing', 'approval']);
    const events = fs.readFileSync(path.join(server.dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((e) => e.workflowId === id && e.type === 'Workflow Step Completed');
    expect(events.map((e) => [e.stepName, e.detail.event_type])).toEqual([
      ['research', 'step_completed'], ['analysis', 'step_completed'], ['writing', 'step_completed'], ['approval', 'step_completed'],
    ]);
  });

  test('rejection -> REJECTED, nothing published', async () => {
    const id = await startWorkflow(server.url);
    await waitForApproval(server.url, id);
    expect((await decide(server.url, id, false, 'not yet')).status).toBe(200);
    const done = await waitForEnd(server.url, id);
    expect(done.status).toBe('REJECTED');
    expect(done.error.code).toBe('APPROVAL_REJECTED');
    expect(fs.existsSync(path.join(server.artifactsDir, 'published', id))).toBe(false);
  });

  test('a second decision on the same approval -> 409, and changes nothing', async () => {
    const id = await startWorkflow(server.url);
    await waitForApproval(server.url, id);
    expect((await decide(server.url, id, true)).status).toBe(200);
    const again = await http(server.url, 'POST', `/workflows/${id}/approval`, { approved: false });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/not waiting for approval|has ended/);
    expect((await waitForEnd(server.url, id)).status).toBe('SUCCEEDED');
  });

  test('unknown workflow -> 404; bad bodies -> 400 naming the field', async () => {
    const unknown = await http(server.url, 'GET', '/workflows/wf-00000000000000000000000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'not_found', message: "no workflow with id 'wf-00000000000000000000000000000000'" });
    expect((await http(server.url, 'POST', '/workflows/wf-00000000000000000000000000000000/approval', { approved: true })).status).toBe(404);

    const notJson = await http(server.url, 'POST', '/workflows', '{"topic": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/not valid JSON/);
    const noTopic = await http(server.url, 'POST', '/workflows', { parameters: {} });
    expect(noTopic.status).toBe(400);
    // The reference workflow declares its input: the declaration's words (test/cli/server-inputs.test.ts has every case).
    expect(noTopic.body.message).toBe('input.topic is required: give a string');

    const id = await startWorkflow(server.url);
    const badApproval = await http(server.url, 'POST', `/workflows/${id}/approval`, { approved: 'yes' });
    expect(badApproval.status).toBe(400);
    expect(badApproval.body.message).toMatch(/field 'approved'/);
    await waitForApproval(server.url, id);
    await decide(server.url, id, false);
    await waitForEnd(server.url, id);
  });

  test('a body over the size limit -> 413, before the handler', async () => {
    const res = await http(server.url, 'POST', '/workflows', JSON.stringify({ topic: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
  });

  test('the same Idempotency-Key twice -> one workflow', async () => {
    const key = `key-${Date.now()}`;
    const input = { topic: 'idempotent', parameters: { depth: 'brief' } };
    const first = await http(server.url, 'POST', '/workflows', input, { 'Idempotency-Key': key });
    const second = await http(server.url, 'POST', '/workflows', input, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.workflow_id).toBe(first.body.workflow_id);
    expect(second.body.idempotent_replay).toBe(true);
    const id = first.body.workflow_id;
    await waitForApproval(server.url, id);
    // One execution: one start event, one research dispatch.
    const events = fs.readFileSync(path.join(server.dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((e) => e.workflowId === id);
    expect(events.filter((e) => e.type === 'Workflow Started')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'Workflow Step Started' && e.stepName === 'research')).toHaveLength(1);
    const other = await http(server.url, 'POST', '/workflows', { topic: 'different' }, { 'Idempotency-Key': key });
    expect(other.status).toBe(409);
    await decide(server.url, id, false);
    await waitForEnd(server.url, id);
  });

  test('requests from other sites or host names are refused', async () => {
    const fromPage = await http(server.url, 'POST', '/workflows', { topic: 'x' }, { origin: 'https://evil.example' });
    expect(fromPage.status).toBe(403);
    expect(fromPage.body.message).toMatch(/other sites/);
    // fetch always sends the real Host; a DNS-rebound page would send its own name.
    const rebound = await new Promise<number>((resolve, reject) => {
      nodeHttp.get({ host: '127.0.0.1', port: server.port, path: '/workflows', headers: { host: `attacker.example:${server.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(rebound).toBe(403);
    const sameMachine = await http(server.url, 'GET', '/workflows?limit=1', undefined, { origin: `http://localhost:${server.port}` });
    expect(sameMachine.status).toBe(200);
  });
});

describe('local server: endings other than success', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });

  test('approval timeout (1 s, rejects) -> REJECTED by the timeout rule', async () => {
    const lines: string[] = [];
    const server = await startLocalServer({
      port: 0, dataDir: dir, definition: shortApprovalDefinition(1), agentCommands: writerOnly(), log: (l) => lines.push(l),
    });
    try {
      const id = await startWorkflow(server.url, { topic: 'slow reviewers' });
      await waitForApproval(server.url, id);
      const done = await waitForEnd(server.url, id, 15_000);
      expect(done.status).toBe('REJECTED');
      expect(done.error.code).toBe('APPROVAL_TIMED_OUT');
      expect(done.steps.find((s: any) => s.name === 'approval')).toMatchObject({ status: 'REJECTED', output: { timed_out: true } });
      // Too late now.
      expect((await http(server.url, 'POST', `/workflows/${id}/approval`, { approved: true })).status).toBe(409);
    } finally {
      await server.close();
    }
  });

  test('cancel while an agent works -> CANCELLED, and the agent process is stopped', async () => {
    const server = await startLocalServer({ port: 0, dataDir: dir, agentCommands: testAgents({ researcher: ['--silent'] }), log: () => undefined });
    try {
      const started = await http(server.url, 'POST', '/workflows', { topic: 'Impact of quantum computing on cryptography', parameters: { depth: 'comprehensive' } });
      expect(started.body).toEqual(seedStartAnswer(started.body.workflow_id));
      const id = started.body.workflow_id;
      const waiting = await waitFor(server.url, id, (wf) => wf.awaiting === 'research_completion' && wf.steps.some((s: any) => s.status === 'WAITING'));
      expect(waiting).toMatchObject({ status: 'RUNNING', wait_kind: 'agent' });
      const listed = (await http(server.url, 'GET', '/workflows?limit=100')).body.workflows.find((w: any) => w.workflow_id === id);
      expect(listed).toMatchObject({ awaiting: 'research_completion', wait_kind: 'agent' });
      const approval = await http(server.url, 'POST', `/workflows/${id}/approval`, { approved: true });
      expect(approval).toMatchObject({ status: 409, body: { message: expect.stringContaining('awaiting research_completion') } });
      const pid = await agentPid(server.dataDir, id);
      const res = await http(server.url, 'POST', `/workflows/${id}/cancel`);
      expect(res.status).toBe(202);
      const done = await waitForEnd(server.url, id);
      expect(done.status).toBe('CANCELLED');
      expect((await http(server.url, 'POST', `/workflows/${id}/cancel`)).status).toBe(409);
      await waitUntil(() => !isAlive(pid));
    } finally {
      await server.close();
    }
  });

  test('an agent that exits without reporting fails its step at once (not at its timeout), with its output', async () => {
    const lines: string[] = [];
    const server = await startLocalServer({
      port: 0, dataDir: dir, definition: shortApprovalDefinition(60), agentCommands: { writer: [...testAgents().writer, '--exit', '3'] }, log: (l) => lines.push(l),
    });
    try {
      const started = Date.now();
      const id = await startWorkflow(server.url, { topic: 'crash' });
      const done = await waitForEnd(server.url, id);
      // Well before the step's 60 s timeout, however loaded the machine.
      expect(Date.now() - started).toBeLessThan(45_000);
      expect(done.status).toBe('FAILED');
      const writing = done.steps.find((s: any) => s.name === 'writing');
      expect(writing.status).toBe('FAILED');
      expect(writing.error.message).toMatch(/agent 'writer' \(pid \d+\) exited with code 3 before its report was accepted/);
      expect(writing.error.message).toContain('exiting with code 3 on purpose');
      await waitUntil(() => /writing: agent writer \(pid \d+\) exited with code 3 before its report was accepted/.test(lines.join('\n')), 20_000);
    } finally {
      await server.close();
    }
  });

  test('--approve auto approves as soon as approval is requested', async () => {
    const server = await startLocalServer({ port: 0, dataDir: dir, approve: 'auto', definition: shortApprovalDefinition(60), agentCommands: writerOnly(), log: () => undefined });
    try {
      const id = await startWorkflow(server.url, { topic: 'auto' });
      const done = await waitForEnd(server.url, id);
      expect(done.status).toBe('SUCCEEDED');
      expect(done.steps.find((s: any) => s.name === 'approval').output).toMatchObject({ approved: true, comment: expect.stringMatching(/automatically/) });
    } finally {
      await server.close();
    }
  });

  test('--approve prompt asks, and rejects on "n"', async () => {
    const questions: string[] = [];
    const server = await startLocalServer({
      port: 0,
      dataDir: dir,
      approve: 'prompt',
      definition: shortApprovalDefinition(60),
      agentCommands: writerOnly(),
      log: () => undefined,
      ask: async (q) => {
        questions.push(q);
        return false;
      },
    });
    try {
      const id = await startWorkflow(server.url, { topic: 'prompt' });
      const done = await waitForEnd(server.url, id);
      expect(done.status).toBe('REJECTED');
      expect(questions).toEqual([`Approve workflow ${id} (step approval)? [y/n] `]);
    } finally {
      await server.close();
    }
  });

  test('workflows left running by an earlier server continue on restart: the approval is still approvable', async () => {
    const options = { port: 0, dataDir: dir, definition: shortApprovalDefinition(60), agentCommands: writerOnly() };
    const first = await startLocalServer({ ...options, log: () => undefined });
    const id = await startWorkflow(first.url, { topic: 'orphan' });
    await waitForApproval(first.url, id);
    await first.close();
    const lines: string[] = [];
    const second = await startLocalServer({ ...options, log: (l) => lines.push(l) });
    try {
      const wf = (await http(second.url, 'GET', `/workflows/${id}`)).body;
      expect(wf).toMatchObject({ status: 'RUNNING', awaiting: 'approval' });
      expect(lines.join('\n')).toMatch(/1 workflow left unfinished by an earlier server on this folder continues/);
      expect((await decide(second.url, id, true)).status).toBe(200);
      const done = await waitForEnd(second.url, id);
      expect(done.status).toBe('SUCCEEDED');
      expect(done.steps.map((s: any) => [s.name, s.status])).toEqual([['writing', 'SUCCEEDED'], ['approval', 'SUCCEEDED'], ['publish', 'SUCCEEDED']]);
      expect((await second.finished(id)).status).toBe('SUCCEEDED');
    } finally {
      await second.close();
    }
  });
});

describe('local server: ready when it says so, and its state on disk when it stops', () => {
  /** A port that was free a moment ago. */
  async function freePort(): Promise<number> {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const address = probe.address();
    await new Promise((r) => probe.close(r));
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  function connects(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
  }

  test('no 503 while it starts: a request sent as soon as the port accepts waits and is served; GET /health answers what it serves', async () => {
    const port = await freePort();
    const starting = startLocalServer({ port, dataDir: tempDir(), agentCommands: testAgents(), log: () => undefined });
    let server: LocalServer | undefined;
    try {
      // Poll until the port accepts, with a deadline (the server listens before its backend is ready).
      const deadline = Date.now() + 20_000;
      while (!(await connects(port))) {
        if (Date.now() > deadline) throw new Error(`port ${port} never accepted connections`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const first = await http(`http://127.0.0.1:${port}`, 'GET', '/health');
      const list = await http(`http://127.0.0.1:${port}`, 'GET', '/workflows');
      server = await starting;
      expect(first.status).toBe(200);
      expect(list.status).toBe(200);
      expect(first.body).toMatchObject({ status: 'ok', version: packageVersion(), workflow: 'research-report' });
      expect(first.body.uptime_seconds).toBeGreaterThanOrEqual(0);
      // The first request after the start resolves is served too.
      expect((await http(server.url, 'GET', '/workflows')).status).toBe(200);
    } finally {
      await (server ?? (await starting.catch(() => undefined)))?.close();
    }
  });

  test('close() resolves only once a pending state write is on disk; a restart removes temp files of interrupted writes', async () => {
    const dataDir = tempDir();
    const server = await startLocalServer({ port: 0, dataDir, agentCommands: testAgents(), log: () => undefined });
    const workflowsDir = path.join(dataDir, 'workflows');
    const realRename = fs.promises.rename;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    let held = 0;
    const spy = jest.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
      if (String(to).startsWith(workflowsDir)) {
        held++;
        await gate;
        await realRename(from, to);
        order.push('written');
        return;
      }
      return realRename(from, to);
    });
    try {
      // The write of a new workflow is held between its temp file and its rename.
      const start = http(server.url, 'POST', '/workflows', { topic: 'held' }).catch(() => undefined);
      await waitUntil(() => held > 0, 10_000, 'a state write in flight');
      const closing = server.close().then(() => order.push('closed'));
      // close() gets past the HTTP side (the port refuses), then must wait for the write.
      const deadline = Date.now() + 10_000;
      while (await connects(server.port)) {
        if (Date.now() > deadline) throw new Error('the server never stopped listening');
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(order).toEqual([]);
      release();
      await closing;
      await start;
      expect(order[order.length - 1]).toBe('closed');
      expect(order.slice(0, -1).every((o) => o === 'written')).toBe(true);
      expect(order.length).toBeGreaterThan(1);
    } finally {
      release();
      spy.mockRestore();
    }
    const files = fs.readdirSync(workflowsDir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const records = files.map((f) => JSON.parse(fs.readFileSync(path.join(workflowsDir, f), 'utf8')).workflow);
    expect(records.map((w) => w.input)).toEqual([{ topic: 'held' }]);

    // What a write killed before its rename leaves behind is removed when a server starts on the folder.
    const leftover = path.join(workflowsDir, `.${files[0]}.999999.3.tmp`);
    fs.writeFileSync(leftover, '');
    const again = await startLocalServer({ port: 0, dataDir, agentCommands: testAgents(), log: () => undefined });
    try {
      expect(fs.existsSync(leftover)).toBe(false);
    } finally {
      await again.close();
    }
  });
});

describe('local server: clear errors at start', () => {
  test('port in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const start = startLocalServer({ port, dataDir: tempDir(), agentCommands: testAgents(), log: () => undefined });
      await expect(start).rejects.toThrow(CliError);
      await expect(start).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is already in use.*--port <n>`));
    } finally {
      blocker.close();
    }
  });

  test('a data folder another server uses', async () => {
    const dir = tempDir();
    const server = await startLocalServer({ port: 0, dataDir: dir, agentCommands: testAgents(), log: () => undefined });
    try {
      await expect(startLocalServer({ port: 0, dataDir: dir, agentCommands: testAgents(), log: () => undefined }))
        .rejects.toThrow(/is used by another local server \(pid \d+, this process\).*--data-dir/);
    } finally {
      await server.close();
    }
  });

  test('an agent whose program or script cannot be found', async () => {
    const common = { port: 0, dataDir: tempDir(), log: () => undefined };
    await expect(startLocalServer({ ...common, agentCommands: { ...testAgents(), analyst: ['no-such-program-xyz', 'x'] } }))
      .rejects.toThrow(/agent 'analyst': cannot start 'no-such-program-xyz': it is not on PATH/);
    await expect(startLocalServer({ ...common, agentCommands: { ...testAgents(), writer: ['node', '/nowhere/agent.js'] } }))
      .rejects.toThrow(/agent 'writer': 'node' would run \/nowhere\/agent.js, which does not exist/);
    await expect(startLocalServer({ ...common, agentCommands: { ...testAgents(), writer: ['./missing-agent'] } }))
      .rejects.toThrow(/agent 'writer': cannot start '.\/missing-agent': no executable file at/);
  });

  test('an unknown agent, or an agent without a command', async () => {
    const common = { port: 0, dataDir: tempDir(), log: () => undefined };
    await expect(startLocalServer({ ...common, agentCommands: { ...testAgents(), reviewer: ['node', 'x.js'] } }))
      .rejects.toThrow("unknown agent 'reviewer' in --agent: workflow 'research-report' uses 'researcher', 'analyst', 'writer'");
    const def = shortApprovalDefinition(5);
    const custom = { ...def, steps: def.steps.map((s) => (s.type === 'agent' ? { ...s, agent: 'editor' } : s)) };
    await expect(startLocalServer({ ...common, definition: custom }))
      .rejects.toThrow(/no local command for agent 'editor' of workflow 'short-approval'.*--agent editor=/);
  });

  test('an invalid definition override', async () => {
    const def = shortApprovalDefinition(5);
    await expect(startLocalServer({ port: 0, dataDir: tempDir(), definition: { ...def, steps: [] }, log: () => undefined }))
      .rejects.toThrow(/the workflow definition is not valid:\n {2}- workflow 'short-approval': it has no steps/);
  });
});

/** Commands for the short-approval definition: its only agent is the writer. */
function writerOnly(): Record<string, string[]> {
  return { writer: testAgents().writer };
}


