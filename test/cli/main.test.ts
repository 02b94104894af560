import * as fs from 'fs';
import * as net from 'net';
import { shortApprovalDefinition, startWorkflow, tempDir, testAgents, waitForApproval, waitForEnd } from './helpers';
import { displayCommand, parseAgentOptions, splitCommand } from '../../src/cli/agents';
import { runDemo } from '../../src/cli/demo';
import { run, USAGE } from '../../src/cli/main';
import { referenceDefinition } from '../../src/cli/reference';
import { LocalServer, startLocalServer } from '../../src/cli/server';

jest.setTimeout(30_000);

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('approve, cancel and status against a running server', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer({
      port: 0, dataDir: tempDir(), definition: shortApprovalDefinition(60), agentCommands: { writer: testAgents().writer }, log: () => undefined,
    });
  });
  afterAll(() => server?.close());

  test('approve <id> approves; a second approve is refused with the API\'s message', async () => {
    const id = await startWorkflow(server.url, { topic: 'cli' });
    await waitForApproval(server.url, id);
    let result = await cli('approve', id, '--port', String(server.port), '--comment', 'ship it');
    for (let i = 0; result.code !== 0 && i < 40; i++) { // the approval may still be registering
      await new Promise((r) => setTimeout(r, 50));
      result = await cli('approve', id, '--port', String(server.port), '--comment', 'ship it');
    }
    expect(result).toMatchObject({ code: 0, out: `approved ${id}: Approved; the workflow continues` });
    const done = await waitForEnd(server.url, id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps.find((s: any) => s.name === 'approval').output.comment).toBe('ship it');

    const again = await cli('approve', id, '--port', String(server.port));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(new RegExp(`^error: approve ${id}: 409 workflow ${id} has ended \\(SUCCEEDED\\)`));
  });

  test('approve --reject rejects', async () => {
    const id = await startWorkflow(server.url, { topic: 'cli' });
    await waitForApproval(server.url, id);
    await decideWithCli(id, ['--reject', '--comment', 'no']);
    expect((await waitForEnd(server.url, id)).status).toBe('REJECTED');
  });

  async function decideWithCli(id: string, extra: string[]) {
    for (let i = 0; i < 40; i++) {
      const r = await cli('approve', id, '--port', String(server.port), ...extra);
      if (r.code === 0) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('never accepted');
  }

  test('status shows a workflow and the latest ones; cancel cancels', async () => {
    const id = await startWorkflow(server.url, { topic: 'cli' });
    await waitForApproval(server.url, id);
    const one = await cli('status', id, '--port', String(server.port));
    expect(one.code).toBe(0);
    expect(one.out).toContain(`${id}  RUNNING (awaiting approval)`);
    expect(one.out).toContain('  writing: SUCCEEDED');
    const list = await cli('status', '--port', String(server.port));
    expect(list.out).toContain(`${id}  RUNNING (awaiting approval)`);

    const cancelled = await cli('cancel', id, '--port', String(server.port));
    expect(cancelled).toMatchObject({ code: 0 });
    expect(cancelled.out).toMatch(/^cancel requested for wf-/);
    expect((await waitForEnd(server.url, id)).status).toBe('CANCELLED');
    expect((await cli('status', id, '--port', String(server.port))).out).toContain('error: CANCEL_REQUESTED');
  });

  test('unknown workflow -> the API\'s 404 message, exit 1', async () => {
    const result = await cli('approve', 'wf-00000000000000000000000000000000', '--port', String(server.port));
    expect(result.code).toBe(1);
    expect(result.err).toBe("error: approve wf-00000000000000000000000000000000: 404 no workflow with id 'wf-00000000000000000000000000000000'");
  });
});

describe('command line errors', () => {
  test('no server on the port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    await new Promise((r) => blocker.close(r)); // a port nothing listens on
    const result = await cli('approve', 'wf-00000000000000000000000000000000', '--port', String(port));
    expect(result.code).toBe(1);
    expect(result.err).toBe(`error: no local server answers at http://127.0.0.1:${port}: start one with \`npx cdk-durable-agents dev\` (or give its --port)`);
  });

  test('dev on a port in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const result = await cli('dev', '--port', String(port), '--data-dir', tempDir(), ...Object.entries(testAgents()).flatMap(([n, c]) => ['--agent', `${n}=${c.join(' ')}`]));
      expect(result.code).toBe(1);
      expect(result.err).toMatch(new RegExp(`^error: port ${port} on 127.0.0.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  test.each([
    [['frobnicate'], /^error: unknown command 'frobnicate'/],
    [['dev', '--colour'], /^error: dev: Unknown option '--colour'/],
    [['dev', '--port', 'eighty'], /^error: --port eighty: expected a port number/],
    [['dev', '--approve', 'maybe'], /^error: --approve maybe: expected auto, prompt or api/],
    [['dev', '--workflow', 'x'], /^error: --workflow chooses among the workflows of --app <dir>; give --app too/],
    [['dev', '--agent', 'researcher'], /^error: --agent "researcher": expected name=command/],
    [['dev', '--agent', 'writer='], /^error: --agent writer: the command is empty/],
    [['approve'], /^error: approve: give exactly one workflow id/],
    [['approve', 'a', 'b'], /^error: approve: give exactly one workflow id .* got 2/],
  ])('%j', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(message);
  });

  test('help', async () => {
    expect(await cli('help')).toEqual({ code: 0, out: USAGE, err: '' });
    expect((await cli()).code).toBe(1);
  });
});

describe('agent commands', () => {
  test('splitCommand splits like a shell for the simple cases', () => {
    expect(splitCommand('node  agents/a.js --flag')).toEqual(['node', 'agents/a.js', '--flag']);
    expect(splitCommand('python3 "my agent.py" \'it\'\'s\' a\\ b ""')).toEqual(['python3', 'my agent.py', 'its', 'a b', '']);
    expect(splitCommand('echo "a \\"quoted\\" word"')).toEqual(['echo', 'a "quoted" word']);
    expect(() => splitCommand('node "open')).toThrow(/unbalanced double quote/);
  });

  test('parseAgentOptions', () => {
    expect(parseAgentOptions(['writer=node w.js', 'analyst = python3 a.py'])).toEqual({ writer: ['node', 'w.js'], analyst: ['python3', 'a.py'] });
    expect(() => parseAgentOptions(['writer=a', 'writer=b'])).toThrow(/--agent writer is given twice/);
    expect(() => parseAgentOptions(['=node x'])).toThrow(/expected name=command/);
    expect(() => parseAgentOptions(["w=node 'x"])).toThrow(/--agent w: unbalanced single quote/);
  });

  test('displayCommand quotes what a shell would need quoted', () => {
    expect(displayCommand([process.execPath, '/a b/x.js', 'plain'])).toBe("node '/a b/x.js' plain");
  });
});

describe('demo', () => {
  test('runs one workflow to its published report and exits 0', async () => {
    const lines: string[] = [];
    const dataDir = tempDir();
    const code = await runDemo({ dataDir, log: (l) => lines.push(l), ask: null, server: { agentCommands: testAgents() } });
    const out = lines.join('\n');
    expect(code).toBe(0);
    expect(out).toContain('demo: approving automatically (stdin is not a terminal)');
    const report = /demo: report: (\S+)/.exec(out)?.[1];
    expect(report).toMatch(new RegExp(`^${dataDir}/artifacts/published/wf-[0-9a-f]{32}/report\\.md$`));
    expect(fs.existsSync(report!)).toBe(true);
    expect(out).toMatch(/ {4}# report \(offline test agent\)/);
    // The server is stopped: its port refuses connections.
    const port = Number(/local server on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    await expect(fetch(`http://127.0.0.1:${port}/workflows`)).rejects.toThrow();
  });

  test('a rejected workflow exits non-zero with the reason', async () => {
    const lines: string[] = [];
    const code = await runDemo({ dataDir: tempDir(), log: (l) => lines.push(l), ask: async () => false, server: { agentCommands: testAgents() } });
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/demo: workflow wf-\w+ ended REJECTED: step 'approval' was rejected: rejected in the demo/);
  });

  test('a failing agent: exits non-zero with the step\'s error', async () => {
    const lines: string[] = [];
    const code = await runDemo({
      dataDir: tempDir(),
      log: (l) => lines.push(l),
      ask: null,
      server: { agentCommands: testAgents({ analyst: ['--fail', 'the model is unavailable'] }), definition: noRetries() },
    });
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/ended FAILED: .*the model is unavailable/);
  });
});

/** The reference workflow without retries (a failing agent fails at once). */
function noRetries() {
  const def = referenceDefinition();
  return { ...def, steps: def.steps.map((s) => (s.type === 'agent' ? { ...s, retry: { ...s.retry, maxAttempts: 1 } } : s)) };
}
