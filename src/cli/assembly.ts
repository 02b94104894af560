/**
 * Reads the workflows of a synthesized CDK app (a cloud assembly, `cdk.out`): the controller
 * function of every DurableOrchestrator carries CloudFormation metadata `cdk-durable-agents`
 * naming its configuration file in the assembly (the file its layer deploys: the definition and
 * the agent names) and its agents' local commands.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { DeclaredAgent } from './agents';
import { CliError } from './errors';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { LOCAL_METADATA_KEY } from '../contract/table';
import { validateDefinition } from '../contract/validate';

/** One DurableOrchestrator found in an app. */
export interface AppWorkflow {
  /** The workflow definition's name. */
  readonly name: string;
  /** The template file (relative to the assembly folder) and the controller's logical id. */
  readonly template: string;
  readonly logicalId: string;
  /** The construct path of the controller, when the app records it. */
  readonly constructPath?: string;
  readonly definition: WorkflowDefinitionDocument;
  readonly agents: Readonly<Record<string, DeclaredAgent>>;
}

/** Folders of nested assemblies (stages) are searched this deep. */
const MAX_DEPTH = 4;

/**
 * Every DurableOrchestrator in the cloud assembly at `dir`, in template order. Throws a
 * `CliError` naming the file and the fix when the folder is not a synthesized app, has no
 * orchestrator, or an orchestrator's metadata or definition is malformed.
 */
export function readAssembly(dir: string): AppWorkflow[] {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new CliError(`--app ${dir}: no such folder; give the cloud assembly folder of a synthesized CDK app (run \`npx cdk synth\`; it writes cdk.out)`);
  }
  const templates = findTemplates(root, 0);
  if (templates.length === 0) {
    throw new CliError(`--app ${dir}: no *.template.json in ${root}; is it a synthesized cloud assembly? Run \`npx cdk synth\` and give its output folder (cdk.out)`);
  }
  const found: AppWorkflow[] = [];
  for (const file of templates) {
    const rel = path.relative(root, file);
    let template: { Resources?: Record<string, { Metadata?: Record<string, unknown> }> };
    try {
      template = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new CliError(`--app ${dir}: ${rel} is not valid JSON (${(e as Error).message}); synthesize the app again`);
    }
    for (const [logicalId, resource] of Object.entries(template?.Resources ?? {})) {
      const meta = resource?.Metadata?.[LOCAL_METADATA_KEY];
      if (meta === undefined) continue;
      const constructPath = typeof resource.Metadata?.['aws:cdk:path'] === 'string' ? resource.Metadata['aws:cdk:path'] as string : undefined;
      found.push(parseMetadata(meta, `${rel}: resource ${logicalId}${constructPath ? ` (${constructPath})` : ''}`, rel, logicalId, constructPath, root));
    }
  }
  if (found.length === 0) {
    throw new CliError(`--app ${dir}: no DurableOrchestrator in ${templates.length} template${templates.length > 1 ? 's' : ''} `
      + `(${templates.map((t) => path.relative(root, t)).join(', ')}): no resource carries metadata '${LOCAL_METADATA_KEY}'. `
      + 'Add a DurableOrchestrator to the app and synthesize it with this version of cdk-durable-agents');
  }
  return found;
}

/**
 * The workflow to serve: the one whose name (or `<template>/<logicalId>`, or construct path)
 * is `wanted`, else the first.
 */
export function selectWorkflow(workflows: readonly AppWorkflow[], wanted?: string): AppWorkflow {
  if (wanted === undefined) return workflows[0];
  const match = workflows.find((w) => w.name === wanted)
    ?? workflows.find((w) => `${w.template.replace(/\.template\.json$/, '')}/${w.logicalId}` === wanted || w.logicalId === wanted)
    ?? workflows.find((w) => w.constructPath !== undefined && (w.constructPath === wanted || w.constructPath.startsWith(`${wanted}/`)));
  if (!match) {
    throw new CliError(`unknown workflow '${wanted}' (--workflow): the app has ${workflows.map((w) => `'${w.name}' (${w.template}, ${w.logicalId})`).join(', ')}`);
  }
  return match;
}

function parseMetadata(meta: unknown, where: string, template: string, logicalId: string,
  constructPath: string | undefined, root: string): AppWorkflow {
  const fix = 'synthesize the app again with this version of cdk-durable-agents';
  if (!isObject(meta)) throw new CliError(`${where}: metadata '${LOCAL_METADATA_KEY}' is not an object; ${fix}`);
  const workflow = meta.configFile !== undefined ? readConfigFile(meta, where, root, fix) : meta.workflow;
  if (!isObject(workflow)) {
    throw new CliError(`${where}: metadata '${LOCAL_METADATA_KEY}' names no configuration file ('configFile') and holds no 'workflow' definition document; ${fix}`);
  }
  if (meta.agents !== undefined && !isObject(meta.agents)) {
    throw new CliError(`${where}: metadata '${LOCAL_METADATA_KEY}'.agents is not an object of agent name -> { kind, localCommand }; ${fix}`);
  }
  const agents: Record<string, DeclaredAgent> = {};
  for (const [name, value] of Object.entries(meta.agents ?? {})) {
    if (!isObject(value)) throw new CliError(`${where}: agent '${name}' in metadata '${LOCAL_METADATA_KEY}' is not an object; ${fix}`);
    const cmd = value.localCommand;
    if (cmd !== undefined && (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((w) => typeof w === 'string'))) {
      throw new CliError(`${where}: agent '${name}': localCommand must be a non-empty list of strings (program and arguments), got ${JSON.stringify(cmd)}`);
    }
    agents[name] = { ...(typeof value.kind === 'string' ? { kind: value.kind } : {}), ...(cmd ? { localCommand: cmd as string[] } : {}) };
  }
  // validateDefinition reads its argument as raw JSON; the document is used only if it finds no problem.
  const document: unknown = workflow;
  const definition = document as WorkflowDefinitionDocument;
  const problems = validateDefinition(definition, { knownAgents: Object.keys(agents) });
  if (problems.length > 0) {
    throw new CliError(`${where}: the workflow definition is not valid:\n  - ${problems.join('\n  - ')}`);
  }
  return { name: definition.name, template, logicalId, ...(constructPath ? { constructPath } : {}), definition, agents };
}

/** The definition in the configuration file the metadata names, checked against its SHA-256. */
function readConfigFile(meta: Record<string, unknown>, where: string, root: string, fix: string): unknown {
  if (typeof meta.configFile !== 'string' || meta.configFile === '') {
    throw new CliError(`${where}: metadata '${LOCAL_METADATA_KEY}'.configFile is not a path in the assembly; ${fix}`);
  }
  const file = path.resolve(root, meta.configFile);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`${where}: cannot read its workflow configuration ${file} (${(e as Error).message}); synthesize the app again, ` +
      'with asset staging on (the default of `cdk synth`)');
  }
  const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
  if (typeof meta.configSha256 === 'string' && meta.configSha256 !== sha256) {
    throw new CliError(`${where}: ${file} has SHA-256 ${sha256}, but the template says ${meta.configSha256}: the assembly mixes two synths; ${fix}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${where}: ${file} is not valid JSON (${(e as Error).message}); ${fix}`);
  }
  return isObject(doc) ? doc.definition : undefined;
}

function findTemplates(dir: string, depth: number): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith('.template.json')) out.push(path.join(dir, e.name));
  }
  if (depth < MAX_DEPTH) {
    for (const e of entries) {
      // Stages synthesize into nested assemblies: assembly-<stage>/.
      if (e.isDirectory() && e.name.startsWith('assembly-')) out.push(...findTemplates(path.join(dir, e.name), depth + 1));
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
