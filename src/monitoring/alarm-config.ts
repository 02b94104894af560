import { Duration } from 'aws-cdk-lib';

/**
 * The settings of one named alarm of a construct (`alarms: { workflowsFailed: { threshold: 3 } }`).
 * Every member is optional: what is left out takes the alarm's own default, documented with the
 * construct's alarms prop (for example `OrchestratorAlarms.workflowsFailed`).
 */
export interface AlarmConfig {
  /**
   * Whether to create the alarm. Set `false` to leave out an alarm the construct creates by
   * default, or `true` to add one it leaves out by default.
   *
   * @default - the alarm's default (see the construct's alarms prop)
   */
  readonly enabled?: boolean;

  /**
   * The threshold the metric is compared with, in the metric's unit (count, percent,
   * milliseconds, bytes: see the alarm's documentation).
   *
   * @default - the alarm's default threshold
   */
  readonly threshold?: number;

  /**
   * How many periods are evaluated.
   *
   * @default - the alarm's default (1 for errors, 3 for saturation such as CPU)
   */
  readonly evaluationPeriods?: number;

  /**
   * How many of the evaluated periods must breach for the alarm to fire.
   *
   * @default - the same as `evaluationPeriods`
   */
  readonly datapointsToAlarm?: number;

  /**
   * The period over which the metric is aggregated.
   *
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;

  /**
   * The alarm's name.
   *
   * @default - `<stack>-<construct path>-<hash>-<Alarm>`, unique in the account and region
   */
  readonly alarmName?: string;
}
