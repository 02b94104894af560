import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { decide, http, startWorkflow, tempDir, waitFor, waitForEnd, waitUntil } from './helpers';
import { isAlive } from '../../src/cli/data-dir';
import { EVENT_TYPES } from '../../src/contract/status';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..');
/** The command the library's build bundles: missing, it fails under CI=true and is skipped elsewhere. */
const CLI = path.join(ROOT, 'assets', 'cli', 'index.js');
const AGENT = path.join(__dirname, 'fixtures', 'restart-agent.js');
const built = fs.existsSync(CLI);
if (!built && process.env.CI === 'true') throw new Error(`${CLI} is missing: run npx projen bundle before the tests`);
const maybe = built ? describe : describe.skip;

/** Starts `cdk-durable-agents dev` in a child process on a free port; resolves with its URL. */
async function serve(dataDir: string, runs: string, out: string[]): Promise<{ child: ChildProcess; url: string }> {
  const agent = (name: string) => ['--agent', `${name}=node ${AGENT} ${runs}`];
  const child = spawn(process.execPath, [CLI, 'dev', '--port', '0', '--data-dir', dataDir, ...agent('researcher'), ...agent('analyst'), ...agent('writer')], {
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => out.push(...String(d).split('\n')));
  child.stderr!.on('data', (d) => out.push(...String(d).split('\n')));
  await waitUntil(() => out.some((l) => /serving\s+http:\/\/127\.0\.0\.1:\d+/.test(l)) || child.exitCode !== null, 30_000, 'the server serving');
  const line = out.find((l) => /serving\s+http:\/\/127\.0\.0\.1:\d+/.test(l));
  if (!line) throw new Error(`the server did not start:\n${out.join('\n')}`);
  return { child, url: /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0] };
}

/** Runs of the agents as recorded by the restart agent: `<workflow>.<step>.<attempt>.<pid>.<started|reported>`. */
function runsOf(runs: string, suffix: 'started' | 'reported'): Array<{ workflow: string; step: string; attempt: number; pid: number }> {
  return fs.readdirSync(runs).filter((f) => f.endsWith(`.${suffix}`)).map((f) => {
    const [workflow, step, attempt, pid] = f.split('.');
    return { workflow, step, attempt: Number(attempt), pid: Number(pid) };
  });
}

maybe('local server restart (SIGKILL) with workflows at each kind of wait', () => {
  test('every workflow continues on the next server on the folder and ends as expected, each step done once', async () => {
    const dataDir = tempDir('cdkda-restart-');
    const runs = path.join(dataDir, 'runs');
    fs.mkdirSync(runs);
    const out1: string[] = [];
    const first = await serve(dataDir, runs, out1);
    let second: { child: ChildProcess; url: string } | undefined;
    try {
      // Waiting for approval.
      const approval = await startWorkflow(first.url, { topic: 'approve me' });
      await waitFor(first.url, approval, (wf) => wf.awaiting === 'approval', 30_000);
      // An agent task running (its agent waits for the gate).
      const running = await startWorkflow(first.url, { topic: 'gate' });
      await waitUntil(() => runsOf(runs, 'started').some((r) => r.workflow === running), 30_000, 'the gated agent running');
      // A retry pending (the research step's backoff of 10 s).
      const retrying = await startWorkflow(first.url, { topic: 'retry' });
      await waitFor(first.url, retrying, (wf) => wf.steps.some((s: any) => s.name === 'research' && s.error), 30_000);
      // Just started.
      const fresh = await startWorkflow(first.url, { topic: 'fresh' });

      first.child.kill('SIGKILL');
      await waitUntil(() => first.child.exitCode !== null || first.child.signalCode !== null, 10_000, 'the first server gone');
      const stale = runsOf(runs, 'started').filter((r) => r.workflow === running);

      const out2: string[] = [];
      second = await serve(dataDir, runs, out2);
      const text = out2.join('\n');
      expect(text).toMatch(/taking it over/);
      expect(text).toMatch(/left unfinished by an earlier server on this folder continue/);
      // The agent of the first server still working on the gated task was stopped before it was dispatched again.
      await waitUntil(() => stale.every((r) => !isAlive(r.pid)), 10_000, 'the first server\'s agent stopped');
      await waitUntil(() => runsOf(runs, 'started').filter((r) => r.workflow === running).length > stale.length, 30_000, 'the gated task dispatched again');
      fs.writeFileSync(path.join(runs, 'gate'), '');

      const ids = [approval, running, retrying, fresh];
      for (const id of ids) {
        const wf = await waitFor(second.url, id, (w) => w.awaiting === 'approval' || ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(w.status), 60_000);
        expect([id, wf.status, wf.awaiting]).toEqual([id, 'RUNNING', 'approval']);
        expect((await decide(second.url, id, true)).status).toBe(200);
      }
      for (const id of ids) {
        const done = await waitForEnd(second.url, id, 30_000);
        expect([id, done.status]).toEqual([id, 'SUCCEEDED']);
        expect(done.steps.map((s: any) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      }
      // Each agent step reported success once; only the retried step has a failed attempt.
      const reported = runsOf(runs, 'reported');
      for (const id of ids) {
        const mine = reported.filter((r) => r.workflow === id);
        expect(mine.map((r) => `${r.step}.${r.attempt}`).sort()).toEqual(
          id === retrying ? ['analysis.1', 'research.1', 'research.2', 'writing.1'] : ['analysis.1', 'research.1', 'writing.1']);
      }
      // Each step's completion was announced once.
      const events = fs.readFileSync(path.join(dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      for (const id of ids) {
        const names = events.filter((e) => e.workflowId === id && e.type === EVENT_TYPES.stepCompleted).map((e) => e.stepName);
        expect(names.sort()).toEqual(['analysis', 'approval', 'publish', 'research', 'writing']);
      }
      expect((await http(second.url, 'GET', '/health')).status).toBe(200);
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGTERM');
      if (second) await waitUntil(() => second!.child.exitCode !== null || second!.child.signalCode !== null, 10_000, 'the second server stopped');
    }
  });
});
