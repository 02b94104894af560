/**
 * Integration test: the four constructs composed into the "agent team on ECS" of seed 002 (and the
 * ephemeral test stack of seed 003), in one stack.
 *
 * - An `DataTier` (its VPC, PostgreSQL, Redis) whose VPC every other piece uses.
 * - A `SecureApi` in front of: a Fargate web service (nginx standing in for the team's API) that
 *   gets the data tier's settings as secrets and is admitted to both stores; an internal-only
 *   service (standing in for the gRPC workflow engine) in Cloud Map, reachable from the web
 *   service only; and the workflow routes of a `DurableOrchestrator` under `/research`.
 * - Three agents (the echo test agent as Lambda functions) that report back through the callback
 *   route under `/research`, SigV4-signed.
 *
 * The assertions: the health route answers without auth; an unsigned workflow start is refused
 * (403: the orchestrator's routes require IAM on the shared API); a workflow started through the
 * API handler reaches its approval step, which it can only do if every agent's callback travelled
 * through the shared API under the base path.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { agentPlatform } from './agent-platform-app';
import { acknowledgeTestScaffolding, apiEvent, notifyOnCall, workflowIdFor } from './integ-helpers';

const app = new App();
const { stack, api, research } = agentPlatform(app, 'cdkda-agent-platform');
notifyOnCall(stack); // every alarm of the stack emails the on-call address

const assertions = new Stack(app, 'cdkda-agent-platform-assertions', { env: { region: 'us-east-1' } });
const integ = new IntegTest(app, 'AgentPlatform', { testCases: [stack], regions: ['us-east-1'], assertionStack: assertions });

const health = integ.assertions.httpApiCall(`${api.url}health`);
health.expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }));

const unsigned = integ.assertions.httpApiCall(`${api.url}research/workflows`, { method: 'POST', body: '{"topic":"x"}' });
unsigned.expect(ExpectedResult.objectLike({ status: 403 }));

const KEY = 'integ-agent-platform-1';
const WORKFLOW_ID = workflowIdFor(KEY);
const start = integ.assertions.invokeFunction({
  functionName: research.apiFunction.functionName,
  payload: apiEvent('POST', '/research/workflows', { topic: 'Durable agents on a shared front door' }, { 'idempotency-key': KEY }),
});
start.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ statusCode: 202, body: Match.stringLikeRegexp(WORKFLOW_ID) })),
}));

const awaitingApproval = integ.assertions.invokeFunction({
  functionName: research.apiFunction.functionName,
  payload: apiEvent('GET', `/research/workflows/${WORKFLOW_ID}`),
});
awaitingApproval.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ statusCode: 200, body: Match.stringLikeRegexp('"awaiting":"approval"') })),
}))
  .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(15) });

health.next(unsigned).next(start).next(awaitingApproval);

acknowledgeTestScaffolding(app, assertions);
app.synth();
