import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cfnLint } from './cfn-lint';

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

/** A Lambda-invoke assertion of an integration test: the event it sends and what it expects. */
export interface InvokeAssertion {
  /** The invoke's payload, parsed. */
  readonly event: any;
  /** The assertion's `expected`, as integ-tests-alpha synthesized it. */
  readonly expected: string;
}

/** The Lambda-invoke assertions in the assertion stack (the template whose name holds `fragment`). */
export function lambdaInvokeAssertions(outdir: string, fragment: string): InvokeAssertion[] {
  return templateResources(outdir, fragment)
    .filter((r) => r.Type === 'Custom::DeployAssert@SdkCallLambdainvoke')
    .map((r) => {
      let event: any = r.Properties.parameters.Payload;
      while (typeof event === 'string') event = JSON.parse(event);
      return { event, expected: r.Properties.expected };
    });
}

/** Custom resource types of integ-tests-alpha's assertions: SDK calls, HTTP calls, and `assertions.expect`. */
const ASSERTION_TYPE = /^Custom::DeployAssert@(SdkCall|HttpCall|AssertEquals)/;

/** One assertion of a synthesized integration test: what it calls, and what it expects. */
export interface IntegAssertion {
  /**
   * A readable name of the assertion, made from what it calls: `Lambda.invoke <function> <request>`,
   * `HTTP <method> <path>`, `<Service>.<api> <parameters>`, or `AssertEquals <actual>`. Workflow ids
   * read `{workflowId}`, resources read by their construct (logical id without its hash), and a
   * name that several assertions share ends in ` #1`, ` #2`, ... in the order of the template.
   */
  readonly key: string;
  /** The template file. */
  readonly file: string;
  /** The custom resource's logical id. */
  readonly logicalId: string;
  /** The custom resource type (`Custom::DeployAssert@SdkCallLambdainvoke`, ...). */
  readonly type: string;
  /** The assertion's `expected`, as integ-tests-alpha synthesized it. */
  readonly expected: string;
  /**
   * The call's parameters, each decoded from integ-tests-alpha's encoding (a Lambda invoke's
   * `Payload` parsed); values that are tokens stay as CloudFormation intrinsics.
   */
  readonly parameters: Record<string, any>;
  /** A Lambda invoke's payload, parsed (for the API handler, an API Gateway event); undefined otherwise. */
  readonly request?: any;
  /**
   * With `assertAtPath`, the path of the response the assertion judges: it then judges only the
   * value there, of the response flattened with every JSON text in it parsed (a Lambda invoke's
   * `Payload` included). Undefined when it judges the whole response, as the provider hands it
   * over (`Payload` as JSON text).
   */
  readonly actualPath?: string;
}

/**
 * Every assertion of every template of a synthesized integration test: each SDK or HTTP call with
 * an `expected`, and each `AssertEquals`.
 */
export function integAssertions(outdir: string): IntegAssertion[] {
  const found: Array<Omit<IntegAssertion, 'key'> & { name: string }> = [];
  for (const file of fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).sort()) {
    const resources: Record<string, { Type: string; Properties?: Record<string, any> }> =
      JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf-8')).Resources ?? {};
    for (const [logicalId, r] of Object.entries(resources)) {
      const props = r.Properties ?? {};
      if (!ASSERTION_TYPE.test(r.Type) || props.expected === undefined) continue;
      const parameters = decodeParameters(props.parameters ?? {});
      const request = r.Type === 'Custom::DeployAssert@SdkCallLambdainvoke' ? parameters.Payload : undefined;
      const name = assertionName(r.Type, props, parameters);
      found.push({ name, file, logicalId, type: r.Type, expected: props.expected, parameters, request, actualPath: props.actualPath });
    }
  }
  return found.map(({ name, ...a }) => {
    const same = found.filter((f) => f.name === name);
    return { key: same.length > 1 ? `${name} #${same.findIndex((f) => f.logicalId === a.logicalId && f.file === a.file) + 1}` : name, ...a };
  });
}

/** integ-tests-alpha writes each parameter as JSON text (a token in quotes); this reads them back. */
function decodeParameters(parameters: Record<string, any>): Record<string, any> {
  const decoded: Record<string, any> = {};
  for (const [k, v] of Object.entries(parameters)) {
    let value = v;
    while (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        break;
      }
    }
    decoded[k] = unquoted(value);
  }
  return decoded;
}

/** `{"Fn::Join": ["", ['"', token, '"']]}` (a quoted token) as the token itself. */
function unquoted(value: any): any {
  const join = value?.['Fn::Join'];
  if (join && join[0] === '' && join[1].length === 3 && join[1][0] === '"' && join[1][2] === '"') return join[1][1];
  return value;
}

/** The construct a token names: an export of another stack, a Ref or a GetAtt, without the hashes. */
function resourceName(value: any): string {
  if (typeof value === 'string') return value;
  const exported = value?.['Fn::ImportValue'];
  if (typeof exported === 'string') {
    return exported.replace(/^.*:ExportsOutput(Ref|FnGetAtt)/, '').replace(/([0-9A-F]{8})+$/, '');
  }
  const ref = value?.Ref ?? value?.['Fn::GetAtt']?.[0];
  if (typeof ref === 'string') return ref.replace(/[0-9A-F]{8}$/, '');
  return JSON.stringify(value);
}

function assertionName(type: string, props: Record<string, any>, parameters: Record<string, any>): string {
  const ids = (text: string) => text.replace(/wf-[0-9a-f]{32}/g, '{workflowId}');
  if (type === 'Custom::DeployAssert@SdkCallLambdainvoke') {
    const payload = parameters.Payload;
    const http = payload?.requestContext?.http;
    const request = http ? ` ${http.method} ${payload.rawPath}` : payload === undefined ? '' : ` ${JSON.stringify(payload)}`;
    return ids(`Lambda.invoke ${resourceName(parameters.FunctionName)}${request}`);
  }
  if (type.startsWith('Custom::DeployAssert@HttpCall')) {
    const url = parameters.url;
    // The path is the literal text after the URL's last token (its host is the API's id).
    const parts: any[] = typeof url === 'string' ? [url.replace(/^https?:\/\/[^/]+/, '')] : url['Fn::Join'][1];
    const tail = parts.slice(parts.map((p) => typeof p === 'string').lastIndexOf(false) + 1).join('');
    return ids(`HTTP ${parameters.fetchOptions?.method ?? 'GET'} ${tail || '/'}`);
  }
  if (type.startsWith('Custom::DeployAssert@SdkCall')) {
    const args = Object.entries(parameters).map(([k, v]) => `${k}=${resourceName(v)}`).join(' ');
    return ids(`${props.service}.${props.api}${args ? ` ${args}` : ''}`);
  }
  return ids(`AssertEquals ${resourceName(props.actual)}`);
}

/**
 * cfn-lint findings of every template of a synthesized integration test, by file. The assertion
 * stack is integ-tests-alpha's, whose provider role names the action `lambda:Invoke` (W3037): that
 * is the tool's, not this library's, and is ignored there.
 */
export function lintIntegTemplates(outdir: string, ignore: string[] = []): Array<{ file: string; findings: unknown[] }> {
  return fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).sort().map((file) => {
    const isAssertionStack = file.includes('DeployAssert') || file.includes('assertions');
    const template = JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf-8'));
    return { file, findings: cfnLint(template, isAssertionStack ? [...ignore, 'W3037'] : ignore) };
  });
}

/** What the API handler answers, by method and path, in a run that goes as planned. */
function plannedAnswer(workflowId: string, method: string, route: string): unknown {
  const headers = { 'content-type': 'application/json' };
  if (method === 'POST' && /\/workflows$/.test(route)) {
    return { statusCode: 202, headers, body: JSON.stringify({ workflow_id: workflowId, status: 'PENDING', awaiting: 'research_completion', wait_kind: 'agent' }) };
  }
  if (method === 'POST' && route.endsWith('/approval')) {
    return { statusCode: 200, headers, body: JSON.stringify({ workflow_id: workflowId, status: 'RUNNING', decision: 'approved' }) };
  }
  throw new Error(`no planned answer for ${method} ${route}`);
}

/**
 * Tests of the Lambda-invoke assertions that drive a workflow through an orchestrator's API
 * handler (start, poll, approve, poll), judged by integ-tests-alpha's own assertion handler: they
 * pass on the answers a working deployment gives and fail on a refusal or a workflow not there
 * yet. (A Lambda invoke's `Payload` reaches an assertion as JSON text, so a pattern written for an
 * object could never pass on AWS: aws/aws-cdk#34797.)
 *
 * @param assertions the assertions, once the app is synthesized (called inside the tests)
 * @param basePath the orchestrator's `apiBasePath`, '' at the root
 */
export function testWorkflowAssertions(assertions: () => InvokeAssertion[], basePath: string): void {
  const request = (a: InvokeAssertion) => ({ method: a.event.requestContext.http.method as string, route: a.event.rawPath as string });
  const workflowId = (): string => {
    const start = assertions().find((a) => request(a).method === 'POST' && request(a).route === `${basePath}/workflows`);
    if (!start) throw new Error(`no assertion starts a workflow with POST ${basePath}/workflows`);
    return /wf-[0-9a-f]{32}/.exec(start.expected)![0];
  };
  const success = { assertion: '{"status":"success"}' };

  test('the workflow assertions: start and approval pass on a working answer, and fail on a refusal', async () => {
    const writes = assertions().filter((a) => request(a).method === 'POST');
    expect(writes.length).toBeGreaterThan(0);
    for (const a of writes) {
      const { method, route } = request(a);
      expect(route.startsWith(`${basePath}/workflows`)).toBe(true);
      expect(await judgeAssertion(a.expected, invokeResponse(plannedAnswer(workflowId(), method, route)))).toEqual(success);
      const refused = { statusCode: 403, headers: {}, body: JSON.stringify({ error: 'forbidden', message: 'no' }) };
      expect((await judgeAssertion(a.expected, invokeResponse(refused))).failed).toBe(true);
    }
  });

  test('the workflow assertions: the polls pass once the workflow is where they wait for it, and not before', async () => {
    const polls = assertions().filter((a) => request(a).method === 'GET');
    expect(polls.length).toBeGreaterThan(0);
    for (const a of polls) {
      const waitsFor = /SUCCEEDED/.test(a.expected) ? { status: 'SUCCEEDED' } : { status: 'RUNNING', awaiting: 'approval' };
      const answer = (body: unknown) => invokeResponse({ statusCode: 200, headers: {}, body: JSON.stringify(body) });
      expect(await judgeAssertion(a.expected, answer({ workflow_id: workflowId(), ...waitsFor }))).toEqual(success);
      expect((await judgeAssertion(a.expected, answer({ workflow_id: workflowId(), status: 'RUNNING', awaiting: 'research_completion', wait_kind: 'agent' }))).failed).toBe(true);
    }
  });
}
