import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE } from '../contract/status';

/** Structured fields every runtime log line may carry. */
export interface LogFields {
  readonly workflow_id?: string;
  readonly step_name?: string;
  readonly event_type?: string;
  readonly [key: string]: unknown;
}

/** Logs and metrics, so that the controller and API do not depend on where they run. */
export interface Telemetry {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Counts or durations (milliseconds), dimensioned by workflow definition name. */
  metric(name: string, unit: 'Count' | 'Milliseconds', value: number, definition: string): void;
}

/**
 * Powertools for AWS Lambda: JSON logs with workflow_id/step_name/event_type keys, EMF metrics.
 * The Powertools modules load with the first log line or metric, not with the handler (an API
 * request that succeeds logs nothing).
 */
export class PowertoolsTelemetry implements Telemetry {
  private made?: { readonly logger: Logger; readonly metrics: Metrics };

  constructor(private readonly serviceName: string) {}

  info(message: string, fields: LogFields = {}): void {
    this.tools().logger.info(message, { ...fields });
  }
  warn(message: string, fields: LogFields = {}): void {
    this.tools().logger.warn(message, { ...fields });
  }
  error(message: string, fields: LogFields = {}): void {
    this.tools().logger.error(message, { ...fields });
  }
  metric(name: string, unit: 'Count' | 'Milliseconds', value: number, definition: string): void {
    const single = this.tools().metrics.singleMetric();
    single.addDimension('workflow', definition);
    // The unit's text is the MetricUnit value ('Count', 'Milliseconds').
    single.addMetric(name, unit as Parameters<Metrics['addMetric']>[1], value);
  }

  private tools(): { readonly logger: Logger; readonly metrics: Metrics } {
    if (!this.made) {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { Logger: PowertoolsLogger } = require('@aws-lambda-powertools/logger') as typeof import('@aws-lambda-powertools/logger');
      const { Metrics: PowertoolsMetrics } = require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics');
      /* eslint-enable @typescript-eslint/no-require-imports */
      this.made = {
        logger: new PowertoolsLogger({ serviceName: this.serviceName }),
        metrics: new PowertoolsMetrics({ namespace: METRIC_NAMESPACE, serviceName: this.serviceName }),
      };
    }
    return this.made;
  }
}

/** Collects everything in memory (tests) or forwards to a sink (local server). */
export class RecordingTelemetry implements Telemetry {
  public readonly logs: Array<{ level: string; message: string; fields: LogFields }> = [];
  public readonly metrics: Array<{ name: string; value: number; definition: string }> = [];

  constructor(private readonly sink?: (level: string, message: string, fields: LogFields) => void) {}

  info(message: string, fields: LogFields = {}): void {
    this.record('info', message, fields);
  }
  warn(message: string, fields: LogFields = {}): void {
    this.record('warn', message, fields);
  }
  error(message: string, fields: LogFields = {}): void {
    this.record('error', message, fields);
  }
  metric(name: string, unit: 'Count' | 'Milliseconds', value: number, definition: string): void {
    void unit; // every metric this runtime records is a count or a duration of its name; the tests need no unit
    this.metrics.push({ name, value, definition });
  }
  private record(level: string, message: string, fields: LogFields): void {
    if (this.logs.length < 10_000) this.logs.push({ level, message, fields });
    this.sink?.(level, message, fields);
  }
}
