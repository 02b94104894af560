import { Duration } from 'aws-cdk-lib';
import { checkDuration, checkWholeNumber, renderNumber, renderSeconds } from './checks';
import { LIMITS } from '../contract/definition';
import type { RetryDocument } from '../contract/definition';
import { propName } from '../private/checks';
import { checkBuiltByFactory } from '../private/closed-class';

/** Options of an exponential retry policy. */
export interface ExponentialRetryProps {
  /**
   * Attempts in all, the first one included (1 to 10).
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Delay before the second attempt.
   * @default Duration.seconds(10)
   */
  readonly initialDelay?: Duration;
  /**
   * Factor each delay is multiplied by for the next one (at least 1).
   * @default 2
   */
  readonly backoffRate?: number;
  /**
   * Longest delay between two attempts.
   * @default Duration.minutes(5)
   */
  readonly maxDelay?: Duration;
}

/** How an agent step retries a failed or timed-out attempt. */
export class RetryPolicy {
  /** A single attempt: no retry. */
  public static none(): RetryPolicy {
    return new RetryPolicy(1, Duration.seconds(0), 1, Duration.seconds(0));
  }

  /** Retry with exponentially growing delays. */
  public static exponential(props: ExponentialRetryProps = {}): RetryPolicy {
    const owner = 'RetryPolicy.exponential';
    const maxAttempts = props.maxAttempts ?? 3;
    const initialDelay = props.initialDelay ?? Duration.seconds(10);
    const backoffRate = props.backoffRate ?? 2;
    const maxDelay = props.maxDelay ?? Duration.minutes(5);
    checkWholeNumber(owner, 'maxAttempts', maxAttempts, 1, LIMITS.maxRetryAttempts,
      'pass the number of attempts in all, the first one included (RetryPolicy.none() for a single attempt)');
    checkDuration(owner, 'initialDelay', initialDelay, 0, LIMITS.maxRetryDelaySeconds, 'a retry delay');
    checkDuration(owner, 'maxDelay', maxDelay, 0, LIMITS.maxRetryDelaySeconds, 'a retry delay');
    if (!Number.isFinite(backoffRate) || backoffRate < 1) {
      throw new Error(`${owner}: ${propName('backoffRate')} is ${backoffRate}; below 1 the delays would shrink: pass 1 (constant delay) or more`);
    }
    return new RetryPolicy(maxAttempts, initialDelay, backoffRate, maxDelay);
  }

  /** Attempts in all, the first one included. */
  public readonly maxAttempts: number;
  /** Delay before the second attempt. */
  public readonly initialDelay: Duration;
  /** Factor each delay is multiplied by for the next one. */
  public readonly backoffRate: number;
  /** Longest delay between two attempts. */
  public readonly maxDelay: Duration;

  private constructor(maxAttempts: number, initialDelay: Duration, backoffRate: number, maxDelay: Duration) {
    checkBuiltByFactory('RetryPolicy', maxAttempts, 'RetryPolicy.none() or RetryPolicy.exponential()');
    this.maxAttempts = maxAttempts;
    this.initialDelay = initialDelay;
    this.backoffRate = backoffRate;
    this.maxDelay = maxDelay;
  }

  /** @internal */
  public _render(owner: string): RetryDocument {
    return {
      maxAttempts: renderNumber(owner, 'retry maxAttempts', this.maxAttempts),
      initialDelaySeconds: renderSeconds(owner, 'retry initialDelay', this.initialDelay),
      backoffRate: this.backoffRate,
      maxDelaySeconds: renderSeconds(owner, 'retry maxDelay', this.maxDelay),
    };
  }
}
