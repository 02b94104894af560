import { createHash } from 'crypto';
import { mkdirSync, promises as fsp, readdirSync, readFileSync, rmSync } from 'fs';
import * as path from 'path';
import type { UsageReport } from '../../../contract/budget';
import type { WorkflowStatus } from '../../../contract/status';
import {
  CallbackRecord,
  DecisionRecord,
  InvalidPageTokenError,
  KillSwitchState,
  ListOptions,
  Page,
  StepRecord,
  WorkflowPatch,
  WorkflowRecord,
  WorkflowStore,
} from '../../ports';
import { checkId, checkListLimit, checkOutcome, decodePageToken, encodePageToken, jsonCopy } from '../../validation';

export interface LocalWorkflowStoreOptions {
  /**
   * Folder that keeps the workflows across restarts: one JSON file per workflow (its record
   * and its callbacks), written atomically on every change and read back on construction.
   * @default - in memory only
   */
  readonly dir?: string;
}

/** What one workflow's file holds. */
interface WorkflowFile {
  readonly version: 1;
  readonly workflow: WorkflowRecord;
  readonly callbacks: CallbackRecord[];
  /** Audit records of decisions (absent in files written before there were any). */
  readonly decisions?: DecisionRecord[];
  /** Approval links used: link id -> when. */
  readonly usedLinks?: Record<string, string>;
}

/** A workflow and its callbacks, as kept in memory. */
interface Entry {
  workflow: WorkflowRecord;
  readonly callbacks: Map<string, CallbackRecord>;
  /** callback id -> decision */
  readonly decisions: Map<string, DecisionRecord>;
  /** link id -> when it was used */
  readonly usedLinks: Map<string, string>;
}

/** Position in a listing: the last item of the previous page, and the filter it belongs to. */
interface Cursor {
  readonly v: 1;
  readonly s: WorkflowStatus | null;
  readonly u: string;
  readonly id: string;
}

/**
 * WorkflowStore for local runs: in memory, optionally mirrored to a folder.
 *
 * Every operation checks and changes memory synchronously before it awaits anything, so
 * concurrent callers in the process see one order of changes (exactly one `completeCallback`
 * wins). A write to disk carries the whole current state of the workflow, and writes of one
 * file are queued, so the file always ends with the newest state. One process per folder.
 */
export class LocalWorkflowStore implements WorkflowStore {
  private readonly entries = new Map<string, Entry>();
  /** idempotency key -> workflow id */
  private readonly byKey = new Map<string, string>();
  /** callback id -> workflow id */
  private readonly callbackOwner = new Map<string, string>();
  private readonly dir?: string;
  /** file -> its write under way (or the last one), and the write queued after it, not started yet */
  private readonly writes = new Map<string, { current: Promise<void>; next?: Promise<void> }>();
  private tempCounter = 0;
  private killSwitch?: KillSwitchState;

  constructor(options: LocalWorkflowStoreOptions = {}) {
    if (options.dir !== undefined) {
      if (!options.dir) throw new Error('LocalWorkflowStore: dir must be a folder path, got an empty string');
      this.dir = path.resolve(options.dir);
      mkdirSync(this.dir, { recursive: true });
      this.load(this.dir);
      this.killSwitch = readKillSwitch(path.join(this.dir, KILL_SWITCH_FILE));
    }
  }

  public async createWorkflow(record: WorkflowRecord): Promise<{ created: boolean; workflow: WorkflowRecord }> {
    checkId('workflowId', record.workflowId);
    const existing = this.entries.get(record.workflowId);
    if (existing) return { created: false, workflow: jsonCopy(existing.workflow) };
    if (record.idempotencyKey !== undefined) {
      const ownerId = this.byKey.get(record.idempotencyKey);
      const owner = ownerId === undefined ? undefined : this.entries.get(ownerId);
      if (owner) return { created: false, workflow: jsonCopy(owner.workflow) };
    }
    const workflow = jsonCopy(record);
    this.entries.set(workflow.workflowId, { workflow, callbacks: new Map(), decisions: new Map(), usedLinks: new Map() });
    if (workflow.idempotencyKey !== undefined) this.byKey.set(workflow.idempotencyKey, workflow.workflowId);
    await this.persist(workflow.workflowId);
    return { created: true, workflow: jsonCopy(workflow) };
  }

  public async getWorkflow(workflowId: string): Promise<WorkflowRecord | undefined> {
    const entry = this.entries.get(workflowId);
    return entry ? jsonCopy(entry.workflow) : undefined;
  }

  public async listWorkflows(options: ListOptions): Promise<Page<WorkflowRecord>> {
    checkListLimit(options.limit);
    const status = options.status ?? null;
    const after = options.nextToken === undefined ? undefined : decodeCursor(options.nextToken, status);
    const all = [...this.entries.values()]
      .map((e) => e.workflow)
      .filter((w) => status === null || w.status === status)
      .sort(newestFirst);
    const start = after ? all.findIndex((w) => newestFirst(w, { updatedAt: after.u, workflowId: after.id }) > 0) : 0;
    if (start < 0) return { items: [] };
    const items = all.slice(start, start + options.limit);
    const last = items[items.length - 1];
    const more = start + items.length < all.length;
    const cursor: Cursor | undefined = more && last ? { v: 1, s: status, u: last.updatedAt, id: last.workflowId } : undefined;
    return { items: items.map((w) => jsonCopy(w)), nextToken: cursor ? encodePageToken({ ...cursor }) : undefined };
  }

  public async updateWorkflow(workflowId: string, patch: WorkflowPatch, onlyIfStatusIn?: readonly WorkflowStatus[]): Promise<boolean> {
    const entry = this.entries.get(workflowId);
    if (!entry) return false;
    if (onlyIfStatusIn && !onlyIfStatusIn.includes(entry.workflow.status)) return false;
    const next: Record<string, unknown> = { ...entry.workflow };
    if (patch.status !== undefined) next.status = patch.status;
    if (patch.awaiting !== undefined) next.awaiting = patch.awaiting;
    if (patch.cancelRequested !== undefined) next.cancelRequested = patch.cancelRequested;
    if (patch.stopReason !== undefined) next.stopReason = jsonCopy(patch.stopReason);
    for (const field of ['result', 'error'] as const) {
      const value = patch[field];
      if (value === null) delete next[field];
      else if (value !== undefined) next[field] = jsonCopy(value);
    }
    next.updatedAt = new Date().toISOString();
    entry.workflow = next as unknown as WorkflowRecord;
    await this.persist(workflowId);
    return true;
  }

  public async putStep(workflowId: string, step: StepRecord): Promise<void> {
    checkId('step name', step.name);
    const entry = this.entries.get(workflowId);
    if (!entry) throw new Error(`cannot put step '${step.name}': workflow '${workflowId}' not found`);
    const copy = jsonCopy(step);
    const steps = [...entry.workflow.steps];
    const at = steps.findIndex((s) => s.name === step.name);
    if (at >= 0) steps[at] = copy;
    else steps.push(copy);
    entry.workflow = { ...entry.workflow, steps, updatedAt: new Date().toISOString() };
    await this.persist(workflowId);
  }

  public async putCallback(callback: CallbackRecord): Promise<void> {
    checkId('callbackId', callback.callbackId);
    const entry = this.entries.get(callback.workflowId);
    if (!entry) {
      throw new Error(`cannot put callback '${callback.callbackId}': workflow '${callback.workflowId}' not found`);
    }
    const previousOwner = this.callbackOwner.get(callback.callbackId);
    if (previousOwner !== undefined && previousOwner !== callback.workflowId) {
      this.entries.get(previousOwner)?.callbacks.delete(callback.callbackId);
      void this.persist(previousOwner).catch(() => undefined);
    }
    entry.callbacks.set(callback.callbackId, jsonCopy(callback));
    this.callbackOwner.set(callback.callbackId, callback.workflowId);
    await this.persist(callback.workflowId);
  }

  public async getCallback(callbackId: string): Promise<CallbackRecord | undefined> {
    const callback = this.findCallback(callbackId);
    return callback ? jsonCopy(callback) : undefined;
  }

  public async pendingCallbacks(workflowId: string): Promise<CallbackRecord[]> {
    const entry = this.entries.get(workflowId);
    if (!entry) return [];
    return [...entry.callbacks.values()]
      .filter((c) => c.state === 'PENDING')
      .sort((a, b) => compare(a.createdAt, b.createdAt) || compare(a.callbackId, b.callbackId))
      .map((c) => jsonCopy(c));
  }

  public async completeCallback(callbackId: string, outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'): Promise<boolean> {
    checkOutcome(outcome);
    const callback = this.findCallback(callbackId);
    if (!callback || callback.state !== 'PENDING') return false;
    // Checked and changed before the first await: the first caller wins, the others see COMPLETED.
    this.entries.get(callback.workflowId)?.callbacks.set(callbackId, { ...callback, state: 'COMPLETED', outcome });
    await this.persist(callback.workflowId);
    return true;
  }

  public async putDecision(decision: DecisionRecord): Promise<boolean> {
    checkId('decision callbackId', decision.callbackId);
    const entry = this.entries.get(decision.workflowId);
    if (!entry) throw new Error(`cannot put the decision on callback '${decision.callbackId}': workflow '${decision.workflowId}' not found`);
    // Checked and changed before the first await: the first writer wins.
    if (entry.decisions.has(decision.callbackId)) return false;
    entry.decisions.set(decision.callbackId, jsonCopy(decision));
    await this.persist(decision.workflowId);
    return true;
  }

  public async listDecisions(workflowId: string): Promise<DecisionRecord[]> {
    const entry = this.entries.get(workflowId);
    if (!entry) return [];
    return [...entry.decisions.values()]
      .sort((a, b) => compare(a.decidedAt, b.decidedAt) || compare(a.callbackId, b.callbackId))
      .map((d) => jsonCopy(d));
  }

  public async claimLink(workflowId: string, linkId: string): Promise<boolean> {
    checkId('linkId', linkId);
    const entry = this.entries.get(workflowId);
    if (!entry) throw new Error(`cannot claim approval link '${linkId}': workflow '${workflowId}' not found`);
    if (entry.usedLinks.has(linkId)) return false;
    entry.usedLinks.set(linkId, new Date().toISOString());
    await this.persist(workflowId);
    return true;
  }

  public async recordUsage(workflowId: string, key: string, usage: UsageReport): Promise<WorkflowRecord | undefined> {
    const entry = this.entries.get(workflowId);
    if (!entry) return undefined;
    entry.workflow = { ...entry.workflow, usage: { ...entry.workflow.usage, [key]: jsonCopy(usage) } };
    const after = jsonCopy(entry.workflow);
    await this.persist(workflowId);
    return after;
  }

  public async getKillSwitch(): Promise<KillSwitchState | undefined> {
    return this.killSwitch ? jsonCopy(this.killSwitch) : undefined;
  }

  public async putKillSwitch(state: KillSwitchState): Promise<void> {
    this.killSwitch = jsonCopy(state);
    const dir = this.dir;
    if (dir === undefined) return;
    // The switch as it is when the write runs (a later change is never overwritten by an earlier one).
    const file = path.join(dir, KILL_SWITCH_FILE);
    return this.queueWrite(file, () => this.atomicWrite(dir, file, this.killSwitch));
  }

  /**
   * Resolves once every queued write to disk has finished, including writes queued while it
   * waits (a change made during shutdown lands too). Call it before the process exits.
   */
  public async flush(): Promise<void> {
    while (this.writes.size > 0) {
      await Promise.all([...this.writes.values()].map((w) => (w.next ?? w.current).catch(() => undefined)));
    }
  }

  private findCallback(callbackId: string): CallbackRecord | undefined {
    const owner = this.callbackOwner.get(callbackId);
    return owner === undefined ? undefined : this.entries.get(owner)?.callbacks.get(callbackId);
  }

  private load(dir: string): void {
    for (const name of readdirSync(dir).sort()) {
      // A temporary file of a write that was interrupted (the process was killed between writing
      // it and renaming it over the workflow's file): the file it was for holds the state before
      // it. One process per folder, so no write of another process is under way: remove it.
      if (TEMP_FILE.test(name)) {
        rmSync(path.join(dir, name), { force: true });
        continue;
      }
      if (name.startsWith('.') || !name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      let data: WorkflowFile;
      try {
        data = JSON.parse(readFileSync(file, 'utf8')) as WorkflowFile;
      } catch (e) {
        throw new Error(`LocalWorkflowStore: cannot read workflow file '${file}': ${(e as Error).message}; fix or remove it`);
      }
      if (data?.version !== 1 || typeof data.workflow?.workflowId !== 'string' || !Array.isArray(data.callbacks)) {
        throw new Error(`LocalWorkflowStore: '${file}' is not a workflow file (version 1 with workflow and callbacks); fix or remove it`);
      }
      const workflowId = data.workflow.workflowId;
      const entry: Entry = {
        workflow: data.workflow,
        callbacks: new Map(),
        decisions: new Map((data.decisions ?? []).map((d) => [d.callbackId, d])),
        usedLinks: new Map(Object.entries(data.usedLinks ?? {})),
      };
      for (const callback of data.callbacks) {
        entry.callbacks.set(callback.callbackId, callback);
        this.callbackOwner.set(callback.callbackId, workflowId);
      }
      this.entries.set(workflowId, entry);
      if (data.workflow.idempotencyKey !== undefined) this.byKey.set(data.workflow.idempotencyKey, workflowId);
    }
  }

  /** Queues a write of the workflow's current state (see `queueWrite`); resolves when it is on disk. */
  private persist(workflowId: string): Promise<void> {
    const dir = this.dir;
    if (dir === undefined) return Promise.resolve();
    const file = path.join(dir, fileNameOf(workflowId));
    return this.queueWrite(file, () => this.writeFile(dir, file, workflowId));
  }

  /**
   * Queues `writeNow` for `file` after the writes of it already under way. Writes are coalesced:
   * while one write of the file is under way, every change made meanwhile waits for one next
   * write, which takes the state as it is when it starts (a burst of N changes costs two writes,
   * not N). `writeNow` must write the state as it is when it runs.
   */
  private queueWrite(file: string, writeNow: () => Promise<void>): Promise<void> {
    const queued = this.writes.get(file);
    if (queued?.next) return queued.next;
    const state = queued ?? { current: Promise.resolve() };
    const write = state.current.catch(() => undefined).then(() => {
      // From here on, a change needs a write after this one: it may have missed this one's state.
      if (state.next === write) state.next = undefined;
      return writeNow();
    });
    state.current = write;
    state.next = write;
    this.writes.set(file, state);
    const forget = () => {
      if (this.writes.get(file) === state && state.current === write) this.writes.delete(file);
    };
    write.then(forget, forget);
    return write;
  }

  /** Writes `data` as JSON to a temporary file in `dir`, then renames it over `file` (never a torn file). */
  private async atomicWrite(dir: string, file: string, data: unknown): Promise<void> {
    const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++this.tempCounter}.tmp`);
    try {
      await fsp.writeFile(temp, JSON.stringify(data, null, 2) + '\n', 'utf8');
      await fsp.rename(temp, file);
    } catch (e) {
      await fsp.rm(temp, { force: true });
      throw e;
    }
  }

  private async writeFile(dir: string, file: string, workflowId: string): Promise<void> {
    const entry = this.entries.get(workflowId);
    if (!entry) return;
    // The state at the time of writing, not of queueing: a later change is never overwritten by an earlier one.
    const data: WorkflowFile = {
      version: 1,
      workflow: entry.workflow,
      callbacks: [...entry.callbacks.values()],
      ...(entry.decisions.size > 0 ? { decisions: [...entry.decisions.values()] } : {}),
      ...(entry.usedLinks.size > 0 ? { usedLinks: Object.fromEntries(entry.usedLinks) } : {}),
    };
    await this.atomicWrite(dir, file, data);
  }
}

/** The kill switch's file in the store's folder (a dot file: never read as a workflow). */
const KILL_SWITCH_FILE = '.kill-switch.json';

function readKillSwitch(file: string): KillSwitchState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const value = JSON.parse(text) as KillSwitchState;
  if (typeof value?.engaged !== 'boolean' || typeof value.changedBy !== 'string' || typeof value.changedAt !== 'string') {
    throw new Error(`LocalWorkflowStore: '${file}' is not a kill switch file (engaged, changedBy, changedAt); fix or remove it`);
  }
  return value;
}

/** Name of a temporary file of a write: `.<workflow file>.<pid>.<counter>.tmp` (see `atomicWrite`). */
const TEMP_FILE = /^\..+\.json\.\d+\.\d+\.tmp$/;

/** Order of a listing: newest `updatedAt` first, then workflow id (descending) among equals. */
function newestFirst(a: Pick<WorkflowRecord, 'updatedAt' | 'workflowId'>, b: Pick<WorkflowRecord, 'updatedAt' | 'workflowId'>): number {
  return compare(b.updatedAt, a.updatedAt) || compare(b.workflowId, a.workflowId);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function decodeCursor(token: string, status: WorkflowStatus | null): Cursor {
  const c = decodePageToken(token);
  const valid = Object.keys(c).length === 4 && c.v === 1 && c.s === status && typeof c.u === 'string' && typeof c.id === 'string';
  if (!valid) throw new InvalidPageTokenError();
  return c as unknown as Cursor;
}

/**
 * File name of a workflow: a readable part of its id plus a hash of the exact id, so that ids
 * differing only in case or in characters a file name cannot hold get their own files.
 */
function fileNameOf(workflowId: string): string {
  const readable = workflowId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(workflowId, 'utf8').digest('hex').slice(0, 16);
  return `${readable}.${hash}.json`;
}
