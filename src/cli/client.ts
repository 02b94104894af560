/**
 * A small client of a running local server (the `approve`, `cancel` and `status` commands, and
 * the demo), over HTTP on 127.0.0.1.
 */
import { CliError } from './errors';
import { Awaiting, isTerminal, WaitKind, WorkflowStatus } from '../contract/status';

export interface ClientResponse {
  readonly status: number;
  readonly body: any;
}

/** A workflow as `GET /workflows/{id}` shows it (the fields the command line reads). */
export interface WorkflowView {
  readonly workflow_id: string;
  readonly status: WorkflowStatus;
  /** `<step>_completion` while an agent step waits for its agent, `approval`, or `null`. */
  readonly awaiting: Awaiting;
  readonly wait_kind: WaitKind | null;
  readonly steps: Array<{ name: string; status: string; error?: { message: string } }>;
  readonly result: { report?: string; location?: string } | null;
  readonly error: { code: string; message: string } | null;
}

export class LocalClient {
  constructor(public readonly url: string) {}

  /** Sends a request; a server that does not answer is a `CliError`. */
  public async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ClientResponse> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      if (cause?.code === 'ECONNREFUSED') {
        throw new CliError(`no local server answers at ${this.url}: start one with \`npx cdk-durable-agents dev\` (or give its --port)`);
      }
      throw new CliError(`cannot reach the local server at ${this.url}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }

  /** `GET /workflows/{id}`, which must exist. */
  public async workflow(id: string): Promise<WorkflowView> {
    const res = await this.call('GET', `/workflows/${encodeURIComponent(id)}`);
    if (res.status !== 200) throw new CliError(`${res.status}: ${messageOf(res)}`);
    return res.body as WorkflowView;
  }

  /** Polls a workflow until `until` holds or it has ended; rejects after `timeoutMs`. */
  public async waitFor(id: string, until: (wf: WorkflowView) => boolean, timeoutMs: number, intervalMs = 250): Promise<WorkflowView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const wf = await this.workflow(id);
      if (until(wf) || isTerminal(wf.status)) return wf;
      if (Date.now() > deadline) {
        throw new CliError(`workflow ${id} is still ${wf.status}${wf.awaiting ? ` (awaiting ${wf.awaiting})` : ''} after ${Math.round(timeoutMs / 1000)}s`);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** The `message` of an API error response (or its text). */
export function messageOf(res: ClientResponse): string {
  const body = res.body as { message?: unknown } | string | undefined;
  if (typeof body === 'string') return body;
  return typeof body?.message === 'string' ? body.message : JSON.stringify(body);
}
