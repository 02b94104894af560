/**
 * Structured logs: one JSON object a line on stderr, with the task's workflow id, step name
 * and agent, so the lines of one task can be found among many. Tokens are never logged.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Fields every line of a task carries. */
export interface LogContext {
  readonly workflow_id?: string;
  readonly step_name?: string;
  readonly agent?: string;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry these fields too. */
  child(context: LogContext): Logger;
}

export interface LoggerOptions {
  /** Lowest level written. @default AGENT_LOG_LEVEL, or 'info' */
  readonly level?: LogLevel;
  /** Where a line goes. @default stderr */
  readonly write?: (line: string) => void;
}

/** Creates a logger for one task (or for an agent before its envelope is known). */
export function createLogger(context: LogContext = {}, options: LoggerOptions = {}): Logger {
  const fromEnv = process.env.AGENT_LOG_LEVEL?.toLowerCase();
  const level: LogLevel = options.level ?? (fromEnv && fromEnv in LEVELS ? fromEnv as LogLevel : 'info');
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const make = (ctx: LogContext): Logger => {
    const log = (lvl: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
      if (LEVELS[lvl] < LEVELS[level]) return;
      const line: Record<string, unknown> = {
        time: new Date().toISOString(),
        level: lvl,
        message,
        workflow_id: ctx.workflow_id ?? null,
        step_name: ctx.step_name ?? null,
        agent: ctx.agent ?? null,
      };
      for (const [k, v] of Object.entries(fields)) {
        if (!(k in line)) line[k] = v instanceof Error ? v.message : v;
      }
      write(JSON.stringify(line));
    };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => make({ ...ctx, ...more }),
    };
  };
  return make(context);
}
