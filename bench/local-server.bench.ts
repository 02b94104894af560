/**
 * Load benchmark of the local server (not a test):
 *
 *   npx ts-node --project tsconfig.dev.json bench/local-server.bench.ts [--workflows 200] [--agent-bundles <dir>]
 *
 * Starts the server, starts N reference workflows at once over HTTP, waits until each waits for
 * approval, approves them all, and waits until all have SUCCEEDED. Checks that none is lost (every
 * id SUCCEEDED with its report on disk) and writes counts, times and the peak memory of the server
 * process to bench/results/local-server.json. Uses the bundled reference agents when they are
 * built (in assets/, or in --agent-bundles <dir> with the same layout), else the test agent of
 * test/cli (the results say which). Fails after 10 minutes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { REFERENCE_AGENTS, referenceAgentEntry } from '../src/cli/paths';
import { startLocalServer } from '../src/cli/server';

const LIMIT_MS = 10 * 60_000;
const POLL_MS = 100;

interface Summary {
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
  /** After the server started, before the first workflow (ts-node's compiler included). */
  readonly baselineRssMiB: number;
  readonly baselineHeapUsedMiB: number;
  readonly peakRssMiB: number;
  readonly peakHeapUsedMiB: number;
  /** Agent processes running at once, and their memory together (sampled every 200 ms, Linux only). */
  readonly peakAgentProcesses: number;
  readonly peakAgentProcessesRssMiB: number;
  readonly machine: { cpus: number; memoryMiB: number; node: string; platform: string };
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
  const { values } = parseArgs({ options: { 'workflows': { type: 'string', default: '200' }, 'agent-bundles': { type: 'string' } } });
  const count = Number(values.workflows);
  const deadline = Date.now() + LIMIT_MS;
  const timer = setTimeout(() => {
    process.stderr.write(`bench: did not finish within ${LIMIT_MS / 60_000} minutes; giving up\n`);
    process.exit(2);
  }, LIMIT_MS);

  // The reference agents: built into assets/ by the library's bundle task, or bundled elsewhere (--agent-bundles <dir>,
  // laid out as assets/: <dir>/agents/<name>/src/main/index.js).
  const bundles = values['agent-bundles'] ? path.resolve(values['agent-bundles']) : undefined;
  const entry = (name: string) => (bundles ? path.join(bundles, 'agents', name, 'src', 'main', 'index.js') : referenceAgentEntry(name));
  const builtAgents = REFERENCE_AGENTS.every((name) => fs.existsSync(entry(name)));
  if (bundles && !builtAgents) throw new Error(`--agent-bundles ${bundles}: expected agents/<name>/src/main/index.js for ${REFERENCE_AGENTS.join(', ')}`);
  const testAgent = path.join(__dirname, '..', 'test', 'cli', 'fixtures', 'agent.js');
  const agentCommands = !builtAgents
    ? Object.fromEntries(REFERENCE_AGENTS.map((name) => [name, ['node', testAgent]]))
    : bundles ? Object.fromEntries(REFERENCE_AGENTS.map((name) => [name, [process.execPath, entry(name)]])) : undefined;
  if (bundles) process.env.AGENT_MODEL_PROVIDER = 'offline';
  const agents = !builtAgents ? 'test agent (test/cli/fixtures/agent.js): reference agents not built'
    : `reference agents (${bundles ? `bundles in ${bundles}` : 'assets/agents'}, offline model)`;

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-bench-'));
  const memory = { rss: 0, heap: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    memory.rss = Math.max(memory.rss, m.rss);
    memory.heap = Math.max(memory.heap, m.heapUsed);
  };
  const sampler = setInterval(sample, 200);
  let peakAgents = 0;
  let peakAgentsRss = 0;
  const agentSampler = setInterval(() => {
    const children = childPids();
    peakAgents = Math.max(peakAgents, children.length);
    peakAgentsRss = Math.max(peakAgentsRss, children.reduce((sum, pid) => sum + rssOf(pid), 0));
  }, 200);

  const warnings: string[] = [];
  const server = await startLocalServer({
    port: 0,
    dataDir,
    ...(agentCommands ? { agentCommands } : {}),
    log: (line) => {
      if (/warning|error/.test(line)) warnings.push(line);
    },
  });
  process.stdout.write(`bench: ${count} workflows on ${server.url} with the ${agents}; data in ${dataDir}\n`);
  global.gc?.();
  const baseline = process.memoryUsage();
  const t0 = Date.now();
  try {
    // Start all at once.
    const startedAt = new Map<string, number>();
    const responses = await Promise.all(Array.from({ length: count }, async (_, i) => {
      const res = await request(server.url, 'POST', '/workflows', { topic: `Benchmark topic ${i}`, parameters: { depth: 'brief' } });
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
      for (const wf of await listAll(server.url)) {
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
        const res = await request(server.url, 'POST', `/workflows/${id}/approval`, { approved: true, comment: 'bench' });
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
      for (const wf of await listAll(server.url)) {
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
      const res = await request(server.url, 'GET', `/workflows/${id}`);
      if (res.status !== 200) {
        lost.push(id);
        continue;
      }
      if (res.body.status === 'SUCCEEDED' && fs.existsSync(res.body.result?.location ?? '')) succeeded++;
      else notSucceeded[id] = `${res.body.status}: ${res.body.error?.message ?? 'report missing'}`;
    }

    sample();
    const summary: Summary = {
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
      baselineRssMiB: mib(baseline.rss),
      baselineHeapUsedMiB: mib(baseline.heapUsed),
      peakRssMiB: mib(memory.rss),
      peakHeapUsedMiB: mib(memory.heap),
      peakAgentProcesses: peakAgents,
      peakAgentProcessesRssMiB: mib(peakAgentsRss),
      machine: { cpus: os.cpus().length, memoryMiB: mib(os.totalmem()), node: process.version, platform: `${process.platform}-${process.arch}` },
      finishedAt: new Date().toISOString(),
    };
    const out = path.join(__dirname, 'results', 'local-server.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\nbench: written to ${path.relative(process.cwd(), out)}\n`);
    if (warnings.length) process.stdout.write(`bench: ${warnings.length} warnings from the server, first: ${warnings[0]}\n`);
    if (succeeded !== count || lost.length > 0) {
      throw new Error(`${count - succeeded} of ${count} workflows did not succeed (${lost.length} lost)`);
    }
  } finally {
    clearInterval(sampler);
    clearInterval(agentSampler);
    clearTimeout(timer);
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
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

/** Child processes of this process (agents), from /proc where there is one. */
function childPids(): number[] {
  try {
    const children = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
    return children ? children.split(/\s+/).map(Number) : [];
  } catch {
    return [];
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
