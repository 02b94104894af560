/**
 * The range checks of every construct's props: one message shape, tokens skipped. Not public.
 *
 * A number: `Owner: prop is 3; it must be a whole number from 0 to 2: <fix>`.
 * A Duration: `Owner: prop is 20 minutes; it must be between 1 second and 15 minutes: <fix>`, or
 * `Owner: prop is 2.5 seconds, not a whole number of seconds: round it to whole seconds`.
 *
 * Props are named for both readers of the bindings: the first time a message names a prop it
 * gives the TypeScript name and, where jsii spells it differently, the Python one
 * (`maxAzs (max_azs in Python) is 4; ...: set maxAzs in that range`); see `propName` in
 * ../contract/validate.ts, which the runtime's checks of a definition use too.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { humanDuration, humanRange, propName } from '../contract/validate';

export { propName, pythonName } from '../contract/validate';

/** Bounds of a number. */
export interface RangeOptions {
  /** Smallest allowed value. */
  readonly min: number;
  /** Largest allowed value. */
  readonly max: number;
  /**
   * Whether `min` itself is refused (a rate that must be above 0).
   * @default false
   */
  readonly minExclusive?: boolean;
  /**
   * Unit written after the bounds (`requests per second`); leave it out when the prop's name
   * carries it (`memoryLimitMiB`).
   * @default - none
   */
  readonly unit?: string;
  /**
   * Whether the value must be a whole number.
   * @default true
   */
  readonly integer?: boolean;
  /**
   * What to do about it, the end of the message.
   * @default - `set <prop> in that range`
   */
  readonly fix?: string;
}

/**
 * Throws unless `value` is from `min` to `max` (and a whole number, unless `integer` is false);
 * `undefined` (not given) and tokens pass. The message names the owner, the prop, the value
 * received, the range and the fix.
 */
export function checkRange(owner: string, prop: string, value: number | undefined, options: RangeOptions): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  const integer = options.integer ?? true;
  const ok = integer ? Number.isInteger(value) : Number.isFinite(value);
  const aboveMin = options.minExclusive ? value > options.min : value >= options.min;
  if (ok && aboveMin && value <= options.max) return;
  const unit = options.unit ? ` ${options.unit}` : '';
  const range = options.minExclusive ? `above ${options.min} and at most ${options.max}` : `from ${options.min} to ${options.max}`;
  throw new Error(`${owner}: ${propName(prop)} is ${value}; it must be ${integer ? 'a whole number ' : ''}${range}${unit}: `
    + `${options.fix ?? `set ${prop} in that range`}`);
}

/** Bounds of a Duration. */
export interface DurationRangeOptions {
  /** Shortest allowed duration. */
  readonly min: Duration;
  /** Longest allowed duration. */
  readonly max: Duration;
  /**
   * The unit the duration must be a whole number of (what the service takes).
   * @default 'seconds'
   */
  readonly whole?: 'seconds' | 'days';
  /**
   * Subject of the range sentence, e.g. `an approval's timeout`.
   * @default 'it'
   */
  readonly subject?: string;
  /**
   * What to do about it, the end of the message.
   * @default - `set <prop> in that range`
   */
  readonly fix?: string;
}

/**
 * Throws unless `d` is a whole number of seconds (or days) from `min` to `max`; `undefined` and
 * tokens pass. The message names the owner, the prop, the duration received, the range and the fix.
 */
export function checkDurationRange(owner: string, prop: string, d: Duration | undefined, options: DurationRangeOptions): void {
  if (d === undefined || d.isUnresolved()) return;
  const whole = options.whole ?? 'seconds';
  const seconds = d.toMilliseconds({ integral: false }) / 1000;
  const unitSeconds = whole === 'days' ? 86_400 : 1;
  if (!Number.isInteger(seconds / unitSeconds)) {
    throw new Error(`${owner}: ${propName(prop)} is ${humanDuration(seconds)}, not a whole number of ${whole}: round it to whole ${whole}`
      + (whole === 'days' ? ' (Duration.days(n))' : ''));
  }
  const min = options.min.toMilliseconds({ integral: false }) / 1000;
  const max = options.max.toMilliseconds({ integral: false }) / 1000;
  if (seconds >= min && seconds <= max) return;
  const range = whole === 'days' ? `between ${min / unitSeconds} and ${max / unitSeconds} days` : humanRange(min, max);
  throw new Error(`${owner}: ${propName(prop)} is ${humanDuration(seconds)}; ${options.subject ?? 'it'} must be ${range}: `
    + `${options.fix ?? `set ${prop} in that range`}`);
}
