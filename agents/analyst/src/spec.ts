/** The analyst: reads the `research` artifact and writes the `analysis` artifact. */
import { buildPrompt, SYSTEM } from './prompts';
import type { AgentSpec } from '../../kit/src';

export const analyst: AgentSpec = {
  name: 'analyst',
  artifactName: 'analysis',
  system: SYSTEM,
  buildPrompt,
};
