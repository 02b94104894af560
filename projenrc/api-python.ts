/**
 * API.python.md, the Python API reference (`jsii-docgen -l python`), with the Python names of
 * members whose TypeScript names hold `KiB`, `MiB` or `GiB` spelled as the bindings spell them.
 *
 * jsii-pacmak keeps these abbreviations as one word (`memoryLimitMiB` is `memory_limit_mib` in
 * the Python package), but jsii-docgen 10 splits them (`memory_limit_mi_b`), so a Python reader
 * who copied the reference would pass a keyword argument that does not exist
 * (https://github.com/aws/jsii/issues/3516). Run after jsii-docgen in the `docgen` task.
 */
import * as fs from 'node:fs';

/** `memory_limit_mi_b` -> `memory_limit_mib` (and `_ki_b`, `_gi_b`), as whole words only. */
export function fixAbbreviations(markdown: string): string {
  return markdown.replace(/\b([a-z][a-z0-9_]*_[kmg]i)_b\b/g, '$1b');
}

if (require.main === module) {
  const file = process.argv[2] ?? 'API.python.md';
  const before = fs.readFileSync(file, 'utf-8');
  const after = fixAbbreviations(before);
  if (after !== before) fs.writeFileSync(file, after);
}
