import { createHash } from 'crypto';
import { Aspects, Duration, IAspect, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeFindings } from '../private/nag';
import { isThrowaway, removalPolicyOf } from '../private/throwaway';

/** Options of `AlarmDestination.email`. */
export interface EmailAlarmDestinationOptions {
  /**
   * The key that encrypts the topic the destination creates. CloudWatch must be able to use it: a
   * key of the app (`new kms.Key`) gets the key policy statement allowing `cloudwatch.amazonaws.com`
   * of its account `kms:Decrypt` and `kms:GenerateDataKey*`; an imported key's policy must already
   * allow that.
   *
   * @default - a customer managed key with rotation, one per stack and address (retained when the
   * stack is deleted, unless the throwaway switch is on: `Throwaway.enable(stack)`)
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * Where the alarms of a construct notify: an SNS topic of yours, or an email address (for which
 * the destination creates an encrypted topic with the address subscribed, once per stack).
 *
 * Give it to a construct's `alarmActions` prop, or to every alarm under a scope (the library's and
 * your own) with `destination.notifyAlarmsIn(stack)`.
 *
 * Extensible, in TypeScript and in Python: a subclass implements `topicFor` (Python `topic_for`),
 * the only member the library calls on a destination, and returns the topic the alarms under the
 * given scope publish to (for example one topic per stack, or a topic an incident tool subscribes
 * to). The topic's key policy, if it is encrypted, must let CloudWatch use the key (see `topic`).
 */
export abstract class AlarmDestination {
  /**
   * Alarms publish to `topic`. If the topic is encrypted with a customer managed key, the key
   * policy must let `cloudwatch.amazonaws.com` use it (`kms:Decrypt`, `kms:GenerateDataKey*`);
   * an AWS managed key (`alias/aws/sns`) cannot be used by CloudWatch alarms.
   *
   * @param topic the topic alarms publish to
   */
  public static topic(topic: sns.ITopic): AlarmDestination {
    return new TopicDestination(topic);
  }

  /**
   * Alarms publish to a topic the destination creates in the stack of the first alarm that uses it
   * (one per stack and address), encrypted with a customer managed key and refusing requests
   * without TLS, with `address` subscribed. AWS sends a confirmation email to the address; nothing
   * is delivered until it is confirmed.
   *
   * @param address the email address to notify, e.g. `oncall@example.com`
   */
  public static email(address: string, options: EmailAlarmDestinationOptions = {}): AlarmDestination {
    if (!Token.isUnresolved(address) && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
      throw new Error(`AlarmDestination.email: '${address}' is not an email address; give one such as 'oncall@example.com', `
        + 'or use AlarmDestination.topic(topic) for a topic of yours');
    }
    return new EmailDestination(address, options);
  }

  /** For subclasses: a destination of your own implements `topicFor`. */
  public constructor() {}

  /**
   * The topic alarms under `scope` publish to (created on first use for an email destination).
   * Called once per alarm, with the alarm as `scope`.
   *
   * @param scope a construct in the stack of the alarms
   */
  public abstract topicFor(scope: IConstruct): sns.ITopic;

  /**
   * Makes every CloudWatch alarm under `scope` notify this destination when it goes into ALARM:
   * the alarms of this library's constructs and your own, created before or after this call.
   * An alarm that notifies the destination's topic already (through a construct's `alarmActions`,
   * with this destination or another of the same topic or address) is not given it twice.
   *
   * @param scope a stack, a stage or the app
   */
  public notifyAlarmsIn(scope: IConstruct): void {
    Aspects.of(scope).add(new NotifyAlarms(this));
  }

  /**
   * Adds this destination's topic to `alarm`'s actions, unless the alarm notifies that topic
   * already (through this destination or another one of the same topic or address).
   *
   * @param alarm the alarm that notifies this destination
   */
  public addTo(alarm: cloudwatch.Alarm): void {
    const topic = this.topicFor(alarm);
    if (!topic || typeof topic.topicArn !== 'string') {
      throw new Error(`${this.constructor.name}.topicFor returned ${topic === undefined || topic === null ? String(topic) : typeof topic} for the alarm `
        + `'${alarm.node.path}'; return an SNS topic (sns.ITopic), e.g. sns.Topic.fromTopicArn(scope, 'Alarms', arn)`);
    }
    // By topic, not by destination: two destinations of one address share a topic.
    let given = TOPICS_GIVEN.get(alarm);
    if (!given) TOPICS_GIVEN.set(alarm, given = new Set());
    const identity = Token.isUnresolved(topic.topicArn) ? topic.node.path : topic.topicArn;
    if (given.has(identity)) return;
    given.add(identity);
    alarm.addAlarmAction(new cwActions.SnsAction(topic));
  }
}

/** The topics each alarm notifies (by node path, or ARN for an imported topic), so that none is added twice. */
const TOPICS_GIVEN = new WeakMap<cloudwatch.Alarm, Set<string>>();

class TopicDestination extends AlarmDestination {
  constructor(private readonly topic: sns.ITopic) {
    super();
  }

  public topicFor(scope: IConstruct): sns.ITopic {
    void scope; // the same topic, whichever alarms publish to it
    return this.topic;
  }
}

let tokenDestinations = 0;

class EmailDestination extends AlarmDestination {
  private readonly topics = new Map<Stack, sns.ITopic>();

  /** What names the topic's construct: the address, or (for a token) this destination. */
  private readonly identity: string;

  constructor(private readonly address: string, private readonly options: EmailAlarmDestinationOptions) {
    super();
    this.identity = Token.isUnresolved(address) ? `token-destination-${++tokenDestinations}` : address.toLowerCase();
  }

  public topicFor(scope: IConstruct): sns.ITopic {
    const stack = Stack.of(scope);
    const existing = this.topics.get(stack);
    if (existing) return existing;
    // One topic per stack and address; the id carries a hash of the address so that two
    // destinations with different addresses do not collide.
    const id = `AlarmEmail${createHash('sha256').update(this.identity).digest('hex').slice(0, 8)}`;
    const holder = (stack.node.tryFindChild(id) as Construct | undefined) ?? new Construct(stack, id);
    const reused = holder.node.tryFindChild('Topic') as sns.ITopic | undefined;
    if (reused) {
      this.topics.set(stack, reused);
      return reused;
    }
    const key = allowCloudWatch(this.options.encryptionKey ?? new kms.Key(holder, 'Key', {
      enableKeyRotation: true,
      description: `Encrypts the alarm topic that emails ${this.address}`,
      // Kept by default, as CDK keeps keys; a throwaway stack (Throwaway.enable) deletes it.
      removalPolicy: removalPolicyOf(stack, undefined, RemovalPolicy.RETAIN),
      pendingWindow: isThrowaway(stack) ? Duration.days(7) : undefined,
    }));
    const topic = new sns.Topic(holder, 'Topic', { masterKey: key, enforceSSL: true, displayName: 'CloudWatch alarms' });
    topic.addSubscription(new subscriptions.EmailSubscription(this.address));
    acknowledgeFindings(holder, [{
      id: 'Serverless-SNSRedrivePolicy',
      reason: 'An email subscription of alarm notifications: a dead-letter queue would hold notifications nobody reads; the alarm state stays in CloudWatch and the alarm history keeps every transition.',
    }]);
    this.topics.set(stack, topic);
    return topic;
  }
}

const keysAllowingCloudWatch = new WeakSet<kms.IKey>();

/**
 * CloudWatch publishes alarm notifications to an encrypted topic as itself: the key policy must let
 * `cloudwatch.amazonaws.com` of the key's account use the key. Added once per key; a no-op on an
 * imported key, whose policy the user sets (the option's docs say so).
 */
function allowCloudWatch(key: kms.IKey): kms.IKey {
  if (keysAllowingCloudWatch.has(key)) return key;
  keysAllowingCloudWatch.add(key);
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(key).account } },
  }), /* allowNoOp */ true);
  return key;
}

class NotifyAlarms implements IAspect {
  constructor(private readonly destination: AlarmDestination) {}

  public visit(node: IConstruct): void {
    if (node instanceof cloudwatch.Alarm) this.destination.addTo(node);
  }
}
