/**
 * The shapes of the API's request bodies and of its list query, checked by hand: a schema
 * library would weigh more than the rest of the API handler, and these are three small shapes.
 *
 * A check collects every problem of a value (not only the first), in the order of the fields,
 * and `describe` turns them into one message that names each field and what is expected.
 * Objects are strict: an unknown field is refused, so a typo never passes unnoticed.
 */
import type { UsageReport } from '../contract/budget';
import { inputCharacterCount } from '../contract/inputs';
import { ALL_STATUSES, SCHEDULE_NAME_PATTERN, WorkflowStatus } from '../contract/status';

/** The outcome of checking a request part: its typed value, or the message of a 400 answer. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** The body of `POST /workflows/{id}/approval`. */
export interface ApprovalBody {
  readonly approved: boolean;
  readonly comment?: string;
}

/** The body of `POST /callbacks/{callback_id}` (an agent's report). */
export interface CallbackBody {
  readonly status: 'succeeded' | 'failed';
  /** Artifact name to its key in the artifact store. */
  readonly artifacts?: Readonly<Record<string, string>>;
  readonly output?: Readonly<Record<string, unknown>>;
  readonly error?: { readonly code?: string; readonly message: string };
  /** Model usage of this attempt, final figures (budget.ts). */
  readonly usage?: UsageReport;
}

/** The body of `POST /callbacks/{callback_id}/heartbeat` (optional). */
export interface HeartbeatBody {
  /** Model usage of this attempt so far. */
  readonly usage?: UsageReport;
}

/** The body of `PUT /admin/kill-switch`. */
export interface KillSwitchBody {
  readonly engaged: boolean;
  /** Why: required to engage. */
  readonly reason?: string;
}

/** The query of `GET /workflows`. */
export interface ListQuery {
  readonly status?: WorkflowStatus;
  readonly limit?: number;
  readonly next_token?: string;
}

/**
 * The event a schedule sends the API function (`SCHEDULED_START_KEY`): which schedule, the time
 * the tick was scheduled for (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`), and the
 * workflow input.
 */
export interface ScheduledStartEvent {
  readonly scheduled_start: {
    readonly schedule: string;
    readonly scheduled_time: string;
    readonly input: Readonly<Record<string, unknown>>;
  };
}

/** Artifact names, as the callback body's `artifacts` keys. */
const ARTIFACT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
/** Error codes an agent may report. */
const ERROR_CODE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** Page sizes `GET /workflows` accepts. */
const MIN_LIST_LIMIT = 1;
const MAX_LIST_LIMIT = 100;
/** A scheduled time as EventBridge Scheduler writes `<aws.scheduler.scheduled-time>`. */
const SCHEDULED_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/** One problem: a value that is not what is expected, or fields an object does not have. */
type Issue =
  | { readonly path: readonly string[]; readonly message: string }
  | { readonly path: readonly string[]; readonly unknownKeys: readonly string[] };

/** Marks a value that failed its check (its issues are recorded). */
const INVALID: unique symbol = Symbol('invalid');
type Invalid = typeof INVALID;

/** Checks `value` (found at `path`), records its issues, and returns it typed, or `INVALID`. */
type Check<T> = (value: unknown, path: readonly string[], issues: Issue[]) => T | Invalid;

type Shape = Record<string, Check<unknown>>;
type ShapeValue<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

/** A pattern, with the message for a text that does not match it. */
interface Pattern {
  readonly regex: RegExp;
  readonly message: string;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a message names the type of a value it did not expect. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

function wrongType(path: readonly string[], expected: string, value: unknown): Issue {
  return { path, message: `expected ${expected}, received ${typeName(value)}` };
}

/** Own properties only: a field is never read from the prototype. */
function field(object: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** An object with exactly the fields of `shape` (absent optional ones left out). */
function strictObject<S extends Shape>(shape: S): Check<ShapeValue<S>> {
  const known = new Set(Object.keys(shape));
  return (value, path, issues) => {
    if (!isJsonObject(value)) {
      issues.push(wrongType(path, 'object', value));
      return INVALID;
    }
    const out: Record<string, unknown> = {};
    let valid = true;
    for (const [key, check] of Object.entries(shape)) {
      const checked = check(field(value, key), [...path, key], issues);
      if (checked === INVALID) valid = false;
      else if (checked !== undefined) out[key] = checked;
    }
    const unknownKeys = Object.keys(value).filter((key) => !known.has(key));
    if (unknownKeys.length > 0) {
      issues.push({ path, unknownKeys });
      valid = false;
    }
    return valid ? out as ShapeValue<S> : INVALID;
  };
}

/**
 * An object of any keys (those matching `keys`, if given) to values passing `values`. A
 * `__proto__` key is dropped: it could only replace the result's prototype.
 */
function record<T>(values: Check<T>, keys?: Pattern): Check<Record<string, T>> {
  return (value, path, issues) => {
    if (!isJsonObject(value)) {
      issues.push(wrongType(path, 'record', value));
      return INVALID;
    }
    const out: Record<string, T> = {};
    let valid = true;
    for (const key of Object.keys(value)) {
      if (key === '__proto__') continue;
      if (keys && !keys.regex.test(key)) {
        issues.push({ path: [...path, key], message: `invalid name (${keys.message})` });
        valid = false;
        continue;
      }
      const checked = values(value[key], [...path, key], issues);
      if (checked === INVALID) valid = false;
      else out[key] = checked;
    }
    return valid ? out : INVALID;
  };
}

/** `check`, or `undefined` for an absent value. */
function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path, issues) => (value === undefined ? undefined : check(value, path, issues));
}

function boolean(): Check<boolean> {
  return (value, path, issues) => {
    if (typeof value === 'boolean') return value;
    issues.push(wrongType(path, 'boolean', value));
    return INVALID;
  };
}

interface StringRules {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: Pattern;
}

/** A string; lengths count characters (`inputCharacterCount`: a surrogate pair is one). Every broken rule is reported. */
function string(rules: StringRules = {}): Check<string> {
  return (value, path, issues) => {
    if (typeof value !== 'string') {
      issues.push(wrongType(path, 'string', value));
      return INVALID;
    }
    const before = issues.length;
    const length = rules.minLength !== undefined || rules.maxLength !== undefined ? inputCharacterCount(value) : 0;
    if (rules.minLength !== undefined && length < rules.minLength) {
      issues.push({ path, message: `Too small: expected string to have >=${rules.minLength} characters` });
    }
    if (rules.maxLength !== undefined && length > rules.maxLength) {
      issues.push({ path, message: `Too big: expected string to have <=${rules.maxLength} characters` });
    }
    if (rules.pattern && !rules.pattern.regex.test(value)) {
      issues.push({ path, message: rules.pattern.message });
    }
    return issues.length === before ? value : INVALID;
  };
}

function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (value, path, issues) => {
    const match = values.find((v) => v === value);
    if (match !== undefined) return match;
    issues.push({ path, message: `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
    return INVALID;
  };
}

/** A whole number from `min` to `max` written in decimal digits (a query parameter). */
function wholeNumberText(min: number, max: number): Check<number> {
  const message = `expected a whole number from ${min} to ${max}`;
  return (value, path, issues) => {
    if (typeof value !== 'string') {
      issues.push(wrongType(path, 'string', value));
      return INVALID;
    }
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    // Digits only, so NaN means not digits; so many digits that they make Infinity are too big.
    if (!(n >= min && n <= max)) {
      issues.push({ path, message });
      return INVALID;
    }
    return n;
  };
}

/** A finite number from `min` to `max` (`integer`: whole numbers only). */
function number(min: number, max: number, integer: boolean): Check<number> {
  const message = `expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`;
  return (value, path, issues) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      issues.push(wrongType(path, 'number', value));
      return INVALID;
    }
    if (value < min || value > max || (integer && !Number.isInteger(value))) {
      issues.push({ path, message });
      return INVALID;
    }
    return value;
  };
}

function unknownValue(): Check<unknown> {
  return (value) => value;
}

// ---------------------------------------------------------------------------------------------
// The API's schemas
// ---------------------------------------------------------------------------------------------

const approvalBody: Check<ApprovalBody> = strictObject({
  approved: boolean(),
  comment: optional(string({ maxLength: 2000 })),
});

/** Model usage: tokens so far and an estimated cost (at most a trillion tokens, a million dollars). */
const usage: Check<UsageReport> = strictObject({
  input_tokens: number(0, 1e12, true),
  output_tokens: number(0, 1e12, true),
  estimated_cost_usd: optional(number(0, 1e6, false)),
  model: optional(string({ minLength: 1, maxLength: 200 })),
});

const heartbeatBody: Check<HeartbeatBody> = strictObject({
  usage: optional(usage),
});

const killSwitchBody: Check<KillSwitchBody> = strictObject({
  engaged: boolean(),
  reason: optional(string({ minLength: 1, maxLength: 500 })),
});

const callbackBody: Check<CallbackBody> = strictObject({
  status: oneOf(['succeeded', 'failed'] as const),
  artifacts: optional(record(string({ minLength: 1, maxLength: 1024 }), {
    regex: ARTIFACT_NAME_PATTERN,
    message: 'artifact names are letters, digits, - and _, starting with a letter',
  })),
  output: optional(record(unknownValue())),
  error: optional(strictObject({
    code: optional(string({ pattern: { regex: ERROR_CODE_PATTERN, message: 'error codes are letters, digits, _, . and -' } })),
    message: string({ minLength: 1, maxLength: 4000 }),
  })),
  usage: optional(usage),
});

const listQuery: Check<ListQuery> = strictObject({
  status: optional(oneOf(ALL_STATUSES)),
  limit: optional(wholeNumberText(MIN_LIST_LIMIT, MAX_LIST_LIMIT)),
  next_token: optional(string({ minLength: 1, maxLength: 2048 })),
});

const scheduledStartEvent: Check<ScheduledStartEvent> = strictObject({
  scheduled_start: strictObject({
    schedule: string({ pattern: { regex: SCHEDULE_NAME_PATTERN, message: '1 to 64 letters, digits, _, . and -' } }),
    scheduled_time: string({ pattern: { regex: SCHEDULED_TIME_PATTERN, message: 'an ISO 8601 UTC time such as 2025-01-31T09:00:00Z' } }),
    input: record(unknownValue()),
  }),
});

/** Checks the body of an approval (a parsed JSON value). */
export function checkApprovalBody(value: unknown): Checked<ApprovalBody> {
  return run(approvalBody, value, 'body');
}

/** Checks the body of an agent's report (a parsed JSON value). */
export function checkCallbackBody(value: unknown): Checked<CallbackBody> {
  return run(callbackBody, value, 'body');
}

/** Checks the body of a heartbeat (a parsed JSON value; an absent body is `{}`). */
export function checkHeartbeatBody(value: unknown): Checked<HeartbeatBody> {
  return run(heartbeatBody, value, 'body');
}

/** Checks the body of `PUT /admin/kill-switch`; engaging needs a reason. */
export function checkKillSwitchBody(value: unknown): Checked<KillSwitchBody> {
  const checked = run(killSwitchBody, value, 'body');
  if (checked.ok && checked.value.engaged && checked.value.reason === undefined) {
    return { ok: false, message: "field 'reason': required when engaged is true: say why everything stops, e.g. {\"engaged\": true, \"reason\": \"runaway costs\"}" };
  }
  return checked;
}

/** Checks the query parameters of a workflow list. */
export function checkListQuery(value: unknown): Checked<ListQuery> {
  return run(listQuery, value, 'query');
}

/**
 * Checks the event of a scheduled start (the whole Lambda event). The scheduled time must also
 * be a real time (not 2025-02-30).
 */
export function checkScheduledStartEvent(value: unknown): Checked<ScheduledStartEvent> {
  const checked = run(scheduledStartEvent, value, 'event');
  if (checked.ok) {
    const time = checked.value.scheduled_start.scheduled_time;
    const parsed = Date.parse(time);
    // Date.parse rolls 2025-02-30 over to March: a real time reads back the same.
    if (Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 19) !== time.slice(0, 19)) {
      return { ok: false, message: `field 'scheduled_start.scheduled_time': '${time}' is not a real time` };
    }
  }
  return checked;
}

function run<T>(check: Check<T>, value: unknown, what: 'body' | 'query' | 'event'): Checked<T> {
  const issues: Issue[] = [];
  const checked = check(value, [], issues);
  return checked === INVALID || issues.length > 0
    ? { ok: false, message: describe(issues, what) }
    : { ok: true, value: checked };
}

/**
 * One message for all issues, '; '-separated: `field 'a.b': <what is expected>` (`parameter` in
 * a query), `unknown field 'x'`, `unknown fields 'x', 'y' in 'error'`.
 */
function describe(issues: readonly Issue[], what: 'body' | 'query' | 'event'): string {
  const noun = what === 'query' ? 'parameter' : 'field';
  return issues.map((issue) => {
    const name = issue.path.join('.');
    if ('unknownKeys' in issue) {
      const keys = issue.unknownKeys.map((k) => `'${k}'`).join(', ');
      return `unknown ${noun}${issue.unknownKeys.length > 1 ? 's' : ''} ${keys}${name ? ` in '${name}'` : ''}`;
    }
    return `${name ? `${noun} '${name}'` : what}: ${issue.message}`;
  }).join('; ');
}
