/**
 * Local durable executions: the testing SDK's execution backend (its checkpoint worker), one per
 * process, shared by its users (the cost command) and checked when first acquired; and what the
 * local server does when an execution ends without the workflow recording its end (the
 * controller crashed): the workflow is marked FAILED.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CliError } from './errors';
import { LocalDurableControl, LocalExecutionOutcome } from '../runtime/durable/local-durable-control';
import type { WorkflowStore } from '../runtime/ports';

/** How long the backend may take to run a trivial execution before it counts as broken. */
const BACKEND_CHECK_MS = 15_000;

let backendUsers = 0;
let backendReady: Promise<void> | undefined;

/**
 * Acquires the process's durable execution backend, setting it up (and checking it) for the
 * first user. Rejects with a `CliError` when it cannot work. Pair with `releaseBackend`.
 */
export async function acquireBackend(): Promise<void> {
  backendUsers++;
  if (!backendReady) backendReady = LocalDurableControl.setup().then(checkBackend);
  try {
    await backendReady;
  } catch (e) {
    backendUsers--;
    if (backendUsers === 0) {
      backendReady = undefined;
      await LocalDurableControl.teardown().catch(() => undefined);
    }
    throw e;
  }
}

/** Releases the backend; the last user tears it down. */
export async function releaseBackend(): Promise<void> {
  backendUsers--;
  if (backendUsers === 0 && backendReady) {
    backendReady = undefined;
    await LocalDurableControl.teardown();
  }
}

/**
 * Runs a trivial durable execution, so that a backend that cannot work (its checkpoint worker
 * did not start: e.g. a bundle without the worker file beside it) fails the start of the
 * server with a message, not the first workflow.
 */
async function checkBackend(): Promise<void> {
  const worker = path.join(__dirname, 'checkpoint-server', 'index.js');
  // Bundled, this module is not a file of its own: __dirname is the bundle's folder.
  const bundled = !['local-durable.ts', 'local-durable.js'].some((f) => fs.existsSync(path.join(__dirname, f)));
  const missing = bundled && !fs.existsSync(worker)
    ? `this command is a bundle, and the testing SDK loads its checkpoint worker from ${worker}, which is missing: bundle `
      + 'node_modules/@aws/durable-execution-sdk-js-testing/dist-cjs/checkpoint-server/index.js to that path'
    : undefined;
  const fail = (why: string) => new CliError(`the local durable execution backend (the durable-execution testing SDK's checkpoint worker) does not work: ${why}`);
  if (missing) throw fail(missing);
  // One step: it checkpoints, as every workflow does.
  const probe = new LocalDurableControl(async (_event: unknown, ctx: { step: (name: string, fn: () => Promise<boolean>) => Promise<boolean> }) =>
    ({ ok: await ctx.step('probe', async () => true) }));
  await probe.start('wf-backend-check', {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<LocalExecutionOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'TIMED_OUT', error: `no answer within ${BACKEND_CHECK_MS / 1000}s` }), BACKEND_CHECK_MS);
  });
  const outcome = await Promise.race([probe.finished('wf-backend-check'), timeout]);
  clearTimeout(timer);
  if (outcome.status !== 'SUCCEEDED') throw fail(describeError(outcome.error));
}

export interface ServerDurableControlOptions {
  /** Where a workflow whose execution failed is marked FAILED (and its steps still open). */
  readonly store: Pick<WorkflowStore, 'updateWorkflow' | 'getWorkflow' | 'putStep'>;
  /** Shows a line under a workflow's tag on the console. */
  readonly note: (workflowId: string, text: string) => void;
}

/**
 * A durable execution that ended without the workflow recording its end (the controller crashed):
 * the workflow and its steps still running or waiting are marked FAILED.
 */
export async function executionEnded(options: ServerDurableControlOptions, workflowId: string, outcome: LocalExecutionOutcome): Promise<void> {
  if (outcome.status === 'SUCCEEDED') return;
  const message = `the durable execution ended ${outcome.status}: ${describeError(outcome.error)}`;
  const error = { code: 'EXECUTION_FAILED', message };
  const changed = await options.store.updateWorkflow(workflowId, { status: 'FAILED', awaiting: null, error }, ['PENDING', 'RUNNING']);
  if (!changed) return;
  // No step stays RUNNING or WAITING on a workflow that ended.
  const endedAt = new Date().toISOString();
  for (const step of (await options.store.getWorkflow(workflowId))?.steps ?? []) {
    if (step.status === 'RUNNING' || step.status === 'WAITING') await options.store.putStep(workflowId, { ...step, status: 'FAILED', endedAt, error });
  }
  options.note(workflowId, `workflow ${workflowId} FAILED: ${message}`);
}

/** The message of an execution's error (an Error, a Lambda-style `{ errorMessage }`, or anything else). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error !== null && typeof error === 'object') {
    const e: { readonly errorMessage?: unknown; readonly message?: unknown } = error;
    return String(e.errorMessage ?? e.message ?? JSON.stringify(error));
  }
  return String(error);
}
