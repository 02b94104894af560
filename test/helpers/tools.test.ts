import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkTools, isCi, JestDeclare, PYTHON_REQUIREMENTS, Tool, ToolGate, TOOLS } from './tools';

const FAKE = 'cdkda-no-such-tool';
const ROOT = path.join(__dirname, '..', '..');

/** A JestDeclare that records what a gate declares instead of declaring it. */
function recorder() {
  const declared: Array<{ kind: keyof JestDeclare; name: string; fn: () => unknown }> = [];
  const record = (kind: keyof JestDeclare) => (name: string, fn: any) => {
    declared.push({ kind, name, fn });
    if (kind === 'describe') fn(); // a describe's body declares its tests at once, as jest's does
  };
  const declare: JestDeclare = { test: record('test'), skipTest: record('skipTest'), describe: record('describe'), skipDescribe: record('skipDescribe') };
  return { declare, declared };
}

describe('the rule for a missing tool', () => {
  test('under CI=true a test that needs a missing tool is declared and fails, naming the tool and how CI gets it', () => {
    const { declare, declared } = recorder();
    const body = jest.fn();
    new ToolGate({ CI: 'true' }, declare).test(FAKE, 'uses the tool', body);
    expect(declared.map((d) => [d.kind, d.name])).toEqual([['test', `uses the tool [FAILED: ${FAKE} not installed]`]]);
    expect(() => declared[0].fn()).toThrow(new RegExp(`${FAKE} is missing \\(looked on PATH\\); how CI gets it: nothing installs it yet: add it to \\.ci/run`));
    expect(() => declared[0].fn()).toThrow(/CI=true, where a test that needs a missing tool fails instead of being skipped/);
    expect(body).not.toHaveBeenCalled();
  });

  test('without CI the same test is skipped, saying which tool is missing', () => {
    const { declare, declared } = recorder();
    new ToolGate({}, declare).test(FAKE, 'uses the tool', jest.fn());
    expect(declared.map((d) => [d.kind, d.name])).toEqual([['skipTest', `uses the tool [skipped: ${FAKE} not installed]`]]);
  });

  test('a suite that needs a missing tool: under CI one failing test plus the suite skipped; without CI only the skipped suite', () => {
    const ci = recorder();
    const body = jest.fn();
    new ToolGate({ CI: 'true' }, ci.declare).describe(['openssl', FAKE], 'a suite', body);
    expect(ci.declared.map((d) => [d.kind, d.name])).toEqual([
      ['describe', `a suite [FAILED: ${FAKE} not installed]`],
      ['test', `needs ${FAKE}`],
      ['skipDescribe', `a suite [FAILED: ${FAKE} not installed]`],
    ]);
    expect(() => ci.declared[1].fn()).toThrow(new RegExp(`^${FAKE} is missing`));
    const laptop = recorder();
    new ToolGate({ CI: 'false' }, laptop.declare).describe([FAKE], 'a suite', body);
    expect(laptop.declared.map((d) => [d.kind, d.name])).toEqual([['skipDescribe', `a suite [skipped: ${FAKE} not installed]`]]);
  });

  test('with every tool present the test and the suite are declared as they are, CI or not', () => {
    const present: Tool = { name: 'present', lookedIn: 'here', install: 'n/a', find: () => '/bin/present' };
    for (const env of [{ CI: 'true' }, {}]) {
      const { declare, declared } = recorder();
      const body = jest.fn();
      new ToolGate(env, declare).test([present], 'plain', body, 1234);
      new ToolGate(env, declare).describe(present, 'suite', jest.fn());
      expect(declared.map((d) => [d.kind, d.name])).toEqual([['test', 'plain'], ['describe', 'suite']]);
      expect(declared[0].fn).toBe(body);
    }
  });

  test('CI is on for CI=true (any case) or CI=1, off otherwise', () => {
    expect([{ CI: 'true' }, { CI: 'TRUE' }, { CI: '1' }].map((env) => isCi(env))).toEqual([true, true, true]);
    expect([{}, { CI: 'false' }, { CI: '' }, { CI: '0' }].map((env) => isCi(env))).toEqual([false, false, false, false]);
  });

  test('the tools CI installs say where they come from: pip from the pinned requirements, apt for the servers', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-empty-path-'));
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      const check = checkTools(['moto_server', 'cfn-lint', 'redis-server'], { CI: 'true' });
      expect(check).toMatchObject({ action: 'fail', missing: ['moto_server', 'cfn-lint', 'redis-server'] });
      const reason = (check as { reason: string }).reason;
      expect(reason).toContain(`moto_server is missing (looked on PATH); how CI gets it: pip package moto[server], pinned in ${PYTHON_REQUIREMENTS}`);
      expect(reason).toContain(`cfn-lint is missing (looked on PATH); how CI gets it: pip package cfn-lint, pinned in ${PYTHON_REQUIREMENTS}`);
      expect(reason).toContain('redis-server is missing (looked on PATH); how CI gets it: Debian/Ubuntu package redis-server');
    } finally {
      process.env.PATH = saved;
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test('the requirements file pins each Python tool to one version, and .ci/run and the workflows install from it', () => {
    const pins = fs.readFileSync(path.join(ROOT, PYTHON_REQUIREMENTS), 'utf-8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(pins.every((l) => /^[A-Za-z0-9_.-]+(\[[a-z,]+\])?==[\w.]+$/.test(l))).toBe(true);
    expect(pins).toEqual(expect.arrayContaining([expect.stringMatching(/^moto\[server\]==\d/), expect.stringMatching(/^cfn-lint==\d/)]));
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf-8')).toContain(PYTHON_REQUIREMENTS);
    for (const workflow of ['build.yml', 'release.yml']) {
      expect(fs.readFileSync(path.join(ROOT, '.github', 'workflows', workflow), 'utf-8')).toContain(`pip install -r ${PYTHON_REQUIREMENTS}`);
    }
  });

  test('chromium: Debian\'s package in .ci/run and in the tool check; the browser CHROMIUM_PATH names wins; the workflows name the runner\'s Chrome', () => {
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf-8')).toMatch(/^APT_PACKAGES=\(.* chromium[ )]/m);
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'check-tools'), 'utf-8')).toContain('chromium=${CHROMIUM_PATH:-/usr/bin/chromium}');
    for (const workflow of ['build.yml', 'release.yml']) {
      expect(fs.readFileSync(path.join(ROOT, '.github', 'workflows', workflow), 'utf-8')).toContain('CHROMIUM_PATH=$(command -v google-chrome');
    }
    const saved = process.env.CHROMIUM_PATH;
    try {
      process.env.CHROMIUM_PATH = process.execPath; // any executable file
      expect(TOOLS.chromium.find()).toBe(process.execPath);
      process.env.CHROMIUM_PATH = path.join(ROOT, 'no-such-browser');
      expect(TOOLS.chromium.find()).toBeUndefined();
      expect(checkTools(['chromium'], { CI: 'true' })).toMatchObject({ action: 'fail', missing: ['chromium'] });
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
  });
});
