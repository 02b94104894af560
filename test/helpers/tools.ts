import * as fs from 'fs';
import * as path from 'path';

/** The absolute path of an executable found on PATH, or undefined. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) {
        return candidate;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `describe` when `command` is installed, otherwise `describe.skip` with the reason in the
 * suite's name, so a skipped run says plainly what was not tested and why.
 */
export function describeIfInstalled(command: string, name: string, fn: () => void): void {
  if (findOnPath(command)) {
    describe(name, fn);
  } else {
    describe.skip(`${name} [skipped: '${command}' is not installed on PATH]`, fn);
  }
}
