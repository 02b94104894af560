/**
 * Eager checks of single props of the definition classes, and rendering helpers. Not public:
 * whole-definition checks live in ../contract/validate.ts, shared with the runtime.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { nameProblem, pathProblem } from '../contract/validate';
import { checkDurationRange, checkRange, propName } from '../private/checks';

/**
 * A value that is still a token when the definition is rendered. The definition is plain JSON
 * written at synth, so it needs concrete values.
 */
export class UnresolvedValueError extends Error {
  constructor(owner: string, prop: string) {
    super(`${owner}: ${propName(prop)} is an unresolved token, but a workflow definition is rendered to JSON at synth and needs a concrete value: `
      + `pass a literal ${prop} (for example Duration.hours(1)) rather than one from a parameter or another resource`);
    this.name = 'UnresolvedValueError';
  }
}

/** Throws when `name` is not a valid step or branch name (tokens are skipped). */
export function checkName(owner: string, prop: string, name: string): void {
  if (Token.isUnresolved(name)) return;
  if (name.length === 0) {
    throw new Error(`${owner}: ${propName(prop)} is empty: pass a name of letters, digits, '-' and '_' that starts with a letter (at most 63 characters)`);
  }
  const problem = nameProblem(name);
  if (problem) throw new Error(`${owner}: ${problem.replace(/^name /, `${propName(prop)} `)}`);
}

/** Throws when `path` is not a valid dot path. */
export function checkPath(owner: string, prop: string, path: string, allowEmpty: boolean): void {
  if (Token.isUnresolved(path)) return;
  const problem = pathProblem(path, allowEmpty);
  if (problem) throw new Error(`${owner}: ${propName(prop)} ${problem}`);
}

/*
 * The two range checks below are the shared ones of ../private/checks.ts in the positional form
 * the definition classes call; the limits come from LIMITS in ../contract/validate.ts, which the
 * runtime checks the rendered definition against with the same wording.
 */

/** Throws unless `d` is a whole number of seconds from `minSeconds` to `maxSeconds` (tokens are skipped). */
export function checkDuration(owner: string, prop: string, d: Duration, minSeconds: number, maxSeconds: number, what: string): void {
  checkDurationRange(owner, prop, d, { min: Duration.seconds(minSeconds), max: Duration.seconds(maxSeconds), subject: what });
}

/** Throws unless `value` is a whole number from `min` to `max` (`undefined` and tokens pass). */
export function checkWholeNumber(owner: string, prop: string, value: number | undefined, min: number, max: number, fix: string): void {
  checkRange(owner, prop, value, { min, max, fix });
}

/** The seconds of a Duration for the document; throws `UnresolvedValueError` on a token. */
export function renderSeconds(owner: string, prop: string, d: Duration): number {
  if (d.isUnresolved()) throw new UnresolvedValueError(owner, prop);
  return d.toMilliseconds() / 1000;
}

/** A number for the document; throws `UnresolvedValueError` on a token. */
export function renderNumber(owner: string, prop: string, n: number): number {
  if (Token.isUnresolved(n)) throw new UnresolvedValueError(owner, prop);
  return n;
}
