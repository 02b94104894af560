/**
 * Integration test: approval links, the email notification of a waiting approval, and the audit
 * record of a decision.
 *
 * The reference research workflow with test agents (a Lambda that reports back at once) on an
 * orchestrator with `approvalLinks` (12 h) and `approvalNotification` to an email address (a new
 * KMS-encrypted topic). The assertions start a workflow, wait until it waits for approval, check
 * that the link routes exist and refuse a malformed and a forged token (4xx, nothing changes: the
 * workflow still waits), approve through the API, and read the decision's audit record with the
 * workflow. A person on the notification address gets the links by mail (the subscription must be
 * confirmed once); following one is what the unit and local tests drive.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { acknowledgeTestScaffolding, apiAnswer, apiEvent, echoResearchTeam, notifyOnCall, workflowIdFor } from './integ-helpers';
import { ApprovalLinks, ApprovalNotification, DurableOrchestrator } from '../src/durable-orchestrator';

const app = new App();
const stack = new Stack(app, 'cdkda-approval-links');
notifyOnCall(stack); // every alarm of the stack emails the on-call address

const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', {
  ...echoResearchTeam(stack),
  removalPolicy: RemovalPolicy.DESTROY,
  approvalLinks: ApprovalLinks.enabled({ expiry: Duration.hours(12) }),
  approvalNotification: ApprovalNotification.toEmail('approvers@example.com'),
});

const integ = new IntegTest(app, 'ApprovalLinks', { testCases: [stack], regions: ['us-east-1'] });

const KEY = 'integ-approval-links-1';
const WORKFLOW_ID = workflowIdFor(KEY);
const functionName = orchestrator.apiFunction.functionName;
const poll = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(15) };
const route = `/workflows/${WORKFLOW_ID}`;
const invoke = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  integ.assertions.invokeFunction({ functionName, payload: apiEvent(method, path, body, headers) });

const start = invoke('POST', '/workflows', { topic: 'Approval links', parameters: { depth: 'brief' } }, { 'idempotency-key': KEY });
start.expect(apiAnswer(202, { workflow_id: WORKFLOW_ID }));

const waiting = invoke('GET', route);
waiting.expect(apiAnswer(200, { workflow_id: WORKFLOW_ID, status: 'RUNNING', awaiting: 'approval' })).waitForAssertions(poll);

// The link routes are there and verify: a malformed token is a 400, a token with a MAC of another key a 403.
const malformed = invoke('POST', '/approvals/not-a-token');
malformed.expect(apiAnswer(400, { error: 'bad_request' }));
const forgedToken = `v1.${Buffer.from(JSON.stringify({ w: WORKFLOW_ID, c: 'cb-000000000000000000000000', d: 'approve', e: 4102444800, l: 'lk-0000000000000000000000' }))
  .toString('base64url')}.${'A'.repeat(43)}`;
const forged = invoke('POST', `/approvals/${forgedToken}`);
forged.expect(apiAnswer(403, { error: 'forbidden' }));

// Nothing changed: it still waits; then a person approves through the IAM-authorized route.
const stillWaiting = invoke('GET', route);
stillWaiting.expect(apiAnswer(200, { status: 'RUNNING', awaiting: 'approval', decisions: [] }));
const approve = invoke('POST', `${route}/approval`, { approved: true, comment: 'integration test' });
approve.expect(apiAnswer(200));
const succeeded = invoke('GET', route);
succeeded.expect(apiAnswer(200, { workflow_id: WORKFLOW_ID, status: 'SUCCEEDED' })).waitForAssertions(poll);
const audited = invoke('GET', route);
audited.expect(apiAnswer(200, { decisions: [{ step_name: 'approval', decision: 'approved', comment: 'integration test' }] }));

start.next(waiting).next(malformed).next(forged).next(stillWaiting).next(approve).next(succeeded).next(audited);

acknowledgeTestScaffolding(app);
app.synth();
