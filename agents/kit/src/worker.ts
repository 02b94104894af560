/**
 * Worker mode: one long-lived process that runs many tasks, for the local server (a process per
 * task costs a Node.js start-up each). The protocol is language-neutral (agents/README.md,
 * "Worker mode"): one JSON object per line on stdin (`task`, `cancel`), one per line on stdout
 * (`ready`, `done`), logs on stderr. Each task is run by {@link runAgent} and reported through its
 * callback exactly as a process started per task would report it. The worker exits when stdin
 * ends, so it never outlives the process that started it.
 */
import * as readline from 'readline';
import { AgentSpec, ERROR_CODES, runAgent, RunOptions, RunResult } from './agent';
import { sendReport } from './callback';
import { parseEnvelope } from './envelope';
import { createLogger, Logger } from './log';

/** The variable that asks for worker mode: `stdio` (the only mode). */
export const WORKER_ENV = 'CDK_DURABLE_AGENTS_WORKER';

/** The worker modes {@link WORKER_ENV} takes. */
export const WORKER_MODES = ['stdio'] as const;

/** A message the worker reads. */
export type WorkerInput =
  | { readonly type: 'task'; readonly envelope: unknown }
  | { readonly type: 'cancel'; readonly callback_id: string };

/** A message the worker writes. */
export type WorkerOutput =
  | { readonly type: 'ready'; readonly agents: readonly string[]; readonly pid: number }
  | {
    readonly type: 'done';
    readonly callback_id: string;
    readonly workflow_id: string | null;
    readonly step_name: string | null;
    /** `succeeded`, `failed`, or `cancelled` (no report was sent). */
    readonly status: 'succeeded' | 'failed' | 'cancelled';
    /** What became of the report: accepted, refused, undelivered (or none when cancelled). */
    readonly report: 'accepted' | 'refused' | 'undelivered' | 'none';
  };

export interface WorkerOptions extends RunOptions {
  /** Where messages come from. @default process.stdin */
  readonly input?: NodeJS.ReadableStream;
  /** Where messages go (one line each, without its line break). @default stdout */
  readonly write?: (line: string) => void;
}

/**
 * Runs the worker loop until `input` ends. Tasks run concurrently (the server bounds how many it
 * hands one worker). With several specs, one worker serves several agents: each task runs the
 * spec its envelope's `agent` names (a task for another agent is reported failed). A line that
 * is not a message is logged as an error and skipped. When the input ends, the tasks still
 * running are cancelled (whoever would read their reports is gone) and the promise resolves with
 * the exit code 0.
 */
export async function runWorker(spec: AgentSpec | readonly AgentSpec[], options: WorkerOptions = {}): Promise<number> {
  const specs = specList(spec);
  const logger = options.logger ?? createLogger({ agent: specs.map((s) => s.name).join(',') });
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const send = (message: WorkerOutput) => write(JSON.stringify(message));
  const running = new Map<string, AbortController>();
  const tasks = new Set<Promise<void>>();
  const input = options.input ?? process.stdin;

  const start = (envelope: unknown) => {
    const callbackId = callbackIdOf(envelope);
    if (callbackId !== undefined && running.has(callbackId)) {
      logger.error('task refused: a task with this callback id is already running', { callback_id: callbackId });
      return;
    }
    const controller = new AbortController();
    if (callbackId !== undefined) running.set(callbackId, controller);
    const chosen = specFor(specs, envelope);
    const run = chosen
      ? runAgent(chosen, envelope, { ...options, logger, signal: controller.signal })
      : reportUnserved(specs, envelope, logger, options);
    const task = run
      .then((result) => {
        if (callbackId !== undefined) send(doneMessage(callbackId, envelope, result));
      }, (e: Error) => {
        // runAgent does not throw; should it, the worker goes on and the server's deadline ends the task.
        logger.error('task crashed', { callback_id: callbackId ?? null, error: e.stack ?? e.message });
      })
      .finally(() => {
        if (callbackId !== undefined && running.get(callbackId) === controller) running.delete(callbackId);
        tasks.delete(task);
      });
    tasks.add(task);
  };

  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  send({ type: 'ready', agents: specs.map((s) => s.name), pid: process.pid });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    const message = parseMessage(line);
    if (typeof message === 'string') {
      logger.error(`worker: ${message}; line skipped`, { line: line.slice(0, 200) });
      return;
    }
    if (message.type === 'task') {
      start(message.envelope);
    } else {
      const controller = running.get(message.callback_id);
      if (!controller) {
        logger.info('worker: cancel of a task that is not running (ignored)', { callback_id: message.callback_id });
        return;
      }
      controller.abort(new Error('the server cancelled the task (its attempt timed out or its workflow ended)'));
    }
  });
  await new Promise<void>((resolve) => lines.once('close', resolve));
  if (running.size > 0) {
    logger.warn('worker: input closed; cancelling the tasks still running', { tasks: running.size });
    for (const controller of running.values()) controller.abort(new Error('the worker\'s input closed (the server stopped)'));
  }
  await Promise.all([...tasks]);
  return 0;
}

/** The message on a line, or why it is not one. */
export function parseMessage(line: string): WorkerInput | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object with a "type"';
  const m = value as Record<string, unknown>;
  if (m.type === 'task') {
    if (typeof m.envelope !== 'object' || m.envelope === null) return 'a task message needs "envelope" (the task envelope, an object)';
    return { type: 'task', envelope: m.envelope };
  }
  if (m.type === 'cancel') {
    if (typeof m.callback_id !== 'string' || m.callback_id === '') return 'a cancel message needs "callback_id" (a non-empty string)';
    return { type: 'cancel', callback_id: m.callback_id };
  }
  return `unknown message type ${JSON.stringify(m.type)} (expected "task" or "cancel")`;
}

/** The specs of an entry point that serves one agent or several. */
export function specList(spec: AgentSpec | readonly AgentSpec[]): readonly AgentSpec[] {
  const specs: readonly AgentSpec[] = Array.isArray(spec) ? spec : [spec as AgentSpec];
  if (specs.length === 0) throw new Error('give at least one agent spec');
  return specs;
}

/**
 * The spec of the agent an envelope names; with one spec, that spec whatever the envelope names
 * (runAgent warns); undefined when several are served and none has that name.
 */
export function specFor(specs: readonly AgentSpec[], envelope: unknown): AgentSpec | undefined {
  if (specs.length === 1) return specs[0];
  const agent = typeof envelope === 'object' && envelope !== null ? (envelope as Record<string, unknown>).agent : undefined;
  return specs.find((s) => s.name === agent);
}

/** Reports a task for an agent this worker does not serve as failed (when its envelope is usable). */
async function reportUnserved(specs: readonly AgentSpec[], envelope: unknown, logger: Logger, options: RunOptions): Promise<RunResult> {
  const error = {
    code: ERROR_CODES.other,
    message: `this worker runs the agents ${specs.map((s) => s.name).join(', ')}; `
    + `the task is for agent ${JSON.stringify((envelope as Record<string, unknown>).agent)}`,
  };
  logger.error('task refused', { error: error.message });
  try {
    const parsed = parseEnvelope(envelope);
    const delivery = await sendReport(parsed.callback, new Date(parsed.deadline), { status: 'failed', error }, logger,
      { ...(options.env ? { env: options.env } : {}), ...options.delivery });
    return { status: 'failed', error, delivery };
  } catch (e) {
    return { status: 'failed', error, delivery: { outcome: 'undelivered', message: (e as Error).message, attempts: 0 } };
  }
}

function callbackIdOf(envelope: unknown): string | undefined {
  const callback = (envelope as { callback?: { id?: unknown } } | null)?.callback;
  return typeof callback?.id === 'string' && callback.id !== '' ? callback.id : undefined;
}

function stringField(envelope: unknown, key: string): string | null {
  const value = (envelope as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : null;
}

function doneMessage(callbackId: string, envelope: unknown, result: RunResult): WorkerOutput {
  return {
    type: 'done',
    callback_id: callbackId,
    workflow_id: stringField(envelope, 'workflow_id'),
    step_name: stringField(envelope, 'step_name'),
    status: result.cancelled ? 'cancelled' : result.status,
    report: result.cancelled ? 'none' : result.delivery.outcome,
  };
}
