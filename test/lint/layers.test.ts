/**
 * The layer rules of .projenrc.ts (import/no-restricted-paths, no-restricted-imports) fail a wrong
 * import: each case lints a copy of a real file of its layer with one import added.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

const REFUSED: Array<[string, string, RegExp]> = [
  ['src/runtime/ids.ts', "import { DurableOrchestrator } from '../durable-orchestrator/durable-orchestrator';", /runtime and the contract never import construct code/],
  ['src/runtime/values.ts', "import { Stack } from 'aws-cdk-lib';", /runtime code runs without aws-cdk-lib/],
  ['src/contract/routes.ts', "import { createApi } from '../runtime/api';", /contract module depends on nothing but itself/],
  ['src/durable-orchestrator/agent-target.ts', "import { createApi } from '../runtime/api';", /constructs never import runtime code/],
  ['src/secure-api/secure-api.ts', "import { startLocalServer } from '../cli/server';", /constructs never import runtime code/],
];
const ALLOWED: Array<[string, string]> = [
  ['src/durable-orchestrator/handlers/api.lambda.ts', "import { createApi as again } from '../../runtime/api';"],
  ['src/durable-orchestrator/durable-orchestrator.ts', "import { ROUTES } from '../contract/routes';"],
  ['src/runtime/api.ts', "import { keys } from '../contract/table';"],
];

/** Layer-rule messages per probe file. */
let findings: Map<string, string[]>;
const probeOf = (file: string) => path.join(ROOT, path.dirname(file), `lint-probe-${process.pid}-${path.basename(file)}`);

/**
 * Copies beside the files (same folder, same imports), linted by one run of the eslint command in a
 * process of its own (the project's .eslintrc.json, typed linting over tsconfig.dev.json), then removed.
 */
beforeAll(async () => {
  const cases = [...REFUSED.map(([f, i]) => [f, i]), ...ALLOWED];
  for (const [file, extraImport] of cases) fs.writeFileSync(probeOf(file), `${extraImport}\n${fs.readFileSync(path.join(ROOT, file), 'utf8')}`);
  try {
    const eslint = path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js');
    const child = spawn(process.execPath, [eslint, '--format', 'json', '--no-ignore', ...cases.map(([f]) => probeOf(f))], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ROOT, ESLINT_USE_FLAT_CONFIG: 'false' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString('utf8'); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (out.trim() === '') throw new Error(`eslint printed no report (exit ${code}): ${err}`);
    const results = JSON.parse(out) as Array<{ filePath: string; messages: Array<{ ruleId: string | null; message: string }> }>;
    findings = new Map(results.map((r) => [r.filePath, r.messages
      .filter((m) => m.ruleId === 'import/no-restricted-paths' || m.ruleId === 'no-restricted-imports').map((m) => m.message)]));
  } finally {
    for (const [file] of cases) fs.rmSync(probeOf(file), { force: true });
  }
}, 300_000);

describe('layers', () => {
  test.each(REFUSED)('%s may not: %s', (file, _import, message) => {
    expect(findings.get(probeOf(file))).toEqual([expect.stringMatching(message)]);
  });

  test.each(ALLOWED)('%s may: %s', (file) => {
    expect(findings.get(probeOf(file))).toEqual([]);
  });
});
