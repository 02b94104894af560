import { http, startWorkflow, tempDir, TEST_AGENT, waitFor, waitForEnd } from './helpers';
import { killSwitchLines } from '../../src/cli/kill-switch-command';
import { run, USAGE } from '../../src/cli/main';
import { LocalServer, startLocalServer } from '../../src/cli/server';

jest.setTimeout(60_000);

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('kill-switch against a local server', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer({
      port: 0,
      dataDir: tempDir(),
      definition: {
        schemaVersion: 1,
        name: 'one',
        steps: [{ type: 'agent', name: 'research', agent: 'researcher', input: {}, timeoutSeconds: 600, retry: { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 } }],
      },
      agentCommands: { researcher: ['node', TEST_AGENT, '--silent'] },
      log: () => undefined,
    });
  });
  afterAll(() => server?.close());

  test('status, on (cancels what runs, refuses starts), off', async () => {
    const port = String(server.port);
    expect(await cli('kill-switch', 'status', '--port', port)).toMatchObject({ code: 0, out: 'kill switch: released (never engaged)' });
    const id = await startWorkflow(server.url, { topic: 'k' });
    await waitFor(server.url, id, (wf) => wf.awaiting === 'research_completion');

    const on = await cli('kill-switch', 'on', '--reason', 'cost spike', '--port', port);
    expect(on.code).toBe(0);
    expect(on.out).toMatch(/^kill switch: ENGAGED \(cost spike\)\n {2}set by unauthenticated \(local\) at \d{4}-.*\n {2}1 running workflow\(s\) are being cancelled$/);
    expect((await waitForEnd(server.url, id, 30_000)).error.code).toBe('KILL_SWITCH');

    const start = await cli('start', '--input', '{"topic": "x"}', '--port', port);
    expect(start.code).toBe(1);
    expect(start.err).toMatch(/start: 503 the kill switch is engaged: cost spike \(by unauthenticated \(local\) at /);
    expect((await cli('kill-switch', 'status', '--port', port)).out).toMatch(/^kill switch: ENGAGED \(cost spike\)/);

    expect((await cli('kill-switch', 'off', '--port', port)).out).toMatch(/^kill switch: released\n {2}set by unauthenticated \(local\)/);
    expect((await http(server.url, 'POST', '/workflows', { topic: 'y' })).status).toBe(202);
  });

  test.each([
    [['kill-switch'], /kill-switch: give one of on, off or status/],
    [['kill-switch', 'maybe'], /give one of on, off or status, .*; got maybe/],
    [['kill-switch', 'on'], /kill-switch on: --reason is required: say why everything stops/],
    [['kill-switch', 'status', '--reason', 'x'], /kill-switch status: takes no --reason/],
    [['kill-switch', 'on', '--reason', 'x', '--bogus'], /kill-switch: Unknown option '--bogus'/],
  ])('%j is refused with a message that says what to do', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(message);
  });

  test('help lists the command; lines for a switch released after use', () => {
    expect(USAGE).toContain('kill-switch on --reason <text>');
    expect(killSwitchLines({ engaged: false, reason: 'all clear', changed_by: 'me', changed_at: 't' })).toEqual(['kill switch: released (all clear)', '  set by me at t']);
  });
});
