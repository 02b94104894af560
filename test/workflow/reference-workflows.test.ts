import { Duration } from 'aws-cdk-lib';
import { DEPTHS, MAX_TOPIC_CHARS } from '../../agents/researcher/src/prompts';
import { validateDefinition } from '../../src/contract/validate';
import { ReferenceWorkflows, WorkflowAgent } from '../../src/workflow';

const agents = {
  researcher: WorkflowAgent.named('researcher'),
  analyst: WorkflowAgent.named('analyst'),
  writer: WorkflowAgent.named('writer'),
};
const retry = { maxAttempts: 3, initialDelaySeconds: 10, backoffRate: 2, maxDelaySeconds: 300 };

describe('ReferenceWorkflows.researchReport', () => {
  test('renders research, analysis, writing, approval and publish', () => {
    const wf = ReferenceWorkflows.researchReport(agents);
    const doc = JSON.parse(wf.toJson(['researcher', 'analyst', 'writer']));
    expect(doc).toEqual({
      schemaVersion: 1,
      name: 'research-report',
      description: 'Research a topic, analyse the findings, write a report, have a person approve it, and publish it.',
      inputs: {
        type: 'object',
        properties: {
          topic: { type: 'string', description: 'What to research and write the report about.', minLength: 1, maxLength: 1000 },
          parameters: {
            type: 'object',
            description: 'How to research it: depth, and further fields the researcher passes on to the model (focus, sources, ...).',
            properties: {
              depth: { type: 'string', description: 'How thorough the research is (default: standard).', enum: ['brief', 'standard', 'comprehensive'] },
            },
            additionalProperties: true,
          },
        },
        required: ['topic'],
        additionalProperties: false,
      },
      steps: [
        {
          type: 'agent',
          name: 'research',
          agent: 'researcher',
          input: { topic: { from: 'input', path: 'topic' }, parameters: { from: 'input', path: 'parameters', optional: true } },
          timeoutSeconds: 3600,
          retry,
        },
        {
          type: 'agent',
          name: 'analysis',
          agent: 'analyst',
          input: { research: { from: 'step', step: 'research', path: 'artifacts.research' } },
          timeoutSeconds: 3600,
          retry,
        },
        {
          type: 'agent',
          name: 'writing',
          agent: 'writer',
          input: { analysis: { from: 'step', step: 'analysis', path: 'artifacts.analysis' }, topic: { from: 'input', path: 'topic' } },
          timeoutSeconds: 3600,
          retry,
        },
        {
          type: 'approval', name: 'approval', prompt: expect.stringMatching(/report/), timeoutSeconds: 86400, onTimeout: 'REJECT', onReject: 'END',
        },
        { type: 'publish', name: 'publish', artifact: { from: 'step', step: 'writing', path: 'artifacts.report' } },
      ],
    });
    expect(validateDefinition(doc, { knownAgents: ['researcher', 'analyst', 'writer'] })).toEqual([]);
    expect(wf.agentNames).toEqual(['researcher', 'analyst', 'writer']);
    expect(wf.stepNames).toEqual(['research', 'analysis', 'writing', 'approval', 'publish']);
    expect(wf.workflowName).toBe(ReferenceWorkflows.RESEARCH_REPORT_NAME);
  });

  test('takes the approval and agent timeouts', () => {
    const wf = ReferenceWorkflows.researchReport({ ...agents, approvalTimeout: Duration.hours(2), agentTimeout: Duration.minutes(15) });
    const doc = JSON.parse(wf.toJson());
    expect(doc.steps.map((s: { timeoutSeconds: number }) => s.timeoutSeconds)).toEqual([900, 900, 900, 7200, undefined]);
  });

  test('uses the agents it is given', () => {
    const wf = ReferenceWorkflows.researchReport({ ...agents, writer: WorkflowAgent.named('ghostwriter') });
    expect(wf.agentNames).toEqual(['researcher', 'analyst', 'ghostwriter']);
    expect(wf.validate(['researcher', 'analyst', 'writer'])).toEqual([
      expect.stringMatching(/^step 'writing': agent 'ghostwriter' is not one of the known agents \('researcher', 'analyst', 'writer'\)/),
    ]);
  });

  test('rejects timeouts out of range', () => {
    expect(() => ReferenceWorkflows.researchReport({ ...agents, approvalTimeout: Duration.days(31) })).toThrow(/^ApprovalStep 'approval': timeout is 31 days/);
    expect(() => ReferenceWorkflows.researchReport({ ...agents, agentTimeout: Duration.days(8) })).toThrow(/^AgentStep 'research': timeout is 8 days/);
  });
});

describe('the research workflow\'s declared input fits the reference researcher', () => {
  test('parameters.depth allows exactly the depths the researcher knows', () => {
    expect(ReferenceWorkflows.RESEARCH_DEPTHS).toEqual(Object.keys(DEPTHS));
  });

  test('a topic of the most characters the API accepts is within what the researcher accepts, even as surrogate pairs', () => {
    // The API counts characters (an emoji is one); the researcher counts UTF-16 code units (an emoji is two).
    expect(ReferenceWorkflows.RESEARCH_TOPIC_MAX_LENGTH * 2).toBeLessThanOrEqual(MAX_TOPIC_CHARS);
  });
});
