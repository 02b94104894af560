/** The writer: reads the `analysis` artifact and the `topic`, writes the `report` artifact. */
import { buildPrompt, render, SYSTEM } from './prompts';
import type { AgentSpec } from '../../kit/src';

export const writer: AgentSpec = {
  name: 'writer',
  artifactName: 'report',
  system: SYSTEM,
  buildPrompt,
  render,
  maxTokens: 8192,
};
