/**
 * The researcher: gathers what is known about the workflow's `topic` (tuned by `parameters`)
 * and writes the `research` artifact.
 */
import { buildPrompt, maxTokensFor, SYSTEM } from './prompts';
import { AgentSpec, lambdaHandler, main } from '../../kit/src';

export const researcher: AgentSpec = {
  name: 'researcher',
  artifactName: 'research',
  system: SYSTEM,
  buildPrompt,
  maxTokens: maxTokensFor,
};

/** Lambda entry point: the event is the task envelope. */
export const handler = lambdaHandler(researcher);

if (require.main === module) main(researcher);
