/**
 * Checks shared by the local and AWS adapters and the API, so that both homes of the runtime
 * accept and refuse the same inputs. Pure functions: no I/O, no AWS SDK.
 */
import { InvalidPageTokenError } from './ports';

/** Longest artifact key accepted (S3's limit, in UTF-8 bytes). */
export const MAX_ARTIFACT_KEY_BYTES = 1024;

/**
 * Throws unless `key` is a relative, `/`-separated artifact key that stays inside the store:
 * no empty, `.` or `..` segment, no leading `/`, no drive letter, no backslash, no NUL.
 */
export function checkArtifactKey(key: string): void {
  const refuse = (why: string): never => {
    throw new Error(`artifact key '${key}' is not valid: ${why}; use a relative key such as 'reports/summary.md'`);
  };
  if (typeof key !== 'string' || key.length === 0) refuse('it is empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_ARTIFACT_KEY_BYTES) refuse(`it is longer than ${MAX_ARTIFACT_KEY_BYTES} bytes`);
  if (key.startsWith('/')) refuse('it is an absolute path (starts with "/")');
  if (/^[A-Za-z]:/.test(key)) refuse('it starts with a drive letter');
  if (key.includes('\\')) refuse('it contains a backslash (separate segments with "/")');
  if (key.includes('\0')) refuse('it contains a NUL character');
  for (const segment of key.split('/')) {
    if (segment === '') refuse('it has an empty segment ("//" or a trailing "/")');
    if (segment === '..') refuse('it has a ".." segment, which would escape the artifact store');
    if (segment === '.') refuse('it has a "." segment');
  }
}

/** Throws unless `limit` is an integer from 1 to 100 (the port's range). */
export function checkListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new RangeError(`limit must be an integer from 1 to 100, got ${limit}`);
  }
}

/** Throws unless `value` is a non-empty string; `what` names it in the message. */
export function checkId(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`${what} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
}

const OUTCOMES: readonly string[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** Throws unless `outcome` is one a callback can be completed with. */
export function checkOutcome(outcome: string): void {
  if (!OUTCOMES.includes(outcome)) {
    throw new Error(`callback outcome must be one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(outcome)}`);
  }
}

/**
 * A deep copy through JSON: drops `undefined` members, and throws on values a JSON store
 * cannot hold (BigInt, cycles). Every record goes through this on the way in and out of a
 * store, so a caller never shares an object with the store.
 */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Longest page token accepted, so a huge forged token is refused before it is decoded. */
const MAX_TOKEN_LENGTH = 4096;

/** Encodes a page position as base64url JSON. */
export function encodePageToken(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * Decodes a token made by `encodePageToken` into a plain object, or throws
 * `InvalidPageTokenError`. Node's base64url decoder skips characters it does not know,
 * so the token must also re-encode to itself.
 */
export function decodePageToken(token: string): Record<string, unknown> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw new InvalidPageTokenError();
  }
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token) throw new InvalidPageTokenError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidPageTokenError();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidPageTokenError();
  return parsed as Record<string, unknown>;
}

/** Whether `obj` has exactly the keys `expected` (in any order), each a string. */
export function hasExactStringKeys(obj: Record<string, unknown>, expected: readonly string[]): boolean {
  const actual = Object.keys(obj);
  return actual.length === expected.length && expected.every((k) => typeof obj[k] === 'string');
}

/**
 * Whether a JSON value nests objects and arrays more than `maxDepth` levels (the value itself is
 * level 1). Stops descending past the limit, so a hostile document cannot exhaust the stack.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const deeper = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (depth > maxDepth) return true;
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    return children.some((c) => deeper(c, depth + 1));
  };
  return deeper(value, 1);
}

/**
 * A canonical JSON text of a JSON value: object keys sorted (recursively), so two values that
 * differ only in key order have the same text. Members whose value is `undefined` are dropped,
 * as `JSON.stringify` drops them.
 */
export function canonicalJson(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = Object.create(null); // keeps a '__proto__' member a member
    for (const k of Object.keys(v as Record<string, unknown>).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  };
  return JSON.stringify(canonical(value));
}
