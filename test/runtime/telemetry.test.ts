import { PowertoolsTelemetry } from '../../src/runtime/telemetry';

describe('PowertoolsTelemetry', () => {
  test('logs JSON lines with the runtime\'s keys and writes metrics as EMF, dimensioned by workflow', () => {
    const lines: string[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, { POWERTOOLS_DEV: 'false', AWS_LAMBDA_LOG_FORMAT: 'JSON' });
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as never);
    try {
      const telemetry = new PowertoolsTelemetry('durable-controller');
      expect(lines).toEqual([]); // nothing is loaded or written before the first use
      telemetry.info('step started', { workflow_id: 'wf-1', step_name: 'research', event_type: 'step_started' });
      telemetry.metric('WorkflowsStarted', 'Count', 1, 'research-report');
    } finally {
      spy.mockRestore();
      process.env = saved;
    }
    const docs = lines.join('').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    expect(docs).toEqual(expect.arrayContaining([
      expect.objectContaining({ level: 'INFO', message: 'step started', service: 'durable-controller', workflow_id: 'wf-1', step_name: 'research', event_type: 'step_started' }),
      expect.objectContaining({ _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: 'CdkDurableAgents' })] }), workflow: 'research-report', WorkflowsStarted: 1 }),
    ]));
  });
});
