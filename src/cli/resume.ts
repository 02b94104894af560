/**
 * Agent tasks across a restart of the local server: every task handed to an agent is journaled
 * (`<dataDir>/dispatches/dispatched.jsonl`, the envelope and the process that took it) before it
 * is dispatched. A server started on the folder again dispatches once more each task whose
 * workflow still waits for its report, with the same envelope (same callback id and token; the
 * callback URLs point at this server), as the agent contract allows: a report made twice is
 * refused the second time and changes nothing. A process of the earlier server that still works
 * on such a task is stopped first.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EVENT_TYPES, TaskEnvelope } from '../contract/status';
import { ExecutionJournal, JournalRecord } from '../runtime/durable/execution-journal';
import type { AgentDispatcher, WorkflowEvent } from '../runtime/ports';

/** The journal's one file. */
const NAME = 'dispatched';
/** Entries dropped (their workflow ended) after which the file is rewritten with the live ones. */
const COMPACT_AFTER = 200;
const ENDED_EVENTS: readonly string[] = [EVENT_TYPES.workflowCompleted, EVENT_TYPES.workflowFailed, EVENT_TYPES.workflowCancelled];

interface Dispatched {
  readonly agent: string;
  readonly envelope: TaskEnvelope;
  /** The dispatcher's handle (a process id for process agents). */
  handle?: string;
}

export interface ResumableDispatcherOptions {
  /** The data folder (the journal is in its `dispatches` folder). */
  readonly dataDir: string;
  /** Whether the workflow still waits for the report of this task (its callback is pending). */
  readonly stillWaiting: (envelope: TaskEnvelope) => Promise<boolean>;
  /** This server's URL: the callback URLs of a task dispatched again point here. */
  readonly url: string;
  /** Receives console lines. */
  readonly log: (line: string) => void;
  /**
   * Cancels the task of a callback that another dispatch of the same attempt replaced (the
   * dispatch step ran again after a restart, with a new callback, while the journaled task was
   * dispatched again too): one agent works on an attempt, not two.
   * @default - nothing is cancelled
   */
  readonly cancel?: (callbackId: string, why: string) => void;
}

/** One key per attempt of a step of a workflow: two tasks with the same key do the same work. */
function attemptKey(envelope: TaskEnvelope): string {
  return JSON.stringify([envelope.workflow_id, envelope.step_name, envelope.attempt]);
}

/** An AgentDispatcher that journals what it dispatches, so that a restart can dispatch it again. */
export class ResumableDispatcher implements AgentDispatcher {
  private readonly journal: ExecutionJournal;
  /** Tasks dispatched whose workflow has not ended, by callback id. */
  private readonly live = new Map<string, Dispatched>();
  private dropped = 0;

  constructor(private readonly inner: AgentDispatcher, private readonly options: ResumableDispatcherOptions) {
    this.journal = new ExecutionJournal(path.join(options.dataDir, 'dispatches'));
  }

  async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    this.supersede(envelope);
    const entry: Dispatched = { agent, envelope };
    this.live.set(envelope.callback.id, entry);
    // On disk before the agent starts: a task the agent may be working on is never forgotten.
    await this.journal.append(NAME, [{ t: 'dispatch', agent, envelope }]);
    const result = await this.inner.dispatch(agent, envelope);
    entry.handle = result.handle;
    void this.journal.append(NAME, [{ t: 'handle', id: envelope.callback.id, handle: result.handle }]).catch(() => undefined);
    return result;
  }

  /** Sees every runtime event: the tasks of a workflow that ended are forgotten. */
  onEvent(event: WorkflowEvent): void {
    if (!ENDED_EVENTS.includes(event.type)) return;
    for (const [id, entry] of this.live) {
      if (entry.envelope.workflow_id !== event.workflowId) continue;
      this.live.delete(id);
      this.dropped++;
    }
    if (this.dropped >= COMPACT_AFTER && this.dropped >= this.live.size) void this.compact();
  }

  /**
   * Dispatches again every journaled task whose workflow still waits for its report (call once,
   * when the server is ready for reports). A process of an earlier server still working on one is
   * stopped first. Returns how many tasks were dispatched again.
   */
  async redispatch(): Promise<number> {
    const records = this.journal.loadAll().find((l) => l.name === NAME)?.records ?? [];
    const journaled = new Map<string, Dispatched>();
    for (const r of records) {
      if (r.t === 'dispatch') {
        const envelope = r.envelope as TaskEnvelope;
        journaled.set(envelope.callback.id, { agent: String(r.agent), envelope });
      } else if (r.t === 'handle') {
        const entry = journaled.get(String(r.id));
        if (entry) entry.handle = String(r.handle);
      }
    }
    let count = 0;
    for (const [id, entry] of journaled) {
      if (this.live.has(id) || this.sameAttemptLive(entry.envelope) || !(await this.options.stillWaiting(entry.envelope))) continue;
      if (entry.handle !== undefined) stopStale(Number(entry.handle), id);
      const envelope = this.pointedHere(entry.envelope);
      this.live.set(id, { agent: entry.agent, envelope });
      await this.journal.append(NAME, [{ t: 'dispatch', agent: entry.agent, envelope }]);
      try {
        const result = await this.inner.dispatch(entry.agent, envelope);
        this.live.get(id)!.handle = result.handle;
        void this.journal.append(NAME, [{ t: 'handle', id, handle: result.handle }]).catch(() => undefined);
        count++;
        this.options.log(`note: step ${envelope.step_name} of workflow ${envelope.workflow_id}: its agent task (attempt ${envelope.attempt}) was dispatched again after the restart`);
      } catch (e) {
        this.options.log(`warning: could not dispatch again the task of step ${envelope.step_name} of workflow ${envelope.workflow_id}: ${e instanceof Error ? e.message : String(e)}`
          + ' (the step times out and is retried as its definition says)');
      }
    }
    // Only a journal an earlier server left is rewritten: a fresh folder gets no file before the first task.
    if (journaled.size > 0) await this.compact();
    return count;
  }

  /** Whether a task of the same attempt (another callback) is live: the step ran again and dispatched it. */
  private sameAttemptLive(envelope: TaskEnvelope): boolean {
    const key = attemptKey(envelope);
    for (const [id, entry] of this.live) if (id !== envelope.callback.id && attemptKey(entry.envelope) === key) return true;
    return false;
  }

  /** Forgets, and has cancelled, a live task of the same attempt as `envelope` under another callback. */
  private supersede(envelope: TaskEnvelope): void {
    const key = attemptKey(envelope);
    for (const [id, entry] of this.live) {
      if (id === envelope.callback.id || attemptKey(entry.envelope) !== key) continue;
      this.live.delete(id);
      this.dropped++;
      this.options.cancel?.(id, `attempt ${envelope.attempt} of step ${envelope.step_name} was dispatched again with a new callback (its dispatch step ran again after a restart)`);
    }
  }

  /** Writes what is pending and closes the journal. */
  async close(): Promise<void> {
    await this.journal.close();
  }

  /** Rewrites the journal with the tasks still live. */
  private compact(): Promise<void> {
    this.dropped = 0;
    const records: JournalRecord[] = [];
    for (const [id, entry] of this.live) {
      records.push({ t: 'dispatch', agent: entry.agent, envelope: entry.envelope });
      if (entry.handle !== undefined) records.push({ t: 'handle', id, handle: entry.handle });
    }
    return this.journal.compact(NAME, records).catch((e) => this.options.log(`warning: could not compact ${this.journal.dir}: ${String(e)}`));
  }

  /** The envelope with its callback URLs on this server (the port may have changed). */
  private pointedHere(envelope: TaskEnvelope): TaskEnvelope {
    const here = new URL(this.options.url);
    const move = (u: string) => {
      try {
        const url = new URL(u);
        url.protocol = here.protocol;
        url.host = here.host;
        return url.toString();
      } catch {
        return u;
      }
    };
    const callback = { ...envelope.callback, url: move(envelope.callback.url), heartbeat_url: move(envelope.callback.heartbeat_url) };
    return { ...envelope, callback };
  }
}

/**
 * Stops a process of an earlier server that still works on the task `callbackId`: only when it
 * is provably that process (its environment names the task's callback id; Linux `/proc`), never
 * another that was given the same pid since.
 */
function stopStale(pid: number, callbackId: string): void {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
  let environ: string;
  try {
    environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return; // gone, or no /proc to prove it is the agent
  }
  if (!environ.includes(callbackId)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}
