/**
 * Integration test: run limits (issue 20). An orchestrator whose workflow has a workflow budget
 * (wall-clock, agent attempts, tokens, cost) and a step budget, and an operator role granted the
 * kill switch and nothing else. The assertions engage the kill switch through the API handler,
 * see a start refused with 503, release it, and run a workflow to its end within its budgets (the
 * echo agent reports no usage).
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledgeTestScaffolding, apiAnswer, apiEvent, echoResearchTeam, notifyOnCall, workflowIdFor } from './integ-helpers';
import { DurableOrchestrator } from '../src/durable-orchestrator';
import { AgentStep, WorkflowAgent, WorkflowDefinition } from '../src/workflow';

const app = new App();
const stack = new Stack(app, 'cdkda-run-limits');
notifyOnCall(stack);

const { agents } = echoResearchTeam(stack);
const workflow = new WorkflowDefinition({
  workflowName: 'run-limits',
  description: 'one research step, within a workflow budget and a step budget',
  steps: [new AgentStep({ stepName: 'research', agent: WorkflowAgent.named('researcher'), timeout: Duration.minutes(5), budget: { maxTokens: 100000, maxCostUsd: 1 } })],
  budget: { maxDuration: Duration.minutes(30), maxAgentAttempts: 3, maxTokens: 200000, maxCostUsd: 2 },
});
const orchestrator = new DurableOrchestrator(stack, 'Orchestrator', {
  workflow,
  agents: agents.filter((a) => a.agentName === 'researcher'),
  removalPolicy: RemovalPolicy.DESTROY,
});

// The on-call operator: may engage and release the kill switch, and nothing else.
const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal(), description: 'Engages and releases the kill switch' });
orchestrator.grantKillSwitch(operator);

const integ = new IntegTest(app, 'RunLimits', { testCases: [stack], regions: ['us-east-1'] });
const api = orchestrator.apiFunction.functionName;
const KEY = 'integ-run-limits-1';
const WORKFLOW_ID = workflowIdFor(KEY);

const engage = integ.assertions.invokeFunction({
  functionName: api,
  payload: apiEvent('PUT', '/admin/kill-switch', { engaged: true, reason: 'integration test' }),
});
engage.expect(apiAnswer(200, { engaged: true, reason: 'integration test' }));

const refused = integ.assertions.invokeFunction({ functionName: api, payload: apiEvent('POST', '/workflows', { topic: 'refused' }) });
refused.expect(apiAnswer(503, { error: 'kill_switch_engaged' }));

const release = integ.assertions.invokeFunction({ functionName: api, payload: apiEvent('PUT', '/admin/kill-switch', { engaged: false }) });
release.expect(apiAnswer(200, { engaged: false }));

const start = integ.assertions.invokeFunction({
  functionName: api,
  payload: apiEvent('POST', '/workflows', { topic: 'within budget' }, { 'idempotency-key': KEY }),
});
start.expect(apiAnswer(202, { workflow_id: WORKFLOW_ID }));

const done = integ.assertions.invokeFunction({ functionName: api, payload: apiEvent('GET', `/workflows/${WORKFLOW_ID}`) });
done.expect(apiAnswer(200, { workflow_id: WORKFLOW_ID, status: 'SUCCEEDED' })).waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(15) });

engage.next(refused).next(release).next(start).next(done);

acknowledgeTestScaffolding(app);
app.synth();
