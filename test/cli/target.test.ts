import { run } from '../../src/cli/main';
import { packageVersion } from '../../src/cli/paths';
import { DEFAULT_PORT } from '../../src/cli/progress';
import { regionOfApiUrl, resolveTarget } from '../../src/cli/target';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('the region of an API URL', () => {
  test.each([
    ['https://abc123defg.execute-api.us-east-1.amazonaws.com/research', 'us-east-1'],
    ['https://abc123defg.execute-api.eu-central-2.amazonaws.com', 'eu-central-2'],
    ['https://ABC123DEFG.Execute-Api.AP-SOUTHEAST-1.amazonaws.com/', 'ap-southeast-1'],
    ['https://abc123defg.execute-api.cn-north-1.amazonaws.com.cn/x', 'cn-north-1'],
    ['https://abc123defg.execute-api.us-gov-west-1.amazonaws.com/x', 'us-gov-west-1'],
    ['https://api.example.com/research', undefined],
    ['https://abc.execute-api.us-east-1.amazonaws.com.evil.example/x', undefined],
    ['https://execute-api.us-east-1.amazonaws.com/x', undefined],
    ['http://127.0.0.1:8080', undefined],
  ])('%s -> %s', (url, region) => {
    expect(regionOfApiUrl(new URL(url))).toBe(region);
  });
});

describe('resolveTarget', () => {
  const none: NodeJS.ProcessEnv = {};

  test('the local server by default, on DEFAULT_PORT or --port', () => {
    expect(resolveTarget({}, none)).toEqual({ kind: 'local', port: DEFAULT_PORT });
    expect(resolveTarget({ port: '9000' }, none)).toEqual({ kind: 'local', port: 9000 });
  });

  test('an execute-api URL signs for its own region; a custom domain for --region or AWS_REGION', () => {
    const t = resolveTarget({ 'api-url': 'https://abc.execute-api.eu-west-1.amazonaws.com/research' }, { AWS_REGION: 'us-east-1' });
    expect(t).toMatchObject({ kind: 'url', region: 'eu-west-1' });
    expect(resolveTarget({ 'api-url': 'https://api.example.com/r', 'region': 'eu-west-2' }, none)).toMatchObject({ kind: 'url', region: 'eu-west-2' });
    expect(resolveTarget({ 'api-url': 'https://api.example.com/r' }, { AWS_REGION: 'ap-south-1' })).toMatchObject({ region: 'ap-south-1' });
    expect(resolveTarget({ 'api-url': 'https://api.example.com/r' }, { AWS_DEFAULT_REGION: 'sa-east-1' })).toMatchObject({ region: 'sa-east-1' });
  });

  test('CDK_DURABLE_AGENTS_API_URL is the default --api-url; --port and --stack win over it', () => {
    const env = { CDK_DURABLE_AGENTS_API_URL: 'https://abc.execute-api.us-west-2.amazonaws.com' };
    expect(resolveTarget({}, env)).toMatchObject({ kind: 'url', region: 'us-west-2' });
    expect(resolveTarget({ port: '8080' }, env)).toEqual({ kind: 'local', port: 8080 });
    expect(resolveTarget({ stack: 'research' }, env)).toEqual({ kind: 'stack', stack: 'research' });
    expect(() => resolveTarget({}, { CDK_DURABLE_AGENTS_API_URL: 'ftp://x' })).toThrow(/^CDK_DURABLE_AGENTS_API_URL ftp:\/\/x: expected an https:\/\/ URL/);
  });

  test.each([
    [{ 'port': '8080', 'api-url': 'https://x.example.com' }, /^--port and --api-url name different targets/],
    [{ port: '8080', stack: 'research' }, /^--port and --stack name different targets/],
    [{ 'api-url': 'https://x.example.com', 'stack': 'research' }, /^--api-url and --stack name different targets/],
    [{ output: 'ApiUrl' }, /^--output ApiUrl chooses among the ApiUrl outputs of --stack <name>; give --stack too/],
    [{ region: 'us-east-1' }, /^--region is for a deployed orchestrator \(--api-url or --stack\); the local server needs no credentials/],
    [{ port: '8080', profile: 'team' }, /^--profile is for a deployed orchestrator/],
    [{ port: '0' }, /^--port 0: expected a port number from 1 to 65535/],
    [{ 'api-url': 'not a url' }, /^--api-url not a url: not a URL; give the API URL of the orchestrator, e\.g\. https:\/\/.*addOutputs/],
    [{ 'api-url': 'http://api.example.com/r', 'region': 'us-east-1' }, /expected an https:\/\/ URL \(plain http only on 127\.0\.0\.1 or localhost\)/],
    [{ 'api-url': 'https://api.example.com/r?x=1', 'region': 'us-east-1' }, /give the base URL only/],
    [{ 'api-url': 'https://api.example.com/r' }, /^--api-url https:\/\/api\.example\.com\/r is not an execute-api URL .* give --region <region> or set AWS_REGION$/],
    [{ 'api-url': 'https://a.execute-api.us-east-1.amazonaws.com', 'region': 'eu-west-1' }, /^--region eu-west-1 does not match the region of --api-url .* \(us-east-1\)/],
    [{ stack: 'research', region: 'Virginia' }, /^--region Virginia: expected an AWS region name/],
    [{ stack: 'my_stack' }, /^--stack my_stack: expected a CloudFormation stack name/],
  ])('%j', (options, message) => {
    expect(() => resolveTarget(options, none)).toThrow(message);
  });
});

describe('the workflow commands\' options', () => {
  test.each([
    [['start'], /^error: start: give the workflow input with --input '<json>' or --input-file <path>/],
    [['start', '--input', '{', '--port', '1'], /^error: --input: not JSON \(.*\); give the workflow input as a JSON object/],
    [['start', '--input', '[1]'], /^error: --input: the workflow input must be a JSON object, .* not an array/],
    [['start', '--input', '{}', '--input-file', 'x.json'], /^error: give the workflow input once/],
    [['start', '--input-file', '/nonexistent/input.json'], /^error: --input-file \/nonexistent\/input\.json: cannot read it \(ENOENT\)/],
    [['start', '--input', '{}', '--timeout', '5'], /^error: --timeout is how long --wait follows the workflow; give --wait too/],
    [['start', '--input', '{}', '--wait', '--timeout', 'soon'], /^error: --timeout soon: expected whole seconds/],
    [['start', 'extra', '--input', '{}'], /^error: start: takes no arguments, got extra/],
    [['list', '--colour'], /^error: list: Unknown option '--colour'/],
    [['reject'], /^error: reject: give exactly one workflow id/],
    [['reject', 'wf-1', '--reject'], /^error: reject: Unknown option '--reject'/],
    [['cancel', 'wf-1', '--port', '1', '--api-url', 'https://x.example.com'], /^error: --port and --api-url name different targets/],
    [['status', '--stack', 'research', '--port', '1'], /^error: --port and --stack name different targets/],
  ])('%j', async (argv, message) => {
    const result = await cli(...argv);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(message);
  });

  test('--version and version print the package version', async () => {
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(await cli('--version')).toEqual({ code: 0, out: packageVersion(), err: '' });
    expect(await cli('version')).toEqual({ code: 0, out: packageVersion(), err: '' });
  });

  test('the usage documents the default port and every target option', async () => {
    const { out } = await cli('help');
    for (const text of [`default ${DEFAULT_PORT}`, '--api-url <url>', '--stack <name>', '--output <OutputKey>', '--region <region>', '--profile <name>',
      'CDK_DURABLE_AGENTS_API_URL', 'start ', '--input-file', '--wait', '--timeout', 'list ', '--limit', '--status', '--next-token', 'reject <workflow-id>', '--version']) {
      expect(out).toContain(text);
    }
  });
});

describe('loading', () => {
  test('the AWS SDK modules load only for a deployed orchestrator, the cost command only when it runs', async () => {
    const loaded: string[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDLOADINGTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_EC2_METADATA_DISABLED: 'true' });
    delete process.env.AWS_PROFILE;
    jest.resetModules();
    // The signer and the credential chain are in the bundle anyway (the durable SDK's Lambda
    // client loads them); the command line's AWS module and the CloudFormation client are its own.
    const lazy = ['../../src/cli/aws', '@aws-sdk/client-cloudformation', '../../src/cli/cost/command'];
    for (const name of lazy) {
      jest.doMock(name, () => {
        loaded.push(name);
        return jest.requireActual(name);
      });
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const main = require('../../src/cli/main') as typeof import('../../src/cli/main');
      const io = { out: () => undefined, err: () => undefined };
      expect(await main.run(['--version'], io)).toBe(0);
      expect(await main.run(['status', '--port', '1'], io)).toBe(1); // nothing listens there
      expect(loaded).toEqual([]);
      expect(await main.run(['status', '--api-url', 'http://127.0.0.1:1', '--region', 'us-east-1'], io)).toBe(1);
      expect(loaded.sort()).toEqual(['../../src/cli/aws', '@aws-sdk/client-cloudformation'].sort());
      // `cost` loads its own module (the price table, the durable runner) only when it runs.
      expect(await main.run(['cost'], io)).toBe(1); // no --app
      expect(loaded.sort()).toEqual([...lazy].sort());
    } finally {
      process.env = saved;
      for (const name of lazy) jest.dontMock(name);
      jest.resetModules();
    }
  });
});
