/** The bundled controller (assets/, what Lambda runs) loads its configuration at cold start. */
import * as path from 'path';
import { ENV } from '../../../src/contract/table';
import { writeConfig } from '../../helpers/workflow-config';
import { researchDefinition } from '../../runtime/fixtures';

const BUNDLE = path.join(__dirname, '..', '..', '..', 'assets', 'durable-orchestrator', 'handlers', 'controller.lambda', 'index.js');

function load(env: Record<string, string>): { handler: unknown } {
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_REGION: 'us-east-1', POWERTOOLS_TRACE_ENABLED: 'false' }, env);
  try {
    let mod: { handler: unknown } | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(BUNDLE);
    });
    return mod!;
  } finally {
    process.env = saved;
  }
}

const env = {
  [ENV.tableName]: 'workflows',
  [ENV.bucketName]: 'artifacts',
  [ENV.eventBusName]: 'bus',
  ...writeConfig(researchDefinition(), ['researcher', 'analyst', 'writer']).env,
  [ENV.agentTargetsPrefix]: '/cdk-durable-agents/Stack-Orchestrator/agents',
  [ENV.callbackBaseUrl]: 'https://api.example.com',
};

test('the bundled controller exports a durable handler', () => {
  expect(typeof load(env).handler).toBe('function');
});

test('a missing setting stops the cold start with a message naming it', () => {
  const { [ENV.callbackBaseUrl]: _omitted, ...partial } = env;
  delete process.env[ENV.callbackBaseUrl];
  expect(() => load(partial)).toThrow(/CALLBACK_BASE_URL is not set/);
});
