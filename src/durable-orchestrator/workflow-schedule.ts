import { Duration } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';

/**
 * A schedule that starts a workflow (`DurableOrchestrator.addSchedule`): when, with which input,
 * and how EventBridge Scheduler retries a tick it could not deliver.
 */
export interface WorkflowScheduleOptions {
  /**
   * When the workflow starts: `ScheduleExpression.cron({ minute: '0', hour: '6' })`,
   * `ScheduleExpression.rate(Duration.days(1))` or `ScheduleExpression.at(date)`. A cron or a
   * one-time expression takes its time zone (`timeZone`) in the expression itself.
   */
  readonly schedule: scheduler.ScheduleExpression;

  /**
   * The input of every workflow the schedule starts: the text of a JSON object, as the body of
   * `POST /workflows` (in TypeScript `JSON.stringify({ topic: 'weekly digest' })`, in Python
   * `json.dumps({...})`). It is checked at synth (a JSON object, at most 32 KB); the API
   * function checks it at each tick as it checks `POST /workflows` (fields the steps read, depth)
   * and refuses a tick whose input it would refuse. Tokens may appear inside string values.
   *
   * @default '{}' - an empty input (for a workflow whose steps read no input field)
   */
  readonly input?: string;

  /**
   * A description of the schedule.
   * @default - no description
   */
  readonly description?: string;

  /**
   * Whether the schedule is enabled.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * How many times EventBridge Scheduler retries a tick it could not deliver to the API function
   * (0 to 185). A tick still undelivered goes to the schedules' dead-letter queue.
   * @default 3
   */
  readonly retryAttempts?: number;

  /**
   * How long after its scheduled time EventBridge Scheduler still tries to deliver a tick
   * (1 minute to 24 hours); past it, the tick goes to the schedules' dead-letter queue.
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;
}
