import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WorkflowScheduleOptions } from './workflow-schedule';
import { SCHEDULE_NAME_PATTERN, SCHEDULED_START_KEY } from '../contract/status';
import { checkDurationRange, checkRange } from '../private/checks';
import { flattenReference } from '../private/grants';
import { acknowledgeFindings } from '../private/nag';

/** The largest workflow input the API takes (the runtime's MAX_INPUT_BYTES). */
const MAX_INPUT_BYTES = 32 * 1024;

export interface WorkflowSchedulesProps {
  /** The API function: the target of every schedule, which turns a tick into a workflow start. */
  readonly target: lambda.Function;
  /** The orchestrator's key: the schedules and the dead-letter queue are encrypted with it. */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The schedules of one orchestrator (not public: `DurableOrchestrator.addSchedule`), with what
 * they share: the role EventBridge Scheduler assumes (it may invoke the API function and send to
 * the dead-letter queue, nothing else), and the dead-letter queue of ticks that started nothing.
 */
export class WorkflowSchedules extends Construct {
  /** Ticks Scheduler could not deliver, and ticks the API function refused or failed to start. */
  public readonly deadLetterQueue: sqs.Queue;
  private readonly role: iam.Role;
  private readonly target: lambda.Function;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: WorkflowSchedulesProps) {
    super(scope, id);
    this.target = props.target;
    this.encryptionKey = props.encryptionKey;
    const stack = Stack.of(this);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: props.encryptionKey ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const dlqReason = 'This queue is the dead-letter queue of the workflow schedules (their DeadLetterConfig) and of the API function\'s '
      + 'asynchronous invocations; a dead-letter queue has no dead-letter queue (redrive policy) of its own.';
    acknowledgeFindings(this.deadLetterQueue, [{ id: 'AwsSolutions-SQS3', reason: dlqReason }, { id: 'Serverless-SQSRedrivePolicy', reason: dlqReason }]);
    this.role = new iam.Role(this, 'Role', {
      description: `Schedules of ${scope.node.path}: invoke its API function, send undelivered ticks to their dead-letter queue`,
      // Only EventBridge Scheduler of this account, for schedules of the default group.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    if (props.encryptionKey) {
      // The target's own grant on the queue is sqs:SendMessage only; a message to a queue under a
      // customer managed key needs a data key (and Decrypt to use it): nothing more of the key that
      // also protects the workflow table, artifacts and events.
      props.encryptionKey.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    const fnArn = flattenReference(stack.resolve(this.target.functionArn));
    acknowledgeFindings(this.role, [{
      id: `AwsSolutions-IAM5[Resource::${fnArn}:*]`,
      reason: 'lambda:InvokeFunction on the API function and its qualifiers (versions and aliases), the grant Lambda targets of EventBridge Scheduler get.',
    }]);
    // A tick the API function refuses (or cannot start) fails its asynchronous invocation: after
    // Lambda's retries it lands in the same queue, with the error, so a person sees every tick
    // that started nothing in one place.
    this.target.configureAsyncInvoke({ onFailure: new destinations.SqsDestination(this.deadLetterQueue), retryAttempts: 2 });
  }

  /** A schedule whose ticks invoke the API function with `{ scheduled_start: { schedule: id, scheduled_time, input } }`. */
  public add(owner: string, id: string, options: WorkflowScheduleOptions): scheduler.Schedule {
    if (!SCHEDULE_NAME_PATTERN.test(id)) {
      throw new Error(`${owner}: id is '${id}'; it must be 1 to 64 letters, digits, _, . and - (it names the schedule in each tick's `
        + 'idempotency key): pick an id such as \'NightlyDigest\'');
    }
    checkRange(owner, 'retryAttempts', options.retryAttempts, { min: 0, max: 185 });
    checkDurationRange(owner, 'maxEventAge', options.maxEventAge, { min: Duration.minutes(1), max: Duration.hours(24) });
    const input = workflowInput(owner, options.input);
    return new scheduler.Schedule(this, id, {
      schedule: options.schedule,
      description: options.description,
      enabled: options.enabled,
      key: this.encryptionKey,
      target: new schedulerTargets.LambdaInvoke(this.target, {
        role: this.role,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: options.retryAttempts ?? 3,
        maxEventAge: options.maxEventAge ?? Duration.hours(1),
        input: scheduler.ScheduleTargetInput.fromObject({
          [SCHEDULED_START_KEY]: { schedule: id, scheduled_time: scheduler.ContextAttribute.scheduledTime, input },
        }),
      }),
    });
  }
}

/** The schedule's input as an object, checked: the text of a JSON object of at most 32 KB. */
function workflowInput(owner: string, text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  const fix = 'pass the text of a JSON object, e.g. JSON.stringify({ topic: \'weekly digest\' }) (tokens only inside string values)';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const shown = Token.isUnresolved(text) && text.length > 40 ? `${text.slice(0, 40)}...` : text;
    throw new Error(`${owner}: input is not JSON (${(e as Error).message}), got '${shown}': ${fix}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${owner}: input must be a JSON object (the workflow input, as the body of POST /workflows), got ${text}: ${fix}`);
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_INPUT_BYTES) {
    throw new Error(`${owner}: input is ${bytes} bytes, over the ${MAX_INPUT_BYTES / 1024} KB the API takes for a workflow input: `
      + 'put large content in the artifact bucket and pass its key');
  }
  return value as Record<string, unknown>;
}
