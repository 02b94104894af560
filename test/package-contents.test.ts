/**
 * The npm package never ships the local server's data folder (`.local/`, e.g. demo runs) or
 * scratch folders (`.tmp/`), wherever they are: `npm pack` itself says what it would pack.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

jest.setTimeout(120_000);

const root = path.join(__dirname, '..');

test('npm pack leaves out .local/ and .tmp/ folders (at the root and under shipped folders)', () => {
  const probes = [
    path.join(root, '.local', `pack-probe-${process.pid}`, 'workflow.json'),
    path.join(root, 'assets', 'cli', '.local', `pack-probe-${process.pid}.json`),
    path.join(root, '.tmp', `pack-probe-${process.pid}.json`),
  ];
  const created = probes.map((file) => {
    // Remove afterwards only what this test created.
    const firstNew = path.relative(root, file).split(path.sep).reduce<string | undefined>((found, _part, i, parts) => {
      if (found) return found;
      const candidate = path.join(root, ...parts.slice(0, i + 1));
      return fs.existsSync(candidate) ? undefined : candidate;
    }, undefined);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"secret": true}');
    return firstNew ?? file;
  });
  try {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('package.json');
    expect(files.filter((f) => /(^|\/)\.(local|tmp)\//.test(f))).toEqual([]);
  } finally {
    for (const p of created) fs.rmSync(p, { recursive: true, force: true });
  }
});
