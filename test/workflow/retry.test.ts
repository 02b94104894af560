import { Duration, Lazy } from 'aws-cdk-lib';
import { RetryPolicy } from '../../src/workflow';

describe('RetryPolicy', () => {
  test('exponential() defaults: 3 attempts, 10 seconds, doubling, at most 5 minutes', () => {
    const policy = RetryPolicy.exponential();
    expect(policy._render('x')).toEqual({ maxAttempts: 3, initialDelaySeconds: 10, backoffRate: 2, maxDelaySeconds: 300 });
    expect(policy.maxAttempts).toBe(3);
    expect(policy.initialDelay.toSeconds()).toBe(10);
    expect(policy.maxDelay.toMinutes()).toBe(5);
    expect(policy.backoffRate).toBe(2);
  });

  test('exponential() with every option', () => {
    expect(RetryPolicy.exponential({
      maxAttempts: 10, initialDelay: Duration.minutes(1), backoffRate: 1.5, maxDelay: Duration.days(1),
    })._render('x')).toEqual({ maxAttempts: 10, initialDelaySeconds: 60, backoffRate: 1.5, maxDelaySeconds: 86400 });
  });

  test('none() is a single attempt', () => {
    expect(RetryPolicy.none()._render('x')).toEqual({ maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 });
  });

  test.each([0, 11, 2.5])('maxAttempts must be a whole number from 1 to 10 (%s)', (maxAttempts) => {
    expect(() => RetryPolicy.exponential({ maxAttempts }))
      .toThrow(new RegExp(`^RetryPolicy.exponential: maxAttempts \\(max_attempts in Python\\) is ${maxAttempts}; it must be a whole number from 1 to 10: pass the number of attempts`));
  });

  test('delays are from 0 to 1 day, in whole seconds', () => {
    expect(() => RetryPolicy.exponential({ initialDelay: Duration.days(2) }))
      .toThrow(/^RetryPolicy.exponential: initialDelay \(initial_delay in Python\) is 2 days; a retry delay must be between 0 seconds and 1 day: set initialDelay in that range/);
    expect(() => RetryPolicy.exponential({ maxDelay: Duration.hours(25) }))
      .toThrow(/^RetryPolicy.exponential: maxDelay \(max_delay in Python\) is 1 day 1 hour; a retry delay must be between 0 seconds and 1 day/);
    expect(() => RetryPolicy.exponential({ initialDelay: Duration.millis(1500) }))
      .toThrow(/^RetryPolicy.exponential: initialDelay \(initial_delay in Python\) is 1.5 seconds, not a whole number of seconds: round it to whole seconds/);
    expect(() => RetryPolicy.exponential({ initialDelay: Duration.seconds(0), maxDelay: Duration.days(1) })).not.toThrow();
  });

  test('backoffRate is at least 1', () => {
    expect(() => RetryPolicy.exponential({ backoffRate: 0.5 }))
      .toThrow(/^RetryPolicy.exponential: backoffRate \(backoff_rate in Python\) is 0.5; below 1 the delays would shrink: pass 1 \(constant delay\) or more/);
    expect(() => RetryPolicy.exponential({ backoffRate: Number.NaN })).toThrow(/backoffRate \(backoff_rate in Python\) is NaN/);
    expect(RetryPolicy.exponential({ backoffRate: 1 })._render('x').backoffRate).toBe(1);
  });

  test('tokens are not checked eagerly, but cannot be rendered', () => {
    const policy = RetryPolicy.exponential({
      maxAttempts: Lazy.number({ produce: () => 99 }),
      initialDelay: Duration.seconds(Lazy.number({ produce: () => 1 })),
    });
    expect(() => policy._render('AgentStep \'a\'')).toThrow(/^AgentStep 'a': retry maxAttempts \(max_attempts in Python\) is an unresolved token/);
  });
});
