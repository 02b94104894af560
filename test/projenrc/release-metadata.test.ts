/**
 * The release metadata follows the version: package.json's jsii `stability`, and with it the
 * "Development Status" classifier of the Python package (projenrc/release-metadata.ts).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  checkPythonMetadata, DEVELOPMENT_STATUS, stabilityOf, syncStability, versionBeingBuilt, wheelMetadata,
} from '../../projenrc/release-metadata';

const ROOT = path.join(__dirname, '..', '..');
const PACKAGE_JSON = path.join(ROOT, 'package.json');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-metadata-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each([
  ['0.0.0', 'experimental'],
  ['0.12.3', 'experimental'],
  ['1.0.0-rc.1', 'experimental'],
  ['2.0.0-beta.0', 'experimental'],
  ['1.0.0', 'stable'],
  ['v1.2.3', 'stable'],
  ['12.4.0+build.5', 'stable'],
])('version %s is %s', (version, stability) => {
  expect(stabilityOf(version)).toBe(stability);
});

test('a version that is not semantic is refused', () => {
  expect(() => stabilityOf('1.2')).toThrow(/'1\.2' is not a semantic version such as 0\.4\.1 or 1\.0\.0-rc\.1/);
});

test('0.x is Beta, 1.x and later Production/Stable: the classifiers jsii-pacmak writes for these stabilities', () => {
  expect(DEVELOPMENT_STATUS).toEqual({ experimental: 'Development Status :: 4 - Beta', stable: 'Development Status :: 5 - Production/Stable' });
  // The mapping is jsii-pacmak's: fail here if the installed jsii-pacmak maps them otherwise.
  const pacmak = fs.readFileSync(require.resolve('jsii-pacmak/lib/targets/python.js'), 'utf8').replace(/\s+/g, ' ');
  expect(pacmak).toContain(`case spec.Stability.Experimental: setupKwargs.classifiers.push('${DEVELOPMENT_STATUS.experimental}');`);
  expect(pacmak).toContain(`case spec.Stability.Stable: setupKwargs.classifiers.push('${DEVELOPMENT_STATUS.stable}');`);
});

test('the committed package.json is at 0.0.0 and experimental (what a 0.x release publishes)', () => {
  const manifest = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8'));
  expect(manifest.version).toBe('0.0.0');
  expect(manifest.stability).toBe('experimental');
});

test('the version being built is package.json\'s in a release build (RELEASE set), 0.0.0 otherwise, as projen decides', () => {
  const file = path.join(dir, 'package.json');
  fs.writeFileSync(file, JSON.stringify({ name: 'x', version: '1.4.0' }));
  expect(versionBeingBuilt(file, { RELEASE: 'true' })).toBe('1.4.0');
  expect(versionBeingBuilt(file, {})).toBe('0.0.0');
  expect(versionBeingBuilt(file, { RELEASE: 'false' })).toBe('0.0.0');
});

test('bump then unbump: stability follows the released version, then package.json is byte for byte as committed', () => {
  const file = path.join(dir, 'package.json');
  const committed = fs.readFileSync(PACKAGE_JSON, 'utf8');
  fs.writeFileSync(file, committed);
  const setVersion = (version: string) => {
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    m.version = version;
    fs.writeFileSync(file, JSON.stringify(m, undefined, 2) + '\n'); // as projen's apply-version-bump and reset-version write it
  };
  setVersion('1.0.0');
  expect(syncStability(file)).toBe('stable');
  expect(JSON.parse(fs.readFileSync(file, 'utf8')).stability).toBe('stable');
  setVersion('0.0.0');
  expect(syncStability(file)).toBe('experimental');
  expect(fs.readFileSync(file, 'utf8')).toBe(committed);
});

test('the release tasks keep it in line, and jsii\'s reserved-word warnings are no longer silenced', () => {
  const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks;
  const last = (name: string) => tasks[name].steps[tasks[name].steps.length - 1].exec;
  expect(last('bump')).toMatch(/projenrc\/release-metadata\.ts sync-stability package\.json$/);
  expect(last('unbump')).toMatch(/projenrc\/release-metadata\.ts sync-stability package\.json$/);
  expect(last('package:python')).toMatch(/projenrc\/release-metadata\.ts check-wheels dist\/python$/);
  expect(fs.readFileSync(path.join(ROOT, 'projenrc', 'package-python.sh'), 'utf8')).toMatch(/release-metadata\.ts check-wheels dist\/python/);
  expect(tasks.compile.steps.map((s: { exec?: string }) => s.exec)).toEqual(['jsii --silence-warnings=metadata/missing-dev-dependency']);
});

describe('the check of a built wheel', () => {
  const metadata = (version: string, ...classifiers: string[]) =>
    ['Metadata-Version: 2.1', 'Name: cdk-durable-agents', `Version: ${version}`, ...classifiers.map((c) => `Classifier: ${c}`), '', 'README'].join('\n');

  test.each([
    ['0.0.0', DEVELOPMENT_STATUS.experimental],
    ['0.3.1', DEVELOPMENT_STATUS.experimental],
    ['1.0.0rc1', DEVELOPMENT_STATUS.experimental],
    ['1.0.0', DEVELOPMENT_STATUS.stable],
  ])('accepts %s with %s', (version, status) => {
    expect(checkPythonMetadata(metadata(version, 'Intended Audience :: Developers', status, 'Typing :: Typed'))).toEqual([]);
  });

  test('refuses Production/Stable at 0.0.0 (what the wheel said before), a missing status and two statuses', () => {
    expect(checkPythonMetadata(metadata('0.0.0', DEVELOPMENT_STATUS.stable))).toEqual([
      "version 0.0.0 should carry the classifier 'Development Status :: 4 - Beta', found 'Development Status :: 5 - Production/Stable' "
      + '(the stability in package.json follows the version: projenrc/release-metadata.ts)',
    ]);
    expect(checkPythonMetadata(metadata('1.2.0'))[0]).toMatch(/version 1\.2\.0 should carry the classifier 'Development Status :: 5 - Production\/Stable', found none/);
    expect(checkPythonMetadata(metadata('1.2.0', DEVELOPMENT_STATUS.stable, DEVELOPMENT_STATUS.experimental))).toHaveLength(1);
    expect(checkPythonMetadata('Name: x')).toEqual(['the metadata has no Version field']);
  });

  test('reads the METADATA of a wheel (a zip archive) with python3', () => {
    const wheel = path.join(dir, 'cdk_durable_agents-0.0.0-py3-none-any.whl');
    const text = metadata('0.0.0', DEVELOPMENT_STATUS.experimental);
    execFileSync('python3', ['-c', [
      'import sys, zipfile',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '    z.writestr("cdk_durable_agents/__init__.py", "")',
      '    z.writestr("cdk_durable_agents-0.0.0.dist-info/METADATA", sys.argv[2])',
    ].join('\n'), wheel, text]);
    expect(wheelMetadata(wheel)).toBe(text);
    expect(checkPythonMetadata(wheelMetadata(wheel))).toEqual([]);
  });
});
