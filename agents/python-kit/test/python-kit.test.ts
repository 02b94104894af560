/**
 * The Python agent kit from jest: its own unittest suite (agents/python-kit/test/test_*.py), and its wheel,
 * built as a Python team would build it from this repository (setuptools, Debian's python3-build
 * without isolation, as `npx projen package:python-local` builds the library's wheel), checked
 * with twine and imported from the wheel alone. Without python3 (or Debian's build tools) the
 * tests fail under CI=true and are skipped elsewhere, saying why.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KIT_ROOT, python3 } from './helpers';
import { AGENT_SECRETS_ENV, ENVELOPE_ENV, secretArnEnv } from '../../../src/contract/agents';
import { CALLBACK_TOKEN_HEADER } from '../../../src/contract/status';
import { MAX_OUTPUT_BYTES } from '../../../src/runtime/api';
import { testIfInstalled, Tool } from '../../../test/helpers/tools';

testIfInstalled('python3', 'the Python agent kit passes its unittest suite', () => {
  const result = spawnSync(python3(), ['-B', '-m', 'unittest', 'discover', '-s', path.join(KIT_ROOT, 'test'), '-v'], {
    encoding: 'utf-8',
    timeout: 110_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  // unittest prints its summary on stderr: "Ran N tests" then "OK" or "FAILED (...)".
  const summary = result.stderr.split('\n').slice(-6).join('\n');
  expect({ status: result.status, summary }).toEqual({ status: 0, summary: expect.stringMatching(/Ran (\d+) tests? in [\d.]+s\n\nOK/) });
  expect(Number(/Ran (\d+) tests?/.exec(result.stderr)![1])).toBeGreaterThanOrEqual(80);
  // Skipped tests say so ("skipped '<reason>'"); under CI=true a missing module fails instead.
  if (process.env.CI === 'true') expect(result.stderr).not.toMatch(/ skipped /);
}, 120_000);

/** Debian's python3 with build, setuptools, wheel and twine (apt packages .ci/run installs). */
const DEBIAN_PYTHON = '/usr/bin/python3';
const buildTools: Tool = {
  name: `${DEBIAN_PYTHON} with build, setuptools, wheel and twine`,
  lookedIn: 'at /usr/bin/python3',
  install: 'Debian/Ubuntu packages python3-build python3-setuptools python3-wheel twine; .ci/run installs them with apt-get when missing',
  find: () => {
    if (!fs.existsSync(DEBIAN_PYTHON)) return undefined;
    const ok = spawnSync(DEBIAN_PYTHON, ['-c', 'import build, setuptools, wheel, twine'], { encoding: 'utf-8' }).status === 0;
    return ok ? DEBIAN_PYTHON : undefined;
  },
};

testIfInstalled(buildTools, 'the kit builds into a wheel with no dependencies but an aws extra, passes twine check and imports from the wheel', () => {
  // Built from a copy, so that no build/ or *.egg-info is left in the tree.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pykit-wheel-'));
  try {
    const src = path.join(work, 'src');
    fs.mkdirSync(src);
    for (const entry of ['pyproject.toml', 'README.md', 'src']) {
      fs.cpSync(path.join(KIT_ROOT, entry), path.join(src, entry), { recursive: true, filter: (f) => !f.includes('__pycache__') });
    }
    const out = path.join(work, 'dist');
    const build = spawnSync(DEBIAN_PYTHON, ['-m', 'build', '--no-isolation', '--skip-dependency-check', '--wheel', '--sdist', '--outdir', out, src],
      { encoding: 'utf-8', timeout: 100_000 });
    expect({ status: build.status, stderr: build.status === 0 ? '' : build.stderr }).toEqual({ status: 0, stderr: '' });
    const files = fs.readdirSync(out).sort();
    // The sdist's name follows the setuptools version (cdk-durable-agents-kit or, from 69.3, cdk_durable_agents_kit).
    expect(files).toHaveLength(2);
    expect(files).toEqual(expect.arrayContaining([
      expect.stringMatching(/^cdk[-_]durable[-_]agents[-_]kit-0\.1\.0\.tar\.gz$/),
      'cdk_durable_agents_kit-0.1.0-py3-none-any.whl',
    ]));
    const twine = spawnSync(DEBIAN_PYTHON, ['-m', 'twine', 'check', '--strict', ...files.map((f) => path.join(out, f))], { encoding: 'utf-8' });
    expect({ status: twine.status, out: twine.stdout }).toEqual({ status: 0, out: expect.stringContaining('PASSED') });

    // The wheel alone (a zip on sys.path): the package, its metadata, and an agent run on it.
    const wheel = path.join(out, files.find((f) => f.endsWith('.whl'))!);
    const probe = [
      'import json, sys, zipfile',
      `sys.path.insert(0, ${JSON.stringify(wheel)})`,
      'import cdk_durable_agents_kit as kit',
      `names = zipfile.ZipFile(${JSON.stringify(wheel)}).namelist()`,
      'meta = [n for n in names if n.endswith("METADATA")][0]',
      `text = zipfile.ZipFile(${JSON.stringify(wheel)}).read(meta).decode()`,
      'print(json.dumps({"from_wheel": kit.__file__.startswith(sys.path[0]), "typed": "cdk_durable_agents_kit/py.typed" in names,',
      '  "requires": sorted(l for l in text.splitlines() if l.startswith("Requires-Dist")),',
      '  "status": [l for l in text.splitlines() if l.startswith("Classifier: Development Status")],',
      '  "offline": kit.provider_from_env({}).name, "version": kit.__version__}))',
    ].join('\n');
    const run = spawnSync(python3(), ['-B', '-I', '-c', probe], { encoding: 'utf-8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({
      from_wheel: true,
      typed: true,
      requires: ["Requires-Dist: boto3 (>=1.34) ; extra == 'aws'", "Requires-Dist: botocore (>=1.34) ; extra == 'aws'"],
      status: ['Classifier: Development Status :: 3 - Alpha'],
      offline: 'offline',
      version: '0.1.0',
    });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}, 120_000);

testIfInstalled('python3', 'the kit\'s names are the contract\'s (src/contract): envelope variable, token header, secrets, output limit', () => {
  const probe = [
    'import json, sys',
    `sys.path.insert(0, ${JSON.stringify(path.join(KIT_ROOT, 'src'))})`,
    'import cdk_durable_agents_kit as kit',
    'from cdk_durable_agents_kit import agent',
    'print(json.dumps({"envelope": kit.ENVELOPE_ENV, "header": kit.CALLBACK_TOKEN_HEADER.lower(), "secrets": kit.SECRETS_ENV,',
    '  "arn": kit.secret_arn_env("X"), "output": agent.MAX_OUTPUT_BYTES, "version": kit.ENVELOPE_VERSION}))',
  ].join('\n');
  const run = spawnSync(python3(), ['-B', '-c', probe], { encoding: 'utf-8' });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  expect(JSON.parse(run.stdout)).toEqual({
    envelope: ENVELOPE_ENV,
    header: CALLBACK_TOKEN_HEADER,
    secrets: AGENT_SECRETS_ENV,
    arn: secretArnEnv('X'),
    output: MAX_OUTPUT_BYTES,
    version: 1,
  });
});
