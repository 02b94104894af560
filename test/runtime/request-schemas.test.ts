import { inputCharacterCount } from '../../src/contract/inputs';
import { ALL_STATUSES } from '../../src/contract/status';
import { checkApprovalBody, checkCallbackBody, checkListQuery, Checked } from '../../src/runtime/request-schemas';

/** The message of a refused value (fails the test when the value was accepted). */
function refusal<T>(checked: Checked<T>): string {
  if (checked.ok) throw new Error(`accepted: ${JSON.stringify(checked.value)}`);
  return checked.message;
}

/** The value of an accepted value (fails the test with the message when it was refused). */
function accepted<T>(checked: Checked<T>): T {
  if (!checked.ok) throw new Error(`refused: ${checked.message}`);
  return checked.value;
}

const emoji = '\u{1F600}';
const NAME_RULE = 'artifact names are letters, digits, - and _, starting with a letter';
const STATUSES = '"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT", "CANCELLED"';

describe('inputCharacterCount (the lengths of request strings and declared inputs)', () => {
  test.each([
    ['', 0],
    ['abc', 3],
    ['é', 1],
    [emoji, 1],
    [`a${emoji}b${emoji}`, 4],
    ['\ud800', 1], // a lone high surrogate
    ['\udc00\ud800', 2], // a low before a high is no pair
  ])('%j has %i characters', (text, count) => {
    expect(inputCharacterCount(text)).toBe(count);
  });
});

describe('approval body', () => {
  test('approved alone, and with a comment', () => {
    expect(accepted(checkApprovalBody({ approved: true }))).toEqual({ approved: true });
    expect(accepted(checkApprovalBody({ approved: false, comment: 'not yet' }))).toEqual({ approved: false, comment: 'not yet' });
  });

  test('a comment of 2000 characters, counting an emoji as one', () => {
    expect(accepted(checkApprovalBody({ approved: true, comment: emoji.repeat(2000) })).comment).toHaveLength(4000);
  });

  test('a comment over 2000 characters is refused', () => {
    expect(refusal(checkApprovalBody({ approved: true, comment: `${emoji.repeat(1999)}ab` })))
      .toBe("field 'comment': Too big: expected string to have <=2000 characters");
  });

  test.each([
    [{}, "field 'approved': expected boolean, received undefined"],
    [{ approved: 'true' }, "field 'approved': expected boolean, received string"],
    [{ approved: 1 }, "field 'approved': expected boolean, received number"],
    [{ approved: null }, "field 'approved': expected boolean, received null"],
    [{ approved: [] }, "field 'approved': expected boolean, received array"],
    [{ approved: true, comment: 5 }, "field 'comment': expected string, received number"],
    [{ approved: true, comment: {} }, "field 'comment': expected string, received object"],
    [{ approved: true, approver: 'me' }, "unknown field 'approver'"],
    [{ approved: true, a: 1, b: 2 }, "unknown fields 'a', 'b'"],
    [JSON.parse('{"approved": true, "__proto__": {}}'), "unknown field '__proto__'"],
    // Every problem, fields in order, unknown fields last.
    [{ x: 1, comment: 3 }, "field 'approved': expected boolean, received undefined; field 'comment': expected string, received number; unknown field 'x'"],
  ])('%j is refused: %s', (body, message) => {
    expect(refusal(checkApprovalBody(body))).toBe(message);
  });

  test.each([
    [null, 'body: expected object, received null'],
    [[], 'body: expected object, received array'],
    ['yes', 'body: expected object, received string'],
    [Infinity, 'body: expected object, received Infinity'],
    [NaN, 'body: expected object, received NaN'],
  ])('%j is not an object', (body, message) => {
    expect(refusal(checkApprovalBody(body))).toBe(message);
  });
});

describe('callback body', () => {
  test('a success with artifacts and output', () => {
    const body = { status: 'succeeded', artifacts: { 'report': 'r/report.md', 'data_2-x': 'r/d' }, output: { words: 3, nested: { a: [1] } } };
    expect(accepted(checkCallbackBody(body))).toEqual(body);
  });

  test('a failure with an error, its code optional', () => {
    expect(accepted(checkCallbackBody({ status: 'failed', error: { message: 'boom' } }))).toEqual({ status: 'failed', error: { message: 'boom' } });
    expect(accepted(checkCallbackBody({ status: 'failed', error: { code: 'Model.Error_1-x', message: 'm' } })).error)
      .toEqual({ code: 'Model.Error_1-x', message: 'm' });
  });

  test('lengths at their limits', () => {
    const body = { status: 'failed', error: { code: `E${'x'.repeat(63)}`, message: 'm'.repeat(4000) } };
    expect(accepted(checkCallbackBody(body))).toEqual(body);
    const names = { status: 'succeeded', artifacts: { [`A${'b'.repeat(62)}`]: 'k'.repeat(1024), x: 'k' } };
    expect(accepted(checkCallbackBody(names))).toEqual(names);
  });

  test('lengths over their limits', () => {
    const report = (artifacts: Record<string, string>) => refusal(checkCallbackBody({ status: 'succeeded', artifacts }));
    const failure = (error: Record<string, string>) => refusal(checkCallbackBody({ status: 'failed', error }));
    expect(report({ report: 'k'.repeat(1025) })).toBe("field 'artifacts.report': Too big: expected string to have <=1024 characters");
    const longName = `a${'b'.repeat(63)}`;
    expect(report({ [longName]: 'k' })).toBe(`field 'artifacts.${longName}': invalid name (${NAME_RULE})`);
    expect(failure({ message: 'm'.repeat(4001) })).toBe("field 'error.message': Too big: expected string to have <=4000 characters");
    expect(failure({ message: 'm', code: `E${'x'.repeat(64)}` })).toBe("field 'error.code': error codes are letters, digits, _, . and -");
  });

  test('a __proto__ artifact or output field is dropped, never made the prototype', () => {
    const body = accepted(checkCallbackBody(JSON.parse('{"status": "succeeded", "artifacts": {"__proto__": 5, "a": "k"}, "output": {"__proto__": {"polluted": 1}}}')));
    expect(body.artifacts).toEqual({ a: 'k' });
    expect(Object.getPrototypeOf(body.output)).toBe(Object.prototype);
    expect(Object.keys(body.output!)).toEqual([]);
  });

  test.each([
    [{}, "field 'status': expected one of \"succeeded\", \"failed\""],
    [{ status: 'done' }, "field 'status': expected one of \"succeeded\", \"failed\""],
    [{ status: 'SUCCEEDED' }, "field 'status': expected one of \"succeeded\", \"failed\""],
    [{ status: 'succeeded', result: 1 }, "unknown field 'result'"],
    // artifacts
    [{ status: 'succeeded', artifacts: [] }, "field 'artifacts': expected record, received array"],
    [{ status: 'succeeded', artifacts: 'k' }, "field 'artifacts': expected record, received string"],
    [{ status: 'succeeded', artifacts: { report: 3 } }, "field 'artifacts.report': expected string, received number"],
    [{ status: 'succeeded', artifacts: { report: '' } }, "field 'artifacts.report': Too small: expected string to have >=1 characters"],
    [{ status: 'succeeded', artifacts: { '1st': 'k' } }, `field 'artifacts.1st': invalid name (${NAME_RULE})`],
    [{ status: 'succeeded', artifacts: { 'a.b': 'k' } }, `field 'artifacts.a.b': invalid name (${NAME_RULE})`],
    // output
    [{ status: 'succeeded', output: 'words' }, "field 'output': expected record, received string"],
    [{ status: 'succeeded', output: null }, "field 'output': expected record, received null"],
    // error
    [{ status: 'failed', error: 'boom' }, "field 'error': expected object, received string"],
    [{ status: 'failed', error: {} }, "field 'error.message': expected string, received undefined"],
    [{ status: 'failed', error: { message: '' } }, "field 'error.message': Too small: expected string to have >=1 characters"],
    [{ status: 'failed', error: { message: 'm', code: '9lives' } }, "field 'error.code': error codes are letters, digits, _, . and -"],
    [{ status: 'failed', error: { message: 'm', code: 7 } }, "field 'error.code': expected string, received number"],
    [{ status: 'failed', error: { message: 'm', stack: 's' } }, "unknown field 'stack' in 'error'"],
    [{ status: 'failed', error: { message: 'm', stack: 's', cause: 'c' } }, "unknown fields 'stack', 'cause' in 'error'"],
  ])('%j is refused: %s', (body, message) => {
    expect(refusal(checkCallbackBody(body))).toBe(message);
  });

  test('every problem is named, in field order, nested ones in place, unknown fields last', () => {
    expect(refusal(checkCallbackBody({ extra: 1, error: { code: '-', x: 1 }, artifacts: { 1: 2, b: '' }, status: 'ok' }))).toBe([
      "field 'status': expected one of \"succeeded\", \"failed\"",
      `field 'artifacts.1': invalid name (${NAME_RULE})`,
      "field 'artifacts.b': Too small: expected string to have >=1 characters",
      "field 'error.code': error codes are letters, digits, _, . and -",
      "field 'error.message': expected string, received undefined",
      "unknown field 'x' in 'error'",
      "unknown field 'extra'",
    ].join('; '));
  });
});

describe('list query', () => {
  test('no parameters, and each of them', () => {
    expect(accepted(checkListQuery({}))).toEqual({});
    expect(accepted(checkListQuery({ status: 'CANCELLED', limit: '2', next_token: 't' }))).toEqual({ status: 'CANCELLED', limit: 2, next_token: 't' });
  });

  test.each(ALL_STATUSES)('status %s', (status) => {
    expect(accepted(checkListQuery({ status })).status).toBe(status);
  });

  test.each([['1', 1], ['100', 100], ['007', 7]])('limit %s is %i', (limit, n) => {
    expect(accepted(checkListQuery({ limit })).limit).toBe(n);
  });

  test('a parameter given as undefined is absent', () => {
    expect(accepted(checkListQuery({ status: undefined, limit: undefined }))).toEqual({});
  });

  test('a next_token of 2048 characters, not more', () => {
    expect(accepted(checkListQuery({ next_token: 't'.repeat(2048) })).next_token).toHaveLength(2048);
    expect(refusal(checkListQuery({ next_token: 't'.repeat(2049) }))).toBe("parameter 'next_token': Too big: expected string to have <=2048 characters");
  });

  test('a limit of so many digits that it makes Infinity is too big', () => {
    expect(refusal(checkListQuery({ limit: '9'.repeat(400) }))).toBe("parameter 'limit': expected a whole number from 1 to 100");
  });

  test.each([
    [{ status: 'DONE' }, `parameter 'status': expected one of ${STATUSES}`],
    [{ status: 'running' }, `parameter 'status': expected one of ${STATUSES}`],
    [{ limit: '0' }, "parameter 'limit': expected a whole number from 1 to 100"],
    [{ limit: '101' }, "parameter 'limit': expected a whole number from 1 to 100"],
    [{ limit: 'ten' }, "parameter 'limit': expected a whole number from 1 to 100"],
    [{ limit: '-1' }, "parameter 'limit': expected a whole number from 1 to 100"],
    [{ limit: '1.5' }, "parameter 'limit': expected a whole number from 1 to 100"],
    [{ limit: ' 5' }, "parameter 'limit': expected a whole number from 1 to 100"],
    [{ limit: '' }, "parameter 'limit': expected a whole number from 1 to 100"],
    [{ limit: 5 }, "parameter 'limit': expected string, received number"],
    [{ next_token: '' }, "parameter 'next_token': Too small: expected string to have >=1 characters"],
    [{ stauts: 'RUNNING' }, "unknown parameter 'stauts'"],
    [{ a: '1', b: '2' }, "unknown parameters 'a', 'b'"],
    [{ limit: '0', status: 'x', z: '1' }, `parameter 'status': expected one of ${STATUSES}; parameter 'limit': expected a whole number from 1 to 100; unknown parameter 'z'`],
  ])('%j is refused: %s', (query, message) => {
    expect(refusal(checkListQuery(query))).toBe(message);
  });

  test('a query that is not an object', () => {
    expect(refusal(checkListQuery(null))).toBe('query: expected object, received null');
  });
});
