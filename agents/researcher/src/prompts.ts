import { AgentInputs, InputError, requiredText } from '../../kit/src';

/** Depths a workflow may ask for in `parameters.depth` (ReferenceWorkflows.RESEARCH_DEPTHS declares the same). */
export const DEPTHS: Record<string, { tokens: number; guidance: string }> = {
  brief: { tokens: 1500, guidance: 'Keep it short: the five most important findings.' },
  standard: { tokens: 4096, guidance: 'Cover the main findings with enough detail to analyse them.' },
  comprehensive: { tokens: 8192, guidance: 'Be thorough: cover every significant angle, with evidence for each finding.' },
};

export const SYSTEM = `You are the researcher of a research team. You gather what is known about a topic so
that an analyst can work from your notes. Be factual; say how certain each finding is; name
the kind of source a finding rests on; never invent citations. Write Markdown with exactly
these sections, in this order, and no title:

## Summary
## Key findings
## Evidence and sources
## Open questions
`;

export const MAX_TOPIC_CHARS = 2000;

/** The prompt from `topic` (required) and `parameters` (optional object; `depth`, `focus`, ...). */
export function buildPrompt(inputs: AgentInputs): string {
  const topic = requiredText(inputs, 'topic', 'the topic to research (a string)').trim();
  if (topic.length > MAX_TOPIC_CHARS) {
    throw new InputError(`input 'topic': at most ${MAX_TOPIC_CHARS} characters, got ${topic.length}`);
  }
  const parameters = inputs.values.parameters;
  if (parameters !== undefined && parameters !== null && (typeof parameters !== 'object' || Array.isArray(parameters))) {
    throw new InputError(`input 'parameters': expected an object such as {"depth": "comprehensive"} or nothing, got ${Array.isArray(parameters) ? 'an array' : typeof parameters}`);
  }
  const params = (parameters ?? {}) as Record<string, unknown>;
  const depth = typeof params.depth === 'string' && params.depth in DEPTHS ? params.depth : 'standard';
  const lines = [
    `Topic: ${topic}`,
    `Depth: ${depth}. ${DEPTHS[depth].guidance}`,
  ];
  const others = Object.entries(params).filter(([k]) => k !== 'depth');
  if (others.length > 0) {
    lines.push('Further parameters from the requester:');
    for (const [k, v] of others) lines.push(`- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  lines.push('', 'Research this topic and write your notes.');
  return lines.join('\n');
}

/** Most tokens for the depth asked for. */
export function maxTokensFor(inputs: AgentInputs): number {
  const depth = (inputs.values.parameters as { depth?: unknown } | null | undefined)?.depth;
  return typeof depth === 'string' && depth in DEPTHS ? DEPTHS[depth].tokens : DEPTHS.standard.tokens;
}
