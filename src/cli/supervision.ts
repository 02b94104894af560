/**
 * Agent process supervision: agents run as child processes, and one that exits without its
 * report being accepted has its task failed at once (through the callback route, with its token
 * and the end of its output), instead of the step waiting for its timeout.
 */
import { localEvent } from './http-bridge';
import type { AgentTarget } from '../contract/agents';
import { EVENT_TYPES, TaskEnvelope } from '../contract/status';
import { AgentExit, AgentOutputLine, ProcessAgentDispatcher } from '../runtime/adapters/local';
import type { ApiHandler } from '../runtime/api';
import type { AgentDispatcher, WorkflowEvent, WorkflowStore } from '../runtime/ports';

/** Lines of an agent's output kept to explain why it failed. */
const TAIL_LINES = 15;
/** Events after which a workflow's agents still running are stopped. */
const ENDED_EVENTS: readonly string[] = [EVENT_TYPES.workflowCompleted, EVENT_TYPES.workflowFailed, EVENT_TYPES.workflowCancelled];

export interface SupervisedDispatcherOptions {
  /** The agents, by name. */
  readonly targets: Readonly<Record<string, AgentTarget>>;
  /** Where an agent's callback is looked up, to tell whether its report was accepted. */
  readonly store: Pick<WorkflowStore, 'getCallback'>;
  /** The API handler the failure of an agent that exited is sent to (undefined while starting: nothing is sent). */
  readonly api: () => ApiHandler | undefined;
  /** Receives every line agents write. */
  readonly onOutput: (line: AgentOutputLine) => void;
  /** Shows a line under a workflow's tag on the console. */
  readonly note: (workflowId: string, text: string) => void;
  /** Shows a line on the console that belongs to no workflow. */
  readonly console: (line: string) => void;
  /** Show every line agents write (otherwise only the output of an agent that failed). */
  readonly verbose: boolean;
}

interface RunningAgent {
  readonly agent: string;
  readonly envelope: TaskEnvelope;
  readonly tail: string[];
}

/** An AgentDispatcher that starts agents as child processes and watches them. */
export class SupervisedDispatcher implements AgentDispatcher {
  private readonly inner: ProcessAgentDispatcher;
  private readonly running = new Map<number, RunningAgent>();
  private readonly exited = new Map<number, AgentExit>();
  private stopping = false;

  constructor(private readonly options: SupervisedDispatcherOptions) {
    this.inner = new ProcessAgentDispatcher({ ...options.targets }, {
      onOutput: (line) => this.output(line),
      onExit: (exit) => this.exit(exit),
    });
  }

  async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    const result = await this.inner.dispatch(agent, envelope);
    const pid = Number(result.handle);
    this.running.set(pid, { agent, envelope, tail: [] });
    const early = this.exited.get(pid);
    if (early) {
      this.exited.delete(pid);
      this.exit(early);
    }
    return result;
  }

  /** Stops every agent process still running. */
  stopAll(): void {
    this.stopping = true;
    for (const pid of this.running.keys()) kill(pid);
    this.running.clear();
  }

  /** Sees every runtime event: a workflow that ended has its agents still running stopped. */
  onEvent(event: WorkflowEvent): void {
    if (ENDED_EVENTS.includes(event.type)) this.stopWorkflow(event.workflowId);
  }

  /** Stops the agent processes of a workflow that has ended (e.g. cancelled while they worked). */
  stopWorkflow(workflowId: string): void {
    for (const [pid, entry] of this.running) {
      if (entry.envelope.workflow_id !== workflowId) continue;
      this.running.delete(pid);
      kill(pid);
    }
  }

  private output(line: AgentOutputLine): void {
    this.options.onOutput(line);
    const entry = this.running.get(line.pid);
    if (entry) {
      entry.tail.push(line.line);
      if (entry.tail.length > TAIL_LINES) entry.tail.shift();
    }
    if (this.options.verbose) this.options.note(line.workflowId, `${line.stepName}: [${line.agent} ${line.stream}] ${line.line}`);
  }

  private exit(exit: AgentExit): void {
    const entry = this.running.get(exit.pid);
    if (!entry) {
      if (!this.stopping) this.exited.set(exit.pid, exit); // ended before dispatch returned
      return;
    }
    this.running.delete(exit.pid);
    if (this.stopping) return;
    void this.failIfUnreported(entry, exit).catch((e) => this.options.console(`warning: could not check agent ${entry.agent} (pid ${exit.pid}): ${String(e)}`));
  }

  private async failIfUnreported(entry: RunningAgent, exit: AgentExit): Promise<void> {
    const { envelope } = entry;
    const callback = await this.options.store.getCallback(envelope.callback.id);
    if (!callback || callback.state !== 'PENDING') return;
    const how = exit.code !== null ? `exited with code ${exit.code}` : `was stopped by ${exit.signal}`;
    // The output goes in as it is: a halt travels as data, never in message text, so no text can forge one.
    const tail = entry.tail.join('\n');
    const message = `agent '${entry.agent}' (pid ${exit.pid}) ${how} before its report was accepted${tail ? `; its last output:\n${tail}` : ''}`.slice(0, 4000);
    this.options.note(envelope.workflow_id, `${envelope.step_name}: agent ${entry.agent} (pid ${exit.pid}) ${how} before its report was accepted`
      + `${tail ? `; last output:\n    ${entry.tail.slice(-5).join('\n    ')}` : ''}`);
    const api = this.options.api();
    if (!api) return;
    await api(localEvent('POST', `/callbacks/${envelope.callback.id}`, { status: 'failed', error: { code: 'AgentExited', message } },
      { 'x-callback-token': envelope.callback.token }));
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
