/**
 * `cdk-durable-agents demo`: one reference workflow from start to published report, on a local
 * server of its own, driven over HTTP as a person would.
 */
import * as fs from 'fs';
import { LocalClient, messageOf } from './client';
import { CliError } from './errors';
import { askOnTerminal, LocalServerOptions, startLocalServer } from './server';

export interface DemoOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default `.local/demo` in the working directory */
  readonly dataDir?: string;
  readonly log?: (line: string) => void;
  /** Asks whether to approve; absent: approve automatically. @default - ask on the terminal when stdin is one */
  readonly ask?: ((question: string) => Promise<boolean>) | null;
  /** Everything else of the server (agents, definition: for tests). */
  readonly server?: Omit<LocalServerOptions, 'port' | 'dataDir' | 'log' | 'approve'>;
  /** How long the workflow may take. @default 5 minutes */
  readonly timeoutMs?: number;
  /** Lines of the report shown. @default 12 */
  readonly reportLines?: number;
}

/** The input of the demo's workflow. */
export const DEMO_INPUT = {
  topic: 'How durable execution keeps long-running AI agent workflows cheap and reliable',
  parameters: { depth: 'brief' },
};

/** Runs the demo; resolves with the exit code (0 when the workflow SUCCEEDED). */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const ask = options.ask === undefined ? (process.stdin.isTTY ? askOnTerminal : null) : options.ask;
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const server = await startLocalServer({
    ...options.server,
    port: options.port ?? 0,
    dataDir: options.dataDir ?? '.local/demo',
    log: (line) => log(`  ${line}`),
    approve: 'api',
  });
  try {
    log(`demo: local server on ${server.url} (data in ${server.dataDir})`);
    log(`demo: starting workflow '${server.definition.name}' with ${JSON.stringify(DEMO_INPUT)}`);
    const client = new LocalClient(server.url);
    const started = await client.call('POST', '/workflows', DEMO_INPUT);
    if (started.status !== 202) throw new CliError(`the server refused the workflow: ${started.status} ${messageOf(started)}`);
    const id = String(started.body.workflow_id);

    let wf = await client.waitFor(id, (w) => w.awaiting === 'approval', timeoutMs);
    if (wf.awaiting === 'approval') {
      const approved = ask ? await ask(`demo: approve workflow ${id} and publish its report? [y/n] `) : true;
      if (!ask) log('demo: approving automatically (stdin is not a terminal)');
      const decided = await decide(client, id, approved);
      if (decided.status !== 200) throw new CliError(`the approval was refused: ${decided.status} ${messageOf(decided)}`);
      log(`demo: ${approved ? 'approved' : 'rejected'}; waiting for the workflow to end`);
      wf = await client.waitFor(id, () => false, timeoutMs);
    }

    if (wf.status !== 'SUCCEEDED') {
      const failed = wf.steps.find((s) => s.error);
      log(`demo: workflow ${id} ended ${wf.status}: ${wf.error?.message ?? failed?.error?.message ?? 'no reason given'}`);
      return 1;
    }
    const file = server.progress.reportFile(wf.result);
    if (!file || !fs.existsSync(file)) {
      log(`demo: workflow ${id} SUCCEEDED but its report is missing (${JSON.stringify(wf.result)})`);
      return 1;
    }
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const shown = options.reportLines ?? 12;
    log(`demo: workflow ${id} SUCCEEDED`);
    log(`demo: report: ${file}`);
    log('');
    for (const line of lines.slice(0, shown)) log(`    ${line}`);
    if (lines.length > shown) log(`    ... (${lines.length - shown} more lines)`);
    return 0;
  } finally {
    await server.close();
  }
}

/** Sends a decision, retried briefly while the approval is still being registered. */
async function decide(client: LocalClient, id: string, approved: boolean) {
  const body = { approved, comment: approved ? 'approved in the demo' : 'rejected in the demo' };
  for (let i = 0; ; i++) {
    const res = await client.call('POST', `/workflows/${id}/approval`, body);
    if (res.status !== 409 || i >= 50) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}
