import { Token } from 'aws-cdk-lib';

/**
 * Throws unless `value` is a whole number from `min` to `max`; `undefined` (not given) and tokens
 * pass. The message names the owner, the prop, the value, the range and the fix.
 */
export function checkWholeNumber(owner: string, prop: string, value: number | undefined, min: number, max: number, fix: string): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${owner}: ${prop} is ${value}; it must be a whole number from ${min} to ${max}: ${fix}`);
  }
}
