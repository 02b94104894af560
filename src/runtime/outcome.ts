/**
 * What an error means to the runtime: whether it ends the workflow with a status of its own (a
 * halt), and whether a durable step that threw it may be retried.
 *
 * The answer travels as data in the durable SDK's error carrier, never in an error's message: the
 * `errorData` of a DurableOperationError (kept when a step or a child context fails and when a
 * parallel branch fails, on replay too), and the `ErrorData` of a failed callback
 * (test/runtime/durable/halt-carrier.test.ts shows each path). A plain Error's `errorData` is
 * read here, which is enough for a retry decision, but the SDK drops it when it serializes the
 * error: what must cross an operation is thrown as a DurableOperationError (see controller.ts).
 *
 * An agent's words are only ever a message, so they cannot end a workflow; only the runtime sets
 * the data (the API never passes an agent's report on as data).
 *
 * Nothing here imports the durable SDK, so the API can use it without bundling the SDK.
 */
import type { CallbackFailure } from './ports';

/** The statuses a halt ends a workflow with. */
export type HaltStatus = 'CANCELLED' | 'REJECTED' | 'TIMED_OUT' | 'FAILED';
const HALT_STATUSES: readonly string[] = ['CANCELLED', 'REJECTED', 'TIMED_OUT', 'FAILED'];

/** Ends the workflow with `status`; `code` and `message` become the workflow's error. */
export interface Halt {
  readonly kind: 'halt';
  readonly status: HaltStatus;
  readonly code: string;
  readonly message: string;
}

/** Not retryable, and ends nothing by itself (e.g. an unknown agent, an abandoned branch). */
export interface Final {
  readonly kind: 'final';
  readonly reason: string;
}

/** What the runtime attaches to an error it throws. A halt is never retried either. */
export type Outcome = Halt | Final;

/** The outcome as the string the SDK carries (`errorData`, `ErrorData`). */
export function encodeOutcome(outcome: Outcome): string {
  return JSON.stringify(outcome);
}

/** The outcome carried by `data`, or undefined when `data` is not one the runtime wrote. */
export function decodeOutcome(data: unknown): Outcome | undefined {
  if (typeof data !== 'string' || !data.startsWith('{')) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (value?.kind === 'halt' && typeof value.status === 'string' && HALT_STATUSES.includes(value.status)
    && typeof value.code === 'string' && typeof value.message === 'string') {
    return { kind: 'halt', status: value.status as HaltStatus, code: value.code, message: value.message };
  }
  if (value?.kind === 'final' && typeof value.reason === 'string') return { kind: 'final', reason: value.reason };
  return undefined;
}

/** `error` and its causes, outermost first (a cycle or a very deep chain is cut short). */
export function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && !chain.includes(current) && chain.length < 20;) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The outcome the outermost error of the chain that carries one carries. */
export function outcomeOf(error: unknown): Outcome | undefined {
  for (const e of causeChain(error)) {
    const outcome = decodeOutcome((e as { errorData?: unknown }).errorData);
    if (outcome) return outcome;
  }
  return undefined;
}

/** The halt `error` carries, if any. */
export function haltOf(error: unknown): Halt | undefined {
  const outcome = outcomeOf(error);
  return outcome?.kind === 'halt' ? outcome : undefined;
}

/** Whether a step that threw `error` may be tried again: not if it carries an outcome. */
export function isRetryable(error: unknown): boolean {
  return outcomeOf(error) === undefined;
}

/**
 * How the cancel route fails a pending callback. The controller trusts the cancellation only when
 * the workflow record confirms a cancel request.
 */
export function cancellationError(reason?: string): CallbackFailure {
  const message = reason ?? 'the workflow was cancelled by request';
  return { code: 'WorkflowCancelled', message, data: encodeOutcome({ kind: 'halt', status: 'CANCELLED', code: 'CANCEL_REQUESTED', message }) };
}
