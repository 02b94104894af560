/**
 * The task envelope an agent receives: parsed and checked before anything else happens, so a
 * malformed task fails with a message that names the field and what is expected.
 */
import type { TaskEnvelope } from '../../../src/contract/status';

export type { TaskEnvelope };

/** Environment variable that carries the envelope (JSON) to a container or process agent. */
export const ENVELOPE_ENV = 'TASK_ENVELOPE';

/** Header that carries the callback token (see src/contract/status.ts). */
export const CALLBACK_TOKEN_HEADER = 'X-Callback-Token';

/** The envelope version this kit understands. */
export const ENVELOPE_VERSION = 1;

/** A task envelope that cannot be used. `problems` names each bad field. */
export class EnvelopeError extends Error {
  public readonly name = 'EnvelopeError';
  constructor(public readonly problems: readonly string[]) {
    super(`invalid task envelope: ${problems.join('; ')}`);
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'it is missing';
  if (value === null) return 'got null';
  if (Array.isArray(value)) return 'got an array';
  if (typeof value === 'string') return value === '' ? 'got an empty string' : `got the string ${JSON.stringify(value.slice(0, 60))}`;
  return `got ${typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`}`;
}

/**
 * Parses an envelope from its JSON text (the `TASK_ENVELOPE` variable) or from an object (a
 * Lambda event). Throws {@link EnvelopeError} listing every field that is missing or wrong.
 * Fields this kit does not know are ignored, so a newer runtime can add some.
 */
export function parseEnvelope(raw: unknown): TaskEnvelope {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new EnvelopeError([`the envelope is not valid JSON (${(e as Error).message})`]);
    }
  }
  if (!isObject(value)) {
    throw new EnvelopeError([`expected a JSON object, ${describe(value)}`]);
  }
  const problems: string[] = [];
  const field = (path: string, v: unknown, expected: string) => problems.push(`field '${path}': expected ${expected}, ${describe(v)}`);
  const requireString = (obj: Json, key: string, path = key) => {
    if (typeof obj[key] !== 'string' || obj[key] === '') field(path, obj[key], 'a non-empty string');
  };

  if (value.envelope_version !== ENVELOPE_VERSION) {
    problems.push(typeof value.envelope_version === 'number'
      ? `field 'envelope_version': this agent understands version ${ENVELOPE_VERSION}, got ${value.envelope_version} (update the agent)`
      : `field 'envelope_version': expected ${ENVELOPE_VERSION}, ${describe(value.envelope_version)}`);
  }
  requireString(value, 'workflow_id');
  requireString(value, 'step_name');
  requireString(value, 'agent');
  if (!Number.isInteger(value.attempt) || (value.attempt as number) < 1) field('attempt', value.attempt, 'a whole number from 1');
  if (!isObject(value.input)) field('input', value.input, 'an object (the step input)');

  const artifacts = value.artifacts;
  if (!isObject(artifacts)) {
    field('artifacts', artifacts, 'an object with prefix and bucket or local_dir');
  } else {
    requireString(artifacts, 'prefix', 'artifacts.prefix');
    for (const key of ['bucket', 'local_dir']) {
      if (artifacts[key] !== undefined && (typeof artifacts[key] !== 'string' || artifacts[key] === '')) {
        field(`artifacts.${key}`, artifacts[key], 'a non-empty string when present');
      }
    }
    if (artifacts.bucket === undefined && artifacts.local_dir === undefined) {
      problems.push("field 'artifacts': neither 'bucket' (S3) nor 'local_dir' (local runs) is set, so there is nowhere to write artifacts");
    }
  }

  const callback = value.callback;
  if (!isObject(callback)) {
    field('callback', callback, 'an object with id, url, heartbeat_url and token');
  } else {
    requireString(callback, 'id', 'callback.id');
    requireString(callback, 'token', 'callback.token');
    if (!isHttpUrl(callback.url)) field('callback.url', callback.url, 'an http(s) URL');
    if (typeof callback.heartbeat_url !== 'string') {
      field('callback.heartbeat_url', callback.heartbeat_url, 'a string (the heartbeat URL)');
    } else if (value.heartbeat_interval_seconds !== undefined && !isHttpUrl(callback.heartbeat_url)) {
      field('callback.heartbeat_url', callback.heartbeat_url, 'an http(s) URL when heartbeat_interval_seconds is set');
    }
  }

  if (typeof value.deadline !== 'string' || Number.isNaN(Date.parse(value.deadline))) {
    field('deadline', value.deadline, 'an ISO 8601 timestamp');
  }
  const interval = value.heartbeat_interval_seconds;
  if (interval !== undefined && (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0)) {
    field('heartbeat_interval_seconds', interval, 'a positive number of seconds when present');
  }

  if (problems.length > 0) throw new EnvelopeError(problems);
  return value as unknown as TaskEnvelope;
}

/**
 * The callback part of a value that failed {@link parseEnvelope}, when it is usable: a task
 * whose envelope is broken elsewhere can still report that it failed.
 */
export function salvageCallback(raw: unknown): TaskEnvelope['callback'] | undefined {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (!isObject(value) || !isObject(value.callback)) return undefined;
  const { id, url, token, heartbeat_url: heartbeatUrl } = value.callback;
  if (typeof token !== 'string' || token === '' || !isHttpUrl(url)) return undefined;
  return { id: typeof id === 'string' ? id : '', url, token, heartbeat_url: typeof heartbeatUrl === 'string' ? heartbeatUrl : '' };
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
