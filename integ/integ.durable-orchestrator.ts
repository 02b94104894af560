/**
 * Integration test: the DurableOrchestrator runs the reference research workflow end to end.
 *
 * A test agent (a Lambda that reports back at once, through the IAM-authorized callback route)
 * plays researcher, analyst and writer. The assertions start a workflow through the API
 * handler, wait until it waits for approval, approve it, wait until it succeeds, and read the
 * published report from the artifact bucket.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { acknowledgeTestScaffolding, apiEvent, echoResearchTeam, workflowIdFor } from './integ-helpers';
import { DurableOrchestrator } from '../src/durable-orchestrator';

const app = new App();
const stack = new Stack(app, 'cdkda-durable-orchestrator');

const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', { ...echoResearchTeam(stack), removalPolicy: RemovalPolicy.DESTROY });

const integ = new IntegTest(app, 'DurableOrchestrator', { testCases: [stack], regions: ['us-east-1'] });

const KEY = 'integ-durable-orchestrator-1';
const WORKFLOW_ID = workflowIdFor(KEY);
const api = orchestrator.apiFunction.functionName;
const poll = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(15) };
// The API's answer reaches an assertion as JSON text (a Lambda invoke's Payload), and its body is
// JSON text again: both are matched as JSON, so that a step's "status":"SUCCEEDED" in the body of
// a FAILED workflow cannot pass for the workflow's own status.

const start = integ.assertions.invokeFunction({
  functionName: api,
  payload: apiEvent('POST', '/workflows', { topic: 'Impact of quantum computing on cryptography', parameters: { depth: 'brief' } },
    { 'idempotency-key': KEY }),
});
start.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ statusCode: 202, body: Match.serializedJson(Match.objectLike({ workflow_id: WORKFLOW_ID })) })),
}));

const awaitingApproval = integ.assertions.invokeFunction({ functionName: api, payload: apiEvent('GET', `/workflows/${WORKFLOW_ID}`) });
awaitingApproval.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ statusCode: 200, body: Match.serializedJson(Match.objectLike({ status: 'RUNNING', awaiting: 'approval' })) })),
}))
  .waitForAssertions(poll);

const approve = integ.assertions.invokeFunction({
  functionName: api,
  payload: apiEvent('POST', `/workflows/${WORKFLOW_ID}/approval`, { approved: true, comment: 'integration test' }),
});
approve.expect(ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike({ statusCode: 200 })) }));

const succeeded = integ.assertions.invokeFunction({ functionName: api, payload: apiEvent('GET', `/workflows/${WORKFLOW_ID}`) });
succeeded.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ statusCode: 200, body: Match.serializedJson(Match.objectLike({ status: 'SUCCEEDED' })) })),
}))
  .waitForAssertions(poll);

const report = integ.assertions.awsApiCall('S3', 'getObject', {
  Bucket: orchestrator.artifactBucket.bucketName,
  Key: `published/${WORKFLOW_ID}/report.md`,
});
report.expect(ExpectedResult.objectLike({ ContentType: 'text/markdown' }));

start.next(awaitingApproval).next(approve).next(succeeded).next(report);

acknowledgeTestScaffolding(app);
app.synth();
