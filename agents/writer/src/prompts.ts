import { AgentInputs, clip, ModelResponse, OFFLINE_NOTICE, requiredText } from '../../kit/src';

export const SYSTEM = `You are the writer of a research team. From the analyst's findings you write the final
report for a reader who has not seen the research: clear, well organised, plain words, no
claims the analysis does not support. Write Markdown with exactly these sections, in this
order; do not write a title (it is added for you):

## Summary
## Background
## Findings
## Recommendations
## Conclusion
`;

export const MAX_ANALYSIS_CHARS = 200_000;

/** The prompt from `topic` and `analysis` (the analyst's artifact, read by the kit). */
export function buildPrompt(inputs: AgentInputs): string {
  const topic = requiredText(inputs, 'topic', 'the topic of the report (a string)').trim();
  const analysis = requiredText(inputs, 'analysis', "the key of the analyst's 'analysis' artifact");
  return [
    `Report topic: ${topic}`,
    '',
    'Write the report from the analysis below.',
    '',
    '--- analysis ---',
    clip(analysis.trim(), MAX_ANALYSIS_CHARS),
    '--- end of analysis ---',
  ].join('\n');
}

/**
 * The report: a title from the topic (unless the model wrote one), a line saying who wrote it
 * and with which model, the body, and the offline notice again at the end when no model was
 * called, so nobody mistakes an offline outline for a real report.
 */
export function render(completion: ModelResponse, inputs: AgentInputs): string {
  const topic = requiredText(inputs, 'topic', 'the topic of the report (a string)').trim().replace(/\s+/g, ' ');
  let body = completion.text.trim();
  let title = `# ${topic}`;
  const own = /^#\s+\S[^\n]*/.exec(body);
  if (own) {
    title = own[0].trim();
    body = body.slice(own[0].length).trim();
  }
  const offline = completion.text.includes(OFFLINE_NOTICE);
  const parts = [
    title,
    '',
    `*Written by the writer agent with ${completion.provider} (${completion.model}) for workflow ${inputs.envelope.workflow_id}.*`,
    '',
    body,
  ];
  if (offline) parts.push('', '---', '', `*${OFFLINE_NOTICE} This report is an outline of its inputs, not model-written analysis.*`);
  return `${parts.join('\n')}\n`;
}
