import * as fs from 'fs';
import * as path from 'path';
import { CliError } from './errors';

/** The npm package name, used to find the package's root folder. */
export const PACKAGE_NAME = 'cdk-durable-agents';

/** The reference agents, in workflow order. */
export const REFERENCE_AGENTS = ['researcher', 'analyst', 'writer'] as const;

/**
 * The root folder of this package: the nearest folder above this file whose package.json is
 * `cdk-durable-agents`. The same from the repository (`src/cli`), the compiled library
 * (`lib/cli`) and the bundled command (`assets/cli`), wherever the package is installed; for a
 * bundle copied elsewhere, the nearest such folder above the working directory.
 */
export function packageRoot(from: string = __dirname, cwd: string = process.cwd()): string {
  const found = findRoot(from) ?? findRoot(cwd);
  if (!found) {
    throw new CliError(`cannot find the ${PACKAGE_NAME} package folder above ${from} or ${cwd}: `
      + 'run the command from an installed package or from the repository');
  }
  return found;
}

function findRoot(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // not a readable manifest: keep looking above
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The bundled entry point of a reference agent (built by the library's bundle task). */
export function referenceAgentEntry(agent: string, root: string = packageRoot()): string {
  return path.join(root, 'assets', 'agents', agent, 'src', 'main', 'index.js');
}

/** The bundle of the reference agents in one program (agents/reference-agents.ts): the local server's worker for all three. */
export function referenceWorkerEntry(root: string = packageRoot()): string {
  return path.join(root, 'assets', 'cli', 'reference-agents', 'index.js');
}

/** The version of this package (its package.json), from the repository, the library or the bundle. */
export function packageVersion(root: string = packageRoot()): string {
  const manifest = path.join(root, 'package.json');
  const version = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new CliError(`${manifest} has no version`);
  return version;
}
