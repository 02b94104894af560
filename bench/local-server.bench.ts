/**
 * Load benchmark of the local server (not a test):
 *
 *   npx projen bundle
 *   npx ts-node --project tsconfig.dev.json bench/local-server.bench.ts [--workflows 200] [--cpu-prof <dir>]
 *
 * Runs the bundled command line (`node assets/cli/index.js dev`) as a child process, as a user
 * would (so ts-node's compiler is not counted), with the reference agents (offline model). Starts
 * N reference workflows at once over HTTP, waits until each waits for approval, approves them
 * all, and waits until all have SUCCEEDED. Checks that none is lost (every id SUCCEEDED with its
 * report on disk), samples the resident memory of the server and all its descendants (the agent
 * processes) together every 100 ms, and writes the run to bench/results/local-server.json beside
 * the figures from before the agent workers (`before`, kept from the file). `--cpu-prof <dir>`
 * writes a V8 CPU profile of the server into <dir> (node refuses --cpu-prof in NODE_OPTIONS, so
 * agent processes are not profiled). Fails after 10 minutes.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';

const LIMIT_MS = 10 * 60_000;
const POLL_MS = 100;
const SAMPLE_MS = 100;
const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'assets', 'cli', 'index.js');
const RESULTS = path.join(__dirname, 'results', 'local-server.json');

interface Run {
  readonly workflows: number;
  readonly agents: string;
  readonly started: number;
  readonly reachedApproval: number;
  readonly succeeded: number;
  readonly lost: string[];
  readonly notSucceeded: Record<string, string>;
  readonly startRequestsMs: number;
  readonly timeToApprovalMs: Stats;
  readonly allAtApprovalMs: number;
  readonly approveRequestsMs: number;
  readonly timeToFinishAfterApprovalMs: Stats;
  readonly totalMs: number;
  /** The server and its agent processes together, after the server started, before the first workflow. */
  readonly baselineTreeRssMiB: number;
  /** Peak of the server and its agent processes together (sampled every 100 ms, Linux /proc). */
  readonly peakTreeRssMiB: number;
  /** Peak of the server process alone. */
  readonly peakServerRssMiB: number;
  /** Most processes in the tree at once (the server included). */
  readonly peakProcesses: number;
  /** CPU seconds (user + system) of the server and its agents, from /proc, at the end (ended children included). */
  readonly cpuSeconds?: number;
  readonly machine: { cpus: number; memoryMiB: number; node: string; platform: string };
  /** The machine's 1-minute load average when the workflows started and when they had ended (others' work slows a run down). */
  readonly loadAverage1m: { readonly atStart: number; readonly atEnd: number };
  readonly finishedAt: string;
}

interface Stats {
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'workflows': { type: 'string', default: '200' }, 'cpu-prof': { type: 'string' } } });
  const count = Number(values.workflows);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--workflows ${values.workflows}: give a whole number from 1`);
  if (!fs.existsSync(CLI)) throw new Error(`${path.relative(process.cwd(), CLI)} is missing: run \`npx projen bundle\` first`);
  const deadline = Date.now() + LIMIT_MS;
  const timer = setTimeout(() => {
    process.stderr.write(`bench: did not finish within ${LIMIT_MS / 60_000} minutes; giving up\n`);
    process.exit(2);
  }, LIMIT_MS);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-bench-'));
  const port = await freePort();
  const profileDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const server = spawn(process.execPath, [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), CLI, 'dev', '--port', String(port), '--data-dir', dataDir], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [server.stdout!, server.stderr!]) stream.on('data', (d: Buffer) => output.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const agents = 'reference agents (assets/agents, offline model), served by `node assets/cli/index.js dev`';

  const memory = { tree: 0, server: 0, processes: 0 };
  const sample = () => {
    const tree = processTree(server.pid!);
    const rss = tree.map(rssOf);
    memory.tree = Math.max(memory.tree, rss.reduce((a, b) => a + b, 0));
    memory.server = Math.max(memory.server, rss[0] ?? 0);
    memory.processes = Math.max(memory.processes, tree.length);
  };
  const sampler = setInterval(sample, SAMPLE_MS);
  try {
    await waitForHealth(url, server, output, deadline);
    const baselineTree = processTree(server.pid!).map(rssOf).reduce((a, b) => a + b, 0);
    process.stdout.write(`bench: ${count} workflows on ${url} (pid ${server.pid}) with the ${agents}; data in ${dataDir}\n`);
    const t0 = Date.now();
    const loadAtStart = os.loadavg()[0];
    // Start all at once.
    const startedAt = new Map<string, number>();
    const responses = await Promise.all(Array.from({ length: count }, async (_, i) => {
      const res = await request(url, 'POST', '/workflows', { topic: `Benchmark topic ${i}`, parameters: { depth: 'brief' } });
      if (res.status !== 202) throw new Error(`start ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      startedAt.set(res.body.workflow_id, Date.now());
      return res.body.workflow_id as string;
    }));
    const startRequestsMs = Date.now() - t0;
    const ids = new Set(responses);
    process.stdout.write(`bench: ${ids.size} started in ${startRequestsMs} ms\n`);

    // Wait until each waits for approval.
    const atApproval = new Map<string, number>();
    const ended = new Map<string, string>();
    while (atApproval.size + ended.size < ids.size) {
      if (Date.now() > deadline) throw new Error('timed out waiting for approvals');
      for (const wf of await listAll(url)) {
        if (!ids.has(wf.workflow_id)) continue;
        if (wf.awaiting === 'approval' && !atApproval.has(wf.workflow_id)) atApproval.set(wf.workflow_id, Date.now());
        if (['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELLED'].includes(wf.status)) ended.set(wf.workflow_id, wf.status);
      }
      await sleep(POLL_MS);
    }
    const allAtApprovalMs = Date.now() - t0;
    process.stdout.write(`bench: ${atApproval.size} waiting for approval after ${allAtApprovalMs} ms (${ended.size} ended early)\n`);

    // Approve all at once.
    const approveStart = Date.now();
    const approvedAt = new Map<string, number>();
    await Promise.all([...atApproval.keys()].map(async (id) => {
      for (let i = 0; ; i++) {
        const res = await request(url, 'POST', `/workflows/${id}/approval`, { approved: true, comment: 'bench' });
        if (res.status === 200) {
          approvedAt.set(id, Date.now());
          return;
        }
        if (res.status !== 409 || i > 100) throw new Error(`approve ${id}: ${res.status} ${JSON.stringify(res.body)}`);
        await sleep(50);
      }
    }));
    const approveRequestsMs = Date.now() - approveStart;

    // Wait until all have ended.
    const finishedAt = new Map<string, number>();
    while (finishedAt.size < ids.size) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the workflows to end');
      for (const wf of await listAll(url)) {
        if (!ids.has(wf.workflow_id) || finishedAt.has(wf.workflow_id)) continue;
        if (['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELLED'].includes(wf.status)) {
          finishedAt.set(wf.workflow_id, Date.now());
          ended.set(wf.workflow_id, wf.status);
        }
      }
      await sleep(POLL_MS);
    }
    const totalMs = Date.now() - t0;

    // None lost: every id is known, SUCCEEDED, with its report on disk.
    const lost: string[] = [];
    const notSucceeded: Record<string, string> = {};
    let succeeded = 0;
    for (const id of ids) {
      const res = await request(url, 'GET', `/workflows/${id}`);
      if (res.status !== 200) {
        lost.push(id);
        continue;
      }
      if (res.body.status === 'SUCCEEDED' && fs.existsSync(res.body.result?.location ?? '')) succeeded++;
      else notSucceeded[id] = `${res.body.status}: ${res.body.error?.message ?? 'report missing'}`;
    }

    sample();
    const cpuSeconds = cpuOf(server.pid!);
    const run: Run = {
      workflows: count,
      agents,
      started: ids.size,
      reachedApproval: atApproval.size,
      succeeded,
      lost,
      notSucceeded,
      startRequestsMs,
      timeToApprovalMs: stats([...atApproval].map(([id, t]) => t - startedAt.get(id)!)),
      allAtApprovalMs,
      approveRequestsMs,
      timeToFinishAfterApprovalMs: stats([...approvedAt].map(([id, t]) => (finishedAt.get(id) ?? t) - t)),
      totalMs,
      baselineTreeRssMiB: mib(baselineTree),
      peakTreeRssMiB: mib(memory.tree),
      peakServerRssMiB: mib(memory.server),
      peakProcesses: memory.processes,
      ...(cpuSeconds !== undefined ? { cpuSeconds } : {}),
      machine: { cpus: os.cpus().length, memoryMiB: mib(os.totalmem()), node: process.version, platform: `${process.platform}-${process.arch}` },
      loadAverage1m: { atStart: round2(loadAtStart), atEnd: round2(os.loadavg()[0]) },
      finishedAt: new Date().toISOString(),
    };
    const results = {
      goal: '200 reference workflows SUCCEEDED, none lost, in at most 20 s and at most 400 MB for the server and its agents together',
      before: previousBefore(),
      after: run,
    };
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    fs.writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
    process.stdout.write(`${JSON.stringify(run, null, 2)}\nbench: written to ${path.relative(process.cwd(), RESULTS)}\n`);
    if (succeeded !== count || lost.length > 0) {
      throw new Error(`${count - succeeded} of ${count} workflows did not succeed (${lost.length} lost)`);
    }
  } finally {
    clearInterval(sampler);
    clearTimeout(timer);
    await stopServer(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The figures from before the agent workers: `before` of the results file, or the whole file when
 * it is still in the old layout (one run of the in-process benchmark: 88 s, 1.24 GiB).
 */
function previousBefore(): unknown {
  try {
    const data = JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as Record<string, unknown>;
    return 'before' in data ? data.before : {
      ...data,
      note: 'the benchmark in-process (ts-node), before agent workers: a process per agent task, unbounded dispatch, a state write per change; '
        + 'peakRssMiB is the server alone, peakAgentProcessesRssMiB its agent processes at their peak',
    };
  } catch {
    return null;
  }
}

/** Waits until `GET /health` answers 200, failing with the server's output when it exits first. */
async function waitForHealth(url: string, server: ChildProcess, output: string[], deadline: number): Promise<void> {
  for (;;) {
    if (server.exitCode !== null) throw new Error(`the server exited with code ${server.exitCode}:\n${output.join('')}`);
    if (Date.now() > deadline) throw new Error(`the server did not answer on ${url}:\n${output.join('')}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
}

/** SIGINT (the server stops its agents and writes what it owes), SIGKILL if it is still there after 20 s. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function request(url: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json() };
}

/** Every workflow, through the paged listing. */
async function listAll(url: string): Promise<Array<{ workflow_id: string; status: string; awaiting: string | null }>> {
  const all: Array<{ workflow_id: string; status: string; awaiting: string | null }> = [];
  let token: string | undefined;
  do {
    const res = await request(url, 'GET', `/workflows?limit=100${token ? `&next_token=${encodeURIComponent(token)}` : ''}`);
    if (res.status !== 200) throw new Error(`list: ${res.status} ${JSON.stringify(res.body)}`);
    all.push(...res.body.workflows);
    token = res.body.next_token;
  } while (token);
  return all;
}

/** A process and all its descendants (pid first), from /proc where there is one. */
function processTree(root: number): number[] {
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    let children = '';
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    } catch {
      return;
    }
    for (const child of children ? children.split(/\s+/).map(Number) : []) visit(child);
  };
  visit(root);
  return out;
}

/** CPU seconds of a process and of its children that ended and were waited for (/proc/<pid>/stat utime+stime+cutime+cstime). */
function cpuOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of stat; the slice starts at field 3.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    let live = 0;
    for (const child of processTree(pid).slice(1)) {
      const cs = fs.readFileSync(`/proc/${child}/stat`, 'utf8');
      const cf = cs.slice(cs.lastIndexOf(')') + 2).split(' ');
      live += Number(cf[11]) + Number(cf[12]);
    }
    return Math.round(((ticks + live) / 100) * 10) / 10;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in bytes (0 when unknown). */
function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
  return { min: at(0), p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1] : 0 };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function mib(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench: FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
