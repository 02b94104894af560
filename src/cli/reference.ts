/**
 * The workflow `cdk-durable-agents dev` serves when no app is given: the reference research
 * workflow with the three reference agents.
 */
import { CliError } from './errors';
import type { WorkflowDefinitionDocument } from '../contract/definition';

/**
 * `ReferenceWorkflows.researchReport(...)` as a definition document. The definition classes use
 * aws-cdk-lib (a peer dependency, kept out of the command's bundle), so they are loaded only here.
 */
export function referenceDefinition(): WorkflowDefinitionDocument {
  let workflow: typeof import('../workflow');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    workflow = require('../workflow');
  } catch (e) {
    throw new CliError(`cannot load the reference workflow: ${(e as Error).message.split('\n')[0]}. `
      + 'It needs aws-cdk-lib and constructs (peer dependencies of cdk-durable-agents): npm install aws-cdk-lib constructs');
  }
  const { ReferenceWorkflows, WorkflowAgent } = workflow;
  return ReferenceWorkflows.researchReport({
    researcher: WorkflowAgent.named('researcher'),
    analyst: WorkflowAgent.named('analyst'),
    writer: WorkflowAgent.named('writer'),
  })._toDocument();
}
