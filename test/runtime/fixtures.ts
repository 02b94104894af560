import type { AgentStepDocument, StepDocument, WorkflowDefinitionDocument } from '../../src/contract/definition';

const RETRY_ONCE = { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 };

export function agentStep(name: string, agent: string, overrides: Partial<AgentStepDocument> = {}): AgentStepDocument {
  return { type: 'agent', name, agent, input: {}, timeoutSeconds: 30, retry: RETRY_ONCE, ...overrides };
}

export function definition(steps: StepDocument[], name = 'test'): WorkflowDefinitionDocument {
  return { schemaVersion: 1, name, steps };
}

/** The reference research workflow of seed 000, as a document (approval timeout adjustable). */
export function researchDefinition(approvalTimeoutSeconds = 24 * 3600, onTimeout: 'REJECT' | 'APPROVE' | 'FAIL' = 'REJECT'): WorkflowDefinitionDocument {
  return definition([
    agentStep('research', 'researcher', { input: { topic: { from: 'input', path: 'topic' }, parameters: { from: 'input', path: 'parameters', optional: true } } }),
    agentStep('analysis', 'analyst', { input: { research: { from: 'step', step: 'research', path: 'artifacts.research' } } }),
    agentStep('writing', 'writer', {
      input: { analysis: { from: 'step', step: 'analysis', path: 'artifacts.analysis' }, topic: { from: 'input', path: 'topic' } },
    }),
    { type: 'approval', name: 'approval', prompt: 'Publish the report?', timeoutSeconds: approvalTimeoutSeconds, onTimeout, onReject: 'END' },
    { type: 'publish', name: 'publish', artifact: { from: 'step', step: 'writing', path: 'artifacts.report' } },
  ], 'research-report');
}

/**
 * Seed 000's answer to `POST /workflows` on the reference workflow (`status`, `workflow_id`,
 * `awaiting`, `message`, word for word), with what this API adds (`wait_kind`, `links`). The
 * cloud API and the local server both answer it.
 */
export function seedStartAnswer(workflowId: string, basePath = '') {
  return {
    status: 'PENDING',
    workflow_id: workflowId,
    awaiting: 'research_completion',
    message: 'Workflow suspended awaiting research completion',
    wait_kind: 'agent',
    links: { self: `${basePath}/workflows/${workflowId}` },
  };
}
