import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { researchDefinition } from './fixtures';
import { LocalArtifactStore, LocalWorkflowStore } from '../../src/runtime/adapters/local';
import { createApiFunctionHandler, ScheduledStartError, ScheduledStartResult, scheduledStartKey } from '../../src/runtime/api';
import { newWorkflowId } from '../../src/runtime/ids';
import type { DurableControl } from '../../src/runtime/ports';
import { RecordingTelemetry } from '../../src/runtime/telemetry';

/** The API function's handler over in-memory stores, with a durable control that records the starts. */
function apiFunction(options: { failStarts?: number } = {}) {
  const store = new LocalWorkflowStore();
  const artifacts = new LocalArtifactStore(fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-sched-')));
  /** The durable executions started. */
  const starts: Array<{ workflowId: string; input: Record<string, unknown> }> = [];
  /** Every call of `durable.start`. */
  const calls: string[] = [];
  let failures = options.failStarts ?? 0;
  const durable: DurableControl = {
    // Like Lambda's durable executions: one per execution name (the workflow id), a repeat is a no-op.
    start: async (workflowId, input) => {
      calls.push(workflowId);
      if (failures-- > 0) throw new Error('Lambda is throttling');
      if (!starts.some((s) => s.workflowId === workflowId)) starts.push({ workflowId, input });
    },
    callbackSuccess: async () => {},
    callbackFailure: async () => {},
    callbackHeartbeat: async () => {},
  };
  const telemetry = new RecordingTelemetry();
  const handler = createApiFunctionHandler({ definition: researchDefinition(), ports: { store, artifacts, durable }, telemetry });
  const workflows = async () => (await store.listWorkflows({ limit: 100 })).items;
  return { handler, store, starts, calls, workflows, telemetry };
}

/** A tick as EventBridge Scheduler delivers it (the context attribute replaced by the time). */
function tick(overrides: Record<string, unknown> = {}) {
  return { scheduled_start: { schedule: 'Nightly', scheduled_time: '2025-01-31T09:00:00Z', input: { topic: 'nightly digest' }, ...overrides } };
}

const start = async (handler: ReturnType<typeof apiFunction>['handler'], event: unknown) => (await handler(event as never)) as ScheduledStartResult;

describe('a schedule\'s tick starts a workflow (the API function, scheduled_start events)', () => {
  test('a valid tick creates the workflow with the schedule\'s input and starts its durable execution', async () => {
    const { handler, starts, workflows } = apiFunction();
    const result = await start(handler, tick());
    expect(result).toEqual({ workflow_id: result.workflow_id, status: 'PENDING', schedule: 'Nightly', scheduled_time: '2025-01-31T09:00:00Z' });
    expect(result.workflow_id).toMatch(/^wf-[0-9a-f]{32}$/);
    expect(starts).toEqual([{ workflowId: result.workflow_id, input: { topic: 'nightly digest' } }]);
    const [wf] = await workflows();
    expect(wf).toMatchObject({ workflowId: result.workflow_id, definitionName: 'research-report', status: 'PENDING', input: { topic: 'nightly digest' } });
  });

  test('the same tick twice (Scheduler or Lambda retrying) starts one workflow, and answers it again', async () => {
    const { handler, store, starts, calls, workflows } = apiFunction();
    const first = await start(handler, tick());
    const again = await start(handler, tick());
    expect(again).toEqual({ ...first, idempotent_replay: true });
    expect(starts).toHaveLength(1);
    expect(await workflows()).toHaveLength(1);
    // Once the workflow runs, a third delivery does not even call the durable start again.
    await store.updateWorkflow(first.workflow_id, { status: 'RUNNING' });
    const third = await start(handler, tick());
    expect(third).toEqual({ ...first, status: 'RUNNING', idempotent_replay: true });
    expect(calls).toEqual([first.workflow_id, first.workflow_id]);
    expect(await workflows()).toHaveLength(1);
  });

  test('the workflow id is derived from the schedule and the scheduled time: another time or schedule is another workflow', async () => {
    const { handler, starts } = apiFunction();
    const a = await start(handler, tick());
    const b = await start(handler, tick({ scheduled_time: '2025-02-01T09:00:00Z' }));
    const c = await start(handler, tick({ schedule: 'Weekly' }));
    expect(new Set([a.workflow_id, b.workflow_id, c.workflow_id]).size).toBe(3);
    expect(a.workflow_id).toBe(newWorkflowId(scheduledStartKey('Nightly', '2025-01-31T09:00:00Z')));
    expect(starts).toHaveLength(3);
  });

  test('no Idempotency-Key header can name a tick\'s workflow: the tick\'s key has spaces, which the header refuses', async () => {
    const key = scheduledStartKey('Nightly', '2025-01-31T09:00:00Z');
    expect(key).toMatch(/ /);
    const { handler, workflows } = apiFunction();
    const res = await handler({
      rawPath: '/workflows',
      headers: { 'idempotency-key': key },
      body: JSON.stringify({ topic: 'x' }),
      requestContext: { http: { method: 'POST' } },
    } as unknown as APIGatewayProxyEventV2) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body as string).message).toMatch(/Idempotency-Key must be 1 to 255 printable ASCII characters without spaces/);
    expect(await workflows()).toEqual([]);
  });

  test('HTTP requests still reach the routes through the same handler', async () => {
    const { handler, starts } = apiFunction();
    const res = await handler({
      rawPath: '/workflows',
      headers: {},
      body: JSON.stringify({ topic: 'by hand' }),
      requestContext: { http: { method: 'POST' } },
    } as unknown as APIGatewayProxyEventV2) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(202);
    expect(starts).toEqual([{ workflowId: JSON.parse(res.body as string).workflow_id, input: { topic: 'by hand' } }]);
  });

  test('a start that fails is a plain (retryable) error; the retry of the same tick starts the same workflow', async () => {
    const { handler, starts, workflows } = apiFunction({ failStarts: 1 });
    const failed = handler(tick() as never);
    await expect(failed).rejects.toThrow(/the tick of schedule 'Nightly' at 2025-01-31T09:00:00Z: the workflow could not be started yet; a retry of the same tick drives the same workflow/);
    await expect(failed).rejects.not.toBeInstanceOf(ScheduledStartError);
    expect((await workflows()).map((w) => w.status)).toEqual(['PENDING']);
    const retried = await start(handler, tick());
    expect(retried.idempotent_replay).toBe(true);
    expect(starts).toEqual([{ workflowId: retried.workflow_id, input: { topic: 'nightly digest' } }]);
  });
});

describe('a bad tick is refused with a ScheduledStartError naming the problem, and nothing is started', () => {
  const deep = (levels: number): Record<string, unknown> => (levels <= 1 ? { topic: 'deep' } : { topic: 'deep', n: deep(levels - 1) });
  const cases: Array<[string, unknown, RegExp]> = [
    ['the input misses a field a step reads', tick({ input: {} }), /the tick of schedule 'Nightly' at 2025-01-31T09:00:00Z: field 'topic' is required: step 'research' reads it; fix the schedule's input/],
    ['a required field is blank', tick({ input: { topic: '  ' } }), /field 'topic' must not be empty: step 'research' reads it/],
    ['the input is nested too deep', tick({ input: deep(21) }), /nested deeper than 20 levels/],
    ['the input is too large', tick({ input: { topic: 'x'.repeat(40 * 1024) } }), /larger than 32 KB/],
    ['the input is an array', tick({ input: [1] }), /field 'scheduled_start.input': expected record, received array/],
    ['the input is missing', { scheduled_start: { schedule: 'Nightly', scheduled_time: '2025-01-31T09:00:00Z' } }, /field 'scheduled_start.input': expected record, received undefined/],
    ['the schedule name has a space', tick({ schedule: 'my schedule' }), /field 'scheduled_start.schedule': 1 to 64 letters, digits, _, . and -/],
    ['the scheduled time is the unreplaced context attribute', tick({ scheduled_time: '<aws.scheduler.scheduled-time>' }), /field 'scheduled_start.scheduled_time': an ISO 8601 UTC time such as 2025-01-31T09:00:00Z/],
    ['the scheduled time does not exist', tick({ scheduled_time: '2025-02-30T09:00:00Z' }), /'2025-02-30T09:00:00Z' is not a real time/],
    ['an unknown field', tick({ extra: 1 }), /unknown field 'extra' in 'scheduled_start'/],
    ['scheduled_start is not an object', { scheduled_start: 'now' }, /field 'scheduled_start': expected object, received string/],
    ['an event that is neither a request nor a tick', { hello: 'world' }, /takes an API Gateway HTTP API request \(payload format 2.0\) or a scheduled start .*this event is neither, and nothing was started/],
    ['no event at all', null, /this event is neither/],
  ];

  test.each(cases)('%s', async (_name, event, message) => {
    const { handler, starts, workflows } = apiFunction();
    const refused = handler(event as never);
    await expect(refused).rejects.toThrow(message);
    await expect(refused).rejects.toBeInstanceOf(ScheduledStartError);
    expect(starts).toEqual([]);
    expect(await workflows()).toEqual([]);
  });

  test('a tick whose input changed since it started its workflow is refused, and that workflow is left as it is', async () => {
    const { handler, starts, workflows } = apiFunction();
    const first = await start(handler, tick());
    await expect(handler(tick({ input: { topic: 'changed' } }) as never)).rejects.toThrow(
      new RegExp(`scheduled start refused: the tick of schedule 'Nightly' at 2025-01-31T09:00:00Z already started workflow ${first.workflow_id} with a different input`));
    expect(starts).toHaveLength(1);
    expect((await workflows()).map((w) => w.input)).toEqual([{ topic: 'nightly digest' }]);
  });
});
