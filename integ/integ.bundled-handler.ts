/**
 * Integration test: a handler bundled at library build time deploys and runs.
 *
 * Deploys the library's health-check function (Node.js 22, ARM64, pre-bundled asset) and
 * asserts that invoking it answers 200 with {"status":"ok"}.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Stack } from 'aws-cdk-lib';
import { acknowledgeTestScaffolding } from './integ-helpers';
import { HealthCheck } from '../src/private/health-check';

const app = new App();
const stack = new Stack(app, 'cdkda-bundled-handler');
const health = new HealthCheck(stack, 'Health');

const integ = new IntegTest(app, 'BundledHandler', {
  testCases: [stack],
  regions: ['us-east-1'],
});

// The assertion provider hands the function's response over as Lambda returns it: `Payload` is
// the JSON text of the result (and the result's `body` is JSON text again), so both are matched as
// serialized JSON. A pattern nested with ExpectedResult, or written for an object, never matches.
integ.assertions
  .invokeFunction({ functionName: health.function.functionName })
  .expect(ExpectedResult.objectLike({
    StatusCode: 200,
    Payload: Match.serializedJson(Match.objectLike({ statusCode: 200, body: Match.serializedJson({ status: 'ok' }) })),
  }));

acknowledgeTestScaffolding(app);
app.synth();
