/**
 * POST /workflows against the declared input of the reference workflow (the handler both homes
 * run): each bad input is a 400 naming each bad field, and nothing was written or started.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { referenceDefinition } from '../../src/cli/reference';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import { LocalArtifactStore, LocalWorkflowStore } from '../../src/runtime/adapters/local';
import { createApi, createApiFunctionHandler, ScheduledStartError } from '../../src/runtime/api';
import type { DurableControl } from '../../src/runtime/ports';
import { RecordingTelemetry } from '../../src/runtime/telemetry';

function api(def: WorkflowDefinitionDocument = referenceDefinition()) {
  const store = new LocalWorkflowStore();
  const artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-inputs-'));
  const artifacts = new LocalArtifactStore(artifactDir);
  const started: Array<{ id: string; input: unknown }> = [];
  const idle = async () => {};
  const durable: DurableControl = {
    start: async (id, input) => { started.push({ id, input }); },
    callbackSuccess: idle,
    callbackFailure: idle,
    callbackHeartbeat: idle,
  };
  const telemetry = new RecordingTelemetry();
  const options = { definition: def, ports: { store, artifacts, durable }, telemetry };
  const handler = createApi(options);
  const call = async (body: unknown) => {
    const res = await handler({
      rawPath: '/workflows',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/workflows' }, stage: '$default' },
    } as unknown as APIGatewayProxyEventV2);
    return { status: res.statusCode, body: JSON.parse(res.body as string) };
  };
  /** Nothing was written or started: no record, no artifact, no durable execution, nothing logged. */
  const nothingWritten = async () => {
    expect((await store.listWorkflows({ limit: 100 })).items).toEqual([]);
    expect(fs.readdirSync(artifactDir)).toEqual([]);
    expect(started).toEqual([]);
    expect(telemetry.logs).toEqual([]);
  };
  return { call, store, started, nothingWritten, functionHandler: createApiFunctionHandler(options) };
}

/** The bad inputs of issue 16, and more; each with the fields the 400 must name. */
const BAD: Array<[string, unknown, Array<{ path: string; code: string; message: string | RegExp }>]> = [
  ['a number topic', { topic: 123 }, [{ path: 'input.topic', code: 'type', message: 'input.topic: expected a string, got number' }]],
  ['a boolean topic', { topic: true }, [{ path: 'input.topic', code: 'type', message: 'input.topic: expected a string, got boolean' }]],
  ['an array topic', { topic: ['quantum'] }, [{ path: 'input.topic', code: 'type', message: 'input.topic: expected a string, got array' }]],
  ['an object topic', { topic: { text: 'quantum' } }, [{ path: 'input.topic', code: 'type', message: 'input.topic: expected a string, got object' }]],
  ['parameters that are a string', { topic: 'q', parameters: 'nope' }, [{ path: 'input.parameters', code: 'type', message: 'input.parameters: expected an object, got string' }]],
  ['parameters that are an array', { topic: 'q', parameters: ['brief'] }, [{ path: 'input.parameters', code: 'type', message: 'input.parameters: expected an object, got array' }]],
  ['an unknown depth', { topic: 'q', parameters: { depth: 'x' } },
    [{ path: 'input.parameters.depth', code: 'enum', message: 'input.parameters.depth: expected one of "brief", "standard", "comprehensive", got "x"' }]],
  ['a depth that is a number', { topic: 'q', parameters: { depth: 3 } },
    [{ path: 'input.parameters.depth', code: 'type', message: 'input.parameters.depth: expected a string, got number' }]],
  ['a missing topic', { parameters: { depth: 'brief' } }, [{ path: 'input.topic', code: 'required', message: 'input.topic is required: give a string' }]],
  ['a null topic', { topic: null }, [{ path: 'input.topic', code: 'required', message: 'input.topic is required (got null): give a string' }]],
  ['an empty topic', { topic: '' }, [{ path: 'input.topic', code: 'min_length', message: 'input.topic: expected at least 1 character, got 0' }]],
  ['a blank topic', { topic: '   ' }, [{ path: 'input.topic', code: 'empty', message: "field 'topic' must not be empty: step 'research' reads it" }]],
  ['an over-long topic', { topic: 't'.repeat(1001) }, [{ path: 'input.topic', code: 'max_length', message: 'input.topic: expected at most 1000 characters, got 1001' }]],
  ['a misspelt top-level field', { topic: 'q', paramters: { depth: 'brief' } },
    [{ path: 'input.paramters', code: 'unknown_field', message: 'input.paramters is not a declared field of input: its fields are topic, parameters; remove it' }]],
  ['several bad fields at once', { topic: 7, parameters: { depth: 'deep' }, extra: true }, [
    { path: 'input.topic', code: 'type', message: 'input.topic: expected a string, got number' },
    { path: 'input.parameters.depth', code: 'enum', message: /^input.parameters.depth: expected one of/ },
    { path: 'input.extra', code: 'unknown_field', message: /^input.extra is not a declared field/ },
  ]],
];

describe('POST /workflows refuses an input that does not match the declaration, before anything is written', () => {
  test.each(BAD)('%s: 400 naming the field', async (_what, input, fields) => {
    const { call, nothingWritten } = api();
    const res = await call(input);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'bad_request',
      message: expect.any(String),
      fields: fields.map((f) => ({ path: f.path, code: f.code, message: typeof f.message === 'string' ? f.message : expect.stringMatching(f.message) })),
    });
    // The message names every field too (for clients that show only the message).
    expect(res.body.message).toBe(res.body.fields.map((f: { message: string }) => f.message).join('; '));
    await nothingWritten();
  });

  test('a valid input is still accepted, and started once, with extra parameters passed on', async () => {
    const { call, started, store } = api();
    const input = { topic: 'Impact of quantum computing on cryptography', parameters: { depth: 'comprehensive', sources: ['academic'] } };
    const res = await call(input);
    expect(res.status).toBe(202);
    expect(started).toEqual([{ id: res.body.workflow_id, input }]);
    expect((await store.getWorkflow(res.body.workflow_id))!.input).toEqual(input);
  });

  test('a topic of exactly 1000 characters, emoji counted as one, is accepted', async () => {
    const { call } = api();
    expect((await call({ topic: '😀'.repeat(1000) })).status).toBe(202);
  });

  test('the undeclared checks still come first for depth and size, and a workflow without a declaration still checks what its steps read', async () => {
    const { call, nothingWritten } = api();
    const deep = (await call(`{"topic":"x","parameters":${'{"a":'.repeat(25)}1${'}'.repeat(25)}}`));
    expect(deep).toMatchObject({ status: 400, body: { message: expect.stringMatching(/nested deeper than 20 levels/) } });
    await nothingWritten();

    const undeclared = { ...referenceDefinition() };
    delete (undeclared as { inputs?: unknown }).inputs;
    const plain = api(undeclared);
    expect((await plain.call({ topic: 123 })).status).toBe(202); // nothing declares its type
    const missing = await plain.call({ parameters: {} });
    expect(missing).toEqual({
      status: 400,
      body: {
        error: 'bad_request',
        message: "field 'topic' is required: step 'research' reads it",
        fields: [{ path: 'input.topic', code: 'required', message: "field 'topic' is required: step 'research' reads it" }],
      },
    });
  });

  test('a schedule\'s tick with a bad input is refused the same way, naming the field, and starts nothing', async () => {
    const { functionHandler, nothingWritten } = api();
    const tick = { scheduled_start: { schedule: 'daily', scheduled_time: '2025-01-31T09:00:00Z', input: { topic: 'q', parameters: { depth: 'x' } } } };
    await expect(functionHandler(tick)).rejects.toThrow(ScheduledStartError);
    await expect(functionHandler(tick)).rejects.toThrow(/input.parameters.depth: expected one of "brief", "standard", "comprehensive", got "x"; fix the schedule's input/);
    await nothingWritten();
  });
});
