#!/usr/bin/env node
/**
 * The `cdk-durable-agents` command line: `dev` (the local server), `demo`, and the workflow
 * commands (`start`, `status`, `list`, `approve`, `reject`, `cancel`) against the local server
 * or a deployed orchestrator.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { parseArgs } from 'util';
import { checkAgents, displayCommand, packagedAgent, parseAgentOptions } from './agents';
import type { DeclaredAgent } from './agents';
import { readAssembly, selectWorkflow } from './assembly';
import { COST_USAGE } from './cost/usage';
import { runDemo } from './demo';
import { CliError } from './errors';
import { runInit } from './init';
import { KILL_SWITCH_USAGE, killSwitchCommand } from './kill-switch-command';
import { PACKAGE_NAME, packageVersion, REFERENCE_AGENTS } from './paths';
import { CLI_NAME, DEFAULT_PORT } from './progress';
import { ApproveMode, LocalServer, LocalServerOptions, startLocalServer } from './server';
import { approveCommand, cancelCommand, listCommand, startCommand, statusCommand, WORKFLOW_USAGE } from './workflow-commands';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { requiredInputFields } from '../runtime/values';

/** Where the command line writes, and how it waits for a stop (replaceable in tests). */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Resolves when the person asks `dev` to stop. @default SIGINT or SIGTERM */
  readonly stopSignal?: () => Promise<void>;
  /** Told once `dev` is serving. */
  readonly onServing?: (server: LocalServer) => void;
  /** Reads all of stdin (`start --input-file -`). @default process.stdin */
  readonly readStdin?: () => Promise<string>;
}

export const USAGE = `Usage: ${CLI_NAME} <command> [options]

Commands:
  dev       Serve the workflow API on http://127.0.0.1 and run workflows locally
              --port <n>             port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free one)
              --app <dir>            serve the workflow of a synthesized CDK app (its cdk.out)
              --workflow <name>      which of the app's workflows (default: the first)
              --agent <name>=<cmd>   run an agent with this command (repeatable)
              --agent-worker <name>  the agent's program speaks the worker protocol (agents/README.md):
                                     a few long-lived processes take its tasks (repeatable)
              --data-dir <dir>       state, artifacts and logs (default .local)
              --approve <mode>       api (default): answer over HTTP or with \`approve\`;
                                     auto: approve at once; prompt: ask y/n here
              --verbose              show everything agents write
  demo      Run one reference workflow from start to published report, then stop
              --port <n>             (default: a free port)   --data-dir <dir> (default .local/demo)
              --agent <name>=<cmd>   run an agent with this command instead of the reference one
${WORKFLOW_USAGE}
${KILL_SWITCH_USAGE}
  agent <name>  Run a reference agent (researcher, analyst, writer) on the task in TASK_ENVELOPE,
            as its image would
  init [--python] [--force] [<dir>]     Write a CDK app with the reference workflow and three agents
                                        (TypeScript, or Python) into <dir> (default: here); merges an
                                        existing package.json, refuses to overwrite other files
${COST_USAGE}
  version   Print the version of this package (also --version)
  help      Show this text`;

/** Runs the command line; resolves with the exit code. */
export async function run(argv: readonly string[], io: CliIo = consoleIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'dev': return await dev(rest, io);
      case 'demo': return await demo(rest, io);
      case 'start': return await startCommand(rest, io);
      case 'status': return await statusCommand(rest, io);
      case 'list': return await listCommand(rest, io);
      case 'approve': return await approveCommand(rest, io, 'approve');
      case 'reject': return await approveCommand(rest, io, 'reject');
      case 'cancel': return await cancelCommand(rest, io);
      case 'kill-switch': return await killSwitchCommand(rest, io);
      case 'version':
      case '--version':
        io.out(packageVersion());
        return 0;
      case 'agent': return await agent(rest, io);
      case 'init': return runInit(rest, io);
      case 'cost': return await costCommand().runCost(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new CliError(`unknown command '${command}'\n\n${USAGE}`);
    }
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`error: ${e.message}`);
      return e.exitCode;
    }
    io.err(`error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return 1;
  }
}

// ---------------------------------------------------------------------------------------------

async function dev(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    'port': { type: 'string' },
    'app': { type: 'string' },
    'workflow': { type: 'string' },
    'agent': { type: 'string', multiple: true },
    'agent-worker': { type: 'string', multiple: true },
    'data-dir': { type: 'string' },
    'approve': { type: 'string' },
    'verbose': { type: 'boolean' },
  }, 'dev');
  const approveMode = (values.approve ?? 'api') as string;
  if (!['auto', 'prompt', 'api'].includes(approveMode)) throw new CliError(`--approve ${approveMode}: expected auto, prompt or api`);
  if (approveMode === 'prompt' && !process.stdin.isTTY) {
    throw new CliError('--approve prompt asks on the terminal, but stdin is not one: use --approve auto, or api (approve over HTTP)');
  }
  if (values.workflow !== undefined && values.app === undefined) throw new CliError('--workflow chooses among the workflows of --app <dir>; give --app too');

  let definition: WorkflowDefinitionDocument | undefined;
  let declaredAgents: Record<string, DeclaredAgent> | undefined;
  let source = '(the reference workflow)';
  if (values.app !== undefined) {
    const workflows = readAssembly(values.app);
    const chosen = selectWorkflow(workflows, values.workflow);
    definition = chosen.definition;
    declaredAgents = { ...chosen.agents };
    source = `from ${path.join(values.app, chosen.template)} (${chosen.constructPath ?? chosen.logicalId})`;
    if (workflows.length > 1 && values.workflow === undefined) {
      io.out(`note: the app has ${workflows.length} workflows (${workflows.map((w) => w.name).join(', ')}); serving '${chosen.name}' (choose with --workflow <name>)`);
    }
  }
  const options: LocalServerOptions = {
    port: port(values.port, DEFAULT_PORT),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(definition ? { definition } : {}),
    ...(declaredAgents ? { declaredAgents } : {}),
    agentCommands: parseAgentOptions(values.agent ?? []),
    ...(values['agent-worker'] ? { workerAgents: values['agent-worker'] } : {}),
    approve: approveMode as ApproveMode,
    verbose: values.verbose === true,
    log: io.out,
  };
  const server = await startLocalServer(options);
  for (const line of banner(server, source)) io.out(line);
  io.onServing?.(server);
  await (io.stopSignal ?? stopSignal)();
  io.out('stopping the local server (workflows still running continue when it starts again on this data folder)');
  await server.close();
  return 0;
}

function banner(server: LocalServer, source: string): string[] {
  const def = server.definition;
  const example: Record<string, unknown> = {};
  for (const { path: p } of requiredInputFields(def)) setPath(example, p, '...');
  if (def.name === 'research-report' && 'topic' in example) Object.assign(example, { topic: 'durable execution for AI agents', parameters: { depth: 'brief' } });
  const steps = def.steps.map((s) => (s.type === 'agent' ? `${s.name} (${s.agent})` : s.name)).join(' -> ');
  return [
    `cdk-durable-agents dev: workflow '${def.name}' ${source}`,
    `  serving  ${server.url}  (127.0.0.1 only; no credentials)`,
    `  steps    ${steps}`,
    ...Object.entries(server.agents).map(([name, a], i) => `  ${i === 0 ? 'agents  ' : '        '} ${name}: ${displayCommand(a.command)}`
      + `${a.source === 'reference' ? ` (reference agent${a.env?.AGENT_MODEL_PROVIDER === 'offline' ? ', offline model' : ''})` : a.source === 'app' ? ' (from the app)' : ''}`),
    `  data     ${server.dataDir}  (workflows/, artifacts/, events.jsonl, runtime.log, agents.log)`,
    '  start a workflow:',
    `    curl -s -X POST ${server.url}/workflows -H 'content-type: application/json' -d '${JSON.stringify(example)}'`,
    `  follow it: curl -s ${server.url}/workflows/<workflow-id>   or   ${CLI_NAME} status <workflow-id>${server.port === DEFAULT_PORT ? '' : ` --port ${server.port}`}`,
    '  Ctrl-C stops the server.',
  ];
}

async function demo(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { 'port': { type: 'string' }, 'data-dir': { type: 'string' }, 'agent': { type: 'string', multiple: true } }, 'demo');
  return runDemo({
    port: port(values.port, 0),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    server: { agentCommands: parseAgentOptions(values.agent ?? []) },
    log: io.out,
  });
}

/** `agent <name>`: the package's bundle of a reference agent, in a child process with this one's stdio and environment. */
async function agent(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {}, 'agent', true);
  if (positionals.length !== 1) throw new CliError(`agent: give one reference agent name (${REFERENCE_AGENTS.join(', ')}), got ${positionals.length}`);
  const local = packagedAgent([PACKAGE_NAME, 'agent', positionals[0]])!;
  checkAgents({ [positionals[0]]: local });
  const [program, ...programArgs] = local.command;
  const child = spawn(program, programArgs, { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (signal) io.err(`agent ${positionals[0]} stopped by ${signal}`);
        resolve(code ?? 1);
      });
    });
  } finally {
    process.removeListener('SIGINT', forward);
    process.removeListener('SIGTERM', forward);
  }
}

// ---------------------------------------------------------------------------------------------

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

function parse<T extends OptionSpec>(args: readonly string[], options: T, command: string, positionals = false) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new CliError(`${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n\n${USAGE}`);
  }
}

function port(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new CliError(`--port ${value}: expected a port number from 1 to 65535 (or 0 for a free one)`);
  return n;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/**
 * The `cost` command, loaded when it runs: its price table, its fixed and variable parts and the
 * durable runner they drive are not loaded for the other commands.
 */
function costCommand(): typeof import('./cost/command') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./cost/command');
}

function consoleIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

if (require.main === module) {
  // The testing SDK's in-process Lambda client warns about Node 20 on every start; it talks to no AWS service here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`error: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
