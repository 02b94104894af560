import { ChildProcess, spawn } from 'child_process';
import * as readline from 'readline';
import { AgentTarget, ENVELOPE_ENV } from '../../../contract/agents';
import type { TaskEnvelope } from '../../../contract/status';
import { AgentDispatcher, UnknownAgentError } from '../../ports';

/** One line an agent process wrote. */
export interface AgentOutputLine {
  readonly agent: string;
  readonly pid: number;
  readonly workflowId: string;
  readonly stepName: string;
  readonly stream: 'stdout' | 'stderr';
  /** The line, without its line break. */
  readonly line: string;
}

/** How an agent process ended. */
export interface AgentExit {
  readonly agent: string;
  readonly pid: number;
  readonly workflowId: string;
  readonly stepName: string;
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ProcessAgentDispatcherOptions {
  /**
   * Receives every line an agent writes to stdout or stderr, with the agent's name.
   * @default - agents' output is discarded
   */
  readonly onOutput?: (output: AgentOutputLine) => void;
  /**
   * Told when an agent process ends. The dispatcher itself does not care: the agent reports
   * through its callback, and one that never reports times out in the workflow.
   * @default - none
   */
  readonly onExit?: (exit: AgentExit) => void;
}

/**
 * AgentDispatcher for local runs: starts each `local` agent target as a child process with
 * the envelope (JSON) in `TASK_ENVELOPE`, the target's `env` over this process's environment.
 * `dispatch` resolves as soon as the process has started (handle: its pid) and rejects when it
 * cannot start; what the process does afterwards never affects the dispatcher.
 */
export class ProcessAgentDispatcher implements AgentDispatcher {
  private readonly targets: Readonly<Record<string, AgentTarget>>;
  private readonly options: ProcessAgentDispatcherOptions;

  constructor(targets: Record<string, AgentTarget>, options: ProcessAgentDispatcherOptions = {}) {
    this.targets = { ...targets };
    this.options = options;
  }

  public async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    const target = Object.prototype.hasOwnProperty.call(this.targets, agent) ? this.targets[agent] : undefined;
    if (!target) throw new UnknownAgentError(agent, Object.keys(this.targets));
    if (target.type !== 'local') {
      throw new Error(`agent '${agent}' runs as a '${target.type}' target; ProcessAgentDispatcher starts only 'local' targets (use AwsAgentDispatcher)`);
    }
    const [command, ...args] = target.command;
    if (!command) throw new Error(`agent '${agent}' has an empty command: give the program to run as command[0]`);

    const capture = this.options.onOutput !== undefined;
    const child = spawn(command, args, {
      cwd: target.cwd,
      env: { ...process.env, ...target.env, [ENVELOPE_ENV]: JSON.stringify(envelope) },
      stdio: ['ignore', capture ? 'pipe' : 'ignore', capture ? 'pipe' : 'ignore'],
      windowsHide: true,
    });
    await started(child).catch((e: NodeJS.ErrnoException) => {
      const where = target.cwd === undefined ? '' : ` in '${target.cwd}'`;
      const hint = e.code === 'ENOENT'
        ? `: check that '${command}' is installed and on PATH (or give its path)${target.cwd === undefined ? '' : ' and that the folder exists'}`
        : '';
      throw new Error(`agent '${agent}': cannot start command '${target.command.join(' ')}'${where}: ${e.message}${hint}`);
    });
    const pid = child.pid as number;
    const about = { agent, pid, workflowId: envelope.workflow_id, stepName: envelope.step_name };
    if (capture) {
      for (const stream of ['stdout', 'stderr'] as const) {
        const lines = readline.createInterface({ input: child[stream]!, crlfDelay: Infinity });
        lines.on('line', (line) => this.options.onOutput?.({ ...about, stream, line }));
      }
    }
    child.once('close', (code, signal) => this.options.onExit?.({ ...about, code, signal }));
    return { handle: String(pid) };
  }
}

/** Resolves when the process has started, rejects with the spawn error. Later errors are ignored. */
function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    child.once('spawn', () => {
      settled = true;
      resolve();
    });
    // Kept for the child's lifetime: an 'error' event without a listener would crash the process.
    child.on('error', (e) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    });
  });
}
