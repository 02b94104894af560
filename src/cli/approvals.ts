/**
 * Approvals answered by the local server itself: automatically (`--approve auto`) or by a y/n
 * question on the terminal (`--approve prompt`), sent to the API as a person's decision would be.
 */
import * as readline from 'readline';
import { localEvent } from './http-bridge';
import { EVENT_TYPES } from '../contract/status';
import type { ApiHandler } from '../runtime/api';
import type { WorkflowEvent } from '../runtime/ports';

/** How approvals are answered: automatically, by a y/n question on the terminal, or over the API. */
export type ApproveMode = 'auto' | 'prompt' | 'api';

/** How long a local approval (auto or prompt) keeps trying while the approval is being registered. */
const APPROVAL_RETRY_MS = 10_000;

export interface LocalApprovalsOptions {
  readonly mode: ApproveMode;
  /** The API handler decisions are sent to (undefined while starting: nothing is sent). */
  readonly api: () => ApiHandler | undefined;
  /** Asks a y/n question (mode `prompt`). */
  readonly ask: (question: string) => Promise<boolean>;
  /** Shows a line on the console (a decision that could not be sent). */
  readonly console: (line: string) => void;
  /** How long a decision is retried while the approval is being registered. @default 10 s */
  readonly retryMs?: number;
}

/** Answers approvals automatically or by asking on the terminal (modes `auto` and `prompt`); mode `api` does nothing. */
export class LocalApprovals {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: LocalApprovalsOptions) {}

  /** Sees every runtime event; answers those that request an approval. */
  onEvent(event: WorkflowEvent): void {
    const { mode } = this.options;
    if (mode === 'api' || event.type !== EVENT_TYPES.approvalRequested) return;
    const id = event.workflowId;
    const step = event.stepName ?? 'approval';
    if (mode === 'auto') {
      setImmediate(() => void this.decide(id, true, 'approved automatically (cdk-durable-agents dev --approve auto)'));
      return;
    }
    this.queue = this.queue.then(async () => {
      if (this.closed) return;
      const yes = await this.options.ask(`Approve workflow ${id} (step ${step})? [y/n] `).catch(() => undefined);
      if (yes === undefined || this.closed) return;
      await this.decide(id, yes, yes ? 'approved on the terminal' : 'rejected on the terminal');
    });
  }

  /** Stops answering: questions not yet asked are not asked, answers not yet sent are dropped. */
  close(): void {
    this.closed = true;
  }

  /** Sends the decision; retried briefly while the approval is still being registered. */
  private async decide(workflowId: string, approved: boolean, comment: string): Promise<void> {
    const until = Date.now() + (this.options.retryMs ?? APPROVAL_RETRY_MS);
    for (;;) {
      const api = this.options.api();
      if (!api || this.closed) return;
      const res = await api(localEvent('POST', `/workflows/${workflowId}/approval`, { approved, comment }));
      if (res.statusCode === 200) return;
      const message = errorMessage(res.body);
      // 409 while the approval is being registered; an ended workflow stays 409 and is left alone.
      if (res.statusCode !== 409 || Date.now() > until || /has ended/.test(message)) {
        this.options.console(`warning: could not ${approved ? 'approve' : 'reject'} workflow ${workflowId}: ${res.statusCode} ${message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The `message` of an API error body ('' when there is none). */
function errorMessage(body: string | undefined): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '{}');
  } catch {
    return '';
  }
  if (parsed === null || typeof parsed !== 'object' || !('message' in parsed)) return '';
  return typeof parsed.message === 'string' ? parsed.message : '';
}

/** A y/n question on the terminal (asked again until the answer is y, yes, n or no). */
export function askOnTerminal(question: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    rl.on('close', () => reject(new Error('the terminal closed')));
    // Ctrl-C at the question stops the command, as it does anywhere else.
    rl.on('SIGINT', () => {
      rl.close();
      process.kill(process.pid, 'SIGINT');
    });
    const ask = () => rl.question(question, (answer) => {
      const a = answer.trim().toLowerCase();
      if (a === 'y' || a === 'yes' || a === 'n' || a === 'no') {
        rl.removeAllListeners('close');
        rl.close();
        resolve(a.startsWith('y'));
      } else {
        ask();
      }
    });
    ask();
  });
}
