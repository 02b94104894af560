import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './helpers';
import { LocalTelemetry, LogFiles } from '../../src/cli/logging';

describe('LocalTelemetry', () => {
  function telemetry() {
    const logged: unknown[][] = [];
    const console: string[] = [];
    const t = new LocalTelemetry({
      log: (...args) => logged.push(args),
      note: (workflowId, text) => console.push(`[${workflowId}] ${text}`),
      console: (line) => console.push(line),
    });
    return { t, logged, console };
  }

  test('info and metrics go to the log only', () => {
    const { t, logged, console } = telemetry();
    t.info('task dispatched', { workflow_id: 'wf-1' });
    t.metric('StepDuration', 'Milliseconds', 12, 'research-report');
    expect(logged).toEqual([['info', 'task dispatched', { workflow_id: 'wf-1' }], ['metric', 'StepDuration', { value: 12, definition: 'research-report' }]]);
    expect(console).toEqual([]);
  });

  test('warnings and errors also go to the console: under their workflow and step, or on their own', () => {
    const { t, logged, console } = telemetry();
    t.warn('slow agent', { workflow_id: 'wf-1', step_name: 'research', attempt: 2, detail: { a: 1 }, none: undefined });
    t.error('store unavailable', { reason: 'disk full' });
    expect(logged.map((l) => l[0])).toEqual(['warn', 'error']);
    expect(console).toEqual([
      '[wf-1] research: warning: slow agent (attempt=2, detail={"a":1})',
      'error: store unavailable (reason=disk full)',
    ]);
  });
});

test('LogFiles: one JSON line per runtime log and per agent line', async () => {
  const dir = tempDir();
  const logs = new LogFiles(dir);
  logs.runtime('info', 'hello', { workflow_id: 'wf-1' });
  logs.agent({ agent: 'writer', pid: 1, workflowId: 'wf-1', stepName: 'writing', stream: 'stdout', line: 'hi' });
  await logs.close();
  const runtime = fs.readFileSync(path.join(dir, 'runtime.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const agents = fs.readFileSync(path.join(dir, 'agents.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(runtime).toEqual([{ time: expect.any(String), level: 'info', message: 'hello', workflow_id: 'wf-1' }]);
  expect(agents).toEqual([{ time: expect.any(String), agent: 'writer', pid: 1, workflowId: 'wf-1', stepName: 'writing', stream: 'stdout', line: 'hi' }]);
});
