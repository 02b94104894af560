/**
 * The local server's data folder across restarts: one server per folder (a lock file with its
 * pid), and the workflows an earlier server left running without a durable execution to continue
 * them marked FAILED.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CliError } from './errors';
import type { WorkflowStatus } from '../contract/status';
import type { WorkflowStore } from '../runtime/ports';

/** Name of the lock file in the data folder. */
export const LOCK_FILE = 'server.lock';

/**
 * Locks the data folder for this process (the state store is one process's) and returns the
 * unlock function. A lock whose process is gone is taken over (a line on `log` names it); a
 * lock held by a live process is refused with a `CliError`.
 */
export function lockDataDir(dataDir: string, log?: (line: string) => void): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lock = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(lock, 'utf8') === String(process.pid)) fs.rmSync(lock, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw new CliError(`cannot use data folder ${dataDir}: ${e instanceof Error ? e.message : String(e)}`);
      const pid = Number(fs.readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new CliError(`data folder ${dataDir} is used by another local server (pid ${pid}${pid === process.pid ? ', this process' : ''}): `
          + `stop it, or give another folder with --data-dir <dir> (if no local server runs, remove ${lock})`);
      }
      // Left behind by a server that did not stop cleanly.
      log?.(`note: data folder ${dataDir} was locked by a local server that is gone (pid ${Number.isInteger(pid) && pid > 0 ? pid : 'unknown'}); taking it over`);
      fs.rmSync(lock, { force: true });
    }
  }
  throw new CliError(`cannot lock data folder ${dataDir}: remove ${lock} if no local server runs`);
}

/** Whether process `pid` exists (one of another user's exists too: signalling it is refused with EPERM). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
}

function errorCode(e: unknown): unknown {
  return e !== null && typeof e === 'object' && 'code' in e ? e.code : undefined;
}

/**
 * Workflows an earlier server left running that have no durable execution to continue them
 * (every one not in `continuing`: e.g. a folder of a server that kept its executions in memory)
 * cannot go on: they are marked FAILED, with a message that says why, their steps still running
 * or waiting marked FAILED, and their pending callbacks completed. Returns their ids (a line on
 * `log` says how many there were).
 */
export async function markOrphans(store: WorkflowStore, log: (line: string) => void, continuing: ReadonlySet<string> = new Set()): Promise<string[]> {
  const orphans: string[] = [];
  const unfinished: readonly WorkflowStatus[] = ['PENDING', 'RUNNING'];
  for (const status of unfinished) {
    let nextToken: string | undefined;
    do {
      const page = await store.listWorkflows({ status, limit: 100, nextToken });
      orphans.push(...page.items.map((w) => w.workflowId).filter((id) => !continuing.has(id)));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  const error = {
    code: 'LOCAL_SERVER_STOPPED',
    message: 'the local server stopped while this workflow ran, and its durable execution was not found in the data folder: start the workflow again',
  };
  for (const id of orphans) {
    await store.updateWorkflow(id, { status: 'FAILED', awaiting: null, error }, unfinished);
    // No step stays RUNNING or WAITING on a workflow that ended.
    const endedAt = new Date().toISOString();
    for (const step of (await store.getWorkflow(id))?.steps ?? []) {
      if (step.status === 'RUNNING' || step.status === 'WAITING') await store.putStep(id, { ...step, status: 'FAILED', endedAt, error });
    }
    for (const cb of await store.pendingCallbacks(id)) await store.completeCallback(cb.callbackId, 'FAILED');
  }
  if (orphans.length > 0) {
    log(`note: ${orphans.length} workflow${orphans.length > 1 ? 's' : ''} left unfinished by an earlier server `
      + `${orphans.length > 1 ? 'were' : 'was'} marked FAILED (no durable execution of ${orphans.length > 1 ? 'them' : 'it'} in this folder to continue)`);
  }
  return orphans;
}
