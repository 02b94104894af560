import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { build } from 'esbuild';
import { tempDir, testAgents } from './helpers';
import { builtFile, testIfInstalled } from '../helpers/tools';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const TESTING_SDK = path.join(ROOT, 'node_modules', '@aws', 'durable-execution-sdk-js-testing', 'dist-cjs');
const DURABLE_SDK = path.join(ROOT, 'node_modules', '@aws', 'durable-execution-sdk-js', 'dist-cjs');

/**
 * Bundles the command as the library's build does (see the report in src/cli): the CommonJS
 * builds of both durable SDKs (one copy of each; the ESM build of the testing SDK cannot find
 * its worker from a bundle), the testing SDK's checkpoint worker beside the bundle, and the peer
 * dependencies aws-cdk-lib and constructs left out.
 */
async function bundle(outdir: string): Promise<void> {
  const common = { bundle: true, platform: 'node' as const, target: 'node22', format: 'cjs' as const, logLevel: 'warning' as const };
  await build({
    ...common,
    entryPoints: [path.join(ROOT, 'src', 'cli', 'main.ts')],
    outfile: path.join(outdir, 'index.js'),
    external: ['aws-cdk-lib', 'constructs'],
    alias: {
      '@aws/durable-execution-sdk-js-testing': path.join(TESTING_SDK, 'index.js'),
      '@aws/durable-execution-sdk-js': path.join(DURABLE_SDK, 'index.js'),
    },
  });
  await build({ ...common, entryPoints: [path.join(TESTING_SDK, 'checkpoint-server', 'index.js')], outfile: path.join(outdir, 'checkpoint-server', 'index.js') });
}

function node(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 45_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const agentArgs = Object.entries(testAgents()).flatMap(([name, command]) => ['--agent', `${name}=${command.join(' ')}`]);

describe('the bundled command', () => {
  let outdir: string;
  beforeAll(async () => {
    outdir = tempDir('cdkda-bundle-');
    await bundle(outdir);
  });

  test('is small: the AWS CDK stays a peer dependency', () => {
    expect(fs.statSync(path.join(outdir, 'index.js')).size).toBeLessThan(8 * 1024 * 1024);
  });

  test('--version prints the package version, found from the bundle', async () => {
    const result = await node([path.join(outdir, 'index.js'), '--version'], { NODE_PATH: path.join(ROOT, 'node_modules') });
    expect(result).toEqual({ code: 0, stdout: `${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}\n`, stderr: '' });
  });

  test('runs the demo end to end from the bundle', async () => {
    // aws-cdk-lib is found where an installed package finds it: in node_modules above it.
    const result = await node([path.join(outdir, 'index.js'), 'demo', '--data-dir', tempDir(), ...agentArgs], { NODE_PATH: path.join(ROOT, 'node_modules') });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/demo: workflow wf-\w+ SUCCEEDED\ndemo: report: \S+report\.md/);
    expect(result.code).toBe(0);
  });

  test('without the testing SDK\'s worker beside it, the demo still runs: the local server\'s durable engine is in-process', async () => {
    const alone = tempDir('cdkda-bundle-');
    fs.copyFileSync(path.join(outdir, 'index.js'), path.join(alone, 'index.js'));
    const result = await node([path.join(alone, 'index.js'), 'demo', '--data-dir', tempDir(), ...agentArgs], { NODE_PATH: path.join(ROOT, 'node_modules') });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/demo: workflow wf-\w+ SUCCEEDED/);
    expect(result.code).toBe(0);
  });
});

/** The command the library's build bundles (assets/cli/index.js): missing, it fails under CI=true and is skipped elsewhere. */
const BUILT = path.join(ROOT, 'assets', 'cli', 'index.js');
testIfInstalled(builtFile(BUILT, '`npx projen bundle`, which the test and build tasks run before jest'), `the built command (${path.relative(ROOT, BUILT)}) runs the demo`, async () => {
  const result = await node([BUILT, 'demo', '--data-dir', tempDir(), ...agentArgs]);
  expect(result.stderr).toBe('');
  expect(result.stdout).toMatch(/demo: workflow wf-\w+ SUCCEEDED/);
  expect(result.code).toBe(0);
});
