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
 * `test` when `command` is installed, otherwise `test.skip` with the reason in the test's name,
 * so a skipped run says plainly what was not tested and why.
 */
export function testIfInstalled(command: string, name: string, fn: jest.ProvidesCallback, timeout?: number): void {
  if (findOnPath(command)) {
    test(name, fn, timeout);
  } else {
    test.skip(`${name} [skipped: '${command}' is not installed on PATH]`, fn);
  }
}
