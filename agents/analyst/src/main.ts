/** The analyst: reads the `research` artifact and writes the `analysis` artifact. */
import { buildPrompt, SYSTEM } from './prompts';
import { AgentSpec, lambdaHandler, main } from '../../kit/src';

export const analyst: AgentSpec = {
  name: 'analyst',
  artifactName: 'analysis',
  system: SYSTEM,
  buildPrompt,
};

/** Lambda entry point: the event is the task envelope. */
export const handler = lambdaHandler(analyst);

if (require.main === module) main(analyst);
