import { Duration } from 'aws-cdk-lib';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import { validateDefinition } from '../../src/contract/validate';
import { AgentStep, WorkflowAgent, WorkflowDefinition } from '../../src/workflow';

const step = (budget?: { maxTokens?: number; maxCostUsd?: number }) =>
  new AgentStep({ stepName: 'research', agent: WorkflowAgent.named('researcher'), budget });

describe('budgets in the definition classes', () => {
  test('a workflow budget and a step budget render into the document', () => {
    const wf = new WorkflowDefinition({
      workflowName: 'limited',
      steps: [step({ maxTokens: 50_000, maxCostUsd: 0.25 })],
      budget: { maxDuration: Duration.hours(2), maxAgentAttempts: 6, maxTokens: 200_000, maxCostUsd: 1.5 },
    });
    const doc = JSON.parse(wf.toJson()) as WorkflowDefinitionDocument;
    expect(doc.budget).toEqual({ maxDurationSeconds: 7200, maxAgentAttempts: 6, maxTokens: 200_000, maxCostUsd: 1.5 });
    expect(doc.steps[0]).toMatchObject({ budget: { maxTokens: 50_000, maxCostUsd: 0.25 } });
    expect(JSON.parse(new WorkflowDefinition({ workflowName: 'free', steps: [step()] }).toJson())).not.toHaveProperty('budget');
  });

  test.each([
    [{ maxTokens: 0 }, /WorkflowDefinition 'w': budget.maxTokens \(budget\.max_[a-z_]+ in Python\) is 0; it must be a whole number from 1 to 1000000000000 tokens/],
    [{ maxTokens: 10.5 }, /budget.maxTokens \(budget\.max_[a-z_]+ in Python\) is 10.5; it must be a whole number/],
    [{ maxCostUsd: 0 }, /budget.maxCostUsd \(budget\.max_[a-z_]+ in Python\) is 0; it must be above 0 and at most 1000000 US dollars/],
    [{ maxAgentAttempts: 0 }, /budget.maxAgentAttempts \(budget\.max_[a-z_]+ in Python\) is 0; it must be a whole number from 1 to 10000 attempts/],
    [{ maxDuration: Duration.millis(10) }, /budget.maxDuration/],
    [{ maxDuration: Duration.days(400) }, /budget.maxDuration/],
    [{}, /WorkflowDefinition 'w': budget sets no limit: set maxDuration, maxAgentAttempts, maxTokens or maxCostUsd, or leave budget out/],
  ])('workflow budget %j is refused', (budget, message) => {
    expect(() => new WorkflowDefinition({ workflowName: 'w', steps: [step()], budget })).toThrow(message);
  });

  test.each([
    [{ maxTokens: -5 }, /AgentStep 'research': budget.maxTokens \(budget\.max_[a-z_]+ in Python\) is -5/],
    [{ maxCostUsd: -1 }, /AgentStep 'research': budget.maxCostUsd \(budget\.max_[a-z_]+ in Python\) is -1/],
    [{}, /AgentStep 'research': budget sets no limit: set maxTokens or maxCostUsd, or leave budget out/],
  ])('step budget %j is refused', (budget, message) => {
    expect(() => step(budget)).toThrow(message);
  });
});

describe('validateDefinition of budgets (documents written by hand or by another version)', () => {
  const base = (extra: Record<string, unknown>, stepExtra: Record<string, unknown> = {}) => ({
    schemaVersion: 1,
    name: 'w',
    steps: [{ type: 'agent', name: 'a', agent: 'x', input: {}, timeoutSeconds: 60, retry: { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 }, ...stepExtra }],
    ...extra,
  }) as unknown as WorkflowDefinitionDocument;

  test('a valid budget has no problem', () => {
    const budget = { maxDurationSeconds: 60, maxAgentAttempts: 3, maxTokens: 10, maxCostUsd: 0.5 };
    expect(validateDefinition(base({ budget }, { budget: { maxTokens: 5 } }))).toEqual([]);
  });

  test.each([
    [{ budget: 'cheap' }, {}, /workflow 'w': budget is not an object: give maxTokens, maxCostUsd, maxDurationSeconds, maxAgentAttempts/],
    [{ budget: { maxTokens: 10, maxTokenz: 3 } }, {}, /workflow 'w': budget has unknown limit 'maxTokenz': a workflow budget takes maxTokens/],
    [{ budget: { maxDurationSeconds: 0 } }, {}, /budget maxDurationSeconds 0 is not valid: it must be a whole number of seconds from 1 to 31536000/],
    [{ budget: {} }, {}, /workflow 'w': budget sets no limit/],
    [{}, { budget: { maxAgentAttempts: 2 } }, /step 'a'.*budget has unknown limit 'maxAgentAttempts': a step budget takes maxTokens, maxCostUsd/],
    [{}, { budget: { maxCostUsd: -1 } }, /step 'a'.*budget maxCostUsd -1 is not valid: it must be a number of US dollars \(estimated\)/],
  ])('%j / step %j is a problem', (extra, stepExtra, message) => {
    const problems = validateDefinition(base(extra, stepExtra));
    expect(problems).toEqual([expect.stringMatching(message)]);
  });
});
