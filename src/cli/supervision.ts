/**
 * Agent process supervision. Agents run as child processes, in one of two ways:
 * - **workers** (agents that speak the worker protocol, agents/README.md "Worker mode"): a small
 *   pool of long-lived processes per agent, each taking a bounded number of tasks at once as
 *   JSON lines on its stdin; started once, so no task pays a process start-up;
 * - **a process per task** (any other program): the envelope in `TASK_ENVELOPE`, with a bound on
 *   how many run at once.
 * Tasks beyond those bounds wait in a bounded queue. A task is bound to its attempt: when the
 * attempt's deadline passes, its workflow ends, or its callback is closed (cancelled, abandoned),
 * the task is cancelled in its worker or its process is stopped. A process that exits (a task's
 * process, or a worker with tasks in flight) without the task's report being accepted has the
 * task failed at once (through the callback route, with its token and the end of its output),
 * instead of the step waiting for its timeout; a worker that crashed is started again.
 */
import { ChildProcess, spawn } from 'child_process';
import * as os from 'os';
import * as readline from 'readline';
import type { AgentPidFile } from './agent-pids';
import { localEvent } from './http-bridge';
import { AgentTarget, ENVELOPE_ENV } from '../contract/agents';
import { EVENT_TYPES, TaskEnvelope } from '../contract/status';
import { AgentExit, AgentOutputLine, ProcessAgentDispatcher } from '../runtime/adapters/local';
import type { ApiHandler } from '../runtime/api';
import { AgentDispatcher, UnknownAgentError, WorkflowEvent, WorkflowStore } from '../runtime/ports';

/** The variable that starts a kit-based agent in worker mode (agents/kit/src/worker.ts). */
export const WORKER_ENV = 'CDK_DURABLE_AGENTS_WORKER';

/** Lines of an agent's output kept to explain why it failed. */
const TAIL_LINES = 15;
/** Events after which a workflow's agents still running are stopped. */
const ENDED_EVENTS: readonly string[] = [EVENT_TYPES.workflowCompleted, EVENT_TYPES.workflowFailed, EVENT_TYPES.workflowCancelled];
/** A task still running this long after its deadline is cancelled (the runtime timed its attempt out at the deadline). */
const DEADLINE_GRACE_MS = 1000;
/** How often running tasks are checked against their callbacks (closed by a cancel or an abandoned branch). */
const SWEEP_MS = 1000;
/** A process asked to stop (SIGTERM) that is still there after this is killed. */
const KILL_AFTER_MS = 3000;
/** Workers of one agent that exit before saying `ready`, in a row, after which the agent's dispatches fail. */
const MAX_START_FAILURES = 3;

/** Bounds of the local server's agent dispatch. */
export interface DispatchLimits {
  /** Worker processes per worker pool (an agent, or the agents that run one program). @default 1 */
  readonly workersPerAgent?: number;
  /** Tasks one worker runs at once. @default 16 */
  readonly tasksPerWorker?: number;
  /** Processes started per task (agents not in worker mode) running at once, all agents together. @default max(4, 2 × CPUs) */
  readonly processesAtOnce?: number;
  /** Tasks waiting for a worker or a process, all agents together; a dispatch beyond fails. @default 10000 */
  readonly queueLength?: number;
}

export interface SupervisedDispatcherOptions {
  /** The agents, by name. */
  readonly targets: Readonly<Record<string, AgentTarget>>;
  /**
   * The agents that run as workers (they speak the worker protocol).
   * @default - none: a process per task
   */
  readonly workers?: readonly string[];
  /** @default - see DispatchLimits */
  readonly limits?: DispatchLimits;
  /**
   * Records the agent processes started, for the next server to stop those left by a crash.
   * @default - not recorded
   */
  readonly pids?: AgentPidFile;
  /** Where an agent's callback is looked up, to tell whether its report was accepted or is still awaited. */
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

interface Task {
  readonly agent: string;
  /** The queue it waits in: its worker pool, or its agent. */
  readonly queue: string;
  readonly envelope: TaskEnvelope;
  readonly tail: string[];
  state: 'queued' | 'running' | 'ended';
  /** The process running it (its own, or its worker's). */
  pid?: number;
  worker?: Worker;
  deadlineTimer?: NodeJS.Timeout;
}

interface Worker {
  /** Its pool: the first agent of those that run the same program. */
  readonly agent: string;
  /** The agents it serves, for messages (`researcher+analyst+writer`). */
  readonly label: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly tasks: Map<string, Task>;
  readonly tail: string[];
  ready: boolean;
  stopping: boolean;
}

/** An AgentDispatcher that runs agents as child processes (workers or a process per task) and watches them. */
export class SupervisedDispatcher implements AgentDispatcher {
  private readonly inner: ProcessAgentDispatcher;
  private readonly limits: Required<DispatchLimits>;
  private readonly workerAgents: ReadonlySet<string>;
  /**
   * Worker agent -> its pool. Agents whose targets are the same program (command, folder and
   * environment) share one pool: a worker serves every agent it is given tasks for (the envelope
   * names the agent), as the reference agents' program does.
   */
  private readonly pools = new Map<string, string>();
  /** callback id -> task, from dispatch until the task ends. */
  private readonly tasks = new Map<string, Task>();
  /** Tasks waiting, by agent. */
  private readonly queues = new Map<string, Task[]>();
  private queued = 0;
  /** Task processes by pid. */
  private readonly running = new Map<number, Task>();
  private readonly exited = new Map<number, AgentExit>();
  /** Task processes asked to stop, with the timer that kills them if they do not. */
  private readonly stopped = new Map<number, NodeJS.Timeout>();
  private readonly workers = new Map<string, Worker[]>();
  private readonly startFailures = new Map<string, { count: number; tail: string[] }>();
  private readonly sweeper: NodeJS.Timeout;
  private stopping = false;
  /** Task processes being started (between spawn and its 'spawn' event). */
  private starting = 0;

  constructor(private readonly options: SupervisedDispatcherOptions) {
    this.inner = new ProcessAgentDispatcher({ ...options.targets }, {
      onOutput: (line) => this.output(line),
      onExit: (exit) => this.exit(exit),
    });
    this.limits = {
      workersPerAgent: positive(options.limits?.workersPerAgent, 1, 'workersPerAgent'),
      tasksPerWorker: positive(options.limits?.tasksPerWorker, 16, 'tasksPerWorker'),
      processesAtOnce: positive(options.limits?.processesAtOnce, Math.max(4, 2 * os.cpus().length), 'processesAtOnce'),
      queueLength: positive(options.limits?.queueLength, 10_000, 'queueLength'),
    };
    for (const name of options.workers ?? []) {
      if (!Object.prototype.hasOwnProperty.call(options.targets, name)) {
        throw new Error(`worker agent '${name}' is not one of the agents (${Object.keys(options.targets).join(', ') || 'none'})`);
      }
    }
    this.workerAgents = new Set(options.workers ?? []);
    const byProgram = new Map<string, string>();
    for (const name of this.workerAgents) {
      const program = JSON.stringify(options.targets[name]);
      if (!byProgram.has(program)) byProgram.set(program, name);
      this.pools.set(name, byProgram.get(program)!);
    }
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /**
   * Hands the task to a worker or starts its process when a slot is free (handle `worker:<pid>`
   * or `<pid>`), else queues it (handle `queued`). Rejects for an unknown agent, when the queue
   * is full, when the agent's process cannot start (as far as that is known at once), and when the
   * agent's workers keep exiting as they start.
   */
  async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    const target = Object.prototype.hasOwnProperty.call(this.options.targets, agent) ? this.options.targets[agent] : undefined;
    if (!target) throw new UnknownAgentError(agent, Object.keys(this.options.targets));
    if (this.stopping) throw new Error('the local server is stopping: no more agent tasks are started');
    const pool = this.pools.get(agent) ?? agent;
    const broken = this.startFailures.get(pool);
    if (broken && broken.count >= MAX_START_FAILURES) {
      throw new Error(`agent '${agent}': its worker exited ${broken.count} times as it started${broken.tail.length ? `; its last output:\n${broken.tail.join('\n')}` : ''}`);
    }
    const callbackId = envelope.callback.id;
    this.cancel(this.tasks.get(callbackId), 'its callback was dispatched again');
    const task: Task = { agent, queue: pool, envelope, tail: [], state: 'queued' };
    this.tasks.set(callbackId, task);
    const remaining = Date.parse(envelope.deadline) - Date.now();
    if (Number.isFinite(remaining)) {
      task.deadlineTimer = setTimeout(() => this.cancel(task, `its attempt's deadline ${envelope.deadline} passed`),
        Math.min(Math.max(0, remaining) + DEADLINE_GRACE_MS, 2 ** 31 - 1));
      task.deadlineTimer.unref();
    }
    try {
      if (this.workerAgents.has(agent)) {
        const worker = this.freeWorker(pool);
        if (worker) {
          this.startInWorker(task, worker);
          return { handle: `worker:${worker.pid}` };
        }
      } else if (this.processCount() < this.limits.processesAtOnce && this.queued === 0) {
        const pid = await this.startProcess(task);
        return { handle: String(pid) };
      }
    } catch (e) {
      this.end(task);
      throw e;
    }
    if (this.queued >= this.limits.queueLength) {
      this.end(task);
      throw new Error(`agent '${agent}': ${this.queued} tasks already wait for an agent process (the queue holds ${this.limits.queueLength}); `
        + 'the task was not started');
    }
    const queue = this.queues.get(pool) ?? [];
    queue.push(task);
    this.queues.set(pool, queue);
    this.queued++;
    return { handle: 'queued' };
  }

  /** Stops every agent process (workers get their stdin closed, and SIGTERM). */
  stopAll(): void {
    this.stopping = true;
    clearInterval(this.sweeper);
    for (const task of this.tasks.values()) clearTimeout(task.deadlineTimer);
    this.tasks.clear();
    this.queues.clear();
    this.queued = 0;
    for (const pid of this.running.keys()) kill(pid);
    this.running.clear();
    for (const [pid, timer] of this.stopped) {
      clearTimeout(timer);
      kill(pid);
    }
    this.stopped.clear();
    for (const pool of this.workers.values()) {
      for (const worker of pool) {
        worker.stopping = true;
        worker.child.stdin?.end();
        kill(worker.pid);
        // A worker exits when its stdin closes, even if it ignores SIGTERM.
        this.options.pids?.remove(worker.pid);
      }
    }
    this.workers.clear();
    // Task processes stay recorded until their exit is seen: one that ignores SIGTERM and outlives
    // this server is stopped by the next server on the folder.
  }

  /** Sees every runtime event: a workflow that ended has its agents' tasks cancelled. */
  onEvent(event: WorkflowEvent): void {
    if (ENDED_EVENTS.includes(event.type)) this.stopWorkflow(event.workflowId);
  }

  /** Cancels the task of one callback (dropped from the queue, a cancel message to its worker, or its process stopped); none: nothing. */
  cancelTask(callbackId: string, why: string): void {
    this.cancel(this.tasks.get(callbackId), why);
  }

  /** Cancels the tasks of a workflow that has ended (e.g. cancelled while they worked): queued ones are dropped. */
  stopWorkflow(workflowId: string): void {
    for (const task of [...this.tasks.values()]) {
      if (task.envelope.workflow_id === workflowId) this.cancel(task, `workflow ${workflowId} ended`);
    }
  }

  /** Tasks waiting for a slot, and running (for tests and the console). */
  get load(): { queued: number; running: number; workers: number; processes: number } {
    let workers = 0;
    for (const pool of this.workers.values()) workers += pool.length;
    return { queued: this.queued, running: this.tasks.size - this.queued, workers, processes: this.processCount() };
  }

  // ---- tasks ----

  /** Cancels a task: dropped from the queue, a cancel message to its worker, or its process stopped. Its callback is left alone. */
  private cancel(task: Task | undefined, why: string): void {
    if (!task || task.state === 'ended') return;
    const { envelope } = task;
    if (task.state === 'queued') {
      const queue = this.queues.get(task.queue) ?? [];
      const at = queue.indexOf(task);
      if (at >= 0) {
        queue.splice(at, 1);
        this.queued--;
      }
    } else if (task.worker) {
      const worker = task.worker;
      writeLine(worker, { type: 'cancel', callback_id: envelope.callback.id });
      this.options.note(envelope.workflow_id, `${envelope.step_name}: task of agent ${task.agent} (worker ${worker.label}, pid ${worker.pid}) cancelled: ${why}`);
    } else if (task.pid !== undefined) {
      this.running.delete(task.pid);
      this.options.note(envelope.workflow_id, `${envelope.step_name}: agent ${task.agent} (pid ${task.pid}) stopped: ${why}`);
      this.terminate(task.pid);
    }
    this.end(task);
    this.pump();
  }

  /** Forgets a task (ended, cancelled, or not started). */
  private end(task: Task): void {
    task.state = 'ended';
    clearTimeout(task.deadlineTimer);
    if (this.tasks.get(task.envelope.callback.id) === task) this.tasks.delete(task.envelope.callback.id);
    task.worker?.tasks.delete(task.envelope.callback.id);
  }

  /** Starts queued tasks while there are free slots. */
  private pump(): void {
    if (this.stopping || this.queued === 0) return;
    for (const [key, queue] of this.queues) {
      while (queue.length > 0) {
        const task = queue[0];
        if (this.workerAgents.has(key)) {
          const worker = this.freeWorker(key);
          if (!worker) break;
          queue.shift();
          this.queued--;
          this.startInWorker(task, worker);
        } else {
          if (this.processCount() >= this.limits.processesAtOnce) break;
          queue.shift();
          this.queued--;
          this.startProcess(task).catch((e: Error) => {
            this.end(task);
            void this.failIfUnreported(task, 'AgentNotStarted', e.message, `could not be started: ${e.message}`);
          });
        }
      }
    }
  }

  /** Task processes alive: running a task, or stopped and not yet gone. */
  private processCount(): number {
    return this.starting + this.running.size + this.stopped.size;
  }

  private async startProcess(task: Task): Promise<number> {
    task.state = 'running';
    this.starting++;
    let result: { handle: string };
    try {
      result = await this.inner.dispatch(task.agent, task.envelope);
    } finally {
      this.starting--;
    }
    const pid = Number(result.handle);
    task.pid = pid;
    const target = this.options.targets[task.agent];
    if (target.type === 'local') this.options.pids?.add(pid, target.command);
    if ((task.state as Task['state']) === 'ended') {
      // Cancelled while it started.
      this.terminate(pid);
      return pid;
    }
    this.running.set(pid, task);
    const early = this.exited.get(pid);
    if (early) {
      this.exited.delete(pid);
      this.exit(early);
    }
    return pid;
  }

  private startInWorker(task: Task, worker: Worker): void {
    task.state = 'running';
    task.worker = worker;
    task.pid = worker.pid;
    worker.tasks.set(task.envelope.callback.id, task);
    writeLine(worker, { type: 'task', envelope: task.envelope });
  }

  /**
   * Tasks whose callback is no longer awaited (the workflow's cancel closed it, a parallel step
   * abandoned its branch, a report came but the agent goes on) are cancelled.
   */
  private async sweep(): Promise<void> {
    for (const task of [...this.tasks.values()]) {
      if (task.state !== 'running') continue;
      const callback = await this.options.store.getCallback(task.envelope.callback.id).catch(() => undefined);
      if (task.state !== 'running') continue;
      if (!callback) {
        this.cancel(task, 'its callback is gone');
      } else if (callback.state !== 'PENDING' && callback.outcome !== 'SUCCEEDED') {
        this.cancel(task, `its callback was closed (${callback.outcome ?? 'completed'})`);
      }
    }
  }

  // ---- workers ----

  /** A worker of the pool with room for a task (started when the pool has room and the others are busy), or undefined. */
  private freeWorker(poolName: string): Worker | undefined {
    const pool = this.workers.get(poolName) ?? [];
    let best: Worker | undefined;
    for (const w of pool) {
      if (!w.stopping && w.tasks.size < this.limits.tasksPerWorker && (!best || w.tasks.size < best.tasks.size)) best = w;
    }
    if ((!best || best.tasks.size > 0) && pool.length < this.limits.workersPerAgent) return this.startWorker(poolName);
    return best;
  }

  private startWorker(agent: string): Worker {
    const target = this.options.targets[agent];
    if (target.type !== 'local') throw new Error(`agent '${agent}' runs as a '${target.type}' target; only local agents run as workers`);
    const [command, ...args] = target.command;
    const child = spawn(command, args, {
      cwd: target.cwd,
      env: { ...process.env, ...target.env, [WORKER_ENV]: 'stdio', [ENVELOPE_ENV]: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const label = [...this.pools].filter(([, p]) => p === agent).map(([name]) => name).join('+');
    const worker: Worker = { agent, label, child, pid: child.pid ?? -1, tasks: new Map(), tail: [], ready: false, stopping: false };
    const pool = this.workers.get(agent) ?? [];
    pool.push(worker);
    this.workers.set(agent, pool);
    if (child.pid !== undefined) this.options.pids?.add(child.pid, target.command);
    // A worker that cannot be written to (it died) is noticed by its exit; the error is not the server's.
    child.stdin?.on('error', () => undefined);
    child.on('error', (e) => {
      worker.tail.push(`cannot start '${target.command.join(' ')}': ${e.message}`);
      this.workerExited(worker, null, null);
    });
    child.once('exit', (code, signal) => this.workerExited(worker, code, signal));
    for (const stream of ['stdout', 'stderr'] as const) {
      const lines = readline.createInterface({ input: child[stream]!, crlfDelay: Infinity });
      lines.on('line', (line) => this.workerLine(worker, stream, line));
    }
    return worker;
  }

  private workerLine(worker: Worker, stream: 'stdout' | 'stderr', line: string): void {
    const message = stream === 'stdout' ? protocolMessage(line) : undefined;
    if (message?.type === 'ready') {
      worker.ready = true;
      this.startFailures.delete(worker.agent);
      return;
    }
    if (message?.type === 'done') {
      const task = worker.tasks.get(message.callback_id);
      if (task) {
        this.end(task);
        this.pump();
      }
      return;
    }
    const ids = logIds(line);
    const task = ids
      ? [...worker.tasks.values()].find((t) => t.envelope.workflow_id === ids.workflowId && t.envelope.step_name === ids.stepName)
      : undefined;
    worker.tail.push(line);
    if (worker.tail.length > TAIL_LINES) worker.tail.shift();
    if (task) {
      task.tail.push(line);
      if (task.tail.length > TAIL_LINES) task.tail.shift();
    }
    const out: AgentOutputLine = { agent: ids?.agent ?? worker.label, pid: worker.pid, workflowId: ids?.workflowId ?? '', stepName: ids?.stepName ?? '', stream, line };
    this.options.onOutput(out);
    if (this.options.verbose) {
      if (ids) this.options.note(ids.workflowId, `${ids.stepName}: [${ids.agent ?? worker.label} ${stream}] ${line}`);
      else this.options.console(`[${worker.label} worker ${worker.pid} ${stream}] ${line}`);
    }
  }

  private workerExited(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const pool = this.workers.get(worker.agent) ?? [];
    if (!pool.includes(worker)) return; // already handled (error, then exit)
    pool.splice(pool.indexOf(worker), 1);
    this.options.pids?.remove(worker.pid);
    if (worker.stopping || this.stopping) return;
    const how = code !== null ? `exited with code ${code}` : signal ? `was stopped by ${signal}` : 'could not start';
    if (!worker.ready) {
      const failures = this.startFailures.get(worker.agent)?.count ?? 0;
      this.startFailures.set(worker.agent, { count: failures + 1, tail: worker.tail.slice(-5) });
    }
    this.options.console(`agent ${worker.label}: worker (pid ${worker.pid}) ${how} with ${worker.tasks.size} task(s) in flight`);
    for (const task of [...worker.tasks.values()]) {
      this.end(task);
      const tail = (task.tail.length ? task.tail : worker.tail).join('\n');
      void this.failIfUnreported(task, 'AgentExited', `agent '${task.agent}' (worker ${worker.label}, pid ${worker.pid}) ${how} before its report was accepted`, how, tail);
    }
    // Tasks still waiting for this agent get a new worker (unless its workers keep failing as they start).
    const broken = (this.startFailures.get(worker.agent)?.count ?? 0) >= MAX_START_FAILURES;
    if (broken) this.failQueued(worker.agent, `its worker exited ${MAX_START_FAILURES} times as it started`);
    else this.pump();
  }

  private failQueued(agent: string, why: string): void {
    const queue = this.queues.get(agent) ?? [];
    this.queued -= queue.length;
    this.queues.delete(agent);
    for (const task of queue) {
      this.end(task);
      void this.failIfUnreported(task, 'AgentNotStarted', `agent '${agent}' could not be started: ${why}`, `could not be started: ${why}`);
    }
  }

  // ---- task processes ----

  /** Stops a task process: SIGTERM now, SIGKILL if it has not exited a little later. */
  private terminate(pid: number): void {
    kill(pid);
    const timer = setTimeout(() => {
      this.stopped.delete(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, KILL_AFTER_MS);
    timer.unref();
    this.stopped.set(pid, timer);
  }

  private output(line: AgentOutputLine): void {
    this.options.onOutput(line);
    const task = this.running.get(line.pid);
    if (task) {
      task.tail.push(line.line);
      if (task.tail.length > TAIL_LINES) task.tail.shift();
    }
    if (this.options.verbose) this.options.note(line.workflowId, `${line.stepName}: [${line.agent} ${line.stream}] ${line.line}`);
  }

  private exit(exit: AgentExit): void {
    this.options.pids?.remove(exit.pid);
    const killer = this.stopped.get(exit.pid);
    if (killer !== undefined) {
      // A process this dispatcher stopped.
      clearTimeout(killer);
      this.stopped.delete(exit.pid);
      this.pump();
      return;
    }
    const task = this.running.get(exit.pid);
    if (!task) {
      if (!this.stopping) this.exited.set(exit.pid, exit); // ended before dispatch returned
      return;
    }
    this.running.delete(exit.pid);
    this.end(task);
    this.pump();
    if (this.stopping) return;
    const how = exit.code !== null ? `exited with code ${exit.code}` : `was stopped by ${exit.signal}`;
    void this.failIfUnreported(task, 'AgentExited', `agent '${task.agent}' (pid ${exit.pid}) ${how} before its report was accepted`, how, task.tail.join('\n'));
  }

  /** Fails the task through the callback route when its callback still waits for a report. */
  private async failIfUnreported(task: Task, code: string, summary: string, how: string, tail = ''): Promise<void> {
    const { envelope } = task;
    try {
      const callback = await this.options.store.getCallback(envelope.callback.id);
      if (!callback || callback.state !== 'PENDING') return;
      // The output goes in as it is: a halt travels as data, never in message text, so no text can forge one.
      const message = `${summary}${tail ? `; its last output:\n${tail}` : ''}`.slice(0, 4000);
      const lines = tail ? tail.split('\n').slice(-5) : [];
      const who = task.worker ? `${task.agent} (worker ${task.worker.label}, pid ${task.pid})` : `${task.agent}${task.pid !== undefined ? ` (pid ${task.pid})` : ''}`;
      this.options.note(envelope.workflow_id, `${envelope.step_name}: agent ${who} ${how} before its report was accepted`
        + `${lines.length ? `; last output:\n    ${lines.join('\n    ')}` : ''}`);
      const api = this.options.api();
      if (!api) return;
      await api(localEvent('POST', `/callbacks/${envelope.callback.id}`, { status: 'failed', error: { code, message } },
        { 'x-callback-token': envelope.callback.token }));
    } catch (e) {
      this.options.console(`warning: could not check agent ${task.agent} (pid ${task.pid ?? '-'}): ${String(e)}`);
    }
  }
}

/** A worker protocol message on a worker's stdout, or undefined for any other line. */
function protocolMessage(line: string): { type: 'ready' } | { type: 'done'; callback_id: string } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const m = JSON.parse(line) as Record<string, unknown>;
    if (m.type === 'ready') return { type: 'ready' };
    if (m.type === 'done' && typeof m.callback_id === 'string') return { type: 'done', callback_id: m.callback_id };
  } catch {
    // not a message
  }
  return undefined;
}

/** The task ids of a log line of the agent kit (JSON with workflow_id, step_name and agent), or undefined. */
function logIds(line: string): { workflowId: string; stepName: string; agent?: string } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const m = JSON.parse(line) as Record<string, unknown>;
    if (typeof m.workflow_id === 'string' && typeof m.step_name === 'string') {
      return { workflowId: m.workflow_id, stepName: m.step_name, ...(typeof m.agent === 'string' ? { agent: m.agent } : {}) };
    }
  } catch {
    // not JSON
  }
  return undefined;
}

function writeLine(worker: Worker, message: unknown): void {
  if (worker.child.stdin?.writable) worker.child.stdin.write(`${JSON.stringify(message)}\n`);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`dispatch limit ${name} must be a whole number from 1, got ${value}`);
  return value;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

