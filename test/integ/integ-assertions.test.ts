/**
 * The Lambda-invoke assertions of the integration tests (a workflow driven through the API handler
 * in integ.durable-orchestrator.ts and integ.agent-platform.ts; the signed probe of
 * integ.secure-api.ts), judged by integ-tests-alpha's own assertion handler against answers shaped
 * as the deployed functions give them: they pass on the answers of a working deployment and fail
 * on wrong ones. (A Lambda invoke's `Payload` reaches the assertion as JSON text, so a pattern
 * written for an object could never pass on AWS: aws/aws-cdk#34797.)
 */
import * as fs from 'fs';
import { invokeResponse, judgeAssertion, synthIntegApp, templateResources } from '../helpers/integ-assertions';

/** What the API handler answers, by method and path, in a run that goes as planned. */
function answer(workflowId: string, method: string, path: string): unknown {
  const headers = { 'content-type': 'application/json' };
  const body = (value: unknown) => JSON.stringify(value);
  if (method === 'POST' && /\/workflows$/.test(path)) {
    return { statusCode: 202, headers, body: body({ workflow_id: workflowId, status: 'PENDING', awaiting: 'agent' }) };
  }
  if (method === 'POST' && path.endsWith('/approval')) {
    return { statusCode: 200, headers, body: body({ workflow_id: workflowId, status: 'RUNNING', decision: 'approved' }) };
  }
  throw new Error(`no planned answer for ${method} ${path}`);
}

interface InvokeAssertion {
  readonly method: string;
  readonly path: string;
  readonly expected: string;
}

function invokeAssertions(outdir: string, assertionTemplate: string): InvokeAssertion[] {
  return templateResources(outdir, assertionTemplate)
    .filter((r) => r.Type === 'Custom::DeployAssert@SdkCallLambdainvoke')
    .map((r) => {
      let event: any = r.Properties.parameters.Payload;
      while (typeof event === 'string') event = JSON.parse(event);
      return { method: event.requestContext.http.method, path: event.rawPath, expected: r.Properties.expected };
    });
}

describe.each([
  ['integ/integ.durable-orchestrator.ts', 'DeployAssert', ''],
  ['integ/integ.agent-platform.ts', 'assertions', '/research'],
])('%s', (file, assertionTemplate, basePath) => {
  let outdir: string;
  let assertions: InvokeAssertion[];
  beforeAll(() => {
    outdir = synthIntegApp(file);
    assertions = invokeAssertions(outdir, assertionTemplate);
  }, 120_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const workflowId = (): string => {
    const start = assertions.find((a) => a.method === 'POST' && a.path === `${basePath}/workflows`)!;
    return /wf-[0-9a-f]{32}/.exec(start.expected)![0];
  };

  test('start and approval pass on the answers of a working deployment, and fail on a refusal', async () => {
    const writes = assertions.filter((a) => a.method === 'POST');
    expect(writes.length).toBeGreaterThan(0);
    for (const a of writes) {
      expect(a.path.startsWith(`${basePath}/workflows`)).toBe(true);
      expect(await judgeAssertion(a.expected, invokeResponse(answer(workflowId(), a.method, a.path)))).toEqual({ assertion: '{"status":"success"}' });
      const refused = { statusCode: 403, headers: {}, body: JSON.stringify({ error: 'forbidden', message: 'no' }) };
      expect((await judgeAssertion(a.expected, invokeResponse(refused))).failed).toBe(true);
    }
  });

  test('the polls pass once the workflow is where they wait for it, and not before', async () => {
    const polls = assertions.filter((a) => a.method === 'GET');
    expect(polls.length).toBeGreaterThan(0);
    for (const a of polls) {
      const waitsFor = /SUCCEEDED/.test(a.expected) ? { status: 'SUCCEEDED' } : { status: 'RUNNING', awaiting: 'approval' };
      const there = { statusCode: 200, headers: {}, body: JSON.stringify({ workflow_id: workflowId(), ...waitsFor }) };
      const notYet = { statusCode: 200, headers: {}, body: JSON.stringify({ workflow_id: workflowId(), status: 'RUNNING', awaiting: 'agent' }) };
      expect(await judgeAssertion(a.expected, invokeResponse(there))).toEqual({ assertion: '{"status":"success"}' });
      expect((await judgeAssertion(a.expected, invokeResponse(notYet))).failed).toBe(true);
    }
  });
});

describe('integ/integ.secure-api.ts: the signed calls of the probe', () => {
  let outdir: string;
  let expectations: Array<{ path: string; expected: string }>;
  beforeAll(() => {
    outdir = synthIntegApp('integ/integ.secure-api.ts');
    expectations = templateResources(outdir, 'assertions')
      .filter((r) => r.Type === 'Custom::DeployAssert@SdkCallLambdainvoke')
      .map((r) => {
        let event: any = r.Properties.parameters.Payload;
        while (typeof event === 'string') event = JSON.parse(event);
        return { path: event.path, expected: r.Properties.expected };
      });
  }, 120_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('pass on what the Lambda route and nginx answer, and fail on a refusal', async () => {
    const answers: Record<string, unknown> = {
      '/hello': { status: 200, body: { message: 'hello from lambda' } },
      '/web/': { status: 200, body: '<html><body>secure-api-integ-web</body></html>\n' },
    };
    expect(expectations.map((e) => e.path).sort()).toEqual(Object.keys(answers).sort());
    for (const e of expectations) {
      expect(await judgeAssertion(e.expected, invokeResponse(answers[e.path]))).toEqual({ assertion: '{"status":"success"}' });
      expect((await judgeAssertion(e.expected, invokeResponse({ status: 403, body: { message: 'Forbidden' } }))).failed).toBe(true);
    }
  });
});
