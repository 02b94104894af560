/**
 * The local server's log files (runtime logs and agents' output, one JSON line each) and the
 * runtime's telemetry: into runtime.log, warnings and errors also on the console.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AgentOutputLine } from '../runtime/adapters/local';
import type { LogFields, Telemetry } from '../runtime/telemetry';

/** The server's log files in its data folder: runtime.log and agents.log. */
export class LogFiles {
  private readonly runtimeLog: fs.WriteStream;
  private readonly agentLog: fs.WriteStream;

  constructor(dataDir: string) {
    this.runtimeLog = fs.createWriteStream(path.join(dataDir, 'runtime.log'), { flags: 'a' });
    this.agentLog = fs.createWriteStream(path.join(dataDir, 'agents.log'), { flags: 'a' });
    // A log that cannot be written must not stop the server.
    this.runtimeLog.on('error', () => undefined);
    this.agentLog.on('error', () => undefined);
  }

  runtime(level: string, message: string, fields: LogFields = {}): void {
    this.runtimeLog.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  }

  agent(line: AgentOutputLine): void {
    this.agentLog.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
  }

  async close(): Promise<void> {
    await Promise.all([this.runtimeLog, this.agentLog].map((s) => new Promise<void>((r) => s.end(() => r()))));
  }
}

/** Where LocalTelemetry writes. */
export interface TelemetrySinks {
  /** Receives every log line (level, message, fields). */
  readonly log: (level: string, message: string, fields?: LogFields) => void;
  /** Shows a line under a workflow's tag on the console. */
  readonly note: (workflowId: string, text: string) => void;
  /** Shows a line on the console that belongs to no workflow. */
  readonly console: (line: string) => void;
}

/** Runtime logs go to the log; warnings and errors also to the console (with their workflow's tag). */
export class LocalTelemetry implements Telemetry {
  constructor(private readonly sinks: TelemetrySinks) {}
  info(message: string, fields?: LogFields): void {
    this.sinks.log('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.sinks.log('warn', message, fields);
    this.show('warning', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.sinks.log('error', message, fields);
    this.show('error', message, fields);
  }
  metric(name: string, unit: 'Count' | 'Milliseconds', value: number, definition: string): void {
    void unit; // the local log shows the metric's name and value; its unit follows from the name
    this.sinks.log('metric', name, { value, definition });
  }
  private show(level: string, message: string, fields: LogFields = {}): void {
    const { workflow_id: workflowId, step_name: step, ...rest } = fields;
    const parts = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const text = `${level}: ${message}${parts.length ? ` (${parts.join(', ')})` : ''}`;
    if (typeof workflowId === 'string') this.sinks.note(workflowId, `${typeof step === 'string' ? `${step}: ` : ''}${text}`);
    else this.sinks.console(text);
  }
}
