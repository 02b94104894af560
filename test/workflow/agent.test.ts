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

  test('accepts a token (resolved later)', () => {
    const name = Lazy.string({ produce: () => 'x' });
    expect(WorkflowAgent.named(name).agentName).toBe(name);
  });
});
