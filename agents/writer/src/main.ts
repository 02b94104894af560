/** The writer: reads the `analysis` artifact and the `topic`, writes the `report` artifact. */
import { buildPrompt, render, SYSTEM } from './prompts';
import { AgentSpec, lambdaHandler, main } from '../../kit/src';

export const writer: AgentSpec = {
  name: 'writer',
  artifactName: 'report',
  system: SYSTEM,
  buildPrompt,
  render,
  maxTokens: 8192,
};

/** Lambda entry point: the event is the task envelope. */
export const handler = lambdaHandler(writer);

if (require.main === module) main(writer);
