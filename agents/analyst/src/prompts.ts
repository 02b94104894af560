import { AgentInputs, clip, requiredText } from '../../kit/src';

export const SYSTEM = `You are the analyst of a research team. You read the researcher's notes and work out
what they mean: the themes, how strong the evidence is, where it is thin or conflicting, the
risks, and what a report should recommend. Judge only from the notes; say so where they are
not enough. Write Markdown with exactly these sections, in this order, and no title:

## Summary
## Themes
## Strength of the evidence
## Risks and gaps
## Recommendations for the report
`;

/** Most characters of research put into the prompt. */
export const MAX_RESEARCH_CHARS = 200_000;

/** The prompt from `research` (the researcher's artifact, read by the kit). */
export function buildPrompt(inputs: AgentInputs): string {
  const research = requiredText(inputs, 'research', "the key of the researcher's 'research' artifact");
  return [
    'Analyse the research notes below.',
    '',
    '--- research notes ---',
    clip(research.trim(), MAX_RESEARCH_CHARS),
    '--- end of research notes ---',
  ].join('\n');
}
