/**
 * What a person sees on the console while workflows run: each workflow's steps as they start
 * and finish, approvals with the exact commands that answer them, and where the report is.
 */
import * as path from 'path';
import { approvalRequestLines } from './approval-links';
import { allSteps, WorkflowDefinitionDocument } from '../contract/definition';
import { EVENT_TYPES } from '../contract/status';
import type { WorkflowEvent } from '../runtime/ports';

/** The port `dev` listens on unless told otherwise (and `approve` talks to). */
export const DEFAULT_PORT = 8765;
/** How a person runs this command line. */
export const CLI_NAME = 'npx cdk-durable-agents';

export interface ProgressOptions {
  /** Receives each line (without a line break). */
  readonly write: (line: string) => void;
  readonly definition: WorkflowDefinitionDocument;
  /** The server's base URL, e.g. `http://127.0.0.1:8765`. */
  readonly url: string;
  readonly port: number;
  /** Folder of the artifact store (published reports are files under it). */
  readonly artifactsDir: string;
  /** Whether approvals are answered here (`auto` or `prompt`), so no commands are shown. */
  readonly approvalsAnsweredHere?: 'auto' | 'prompt';
}

/** Turns runtime events into console lines. Never throws (it runs inside durable steps). */
export class ProgressReporter {
  private readonly agentOf = new Map<string, string>();
  private readonly stepStarted = new Map<string, number>();
  private readonly workflowStarted = new Map<string, number>();

  constructor(private readonly options: ProgressOptions) {
    for (const step of allSteps(options.definition.steps)) if (step.type === 'agent') this.agentOf.set(step.name, step.agent);
  }

  /** The event sink of the local event publisher. */
  public onEvent(event: WorkflowEvent): void {
    try {
      this.show(event);
    } catch {
      // Console output must never fail a workflow.
    }
  }

  /** A line about a workflow (e.g. an agent process that ended without reporting). */
  public note(workflowId: string, text: string): void {
    try {
      this.line(workflowId, text);
    } catch {
      // as above
    }
  }

  /** The commands that approve or reject a workflow, one per line. */
  public approvalCommands(workflowId: string): string[] {
    const { url, port } = this.options;
    const portOption = port === DEFAULT_PORT ? '' : ` --port ${port}`;
    const endpoint = `${url}/workflows/${workflowId}/approval`;
    return [
      `approve: curl -s -X POST ${endpoint} -H 'content-type: application/json' -d '{"approved": true}'`,
      `reject:  curl -s -X POST ${endpoint} -H 'content-type: application/json' -d '{"approved": false, "comment": "why"}'`,
      `     or: ${CLI_NAME} approve ${workflowId}${portOption}   (add --reject [--comment "why"] to reject)`,
    ];
  }

  /** The file of a published report, from a workflow's `result`. */
  public reportFile(result: unknown): string | undefined {
    const key = (result as { report?: unknown } | undefined)?.report;
    return typeof key === 'string' ? path.join(this.options.artifactsDir, ...key.split('/')) : undefined;
  }

  private show(event: WorkflowEvent): void {
    const id = event.workflowId;
    const step = event.stepName ?? '';
    const d = event.detail ?? {};
    const now = Date.parse(event.time) || Date.now();
    switch (event.type) {
      case EVENT_TYPES.workflowStarted:
        this.workflowStarted.set(id, now);
        this.line(id, `workflow ${id} started (${String(d.definition ?? this.options.definition.name)})`);
        break;
      case EVENT_TYPES.stepStarted: {
        this.stepStarted.set(`${id}/${step}`, now);
        const agent = this.agentOf.get(step);
        const type = typeof d.step_type === 'string' && d.step_type !== step ? ` (${d.step_type} step)` : '';
        this.line(id, `${step}: started${agent ? ` (agent ${agent})` : type}`);
        break;
      }
      case EVENT_TYPES.stepCompleted: {
        const began = this.stepStarted.get(`${id}/${step}`);
        this.stepStarted.delete(`${id}/${step}`);
        const took = began !== undefined ? ` in ${seconds(now - began)}` : '';
        const output = (d.output ?? {}) as { artifacts?: Record<string, unknown>; outcome?: unknown; comment?: unknown };
        const status = d.step_type === 'approval' && typeof output.outcome === 'string' && d.status !== 'TIMED_OUT'
          ? output.outcome.replace(/_/g, ' ')
          : String(d.status ?? 'done').toLowerCase().replace(/_/g, ' ');
        const artifacts = output.artifacts && Object.keys(output.artifacts).length ? ` (artifacts: ${Object.keys(output.artifacts).join(', ')})` : '';
        const error = d.error as { message?: unknown } | undefined;
        const why = error?.message ? `: ${String(error.message)}` : output.comment ? ` (${String(output.comment)})` : '';
        this.line(id, `${step}: ${status}${took}${artifacts}${why}`);
        break;
      }
      case EVENT_TYPES.approvalRequested: {
        const deadline = typeof d.deadline === 'string' ? ` (until ${d.deadline})` : '';
        this.line(id, `${step}: waiting for approval${deadline}: ${String(d.prompt ?? '')}`);
        if (this.options.approvalsAnsweredHere === 'auto') {
          this.line(id, `${step}: approving automatically (--approve auto)`);
        } else if (this.options.approvalsAnsweredHere !== 'prompt') {
          for (const command of this.approvalCommands(id)) this.line(id, `  ${command}`);
          for (const text of approvalRequestLines(d)) this.line(id, text);
        }
        break;
      }
      case EVENT_TYPES.workflowCompleted: {
        const file = this.reportFile(d.result);
        this.line(id, `workflow ${id} SUCCEEDED${this.took(id, now)}${file ? `; report: ${file}` : ''}`);
        break;
      }
      case EVENT_TYPES.workflowFailed:
      case EVENT_TYPES.workflowCancelled: {
        const error = d.error as { code?: unknown; message?: unknown } | undefined;
        this.line(id, `workflow ${id} ${String(d.status ?? 'FAILED')}${this.took(id, now)}${error?.message ? `: ${String(error.message)}` : ''}`);
        break;
      }
      default:
        this.line(id, `${event.type}${step ? ` (${step})` : ''}`);
    }
  }

  private took(id: string, now: number): string {
    const began = this.workflowStarted.get(id);
    this.workflowStarted.delete(id);
    return began !== undefined ? ` after ${seconds(now - began)}` : '';
  }

  private line(workflowId: string, text: string): void {
    const time = new Date().toISOString().slice(11, 19);
    this.options.write(`${time} [${workflowId.slice(0, 11)}] ${text}`);
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}
