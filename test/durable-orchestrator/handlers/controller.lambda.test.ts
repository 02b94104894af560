/** The bundled controller (assets/, what Lambda runs) loads its configuration at cold start. */
import * as path from 'path';
import { ENV } from '../../../src/contract/table';
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
  [ENV.controllerArn]: 'arn:aws:lambda:us-east-1:123456789012:function:controller:live',
  [ENV.definition]: JSON.stringify(researchDefinition()),
  [ENV.agents]: JSON.stringify({
    researcher: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:r' },
    analyst: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:a' },
    writer: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:w' },
  }),
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
