/**
 * The workflow commands against a deployed orchestrator, played by a SigV4-checking endpoint in
 * front of the local server: the same answers as with --port, signed requests only, and the
 * errors a person sees when credentials or permissions are missing. `--stack` against
 * moto_server's CloudFormation.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { tempDir, testAgents, waitForApproval, waitForEnd } from './helpers';
import { BAD_SIGNATURE, SigV4Proxy, startSigV4Proxy, TEST_CREDENTIALS } from './sigv4-proxy';
import { signRequest } from '../../src/cli/aws';
import { run } from '../../src/cli/main';
import { LocalServer, startLocalServer } from '../../src/cli/server';
import { describeWithMoto } from '../helpers/moto';

jest.setTimeout(60_000);

const INPUT = JSON.stringify({ topic: 'durable agents', parameters: { depth: 'brief' } });
/** Settings of the AWS SDK's credential chain and endpoints that a test sets or clears. */
const AWS_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION',
  'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_CLOUDFORMATION',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'CDK_DURABLE_AGENTS_API_URL'];

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Ids and times differ between two workflows; everything else must not. */
function normalise(r: { code: number; out: string; err: string }) {
  const n = (s: string) => s.replace(/wf-[0-9a-f]{32}/g, '<id>').replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>');
  return { code: r.code, out: n(r.out), err: n(r.err) };
}

const idOf = (out: string) => /wf-[0-9a-f]{32}/.exec(out)![0];

let server: LocalServer;
let proxy: SigV4Proxy;
let local: string[];
let remote: string[];
const savedEnv: Record<string, string | undefined> = {};
const emptyAwsDir = tempDir('cdkda-aws-');

/** The environment of a person with the test credentials and nothing else configured. */
function signedInEnv(): void {
  for (const name of AWS_ENV) delete process.env[name];
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: TEST_CREDENTIALS.sessionToken,
    // No shared files, no instance metadata: only what a test sets is found.
    AWS_CONFIG_FILE: path.join(emptyAwsDir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(emptyAwsDir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
}

beforeAll(async () => {
  for (const name of AWS_ENV) savedEnv[name] = process.env[name];
  fs.writeFileSync(path.join(emptyAwsDir, 'config'), '');
  fs.writeFileSync(path.join(emptyAwsDir, 'credentials'), '');
  server = await startLocalServer({ port: 0, dataDir: tempDir(), agentCommands: testAgents(), log: () => undefined });
  proxy = await startSigV4Proxy({ target: server.url, region: 'us-east-1' });
  local = ['--port', String(server.port)];
  remote = ['--api-url', proxy.url, '--region', 'us-east-1'];
});

beforeEach(() => signedInEnv());

afterAll(async () => {
  for (const name of AWS_ENV) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  await proxy?.close();
  await server?.close();
});

describe('--api-url: the same answers as --port, every request signed', () => {
  test('start --wait, status, list, approve, status', async () => {
    const before = proxy.requests.length;
    const [l, r] = await Promise.all([cli('start', '--input', INPUT, '--wait', ...local), cli('start', '--input', INPUT, '--wait', ...remote)]);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/^started wf-[0-9a-f]{32} {2}(PENDING|RUNNING)/);
    expect(l.out).toMatch(/RUNNING \(awaiting approval\)/);
    expect(normalise(r)).toEqual(normalise(l));
    const [idL, idR] = [idOf(l.out), idOf(r.out)];

    // One workflow through both targets: identical; each target's own: alike.
    expect(await cli('status', idR, ...remote)).toEqual(await cli('status', idR, ...local));
    expect(normalise(await cli('status', idR, ...remote))).toEqual(normalise(await cli('status', idL, ...local)));
    const list = await cli('list', '--limit', '2', ...remote);
    expect(list.code).toBe(0);
    expect(list.out.split('\n').map((line) => line.slice(0, 44)).sort()).toEqual([idL, idR].map((id) => `${id}  RUNNING`).sort());
    expect(list).toEqual(await cli('list', '--limit', '2', ...local));
    expect(await cli('status', ...remote)).toEqual(await cli('status', ...local));
    expect(await cli('list', '--status', 'RUNNING', ...remote)).toEqual(await cli('list', '--status', 'RUNNING', ...local));

    const [al, ar] = [await cli('approve', idL, '--comment', 'ship it', ...local), await cli('approve', idR, '--comment', 'ship it', ...remote)];
    expect(al).toEqual({ code: 0, out: `approved ${idL}: Approved; the workflow continues`, err: '' });
    expect(normalise(ar)).toEqual(normalise(al));
    await Promise.all([waitForEnd(server.url, idL), waitForEnd(server.url, idR)]);
    const [sl, sr] = [await cli('status', idL, ...local), await cli('status', idR, ...remote)];
    expect(sl.out).toMatch(/^wf-\w+ {2}SUCCEEDED\n/);
    expect(sl.out).toMatch(/ {2}result: /);
    expect(normalise(sr)).toEqual(normalise(sl));

    // Every request of the remote commands went through the signature check.
    const checked = proxy.requests.slice(before);
    expect(checked.length).toBeGreaterThanOrEqual(8);
    expect(checked.filter((c) => c.verdict !== 'ok')).toEqual([]);
  });

  test('reject and cancel', async () => {
    const started = await Promise.all([local, remote, local, remote].map((target) => cli('start', '--input', INPUT, ...target)));
    expect(normalise(started[1])).toEqual(normalise(started[0]));
    const [rl, rr, cl, cr] = started.map((s) => idOf(s.out));
    // All four at the same point (the approval) before anything is decided: a cancel then stops
    // both at the same step, and their `status` outputs compare line for line.
    await Promise.all([rl, rr, cl, cr].map((id) => waitForApproval(server.url, id)));
    const rejected = [await cli('reject', rl, '--comment', 'not yet', ...local), await cli('reject', rr, '--comment', 'not yet', ...remote)];
    expect(rejected[0]).toEqual({ code: 0, out: `rejected ${rl}: Rejected; the workflow follows its rejection rule`, err: '' });
    expect(normalise(rejected[1])).toEqual(normalise(rejected[0]));

    const cancelled = [await cli('cancel', cl, ...local), await cli('cancel', cr, ...remote)];
    expect(cancelled[0].out).toMatch(/^cancel requested for wf-/);
    expect(normalise(cancelled[1])).toEqual(normalise(cancelled[0]));

    await Promise.all([rl, rr, cl, cr].map((id) => waitForEnd(server.url, id)));
    const ended = [await cli('status', rl, ...local), await cli('status', rr, ...remote), await cli('status', cl, ...local), await cli('status', cr, ...remote)];
    expect(ended[0].out).toMatch(/^wf-\w+ {2}REJECTED/);
    expect(ended[2].out).toMatch(/^wf-\w+ {2}CANCELLED/);
    expect(normalise(ended[1])).toEqual(normalise(ended[0]));
    expect(normalise(ended[3])).toEqual(normalise(ended[2]));
    // An ended workflow: the API's 409, alike.
    expect(normalise(await cli('approve', rr, ...remote))).toEqual(normalise(await cli('approve', rl, ...local)));
  });

  test('a 400 prints the API\'s message naming the field; approve --reject still rejects', async () => {
    const l = await cli('start', '--input', '{"parameters": {}}', ...local);
    expect(l).toEqual({ code: 1, out: '', err: 'error: start: 400 input.topic is required: give a string' });
    expect(await cli('start', '--input', '{"parameters": {}}', ...remote)).toEqual(l);
    const badList = await cli('list', '--limit', '1000', ...remote);
    expect(badList.code).toBe(1);
    expect(badList.err).toMatch(/^error: list: 400 parameter 'limit'/);

    const id = idOf((await cli('start', '--input', INPUT, '--wait', ...remote)).out);
    expect(await cli('approve', id, '--reject', ...remote)).toMatchObject({ code: 0, out: `rejected ${id}: Rejected; the workflow follows its rejection rule` });
  });

  test('--input-file, stdin, and the environment default for --api-url', async () => {
    const file = path.join(tempDir(), 'input.json');
    fs.writeFileSync(file, INPUT);
    process.env.CDK_DURABLE_AGENTS_API_URL = proxy.url;
    process.env.AWS_REGION = 'us-east-1';
    const before = proxy.requests.length;
    const fromFile = await cli('start', '--input-file', file);
    expect(fromFile.code).toBe(0);
    const out: string[] = [];
    const code = await run(['start', '--input-file', '-', '--idempotency-key', 'key-1'], { out: (l) => out.push(l), err: (l) => out.push(l), readStdin: async () => INPUT });
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^started wf-/);
    const again = await cli('start', '--input', INPUT, '--idempotency-key', 'key-1');
    expect(again.out).toMatch(new RegExp(`^already started ${idOf(out[0])} `));
    expect(proxy.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.verdict}`)).toEqual(['POST /workflows ok', 'POST /workflows ok', 'POST /workflows ok']);
    // --port wins over the environment.
    expect((await cli('status', idOf(out[0]), ...local)).out).toMatch(/^wf-/);
    expect(proxy.requests.length).toBe(before + 3);
  });
});

describe('refused requests', () => {
  test('the endpoint refuses unsigned, forged and altered requests', async () => {
    const unsigned = await fetch(`${proxy.url}/workflows`);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: 'Forbidden' });

    // A signed request whose body is swapped afterwards.
    const url = new URL(`${proxy.url}/workflows`);
    const headers = await signRequest({
      method: 'POST', url, headers: { 'content-type': 'application/json' }, body: INPUT, credentials: TEST_CREDENTIALS, region: 'us-east-1',
    });
    const { host: _host, ...send } = headers;
    const altered = await fetch(url, { method: 'POST', headers: send, body: INPUT.replace('durable', 'altered') });
    expect(altered.status).toBe(403);
    expect(proxy.requests[proxy.requests.length - 1].verdict).toBe('body hash differs');
    // The same request unaltered passes (the check above is the body's, not the signature's).
    const intact = await fetch(url, { method: 'POST', headers: send, body: INPUT });
    expect(intact.status).toBe(202);
  });

  test('a wrong secret key: the 403 and what to check', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    const result = await cli('status', ...remote);
    expect(result.code).toBe(1);
    expect(result.err).toBe(`error: status: 403 ${BAD_SIGNATURE.message}\n`
      + '  the API refused the signature (signed for region us-east-1): check the region (--region), that your credentials are current '
      + '(aws sts get-caller-identity; aws sso login when they come from SSO), and the clock of this machine');
    expect(proxy.requests[proxy.requests.length - 1].verdict).toBe('signature differs');
  });

  test('IAM denies the route: the grant that allows it', async () => {
    proxy.deny = (method, p) => method === 'POST' && p.endsWith('/approval');
    try {
      const result = await cli('reject', 'wf-00000000000000000000000000000000', ...remote);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/^error: reject wf-0{32}: 403 Forbidden\n {2}the identity of your AWS credentials .* needs execute-api:Invoke on the route: in the app, orchestrator\.grantApprove\(<its role or user>\) grants it/);
      // The local server's own 404 for the same id carries no IAM hint.
      expect((await cli('reject', 'wf-00000000000000000000000000000000', ...local)).err).toBe("error: reject wf-00000000000000000000000000000000: 404 no workflow with id 'wf-00000000000000000000000000000000'");
    } finally {
      proxy.deny = () => false;
    }
  });

  test('no credentials anywhere: what was tried and how to fix it', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_SESSION_TOKEN;
    const before = proxy.requests.length;
    const result = await cli('status', ...remote);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^error: no AWS credentials to sign the request with: the AWS SDK's default chain looked in the environment \(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\), SSO, .*EC2 instance metadata service, and found none\. To fix: run `aws configure`.*AWS_PROFILE.*aws sso login/);
    const profile = await cli('status', ...remote, '--profile', 'nosuch');
    expect(profile.code).toBe(1);
    expect(profile.err).toMatch(new RegExp(`^error: no AWS credentials for profile 'nosuch' \\(--profile; is it in ${emptyAwsDir}/config or ${emptyAwsDir}/credentials\\?\\) `
      + 'to sign the request with: .* To fix: '));
    expect(proxy.requests.length).toBe(before); // nothing was sent
  });

  test('a profile of the shared files signs', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_SESSION_TOKEN;
    const dir = tempDir('cdkda-aws-');
    fs.writeFileSync(path.join(dir, 'credentials'), `[team]\naws_access_key_id = ${TEST_CREDENTIALS.accessKeyId}\n`
      + `aws_secret_access_key = ${TEST_CREDENTIALS.secretAccessKey}\naws_session_token = ${TEST_CREDENTIALS.sessionToken}\n`);
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    const unknown = 'wf-00000000000000000000000000000000';
    const before = proxy.requests.length;
    const answer = await cli('status', unknown, ...remote, '--profile', 'team');
    expect(answer).toEqual({ code: 1, out: '', err: `error: status ${unknown}: 404 no workflow with id '${unknown}'` });
    expect(answer).toEqual(await cli('status', unknown, ...local));
    process.env.AWS_PROFILE = 'team';
    expect(await cli('status', unknown, ...remote)).toEqual(answer);
    expect(proxy.requests.slice(before).map((r) => r.verdict)).toEqual(['ok', 'ok']);
  });
});

describeWithMoto('--stack: the API URL from the stack output', (moto) => {
  async function createStack(name: string, outputs: Record<string, string>): Promise<void> {
    const cfn = new CloudFormationClient({ endpoint: moto().endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const template = {
      Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: `${name}-queue` } } },
      Outputs: Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { Value: value }])),
    };
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(template) }));
    cfn.destroy();
  }

  beforeAll(async () => {
    await createStack('research', { ResearchApiUrl: proxy.url, ResearchWorkflowTableName: 'table' });
    await createStack('no-api', { ResearchWorkflowTableName: 'table' });
    await createStack('two-apis', { AOrchestratorApiUrl: proxy.url, BOrchestratorApiUrl: 'https://b.example.com' });
  });

  test('finds the ApiUrl output (AWS_ENDPOINT_URL_CLOUDFORMATION) and answers as --port', async () => {
    process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = moto().endpoint;
    const before = proxy.requests.length;
    const viaStack = await cli('list', '--limit', '3', '--stack', 'research', '--region', 'us-east-1');
    expect(viaStack.code).toBe(0);
    expect(viaStack).toEqual(await cli('list', '--limit', '3', ...local));
    expect(proxy.requests.slice(before).map((r) => r.verdict)).toEqual(['ok']);
  });

  test('AWS_ENDPOINT_URL and AWS_REGION serve as well; --output chooses among several', async () => {
    process.env.AWS_ENDPOINT_URL = moto().endpoint;
    process.env.AWS_REGION = 'us-east-1';
    const several = await cli('status', '--stack', 'two-apis');
    expect(several).toEqual({
      code: 1,
      out: '',
      err: `error: stack two-apis has 2 outputs whose key ends with ApiUrl: AOrchestratorApiUrl (${proxy.url}), `
        + 'BOrchestratorApiUrl (https://b.example.com); choose one with --output <OutputKey>',
    });
    expect((await cli('status', '--stack', 'two-apis', '--output', 'AOrchestratorApiUrl')).code).toBe(0);
    expect((await cli('status', '--stack', 'two-apis', '--output', 'CApiUrl')).err)
      .toBe('error: --output CApiUrl: stack two-apis has no such output; its outputs ending with ApiUrl are AOrchestratorApiUrl, BOrchestratorApiUrl');
  });

  test('no ApiUrl output, no such stack: the errors say what to do', async () => {
    process.env.AWS_ENDPOINT_URL = moto().endpoint;
    expect((await cli('status', '--stack', 'no-api', '--region', 'us-east-1')).err)
      .toBe('error: stack no-api has no output whose key ends with ApiUrl (its outputs: ResearchWorkflowTableName): '
        + 'call orchestrator.addOutputs() in the app and deploy again, or pass the API URL with --api-url <url>');
    expect((await cli('status', '--stack', 'missing', '--region', 'us-east-1')).err)
      .toMatch(/^error: --stack missing: no such stack in region us-east-1 of the account of your credentials/);
  });
});

describe('kill-switch against a deployed orchestrator (--api-url)', () => {
  test('on, status and off are signed and answer as with --port; a start between is refused with the reason', async () => {
    const before = proxy.requests.length;
    const on = await cli('kill-switch', 'on', '--reason', 'remote drill', ...remote);
    expect(on.code).toBe(0);
    expect(on.out).toMatch(/^kill switch: ENGAGED \(remote drill\)\n {2}set by unauthenticated \(local\) at /);
    expect(normalise(await cli('kill-switch', 'status', ...remote))).toEqual(normalise(await cli('kill-switch', 'status', ...local)));
    const refused = await cli('start', '--input', INPUT, ...remote);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error: start: 503 the kill switch is engaged: remote drill/);
    const off = await cli('kill-switch', 'off', ...remote);
    expect(off.out).toMatch(/^kill switch: released/);
    const checked = proxy.requests.slice(before);
    expect(checked.filter((c) => c.verdict === 'ok').map((c) => c.method)).toEqual(expect.arrayContaining(['PUT', 'GET', 'POST']));
    expect(checked.filter((c) => c.verdict !== 'ok')).toEqual([]);
  });

  test('IAM denies it: the error names grantKillSwitch', async () => {
    proxy.deny = (_method, p) => p.endsWith('/admin/kill-switch');
    try {
      const result = await cli('kill-switch', 'on', '--reason', 'x', ...remote);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/^error: kill-switch on: 403 Forbidden\n {2}the identity of your AWS credentials .* in the app, orchestrator\.grantKillSwitch\(<its role or user>\) grants it/);
    } finally {
      proxy.deny = () => false;
    }
  });
});
