/**
 * `cdk-durable-agents init [--python] [--force] [<dir>]`: writes a small CDK app (TypeScript, or
 * Python with `--python`) with the reference workflow, three Lambda agents, pinned tool versions,
 * tests and a README of its own, from the templates shipped in the package (`templates/`).
 *
 * An existing package.json (a team that ran `npm init -y && npm install cdk-durable-agents`) is
 * merged: their dependencies stay, the missing ones, scripts and `engines` are added. Any other
 * file that already exists stops the command before it writes anything, unless `--force`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { CliError } from './errors';
import { PACKAGE_NAME, packageRoot } from './paths';
import { CLI_NAME, DEFAULT_PORT } from './progress';

/** The languages of the templates (folders under `templates/` in the package). */
export type InitLanguage = 'typescript' | 'python';

/** What `initApp` writes and from where. */
export interface InitOptions {
  /** The folder of the new app (created when missing). */
  readonly dir: string;
  /** Which template. @default 'typescript' */
  readonly language?: InitLanguage;
  /** Overwrite existing files (package.json is still merged). @default false */
  readonly force?: boolean;
  /** The package's root folder (its templates and version). @default packageRoot() */
  readonly root?: string;
}

/** What `initApp` did, relative to the app's folder. */
export interface InitResult {
  readonly dir: string;
  readonly language: InitLanguage;
  readonly version: string;
  /** Files written (created or, with `force`, overwritten). */
  readonly written: string[];
  /** package.json when it existed and was merged. */
  readonly merged: string[];
  /** What the merge kept that differs from the template (a person should know). */
  readonly notes: string[];
  /**
   * node_modules must be installed from scratch (`rm -rf node_modules package-lock.json && npm
   * install`): npm had installed aws-cdk-lib as a peer, and an incremental install after its pin
   * is added loses a package aws-cdk-lib needs.
   */
  readonly reinstall: boolean;
}

/** Names npm drops from packages: shipped under another name and renamed on copy. */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** The test script `npm init -y` writes: replaced by the app's. */
const NPM_INIT_TEST = 'echo "Error: no test specified" && exit 1';

interface PackageManifest {
  name?: string;
  type?: string;
  scripts?: Record<string, string>;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** The template's folder in the package. */
export function templateDir(language: InitLanguage, root: string = packageRoot()): string {
  return path.join(root, 'templates', language);
}

/** Writes the app; throws a `CliError` (before writing anything) when a file would be overwritten. */
export function initApp(options: InitOptions): InitResult {
  const language = options.language ?? 'typescript';
  const root = options.root ?? packageRoot();
  const source = templateDir(language, root);
  if (!fs.existsSync(source)) {
    throw new CliError(`init: the ${language} template is missing from ${source}: reinstall ${PACKAGE_NAME} (the package ships templates/)`);
  }
  const version = readManifest(path.join(root, 'package.json')).version as string;
  const dir = path.resolve(options.dir);
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new CliError(`init: ${options.dir} is a file, not a folder: give a new or existing folder (or none for the current one)`);
  }

  const files = listFiles(source).map((rel) => ({ rel, target: targetName(rel) }));
  const manifestTemplate = files.find((f) => f.target === 'package.json');
  const existingManifest = manifestTemplate !== undefined && fs.existsSync(path.join(dir, 'package.json'));
  // What a new repository already holds is kept: package.json and .gitignore are merged, and an
  // existing README.md stays, the app's being written beside it as README.cdk-durable-agents.md.
  const kept = (target: string) => (target === 'package.json' && existingManifest) || MERGED_OR_KEPT.includes(target);
  const clashes = files
    .filter((f) => !kept(f.target))
    .filter((f) => fs.existsSync(path.join(dir, f.target)))
    .map((f) => f.target);
  if (clashes.length > 0 && options.force !== true) {
    throw new CliError(`init: these files already exist in ${dir} and would be overwritten:\n`
      + clashes.map((c) => `  ${c}`).join('\n')
      + '\nMove them away, choose another folder (init <dir>), or give --force to overwrite them (package.json is always merged, never overwritten).');
  }

  const written: string[] = [];
  const merged: string[] = [];
  const notes: string[] = [];
  let reinstall = false;
  fs.mkdirSync(dir, { recursive: true });
  for (const { rel, target } of files) {
    const text = substitute(fs.readFileSync(path.join(source, rel), 'utf8'), { version });
    const to = path.join(dir, target);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (target === 'package.json' && existingManifest) {
      const theirs = readManifest(to);
      reinstall = peerInstalledCdkLib(dir, theirs);
      if (reinstall) {
        notes.push('npm installed aws-cdk-lib as a peer dependency of cdk-durable-agents; after its pin is added to package.json, '
          + 'a plain `npm install` leaves it without @aws-cdk/cloud-assembly-schema (npm 11 and the dependencies aws-cdk-lib bundles), '
          + 'so install from scratch: rm -rf node_modules package-lock.json && npm install. '
          + `Next time install the pins with the package: npm install ${PACKAGE_NAME} aws-cdk-lib@<pin> constructs@<pin>`);
      }
      fs.writeFileSync(to, `${JSON.stringify(mergeManifest(theirs, JSON.parse(text) as PackageManifest, notes), null, 2)}\n`);
      merged.push(target);
    } else if (target === '.gitignore' && fs.existsSync(to) && options.force !== true) {
      fs.writeFileSync(to, mergeIgnoreFile(fs.readFileSync(to, 'utf8'), text));
      merged.push(target);
    } else if (target === 'README.md' && fs.existsSync(to) && options.force !== true) {
      fs.writeFileSync(path.join(dir, APP_README), text);
      written.push(APP_README);
      notes.push(`README.md is yours and stays; the app's README is ${APP_README}`);
    } else {
      fs.writeFileSync(to, text);
      written.push(target);
    }
  }
  return { dir, language, version, written, merged, notes, reinstall };
}

/** Files an existing folder may already have that `init` merges or keeps rather than refusing. */
const MERGED_OR_KEPT = ['.gitignore', 'README.md'];
/** Where the app's README goes when the folder has one. */
const APP_README = 'README.cdk-durable-agents.md';

/** Their ignore file with the template's lines it lacks appended (theirs first, untouched). */
export function mergeIgnoreFile(theirs: string, template: string): string {
  const have = new Set(theirs.split(/\r?\n/).map((l) => l.trim()));
  const missing = template.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#') && !have.has(l.trim()));
  if (missing.length === 0) return theirs;
  return `${theirs}${theirs === '' || theirs.endsWith('\n') ? '' : '\n'}# added by cdk-durable-agents init\n${missing.join('\n')}\n`;
}

/** aws-cdk-lib in node_modules but not in package.json: npm put it there as cdk-durable-agents' peer. */
function peerInstalledCdkLib(dir: string, manifest: PackageManifest): boolean {
  const listed = manifest.dependencies?.['aws-cdk-lib'] ?? manifest.devDependencies?.['aws-cdk-lib'];
  return listed === undefined && fs.existsSync(path.join(dir, 'node_modules', 'aws-cdk-lib', 'package.json'));
}

/**
 * Their package.json with what the template adds: dependencies they lack (theirs stay, whatever
 * their spec: a `file:` tarball, a range), scripts they lack (npm init's placeholder `test` is
 * replaced), `engines.node` when they set none. Differences it keeps are told in `notes`.
 */
export function mergeManifest(theirs: PackageManifest, template: PackageManifest, notes: string[] = []): PackageManifest {
  const out: PackageManifest = { ...theirs };
  if (theirs.type === 'module') {
    notes.push('package.json has "type": "module"; the app is CommonJS TypeScript (module node16): remove "type" or set it to "commonjs"');
  }
  const scripts = { ...theirs.scripts };
  for (const [name, command] of Object.entries(template.scripts ?? {})) {
    if (scripts[name] === undefined || (name === 'test' && scripts[name] === NPM_INIT_TEST)) {
      scripts[name] = command;
    } else if (scripts[name] !== command) {
      notes.push(`kept your script ${name} (${JSON.stringify(scripts[name])}); the template's is ${JSON.stringify(command)}`);
    }
  }
  out.scripts = scripts;
  const engines = { ...theirs.engines };
  if (engines.node === undefined && template.engines?.node !== undefined) engines.node = template.engines.node;
  out.engines = engines;
  for (const field of ['dependencies', 'devDependencies'] as const) {
    const deps = { ...theirs[field] };
    for (const [name, spec] of Object.entries(template[field] ?? {})) {
      const have = theirs.dependencies?.[name] ?? theirs.devDependencies?.[name];
      if (have === undefined) {
        deps[name] = spec;
      } else if (have !== spec && name !== PACKAGE_NAME) {
        notes.push(`kept your ${name} ${have}; the template pins ${spec}`);
      }
    }
    if (Object.keys(deps).length > 0) out[field] = sortKeys(deps);
  }
  return out;
}

/** `cdk-durable-agents init ...`: writes the app and prints the next commands. */
export function runInit(args: readonly string[], io: { readonly out: (line: string) => void }): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { python: { type: 'boolean' }, typescript: { type: 'boolean' }, force: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new CliError(`init: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n`
      + `usage: ${CLI_NAME} init [--python] [--force] [<dir>]`);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    throw new CliError(`init: give at most one folder, got ${positionals.length} (${positionals.join(' ')}); usage: ${CLI_NAME} init [--python] [--force] [<dir>]`);
  }
  if (values.python === true && values.typescript === true) throw new CliError('init: choose one of --python and --typescript (the default)');
  const dirArg = positionals[0] ?? '.';
  const result = initApp({ dir: dirArg, language: values.python === true ? 'python' : 'typescript', force: values.force === true });

  io.out(`${CLI_NAME} ${result.version}: wrote a ${result.language === 'python' ? 'Python' : 'TypeScript'} CDK app in ${result.dir}`);
  for (const f of result.written) io.out(`  created  ${f}`);
  for (const f of result.merged) io.out(`  merged   ${f} (your dependencies kept; scripts, engines and missing dependencies added)`);
  for (const n of result.notes) io.out(`  note: ${n}`);
  io.out('');
  io.out('Next:');
  const cd = path.resolve(dirArg) === process.cwd() ? [] : [`cd ${dirArg}`];
  const lines = result.language === 'python' ? [
    ...cd,
    'python3 -m venv .venv && source .venv/bin/activate',
    'pip install -r requirements.txt',
    'python -m unittest discover -s tests -t .',
    'npx aws-cdk@2.1148.1 synth',
    `npx ${PACKAGE_NAME}@${result.version} dev --app cdk.out      # http://127.0.0.1:${DEFAULT_PORT}`,
  ] : [
    ...cd,
    result.reinstall ? 'rm -rf node_modules package-lock.json && npm install   # (see the note above)' : 'npm install',
    'npm test',
    'npx cdk synth',
    `npm run dev              # ${CLI_NAME} dev --app cdk.out: http://127.0.0.1:${DEFAULT_PORT}`,
  ];
  for (const l of lines) io.out(`  ${l}`);
  io.out(`then, in another terminal: ${CLI_NAME} start --input '{"topic": "durable execution for AI agents"}' --wait`);
  io.out(`and ${CLI_NAME} approve <workflow-id>. README.md says how to deploy (cdk bootstrap, cdk deploy) and call the deployed API.`);
  return 0;
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name === '__pycache__') continue;
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

function targetName(rel: string): string {
  const base = path.posix.basename(rel);
  const renamed = RENAMED[base];
  return renamed === undefined ? rel : path.posix.join(path.posix.dirname(rel), renamed).replace(/^\.\//, '');
}

function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (match, key: string) => values[key] ?? match);
}

function readManifest(file: string): PackageManifest {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PackageManifest;
  } catch (e) {
    throw new CliError(`init: cannot read ${file} as JSON (${(e as Error).message}): fix it, or move it away and run init again`);
  }
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
