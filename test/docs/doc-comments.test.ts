import * as fs from 'fs';
import * as path from 'path';

const SRC = path.join(__dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

test('no doc comment in src/ uses {@link}: jsii copies it raw into the Python docstrings (write the name in backticks)', () => {
  const found = sources(SRC).flatMap((file) => fs.readFileSync(file, 'utf-8').split('\n')
    .flatMap((line, i) => (line.includes('{@link') ? [`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`] : [])));
  expect(found).toEqual([]);
});
