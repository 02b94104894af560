/**
 * `cdk-durable-agents init`: the files it writes, what it refuses to overwrite, the merge of an
 * existing package.json, the pins (the project's own: a drift fails here), the Python app, the
 * errors; and the TypeScript template's stack synthesized against src/ (an API change that breaks
 * the template fails `npm test`), with cdk-nag over it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { tempDir } from './helpers';
import { initApp, mergeIgnoreFile, mergeManifest, templateDir } from '../../src/cli/init';
import { run } from '../../src/cli/main';
import { unacknowledgedNagFindings } from '../helpers/nag';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..');
const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;

async function cli(args: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const before = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const code = await run(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.chdir(before);
  }
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

describe('init (TypeScript)', () => {
  test('writes the app into the current folder, renames gitignore, substitutes the version, prints the next commands', async () => {
    const dir = tempDir('cdkda-init-');
    const { code, out, err } = await cli(['init'], dir);
    expect(err).toBe('');
    expect(code).toBe(0);
    const files = ['.gitignore', 'README.md', 'bin/app.ts', 'cdk.json', 'lib/durable-agents-stack.ts', 'package.json', 'test/durable-agents-stack.test.ts', 'tsconfig.json'];
    for (const f of files) expect(fs.existsSync(path.join(dir, f))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'gitignore'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^cdk\.out\/$/m);
    const manifest = readJson(path.join(dir, 'package.json'));
    expect(manifest.dependencies['cdk-durable-agents']).toBe(VERSION);
    expect(manifest.scripts.dev).toBe('cdk-durable-agents dev --app cdk.out');
    expect(manifest.engines.node).toBe('>= 22.0.0');
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).not.toMatch(/\{\{/);
    // cdk synth offline: no notices, no telemetry.
    const cdkJson = readJson(path.join(dir, 'cdk.json'));
    expect(cdkJson.notices).toBe(false);
    expect(cdkJson.context['cli-telemetry']).toBe(false);
    expect(out).toMatch(/created {2}lib\/durable-agents-stack\.ts/);
    expect(out).toMatch(/Next:\n {2}npm install\n {2}npm test\n {2}npx cdk synth\n {2}npm run dev/);
  });

  test('into a new folder given as an argument, and says to cd there', async () => {
    const parent = tempDir('cdkda-init-');
    const { code, out } = await cli(['init', 'my-app'], parent);
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(parent, 'my-app', 'bin', 'app.ts'))).toBe(true);
    expect(out).toMatch(/Next:\n {2}cd my-app\n/);
  });

  test('refuses to overwrite: lists every existing file and writes nothing', async () => {
    const dir = tempDir('cdkda-init-');
    fs.writeFileSync(path.join(dir, 'cdk.json'), '{"app":"mine"}');
    fs.mkdirSync(path.join(dir, 'lib'));
    fs.writeFileSync(path.join(dir, 'lib', 'durable-agents-stack.ts'), '// mine');
    const { code, err } = await cli(['init', dir]);
    expect(code).toBe(1);
    expect(err).toMatch(/these files already exist in .* and would be overwritten:\n {2}cdk\.json\n {2}lib\/durable-agents-stack\.ts\n.*--force/s);
    expect(fs.readFileSync(path.join(dir, 'cdk.json'), 'utf8')).toBe('{"app":"mine"}');
    expect(fs.existsSync(path.join(dir, 'bin'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'package.json'))).toBe(false);
  });

  test('a new repository\'s .gitignore and README.md are kept: the ignore lines it lacks are added, the app\'s README goes beside theirs', async () => {
    const dir = tempDir('cdkda-init-');
    fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules\n.env');
    fs.writeFileSync(path.join(dir, 'README.md'), '# our repo\n');
    const { code, out } = await cli(['init', dir]);
    expect(code).toBe(0);
    const ignore = fs.readFileSync(path.join(dir, '.gitignore'), 'utf8');
    expect(ignore.startsWith('node_modules\n.env\n# added by cdk-durable-agents init\n')).toBe(true);
    expect(ignore.split('\n').filter((l) => l === 'node_modules')).toHaveLength(1);
    expect(ignore).toMatch(/^cdk\.out\/?$/m);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toBe('# our repo\n');
    expect(fs.readFileSync(path.join(dir, 'README.cdk-durable-agents.md'), 'utf8')).toMatch(/^# durable-agents-app/);
    expect(out).toMatch(/merged {3}\.gitignore/);
    expect(out).toMatch(/README\.md is yours and stays; the app's README is README\.cdk-durable-agents\.md/);
    // Run again: the ignore file gains nothing twice.
    expect(mergeIgnoreFile(ignore, fs.readFileSync(path.join(templateDir('typescript', ROOT), 'gitignore'), 'utf8'))).toBe(ignore);
  });

  test('--force overwrites them', async () => {
    const dir = tempDir('cdkda-init-');
    fs.writeFileSync(path.join(dir, 'cdk.json'), '{"app":"mine"}');
    expect((await cli(['init', '--force', dir])).code).toBe(0);
    expect(readJson(path.join(dir, 'cdk.json')).app).toBe('node --require ts-node/register bin/app.ts');
  });

  test('merges the package.json of `npm init -y && npm install <tarball>`: their dependencies stay, the rest is added', async () => {
    const dir = tempDir('cdkda-init-');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
      name: 'team-app',
      version: '1.0.0',
      main: 'index.js',
      scripts: { test: 'echo "Error: no test specified" && exit 1', lint: 'eslint .' },
      dependencies: { 'cdk-durable-agents': 'file:../cdk-durable-agents-0.0.0.tgz', 'left-pad': '1.3.0' },
    }));
    const { code, out } = await cli(['init', dir]);
    expect(code).toBe(0);
    expect(out).toMatch(/merged {3}package\.json/);
    const manifest = readJson(path.join(dir, 'package.json'));
    expect(manifest.name).toBe('team-app');
    expect(manifest.dependencies).toEqual({
      'aws-cdk-lib': '2.257.0', 'cdk-durable-agents': 'file:../cdk-durable-agents-0.0.0.tgz', 'constructs': '10.5.1', 'left-pad': '1.3.0',
    });
    expect(Object.keys(manifest.devDependencies).sort()).toEqual(['@types/node', 'aws-cdk', 'ts-node', 'typescript']);
    expect(manifest.scripts.lint).toBe('eslint .');
    expect(manifest.scripts.test).toMatch(/node --require ts-node\/register --test/);
    expect(manifest.engines).toEqual({ node: '>= 22.0.0' });
  });

  test('aws-cdk-lib installed as a peer (not in package.json): init says to install from scratch', async () => {
    const dir = tempDir('cdkda-init-');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'team-app', dependencies: { 'cdk-durable-agents': '0.0.0' } }));
    fs.mkdirSync(path.join(dir, 'node_modules', 'aws-cdk-lib'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules', 'aws-cdk-lib', 'package.json'), '{"name":"aws-cdk-lib","version":"2.257.0"}');
    const { code, out } = await cli(['init', dir]);
    expect(code).toBe(0);
    expect(out).toMatch(/note: npm installed aws-cdk-lib as a peer dependency/);
    expect(out).toMatch(/Next:\n {2}cd .*\n {2}rm -rf node_modules package-lock\.json && npm install/);
    expect(readJson(path.join(dir, 'package.json')).dependencies['aws-cdk-lib']).toBe('2.257.0');
  });

  test('the merge keeps a script and a version of theirs, and says so', () => {
    const notes: string[] = [];
    const merged = mergeManifest(
      { scripts: { build: 'tsc' }, devDependencies: { typescript: '^5.9.0' }, engines: { node: '>=20' } },
      { scripts: { build: 'tsc --noEmit', dev: 'x' }, devDependencies: { 'typescript': '6.0.3', 'ts-node': '10.9.2' }, engines: { node: '>=22' } },
      notes);
    expect(merged.scripts).toEqual({ build: 'tsc', dev: 'x' });
    expect(merged.devDependencies).toEqual({ 'ts-node': '10.9.2', 'typescript': '^5.9.0' });
    expect(merged.engines).toEqual({ node: '>=20' });
    expect(notes).toEqual([
      'kept your script build ("tsc"); the template\'s is "tsc --noEmit"',
      'kept your typescript ^5.9.0; the template pins 6.0.3',
    ]);
  });

  test('a package.json that is not JSON is a clear error', () => {
    const dir = tempDir('cdkda-init-');
    fs.writeFileSync(path.join(dir, 'package.json'), '{ nope');
    expect(() => initApp({ dir })).toThrow(/cannot read .*package\.json as JSON .*fix it, or move it away/);
  });
});

describe('init: errors', () => {
  test('an unknown option', async () => {
    const { code, err } = await cli(['init', '--java']);
    expect(code).toBe(1);
    expect(err).toMatch(/init: Unknown option '--java'.*\nusage: (npx )?cdk-durable-agents init \[--python\] \[--force\] \[<dir>\]/s);
  });

  test('two folders', async () => {
    const { code, err } = await cli(['init', 'a', 'b']);
    expect(code).toBe(1);
    expect(err).toMatch(/give at most one folder, got 2 \(a b\)/);
  });

  test('a file where the folder should be', async () => {
    const dir = tempDir('cdkda-init-');
    fs.writeFileSync(path.join(dir, 'app'), '');
    const { code, err } = await cli(['init', path.join(dir, 'app')]);
    expect(code).toBe(1);
    expect(err).toMatch(/is a file, not a folder/);
  });

  test('--python with --typescript', async () => {
    const { code, err } = await cli(['init', '--python', '--typescript']);
    expect(code).toBe(1);
    expect(err).toMatch(/choose one of --python and --typescript/);
  });

  test('help lists init', async () => {
    expect((await cli(['help'])).out).toMatch(/init \[--python\] \[--force\] \[<dir>\]/);
  });
});

describe('init --python', () => {
  test('writes the Python app with pinned requirements and the venv steps', async () => {
    const dir = tempDir('cdkda-init-');
    const { code, out } = await cli(['init', '--python', dir]);
    expect(code).toBe(0);
    for (const f of ['.gitignore', 'README.md', 'app.py', 'cdk.json', 'requirements.txt', 'durable_agents_app/__init__.py', 'durable_agents_app/stack.py', 'tests/__init__.py', 'tests/test_stack.py']) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true);
    }
    expect(fs.existsSync(path.join(dir, 'package.json'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'requirements.txt'), 'utf8')).toMatch(new RegExp(`^cdk-durable-agents==${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    expect(readJson(path.join(dir, 'cdk.json'))).toMatchObject({ app: 'python3 app.py', notices: false, context: { 'cli-telemetry': false } });
    expect(fs.readFileSync(path.join(dir, 'durable_agents_app', 'stack.py'), 'utf8')).toMatch(/AgentImage\.from_reference_agent_into_new_repository\(reference\)/);
    expect(out).toMatch(/python3 -m venv \.venv.*\n {2}pip install -r requirements\.txt\n {2}python -m unittest discover -s tests -t \./);
  });
});

describe('the templates\' pins are the project\'s', () => {
  const lock = readJson(path.join(ROOT, 'package-lock.json'));
  const locked = (name: string): string => lock.packages[`node_modules/${name}`].version;

  test('TypeScript: package.json pins what package-lock.json locks', () => {
    const manifest = readJson(path.join(templateDir('typescript', ROOT), 'package.json'));
    const pinned = { ...manifest.dependencies, ...manifest.devDependencies };
    delete pinned['cdk-durable-agents'];
    expect(Object.keys(pinned).sort()).toEqual(['@types/node', 'aws-cdk', 'aws-cdk-lib', 'constructs', 'ts-node', 'typescript']);
    for (const [name, version] of Object.entries(pinned)) expect(`${name}@${version}`).toBe(`${name}@${locked(name)}`);
    expect(manifest.engines.node).toBe(readJson(path.join(ROOT, 'package.json')).engines.node);
  });

  test('Python: requirements.txt pins what test/python/requirements.txt does; the aws-cdk CLI is the locked one', () => {
    const pins = (text: string): Record<string, string> => Object.fromEntries([...text.matchAll(/^([A-Za-z0-9_.-]+)==(\S+)$/gm)].map((m) => [m[1], m[2]]));
    const project = pins(fs.readFileSync(path.join(ROOT, 'test', 'python', 'requirements.txt'), 'utf8'));
    const template = pins(fs.readFileSync(path.join(templateDir('python', ROOT), 'requirements.txt'), 'utf8'));
    expect(template['cdk-durable-agents']).toBe('{{version}}');
    delete template['cdk-durable-agents'];
    expect(Object.keys(template).sort()).toEqual(['aws-cdk-lib', 'constructs', 'jsii']);
    for (const [name, version] of Object.entries(template)) expect(`${name}==${version}`).toBe(`${name}==${project[name]}`);
    const cliPins = [
      fs.readFileSync(path.join(templateDir('python', ROOT), 'README.md'), 'utf8'),
      fs.readFileSync(path.join(ROOT, 'src', 'cli', 'init.ts'), 'utf8'),
    ].flatMap((t) => [...t.matchAll(/aws-cdk@(\d+\.\d+\.\d+)/g)].map((m) => m[1]));
    expect(cliPins.length).toBeGreaterThan(3);
    expect([...new Set(cliPins)]).toEqual([locked('aws-cdk')]);
  });
});

describe('the TypeScript template against src/', () => {
  /** The template's stack module with `cdk-durable-agents` pointing at src/, loaded through jest (ts-jest type checks it). */
  function loadTemplateStack(): { DurableAgentsStack: new (scope: App, id: string) => Stack } {
    const work = path.join(ROOT, '.tmp', 'init-test', `${process.pid}`);
    fs.mkdirSync(work, { recursive: true });
    const source = fs.readFileSync(path.join(templateDir('typescript', ROOT), 'lib', 'durable-agents-stack.ts'), 'utf8');
    const rewritten = source.replace(/from 'cdk-durable-agents'/g, `from '${path.relative(work, path.join(ROOT, 'src')).split(path.sep).join('/')}'`);
    expect(rewritten).not.toBe(source);
    const file = path.join(work, 'durable-agents-stack.ts');
    fs.writeFileSync(file, rewritten);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file);
  }

  test('synthesizes: three CodeBuild-built Lambda agents, IAM routes, the outputs, no VPC; cdk-nag finds nothing unacknowledged', () => {
    const { DurableAgentsStack } = loadTemplateStack();
    const app = new App();
    const stack = new DurableAgentsStack(app, 'DurableAgents');
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { PackageType: 'Image' } }))).toHaveLength(3);
    template.resourceCountIs('AWS::ECR::Repository', 3);
    template.resourceCountIs('AWS::CodeBuild::Project', 3);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(Object.keys(template.findOutputs('*'))).toEqual(expect.arrayContaining(['ResearchApiUrl', 'ResearchArtifactBucketName']));
    // Environment-agnostic: nothing was looked up, so synth needs no credentials.
    expect(stack.account).toMatch(/^\$\{Token/);
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });
});
