import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

// integ-tests-alpha's assertion handler (the code that judges an assertion on AWS) imports the
// Step Functions client for its waiter; matching does not need it, and it is not installed here.
jest.mock('@aws-sdk/client-sfn', () => ({ SFN: class {} }), { virtual: true });

/**
 * Synthesizes an integration test app (`integ/integ.<name>.ts`) as integ-runner does, into a
 * fresh folder, and returns that folder.
 */
export function synthIntegApp(file: string): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-integ-'));
  execFileSync(process.execPath, ['-r', 'ts-node/register', file], {
    cwd: ROOT,
    env: { ...process.env, CDK_OUTDIR: outdir, TS_NODE_PROJECT: 'tsconfig.dev.json', TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: 'pipe',
  });
  return outdir;
}

/** The resources of one synthesized template of `outdir` whose file name contains `fragment`. */
export function templateResources(outdir: string, fragment: string): Array<{ Type: string; Properties: Record<string, any> }> {
  const file = fs.readdirSync(outdir).find((f) => f.includes(fragment) && f.endsWith('.template.json'));
  if (!file) throw new Error(`no template named *${fragment}*.template.json in ${outdir}`);
  return Object.values(JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf-8')).Resources);
}

/**
 * Runs integ-tests-alpha's own assertion handler, as the deployed assertion does, over the
 * `expected` of a synthesized assertion and an `actual` response (for a Lambda invoke, shaped as
 * the Invoke API returns it through that provider: `Payload` is the JSON text of the result).
 */
export async function judgeAssertion(expected: string, actual: Record<string, unknown>): Promise<{ failed?: boolean; assertion: string }> {
  const dir = path.dirname(require.resolve('@aws-cdk/integ-tests-alpha/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { AssertionHandler } = require(path.join(dir, 'lib', 'assertions', 'providers', 'lambda-handler', 'assertion.js'));
  const handler = new AssertionHandler(
    { RequestType: 'Create', LogicalResourceId: 'Assert', ResourceProperties: { actual, expected } },
    { getRemainingTimeInMillis: () => 60_000, logStreamName: 'test' },
  );
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return await handler.handle();
  } finally {
    log.mockRestore();
  }
}

/** A Lambda Invoke response as the assertion provider hands it over. */
export function invokeResponse(result: unknown): Record<string, unknown> {
  return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: JSON.stringify(result) };
}
