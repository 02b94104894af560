/**
 * Approvals of workflows resumed after a restart of the local server. The earlier server
 * published their `approval_requested` event, so the console's approval lines and the approvals
 * answered here (`--approve auto` or `prompt`) never see it again: this module finds, for each
 * resumed workflow awaiting an approval, the event the earlier server wrote to the event log, and
 * hands a copy of it, with links issued again for its callback, to those in-process sinks. It is
 * not published again: the event log, the page and the event streams keep one event per request
 * (an event's id is its line in the log).
 */
import * as fs from 'fs';
import * as readline from 'readline';
import { EVENT_TYPES } from '../contract/status';
import type { ApprovalLinkIssuer } from '../runtime/approval-links';
import type { CallbackRecord, WorkflowEvent, WorkflowStore } from '../runtime/ports';

/**
 * The length in bytes of the event log now (0 when there is none): read it before the durable
 * engine resumes anything, so that what lies before it was written by earlier servers only.
 */
export function eventLogEnd(eventLogFile: string): number {
  try {
    return fs.statSync(eventLogFile).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

export interface ResumedApprovalsOptions {
  readonly store: Pick<WorkflowStore, 'getWorkflow' | 'pendingCallbacks'>;
  /** The event log (one JSON event per line). */
  readonly eventLogFile: string;
  /** Bytes of the log written before this server resumed anything (`eventLogEnd`). */
  readonly logEnd: number;
  /** Issues the links again. @default - the copy has no links (those of the earlier event may have expired) */
  readonly links?: ApprovalLinkIssuer;
  /** Receive the copies (the console's progress lines, the approvals answered here); never the event publisher. */
  readonly sinks: ReadonlyArray<(event: WorkflowEvent) => void>;
  /** Receives a warning line (links that could not be issued). */
  readonly log: (line: string) => void;
}

/**
 * Hands the sinks a copy of the approval request of every workflow among `resumed` that awaits
 * an approval and whose request the earlier server announced (one whose announcement had not
 * happened yet is announced by its step, run again on resume, as usual). Returns the workflow ids
 * handed on.
 */
export async function reannounceApprovals(resumed: readonly string[], options: ResumedApprovalsOptions): Promise<string[]> {
  const waiting: CallbackRecord[] = [];
  for (const id of resumed) {
    const wf = await options.store.getWorkflow(id);
    if (wf?.status !== 'RUNNING' || wf.awaiting !== 'approval') continue;
    waiting.push(...(await options.store.pendingCallbacks(id)).filter((cb) => cb.kind === 'approval'));
  }
  if (waiting.length === 0 || options.logEnd === 0) return [];
  const earlier = await approvalRequests(options.eventLogFile, options.logEnd, new Set(waiting.map((cb) => cb.workflowId)));
  const handed: string[] = [];
  for (const cb of waiting) {
    const event = earlier.get(key(cb.workflowId, cb.stepName));
    // Only the request of this callback (an earlier one of the same step has an earlier time).
    if (!event || Date.parse(event.time) < Date.parse(cb.createdAt)) continue;
    const detail: Record<string, unknown> = { ...event.detail, deadline: cb.deadline };
    delete detail.links;
    if (options.links) {
      try {
        const links = await options.links.issue(cb.workflowId, cb.callbackId, cb.deadline);
        detail.links = { approve: links.approve, reject: links.reject, expires_at: links.expiresAt };
      } catch (e) {
        options.log(`warning: cannot issue approval links again for workflow ${cb.workflowId}: ${(e as Error).message}`);
      }
    }
    const copy: WorkflowEvent = { ...event, detail };
    for (const sink of options.sinks) sink(copy);
    if (!handed.includes(cb.workflowId)) handed.push(cb.workflowId);
  }
  return handed;
}

function key(workflowId: string, stepName: string | undefined): string {
  return `${workflowId}\n${stepName ?? ''}`;
}

/** The last `approval_requested` event of each step of `workflowIds` in the first `end` bytes of the log. */
async function approvalRequests(file: string, end: number, workflowIds: ReadonlySet<string>): Promise<Map<string, WorkflowEvent>> {
  const found = new Map<string, WorkflowEvent>();
  const marker = JSON.stringify(EVENT_TYPES.approvalRequested);
  const lines = readline.createInterface({ input: fs.createReadStream(file, { start: 0, end: end - 1 }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes(marker)) continue;
    let event: WorkflowEvent;
    try {
      event = JSON.parse(line) as WorkflowEvent;
    } catch {
      continue; // a torn line (a write cut short)
    }
    if (event.type !== EVENT_TYPES.approvalRequested || !workflowIds.has(event.workflowId)) continue;
    found.set(key(event.workflowId, event.stepName), { ...event, detail: event.detail ?? {} });
  }
  return found;
}
