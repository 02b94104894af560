import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { definition, agentStep, researchDefinition, seedStartAnswer } from './fixtures';
import { AgentBehavior, makeRuntime, succeeds, TestRuntime } from './harness';
import { referenceDefinition } from '../../src/cli/reference';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import type { TaskEnvelope } from '../../src/contract/status';
import { LocalArtifactStore, LocalWorkflowStore } from '../../src/runtime/adapters/local';
import { createApi } from '../../src/runtime/api';
import { newRecord } from '../../src/runtime/controller';
import { LocalDurableControl } from '../../src/runtime/durable/local-durable-control';
import { newCallbackId, newCallbackToken, newWorkflowId, sha256 } from '../../src/runtime/ids';
import { CallbackNotPendingError, DurableControl, StepRecord } from '../../src/runtime/ports';
import { RecordingTelemetry } from '../../src/runtime/telemetry';

jest.setTimeout(60_000);

/** A researcher that keeps its envelope and never reports, so its callback stays open. */
let held: TaskEnvelope | undefined;
const holder: AgentBehavior = async (env) => {
  held = env;
};

let rt: TestRuntime;
let waitingForAgent: string;
let waitingForApproval: string;
let ended: string;
/** The held step's record as it was once the agent had its task. */
let heldStep: StepRecord | undefined;

beforeAll(async () => {
  await LocalDurableControl.setup();
  let first = true;
  rt = makeRuntime(researchDefinition(), {
    researcher: async (env, tools) => {
      if (first) {
        first = false;
        return holder(env, tools);
      }
      return succeeds(['research'])(env, tools);
    },
    analyst: succeeds(['analysis']),
    writer: succeeds(['report']),
  });
  waitingForAgent = await rt.start({ topic: 'held' });
  await rt.waitFor(waitingForAgent, (wf) => wf.awaiting === 'research_completion');
  heldStep = (await rt.store.getWorkflow(waitingForAgent))!.steps.find((s) => s.name === 'research');
  waitingForApproval = await rt.start({ topic: 'approval' });
  await rt.waitFor(waitingForApproval, (wf) => wf.awaiting === 'approval');
  ended = await rt.start({ topic: 'ended' });
  await rt.waitFor(ended, (wf) => wf.awaiting === 'approval');
  await rt.call('POST', `/workflows/${ended}/cancel`);
  await rt.finished(ended);
});

afterAll(async () => {
  for (const id of [waitingForAgent, waitingForApproval]) await rt.call('POST', `/workflows/${id}/cancel`);
  await Promise.all([waitingForAgent, waitingForApproval].map((id) => rt.finished(id)));
  rt.dispose();
  await LocalDurableControl.teardown();
});

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: () => string;
  /** The body, or a function that makes it when the case runs. */
  readonly body?: unknown;
  readonly headers?: () => Record<string, string>;
  readonly status: number;
  /** The message must match: it names the field or the problem and what is expected. */
  readonly message: RegExp;
}

const bearer = () => ({ authorization: `Bearer ${held!.callback.token}` });
const cb = () => `/callbacks/${held!.callback.id}`;
const huge = 'x'.repeat(70 * 1024);
/** An input nested `levels` deep (the input object itself is level 1). */
const nested = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 2; i < levels; i++) value = { a: value };
  return { topic: 'deep', a: value };
};
/** A report naming one artifact key under the held task's own prefix. */
const reportKey = (suffix: string) => () => ({ status: 'succeeded', artifacts: { report: `${held!.artifacts.prefix}${suffix}` } });

const CASES: Case[] = [
  // POST /workflows
  { name: 'no body', method: 'POST', path: () => '/workflows', status: 400, message: /a JSON body is required/ },
  { name: 'empty body', method: 'POST', path: () => '/workflows', body: '   ', status: 400, message: /a JSON body is required/ },
  { name: 'invalid JSON', method: 'POST', path: () => '/workflows', body: '{"topic": ', status: 400, message: /not valid JSON/ },
  { name: 'JSON array', method: 'POST', path: () => '/workflows', body: '[1,2]', status: 400, message: /must be a JSON object, got an array/ },
  { name: 'JSON string', method: 'POST', path: () => '/workflows', body: '"topic"', status: 400, message: /must be a JSON object, got string/ },
  { name: 'JSON null', method: 'POST', path: () => '/workflows', body: 'null', status: 400, message: /must be a JSON object, got null/ },
  { name: 'missing required field', method: 'POST', path: () => '/workflows', body: { parameters: {} }, status: 400, message: /field 'topic' is required: step 'research' reads it/ },
  { name: 'required field null', method: 'POST', path: () => '/workflows', body: { topic: null }, status: 400, message: /field 'topic' is required/ },
  { name: 'required field blank', method: 'POST', path: () => '/workflows', body: { topic: '  ' }, status: 400, message: /field 'topic' must not be empty/ },
  { name: 'input nested 21 levels deep', method: 'POST', path: () => '/workflows', body: nested(21), status: 400, message: /nested deeper than 20 levels \(the depth limit\)/ },
  { name: 'input nested 30000 levels deep', method: 'POST', path: () => '/workflows', body: `{"topic":"x","a":${'['.repeat(30000)}${']'.repeat(30000)}}`, status: 400, message: /nested deeper than 20 levels/ },
  { name: 'input too large', method: 'POST', path: () => '/workflows', body: { topic: 'x', blob: 'y'.repeat(40 * 1024) }, status: 400, message: /larger than 32 KB/ },
  { name: 'body too large', method: 'POST', path: () => '/workflows', body: huge, status: 400, message: /larger than 64 KB/ },
  { name: 'idempotency key with spaces', method: 'POST', path: () => '/workflows', body: { topic: 'x' }, headers: () => ({ 'Idempotency-Key': 'has space' }), status: 400, message: /Idempotency-Key must be 1 to 255 printable ASCII/ },
  { name: 'idempotency key too long', method: 'POST', path: () => '/workflows', body: { topic: 'x' }, headers: () => ({ 'Idempotency-Key': 'k'.repeat(256) }), status: 400, message: /Idempotency-Key/ },
  { name: 'PUT on /workflows', method: 'PUT', path: () => '/workflows', body: {}, status: 405, message: /PUT is not allowed on \/workflows; use POST, GET/ },
  // GET /workflows
  { name: 'unknown status', method: 'GET', path: () => '/workflows?status=DONE', status: 400, message: /parameter 'status': expected one of .*"SUCCEEDED"/ },
  { name: 'lower-case status', method: 'GET', path: () => '/workflows?status=succeeded', status: 400, message: /parameter 'status'/ },
  { name: 'limit zero', method: 'GET', path: () => '/workflows?limit=0', status: 400, message: /parameter 'limit': expected a whole number from 1 to 100/ },
  { name: 'limit too big', method: 'GET', path: () => '/workflows?limit=101', status: 400, message: /parameter 'limit': expected a whole number from 1 to 100/ },
  { name: 'limit not a number', method: 'GET', path: () => '/workflows?limit=ten', status: 400, message: /parameter 'limit': expected a whole number/ },
  { name: 'limit negative', method: 'GET', path: () => '/workflows?limit=-1', status: 400, message: /parameter 'limit'/ },
  { name: 'forged next_token', method: 'GET', path: () => '/workflows?next_token=garbage', status: 400, message: /parameter 'next_token'/ },
  { name: 'unknown query parameter', method: 'GET', path: () => '/workflows?stauts=RUNNING', status: 400, message: /unknown parameter 'stauts'/ },
  // GET /workflows/{id}
  { name: 'unknown workflow', method: 'GET', path: () => '/workflows/wf-00000000000000000000000000000000', status: 404, message: /no workflow with id/ },
  { name: 'malformed workflow id', method: 'GET', path: () => '/workflows/../../etc', status: 404, message: /no route|no workflow/ },
  { name: 'garbage workflow id', method: 'GET', path: () => '/workflows/%3Cscript%3E', status: 404, message: /no workflow with id '<script>'/ },
  { name: 'undecodable workflow id', method: 'GET', path: () => '/workflows/%E0%A4%A', status: 404, message: /not valid percent-encoding/ },
  { name: 'undecodable callback id', method: 'POST', path: () => '/callbacks/%E0%A4%A', body: { status: 'succeeded' }, headers: bearer, status: 404, message: /not valid percent-encoding/ },
  { name: 'DELETE a workflow', method: 'DELETE', path: () => `/workflows/${waitingForAgent}`, status: 405, message: /DELETE is not allowed/ },
  // POST /workflows/{id}/approval
  { name: 'approval without body', method: 'POST', path: () => `/workflows/${waitingForApproval}/approval`, status: 400, message: /a JSON body is required: \{"approved": true/ },
  { name: 'approval not JSON', method: 'POST', path: () => `/workflows/${waitingForApproval}/approval`, body: 'yes', status: 400, message: /not valid JSON/ },
  { name: 'approval missing approved', method: 'POST', path: () => `/workflows/${waitingForApproval}/approval`, body: { comment: 'ok' }, status: 400, message: /field 'approved': expected boolean/ },
  { name: 'approved as string', method: 'POST', path: () => `/workflows/${waitingForApproval}/approval`, body: { approved: 'true' }, status: 400, message: /field 'approved': expected boolean, received string/ },
  { name: 'approved as number', method: 'POST', path: () => `/workflows/${waitingForApproval}/approval`, body: { approved: 1 }, status: 400, message: /field 'approved': expected boolean/ },
  { name: 'comment not a string', method: 'POST', path: () => `/workflows/${waitingForApproval}/approval`, body: { approved: true, comment: 5 }, status: 400, message: /field 'comment': expected string/ },
  { name: 'comment too long', method: 'POST', path: () => `/workflows/${waitingForApproval}/approval`, body: { approved: true, comment: 'c'.repeat(2001) }, status: 400, message: /field 'comment'.*2000/ },
  { name: 'approval unknown field', method: 'POST', path: () => `/workflows/${waitingForApproval}/approval`, body: { approved: true, approver: 'me' }, status: 400, message: /unknown field 'approver'/ },
  { name: 'approval of unknown workflow', method: 'POST', path: () => '/workflows/wf-00000000000000000000000000000000/approval', body: { approved: true }, status: 404, message: /no workflow/ },
  { name: 'approval while waiting for an agent', method: 'POST', path: () => `/workflows/${waitingForAgent}/approval`, body: { approved: true }, status: 409, message: /not waiting for approval \(it is RUNNING, awaiting research_completion\)/ },
  { name: 'approval of an ended workflow', method: 'POST', path: () => `/workflows/${ended}/approval`, body: { approved: true }, status: 409, message: /has ended \(CANCELLED\)/ },
  { name: 'GET on approval', method: 'GET', path: () => `/workflows/${waitingForApproval}/approval`, status: 405, message: /use POST/ },
  // POST /workflows/{id}/cancel
  { name: 'cancel unknown workflow', method: 'POST', path: () => '/workflows/wf-00000000000000000000000000000000/cancel', status: 404, message: /no workflow/ },
  { name: 'cancel an ended workflow', method: 'POST', path: () => `/workflows/${ended}/cancel`, status: 409, message: /already ended \(CANCELLED\)/ },
  { name: 'cancel with a body', method: 'POST', path: () => `/workflows/${waitingForAgent}/cancel`, body: { reason: 'x' }, status: 400, message: /takes no body/ },
  // POST /callbacks/{id}
  { name: 'report without token', method: 'POST', path: cb, body: { status: 'succeeded' }, status: 401, message: /X-Callback-Token: <token> \(or Authorization: Bearer <token>\) is required/ },
  { name: 'report with basic auth', method: 'POST', path: cb, body: { status: 'succeeded' }, headers: () => ({ authorization: 'Basic dXNlcjpwYXNz' }), status: 401, message: /Bearer/ },
  { name: 'report with a malformed token', method: 'POST', path: cb, body: { status: 'succeeded' }, headers: () => ({ 'x-callback-token': 'short' }), status: 401, message: /malformed/ },
  { name: 'report with a forged X-Callback-Token', method: 'POST', path: cb, body: { status: 'succeeded' }, headers: () => ({ 'x-callback-token': 'Y'.repeat(43) }), status: 403, message: /does not belong/ },
  { name: 'report with a forged token', method: 'POST', path: cb, body: { status: 'succeeded' }, headers: () => ({ authorization: `Bearer ${'Z'.repeat(43)}` }), status: 403, message: /does not belong to callback/ },
  { name: 'report to unknown callback', method: 'POST', path: () => '/callbacks/cb-AAAAAAAAAAAAAAAAAAAAAAAA', body: { status: 'succeeded' }, headers: bearer, status: 404, message: /no callback with id/ },
  { name: 'report to unknown callback with a malformed token', method: 'POST', path: () => '/callbacks/cb-AAAAAAAAAAAAAAAAAAAAAAAA', body: { status: 'succeeded' }, headers: () => ({ 'x-callback-token': 'short' }), status: 404, message: /no callback with id/ },
  { name: 'report to unknown callback without a token', method: 'POST', path: () => '/callbacks/cb-AAAAAAAAAAAAAAAAAAAAAAAA', body: { status: 'succeeded' }, status: 404, message: /no callback with id/ },
  { name: 'report to malformed callback id', method: 'POST', path: () => '/callbacks/not-a-callback', body: { status: 'succeeded' }, headers: bearer, status: 404, message: /no callback/ },
  { name: 'report without body', method: 'POST', path: cb, headers: bearer, status: 400, message: /a JSON body is required/ },
  { name: 'report with unknown status', method: 'POST', path: cb, body: { status: 'done' }, headers: bearer, status: 400, message: /field 'status': expected one of "succeeded", "failed"/ },
  { name: 'report without status', method: 'POST', path: cb, body: { artifacts: {} }, headers: bearer, status: 400, message: /field 'status'/ },
  { name: 'failed report without error', method: 'POST', path: cb, body: { status: 'failed' }, headers: bearer, status: 400, message: /field 'error': required when status is 'failed'/ },
  { name: 'failed report with empty message', method: 'POST', path: cb, body: { status: 'failed', error: { message: '' } }, headers: bearer, status: 400, message: /field 'error.message'/ },
  { name: 'failed report with the reserved code BranchAbandoned', method: 'POST', path: cb, body: { status: 'failed', error: { code: 'BranchAbandoned', message: 'stop' } }, headers: bearer, status: 400, message: /field 'error.code': 'BranchAbandoned' is reserved/ },
  { name: 'failed report with the reserved code WorkflowCancelled', method: 'POST', path: cb, body: { status: 'failed', error: { code: 'WorkflowCancelled', message: 'stop' } }, headers: bearer, status: 400, message: /field 'error.code': 'WorkflowCancelled' is reserved/ },
  { name: 'failed report with artifacts', method: 'POST', path: cb, body: { status: 'failed', error: { message: 'x' }, artifacts: { a: 'b' } }, headers: bearer, status: 400, message: /a failed report carries no artifacts/ },
  { name: 'succeeded report with error', method: 'POST', path: cb, body: { status: 'succeeded', error: { message: 'x' } }, headers: bearer, status: 400, message: /only a 'failed' report carries an error/ },
  { name: 'artifact name invalid', method: 'POST', path: cb, body: { status: 'succeeded', artifacts: { '1bad': 'k' } }, headers: bearer, status: 400, message: /field 'artifacts.1bad'.*artifact names/ },
  { name: 'artifact key not a string', method: 'POST', path: cb, body: { status: 'succeeded', artifacts: { report: 3 } }, headers: bearer, status: 400, message: /field 'artifacts.report': expected string/ },
  { name: 'artifact outside prefix', method: 'POST', path: cb, body: { status: 'succeeded', artifacts: { report: 'published/x' } }, headers: bearer, status: 400, message: /outside this task's prefix/ },
  { name: 'artifact key that is the prefix itself', method: 'POST', path: cb, body: reportKey(''), headers: bearer, status: 400, message: /field 'artifacts.report': artifact key .* is not valid: it has an empty segment/ },
  { name: 'artifact key with an empty segment', method: 'POST', path: cb, body: reportKey('a//b.md'), headers: bearer, status: 400, message: /field 'artifacts.report':.*empty segment/ },
  { name: 'artifact key with a "." segment', method: 'POST', path: cb, body: reportKey('./x.md'), headers: bearer, status: 400, message: /field 'artifacts.report':.*"\." segment/ },
  { name: 'artifact key with a ".." segment inside the prefix', method: 'POST', path: cb, body: reportKey('../attempt-2/x.md'), headers: bearer, status: 400, message: /field 'artifacts.report':.*"\.\." segment/ },
  { name: 'artifact key with a backslash', method: 'POST', path: cb, body: reportKey('a\\b.md'), headers: bearer, status: 400, message: /field 'artifacts.report':.*backslash/ },
  { name: 'artifact key with a NUL', method: 'POST', path: cb, body: reportKey('a\u0000b.md'), headers: bearer, status: 400, message: /field 'artifacts.report':.*NUL/ },
  { name: 'artifact path traversal', method: 'POST', path: cb, body: { status: 'succeeded', artifacts: { report: `workflows/${'x'}/../../secret` } }, headers: bearer, status: 400, message: /outside this task's prefix/ },
  { name: 'output not an object', method: 'POST', path: cb, body: { status: 'succeeded', output: 'words' }, headers: bearer, status: 400, message: /field 'output': expected record|field 'output'/ },
  { name: 'output too large', method: 'POST', path: cb, body: { status: 'succeeded', output: { text: 'o'.repeat(17 * 1024) } }, headers: bearer, status: 400, message: /field 'output': larger than 16 KB/ },
  { name: 'report unknown field', method: 'POST', path: cb, body: { status: 'succeeded', result: 1 }, headers: bearer, status: 400, message: /unknown field 'result'/ },
  { name: 'error code invalid', method: 'POST', path: cb, body: { status: 'failed', error: { code: 'has space', message: 'm' } }, headers: bearer, status: 400, message: /field 'error.code'/ },
  // POST /callbacks/{id}/heartbeat
  { name: 'heartbeat without token', method: 'POST', path: () => `${cb()}/heartbeat`, status: 401, message: /Bearer/ },
  { name: 'heartbeat with forged token', method: 'POST', path: () => `${cb()}/heartbeat`, headers: () => ({ authorization: `Bearer ${'Q'.repeat(43)}` }), status: 403, message: /does not belong/ },
  { name: 'heartbeat with a body other than usage', method: 'POST', path: () => `${cb()}/heartbeat`, body: { progress: 1 }, headers: bearer, status: 400, message: /^unknown field 'progress'$/ },
  { name: 'heartbeat with malformed usage', method: 'POST', path: () => `${cb()}/heartbeat`, body: { usage: { input_tokens: 1 } }, headers: bearer, status: 400, message: /field 'usage.output_tokens': expected number/ },
  // Anything else
  { name: 'unknown route', method: 'GET', path: () => '/nothing', status: 404, message: /no route for GET \/nothing; routes are POST \/workflows/ },
];

describe('every bad request gets a 4xx naming the problem, and writes nothing', () => {
  test(`at least 40 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await rt.call('GET', '/workflows?limit=100');
    const res = await rt.call(c.method, c.path(), typeof c.body === 'function' ? c.body() : c.body, c.headers?.());
    expect({ status: res.status, message: res.body?.message }).toEqual({ status: c.status, message: expect.stringMatching(c.message) });
    expect(res.body.error).toEqual(expect.any(String));
    expect(res.headers['content-type']).toBe('application/json');
    const after = await rt.call('GET', '/workflows?limit=100');
    expect(after.body.workflows.length).toBe(before.body.workflows.length);
  });

  test('a report naming an existing artifact of another attempt is a 400', async () => {
    // Written where attempt 2 of the same step would write: inside the step's prefix, not this task's.
    const other = held!.artifacts.prefix.replace(/attempt-1\/$/, 'attempt-2/');
    await rt.ports.artifacts.put(`${other}report.md`, 'from another attempt');
    const res = await rt.call('POST', cb(), { status: 'succeeded', artifacts: { report: `${other}report.md` } }, bearer());
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(`field 'artifacts.report': key '${other}report.md' is outside this task's prefix '${held!.artifacts.prefix}' (use the prefix from the task envelope)`);
  });

  test('the held callback is still pending after all that', async () => {
    const callback = await rt.store.getCallback(held!.callback.id);
    expect(callback).toMatchObject({ state: 'PENDING', kind: 'agent', stepName: 'research', attempt: 1 });
    expect(callback!.outcome).toBeUndefined();
    expect((await rt.store.pendingCallbacks(waitingForAgent)).map((c) => c.callbackId)).toEqual([held!.callback.id]);
    const record = await rt.store.getWorkflow(waitingForAgent);
    expect(heldStep).toMatchObject({ name: 'research', status: 'WAITING', attempts: 1 });
    expect(record!.steps.find((s) => s.name === 'research')).toEqual(heldStep);
    const wf = await rt.call('GET', `/workflows/${waitingForAgent}`);
    expect(wf.body).toMatchObject({ status: 'RUNNING', awaiting: 'research_completion', wait_kind: 'agent' });
    const approval = await rt.call('GET', `/workflows/${waitingForApproval}`);
    expect(approval.body).toMatchObject({ status: 'RUNNING', awaiting: 'approval', wait_kind: 'approval' });
    // Lists show the same.
    const list = (await rt.call('GET', '/workflows?status=RUNNING&limit=100')).body.workflows;
    expect(list.find((w: any) => w.workflow_id === waitingForAgent)).toMatchObject({ awaiting: 'research_completion', wait_kind: 'agent' });
    expect(list.find((w: any) => w.workflow_id === waitingForApproval)).toMatchObject({ awaiting: 'approval', wait_kind: 'approval' });
  });
});

describe('POST /workflows', () => {
  test('answers 202 with workflow_id, status, awaiting, wait_kind and message, as seed 000 does', async () => {
    const res = await rt.call('POST', '/workflows', { topic: 'Impact of quantum computing on cryptography', parameters: { depth: 'comprehensive' } });
    expect(res.status).toBe(202);
    expect(res.body.workflow_id).toMatch(/^wf-[0-9a-f]{32}$/);
    expect(res.body).toEqual(seedStartAnswer(res.body.workflow_id));
    await rt.waitFor(res.body.workflow_id, (wf) => wf.awaiting === 'approval');
    await rt.call('POST', `/workflows/${res.body.workflow_id}/cancel`);
    await rt.finished(res.body.workflow_id);
  });

  test('the same Idempotency-Key twice starts one workflow and returns its id; a different body is a 409', async () => {
    const headers = { 'Idempotency-Key': 'order-1234' };
    const [a, b] = await Promise.all([
      rt.call('POST', '/workflows', { topic: 'same' }, headers),
      rt.call('POST', '/workflows', { topic: 'same' }, headers),
    ]);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.body.workflow_id).toBe(b.body.workflow_id);
    expect([a.body.idempotent_replay, b.body.idempotent_replay].filter(Boolean)).toHaveLength(1);
    const other = await rt.call('POST', '/workflows', { topic: 'different' }, headers);
    expect(other.status).toBe(409);
    expect(other.body.message).toContain("Idempotency-Key 'order-1234' was already used");
    await rt.waitFor(a.body.workflow_id, (wf) => wf.awaiting === 'approval');
    expect(rt.durable.workflowIds.filter((id) => id === a.body.workflow_id)).toHaveLength(1);
    await rt.call('POST', `/workflows/${a.body.workflow_id}/cancel`);
    await rt.finished(a.body.workflow_id);
  });
});

describe('POST /workflows: idempotency and depth', () => {
  test('the same Idempotency-Key with the same input in another key order is the same workflow', async () => {
    const headers = { 'Idempotency-Key': 'order-keys' };
    const a = await rt.call('POST', '/workflows', { topic: 'same', parameters: { depth: 'deep', tone: 'dry', list: [{ b: 1, a: 2 }] } }, headers);
    const b = await rt.call('POST', '/workflows', { parameters: { list: [{ a: 2, b: 1 }], tone: 'dry', depth: 'deep' }, topic: 'same' }, headers);
    expect(a.status).toBe(202);
    expect(b).toMatchObject({ status: 202, body: { workflow_id: a.body.workflow_id, idempotent_replay: true } });
    // Array order is meaning: a different order is a different input.
    const c = await rt.call('POST', '/workflows', { topic: 'same', parameters: { depth: 'deep', tone: 'dry', list: [{ a: 2 }, { b: 1 }] } }, headers);
    expect(c.status).toBe(409);
    await rt.waitFor(a.body.workflow_id, (wf) => wf.awaiting === 'approval');
    await rt.call('POST', `/workflows/${a.body.workflow_id}/cancel`);
    await rt.finished(a.body.workflow_id);
  });

  test('an input nested exactly 20 levels deep is accepted', async () => {
    const res = await rt.call('POST', '/workflows', nested(20));
    expect(res.status).toBe(202);
    await rt.waitFor(res.body.workflow_id, (wf) => wf.awaiting === 'approval');
    await rt.call('POST', `/workflows/${res.body.workflow_id}/cancel`);
    await rt.finished(res.body.workflow_id);
  });
});

describe('a report the durable execution no longer waits for', () => {
  /** An API over local stores whose durable control says every callback is closed. */
  async function closedApi() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-closed-'));
    const store = new LocalWorkflowStore();
    const artifacts = new LocalArtifactStore(dir);
    const refuse = async () => {
      throw new CallbackNotPendingError('CallbackTimeoutException: the callback timed out');
    };
    const durable: DurableControl = { start: async () => {}, callbackSuccess: refuse, callbackFailure: refuse, callbackHeartbeat: refuse };
    const def = definition([agentStep('research', 'researcher'), { type: 'approval', name: 'review', prompt: 'ok?', timeoutSeconds: 60, onTimeout: 'REJECT', onReject: 'END' }]);
    const api = createApi({ definition: def, ports: { store, artifacts, durable }, telemetry: new RecordingTelemetry() });
    const workflowId = newWorkflowId();
    const now = new Date().toISOString();
    await store.createWorkflow({ ...newRecord(workflowId, 'test', {}, now), status: 'RUNNING' });
    const step: StepRecord = { name: 'research', type: 'agent', status: 'WAITING', attempts: 1, startedAt: now };
    await store.putStep(workflowId, step);
    const token = newCallbackToken();
    const deadline = new Date(Date.now() + 60_000).toISOString();
    const agent = { callbackId: newCallbackId(), durableCallbackId: 'd-1', workflowId, stepName: 'research', kind: 'agent' as const, tokenHash: sha256(token), state: 'PENDING' as const, createdAt: now, deadline, attempt: 1 };
    const approval = { callbackId: newCallbackId(), durableCallbackId: 'd-2', workflowId, stepName: 'review', kind: 'approval' as const, state: 'PENDING' as const, createdAt: now, deadline };
    await store.putCallback(agent);
    await store.putCallback(approval);
    const call = async (p: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await api({
        rawPath: p, headers, body: JSON.stringify(body), isBase64Encoded: false, requestContext: { http: { method: 'POST', path: p }, stage: '$default' },
      } as unknown as APIGatewayProxyEventV2);
      return { status: res.statusCode, body: JSON.parse(res.body as string) };
    };
    return { dir, store, workflowId, step, token, agent, approval, call };
  }

  test('is a 409, and the callback record and the step are left as they are', async () => {
    const t = await closedApi();
    try {
      const succeeded = await t.call(`/callbacks/${t.agent.callbackId}`, { status: 'succeeded' }, { 'x-callback-token': t.token });
      expect(succeeded).toMatchObject({ status: 409, body: { error: 'conflict', message: expect.stringContaining('no longer waiting') } });
      const failed = await t.call(`/callbacks/${t.agent.callbackId}`, { status: 'failed', error: { message: 'x' } }, { 'x-callback-token': t.token });
      expect(failed.status).toBe(409);
      const approved = await t.call(`/workflows/${t.workflowId}/approval`, { approved: true });
      expect(approved.status).toBe(409);
      expect(await t.store.getCallback(t.agent.callbackId)).toEqual(t.agent);
      expect(await t.store.getCallback(t.approval.callbackId)).toEqual(t.approval);
      expect((await t.store.getWorkflow(t.workflowId))!.steps).toEqual([t.step]);
    } finally {
      fs.rmSync(t.dir, { recursive: true, force: true });
    }
  });
});

describe('GET /workflows', () => {
  test('newest first, filtered by status, paginated with next_token', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await rt.start({ topic: `page ${i}` }));
    await Promise.all(ids.map((id) => rt.waitFor(id, (wf) => wf.awaiting === 'approval')));
    for (const id of ids) await rt.call('POST', `/workflows/${id}/cancel`);
    await Promise.all(ids.map((id) => rt.finished(id)));

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await rt.call('GET', `/workflows?status=CANCELLED&limit=2${token ? `&next_token=${encodeURIComponent(token)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.workflows.length).toBeLessThanOrEqual(2);
      for (const w of res.body.workflows) {
        expect(w.status).toBe('CANCELLED');
        seen.push(w.workflow_id);
      }
      token = res.body.next_token;
      pages++;
    } while (token && pages < 20);
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(new Set(seen).size).toBe(seen.length);
    const times = await Promise.all(seen.map(async (id) => (await rt.call('GET', `/workflows/${id}`)).body.updated_at));
    expect([...times].sort().reverse()).toEqual(times);
  });
});

describe('seed 000\'s answers (the handler the cloud API runs)', () => {
  /** The API over a local store, with a durable control that starts nothing: the answers alone. */
  function quietApi(def: WorkflowDefinitionDocument) {
    const store = new LocalWorkflowStore();
    const artifacts = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-seed-')));
    const idle = async () => {};
    const durable: DurableControl = { start: idle, callbackSuccess: idle, callbackFailure: idle, callbackHeartbeat: idle };
    const api = createApi({ definition: def, ports: { store, artifacts, durable }, telemetry: new RecordingTelemetry() });
    const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await api({
        rawPath: p,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        isBase64Encoded: false,
        requestContext: { http: { method, path: p }, stage: '$default' },
      } as unknown as APIGatewayProxyEventV2);
      return { status: res.statusCode, body: JSON.parse(res.body as string) };
    };
    return { store, call };
  }

  test('POST /workflows on the library\'s reference workflow answers the seed\'s body, word for word', async () => {
    const { call } = quietApi(referenceDefinition());
    const res = await call('POST', '/workflows', { topic: 'Impact of quantum computing on cryptography', parameters: { depth: 'comprehensive', sources: ['academic', 'industry'] } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual(seedStartAnswer(res.body.workflow_id));
    // The seed's four fields, exactly as the seed's README shows them.
    const { status, workflow_id: id, awaiting, message } = res.body;
    expect({ status, awaiting, message }).toEqual({ status: 'PENDING', awaiting: 'research_completion', message: 'Workflow suspended awaiting research completion' });
    expect(id).toMatch(/^wf-/);
  });

  test.each([
    ['an agent step', agentStep('deep-dive_research', 'researcher'), 'deep-dive_research_completion', 'agent', 'Workflow suspended awaiting deep dive research completion'],
    ['an approval step', { type: 'approval' as const, name: 'sign-off', prompt: 'ok?', timeoutSeconds: 60, onTimeout: 'REJECT' as const, onReject: 'END' as const },
      'approval', 'approval', 'Workflow suspended awaiting approval'],
    ['a step that does not wait', { type: 'publish' as const, name: 'publish', artifact: { from: 'literal' as const, value: 'x' } },
      null, null, "Workflow accepted; its first step 'publish' starts now"],
  ])('a workflow whose first step is %s is answered with what it waits on', async (_what, first, awaiting, waitKind, message) => {
    const { call } = quietApi(definition([first]));
    const res = await call('POST', '/workflows', { topic: 't' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'PENDING', awaiting, wait_kind: waitKind, message });
  });

  test('a repeated Idempotency-Key is answered with what the workflow waits on now', async () => {
    const { store, call } = quietApi(referenceDefinition());
    const headers = { 'Idempotency-Key': 'seed-replay' };
    const first = await call('POST', '/workflows', { topic: 't' }, headers);
    const id = first.body.workflow_id;
    await store.updateWorkflow(id, { status: 'RUNNING' });
    await store.putStep(id, { name: 'analysis', type: 'agent', status: 'WAITING', attempts: 1, startedAt: new Date().toISOString() });
    await store.updateWorkflow(id, { awaiting: 'analysis_completion' });
    const again = await call('POST', '/workflows', { topic: 't' }, headers);
    expect(again.body).toMatchObject({
      workflow_id: id,
      status: 'RUNNING',
      awaiting: 'analysis_completion',
      wait_kind: 'agent',
      idempotent_replay: true,
      message: `Workflow ${id} was already started with this Idempotency-Key; it is RUNNING, suspended awaiting analysis completion`,
    });
  });

  test('a record an earlier version wrote (awaiting \'agent\') is shown with its waiting agent step\'s name', async () => {
    const { store, call } = quietApi(referenceDefinition());
    const id = newWorkflowId();
    const now = new Date().toISOString();
    await store.createWorkflow({ ...newRecord(id, 'research-report', { topic: 't' }, now), status: 'RUNNING', awaiting: 'agent' as never });
    await store.putStep(id, { name: 'research', type: 'agent', status: 'SUCCEEDED', attempts: 1, startedAt: now, endedAt: now });
    await store.putStep(id, { name: 'writing', type: 'agent', status: 'WAITING', attempts: 1, startedAt: now });
    expect((await call('GET', `/workflows/${id}`)).body).toMatchObject({ awaiting: 'writing_completion', wait_kind: 'agent' });
    expect((await call('GET', '/workflows')).body.workflows[0]).toMatchObject({ workflow_id: id, awaiting: 'writing_completion', wait_kind: 'agent' });
    // Between two steps nothing waits.
    await store.putStep(id, { name: 'writing', type: 'agent', status: 'SUCCEEDED', attempts: 1, startedAt: now, endedAt: now });
    expect((await call('GET', `/workflows/${id}`)).body).toMatchObject({ awaiting: null, wait_kind: null });
  });
});
