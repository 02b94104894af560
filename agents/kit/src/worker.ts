/**
 * Worker mode: one long-lived process that runs many tasks, for the local server (a process per
 * task costs a Node.js start-up each). The protocol is language-neutral (agents/README.md,
 * "Worker mode"): one JSON object per line on stdin (`task`, `cancel`), one per line on stdout
 * (`ready`, `done`), logs on stderr. Each task is run by {@link runAgent} and reported through its
 * callback exactly as a process started per task would report it. The worker exits when stdin
 * ends, so it never outlives the process that started it.
 */
import * as readline from 'readline';
import { AgentSpec, runAgent, RunOptions, RunResult } from './agent';
import { createLogger } from './log';

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
  | { readonly type: 'ready'; readonly agent: string; readonly pid: number }
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
 * hands one worker). A line that is not a message is logged as an error and skipped. When the
 * input ends, the tasks still running are cancelled (whoever would read their reports is gone)
 * and the promise resolves with the exit code 0.
 */
export async function runWorker(spec: AgentSpec, options: WorkerOptions = {}): Promise<number> {
  const logger = options.logger ?? createLogger({ agent: spec.name });
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
    const task = runAgent(spec, envelope, { ...options, logger, signal: controller.signal })
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
  send({ type: 'ready', agent: spec.name, pid: process.pid });
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
