/**
 * The tools some tests need, and the one rule for a missing one (shared/DESIGN.md, "CI requires
 * its tools"): with `CI=true` the tests that need it FAIL, naming the tool and how CI installs it;
 * anywhere else they are skipped, saying which tool is missing and why.
 *
 * Every test that needs an installed program goes through {@link testIfInstalled} or
 * {@link describeIfInstalled} (or `describeWithMoto`, which uses the latter), never through a
 * `test.skip` of its own, so that a CI machine without the tool cannot pass by skipping.
 */
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
 * A PostgreSQL server binary: on PATH, or where Debian's `postgresql` package puts it
 * (`/usr/lib/postgresql/<major>/bin`, not on PATH; the newest major wins).
 */
export function postgresBinary(name: 'initdb' | 'postgres'): string | undefined {
  const onPath = findOnPath(name);
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const majors = fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return majors.map((v) => path.join(root, v, 'bin', name)).find((f) => fs.existsSync(f));
}

/** Something a test needs from outside the repository: an installed program or a built file. */
export interface Tool {
  /** How a person knows it, e.g. `moto_server`. */
  readonly name: string;
  /** Where it is looked for, said when it is missing, e.g. `on PATH`. */
  readonly lookedIn: string;
  /** How CI gets it (and so how a person can), e.g. `Debian package redis-server; .ci/run installs it ...`. */
  readonly install: string;
  /** Its absolute path, or undefined when it is missing. */
  find(): string | undefined;
}

/** The file that pins the Python tools; .ci/run and the GitHub workflows install from it. */
export const PYTHON_REQUIREMENTS = '.ci/requirements-ci.txt';

const pip = (pkg: string) =>
  `pip package ${pkg}, pinned in ${PYTHON_REQUIREMENTS}; .ci/run installs it when missing ` +
  `(python3 -m pip install --user -r ${PYTHON_REQUIREMENTS}) and so do the GitHub build and release workflows`;
const apt = (pkg: string) =>
  `Debian/Ubuntu package ${pkg}; .ci/run installs it with apt-get when missing, and so do the GitHub build and release workflows`;

/** A program looked for on PATH. */
export function programOnPath(name: string, install: string): Tool {
  return { name, lookedIn: 'on PATH', install, find: () => findOnPath(name) };
}

/** A file the build makes (e.g. a bundle under assets/). */
export function builtFile(file: string, install: string): Tool {
  const relative = path.relative(path.join(__dirname, '..', '..'), file);
  return { name: relative, lookedIn: 'in the work tree', install, find: () => (fs.existsSync(file) ? file : undefined) };
}

const postgres = (name: 'initdb' | 'postgres'): Tool => ({
  name,
  lookedIn: 'on PATH or in /usr/lib/postgresql/<major>/bin',
  install: apt('postgresql'),
  find: () => postgresBinary(name),
});

/**
 * The browser of the page's test: Debian's `chromium` (`/usr/bin/chromium`), or the executable
 * `CHROMIUM_PATH` names (the GitHub workflows point it at the runner's Chrome where Ubuntu has no
 * Debian-style package). playwright-core drives it; a browser is never downloaded.
 */
export const CHROMIUM_DEFAULT_PATH = '/usr/bin/chromium';
const chromium: Tool = {
  name: 'chromium',
  lookedIn: `at $CHROMIUM_PATH or ${CHROMIUM_DEFAULT_PATH}`,
  install: `${apt('chromium')} (on GitHub's Ubuntu runners the workflows set CHROMIUM_PATH to the preinstalled Chrome)`,
  find: () => {
    const file = process.env.CHROMIUM_PATH || CHROMIUM_DEFAULT_PATH;
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      return undefined;
    }
  },
};

/** The tools the test suite knows by name, with how CI installs each. */
export const TOOLS: Readonly<Record<string, Tool>> = {
  'moto_server': programOnPath('moto_server', pip('moto[server]')),
  'cfn-lint': programOnPath('cfn-lint', pip('cfn-lint')),
  'initdb': postgres('initdb'),
  'postgres': postgres('postgres'),
  'redis-server': programOnPath('redis-server', apt('redis-server')),
  'openssl': programOnPath('openssl', apt('openssl')),
  'python3': programOnPath('python3', `${apt('python3')} (actions/setup-python in the GitHub workflows)`),
  chromium,
};

/** A tool by name (one of {@link TOOLS}) or a tool itself. */
export type ToolRef = string | Tool;

function resolve(ref: ToolRef): Tool {
  if (typeof ref !== 'string') return ref;
  return TOOLS[ref] ?? programOnPath(ref, 'nothing installs it yet: add it to .ci/run and projenrc/ci-tools.ts, and to TOOLS in test/helpers/tools.ts');
}

/** Whether the environment is CI, where a missing tool fails instead of skipping. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.CI ?? '').toLowerCase() === 'true' || env.CI === '1';
}

/** What to do with tests that need some tools. */
export type ToolCheck =
  | { readonly action: 'run' }
  | { readonly action: 'skip' | 'fail'; readonly missing: readonly string[]; readonly reason: string };

/**
 * The rule. All tools present: run. One missing: `fail` under CI, `skip` elsewhere, with a reason
 * naming each missing tool, where it was looked for and how CI installs it.
 */
export function checkTools(tools: readonly ToolRef[], env: NodeJS.ProcessEnv = process.env): ToolCheck {
  const missing = tools.map(resolve).filter((t) => t.find() === undefined);
  if (missing.length === 0) return { action: 'run' };
  const each = missing.map((t) => `${t.name} is missing (looked ${t.lookedIn}); how CI gets it: ${t.install}`).join('. ');
  return isCi(env)
    ? { action: 'fail', missing: missing.map((t) => t.name), reason: `${each}. CI=true, where a test that needs a missing tool fails instead of being skipped.` }
    : { action: 'skip', missing: missing.map((t) => t.name), reason: `${each}. Skipped because CI is not set (under CI=true this fails).` };
}

/** The jest functions the gates declare with; the unit test of the rule passes fakes. */
export interface JestDeclare {
  test(name: string, fn: jest.ProvidesCallback, timeout?: number): void;
  skipTest(name: string, fn: jest.ProvidesCallback): void;
  describe(name: string, fn: () => void): void;
  skipDescribe(name: string, fn: () => void): void;
}

const jestGlobals = (): JestDeclare => ({
  test: (n, f, t) => test(n, f, t),
  skipTest: (n, f) => test.skip(n, f),
  describe: (n, f) => describe(n, f),
  skipDescribe: (n, f) => describe.skip(n, f),
});

/** Declares tests behind {@link checkTools}; `testIfInstalled` and `describeIfInstalled` use the real jest and environment. */
export class ToolGate {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env, private readonly declare: JestDeclare = jestGlobals()) {}

  /** `test` when every tool is there; otherwise a skipped test (no CI) or a failing one (CI), named with the missing tools. */
  public test(tools: ToolRef | readonly ToolRef[], name: string, fn: jest.ProvidesCallback, timeout?: number): void {
    const check = checkTools(asList(tools), this.env);
    if (check.action === 'run') {
      this.declare.test(name, fn, timeout);
    } else if (check.action === 'skip') {
      this.declare.skipTest(`${name} [skipped: ${check.missing.join(', ')} not installed]`, fn);
    } else {
      this.declare.test(`${name} [FAILED: ${check.missing.join(', ')} not installed]`, () => {
        throw new Error(check.reason);
      });
    }
  }

  /**
   * `describe` when every tool is there. Otherwise the suite's tests are declared skipped (so the
   * count says what was not run), with the reason in the suite's name; under CI one more test
   * fails with the reason.
   */
  public describe(tools: ToolRef | readonly ToolRef[], name: string, fn: () => void): void {
    const check = checkTools(asList(tools), this.env);
    if (check.action === 'run') {
      this.declare.describe(name, fn);
      return;
    }
    const label = `${name} [${check.action === 'fail' ? 'FAILED' : 'skipped'}: ${check.missing.join(', ')} not installed]`;
    if (check.action === 'fail') {
      this.declare.describe(label, () => {
        this.declare.test(`needs ${check.missing.join(', ')}`, () => {
          throw new Error(check.reason);
        });
      });
    }
    this.declare.skipDescribe(label, fn);
  }
}

function asList(tools: ToolRef | readonly ToolRef[]): readonly ToolRef[] {
  return typeof tools === 'string' || !Array.isArray(tools) ? [tools as ToolRef] : tools;
}

/**
 * `test` when the tools are installed. Otherwise, under CI=true, a test that fails naming the
 * missing tools and how CI installs them; elsewhere `test.skip` with that reason in its name.
 */
export function testIfInstalled(tools: ToolRef | readonly ToolRef[], name: string, fn: jest.ProvidesCallback, timeout?: number): void {
  new ToolGate().test(tools, name, fn, timeout);
}

/** `describe` behind the same rule as {@link testIfInstalled}. */
export function describeIfInstalled(tools: ToolRef | readonly ToolRef[], name: string, fn: () => void): void {
  new ToolGate().describe(tools, name, fn);
}
