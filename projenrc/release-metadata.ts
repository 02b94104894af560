/**
 * Release metadata that follows the version: the jsii `stability` of the package, and with it the
 * "Development Status" trove classifier jsii-pacmak writes into the Python package.
 *
 * - 0.x (and any prerelease, such as 1.0.0-rc.1): `experimental`, which jsii-pacmak publishes as
 *   "Development Status :: 4 - Beta". Beta rather than Alpha: every construct and workflow step is
 *   built and tested (unit, integration snapshots, synthesis from Python), but under 0.x a minor
 *   release may still change the API; that is what Beta says, and it is also jsii's own reading of
 *   `experimental` (it marks each API "(experimental)" in the Python docstrings accordingly).
 * - 1.0.0 and later: `stable`, "Development Status :: 5 - Production/Stable".
 *
 * The version is only known when a release is built (projen keeps 0.0.0 in package.json and the
 * `bump` task writes the real one). So `.projenrc.ts` takes the stability of the version being
 * built, and the `bump` and `unbump` tasks bring package.json's `stability` in line with the
 * version they write (`unbump` back to what is committed, so the release's clean-tree check holds).
 * `package:python-local` checks the built wheel's classifier against its version.
 *
 * Usage (the tasks run these): `ts-node projenrc/release-metadata.ts sync-stability [package.json]`,
 * `... check-wheels dist/python` (every wheel in the folder; python3 reads them).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The jsii stability levels this project publishes. */
export type Stability = 'experimental' | 'stable';

/** The trove classifier jsii-pacmak writes for each stability (jsii-pacmak `targets/python.js`). */
export const DEVELOPMENT_STATUS: Record<Stability, string> = {
  experimental: 'Development Status :: 4 - Beta',
  stable: 'Development Status :: 5 - Production/Stable',
};

/** The stability of a release version: `experimental` before 1.0.0 and for prereleases, else `stable`. */
export function stabilityOf(version: string): Stability {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (!m) throw new Error(`release metadata: '${version}' is not a semantic version such as 0.4.1 or 1.0.0-rc.1`);
  const [, major, , , prerelease] = m;
  return Number(major) === 0 || prerelease !== undefined ? 'experimental' : 'stable';
}

/**
 * The version being built, as projen decides it: package.json's version in a release build
 * (`RELEASE` set, after `bump`), 0.0.0 otherwise (projen rewrites package.json with 0.0.0).
 */
export function versionBeingBuilt(packageJsonPath = 'package.json', env: NodeJS.ProcessEnv = process.env): string {
  const release = (env.RELEASE ?? '').trim().toLowerCase();
  if (release === '' || release === 'false' || release === '0') return '0.0.0';
  if (!fs.existsSync(packageJsonPath)) return '0.0.0';
  return JSON.parse(fs.readFileSync(packageJsonPath, 'utf8')).version ?? '0.0.0';
}

/**
 * Sets package.json's `stability` to that of its `version` (written as projen's version tasks write
 * it: two-space JSON and a final newline). Returns the stability.
 */
export function syncStability(packageJsonPath = 'package.json'): Stability {
  const manifest = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8'));
  const stability = stabilityOf(String(manifest.version));
  if (manifest.stability !== stability) {
    manifest.stability = stability;
    fs.writeFileSync(packageJsonPath, JSON.stringify(manifest, undefined, 2) + '\n');
  }
  return stability;
}

/**
 * Checks the METADATA of a built wheel (or an sdist's PKG-INFO): exactly one "Development Status"
 * classifier, the one its Version calls for. Returns the problems (none when it is right).
 */
export function checkPythonMetadata(metadata: string): string[] {
  const version = /^Version: *(.+)$/m.exec(metadata)?.[1]?.trim();
  if (!version) return ['the metadata has no Version field'];
  // Python versions of prereleases read 1.0.0rc1 (PEP 440); make them semantic for stabilityOf.
  const semantic = version.replace(/^(\d+\.\d+\.\d+)\.?((?:a|b|rc|dev)\d*)$/, '$1-$2');
  const statuses = [...metadata.matchAll(/^Classifier: *(Development Status ::.*)$/gm)].map((m) => m[1].trim());
  const expected = DEVELOPMENT_STATUS[stabilityOf(semantic)];
  if (statuses.length === 1 && statuses[0] === expected) return [];
  return [`version ${version} should carry the classifier '${expected}', found ${statuses.length ? statuses.map((s) => `'${s}'`).join(', ') : 'none'} `
    + '(the stability in package.json follows the version: projenrc/release-metadata.ts)'];
}

/** The METADATA file of a wheel (read with python3's zipfile: a wheel is a zip archive). */
export function wheelMetadata(wheel: string, python = process.env.PYTHON ?? 'python3'): string {
  const read = 'import sys, zipfile\n'
    + 'z = zipfile.ZipFile(sys.argv[1])\n'
    + 'names = [n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]\n'
    + 'sys.stdout.write(z.read(names[0]).decode("utf-8") if len(names) == 1 else "")\n';
  return execFileSync(python, ['-c', read, wheel], { encoding: 'utf8' });
}

function main(argv: string[]): number {
  const [command, arg] = argv;
  if (command === 'sync-stability') {
    const file = arg ?? 'package.json';
    console.log(`release metadata: ${file} stability is ${syncStability(file)}`);
    return 0;
  }
  if (command === 'check-wheels') {
    const dir = arg ?? 'dist/python';
    const wheels = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.whl')) : [];
    if (wheels.length === 0) {
      console.error(`release metadata: no wheel in ${dir}; build one first`);
      return 1;
    }
    let failed = false;
    for (const wheel of wheels) {
      const problems = checkPythonMetadata(wheelMetadata(path.join(dir, wheel)));
      for (const p of problems) console.error(`release metadata: ${wheel}: ${p}`);
      if (problems.length === 0) console.log(`release metadata: ${wheel}: the Development Status classifier follows the version`);
      failed ||= problems.length > 0;
    }
    return failed ? 1 : 0;
  }
  console.error('usage: release-metadata.ts sync-stability [package.json] | check-wheels [dist/python]');
  return 2;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
