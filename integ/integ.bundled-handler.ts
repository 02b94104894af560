/**
 * Integration test: a handler bundled at library build time deploys and runs.
 *
 * Deploys the library's health-check function (Node.js 22, ARM64, pre-bundled asset) and
 * asserts that invoking it answers 200 with {"status":"ok"}.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Stack } from 'aws-cdk-lib';
import { HealthCheck } from '../src/private/health-check';

const app = new App();
const stack = new Stack(app, 'cdkda-bundled-handler');
const health = new HealthCheck(stack, 'Health');

const integ = new IntegTest(app, 'BundledHandler', {
  testCases: [stack],
  regions: ['us-east-1'],
});

integ.assertions
  .invokeFunction({ functionName: health.function.functionName })
  .expect(ExpectedResult.objectLike({
    StatusCode: 200,
    Payload: ExpectedResult.objectLike({ statusCode: 200, body: '{"status":"ok"}' }),
  }));

app.synth();
