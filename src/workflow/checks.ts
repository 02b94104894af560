/**
 * Eager checks of single props of the definition classes, and rendering helpers. Not public:
 * whole-definition checks live in ../contract/validate.ts, shared with the runtime.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { humanDuration, humanRange, nameProblem, pathProblem } from '../contract/validate';

/**
 * A value that is still a token when the definition is rendered. The definition is plain JSON
 * written at synth, so it needs concrete values.
 */
export class UnresolvedValueError extends Error {
  constructor(owner: string, prop: string) {
    super(`${owner}: ${prop} is an unresolved token, but a workflow definition is rendered to JSON at synth and needs a concrete value: `
      + `pass a literal ${prop} (for example Duration.hours(1)) rather than one from a parameter or another resource`);
    this.name = 'UnresolvedValueError';
  }
}

/** Throws when `name` is not a valid step or branch name (tokens are skipped). */
export function checkName(owner: string, prop: string, name: string): void {
  if (Token.isUnresolved(name)) return;
  if (name.length === 0) {
    throw new Error(`${owner}: ${prop} is empty: pass a name of letters, digits, '-' and '_' that starts with a letter (at most 63 characters)`);
  }
  const problem = nameProblem(name);
  if (problem) throw new Error(`${owner}: ${problem.replace(/^name /, `${prop} `)}`);
}

/** Throws when `path` is not a valid dot path. */
export function checkPath(owner: string, prop: string, path: string, allowEmpty: boolean): void {
  if (Token.isUnresolved(path)) return;
  const problem = pathProblem(path, allowEmpty);
  if (problem) throw new Error(`${owner}: ${prop} ${problem}`);
}

/** Throws unless `d` is a whole number of seconds from `minSeconds` to `maxSeconds` (tokens are skipped). */
export function checkDuration(owner: string, prop: string, d: Duration, minSeconds: number, maxSeconds: number, what: string): void {
  if (d.isUnresolved()) return;
  const ms = d.toMilliseconds();
  if (ms % 1000 !== 0) {
    throw new Error(`${owner}: ${prop} is ${humanDuration(ms / 1000)}, not a whole number of seconds: round it to whole seconds`);
  }
  const seconds = ms / 1000;
  if (seconds < minSeconds || seconds > maxSeconds) {
    throw new Error(`${owner}: ${prop} is ${humanDuration(seconds)}; ${what} must be ${humanRange(minSeconds, maxSeconds)}: `
      + `set ${prop} in that range`);
  }
}

export { checkWholeNumber } from '../private/checks';

/** The seconds of a Duration for the document; throws {@link UnresolvedValueError} on a token. */
export function renderSeconds(owner: string, prop: string, d: Duration): number {
  if (d.isUnresolved()) throw new UnresolvedValueError(owner, prop);
  return d.toMilliseconds() / 1000;
}

/** A number for the document; throws {@link UnresolvedValueError} on a token. */
export function renderNumber(owner: string, prop: string, n: number): number {
  if (Token.isUnresolved(n)) throw new UnresolvedValueError(owner, prop);
  return n;
}
