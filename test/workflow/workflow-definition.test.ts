import { Duration, Lazy } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import { AGENT_POOL, validWorkflow } from './arbitraries';
import { allSteps } from '../../src/contract/definition';
import type { StepDocument } from '../../src/contract/definition';
import {
  AgentStep, ApprovalStep, ChoiceCase, ChoiceStep, ParallelBranch, ParallelStep, PublishStep, StepInput, WorkflowAgent,
  WorkflowDefinition, WorkflowStep,
} from '../../src/workflow';

const agent = (stepName: string, agentName = 'researcher', input: Record<string, StepInput> = {}) =>
  new AgentStep({ stepName, agent: WorkflowAgent.named(agentName), input });

describe('WorkflowDefinition', () => {
  test('renders the document, with and without a description', () => {
    const wf = new WorkflowDefinition({ workflowName: 'one', description: 'just one step', steps: [agent('a')] });
    expect(JSON.parse(wf.toJson())).toEqual({
      schemaVersion: 1,
      name: 'one',
      description: 'just one step',
      steps: [{
        type: 'agent',
        name: 'a',
        agent: 'researcher',
        input: {},
        timeoutSeconds: 3600,
        retry: { maxAttempts: 3, initialDelaySeconds: 10, backoffRate: 2, maxDelaySeconds: 300 },
      }],
    });
    expect(JSON.parse(new WorkflowDefinition({ workflowName: 'one', steps: [agent('a')] }).toJson())).not.toHaveProperty('description');
  });

  test('agentNames lists the distinct agents, nested ones included, in order of first use', () => {
    const wf = new WorkflowDefinition({
      workflowName: 'w',
      steps: [
        agent('a', 'writer'),
        new ParallelStep({
          stepName: 'p',
          branches: [
            new ParallelBranch({ branchName: 'x', steps: [agent('b', 'analyst'), agent('c', 'writer')] }),
            new ParallelBranch({
              branchName: 'y',
              steps: [new ChoiceStep({
                stepName: 'ch',
                value: StepInput.fromWorkflowInput('k'),
                cases: [ChoiceCase.whenBoolean(true, [agent('d', 'reviewer')])],
                otherwise: [agent('e', 'researcher')],
              })],
            }),
          ],
        }),
        new ApprovalStep({ stepName: 'ok', prompt: 'p' }),
      ],
    });
    expect(wf.agentNames).toEqual(['writer', 'analyst', 'reviewer', 'researcher']);
    expect(wf.stepNames).toEqual(['a', 'p', 'b', 'c', 'ch', 'd', 'e', 'ok']);
  });

  test('rejects an invalid workflow name and an empty list of steps', () => {
    expect(() => new WorkflowDefinition({ workflowName: 'my flow', steps: [agent('a')] }))
      .toThrow(/^WorkflowDefinition: workflowName \(workflow_name in Python\) "my flow" is not valid: .*for example to 'my-flow'/);
    expect(() => new WorkflowDefinition({ workflowName: 'w', steps: [] }))
      .toThrow(/^WorkflowDefinition 'w': steps is empty: give the workflow at least one step$/);
  });

  test('validate() returns every problem; toJson() throws one error listing them all', () => {
    const wf = new WorkflowDefinition({
      workflowName: 'broken',
      steps: [
        agent('a', 'researcher', { x: StepInput.fromStepOutput('b', 'artifacts.r') }),
        agent('b', 'ghost'),
        agent('a'),
      ],
    });
    const problems = wf.validate(['researcher']);
    expect(problems).toEqual([
      expect.stringMatching(/^step 'a': the name is used 2 times .*rename all but one of them$/),
      expect.stringMatching(/^step 'b': agent 'ghost' is not one of the known agents \('researcher'\): use one of them, or add an agent named 'ghost'$/),
      expect.stringMatching(/^step 'a': input 'x' refers to step 'b', which runs after it: move 'b' before 'a'/),
    ]);
    expect(() => wf.toJson(['researcher'])).toThrow(new Error(`workflow 'broken' is not valid (3 problems):\n${problems.map((p) => `- ${p}`).join('\n')}`));
    // Without known agents, the agent name is not checked.
    expect(wf.validate()).toHaveLength(2);
  });

  test('toJson() says "1 problem" for one', () => {
    const wf = new WorkflowDefinition({ workflowName: 'w', steps: [agent('a', 'writer')] });
    expect(() => wf.toJson(['researcher'])).toThrow(/^workflow 'w' is not valid \(1 problem\):\n- step 'a': agent 'writer' is not one of the known agents/);
    expect(() => wf.toJson(['writer'])).not.toThrow();
  });

  test('a token duration is reported by validate() and refused by toJson()', () => {
    const wf = new WorkflowDefinition({
      workflowName: 'w',
      steps: [new ApprovalStep({ stepName: 'ok', prompt: 'p', timeout: Duration.hours(Lazy.number({ produce: () => 2 })) })],
    });
    expect(wf.validate()).toEqual([expect.stringMatching(/^ApprovalStep 'ok': timeout is an unresolved token, .*needs a concrete value/)]);
    expect(() => wf.toJson()).toThrow(/ApprovalStep 'ok': timeout is an unresolved token/);
  });

  test('an error other than an unresolved token is not swallowed by validate()', () => {
    class Broken extends WorkflowStep {
      constructor() { super('broken'); }
      public _render(): StepDocument { throw new Error('cannot render'); }
    }
    expect(() => new WorkflowDefinition({ workflowName: 'w', steps: [new Broken()] }).validate()).toThrow(/^cannot render$/);
  });

  test('a single publish step of an earlier artifact validates', () => {
    const wf = new WorkflowDefinition({
      workflowName: 'w',
      steps: [agent('w1'), new PublishStep({ artifact: StepInput.fromArtifact('w1', 'report') })],
    });
    expect(wf.validate()).toEqual([]);
  });
});

describe('WorkflowDefinition: properties', () => {
  test('random valid definitions validate clean and survive JSON.parse(toJson()) unchanged', () => {
    fc.assert(fc.property(validWorkflow, ({ definition, document, agents }) => {
      expect(definition.validate()).toEqual([]);
      expect(definition.validate(AGENT_POOL)).toEqual([]);
      const json = definition.toJson(agents);
      expect(JSON.parse(json)).toEqual(document);
      expect(JSON.stringify(JSON.parse(json))).toBe(json);
      expect(definition.stepNames).toEqual(allSteps(document.steps).map((s) => s.name));
      expect(definition.agentNames).toEqual(agents);
    }), { numRuns: 200 });
  });

  test('a duplicate step name, a forward reference or a missing agent is reported with the offending step', () => {
    fc.assert(fc.property(validWorkflow, fc.nat(), fc.constantFrom('duplicate', 'forward', 'agent'), ({ definition }, pick, corruption) => {
      const names = definition.stepNames;
      const first = definition.steps[0];
      let expected: RegExp;
      let steps = definition.steps;
      switch (corruption) {
        case 'duplicate': {
          // A new last step that takes the name of a random existing one.
          const taken = names[pick % names.length];
          steps = [...steps, new ApprovalStep({ stepName: taken, prompt: 'again?' })];
          expected = new RegExp(`^step '${taken}': the name is used 2 times`);
          break;
        }
        case 'forward': {
          // A new first step reading a random existing step (all of which run after it).
          const target = names[pick % names.length];
          steps = [agent('zz-first', 'researcher', { early: StepInput.fromStepOutput(target, '') }), ...steps];
          expected = new RegExp(`^step 'zz-first': input 'early' refers to step '${target}', which runs after it`);
          break;
        }
        default: {
          steps = [agent('zz-unknown', 'stranger'), ...steps];
          expected = /^step 'zz-unknown': agent 'stranger' is not one of the known agents/;
        }
      }
      expect(first).toBe(definition.steps[0]);
      const corrupted = new WorkflowDefinition({ workflowName: definition.workflowName, steps });
      const problems = corrupted.validate(AGENT_POOL);
      expect(problems).toEqual([expect.stringMatching(expected)]);
      expect(() => corrupted.toJson(AGENT_POOL)).toThrow(expected.source.slice(1));
    }), { numRuns: 200 });
  });
});
