import * as fs from 'fs';
import * as path from 'path';
import { MARKER, strayMarkers, withoutPythonExamples, withPythonExamples } from '../../projenrc/readme-python';

const fence = '```';
const ts = (body: string) => `${fence}ts\n${body}\n${fence}`;
const py = (body: string) => `${MARKER}\n${fence}python\n${body}\n${fence}`;
const upper = (source: string) => source.toUpperCase();

describe('withPythonExamples', () => {
  test('writes the translation under every TypeScript block, and leaves other blocks alone', () => {
    const md = ['# t', '', ts('const a = 1;'), '', 'text', '', `${fence}bash\nnpm ci\n${fence}`, '', ts('const b = 2;'), ''].join('\n');
    expect(withPythonExamples(md, upper)).toBe([
      '# t', '', ts('const a = 1;'), '', py('CONST A = 1;'), '', 'text', '',
      `${fence}bash\nnpm ci\n${fence}`, '', ts('const b = 2;'), '', py('CONST B = 2;'), '',
    ].join('\n'));
  });

  test('replaces a stale generated block and is stable once up to date', () => {
    const stale = ['intro', '', ts('const a = 1;'), '', py('OLD'), '', 'after'].join('\n');
    const fresh = withPythonExamples(stale, upper);
    expect(fresh).toBe(['intro', '', ts('const a = 1;'), '', py('CONST A = 1;'), '', 'after'].join('\n'));
    expect(withPythonExamples(fresh, upper)).toBe(fresh);
  });

  test('passes each block its source and the line of its opening fence', () => {
    const seen: Array<[string, number]> = [];
    withPythonExamples(['a', '', ts('x();\ny();')].join('\n'), (source, line) => {
      seen.push([source, line]);
      return source;
    });
    expect(seen).toEqual([['x();\ny();\n', 3]]);
  });

  test('keeps a hand-written Python block that is not marked (no TypeScript twin)', () => {
    const md = [`${fence}python\nprint(1)\n${fence}`, '', ts('f();')].join('\n');
    expect(withPythonExamples(md, upper)).toBe([`${fence}python\nprint(1)\n${fence}`, '', ts('f();'), '', py('F();')].join('\n'));
  });

  test('refuses a marker over something that is not a Python block', () => {
    expect(() => withPythonExamples([ts('f();'), '', MARKER, 'prose'].join('\n'), upper))
      .toThrow(/line 5 marks a generated Python example, but line 6 does not open a ```python block/);
  });
});

describe('withoutPythonExamples', () => {
  test('removes the generated blocks and their markers, nothing else', () => {
    const withPy = ['# t', '', ts('const a = 1;'), '', py('CONST A = 1;'), '', `${fence}python\nprint(1)\n${fence}`, ''].join('\n');
    expect(withoutPythonExamples(withPy)).toBe(['# t', '', ts('const a = 1;'), '', `${fence}python\nprint(1)\n${fence}`, ''].join('\n'));
  });

  test('undoes withPythonExamples', () => {
    const md = ['# t', '', ts('const a = 1;'), '', 'middle', '', ts('const b = 2;'), ''].join('\n');
    expect(withoutPythonExamples(withPythonExamples(md, upper))).toBe(md);
  });
});

describe('strayMarkers', () => {
  test('finds a marker left behind when its TypeScript example was deleted', () => {
    expect(strayMarkers(['intro', '', py('LEFT OVER'), '', ts('f();'), '', py('F();')].join('\n'))).toEqual([3]);
  });
});

describe('README.md', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf-8');

  test('every TypeScript example is followed by its generated Python, and no generated block is left over', () => {
    const tsBlocks = readme.split('\n').filter((l) => l === '```ts' || l === '```typescript').length;
    expect(tsBlocks).toBeGreaterThan(20);
    expect(readme.split('\n').filter((l) => l === MARKER)).toHaveLength(tsBlocks);
    expect(strayMarkers(readme)).toEqual([]);
    // Regenerating with the current Python as the translation changes nothing: each marked block
    // sits right under its TypeScript. Whether that Python is current is the build's check.
    const current = withoutPythonExamples(readme);
    expect(current.split('\n').filter((l) => l === MARKER)).toHaveLength(0);
  });

  test('shows an example of every construct and every workflow step kind in TypeScript', () => {
    for (const kind of ['new DurableOrchestrator(', 'new ContainerAgent(', 'new DataTier(', 'new SecureApi(',
      'new AgentStep(', 'new ApprovalStep(', 'new ChoiceStep(', 'new ParallelStep(', 'new PublishStep(',
      'RetryPolicy.exponential(', 'StepInput.fromWorkflowInput(', 'StepInput.fromStepOutput(', 'StepInput.fromArtifact(']) {
      expect(withoutPythonExamples(readme)).toContain(kind);
    }
  });
});
