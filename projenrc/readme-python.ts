/**
 * The README's Python examples, generated from its TypeScript ones (`npx projen docs:readme`,
 * run in post-compile after `docs:examples` has compiled and translated every example).
 *
 * - README.md (npm, GitHub): after every ```ts block comes its Python translation, a ```python
 *   block under the MARKER comment. The translation is jsii-rosetta's, read from the tablet that
 *   `docs:examples` wrote, so it is exactly what jsii-pacmak puts on PyPI. A stale or missing
 *   block is rewritten; the build then leaves README.md changed and `.ci/run` fails ("no changes
 *   after build") until the new text is committed.
 * - The assembly (.jsii): jsii copied README.md into it at compile time. Its marked Python blocks
 *   are removed again, because jsii-pacmak translates each ```ts block of the assembly's README
 *   into Python for the PyPI README (and the module docstring): without this, PyPI would show
 *   every example twice. The npm tarball and the release's `package:python` take this assembly.
 */
import * as fs from 'node:fs';

/** The line above every generated Python block. */
export const MARKER = '<!-- Python: generated from the TypeScript example above by `npx projen docs:readme`; edit the TypeScript -->';

const FENCE = /^```(\S*)/;

/** A fenced block of the README: its language, source and the lines it spans (closing fence included). */
interface Block {
  readonly language: string;
  readonly source: string;
  readonly start: number;
  readonly end: number;
}

/** The fenced code blocks of `lines` (fences at the start of a line, as the README writes them). */
function blocks(lines: readonly string[]): Block[] {
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    if (j >= lines.length) throw new Error(`README.md: the code block opened on line ${i + 1} is never closed`);
    found.push({ language: open[1], source: lines.slice(i + 1, j).join('\n') + '\n', start: i, end: j });
    i = j;
  }
  return found;
}

function isTypeScript(language: string): boolean {
  return language === 'ts' || language === 'typescript';
}

/**
 * The generated Python block that follows the TypeScript block ending on line `end`, as the lines
 * it spans from the blank line before the marker to its closing fence; undefined when there is none.
 */
function generatedAfter(lines: readonly string[], end: number): { from: number; to: number } | undefined {
  let i = end + 1;
  while (i < lines.length && lines[i].trim() === '') i++;
  if (lines[i] !== MARKER) return undefined;
  const open = i + 1;
  if (!/^```python\s*$/.test(lines[open] ?? '')) {
    throw new Error(`README.md: line ${i + 1} marks a generated Python example, but line ${open + 1} does not open a \`\`\`python block`);
  }
  let close = open + 1;
  while (close < lines.length && !/^```\s*$/.test(lines[close])) close++;
  if (close >= lines.length) throw new Error(`README.md: the Python block opened on line ${open + 1} is never closed`);
  return { from: end + 1, to: close };
}

/**
 * README text in which every TypeScript block is followed by `translate(its source)` as a marked
 * ```python block (an existing marked block is replaced). `translate` gets the source and the
 * 1-based line of the block's opening fence.
 */
export function withPythonExamples(markdown: string, translate: (source: string, line: number) => string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  let next = 0;
  for (const b of blocks(lines)) {
    if (b.start < next) continue; // a block inside a generated one was consumed with it
    if (!isTypeScript(b.language)) continue;
    out.push(...lines.slice(next, b.end + 1));
    const python = translate(b.source, b.start + 1).replace(/\n*$/, '\n');
    out.push('', MARKER, '```python', ...python.slice(0, -1).split('\n'), '```');
    const old = generatedAfter(lines, b.end);
    next = old ? old.to + 1 : b.end + 1;
  }
  out.push(...lines.slice(next));
  return out.join('\n');
}

/** README text without its generated Python blocks (and the blank line before each marker). */
export function withoutPythonExamples(markdown: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  let next = 0;
  for (const b of blocks(lines)) {
    if (b.start < next || !isTypeScript(b.language)) continue;
    const old = generatedAfter(lines, b.end);
    if (!old) continue;
    out.push(...lines.slice(next, b.end + 1));
    next = old.to + 1;
  }
  out.push(...lines.slice(next));
  return out.join('\n');
}

/** Marker lines that do not sit right after a TypeScript block (a generated block left behind). */
export function strayMarkers(markdown: string): number[] {
  const lines = markdown.split('\n');
  const owned = new Set<number>();
  for (const b of blocks(lines)) {
    if (!isTypeScript(b.language)) continue;
    const old = generatedAfter(lines, b.end);
    if (old) owned.add(lines.indexOf(MARKER, old.from) + 1);
  }
  return lines.flatMap((l, i) => (l === MARKER && !owned.has(i + 1) ? [i + 1] : []));
}

interface AssemblyFile {
  readonly name: string;
  readonly schema?: string;
  readme?: { markdown: string };
  fingerprint: string;
  readonly [key: string]: unknown;
}

async function main(): Promise<void> {
  // Loaded here, not at the top: the tests of the text functions above need no compiler.
  const {
    RosettaTabletReader, TargetLanguage, UnknownSnippetMode, enforcesStrictMode, typeScriptSnippetFromSource,
  } = await import('jsii-rosetta');
  const readmePath = 'README.md';
  const assemblyPath = '.jsii';
  const tabletPath = process.argv[2] ?? '.tmp/rosetta/tablet.json';
  for (const [file, how] of [[assemblyPath, 'npx projen compile'], [tabletPath, 'npx projen docs:examples']]) {
    if (!fs.existsSync(file)) throw new Error(`docs:readme: ${file} is missing: run \`${how}\` first`);
  }
  const assembly = JSON.parse(fs.readFileSync(assemblyPath, 'utf-8')) as AssemblyFile;
  if (assembly.schema === 'jsii/file-redirect') {
    throw new Error('docs:readme: .jsii is a redirect to a compressed assembly; this script edits only an uncompressed .jsii');
  }

  // Translations come from the tablet only: an example it lacks fails here rather than being
  // translated without its compilation check.
  const rosetta = new RosettaTabletReader({ unknownSnippets: UnknownSnippetMode.FAIL });
  await rosetta.loadTabletFromFile(tabletPath);
  const strict = enforcesStrictMode(assembly as never);
  const api = { api: 'moduleReadme' as const, moduleFqn: assembly.name };

  const before = fs.readFileSync(readmePath, 'utf-8');
  const stray = strayMarkers(before);
  if (stray.length > 0) {
    throw new Error(`README.md: the generated-Python marker on line(s) ${stray.join(', ')} follows no TypeScript example: remove it and the Python block under it`);
  }
  let count = 0;
  const after = withPythonExamples(before, (source, line) => {
    const snippet = typeScriptSnippetFromSource(source, { api, field: { field: 'markdown', line } }, strict);
    const translation = rosetta.translateSnippet(snippet, TargetLanguage.PYTHON);
    if (!translation) throw new Error(`README.md: no Python translation of the TypeScript example on line ${line} in ${tabletPath}`);
    count++;
    return translation.source;
  });
  if (after !== before) {
    fs.writeFileSync(readmePath, after);
    console.log(`README.md: Python examples regenerated (${count} TypeScript examples); commit README.md`);
  } else {
    console.log(`README.md: the Python of all ${count} TypeScript examples is up to date`);
  }

  // The assembly's README keeps one example per snippet, which every jsii target translates.
  const markdown = assembly.readme?.markdown;
  if (markdown !== undefined) {
    const stripped = withoutPythonExamples(markdown);
    if (stripped !== markdown) {
      assembly.readme = { markdown: stripped };
      // As @jsii/spec's replaceAssembly does for a modified assembly (jsii-rosetta infuse).
      assembly.fingerprint = '*'.repeat(10);
      fs.writeFileSync(assemblyPath, JSON.stringify(assembly, undefined, 2) + '\n');
      console.log('.jsii: generated Python examples removed from the README (jsii-pacmak translates the TypeScript ones)');
    }
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
