/**
 * Integration test: the DurableOrchestrator runs the reference research workflow end to end.
 *
 * A test agent (a Lambda that reports back at once, through the IAM-authorized callback route)
 * plays researcher, analyst and writer. The assertions start a workflow through the API
 * handler, wait until it waits for approval, approve it, wait until it succeeds, and read the
 * published report from the artifact bucket.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { acknowledgeTestScaffolding, apiAnswer, apiEvent, approveAndReadReport, echoResearchTeam, notifyOnCall, workflowIdFor } from './integ-helpers';
import { DurableOrchestrator } from '../src/durable-orchestrator';

const app = new App();
const stack = new Stack(app, 'cdkda-durable-orchestrator');
notifyOnCall(stack); // every alarm of the stack emails the on-call address

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
start.expect(apiAnswer(202, { workflow_id: WORKFLOW_ID }));

start.next(approveAndReadReport(integ, orchestrator, WORKFLOW_ID, { poll, comment: 'integration test' }).first);

acknowledgeTestScaffolding(app);
app.synth();
