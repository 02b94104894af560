/**
 * The workflow commands: `start`, `status`, `list`, `approve`, `reject` and `cancel`, against
 * the local server or a deployed orchestrator (`./target`). The lines they print are written
 * here once, so both targets answer alike.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { ClientResponse, messageOf, WorkflowView } from './client';
import { CliError } from './errors';
import type { CliIo } from './main';
import { CLI_NAME } from './progress';
import { gatewayHint, openApi, resolveTarget, TARGET_OPTIONS, TARGET_USAGE, TargetOptions, WorkflowApi } from './target';
import { isTerminal } from '../contract/status';

/** The usage text of the workflow commands (part of the command line's USAGE). */
export const WORKFLOW_USAGE = `  start     Start a workflow and print its id and status
              --input '<json>'          the workflow input (a JSON object)
              --input-file <path>       ... read from a file (- for stdin)
              --idempotency-key <key>   a retry with the same key starts nothing new (the id
                                        derives from it); the API chooses ids, there is no --id
              --wait                    follow it until it waits for approval or ends (exit 1
                                        when it ends other than SUCCEEDED)
              --timeout <seconds>       how long --wait follows it (default 600)
  status [<workflow-id>]   Show one workflow (its steps, result, error), or the latest ones
  list      Show the latest workflows (as status without an id)
              --limit <n>               how many (1-100, default 20)
              --status <STATUS>         only those in PENDING, RUNNING, SUCCEEDED, FAILED,
                                        REJECTED, TIMED_OUT or CANCELLED
              --next-token <token>      the next page (printed after a full page)
  approve <workflow-id> [--comment <text>] [--reject]
            Approve (or, with --reject, reject) a workflow that waits for approval
  reject <workflow-id> [--comment <text>]   Reject a workflow that waits for approval
  cancel <workflow-id>     Cancel a running workflow
${TARGET_USAGE.split('\n').map((l) => `            ${l}`).join('\n')}`;

/** How long `start --wait` follows a workflow unless `--timeout` says otherwise. */
export const DEFAULT_WAIT_SECONDS = 600;

type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

function parse<T extends Spec>(args: readonly string[], options: T, command: string) {
  try {
    return parseArgs({ args: [...args], options: { ...TARGET_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(`${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')} `
      + `(see ${CLI_NAME} help)`);
  }
}

function workflowId(positionals: readonly string[], command: string): string {
  if (positionals.length !== 1) {
    throw new CliError(`${command}: give exactly one workflow id (e.g. ${CLI_NAME} ${command} wf-0123...), got ${positionals.length}`);
  }
  return positionals[0];
}

function noPositionals(positionals: readonly string[], command: string): void {
  if (positionals.length > 0) throw new CliError(`${command}: takes no arguments, got ${positionals.join(' ')}`);
}

async function target(values: TargetOptions): Promise<WorkflowApi> {
  return openApi(resolveTarget(values));
}

/** The error of an unexpected answer: `<what>: <status> <the API's message>`, with a hint for answers of API Gateway itself. */
function refused(api: WorkflowApi, command: string, what: string, res: ClientResponse): CliError {
  return new CliError(`${what}: ${res.status} ${messageOf(res)}${gatewayHint(api, command, res)}`);
}

// ---------------------------------------------------------------------------------------------
// The lines printed (one place for both targets)
// ---------------------------------------------------------------------------------------------

function awaitingText(awaiting: string | null | undefined): string {
  return awaiting ? ` (awaiting ${awaiting})` : '';
}

/** `status <id>`: the workflow, its steps, its result or error. */
export function workflowLines(wf: WorkflowView): string[] {
  const lines = [`${wf.workflow_id}  ${wf.status}${awaitingText(wf.awaiting)}`];
  for (const s of wf.steps) lines.push(`  ${s.name}: ${s.status}${s.error ? ` (${s.error.message})` : ''}`);
  if (wf.result) lines.push(`  result: ${wf.result.location ?? JSON.stringify(wf.result)}`);
  if (wf.error) lines.push(`  error: ${wf.error.code}: ${wf.error.message}`);
  return lines;
}

interface Summary {
  readonly workflow_id: string;
  readonly status: string;
  readonly awaiting: string | null;
  readonly updated_at: string;
}

/** `list` (and `status` without an id): one line per workflow, and how to get the next page. */
export function listLines(body: { workflows: Summary[]; next_token?: string }): string[] {
  const lines = body.workflows.map((w) => `${w.workflow_id}  ${w.status}${awaitingText(w.awaiting)}  updated ${w.updated_at}`);
  if (lines.length === 0) lines.push('no workflows yet');
  if (body.next_token) lines.push(`more: add --next-token ${body.next_token}`);
  return lines;
}

/** The answer of `POST /workflows` (the fields printed). */
interface StartAnswer {
  readonly workflow_id: string;
  readonly status: string;
  readonly awaiting: string | null;
  readonly message: string;
  readonly idempotent_replay?: boolean;
}

/** `start`: the new workflow's id and status, and the API's message. */
export function startLines(body: StartAnswer): string[] {
  return [
    `${body.idempotent_replay ? 'already started' : 'started'} ${body.workflow_id}  ${body.status}${awaitingText(body.awaiting)}`,
    `  ${body.message}`,
  ];
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

export async function startCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    'input': { type: 'string' },
    'input-file': { type: 'string' },
    'idempotency-key': { type: 'string' },
    'wait': { type: 'boolean' },
    'timeout': { type: 'string' },
  }, 'start');
  noPositionals(positionals, 'start');
  if (values.timeout !== undefined && values.wait !== true) throw new CliError('--timeout is how long --wait follows the workflow; give --wait too');
  const timeoutSeconds = values.timeout === undefined ? DEFAULT_WAIT_SECONDS : seconds(values.timeout);
  const input = await readInput(values.input, values['input-file'], io);
  const api = await target(values);
  const key = values['idempotency-key'];
  const res = await api.call('POST', '/workflows', input, key !== undefined ? { 'Idempotency-Key': key } : {});
  if (res.status !== 202) throw refused(api, 'start', 'start', res);
  for (const line of startLines(res.body)) io.out(line);
  if (values.wait !== true) return 0;
  const wf = await follow(api, String(res.body.workflow_id), timeoutSeconds);
  for (const line of workflowLines(wf)) io.out(line);
  return isTerminal(wf.status) && wf.status !== 'SUCCEEDED' ? 1 : 0;
}

export async function statusCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {}, 'status');
  if (positionals.length === 0) return list(await target(values), {}, 'status', io);
  const id = workflowId(positionals, 'status');
  const api = await target(values);
  for (const line of workflowLines(await getWorkflow(api, id, 'status'))) io.out(line);
  return 0;
}

export async function listCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    'limit': { type: 'string' },
    'status': { type: 'string' },
    'next-token': { type: 'string' },
  }, 'list');
  noPositionals(positionals, 'list');
  return list(await target(values), { limit: values.limit, status: values.status, next_token: values['next-token'] }, 'list', io);
}

async function list(api: WorkflowApi, query: Record<string, string | undefined>, command: string, io: CliIo): Promise<number> {
  // The API checks the parameters and names the one that is wrong.
  const params = new URLSearchParams({ limit: '20' });
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
  const res = await api.call('GET', `/workflows?${params.toString()}`);
  if (res.status !== 200) throw refused(api, command, command, res);
  for (const line of listLines(res.body)) io.out(line);
  return 0;
}

/** `approve <id>` (`--reject` rejects) and `reject <id>`. */
export async function approveCommand(args: readonly string[], io: CliIo, command: 'approve' | 'reject'): Promise<number> {
  const { values, positionals } = parse(args, {
    comment: { type: 'string' },
    ...(command === 'approve' ? { reject: { type: 'boolean' } } : {}),
  }, command);
  const id = workflowId(positionals, command);
  const api = await target(values);
  const approved = command === 'approve' && (values as { reject?: boolean }).reject !== true;
  const body = { approved, ...(values.comment !== undefined ? { comment: values.comment } : {}) };
  const path = `/workflows/${encodeURIComponent(id)}/approval`;
  let res = await api.call('POST', path, body);
  // A workflow shows `awaiting approval` a moment before its approval can be answered: retry
  // while it says so, as a person would.
  const deadline = Date.now() + 10_000;
  while (res.status === 409 && Date.now() < deadline && await stillAwaitingApproval(api, id)) {
    await new Promise((r) => setTimeout(r, 200));
    res = await api.call('POST', path, body);
  }
  if (res.status !== 200) throw refused(api, command, `${approved ? 'approve' : 'reject'} ${id}`, res);
  io.out(`${approved ? 'approved' : 'rejected'} ${id}: ${messageOf(res)}`);
  return 0;
}

async function stillAwaitingApproval(api: WorkflowApi, id: string): Promise<boolean> {
  const res = await api.call('GET', `/workflows/${encodeURIComponent(id)}`);
  return res.status === 200 && res.body.awaiting === 'approval' && !isTerminal(res.body.status);
}

export async function cancelCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {}, 'cancel');
  const id = workflowId(positionals, 'cancel');
  const api = await target(values);
  const res = await api.call('POST', `/workflows/${encodeURIComponent(id)}/cancel`);
  if (res.status !== 202) throw refused(api, 'cancel', `cancel ${id}`, res);
  io.out(`cancel requested for ${id}: ${messageOf(res)}`);
  return 0;
}

// ---------------------------------------------------------------------------------------------

async function getWorkflow(api: WorkflowApi, id: string, command: string): Promise<WorkflowView> {
  const res = await api.call('GET', `/workflows/${encodeURIComponent(id)}`);
  if (res.status !== 200) throw refused(api, command, `${command} ${id}`, res);
  return res.body as WorkflowView;
}

/** Polls a workflow until it waits for approval or ends; every 250 ms at first, then less often (up to 3 s). */
async function follow(api: WorkflowApi, id: string, timeoutSeconds: number): Promise<WorkflowView> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let interval = 250;
  for (;;) {
    const wf = await getWorkflow(api, id, 'start --wait');
    if (wf.awaiting === 'approval' || isTerminal(wf.status)) return wf;
    if (Date.now() + interval > deadline) {
      throw new CliError(`start --wait: workflow ${id} is still ${wf.status}${awaitingText(wf.awaiting)} after ${timeoutSeconds}s `
        + `(--timeout); follow it with ${CLI_NAME} status ${id}${api.targetArgs}`);
    }
    await new Promise((r) => setTimeout(r, interval));
    interval = Math.min(3000, Math.round(interval * 1.5));
  }
}

function seconds(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 86_400) throw new CliError(`--timeout ${text}: expected whole seconds from 1 to 86400`);
  return n;
}

/** The workflow input of `start`: `--input '<json>'` or `--input-file <path>` (`-`: stdin), a JSON object. */
async function readInput(inline: string | undefined, file: string | undefined, io: CliIo): Promise<Record<string, unknown>> {
  if (inline !== undefined && file !== undefined) throw new CliError('give the workflow input once: --input \'<json>\' or --input-file <path>, not both');
  if (inline === undefined && file === undefined) {
    throw new CliError('start: give the workflow input with --input \'<json>\' or --input-file <path> (- for stdin), e.g. '
      + `${CLI_NAME} start --input '{"topic": "durable execution for AI agents"}'`);
  }
  let text: string;
  let from: string;
  if (inline !== undefined) {
    text = inline;
    from = '--input';
  } else if (file === '-') {
    text = await (io.readStdin ?? readStdin)();
    from = '--input-file - (stdin)';
  } else {
    from = `--input-file ${file}`;
    try {
      text = fs.readFileSync(file!, 'utf8');
    } catch (e) {
      throw new CliError(`${from}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${from}: not JSON (${(e as Error).message}); give the workflow input as a JSON object, e.g. '{"topic": "..."}'`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${from}: the workflow input must be a JSON object, e.g. '{"topic": "..."}', not ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}
