import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { researchDefinition } from './fixtures';
import { normalizeBasePath } from '../../src/contract/table';
import { LocalArtifactStore, LocalWorkflowStore } from '../../src/runtime/adapters/local';
import { createApi } from '../../src/runtime/api';
import type { DurableControl } from '../../src/runtime/ports';
import { RecordingTelemetry } from '../../src/runtime/telemetry';

function event(method: string, rawPath: string, body?: unknown): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method, path: rawPath }, stage: '$default' },
  } as unknown as APIGatewayProxyEventV2;
}

describe('an API mounted under a base path (a shared SecureApi)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-base-'));
  const started: string[] = [];
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const options = {
    definition: researchDefinition(),
    ports: {
      store: new LocalWorkflowStore(),
      artifacts: new LocalArtifactStore(dir),
      // Only starting a workflow touches the durable engine here.
      durable: { start: async (id: string) => { started.push(id); } } as unknown as DurableControl,
    },
    telemetry: new RecordingTelemetry(),
  };
  const api = createApi({ ...options, basePath: '/research/' });

  test('routes /research/workflows as /workflows', async () => {
    const res = await api(event('GET', '/research/workflows'));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toMatchObject({ workflows: [] });
  });

  test('a path outside the base path is not one of its routes, even one that is a route at the root', async () => {
    for (const p of ['/other/workflows', '/workflows', '/researchers/workflows']) {
      const res = await api(event('GET', p));
      expect(res.statusCode).toBe(404);
      expect(JSON.parse(res.body as string).message).toContain(`no route for GET ${p}; routes are POST /research/workflows, GET /research/workflows`);
    }
  });

  test('messages name the paths as the caller sees them, under the base path', async () => {
    const missing = await api(event('GET', '/research/nothing'));
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body as string).message).toMatch(
      /^no route for GET \/research\/nothing; routes are POST \/research\/workflows, .*POST \/research\/callbacks\/\{callback_id\}\/heartbeat, GET \/research\/admin\/kill-switch, PUT \/research\/admin\/kill-switch$/);
    const wrongMethod = await api(event('DELETE', '/research/workflows'));
    expect(wrongMethod.statusCode).toBe(405);
    expect(JSON.parse(wrongMethod.body as string).message).toBe('DELETE is not allowed on /research/workflows; use POST, GET');
  });

  test('a started workflow links to itself under the base path', async () => {
    const res = await api(event('POST', '/research/workflows', { topic: 'durable agents' }));
    expect(res.statusCode).toBe(202);
    const body = JSON.parse(res.body as string);
    expect(started).toEqual([body.workflow_id]);
    expect(body.links).toEqual({ self: `/research/workflows/${body.workflow_id}` });
  });

  test('a base path is normalized, and one that is not plain segments is refused', () => {
    expect(normalizeBasePath('')).toBe('');
    expect(normalizeBasePath('/')).toBe('');
    expect(normalizeBasePath('/research/')).toBe('/research');
    expect(normalizeBasePath('/a/b')).toBe('/a/b');
    for (const bad of ['research', '/a b', '/{id}', '/a//b']) expect(normalizeBasePath(bad)).toBeUndefined();
  });

  test('the API handler refuses a base path in its configuration that is not plain segments, naming the variable', () => {
    expect(() => createApi({ ...options, basePath: '/a b' })).toThrow(/the API base path '\/a b' \(API_BASE_PATH\) is not plain path segments/);
  });
});
