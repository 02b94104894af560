/** A valid task envelope for the kit's tests (a helper, not a test). */
import type { TaskEnvelope } from '../src';

export const TOKEN = 'tok_'.padEnd(43, 'x');

export function envelope(base: string, overrides: Partial<Record<keyof TaskEnvelope, unknown>> = {}): TaskEnvelope {
  return {
    envelope_version: 1,
    workflow_id: 'wf-0123456789abcdef0123456789abcdef',
    step_name: 'research',
    attempt: 1,
    agent: 'researcher',
    input: { topic: 'Durable functions', parameters: null },
    artifacts: { prefix: 'agents/researcher/wf-0123456789abcdef0123456789abcdef/research/attempt-1/', local_dir: '/tmp/unused' },
    callback: { id: 'cb-1', url: `${base}/callbacks/cb-1`, heartbeat_url: `${base}/callbacks/cb-1/heartbeat`, token: TOKEN },
    deadline: new Date(Date.now() + 60_000).toISOString(),
    ...overrides,
  } as TaskEnvelope;
}

/** A logger that keeps its lines. */
export function memoryLogger(): { lines: Array<Record<string, unknown>>; write: (line: string) => void } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}
