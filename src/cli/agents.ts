/**
 * Which process runs each agent of a workflow on this machine: the `--agent name=command`
 * options, the local commands a synthesized app declares, and the reference agents.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CliError } from './errors';
import { PACKAGE_NAME, REFERENCE_AGENTS, referenceAgentEntry, referenceWorkerEntry } from './paths';
import type { AgentTarget } from '../contract/agents';
import { allSteps, WorkflowDefinitionDocument } from '../contract/definition';

/** A local agent: the program and its arguments, and where its command came from (for messages). */
export interface LocalAgent {
  readonly command: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** `--agent`, `app` (the synthesized app's metadata) or `reference`. */
  readonly source: 'option' | 'app' | 'reference';
  /**
   * The program speaks the worker protocol (agents/README.md "Worker mode"): the local server runs
   * a few long-lived processes of it that take many tasks, instead of a process per task. The
   * reference agents do; others opt in with `--agent-worker <name>`.
   */
  readonly worker?: boolean;
}

/** What a synthesized app says about one agent. */
export interface DeclaredAgent {
  /** How the agent runs in the cloud (`lambda`, `ecs`). */
  readonly kind?: string;
  /** How to run it as a local process. */
  readonly localCommand?: readonly string[];
}

/** Environment of the reference agents: their model calls go to the offline provider. */
export const REFERENCE_AGENT_ENV: Readonly<Record<string, string>> = { AGENT_MODEL_PROVIDER: 'offline' };

/**
 * Splits a command line the way a POSIX shell would for the simple cases: blanks separate
 * words, single quotes keep everything, double quotes keep everything but `\"` and `\\`, and a
 * backslash outside quotes escapes the next character. No variables, globs or pipes.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | '\'' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === '\'') {
      if (c === '\'') quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
    } else if (c === '\'' || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unbalanced ${quote === '"' ? 'double' : 'single'} quote in ${JSON.stringify(line)}`);
  if (inWord) words.push(word);
  return words;
}

/** Parses `--agent name=command` options into commands by agent name. */
export function parseAgentOptions(values: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    const name = at > 0 ? value.slice(0, at).trim() : '';
    if (!name) {
      throw new CliError(`--agent ${JSON.stringify(value)}: expected name=command, e.g. --agent researcher="node agents/researcher.js"`);
    }
    let command: string[];
    try {
      command = splitCommand(value.slice(at + 1));
    } catch (e) {
      throw new CliError(`--agent ${name}: ${(e as Error).message}`);
    }
    if (command.length === 0) throw new CliError(`--agent ${name}: the command is empty; give the program to run, e.g. --agent ${name}="node agent.js"`);
    if (out[name]) throw new CliError(`--agent ${name} is given twice; give each agent once`);
    out[name] = command;
  }
  return out;
}

/** The agents a workflow's steps use, in the order they first appear. */
export function agentsOf(definition: WorkflowDefinitionDocument): string[] {
  const names: string[] = [];
  for (const step of allSteps(definition.steps)) if (step.type === 'agent' && !names.includes(step.agent)) names.push(step.agent);
  return names;
}

/**
 * The reference agent of this name (researcher, analyst, writer), bundled in the package and run
 * with this Node.js on the offline model provider; undefined for other names. The three share one
 * program (the reference agents' worker bundle), so one worker process serves them all.
 */
export function referenceAgent(name: string, root?: string): LocalAgent | undefined {
  if (!(REFERENCE_AGENTS as readonly string[]).includes(name)) return undefined;
  return { command: [process.execPath, referenceWorkerEntry(root)], env: REFERENCE_AGENT_ENV, source: 'reference', worker: true };
}

/**
 * `cdk-durable-agents agent <name>` (the `localCommand` of `ReferenceAgent`, and of a
 * `ContainerAgent` with a reference agent's image) as this package's own bundle of that agent,
 * run with this Node.js (the command line is not necessarily on PATH: `npx` puts it there), as a
 * worker. Undefined for any other command.
 */
export function packagedAgent(command: readonly string[]): LocalAgent | undefined {
  if (command.length !== 3 || command[0] !== PACKAGE_NAME || command[1] !== 'agent') return undefined;
  if (!(REFERENCE_AGENTS as readonly string[]).includes(command[2])) {
    throw new CliError(`'${command.join(' ')}': there is no reference agent '${command[2]}'; the package has ${REFERENCE_AGENTS.join(', ')}`);
  }
  return { command: [process.execPath, referenceAgentEntry(command[2])], source: 'reference', worker: true };
}

export interface ResolveAgentsOptions {
  readonly definition: WorkflowDefinitionDocument;
  /** `--agent` commands: they take precedence. */
  readonly options?: Readonly<Record<string, readonly string[]>>;
  /** What the synthesized app declares (absent when the reference workflow is served). */
  readonly declared?: Readonly<Record<string, DeclaredAgent>>;
  /** Asked for agents neither an option nor the app gives. */
  readonly fallback?: (name: string) => LocalAgent | undefined;
}

/**
 * The local command of every agent the workflow uses. Fails with a message naming the agent and
 * the fix for an agent nobody gives a command for, and for an `--agent` the workflow does not use.
 */
export function resolveAgents(opts: ResolveAgentsOptions): Record<string, LocalAgent> {
  const used = agentsOf(opts.definition);
  const given = opts.options ?? {};
  const unknown = Object.keys(given).filter((name) => !used.includes(name));
  if (unknown.length > 0) {
    throw new CliError(`unknown agent${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} in --agent: `
      + `workflow '${opts.definition.name}' uses ${used.length ? used.map((n) => `'${n}'`).join(', ') : 'no agents'}`);
  }
  const out: Record<string, LocalAgent> = {};
  const missing: string[] = [];
  for (const name of used) {
    const option = given[name];
    const declared = opts.declared?.[name];
    if (option) {
      out[name] = packagedAgent(option) ?? { command: [...option], source: 'option' };
    } else if (declared?.localCommand && declared.localCommand.length > 0) {
      out[name] = packagedAgent(declared.localCommand) ?? { command: [...declared.localCommand], source: 'app' };
    } else {
      const fallback = opts.fallback?.(name);
      if (fallback) out[name] = fallback;
      else missing.push(`'${name}'${declared?.kind ? ` (runs as ${declared.kind} in the cloud)` : ''}`);
    }
  }
  if (missing.length > 0) {
    throw new CliError(`no local command for agent${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of workflow '${opts.definition.name}': `
      + 'the app does not declare one (localCommand); give it with --agent <name>="<command>", e.g. --agent '
      + `${used.find((n) => !out[n])}="node path/to/agent.js"`);
  }
  return out;
}

/**
 * Checks that each agent's program can be started: it is found on PATH (or at its path) and is
 * executable, and a script handed to node, python and the like exists. A reference agent that is
 * not built gets a message saying how to build it.
 */
export function checkAgents(agents: Readonly<Record<string, LocalAgent>>, cwd: string = process.cwd()): void {
  const problems: string[] = [];
  for (const [name, agent] of Object.entries(agents)) {
    const [program, ...args] = agent.command;
    if (agent.source === 'reference') {
      const entry = args[0];
      if (entry && !fs.existsSync(entry)) {
        problems.push(`reference agent '${name}' is not built: ${entry} is missing; run \`npx projen bundle\` in the repository `
          + '(the npm package ships it), or give the agent with --agent');
      }
      continue;
    }
    const found = findProgram(program, cwd);
    if (!found) {
      problems.push(`agent '${name}': cannot start '${program}': ${program.includes('/') || program.includes(path.sep)
        ? `no executable file at ${path.resolve(cwd, program)}` : 'it is not on PATH'} (command: ${agent.command.join(' ')})`);
      continue;
    }
    const script = scriptArgument(program, args);
    if (script && !fs.existsSync(path.resolve(cwd, script))) {
      problems.push(`agent '${name}': '${program}' would run ${script}, which does not exist (looked in ${cwd})`);
    }
  }
  if (problems.length > 0) throw new CliError(problems.join('\n'));
}

/** Converts local agents into the runtime's `local` dispatch targets. */
export function agentTargets(agents: Readonly<Record<string, LocalAgent>>, cwd?: string): Record<string, AgentTarget> {
  const out: Record<string, AgentTarget> = {};
  for (const [name, agent] of Object.entries(agents)) {
    out[name] = { type: 'local', command: agent.command, ...(cwd ? { cwd } : {}), ...(agent.env ? { env: agent.env } : {}) };
  }
  return out;
}

/** A command as a person would type it. */
export function displayCommand(command: readonly string[]): string {
  return command.map((word, i) => {
    const shown = i === 0 && word === process.execPath ? 'node' : word;
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, '\'\\\'\'')}'`;
  }).join(' ');
}

/** The path of an executable program, or undefined. */
function findProgram(program: string, cwd: string): string | undefined {
  const executable = (file: string) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/') || program.includes(path.sep)) {
    const file = path.resolve(cwd, program);
    return executable(file) ? file : undefined;
  }
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const file = path.join(dir, program + ext);
      if (executable(file)) return file;
    }
  }
  return undefined;
}

/** The script an interpreter is asked to run (`node x.js`, `python3 -u x.py`), if any. */
function scriptArgument(program: string, args: readonly string[]): string | undefined {
  const base = path.basename(program).replace(/\.exe$/i, '');
  if (!/^(node|nodejs|python\d*(\.\d+)?|ruby|bash|sh|deno|bun|ts-node|tsx)$/.test(base)) return undefined;
  // The first argument that is not an option; interpreters' options that take a value are rare here.
  const first = args.find((a) => !a.startsWith('-'));
  if (!first || (args.includes('-e') || args.includes('-c') || args.includes('--eval'))) return undefined;
  return /\.(c?js|mjs|ts|py|rb|sh)$/.test(first) ? first : undefined;
}
