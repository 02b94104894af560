/**
 * The local server: the runtime's HTTP API on 127.0.0.1, with the same handler code as in Lambda
 * (each request becomes an API Gateway HTTP API event for `createApi`), durable executions in
 * this process under the SDK's own `withDurableExecution` with a journal on disk (they continue
 * after a restart on the same folder), state and artifacts in a folder, events on the console
 * and in a file, agents as child processes.
 *
 * This module is the composition root: it checks the options and wires the parts, each in a
 * module of its own: http-bridge (HTTP), local-ports (the ports), durable-engine (durable
 * executions), supervision (agent processes), resume (agent tasks across restarts), approvals
 * (approvals answered here), logging and progress (log files and the console), data-dir (the
 * lock file and restarts).
 */
import * as path from 'path';
import { AgentPidFile, stopLeftoverAgents } from './agent-pids';
import { agentTargets, checkAgents, DeclaredAgent, LocalAgent, referenceAgent, resolveAgents } from './agents';
import { localLinkKey } from './approval-links';
import { ApproveMode, askOnTerminal, LocalApprovals } from './approvals';
import { lockDataDir, markOrphans } from './data-dir';
import { CliError } from './errors';
import { EventStreams } from './event-stream';
import { startHttpBridge } from './http-bridge';
import { executionEnded } from './local-durable';
import { localPorts, openWorkflowStore } from './local-ports';
import { LocalRoutes, localRoutes } from './local-routes';
import { LocalTelemetry, LogFiles } from './logging';
import { packageVersion } from './paths';
import { DEFAULT_PORT, ProgressReporter } from './progress';
import { referenceDefinition } from './reference';
import { ResumableDispatcher } from './resume';
import { eventLogEnd, reannounceApprovals } from './resumed-approvals';
import { DispatchLimits, SupervisedDispatcher } from './supervision';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { validateDefinition } from '../contract/validate';
import { ApiHandler, createApi } from '../runtime/api';
import { ApprovalLinkIssuer } from '../runtime/approval-links';
import { createController } from '../runtime/controller';
import { JournalDurableControl } from '../runtime/durable/journal-durable-control';
import type { LocalExecutionOutcome } from '../runtime/durable/local-durable-control';

export type { ApproveMode } from './approvals';
export { askOnTerminal } from './approvals';
export { localEvent } from './http-bridge';

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
  /**
   * Seconds the approval links printed under a waiting approval stay valid (never past the
   * approval's deadline). Links are signed with `<dataDir>/approval-link.key`. @default 86400
   */
  readonly approvalLinkExpirySeconds?: number;
  /**
   * Agents (besides the reference agents) whose program speaks the worker protocol (`--agent-worker name`).
   * @default - none
   */
  readonly workerAgents?: readonly string[];
  /** Bounds of agent dispatch (workers per agent, tasks per worker, processes at once, queue). @default - see DispatchLimits */
  readonly dispatchLimits?: DispatchLimits;
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
  /**
   * Stops the server and the agents it started. Workflows still running continue when a server
   * starts again on the same data folder (their agent tasks are dispatched again).
   */
  close(): Promise<void>;
}

/**
 * Starts the local server. Rejects with a `CliError` a person can act on: a port in use, an
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
  const workers = workerAgentsOf(agents, options.workerAgents ?? [], definition.name);
  const requestedPort = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new CliError(`port ${requestedPort} is not valid: give a whole number from 1 to 65535 (or 0 for a free port)`);
  }

  const dataDir = path.resolve(cwd, options.dataDir ?? '.local');
  const artifactsDir = path.join(dataDir, 'artifacts');
  // Cleanups run last-in first.
  const cleanups: Array<() => Promise<void> | void> = [lockDataDir(dataDir, log)];
  reportLeftoverAgents(dataDir, log);
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };

  let failStart: ((e: unknown) => void) | undefined;
  try {
    const logs = new LogFiles(dataDir);
    cleanups.push(() => logs.close());
    const store = openWorkflowStore(dataDir);
    // The durable engine's journal closes after the last state write (see where the engine is made).
    let closeEngine: (() => Promise<void>) | undefined;
    cleanups.push(() => closeEngine?.(), () => store.flush());

    // Listen first: a port in use is found before anything else starts. Requests that arrive
    // while the rest starts wait for it (`ready`), and are answered once the API handler is set.
    let api: ApiHandler | undefined;
    // The page, event streams and artifacts (set before `ready` resolves, when requests first reach them).
    let pageRoutes: LocalRoutes | undefined;
    let markReady!: (handler: ApiHandler) => void;
    let markFailed!: (e: unknown) => void;
    const ready = new Promise<ApiHandler>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    const startedAt = new Date();
    const version = versionOrUndefined();
    const http = await startHttpBridge({
      port: requestedPort,
      ready,
      health: () => ({
        service: 'cdk-durable-agents local server',
        ...(version !== undefined ? { version } : {}),
        workflow: definition.name,
        started_at: startedAt.toISOString(),
        uptime_seconds: Math.floor((Date.now() - startedAt.getTime()) / 1000),
      }),
      onError: (e) => logs.runtime('error', 'request failed', { error: String(e) }),
      local: (req, res, url) => pageRoutes?.(req, res, url) ?? Promise.resolve(false),
    });
    failStart = markFailed;
    cleanups.push(() => http.close());
    const { port, url } = http;

    const approve = options.approve ?? 'api';
    const progress = new ProgressReporter({
      write: log,
      definition,
      url,
      port,
      artifactsDir,
      ...(approve !== 'api' ? { approvalsAnsweredHere: approve } : {}),
    });
    const note = (workflowId: string, text: string) => progress.note(workflowId, text);
    const telemetry = new LocalTelemetry({ log: (level, message, fields) => logs.runtime(level, message, fields), note, console: log });
    const approvals = new LocalApprovals({ mode: approve, api: () => api, ask: options.ask ?? askOnTerminal, console: log });
    cleanups.push(() => approvals.close());
    const dispatcher = new SupervisedDispatcher({
      targets: agentTargets(agents, cwd),
      workers,
      pids: new AgentPidFile(dataDir),
      ...(options.dispatchLimits ? { limits: options.dispatchLimits } : {}),
      store,
      api: () => api,
      onOutput: (line) => logs.agent(line),
      note,
      console: log,
      verbose: options.verbose === true,
    });
    cleanups.push(() => dispatcher.stopAll());
    // Agent tasks are journaled, so that a restart can dispatch again those not yet reported.
    let durable: JournalDurableControl | undefined;
    const resumable = new ResumableDispatcher(dispatcher, {
      dataDir,
      url,
      log,
      cancel: (callbackId, why) => dispatcher.cancelTask(callbackId, why),
      stillWaiting: async (envelope) => {
        const callback = await store.getCallback(envelope.callback.id);
        return callback?.state === 'PENDING' && durable?.callbackPending(callback.workflowId, callback.durableCallbackId) === true;
      },
    });
    cleanups.push(() => resumable.close());

    const eventLogFile = path.join(dataDir, 'events.jsonl');
    // Counts the events logged so far (their ids) before any new one is published; its streams end first on close.
    const streams = new EventStreams({ eventLogFile });
    cleanups.push(() => streams.close());
    const { ports, durable: durableRef } = localPorts({
      store,
      artifactsDir,
      eventLogFile,
      onEvent: (event) => {
        progress.onEvent(event);
        approvals.onEvent(event);
        dispatcher.onEvent(event);
        resumable.onEvent(event);
        streams.onEvent(event);
      },
      dispatcher: resumable,
    });
    pageRoutes = localRoutes({ streams, store, artifacts: ports.artifacts, definition });
    // The controller takes the ports, whose durable control runs that controller: bound here.
    // Approval links, signed with the data folder's key (made once), served by the same routes as in the cloud.
    const linkKey = localLinkKey(dataDir);
    const linkKeys = { key: async () => linkKey };
    const approvalLinks = new ApprovalLinkIssuer({ keys: linkKeys, baseUrl: url, expirySeconds: options.approvalLinkExpirySeconds ?? 86_400 });
    const controller = createController({ definition, ports, telemetry, callbackBaseUrl: url, approvalLinks });
    const engine = new JournalDurableControl(controller, {
      dir: path.join(dataDir, 'executions'),
      onEnd: (workflowId, outcome) => void executionEnded({ store, note }, workflowId, outcome).catch(() => undefined),
      log,
    });
    durable = engine;
    durableRef.bind(engine);
    // The server stops taking requests, then the engine stops running executions (they stay in
    // its journal); its journal closes once the state is written.
    closeEngine = () => engine.close();
    cleanups.push(() => engine.stop(), () => http.close());

    // Executions an earlier server left unfinished continue; workflows without one cannot.
    const logEnd = eventLogEnd(eventLogFile);
    const resumed = engine.resume();
    await markOrphans(store, log, new Set(resumed));
    api = createApi({ definition, ports, telemetry, approvalLinks: { keys: linkKeys } });
    markReady(api);
    if (resumed.length > 0) {
      log(`note: ${resumed.length} workflow${resumed.length > 1 ? 's' : ''} left unfinished by an earlier server on this folder `
        + `continue${resumed.length > 1 ? '' : 's'}`);
    }
    // Their approvals the earlier server announced are shown and answered here again (not published again).
    await reannounceApprovals(resumed, {
      store,
      eventLogFile,
      logEnd,
      links: approvalLinks,
      log,
      sinks: [(event) => progress.onEvent(event), (event) => approvals.onEvent(event)],
    }).catch((e) => log(`warning: the approvals of resumed workflows could not be shown again: ${String(e)}`));
    await resumable.redispatch();

    return {
      url,
      port,
      dataDir,
      artifactsDir,
      definition,
      agents,
      progress,
      finished: (workflowId) => engine.finished(workflowId),
      close: cleanup,
    };
  } catch (e) {
    // Requests waiting for the start get a 503 naming why, before the server closes.
    failStart?.(e);
    await new Promise((resolve) => setImmediate(resolve));
    await cleanup();
    throw e;
  }
}

/** The agents run as workers: those whose program speaks the protocol, and those `--agent-worker` names. */
function workerAgentsOf(agents: Readonly<Record<string, LocalAgent>>, named: readonly string[], workflow: string): string[] {
  const unknown = named.filter((name) => !Object.prototype.hasOwnProperty.call(agents, name));
  if (unknown.length > 0) {
    throw new CliError(`--agent-worker ${unknown.map((n) => `'${n}'`).join(', ')}: workflow '${workflow}' uses no such agent; `
      + `its agents are ${Object.keys(agents).map((n) => `'${n}'`).join(', ')}`);
  }
  return Object.keys(agents).filter((name) => agents[name].worker === true || named.includes(name));
}

/** Stops agent processes a previous server on this folder left running (it was killed), and says so. */
function reportLeftoverAgents(dataDir: string, log: (line: string) => void): void {
  const { stopped } = stopLeftoverAgents(dataDir);
  if (stopped.length > 0) log(`stopped ${stopped.length} agent process(es) left running by a previous server on this folder (pids ${stopped.join(', ')})`);
}

/** This package's version, for `GET /health`; undefined when its package.json cannot be read. */
function versionOrUndefined(): string | undefined {
  try {
    return packageVersion();
  } catch {
    return undefined;
  }
}
