import * as analyst from '../../analyst/src/prompts';
import type { AgentInputs, TaskEnvelope } from '../../kit/src';
import { InputError, OFFLINE_NOTICE } from '../../kit/src';
import * as writer from '../../writer/src/prompts';
import * as researcher from '../src/prompts';

function inputs(values: Record<string, unknown>, artifacts: Record<string, string> = {}): AgentInputs {
  return { values, artifacts, envelope: { workflow_id: 'wf-1' } as TaskEnvelope };
}

describe('researcher prompts', () => {
  test('carry the topic, the depth and the other parameters', () => {
    const prompt = researcher.buildPrompt(inputs({ topic: ' Tides ', parameters: { depth: 'comprehensive', audience: 'engineers', years: [2020, 2025] } }));
    expect(prompt).toBe([
      'Topic: Tides',
      'Depth: comprehensive. Be thorough: cover every significant angle, with evidence for each finding.',
      'Further parameters from the requester:',
      '- audience: engineers',
      '- years: [2020,2025]',
      '',
      'Research this topic and write your notes.',
    ].join('\n'));
    expect(researcher.maxTokensFor(inputs({ topic: 't', parameters: { depth: 'brief' } }))).toBe(1500);
    expect(researcher.maxTokensFor(inputs({ topic: 't', parameters: null }))).toBe(4096);
    expect(researcher.buildPrompt(inputs({ topic: 't', parameters: { depth: 'bottomless' } }))).toContain('Depth: standard.');
  });

  test('refuse a missing or oversized topic and parameters that are not an object', () => {
    expect(() => researcher.buildPrompt(inputs({}))).toThrow(new InputError("input 'topic': expected the topic to research (a string), it is missing"));
    expect(() => researcher.buildPrompt(inputs({ topic: 'x'.repeat(2001) }))).toThrow("input 'topic': at most 2000 characters, got 2001");
    expect(() => researcher.buildPrompt(inputs({ topic: 't', parameters: ['deep'] }))).toThrow(/input 'parameters': expected an object .* got an array/);
  });
});

describe('analyst prompts', () => {
  test('carry the research artifact, and refuse to run without it', () => {
    expect(analyst.buildPrompt(inputs({ research: 'agents/r/k.md' }, { research: '## Notes\n- finding\n' }))).toContain('--- research notes ---\n## Notes\n- finding\n--- end of research notes ---');
    expect(() => analyst.buildPrompt(inputs({}))).toThrow(/^input 'research': expected the key of the researcher's 'research' artifact, it is missing$/);
  });
});

describe('writer prompts and report', () => {
  const given = inputs({ topic: 'Tides', analysis: 'agents/a/k.md' }, { analysis: '## Summary\nok' });

  test('carry the topic and the analysis', () => {
    expect(writer.buildPrompt(given)).toMatch(/^Report topic: Tides\n[\s\S]*--- analysis ---\n## Summary\nok\n--- end of analysis ---$/);
  });

  test('the report gets a title and a by-line, and no offline notice for a model answer', () => {
    const report = writer.render({ text: '## Summary\n\nText.', provider: 'bedrock', model: 'claude' }, given);
    expect(report).toBe('# Tides\n\n*Written by the writer agent with bedrock (claude) for workflow wf-1.*\n\n## Summary\n\nText.\n');
  });

  test('a title the model wrote is kept; an offline answer gets the notice again at the end', () => {
    const report = writer.render({ text: `# Own title\n\n> ${OFFLINE_NOTICE}\n`, provider: 'offline', model: 'offline-deterministic-v1' }, given);
    expect(report.startsWith('# Own title\n\n*Written by the writer agent with offline (offline-deterministic-v1) for workflow wf-1.*\n\n> ')).toBe(true);
    expect(report.trimEnd().endsWith('not model-written analysis.*')).toBe(true);
    expect(report.split(OFFLINE_NOTICE)).toHaveLength(3);
  });
});
