import { Lazy } from 'aws-cdk-lib';
import { WorkflowAgent } from '../../src/workflow';

describe('WorkflowAgent.named', () => {
  test('refers to an agent by name', () => {
    expect(WorkflowAgent.named('researcher').agentName).toBe('researcher');
  });

  test('rejects an empty name, saying what to pass', () => {
    expect(() => WorkflowAgent.named('')).toThrow(/^WorkflowAgent.named: agentName is "": pass the name of an agent, for example 'researcher'$/);
    expect(() => WorkflowAgent.named('  ')).toThrow(/agentName is "  "/);
  });

  test.each([
    ['has space'], ['1starts-with-digit'], ['under/slash'], ['star*'], ['dot.name'], ['x'.repeat(64)], ['ümlaut'],
  ])('rejects %j, which cannot be an artifact prefix or part of an IAM resource name', (name) => {
    expect(() => WorkflowAgent.named(name)).toThrow(`WorkflowAgent.named: agentName ${JSON.stringify(name)} is not valid: an agent name starts with a letter`);
    expect(() => WorkflowAgent.named(name)).toThrow(/contains only letters, digits, '-' and '_', and has at most 63 characters; use for example '/);
  });

  test('accepts names of letters, digits, - and _ up to 63 characters', () => {
    for (const name of ['a', 'research-agent_2', 'A'.repeat(63)]) expect(WorkflowAgent.named(name).agentName).toBe(name);
  });

  test('accepts a token (resolved later)', () => {
    const name = Lazy.string({ produce: () => 'x' });
    expect(WorkflowAgent.named(name).agentName).toBe(name);
  });
});
