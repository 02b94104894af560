/**
 * The one way the constructs build their alarms: each construct lists its named alarms with their
 * defaults (`AlarmSpec`), the user's `AlarmConfig` overrides any of them, and every alarm created
 * notifies the construct's `alarmActions`. Not public.
 */
import { Duration, Names, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { checkDurationRange, checkRange } from './checks';
import type { AlarmConfig } from '../monitoring/alarm-config';
import type { AlarmDestination } from '../monitoring/alarm-destination';

/** One named alarm a construct offers, with its defaults. */
export interface AlarmSpec {
  /** The key of the alarm in the construct's alarms prop, e.g. `workflowsFailed`. */
  readonly key: string;
  /** The alarm's name suffix and construct id prefix, e.g. `WorkflowsFailed` (construct id `WorkflowsFailedAlarm`). */
  readonly name: string;
  /** What breaching means, for the alarm description. */
  readonly description: string;
  /** The metric, for the period given (the user's or the default). */
  readonly metric: (period: Duration) => cloudwatch.IMetric;
  readonly comparison: cloudwatch.ComparisonOperator;
  readonly threshold: number;
  /** Whether the alarm is created when its config does not say. */
  readonly enabled: boolean;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default Duration.minutes(5) */
  readonly period?: Duration;
  /** @default NOT_BREACHING (no data is no failure) */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
}

/** The alarms of one construct: its specs, the user's configs by key, and where they notify. */
export interface AlarmsOptions {
  /** The construct's name in messages, e.g. `DurableOrchestrator`. */
  readonly owner: string;
  /** The name of the alarms prop in messages, e.g. `alarms`. */
  readonly prop: string;
  readonly specs: AlarmSpec[];
  readonly configs?: { readonly [key: string]: AlarmConfig | undefined };
  readonly destination?: AlarmDestination;
  /** Keys of alarms created by another call (e.g. with a resource made later), accepted and named in messages. */
  readonly laterKeys?: string[];
}

/**
 * Creates the enabled alarms under `scope` (ids `<Name>Alarm`), named
 * `<unique name of scope>-<Name>` unless the config names them, each notifying `destination`.
 * A config key that names no alarm is refused (a typo would otherwise silently do nothing).
 */
export function createAlarms(scope: Construct, options: AlarmsOptions): cloudwatch.Alarm[] {
  const configs = options.configs ?? {};
  const known = new Set([...options.specs.map((s) => s.key), ...options.laterKeys ?? []]);
  for (const [key, value] of Object.entries(configs)) {
    if (value !== undefined && !known.has(key)) {
      throw new Error(`${options.owner}: ${options.prop}.${key} names no alarm; the alarms are ${[...known].join(', ')}`);
    }
  }
  const alarms: cloudwatch.Alarm[] = [];
  for (const spec of options.specs) {
    const config = configs[spec.key] ?? {};
    if (!(config.enabled ?? spec.enabled)) continue;
    const where = `${options.prop}.${spec.key}`;
    checkRange(options.owner, `${where}.evaluationPeriods`, config.evaluationPeriods, { min: 1, max: 100, fix: 'CloudWatch evaluates from 1 to 100 periods' });
    const evaluationPeriods = config.evaluationPeriods ?? spec.evaluationPeriods ?? 1;
    checkRange(options.owner, `${where}.datapointsToAlarm`, config.datapointsToAlarm, {
      min: 1, max: evaluationPeriods, fix: `an alarm fires on at most as many datapoints as it evaluates (evaluationPeriods: ${evaluationPeriods})`,
    });
    checkDurationRange(options.owner, `${where}.period`, config.period, {
      min: Duration.minutes(1), max: Duration.days(1), subject: 'an alarm period', fix: 'use a whole number of minutes from 1 minute to 1 day',
    });
    if (config.period && !config.period.isUnresolved() && config.period.toSeconds() % 60 !== 0) {
      throw new Error(`${options.owner}: ${where}.period must be a whole number of minutes (a multiple of 60 seconds): use Duration.minutes(n)`);
    }
    if (config.threshold !== undefined && !Token.isUnresolved(config.threshold) && !Number.isFinite(config.threshold)) {
      throw new Error(`${options.owner}: ${where}.threshold is ${config.threshold}; give a finite number`);
    }
    const period = config.period ?? spec.period ?? Duration.minutes(5);
    if (!period.isUnresolved() && !Token.isUnresolved(evaluationPeriods)) {
      // CloudWatch refuses an alarm that looks back further than a day (periods under an hour) or a week.
      const seconds = period.toSeconds();
      const limit = seconds < 3600 ? 86_400 : 604_800;
      if (seconds * evaluationPeriods > limit) {
        throw new Error(`${options.owner}: ${where} evaluates ${evaluationPeriods} periods of ${seconds / 60} minutes (${seconds * evaluationPeriods / 3600} hours); `
          + `CloudWatch allows at most ${limit / 3600} hours (period times evaluationPeriods) for periods ${seconds < 3600 ? 'under an hour' : 'of an hour or more'}: `
          + `lower ${where}.evaluationPeriods to ${Math.floor(limit / seconds)} or less, or shorten ${where}.period`);
      }
    }
    const alarm = new cloudwatch.Alarm(scope, `${spec.name}Alarm`, {
      alarmName: config.alarmName ?? `${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}-${spec.name}`,
      alarmDescription: spec.description,
      metric: spec.metric(period),
      threshold: config.threshold ?? spec.threshold,
      comparisonOperator: spec.comparison,
      evaluationPeriods,
      datapointsToAlarm: config.datapointsToAlarm,
      treatMissingData: spec.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    options.destination?.addTo(alarm);
    alarms.push(alarm);
  }
  return alarms;
}
