/**
 * The local server: the runtime's HTTP API on 127.0.0.1, with the same handler code as in Lambda
 * (each request becomes an API Gateway HTTP API event for `createApi`), durable executions under
 * the durable-execution testing SDK (one LocalDurableTestRunner per workflow, real timers), state
 * and artifacts in a folder, events on the console and in a file, agents as child processes.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as readline from 'readline';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { agentTargets, checkAgents, DeclaredAgent, LocalAgent, referenceAgent, resolveAgents } from './agents';
import { CliError } from './errors';
import { BodyTooLargeError, localRequestProblem, readBody, sendError, sendResult, toApiEvent } from './http';
import { DEFAULT_PORT, ProgressReporter } from './progress';
import { referenceDefinition } from './reference';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { EVENT_TYPES, TaskEnvelope, WorkflowStatus } from '../contract/status';
import { validateDefinition } from '../contract/validate';
import { AgentExit, AgentOutputLine, LocalArtifactStore, LocalEventPublisher, LocalWorkflowStore, ProcessAgentDispatcher } from '../runtime/adapters/local';
import { ApiHandler, createApi } from '../runtime/api';
import { createController } from '../runtime/controller';
import { LocalDurableControl, LocalExecutionOutcome } from '../runtime/durable/local-durable-control';
import type { AgentDispatcher, RuntimePorts, WorkflowEvent, WorkflowStore } from '../runtime/ports';
import type { LogFields, Telemetry } from '../runtime/telemetry';

/** How approvals are answered: automatically, by a y/n question on the terminal, or over the API. */
export type ApproveMode = 'auto' | 'prompt' | 'api';

export interface LocalServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 8765 */
  readonly port?: number;
  /** Folder for state, artifacts and logs. @default `.local` in the working directory */
  readonly dataDir?: string;
  /** The workflow to serve. @default the reference research workflow */
  readonly definition?: WorkflowDefinitionDocument;
  /** Agent commands given on the command line (`--agent name=command`); they win over the others. */
  readonly agentCommands?: Readonly<Record<string, readonly string[]>>;
  /** What a synthesized app declares about its agents (their `localCommand`). */
  readonly declaredAgents?: Readonly<Record<string, DeclaredAgent>>;
  /** @default 'api' */
  readonly approve?: ApproveMode;
  /** Receives console lines. @default - written to stdout */
  readonly log?: (line: string) => void;
  /** Show every line agents write (otherwise only the output of an agent that failed). @default false */
  readonly verbose?: boolean;
  /** Working directory of agent processes. @default process.cwd() */
  readonly cwd?: string;
  /** Asks a y/n question (approve mode `prompt`). @default - a question on the terminal */
  readonly ask?: (question: string) => Promise<boolean>;
}

/** A running local server. */
export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly artifactsDir: string;
  readonly definition: WorkflowDefinitionDocument;
  readonly agents: Readonly<Record<string, LocalAgent>>;
  readonly progress: ProgressReporter;
  /** Resolves when the durable execution of a workflow started by this server ends. */
  finished(workflowId: string): Promise<LocalExecutionOutcome>;
  /** Stops the server and the agents it started. Workflows still running stay unfinished. */
  close(): Promise<void>;
}

/** How long a local approval (auto or prompt) keeps trying while the approval is being registered. */
const APPROVAL_RETRY_MS = 10_000;
/** Events after which a workflow's agents still running are stopped. */
const ENDED_EVENTS: readonly string[] = [EVENT_TYPES.workflowCompleted, EVENT_TYPES.workflowFailed, EVENT_TYPES.workflowCancelled];
/** Lines of an agent's output kept to explain why it failed. */
const TAIL_LINES = 15;

// One durable execution backend (the testing SDK's checkpoint worker) per process, shared by servers.
let backendUsers = 0;
let backendReady: Promise<void> | undefined;

async function acquireBackend(): Promise<void> {
  backendUsers++;
  if (!backendReady) backendReady = LocalDurableControl.setup().then(checkBackend);
  try {
    await backendReady;
  } catch (e) {
    backendUsers--;
    if (backendUsers === 0) {
      backendReady = undefined;
      await LocalDurableControl.teardown().catch(() => undefined);
    }
    throw e;
  }
}

/** How long the backend may take to run a trivial execution before it counts as broken. */
const BACKEND_CHECK_MS = 15_000;

/**
 * Runs a trivial durable execution, so that a backend that cannot work (its checkpoint worker
 * did not start: e.g. a bundle without the worker file beside it) fails the start of the
 * server with a message, not the first workflow.
 */
async function checkBackend(): Promise<void> {
  const worker = path.join(__dirname, 'checkpoint-server', 'index.js');
  const bundled = !['server.ts', 'server.js'].some((f) => fs.existsSync(path.join(__dirname, f)));
  const missing = bundled && !fs.existsSync(worker)
    ? `this command is a bundle, and the testing SDK loads its checkpoint worker from ${worker}, which is missing: bundle `
      + 'node_modules/@aws/durable-execution-sdk-js-testing/dist-cjs/checkpoint-server/index.js to that path'
    : undefined;
  const fail = (why: string) => new CliError(`the local durable execution backend (the durable-execution testing SDK's checkpoint worker) does not work: ${why}`);
  if (missing) throw fail(missing);
  // One step: it checkpoints, as every workflow does.
  const probe = new LocalDurableControl(async (_event: unknown, ctx: { step: (name: string, fn: () => Promise<boolean>) => Promise<boolean> }) =>
    ({ ok: await ctx.step('probe', async () => true) }));
  await probe.start('wf-backend-check', {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<LocalExecutionOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'TIMED_OUT', error: `no answer within ${BACKEND_CHECK_MS / 1000}s` }), BACKEND_CHECK_MS);
  });
  const outcome = await Promise.race([probe.finished('wf-backend-check'), timeout]);
  clearTimeout(timer);
  if (outcome.status !== 'SUCCEEDED') throw fail(describe(outcome.error));
}

async function releaseBackend(): Promise<void> {
  backendUsers--;
  if (backendUsers === 0 && backendReady) {
    backendReady = undefined;
    await LocalDurableControl.teardown();
  }
}

/**
 * Starts the local server. Rejects with a {@link CliError} a person can act on: a port in use, an
 * invalid definition, an agent without a command or whose program cannot be found, a data folder
 * used by another server.
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const definition = options.definition ?? referenceDefinition();
  const problems = validateDefinition(definition);
  if (problems.length > 0) throw new CliError(`the workflow definition is not valid:\n  - ${problems.join('\n  - ')}`);
  // The reference agents stand in for agents of those names, except in an app: its agents are its own.
  const agents = resolveAgents({
    definition,
    options: options.agentCommands,
    declared: options.declaredAgents,
    ...(options.declaredAgents ? {} : { fallback: (name: string) => referenceAgent(name) }),
  });
  checkAgents(agents, cwd);
  const requestedPort = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new CliError(`port ${requestedPort} is not valid: give a whole number from 1 to 65535 (or 0 for a free port)`);
  }

  const dataDir = path.resolve(cwd, options.dataDir ?? '.local');
  const artifactsDir = path.join(dataDir, 'artifacts');
  const unlock = lockDataDir(dataDir);
  const cleanups: Array<() => Promise<void> | void> = [unlock];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };

  try {
    const logs = new LogFiles(dataDir);
    cleanups.push(() => logs.close());
    let store: LocalWorkflowStore;
    try {
      store = new LocalWorkflowStore({ dir: path.join(dataDir, 'workflows') });
    } catch (e) {
      throw new CliError(`cannot read the state in ${dataDir}: ${(e as Error).message}`);
    }
    cleanups.push(() => store.flush());

    // Listen first: a port in use is found before anything else starts.
    let api: ApiHandler | undefined;
    const server = http.createServer((req, res) => {
      void handleRequest(req, res, port, () => api).catch((e) => {
        logs.runtime('error', 'request failed', { error: String(e) });
        if (!res.headersSent) sendError(res, 500, 'internal_error', 'the request failed on our side; it is safe to retry');
        else res.destroy();
      });
    });
    const port = await listen(server, requestedPort);
    let serverClosed: Promise<void> | undefined;
    const stopServer = () => (serverClosed ??= closeServer(server));
    cleanups.push(stopServer);
    const url = `http://127.0.0.1:${port}`;

    await acquireBackend();
    // Cleanups run last-in first: the server stops taking requests before the backend goes.
    cleanups.push(() => releaseBackend(), stopServer);

    const approve = options.approve ?? 'api';
    const progress = new ProgressReporter({
      write: log,
      definition,
      url,
      port,
      artifactsDir,
      ...(approve !== 'api' ? { approvalsAnsweredHere: approve } : {}),
    });
    const telemetry = new LocalTelemetry(logs, progress, log);
    const approvals = new LocalApprovals(approve, () => api, options.ask ?? askOnTerminal, log);
    cleanups.push(() => approvals.close());
    const events = new LocalEventPublisher({
      logFile: path.join(dataDir, 'events.jsonl'),
      sink: (event) => {
        progress.onEvent(event);
        approvals.onEvent(event);
        if (ENDED_EVENTS.includes(event.type)) dispatcher.stopWorkflow(event.workflowId);
      },
    });
    const artifacts = new LocalArtifactStore(artifactsDir);
    const dispatcher = new SupervisedDispatcher(agentTargets(agents, cwd), store, () => api, progress, logs, log, options.verbose === true);
    cleanups.push(() => dispatcher.stopAll());

    const partial: Omit<RuntimePorts, 'durable'> = { store, artifacts, events, dispatcher };
    const controller = createController({ definition, ports: partial as RuntimePorts, telemetry, callbackBaseUrl: url });
    const durable = new LocalDurableControl(controller, (workflowId, outcome) => {
      void executionEnded(store, progress, workflowId, outcome).catch(() => undefined);
    });
    const ports: RuntimePorts = { ...partial, durable };
    (partial as { durable?: unknown }).durable = durable;

    await markOrphans(store, log);
    api = createApi({ definition, ports, telemetry });

    return {
      url,
      port,
      dataDir,
      artifactsDir,
      definition,
      agents,
      progress,
      finished: (workflowId) => durable.finished(workflowId),
      close: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse, port: number, api: () => ApiHandler | undefined): Promise<void> {
  const problem = localRequestProblem(req, port);
  if (problem) {
    req.resume();
    return sendError(res, 403, 'forbidden', problem);
  }
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (e) {
    if (e instanceof BodyTooLargeError) return sendError(res, 413, 'payload_too_large', e.message);
    throw e;
  }
  const handler = api();
  if (!handler) return sendError(res, 503, 'starting', 'the local server is starting; retry in a moment');
  sendResult(res, await handler(toApiEvent(req, body, port)));
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.removeListener('listening', onListening);
      if (e.code === 'EADDRINUSE') {
        reject(new CliError(`port ${port} on 127.0.0.1 is already in use (another cdk-durable-agents dev?): stop what uses it, `
          + 'or choose another port with --port <n> (--port 0 picks a free one)'));
      } else if (e.code === 'EACCES') {
        reject(new CliError(`port ${port} on 127.0.0.1 needs privileges this user does not have: choose a port above 1023 with --port <n>`));
      } else {
        reject(new CliError(`cannot listen on 127.0.0.1:${port}: ${e.message}`));
      }
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve((server.address() as { port: number }).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * One server per data folder (the state store is one process's): a lock file with the pid.
 * A lock whose process is gone is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lock = path.join(dataDir, 'server.lock');
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
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CliError(`cannot use data folder ${dataDir}: ${(e as Error).message}`);
      const pid = Number(fs.readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new CliError(`data folder ${dataDir} is used by another local server (pid ${pid}${pid === process.pid ? ', this process' : ''}): `
          + `stop it, or give another folder with --data-dir <dir> (if no local server runs, remove ${lock})`);
      }
      fs.rmSync(lock, { force: true }); // left behind by a server that did not stop cleanly
    }
  }
  throw new CliError(`cannot lock data folder ${dataDir}: remove ${lock} if no local server runs`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Workflows an earlier server left running cannot go on (local durable executions live in that
 * server's memory): they are marked FAILED, with a message that says why.
 */
async function markOrphans(store: WorkflowStore, log: (line: string) => void): Promise<void> {
  const orphans: string[] = [];
  for (const status of ['PENDING', 'RUNNING'] as WorkflowStatus[]) {
    let nextToken: string | undefined;
    do {
      const page = await store.listWorkflows({ status, limit: 100, nextToken });
      orphans.push(...page.items.map((w) => w.workflowId));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  for (const id of orphans) {
    await store.updateWorkflow(id, {
      status: 'FAILED',
      awaiting: null,
      error: {
        code: 'LOCAL_SERVER_STOPPED',
        message: 'the local server stopped while this workflow ran; local durable executions do not survive a restart: start the workflow again',
      },
    }, ['PENDING', 'RUNNING']);
    for (const cb of await store.pendingCallbacks(id)) await store.completeCallback(cb.callbackId, 'FAILED');
  }
  if (orphans.length > 0) {
    log(`note: ${orphans.length} workflow${orphans.length > 1 ? 's' : ''} left unfinished by an earlier server `
      + `${orphans.length > 1 ? 'were' : 'was'} marked FAILED (local executions do not survive a restart)`);
  }
}

/** A durable execution that ended without the workflow recording its end (the controller crashed). */
async function executionEnded(store: WorkflowStore, progress: ProgressReporter, workflowId: string, outcome: LocalExecutionOutcome): Promise<void> {
  if (outcome.status === 'SUCCEEDED') return;
  const message = `the durable execution ended ${outcome.status}: ${describe(outcome.error)}`;
  const changed = await store.updateWorkflow(workflowId, { status: 'FAILED', awaiting: null, error: { code: 'EXECUTION_FAILED', message } }, ['PENDING', 'RUNNING']);
  if (changed) progress.note(workflowId, `workflow ${workflowId} FAILED: ${message}`);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object') {
    const e = error as { errorMessage?: unknown; message?: unknown };
    return String(e.errorMessage ?? e.message ?? JSON.stringify(error));
  }
  return String(error);
}

/** An in-process request to the API handler (for approvals answered here and failed agents). */
export function localEvent(method: string, rawPath: string, body?: unknown, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: 'local',
      domainPrefix: 'local',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'cdk-durable-agents' },
      requestId: `local-${Date.now()}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    isBase64Encoded: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------

/** The server's log files: runtime logs and agents' output, one JSON line each. */
class LogFiles {
  private readonly runtimeLog: fs.WriteStream;
  private readonly agentLog: fs.WriteStream;

  constructor(dataDir: string) {
    this.runtimeLog = fs.createWriteStream(path.join(dataDir, 'runtime.log'), { flags: 'a' });
    this.agentLog = fs.createWriteStream(path.join(dataDir, 'agents.log'), { flags: 'a' });
    // A log that cannot be written must not stop the server.
    this.runtimeLog.on('error', () => undefined);
    this.agentLog.on('error', () => undefined);
  }

  runtime(level: string, message: string, fields: LogFields = {}): void {
    this.runtimeLog.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  }

  agent(line: AgentOutputLine): void {
    this.agentLog.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
  }

  async close(): Promise<void> {
    await Promise.all([this.runtimeLog, this.agentLog].map((s) => new Promise<void>((r) => s.end(() => r()))));
  }
}

/** Runtime logs go to runtime.log; warnings and errors also to the console (with their workflow's tag). */
class LocalTelemetry implements Telemetry {
  constructor(private readonly logs: LogFiles, private readonly progress: ProgressReporter, private readonly console: (line: string) => void) {}
  info(message: string, fields?: LogFields): void {
    this.logs.runtime('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.logs.runtime('warn', message, fields);
    this.show('warning', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.logs.runtime('error', message, fields);
    this.show('error', message, fields);
  }
  metric(name: string, _unit: 'Count' | 'Milliseconds', value: number, definition: string): void {
    this.logs.runtime('metric', name, { value, definition });
  }
  private show(level: string, message: string, fields: LogFields = {}): void {
    const { workflow_id: workflowId, step_name: step, ...rest } = fields;
    const parts = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const text = `${level}: ${message}${parts.length ? ` (${parts.join(', ')})` : ''}`;
    if (typeof workflowId === 'string') this.progress.note(workflowId, `${typeof step === 'string' ? `${step}: ` : ''}${text}`);
    else this.console(text);
  }
}

// ---------------------------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------------------------

interface RunningAgent {
  readonly agent: string;
  readonly envelope: TaskEnvelope;
  readonly tail: string[];
}

/**
 * Starts agents as child processes, and watches them: an agent that exits without its report
 * being accepted has its task failed at once (through the callback route, with its token and
 * the end of its output), instead of the step waiting for its timeout.
 */
class SupervisedDispatcher implements AgentDispatcher {
  private readonly inner: ProcessAgentDispatcher;
  private readonly running = new Map<number, RunningAgent>();
  private readonly exited = new Map<number, AgentExit>();
  private stopping = false;

  constructor(
    targets: ConstructorParameters<typeof ProcessAgentDispatcher>[0],
    private readonly store: WorkflowStore,
    private readonly api: () => ApiHandler | undefined,
    private readonly progress: ProgressReporter,
    private readonly logs: LogFiles,
    private readonly console: (line: string) => void,
    private readonly verbose: boolean,
  ) {
    this.inner = new ProcessAgentDispatcher(targets, {
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

  /** Stops the agent processes of a workflow that has ended (e.g. cancelled while they worked). */
  stopWorkflow(workflowId: string): void {
    for (const [pid, entry] of this.running) {
      if (entry.envelope.workflow_id !== workflowId) continue;
      this.running.delete(pid);
      kill(pid);
    }
  }

  private output(line: AgentOutputLine): void {
    this.logs.agent(line);
    const entry = this.running.get(line.pid);
    if (entry) {
      entry.tail.push(line.line);
      if (entry.tail.length > TAIL_LINES) entry.tail.shift();
    }
    if (this.verbose) this.progress.note(line.workflowId, `${line.stepName}: [${line.agent} ${line.stream}] ${line.line}`);
  }

  private exit(exit: AgentExit): void {
    const entry = this.running.get(exit.pid);
    if (!entry) {
      if (!this.stopping) this.exited.set(exit.pid, exit); // ended before dispatch returned
      return;
    }
    this.running.delete(exit.pid);
    if (this.stopping) return;
    void this.failIfUnreported(entry, exit).catch((e) => this.console(`warning: could not check agent ${entry.agent} (pid ${exit.pid}): ${String(e)}`));
  }

  private async failIfUnreported(entry: RunningAgent, exit: AgentExit): Promise<void> {
    const { envelope } = entry;
    const callback = await this.store.getCallback(envelope.callback.id);
    if (!callback || callback.state !== 'PENDING') return;
    const how = exit.code !== null ? `exited with code ${exit.code}` : `was stopped by ${exit.signal}`;
    const tail = entry.tail.join('\n').replace(/\[\[workflow-halt:/g, '[workflow-halt:');
    const message = `agent '${entry.agent}' (pid ${exit.pid}) ${how} before its report was accepted${tail ? `; its last output:\n${tail}` : ''}`.slice(0, 4000);
    this.progress.note(envelope.workflow_id, `${envelope.step_name}: agent ${entry.agent} (pid ${exit.pid}) ${how} before its report was accepted`
      + `${tail ? `; last output:\n    ${entry.tail.slice(-5).join('\n    ')}` : ''}`);
    const api = this.api();
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

// ---------------------------------------------------------------------------------------------
// Approvals answered here
// ---------------------------------------------------------------------------------------------

/** Answers approvals automatically or by asking on the terminal (modes `auto` and `prompt`). */
class LocalApprovals {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly mode: ApproveMode,
    private readonly api: () => ApiHandler | undefined,
    private readonly ask: (question: string) => Promise<boolean>,
    private readonly console: (line: string) => void,
  ) {}

  onEvent(event: WorkflowEvent): void {
    if (this.mode === 'api' || event.type !== EVENT_TYPES.approvalRequested) return;
    const id = event.workflowId;
    const step = event.stepName ?? 'approval';
    if (this.mode === 'auto') {
      setImmediate(() => void this.decide(id, true, 'approved automatically (cdk-durable-agents dev --approve auto)'));
      return;
    }
    this.queue = this.queue.then(async () => {
      if (this.closed) return;
      const yes = await this.ask(`Approve workflow ${id} (step ${step})? [y/n] `).catch(() => undefined);
      if (yes === undefined || this.closed) return;
      await this.decide(id, yes, yes ? 'approved on the terminal' : 'rejected on the terminal');
    });
  }

  close(): void {
    this.closed = true;
  }

  /** Sends the decision; retried briefly while the approval is still being registered. */
  private async decide(workflowId: string, approved: boolean, comment: string): Promise<void> {
    const until = Date.now() + APPROVAL_RETRY_MS;
    for (;;) {
      const api = this.api();
      if (!api || this.closed) return;
      const res = await api(localEvent('POST', `/workflows/${workflowId}/approval`, { approved, comment }));
      if (res.statusCode === 200) return;
      const body = JSON.parse(String(res.body ?? '{}')) as { message?: string };
      // 409 while the approval is being registered; an ended workflow stays 409 and is left alone.
      if (res.statusCode !== 409 || Date.now() > until || /has ended/.test(body.message ?? '')) {
        this.console(`warning: could not ${approved ? 'approve' : 'reject'} workflow ${workflowId}: ${res.statusCode} ${body.message ?? ''}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
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
