/**
 * The researcher: gathers what is known about the workflow's `topic` (tuned by `parameters`)
 * and writes the `research` artifact.
 */
import { buildPrompt, maxTokensFor, SYSTEM } from './prompts';
import type { AgentSpec } from '../../kit/src';

export const researcher: AgentSpec = {
  name: 'researcher',
  artifactName: 'research',
  system: SYSTEM,
  buildPrompt,
  maxTokens: maxTokensFor,
};
