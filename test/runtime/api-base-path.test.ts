import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { researchDefinition } from './fixtures';
import { LocalArtifactStore, LocalWorkflowStore } from '../../src/runtime/adapters/local';
import { createApi, normalizeBasePath } from '../../src/runtime/api';
import type { DurableControl } from '../../src/runtime/ports';
import { RecordingTelemetry } from '../../src/runtime/telemetry';

function event(method: string, rawPath: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: { http: { method, path: rawPath }, stage: '$default' },
  } as unknown as APIGatewayProxyEventV2;
}

describe('an API mounted under a base path (a shared SecureApi)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-base-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const api = createApi({
    definition: researchDefinition(),
    ports: {
      store: new LocalWorkflowStore(),
      artifacts: new LocalArtifactStore(dir),
      // Listing workflows never touches the durable engine.
      durable: {} as DurableControl,
    },
    telemetry: new RecordingTelemetry(),
    basePath: '/research/',
  });

  test('routes /research/workflows as /workflows', async () => {
    const res = await api(event('GET', '/research/workflows'));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toMatchObject({ workflows: [] });
  });

  test('a path outside the base path is not one of its routes', async () => {
    const res = await api(event('GET', '/other/workflows'));
    expect(res.statusCode).toBe(404);
  });

  test('a base path is normalized, and one that is not plain segments is refused', () => {
    expect(normalizeBasePath(undefined)).toBe('');
    expect(normalizeBasePath('/')).toBe('');
    expect(normalizeBasePath('research/')).toBe('/research');
    expect(normalizeBasePath('/a/b')).toBe('/a/b');
    expect(() => normalizeBasePath('/a b')).toThrow(/not a path of plain segments/);
    expect(() => normalizeBasePath('/{id}')).toThrow(/not a path of plain segments/);
  });
});
