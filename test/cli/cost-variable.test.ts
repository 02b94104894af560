import { planRun, WorkflowFigures } from '../../src/cli/cost/run';
import { estimateVariableCost, priceFigures, stepFunctionsTransitions, VariableEstimate } from '../../src/cli/cost/variable';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import {
  AgentStep,
  ApprovalStep,
  ChoiceCase,
  ChoiceStep,
  ParallelBranch,
  ParallelStep,
  PublishStep,
  ReferenceWorkflows,
  StepInput,
  WorkflowAgent,
  WorkflowDefinition,
} from '../../src/workflow';

jest.setTimeout(120_000);

// The price table's type (src/cli/cost/prices.ts), copied here so that this test checks that a
// whole region of it is accepted; the numbers are this test's own, round so that the costs below
// can be worked out by hand.
type PriceKey = 'lambdaRequestPerMillion' | 'lambdaArmGbSecond' | 'lambdaX86GbSecond' | 'durableOperationPerMillion'
  | 'durableDataWrittenPerGb' | 'durableDataRetainedPerGbMonth' | 'httpApiRequestPerMillion' | 'dynamoWriteRequestUnitPerMillion'
  | 'dynamoReadRequestUnitPerMillion' | 'eventBridgeCustomEventPerMillion' | 's3PutPerThousand' | 's3GetPerThousand'
  | 'stepFunctionsStandardTransitionPerThousand' | 'fargateArmVcpuHour' | 'fargateArmGbHour' | 'fargateX86VcpuHour' | 'fargateX86GbHour';
type RegionPrices = Record<PriceKey, { usd: number; unit: string; source: string }>;

const usd: Record<PriceKey, number> = {
  lambdaRequestPerMillion: 0.2,
  lambdaArmGbSecond: 0.00001,
  lambdaX86GbSecond: 0.00002,
  durableOperationPerMillion: 10,
  durableDataWrittenPerGb: 0.25,
  durableDataRetainedPerGbMonth: 0.15,
  httpApiRequestPerMillion: 1,
  dynamoWriteRequestUnitPerMillion: 1.25,
  dynamoReadRequestUnitPerMillion: 0.25,
  eventBridgeCustomEventPerMillion: 1,
  s3PutPerThousand: 0.005,
  s3GetPerThousand: 0.0004,
  stepFunctionsStandardTransitionPerThousand: 0.025,
  fargateArmVcpuHour: 0.04,
  fargateArmGbHour: 0.004,
  fargateX86VcpuHour: 0.05,
  fargateX86GbHour: 0.005,
};
const PRICES: RegionPrices = Object.fromEntries(Object.entries(usd).map(([k, v]) => [k, { usd: v, unit: 'test', source: 'test fixture' }])) as RegionPrices;

const usdOf = (e: VariableEstimate, key: string) => {
  const line = e.per1000.lines.find((l) => l.key === key);
  if (!line) throw new Error(`no line '${key}' in ${e.per1000.lines.map((l) => l.key).join(', ')}`);
  return line.usd;
};

const reference = () => ReferenceWorkflows.researchReport({
  researcher: WorkflowAgent.named('researcher'), analyst: WorkflowAgent.named('analyst'), writer: WorkflowAgent.named('writer'),
})._toDocument();

describe('the reference workflow, run and counted', () => {
  let estimate: VariableEstimate;
  beforeAll(async () => {
    estimate = await estimateVariableCost({
      definition: reference(),
      agents: { researcher: { kind: 'lambda' }, analyst: { kind: 'lambda' }, writer: { kind: 'lambda' } },
      stepDurationSeconds: 30,
      prices: PRICES,
    });
  });

  test('durable operations: a CALLBACK per agent step and approval, a STEP per dispatch, approval request, publish, start and finish', () => {
    // 3 agent steps and 1 approval: 4 callbacks; steps: workflow/start, 3 dispatches, 1 approval
    // request, publish, workflow/finish = 7; plus the execution's start.
    expect(estimate.counted['durableOperations:CALLBACK']).toBe(4);
    expect(estimate.counted['durableOperations:STEP']).toBe(7);
    expect(estimate.counted.durableOperations).toBe(4 + 7 + 1);
    // One invocation to start, one to resume after each of the 4 waits.
    expect(estimate.counted.controllerInvocations).toBe(5);
  });

  test('requests: the API, events, S3 and the agents', () => {
    // POST /workflows, 3 agent reports, 1 approval.
    expect(estimate.counted.apiRequests).toBe(5);
    // Workflow Started, Step Started and Completed of 5 steps, Approval Requested, Workflow Completed.
    expect(estimate.counted.events).toBe(1 + 2 * 5 + 1 + 1);
    // The publish copy; the API checks each reported artifact exists, the publish step its source,
    // and the approval request reads the first lines of the artifact to approve (its summary).
    expect(estimate.counted.s3Put).toBe(1);
    expect(estimate.counted.s3Get).toBe(3 + 1 + 1);
    expect(estimate.counted.agentS3Put).toBe(3);
    expect(estimate.counted['dispatches:researcher']).toBe(1);
    expect(estimate.counted['dispatches:analyst']).toBe(1);
    expect(estimate.counted['dispatches:writer']).toBe(1);
    expect(estimate.counted.durablePayloadBytes).toBeGreaterThan(0);
  });

  test('priced per 1,000 workflows at the fixture prices', () => {
    expect(usdOf(estimate, 'durableOperations')).toBeCloseTo(12_000 / 1e6 * 10, 10); // $0.12
    expect(usdOf(estimate, 'controllerRequests')).toBeCloseTo(5_000 / 1e6 * 0.2, 10);
    expect(usdOf(estimate, 'apiGatewayRequests')).toBeCloseTo(5_000 / 1e6 * 1, 10);
    expect(usdOf(estimate, 'eventBridge')).toBeCloseTo(13_000 / 1e6 * 1, 10);
    expect(usdOf(estimate, 's3Put')).toBeCloseTo(1_000 / 1000 * 0.005, 10);
    expect(usdOf(estimate, 's3Get')).toBeCloseTo(5_000 / 1000 * 0.0004, 10);
    expect(usdOf(estimate, 'agentS3Put')).toBeCloseTo(3_000 / 1000 * 0.005, 10);
    // Each Lambda agent: 1,000 tasks of 30 s at 2 GB, and 1,000 requests.
    for (const agent of ['researcher', 'analyst', 'writer']) {
      expect(usdOf(estimate, `agent:${agent}:duration`)).toBeCloseTo(1_000 * 30 * 2 * 0.00001, 10); // $0.60
      expect(usdOf(estimate, `agent:${agent}:requests`)).toBeCloseTo(1_000 / 1e6 * 0.2, 10);
    }
    const sum = estimate.per1000.lines.reduce((n, l) => n + l.usd, 0);
    expect(estimate.per1000.total).toBeCloseTo(sum, 10);
    expect(estimate.per1000.lines.every((l) => l.priced)).toBe(true);
  });

  test('the Step Functions line: its transitions, the same shared requests and the same agents', () => {
    const sfn = estimate.stepFunctionsStandardPer1000;
    const notShared = ['durableOperations', 'durableDataWritten', 'durableDataRetained', 'controllerRequests', 'controllerDuration'];
    const shared = estimate.per1000.lines.filter((l) => !notShared.includes(l.key)).reduce((n, l) => n + l.usd, 0);
    expect(sfn.transitionsUsd).toBeCloseTo(sfn.transitions * 0.025, 10);
    expect(sfn.total).toBeCloseTo(sfn.transitions * 0.025 + shared, 10);
    // At least a Task state for each agent dispatch, each event and the copy, and the Succeed state.
    expect(sfn.transitions).toBeGreaterThanOrEqual(3 + 13 + 1 + 1);
    expect(sfn.explanation.approvalChoice).toBe(1);
  });
});

describe('a workflow with a choice and a parallel step', () => {
  const agent = (stepName: string, name: string, input: Record<string, StepInput> = {}) =>
    new AgentStep({ stepName, agent: WorkflowAgent.named(name), input });
  const definition = (): WorkflowDefinitionDocument => new WorkflowDefinition({
    workflowName: 'branching',
    steps: [
      agent('triage', 'triager', { topic: StepInput.fromWorkflowInput('topic') }),
      new ChoiceStep({
        stepName: 'route',
        value: StepInput.fromStepOutput('triage', 'output.depth'),
        cases: [
          ChoiceCase.whenString('deep', [agent('deep-dive', 'specialist', { topic: StepInput.fromWorkflowInput('topic') })]),
          ChoiceCase.whenString('shallow', [agent('skim', 'generalist')]),
        ],
      }),
      new ParallelStep({
        stepName: 'fanout',
        branches: [
          new ParallelBranch({ branchName: 'left', steps: [agent('left-work', 'specialist')] }),
          new ParallelBranch({ branchName: 'right', steps: [agent('right-work', 'generalist'), new ApprovalStep({ stepName: 'right-ok', prompt: 'ok?' })] }),
        ],
      }),
      new PublishStep({ stepName: 'publish', artifact: StepInput.fromArtifact('deep-dive', 'report') }),
    ],
  })._toDocument();

  test('the run plan: the input read, each agent step\'s artifacts and outputs, the first case chosen', () => {
    const plan = planRun(definition());
    expect(plan.input).toEqual({ topic: 'sample topic' });
    expect(plan.reports.triage).toEqual({ artifacts: ['output'], output: { depth: 'deep' } });
    expect(plan.reports['deep-dive']).toEqual({ artifacts: ['report'], output: {} });
    expect(Object.keys(plan.reports).sort()).toEqual(['deep-dive', 'left-work', 'right-work', 'skim', 'triage']);
  });

  test('is followed as the definition says: the first case, both branches, the approval given', async () => {
    const estimate = await estimateVariableCost({
      definition: definition(),
      agents: { triager: { kind: 'lambda' }, specialist: { kind: 'ecs' }, generalist: { kind: 'ecs' } },
      stepDurationSeconds: 120,
      prices: PRICES,
    });
    const c = estimate.counted;
    // triage, deep-dive (the 'deep' case; skim is not run), left-work, right-work.
    expect(c['dispatches:triager']).toBe(1);
    expect(c['dispatches:specialist']).toBe(2);
    expect(c['dispatches:generalist']).toBe(1);
    // A callback per agent step run (4) and per approval (1).
    expect(c['durableOperations:CALLBACK']).toBe(5);
    // The parallel step is a CONTEXT, and one per branch.
    expect(c['durableOperations:CONTEXT']).toBe(1 + 2);
    expect(estimate.stepFunctionsStandardPer1000.explanation.approvalChoice).toBe(1);
    // Fargate agents: 1,000 tasks each of 120 s, 1 vCPU and 2 GB.
    const hours = (tasks: number) => tasks * 1000 * 120 / 3600;
    expect(usdOf(estimate, 'agent:specialist:vcpu')).toBeCloseTo(hours(2) * 0.04, 10);
    expect(usdOf(estimate, 'agent:specialist:memory')).toBeCloseTo(hours(2) * 2 * 0.004, 10);
    expect(usdOf(estimate, 'agent:generalist:vcpu')).toBeCloseTo(hours(1) * 0.04, 10);
    expect(usdOf(estimate, 'agent:triager:duration')).toBeCloseTo(1000 * 120 * 2 * 0.00001, 10);
  });
});

describe('pricing counted figures', () => {
  // One made-up workflow: two controller invocations, four operations, one agent task.
  const figures: WorkflowFigures = {
    status: 'SUCCEEDED',
    durableOperations: { billable: 4, execution: 1, byType: { STEP: 2, CALLBACK: 1 }, retriedStepAttempts: 0, names: [], payloadBytes: 2048 },
    controllerInvocations: 2,
    apiRequests: { 'POST /workflows': 1, 'POST /callbacks/{id}': 1 },
    calls: {
      controller: { 'store.getWorkflow': 1, 'events.publish': 2, 'dispatcher.dispatch': 1 },
      api: { 'store.createWorkflow': 1, 'durable.start': 1, 'durable.callbackSuccess': 1 },
      agent: { 'artifacts.put': 1 },
    },
    dispatches: { worker: 2 },
    dynamo: {
      writeRequestUnits: 8,
      readRequestUnits: 3,
      writeRequestUnitsBy: {},
      largestWorkflowItemBytes: 900,
      apiCalls: { controller: { items: 1, transactions: 1 }, api: { items: 1, transactions: 1 }, agent: { items: 0, transactions: 0 } },
    },
    events: 2,
    eventTypes: ['Workflow Started', 'Workflow Completed'],
    s3: { putClass: 0, getClass: 1, agentPutClass: 1 },
  };
  const base = { prices: PRICES };

  test('every line, worked out by hand', () => {
    const e = priceFigures(figures, { ...base, agents: { worker: { kind: 'lambda' } }, stepDurationSeconds: 30 });
    // Controller: 2 x (25 + 10% of 300) + 4 operations x 15 + a DynamoDB item 6 + a transaction 12
    // + 2 events x 20 + a dispatch 250 = 478 ms at 1 GB; API: 2 x (10 + 10% of 250) + 6 + 12 +
    // 2 durable calls x 25 = 138 ms at 0.5 GB.
    const gb = 2048 * 1000 / 1024 ** 3;
    const expected: Record<string, number> = {
      'durableOperations': 4000 / 1e6 * 10,
      'durableDataWritten': gb * 0.25,
      'durableDataRetained': gb * (14 * 24 / 730) * 0.15,
      'controllerRequests': 2000 / 1e6 * 0.2,
      'controllerDuration': 478 * 1 * 0.00001,
      'apiGatewayRequests': 2000 / 1e6 * 1,
      'apiRequests': 2000 / 1e6 * 0.2,
      'apiDuration': 138 * 0.5 * 0.00001,
      'dynamoWrites': 8000 / 1e6 * 1.25,
      'dynamoReads': 3000 / 1e6 * 0.25,
      'eventBridge': 2000 / 1e6 * 1,
      's3Put': 0,
      's3Get': 1000 / 1000 * 0.0004,
      'agentS3Put': 1000 / 1000 * 0.005,
      'agent:worker:requests': 2000 / 1e6 * 0.2,
      'agent:worker:duration': 2000 * 30 * 2 * 0.00001,
    };
    expect(e.per1000.lines.map((l) => l.key).sort()).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) expect([key, usdOf(e, key)]).toEqual([key, expect.closeTo(value, 12)]);
    expect(e.per1000.total).toBeCloseTo(Object.values(expected).reduce((a, b) => a + b, 0), 12);
    expect(e.counted.controllerBilledMs).toBe(478);
    expect(e.counted.apiBilledMs).toBe(138);

    // Step Functions: Task states for the read, 2 events and the dispatch (4), a Choice after the
    // read (1), no approval, the Succeed state (1): 6 transitions.
    expect(e.stepFunctionsStandardPer1000.transitions).toBe(6);
    const notShared = ['durableOperations', 'durableDataWritten', 'durableDataRetained', 'controllerRequests', 'controllerDuration'];
    const shared = Object.entries(expected).filter(([k]) => !notShared.includes(k)).reduce((n, [, v]) => n + v, 0);
    expect(e.stepFunctionsStandardPer1000.total).toBeCloseTo(6 * 0.025 + shared, 12);
  });

  test('a Fargate agent pays vCPU and memory hours, at least a minute a task', () => {
    const short = priceFigures(figures, { ...base, agents: { worker: { kind: 'ecs' } }, stepDurationSeconds: 30 });
    // 2,000 tasks billed 60 s each: 33.33 vCPU-hours and 66.67 GB-hours.
    expect(usdOf(short, 'agent:worker:vcpu')).toBeCloseTo(2000 * 60 / 3600 * 0.04, 10);
    expect(usdOf(short, 'agent:worker:memory')).toBeCloseTo(2000 * 60 / 3600 * 2 * 0.004, 10);
    const long = priceFigures(figures, { ...base, agents: { worker: { kind: 'ecs' } }, stepDurationSeconds: 600 });
    expect(usdOf(long, 'agent:worker:vcpu')).toBeCloseTo(2000 * 600 / 3600 * 0.04, 10);
    expect(long.per1000.lines.some((l) => l.key.startsWith('agent:worker:request'))).toBe(false);
    // The same agent on Lambda costs a request and GB-seconds instead.
    const lambda = priceFigures(figures, { ...base, agents: { worker: { kind: 'lambda' } }, stepDurationSeconds: 600 });
    expect(usdOf(lambda, 'agent:worker:duration')).toBeCloseTo(2000 * 600 * 2 * 0.00001, 10);
    expect(lambda.per1000.lines.some((l) => l.key === 'agent:worker:vcpu')).toBe(false);
  });

  test('an agent of unknown kind and a missing price are listed as not priced, never silently zero', () => {
    const { fargateArmGbHour: _dropped, ...partial } = PRICES;
    const e = priceFigures(figures, { ...base, prices: partial, agents: { worker: { kind: 'ecs' } }, stepDurationSeconds: 60 });
    const memory = e.per1000.lines.find((l) => l.key === 'agent:worker:memory')!;
    expect(memory).toMatchObject({ priced: false, usd: 0, quantity: 2000 * 60 / 3600 * 2 });
    expect(memory.item).toMatch(/not priced: no price 'fargateArmGbHour'/);
    const unknown = priceFigures(figures, { ...base, agents: {}, stepDurationSeconds: 60 });
    expect(unknown.per1000.lines.find((l) => l.key === 'agent:worker')).toMatchObject({ priced: false, usd: 0, quantity: 2000 * 60 });
  });

  test('the Step Functions rule counts an approval\'s Choice from the run, not from the definition', () => {
    const withApproval = { ...figures, eventTypes: ['Workflow Approval Requested:ok'] };
    expect(stepFunctionsTransitions(withApproval).transitions).toBe(7);
  });

  test('rejects a negative step duration', () => {
    expect(() => priceFigures(figures, { ...base, agents: {}, stepDurationSeconds: -1 })).toThrow(/stepDurationSeconds must be a number of seconds, 0 or more, got -1/);
  });
});
