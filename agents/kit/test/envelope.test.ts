import { EnvelopeError, parseEnvelope, salvageCallback } from '../src';
import { envelope } from './fixtures';

const base = 'http://127.0.0.1:9';

function problemsOf(value: unknown): string {
  try {
    parseEnvelope(value);
  } catch (e) {
    expect(e).toBeInstanceOf(EnvelopeError);
    return (e as Error).message;
  }
  throw new Error('expected the envelope to be refused');
}

describe('parseEnvelope', () => {
  test('accepts a valid envelope as an object or as JSON text', () => {
    const valid = envelope(base);
    expect(parseEnvelope(valid)).toEqual(valid);
    expect(parseEnvelope(JSON.stringify(valid))).toEqual(valid);
  });

  test('ignores fields it does not know', () => {
    expect(parseEnvelope({ ...envelope(base), future_field: 1 }).workflow_id).toMatch(/^wf-/);
  });

  test('names a missing nested field', () => {
    const value = envelope(base) as unknown as Record<string, any>;
    delete value.callback.token;
    expect(problemsOf(value)).toBe("invalid task envelope: field 'callback.token': expected a non-empty string, it is missing");
  });

  test('lists every problem at once', () => {
    const message = problemsOf({ ...envelope(base), workflow_id: '', attempt: 0, input: [], deadline: 'soon' });
    expect(message).toContain("field 'workflow_id': expected a non-empty string, got an empty string");
    expect(message).toContain("field 'attempt': expected a whole number from 1, got number 0");
    expect(message).toContain("field 'input': expected an object (the step input), got an array");
    expect(message).toContain("field 'deadline': expected an ISO 8601 timestamp");
  });

  test('refuses another envelope version, saying which it understands', () => {
    expect(problemsOf({ ...envelope(base), envelope_version: 2 })).toContain('this agent understands version 1, got 2');
  });

  test('needs somewhere to write artifacts', () => {
    expect(problemsOf({ ...envelope(base), artifacts: { prefix: 'agents/x/' } })).toContain("neither 'bucket' (S3) nor 'local_dir'");
  });

  test('needs an http(s) callback url, and a heartbeat url when heartbeats are asked for', () => {
    expect(problemsOf({ ...envelope(base), callback: { ...envelope(base).callback, url: 'ftp://x/y' } })).toContain("field 'callback.url': expected an http(s) URL");
    const message = problemsOf({ ...envelope(base), heartbeat_interval_seconds: 5, callback: { ...envelope(base).callback, heartbeat_url: '' } });
    expect(message).toContain("field 'callback.heartbeat_url': expected an http(s) URL when heartbeat_interval_seconds is set");
  });

  test('refuses text that is not JSON or not an object', () => {
    expect(problemsOf('{nope')).toMatch(/^invalid task envelope: the envelope is not valid JSON/);
    expect(problemsOf('[1]')).toBe('invalid task envelope: expected a JSON object, got an array');
  });
});

describe('salvageCallback', () => {
  test('finds the callback of an envelope that is broken elsewhere', () => {
    const broken = JSON.stringify({ ...envelope(base), workflow_id: undefined });
    expect(salvageCallback(broken)).toEqual(envelope(base).callback);
  });

  test('finds nothing without a url and a token', () => {
    expect(salvageCallback({ callback: { url: `${base}/x` } })).toBeUndefined();
    expect(salvageCallback('not json')).toBeUndefined();
  });
});
