/**
 * The layer rules of .projenrc.ts (import/no-restricted-paths, no-restricted-imports) fail a wrong
 * import: each case lints a real file of its layer with one import added.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadESLint } from 'eslint';

const ROOT = path.join(__dirname, '..', '..');

async function lintWith(file: string, extraImport: string): Promise<string[]> {
  // The project's .eslintrc.json, as `npx projen eslint` reads it.
  const LegacyESLint = await loadESLint({ useFlatConfig: false });
  const eslint = new LegacyESLint({ cwd: ROOT });
  const text = `${extraImport}\n${fs.readFileSync(path.join(ROOT, file), 'utf8')}`;
  const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'import/no-restricted-paths' || m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layers', () => {
  test.each([
    ['src/runtime/ids.ts', "import { DurableOrchestrator } from '../durable-orchestrator/durable-orchestrator';", /runtime and the contract never import construct code/],
    ['src/runtime/ids.ts', "import { Stack } from 'aws-cdk-lib';", /runtime code runs without aws-cdk-lib/],
    ['src/contract/routes.ts', "import { createApi } from '../runtime/api';", /contract module depends on nothing but itself/],
    ['src/durable-orchestrator/agent-target.ts', "import { createApi } from '../runtime/api';", /constructs never import runtime code/],
    ['src/secure-api/secure-api.ts', "import { startLocalServer } from '../cli/server';", /constructs never import runtime code/],
  ])('%s may not: %s', async (file, extraImport, message) => {
    expect(await lintWith(file, extraImport)).toEqual([expect.stringMatching(message)]);
  }, 120_000);

  test.each([
    ['src/durable-orchestrator/handlers/api.lambda.ts', "import { createApi as again } from '../../runtime/api';"],
    ['src/durable-orchestrator/durable-orchestrator.ts', "import { ROUTES } from '../contract/routes';"],
    ['src/runtime/api.ts', "import { keys } from '../contract/table';"],
  ])('%s may: %s', async (file, extraImport) => {
    expect(await lintWith(file, extraImport)).toEqual([]);
  }, 120_000);
});
