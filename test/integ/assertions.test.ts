/**
 * Every assertion of every integration test app (`integ/integ.*.ts`), judged by integ-tests-alpha's
 * own assertion handler (the code that judges it after a real deploy) against the answer of a
 * deployment that works, which must pass, and the answer of one that does not, which must fail.
 *
 * The answers are in ANSWERS, per app and per assertion (by the readable key `integAssertions`
 * gives it). An app added under integ/ is found by itself: its assertions fail this test, each
 * named with what it expects, until their answers are added here. An answer for an assertion the
 * app no longer makes fails it too.
 */
import * as fs from 'fs';
import * as path from 'path';
import { workflowIdFor } from '../../integ/integ-helpers';
import { IntegAssertion, integAssertions, invokeResponse, judgeAssertion, synthIntegApp } from '../helpers/integ-app';

/** The response an assertion's call gets, as integ-tests-alpha's provider hands it to the assertion. */
type Response = Record<string, unknown>;

/** What a call answers on a deployment that works, and on one that does not. */
interface Answers {
  readonly pass: Response;
  readonly fail: Response;
}

/** The answers of one assertion: fixed, or made from the assertion (its request, its ids). */
type Entry = Answers | ((assertion: IntegAssertion) => Answers);

// ----- Responses, shaped as the provider hands them over -----------------------------------------

/** A Lambda invoke whose function threw (the Invoke API still answers 200, with FunctionError). */
function invokeError(errorType: string, errorMessage: string): Response {
  return { ...invokeResponse({ errorType, errorMessage, trace: [] }), FunctionError: 'Unhandled' };
}

/** A Lambda invoke of a function that answers as an API Gateway (payload 2.0) integration. */
function apiInvoke(statusCode: number, body: unknown): Response {
  return invokeResponse({ statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) });
}

/** An HTTP call: the body is parsed when it is JSON, as the provider does. */
function httpCall(status: number, body: unknown): Response {
  return { ok: status < 400, status, statusText: HTTP_STATUS_TEXT[status] ?? '', headers: { 'content-type': ['application/json'] }, body };
}
const HTTP_STATUS_TEXT: Record<number, string> = { 200: 'OK', 202: 'Accepted', 401: 'Unauthorized', 403: 'Forbidden', 500: 'Internal Server Error', 503: 'Service Unavailable' };

// ----- The orchestrator's API, as src/runtime/api.ts answers -------------------------------------

/** The workflow a call names: in its path, or (a start) derived from its Idempotency-Key as the API does. */
function workflowOf(a: IntegAssertion): string {
  const text = JSON.stringify(a.request ?? a.parameters);
  const inPath = /wf-[0-9a-f]{32}/.exec(text);
  if (inPath) return inPath[0];
  const key = a.request?.headers?.['idempotency-key'];
  if (!key) throw new Error(`${a.key}: no workflow id in the request and no Idempotency-Key to derive one from`);
  return workflowIdFor(key);
}

/** `POST /workflows`: accepted, suspended on the research step. */
const started = (a: IntegAssertion): Answers => {
  const id = workflowOf(a);
  const base = a.request.rawPath.replace(/\/workflows$/, '');
  return {
    pass: apiInvoke(202, {
      workflow_id: id,
      status: 'PENDING',
      awaiting: 'research_completion',
      wait_kind: 'agent',
      message: 'Workflow suspended awaiting research completion',
      links: { self: `${base}/workflows/${id}` },
    }),
    fail: apiInvoke(403, { error: 'forbidden', message: 'the caller may not start workflows' }),
  };
};

/** `GET /workflows/{id}` of a workflow in a given state. */
function workflowView(id: string, status: string, awaiting: string | null, steps: Array<[string, string]>): Response {
  return apiInvoke(200, {
    workflow_id: id,
    definition: 'research-report',
    status,
    awaiting,
    wait_kind: awaiting === null ? null : awaiting === 'approval' ? 'approval' : 'agent',
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-01-01T00:05:00.000Z',
    input: { topic: 'Impact of quantum computing on cryptography' },
    cancel_requested: false,
    steps: steps.map(([name, s]) => ({ name, type: name === 'approval' ? 'approval' : name === 'publish' ? 'publish' : 'agent', status: s, started_at: null, ended_at: null })),
    result: status === 'SUCCEEDED' ? { report: `published/${id}/report.md` } : null,
    error: null,
  });
}
const AGENT_STEPS_DONE: Array<[string, string]> = [['research', 'SUCCEEDED'], ['analysis', 'SUCCEEDED'], ['writing', 'SUCCEEDED']];

/** The poll that waits for the approval step: it passes there, and not while an agent still works. */
const awaitingApproval = (a: IntegAssertion): Answers => ({
  pass: workflowView(workflowOf(a), 'RUNNING', 'approval', [...AGENT_STEPS_DONE, ['approval', 'WAITING']]),
  fail: workflowView(workflowOf(a), 'RUNNING', 'research_completion', [['research', 'WAITING']]),
});

/** The poll that waits for the end: it passes on SUCCEEDED, and not on FAILED. */
const succeeded = (a: IntegAssertion): Answers => ({
  pass: workflowView(workflowOf(a), 'SUCCEEDED', null, [...AGENT_STEPS_DONE, ['approval', 'SUCCEEDED'], ['publish', 'SUCCEEDED']]),
  fail: workflowView(workflowOf(a), 'FAILED', null, [...AGENT_STEPS_DONE, ['approval', 'SUCCEEDED'], ['publish', 'FAILED']]),
});

/** `POST /workflows/{id}/approval`: approved, or refused because nothing waits for approval. */
const approved = (a: IntegAssertion): Answers => ({
  pass: apiInvoke(200, { workflow_id: workflowOf(a), step_name: 'approval', approved: true, message: 'Approved; the workflow continues' }),
  fail: apiInvoke(409, { error: 'conflict', message: `workflow ${workflowOf(a)} is not waiting for approval (it is RUNNING, awaiting research_completion)` }),
});

/** The published report read from the artifact bucket: markdown, as the publish step stores it. */
const PUBLISHED_REPORT: Answers = {
  pass: { Body: '# Impact of quantum computing on cryptography\n', ContentType: 'text/markdown', ContentLength: 46, ETag: '"0f343b0931126a20f133d67c2b018a3b"' },
  fail: { Body: '# Impact of quantum computing on cryptography\n', ContentType: 'binary/octet-stream', ContentLength: 46, ETag: '"0f343b0931126a20f133d67c2b018a3b"' },
};

/** The health route of a SecureApi, called without signing. */
const HEALTH: Answers = { pass: httpCall(200, { status: 'ok' }), fail: httpCall(503, { message: 'Service Unavailable' }) };

/** An unsigned call of an IAM-authorized route: refused, as it must be (an API that lets it through fails). */
const UNSIGNED_REFUSED: Answers = {
  pass: httpCall(403, { message: 'Forbidden' }),
  fail: httpCall(202, { workflow_id: 'wf-00000000000000000000000000000000', status: 'PENDING' }),
};

/** The forged link token of integ.approval-links.ts (a valid-looking payload, a MAC of no key), as that app builds it. */
const FORGED_LINK_TOKEN = `v1.${Buffer.from(JSON.stringify({
  w: workflowIdFor('integ-approval-links-1'), c: 'cb-000000000000000000000000', d: 'approve', e: 4102444800, l: 'lk-0000000000000000000000',
})).toString('base64url')}.${'A'.repeat(43)}`;

/** A workflow view with its decisions (the audit records `GET /workflows/{id}` returns). */
function withDecisions(view: Response, decisions: unknown[]): Response {
  const payload = JSON.parse(view.Payload as string);
  return invokeResponse({ ...payload, body: JSON.stringify({ ...JSON.parse(payload.body), decisions }) });
}

const DECISION = {
  step_name: 'approval',
  decision: 'approved',
  by: 'unauthenticated (local)',
  via: 'local',
  decided_at: '2025-01-01T00:04:00.000Z',
  comment: 'integration test',
  source_ip: null,
  user_agent: null,
};

/**
 * The answers of every assertion of every app, by app file and assertion key. A new app (or a new
 * assertion) adds its entry here; the test names what is missing. An answer is the response the
 * assertion's call gets, as the provider hands it to the assertion: a Lambda invoke's `Payload` is
 * JSON text (`invokeResponse`, `apiInvoke`), an HTTP call's body is parsed when it is JSON
 * (`httpCall`), an SDK call's response is the SDK's with blobs as text; with `assertAtPath` it is
 * the value at that path (see `IntegAssertion.actualPath`).
 */
const ANSWERS: Record<string, Record<string, Entry>> = {
  'integ.bundled-handler.ts': {
    'Lambda.invoke HealthFunction': {
      pass: apiInvoke(200, { status: 'ok' }),
      fail: invokeError('Runtime.ImportModuleError', 'Error: Cannot find module \'index\''),
    },
  },
  'integ.data-tier.ts': {
    'Lambda.invoke Probe': {
      pass: invokeResponse({ postgres: 1, redis: 'PONG' }),
      fail: invokeError('Error', 'connect ETIMEDOUT 10.0.3.12:5432'),
    },
  },
  'integ.secure-api.ts': {
    'HTTP GET /health': HEALTH,
    'HTTP GET /hello': { pass: httpCall(403, { message: 'Forbidden' }), fail: httpCall(200, { message: 'hello from lambda' }) },
    'Lambda.invoke Probe {"path":"/hello"}': {
      pass: invokeResponse({ status: 200, body: { message: 'hello from lambda' } }),
      fail: invokeResponse({ status: 403, body: { message: 'Forbidden' } }),
    },
    'Lambda.invoke Probe {"path":"/web/"}': {
      pass: invokeResponse({ status: 200, body: '<html><body>secure-api-integ-web</body></html>\n' }),
      fail: invokeResponse({ status: 503, body: '<html><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>\n' }),
    },
  },
  'integ.durable-orchestrator.ts': {
    'Lambda.invoke OrchestratorApiFunction POST /workflows': started,
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId} #1': awaitingApproval,
    'Lambda.invoke OrchestratorApiFunction POST /workflows/{workflowId}/approval': approved,
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId} #2': succeeded,
    'S3.getObject Bucket=OrchestratorArtifactBucket Key=published/{workflowId}/report.md': PUBLISHED_REPORT,
  },
  'integ.approval-links.ts': {
    'Lambda.invoke OrchestratorApiFunction POST /workflows': started,
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId} #1': awaitingApproval,
    // The link routes exist and verify: a malformed token is a 400, a forged one a 403 (not a 404: links are on).
    'Lambda.invoke OrchestratorApiFunction POST /approvals/not-a-token': {
      pass: apiInvoke(400, { error: 'bad_request', message: 'this approval link is not valid (it is not a link token of this orchestrator); open the link exactly as it was sent' }),
      fail: apiInvoke(404, { error: 'not_found', message: 'no route for POST /approvals/not-a-token; routes are POST /workflows, ...' }),
    },
    [`Lambda.invoke OrchestratorApiFunction POST /approvals/${FORGED_LINK_TOKEN}`]: {
      pass: apiInvoke(403, { error: 'forbidden', message: 'this approval link was not issued by this orchestrator, or it was altered (its signature does not match)' }),
      fail: apiInvoke(200, { workflow_id: workflowIdFor('integ-approval-links-1'), step_name: 'approval', approved: true }),
    },
    // After the refused links: still waiting, nobody decided.
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId} #2': (a) => ({
      pass: withDecisions(workflowView(workflowOf(a), 'RUNNING', 'approval', [...AGENT_STEPS_DONE, ['approval', 'WAITING']]), []),
      fail: withDecisions(workflowView(workflowOf(a), 'RUNNING', null, [...AGENT_STEPS_DONE, ['approval', 'SUCCEEDED']]), [{ ...DECISION, via: 'link' }]),
    }),
    'Lambda.invoke OrchestratorApiFunction POST /workflows/{workflowId}/approval': approved,
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId} #3': succeeded,
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId} #4': (a) => ({
      pass: withDecisions(workflowView(workflowOf(a), 'SUCCEEDED', null, [...AGENT_STEPS_DONE, ['approval', 'SUCCEEDED'], ['publish', 'SUCCEEDED']]), [DECISION]),
      fail: withDecisions(workflowView(workflowOf(a), 'SUCCEEDED', null, [...AGENT_STEPS_DONE, ['approval', 'SUCCEEDED'], ['publish', 'SUCCEEDED']]), []),
    }),
  },
  'integ.seed-000-orchestration.ts': {
    'Lambda.invoke OrchestratorApiFunction POST /workflows': started,
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId} #1': awaitingApproval,
    'Lambda.invoke OrchestratorApiFunction POST /workflows/{workflowId}/approval': approved,
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId} #2': succeeded,
    'S3.getObject Bucket=OrchestratorArtifactBucket Key=published/{workflowId}/report.md': PUBLISHED_REPORT,
  },
  'integ.seed-001-agent-modules.ts': {
    'Lambda.invoke ResearcherLive {"health_check":true}': {
      pass: invokeResponse({ status: 'ok', agent: 'researcher', model_provider: 'bedrock' }),
      fail: invokeResponse({ status: 'misconfigured', agent: 'researcher', message: 'BEDROCK_MODEL_ID is required with AGENT_MODEL_PROVIDER=bedrock' }),
    },
    'Lambda.invoke OrchestratorApiFunction POST /workflows': started,
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId}': (a) => ({
      pass: workflowView(workflowOf(a), 'SUCCEEDED', null, [['research', 'SUCCEEDED'], ['analysis', 'SUCCEEDED']]),
      fail: workflowView(workflowOf(a), 'FAILED', null, [['research', 'SUCCEEDED'], ['analysis', 'FAILED']]),
    }),
  },
  'integ.agent-platform.ts': {
    'HTTP GET /health': HEALTH,
    'HTTP POST /research/workflows': UNSIGNED_REFUSED,
    'Lambda.invoke ResearchApiFunction POST /research/workflows': started,
    'Lambda.invoke ResearchApiFunction GET /research/workflows/{workflowId}': awaitingApproval,
  },
  'integ.seed-002-agent-team.ts': {
    // integ/services/team-api/server.js: 200 when every part answered, else 503 naming the failing part.
    'HTTP GET /team/probe': {
      pass: httpCall(403, { message: 'Forbidden' }),
      fail: httpCall(200, { postgres: 'ok', redis: 'ok', engine: 'ok' }),
    },
    'Lambda.invoke Probe {"path":"/team/probe"}': {
      pass: invokeResponse({ status: 200, body: { postgres: 'ok', redis: 'ok', engine: 'ok' } }),
      fail: invokeResponse({ status: 503, body: { postgres: 'ok', redis: 'ok', engine: 'error: fetch failed: getaddrinfo ENOTFOUND engine.internal' } }),
    },
  },
  'integ.seed-003-sales-agent.ts': {
    // integ/services/sales/app.py, as it answers through the API (anonymous health and chat routes).
    'HTTP GET /sales/health': {
      pass: httpCall(200, { status: 'ok' }),
      fail: httpCall(503, { message: 'Service Unavailable' }),
    },
    'HTTP POST /sales/chat': {
      pass: httpCall(200, {
        reply: 'Hola! Thanks for your message; a sales advisor will follow up on it. (model: none: OPENAI_API_KEY still holds its placeholder)',
        session_id: 'integ-seed-003',
        message_id: 'integ-seed-003-1',
        messages_stored: 1,
        messages_counted: 1,
        duplicate: false,
        secrets: { OPENAI_API_KEY: 'placeholder', TWILIO_AUTH_TOKEN: 'placeholder' },
      }),
      // The app's answer when PostgreSQL cannot be reached (a security group that does not admit the service).
      fail: httpCall(503, { error: 'unavailable', message: 'PostgreSQL cannot be reached right now; try again' }),
    },
    // The conversation history keeps the API's IAM authorization: an unsigned call is refused.
    'HTTP GET /sales/conversations/integ-seed-003': {
      pass: httpCall(403, { message: 'Forbidden' }),
      fail: httpCall(200, { session_id: 'integ-seed-003', messages: [] }),
    },
  },
  'integ.seed-004-production.ts': {
    'HTTP GET /health': HEALTH,
    // The core API's routes take a Cognito token (JWT): without one, API Gateway answers 401.
    'HTTP GET /team/health': { pass: httpCall(401, { message: 'Unauthorized' }), fail: httpCall(200, { status: 'ok' }) },
    'Lambda.invoke ResearchApiFunction POST /research/workflows #1': started,
    'Lambda.invoke ResearchApiFunction GET /research/workflows/{workflowId} #1': awaitingApproval,
    'Lambda.invoke ResearchApiFunction POST /research/workflows/{workflowId}/approval #1': approved,
    'Lambda.invoke ResearchApiFunction GET /research/workflows/{workflowId} #2': succeeded,
    'S3.getObject Bucket=ResearchArtifactBucket Key=published/{workflowId}/report.md': PUBLISHED_REPORT,
    'Lambda.invoke ResearchApiFunction POST /research/workflows #2': started,
    'Lambda.invoke ResearchApiFunction GET /research/workflows/{workflowId} #3': awaitingApproval,
    'Lambda.invoke ResearchApiFunction POST /research/workflows/{workflowId}/approval #2': (a) => ({
      pass: apiInvoke(200, { workflow_id: workflowOf(a), step_name: 'approval', approved: false, message: 'Rejected; the workflow follows its rejection rule' }),
      fail: apiInvoke(200, { workflow_id: workflowOf(a), step_name: 'approval', approved: true, message: 'Approved; the workflow continues' }),
    }),
    // The rejected workflow's event, as EventBridge delivers it to the queue (the whole event as the body).
    'SQS.receiveMessage QueueUrl=FailedWorkflows MaxNumberOfMessages=10 WaitTimeSeconds=10': (a) => {
      const id = /wf-[0-9a-f]{32}/.exec(a.expected)![0];
      const message = (detailType: string, status: string) => ({
        MessageId: '5fea7756-0ea4-451a-a703-a558b933e274',
        ReceiptHandle: 'AQEB...',
        MD5OfBody: '0f343b0931126a20f133d67c2b018a3b',
        Body: JSON.stringify({
          'version': '0',
          'id': '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
          'detail-type': detailType,
          'source': 'cdk-durable-agents',
          'account': '123456789012',
          'time': '2026-01-05T06:10:00Z',
          'region': 'us-east-1',
          'resources': [],
          'detail': { event_type: detailType === 'Workflow Failed' ? 'workflow_failed' : 'workflow_completed', status, workflow_id: id, workflow: 'research-report' },
        }),
      });
      return { pass: { Messages: [message('Workflow Failed', 'REJECTED')] }, fail: { Messages: [message('Workflow Completed', 'SUCCEEDED')] } };
    },
    'Lambda.invoke ResearchApiFunction {"scheduled_start":{"schedule":"DailyReview","scheduled_time":"2026-01-05T06:00:00Z","input":{"topic":"Daily review of blocked work items","parameters":{"depth":"brief"}}}} #1': {
      pass: invokeResponse({ workflow_id: workflowIdFor('scheduled-start DailyReview 2026-01-05T06:00:00Z'), status: 'PENDING', schedule: 'DailyReview', scheduled_time: '2026-01-05T06:00:00Z' }),
      fail: invokeError('ScheduledStartError', 'scheduled start refused, nothing was started: the tick of schedule \'DailyReview\' at 2026-01-05T06:00:00Z: the topic is missing'),
    },
    'Lambda.invoke ResearchApiFunction {"scheduled_start":{"schedule":"DailyReview","scheduled_time":"2026-01-05T06:00:00Z","input":{"topic":"Daily review of blocked work items","parameters":{"depth":"brief"}}}} #2': {
      pass: invokeResponse({
        workflow_id: workflowIdFor('scheduled-start DailyReview 2026-01-05T06:00:00Z'),
        status: 'RUNNING',
        schedule: 'DailyReview',
        scheduled_time: '2026-01-05T06:00:00Z',
        idempotent_replay: true,
      }),
      // A second tick that started a second workflow (no idempotency) must not pass.
      fail: invokeResponse({ workflow_id: 'wf-00000000000000000000000000000001', status: 'PENDING', schedule: 'DailyReview', scheduled_time: '2026-01-05T06:00:00Z' }),
    },
    'Synthetics.getCanaryRuns Name=ApiHealthCanary MaxResults=5': {
      pass: { CanaryRuns: [{ Id: 'run-1', Name: 'cdkdaapihealth', Status: { State: 'PASSED', StateReason: '', StateReasonCode: '' } }] },
      fail: { CanaryRuns: [{ Id: 'run-1', Name: 'cdkdaapihealth', Status: { State: 'FAILED', StateReason: 'expected status 200, got 503' } }] },
    },
  },
  'integ.run-limits.ts': {
    // The kill switch engaged by the API function's caller (an IAM principal; the invoke has none: 'unauthenticated').
    'Lambda.invoke OrchestratorApiFunction PUT /admin/kill-switch #1': {
      pass: apiInvoke(200, { engaged: true, reason: 'integration test', changed_by: 'unauthenticated (local)', changed_at: '2025-01-01T00:00:00.000Z', cancelled_workflows: 0 }),
      fail: apiInvoke(404, { error: 'not_found', message: 'no route for PUT /admin/kill-switch' }),
    },
    'Lambda.invoke OrchestratorApiFunction POST /workflows #1': {
      pass: apiInvoke(503, { error: 'kill_switch_engaged', message: 'the kill switch is engaged: integration test (by unauthenticated (local) at 2025-01-01T00:00:00.000Z)' }),
      fail: apiInvoke(202, { workflow_id: 'wf-00000000000000000000000000000000', status: 'PENDING' }),
    },
    'Lambda.invoke OrchestratorApiFunction PUT /admin/kill-switch #2': {
      pass: apiInvoke(200, { engaged: false, reason: null, changed_by: 'unauthenticated (local)', changed_at: '2025-01-01T00:01:00.000Z' }),
      fail: apiInvoke(200, { engaged: true, reason: 'integration test', changed_by: 'unauthenticated (local)', changed_at: '2025-01-01T00:00:00.000Z' }),
    },
    'Lambda.invoke OrchestratorApiFunction POST /workflows #2': (a) => ({
      pass: apiInvoke(202, { workflow_id: workflowOf(a), status: 'PENDING', awaiting: 'research_completion', wait_kind: 'agent' }),
      fail: apiInvoke(503, { error: 'kill_switch_engaged', message: 'the kill switch is engaged: integration test' }),
    }),
    'Lambda.invoke OrchestratorApiFunction GET /workflows/{workflowId}': (a) => ({
      pass: apiInvoke(200, { workflow_id: workflowOf(a), status: 'SUCCEEDED', error: null }),
      fail: apiInvoke(200, { workflow_id: workflowOf(a), status: 'FAILED', error: { code: 'BUDGET_EXCEEDED', message: 'budget exceeded' } }),
    }),
  },
};

const INTEG_DIR = path.join(__dirname, '..', '..', 'integ');
const APPS = fs.readdirSync(INTEG_DIR).filter((f) => /^integ\..+\.ts$/.test(f)).sort();
const SUCCESS = { assertion: JSON.stringify({ status: 'success' }) };

test('the apps are found, and every app in the table is still there', () => {
  expect(APPS.length).toBeGreaterThan(0);
  expect(Object.keys(ANSWERS).filter((app) => !APPS.includes(app))).toEqual([]);
});

describe.each(APPS)('%s', (app) => {
  let outdir: string | undefined;
  let found: IntegAssertion[] = [];
  beforeAll(() => {
    outdir = synthIntegApp(path.join('integ', app));
    found = integAssertions(outdir);
  }, 180_000);
  afterAll(() => outdir && fs.rmSync(outdir, { recursive: true, force: true }));

  const answers = ANSWERS[app] ?? {};

  test('it has assertions, each has its answers in the table, and the table has none it does not make', () => {
    expect(found.length).toBeGreaterThan(0);
    const keys = found.map((a) => a.key);
    expect(new Set(keys).size).toBe(keys.length);
    const missing = found.filter((a) => !(a.key in answers)).map((a) => `'${a.key}' (in ${a.file}) expects ${a.expected}`);
    expect({ app, missingAnswers: missing }).toEqual({ app, missingAnswers: [] });
    expect({ app, staleAnswers: Object.keys(answers).filter((k) => !keys.includes(k)) }).toEqual({ app, staleAnswers: [] });
  });

  test('each assertion passes on a working answer and fails on a failing one (integ-tests-alpha\'s AssertionHandler)', async () => {
    const judged: Array<{ key: string; pass: unknown; fail: boolean | undefined }> = [];
    for (const a of found.filter((x) => x.key in answers)) {
      const entry = answers[a.key];
      const { pass, fail } = typeof entry === 'function' ? entry(a) : entry;
      judged.push({ key: a.key, pass: await judgeAssertion(a.expected, pass), fail: (await judgeAssertion(a.expected, fail)).failed });
    }
    expect(judged).toEqual(judged.map((j) => ({ key: j.key, pass: SUCCESS, fail: true })));
  });
});
