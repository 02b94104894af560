/**
 * The bundled API handler (assets/, exactly what Lambda runs) against moto_server: it reads its
 * configuration from the environment the construct sets, and talks to DynamoDB through the
 * AWS adapters.
 */
import * as path from 'path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../../src/contract/table';
import { DynamoWorkflowStore } from '../../../src/runtime/adapters/aws';
import { configFromEnv } from '../../../src/runtime/aws-runtime';
import { newWorkflowId } from '../../../src/runtime/ids';
import { newRecord } from '../../../src/runtime/records';
import { describeWithMoto } from '../../helpers/moto';
import { writeConfig } from '../../helpers/workflow-config';
import { workflowTableInput } from '../../helpers/workflow-table';
import { researchDefinition } from '../../runtime/fixtures';

const BUNDLE = path.join(__dirname, '..', '..', '..', 'assets', 'durable-orchestrator', 'handlers', 'api.lambda', 'index.js');

const AGENT_NAMES = ['researcher', 'analyst', 'writer'];
const config = writeConfig(researchDefinition(), AGENT_NAMES);

function baseEnv(): Record<string, string> {
  return {
    [ENV.tableName]: 'workflows',
    [ENV.bucketName]: 'artifacts',
    [ENV.eventBusName]: 'bus',
    [ENV.controllerArn]: 'arn:aws:lambda:us-east-1:123456789012:function:controller:live',
    ...config.env,
    [ENV.stateRetentionDays]: '14',
  };
}

describe('configFromEnv', () => {
  test('reads the API\'s settings and the configuration file its SHA-256 names', () => {
    const read = configFromEnv('api', baseEnv());
    expect(read.definition.name).toBe('research-report');
    expect(read.agentNames).toEqual(['analyst', 'researcher', 'writer']);
    expect(read.stateRetentionDays).toBe(14);
    expect(read.configSha256).toBe(config.sha256);
    expect(read.callbackBaseUrl).toBeUndefined();
  });

  test('the controller needs its targets\' path and the callback URL, not the controller ARN', () => {
    const { [ENV.controllerArn]: _arn, ...env } = baseEnv();
    const controllerEnv = { ...env, [ENV.agentTargetsPrefix]: '/cdk-durable-agents/x/agents', [ENV.callbackBaseUrl]: 'https://api.example.com' };
    const read = configFromEnv('controller', controllerEnv);
    expect(read.agentTargetsPrefix).toBe('/cdk-durable-agents/x/agents');
    expect(read.controllerArn).toBeUndefined();
    expect(() => configFromEnv('controller', env)).toThrow(/AGENT_TARGETS_PARAMETER_PREFIX is not set/);
  });

  test.each([
    [ENV.tableName, undefined, /WORKFLOW_TABLE_NAME is not set/],
    [ENV.configSha256, undefined, /WORKFLOW_CONFIG_SHA256 is not set/],
    [ENV.configSha256, 'ab'.repeat(32), /has SHA-256 [0-9a-f]{64}, but WORKFLOW_CONFIG_SHA256 says abab.*different deployments/],
    [ENV.configFile, '/nonexistent/workflow-config.json', /cannot read the workflow configuration \/nonexistent\/workflow-config.json.*layer/],
    [ENV.stateRetentionDays, '0', /STATE_RETENTION_DAYS must be a whole number of days >= 1, got '0'/],
  ])('%s = %s is refused with a message naming it', (name, value, message) => {
    const env: Record<string, string | undefined> = { ...baseEnv(), [name]: value };
    expect(() => configFromEnv('api', env)).toThrow(message);
  });

  test.each([
    ['{not json', /is not valid JSON/],
    [JSON.stringify({ configVersion: 2 }), /not a version 1 configuration document/],
    [JSON.stringify({ configVersion: 1, definition: { name: 'x', steps: [] }, agentNames: [] }), /no definition with a name and steps/],
    [JSON.stringify({ configVersion: 1, definition: researchDefinition(), agentNames: 'researcher' }), /no list of agent names/],
  ])('a configuration file %s is refused', (text, message) => {
    const bad = writeConfig(researchDefinition(), [], text);
    expect(() => configFromEnv('api', { ...baseEnv(), ...bad.env })).toThrow(message);
  });
});

describeWithMoto('the bundled API handler', (moto) => {
  let handler: (event: unknown) => Promise<{ statusCode: number; body: string }>;
  let store: DynamoWorkflowStore;
  const saved = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, moto().env, baseEnv(), { POWERTOOLS_TRACE_ENABLED: 'false', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    const ddb = new DynamoDBClient({ endpoint: moto().endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await ddb.send(new CreateTableCommand(workflowTableInput('workflows')));
    store = new DynamoWorkflowStore({ client: DynamoDBDocumentClient.from(ddb), tableName: 'workflows', retentionDays: 14 });
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = require(BUNDLE).handler;
    });
  });
  afterAll(() => {
    process.env = saved;
  });

  const event = (method: string, rawPath: string, body?: unknown) => ({
    version: '2.0',
    rawPath,
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    requestContext: { http: { method }, stage: '$default', requestId: 'r1' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

  test('GET /workflows lists from DynamoDB', async () => {
    const res = await handler(event('GET', '/workflows'));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ workflows: [] });
  });

  test('POST /workflows that cannot start its execution answers 503 and leaves a FAILED record, not a live one', async () => {
    // moto has no durable functions: the Invoke of the controller alias fails, as an outage would.
    const res = await handler(event('POST', '/workflows', { topic: 'quantum' }));
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).message).toContain('could not be started');
    const failed = await handler({ ...event('GET', '/workflows'), queryStringParameters: { status: 'FAILED' } });
    expect(JSON.parse(failed.body).workflows).toHaveLength(1);
    const running = await handler({ ...event('GET', '/workflows'), queryStringParameters: { status: 'PENDING' } });
    expect(JSON.parse(running.body).workflows).toHaveLength(0);
  });

  test('GET answers what a workflow awaits as seed 000 says it (<step>_completion), with wait_kind', async () => {
    const now = new Date().toISOString();
    const waiting = newWorkflowId();
    await store.createWorkflow({ ...newRecord(waiting, 'research-report', { topic: 't' }, now), status: 'RUNNING' });
    await store.putStep(waiting, { name: 'research', type: 'agent', status: 'WAITING', attempts: 1, startedAt: now });
    await store.updateWorkflow(waiting, { awaiting: 'research_completion' });
    // A record an earlier version wrote: `agent` for any agent step.
    const legacy = newWorkflowId();
    await store.createWorkflow({ ...newRecord(legacy, 'research-report', { topic: 't' }, now), status: 'RUNNING' });
    await store.putStep(legacy, { name: 'analysis', type: 'agent', status: 'WAITING', attempts: 1, startedAt: now });
    await store.updateWorkflow(legacy, { awaiting: 'agent' as never });
    for (const [id, awaiting] of [[waiting, 'research_completion'], [legacy, 'analysis_completion']]) {
      const res = await handler(event('GET', `/workflows/${id}`));
      expect(JSON.parse(res.body)).toMatchObject({ workflow_id: id, status: 'RUNNING', awaiting, wait_kind: 'agent' });
    }
    const list = await handler({ ...event('GET', '/workflows'), queryStringParameters: { status: 'RUNNING' } });
    expect(JSON.parse(list.body).workflows).toEqual(expect.arrayContaining([
      expect.objectContaining({ workflow_id: waiting, awaiting: 'research_completion', wait_kind: 'agent' }),
      expect.objectContaining({ workflow_id: legacy, awaiting: 'analysis_completion', wait_kind: 'agent' }),
    ]));
  });

  test('a bad body is a 400 before anything is written', async () => {
    const res = await handler(event('POST', '/workflows', { parameters: {} }));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).message).toBe("field 'topic' is required: step 'research' reads it");
  });
});
