import * as fc from 'fast-check';
import type { InputFieldDocument, InputsDocument, WorkflowDefinitionDocument } from '../../src/contract/definition';
import { checkInputAgainstDeclaration, inputFieldProblems, MAX_INPUT_ISSUES } from '../../src/contract/inputs';
import { validateDefinition } from '../../src/contract/validate';

const RETRY = { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 };

/** A one-step definition whose agent reads `reads` (path -> optional) and that declares `inputs`. */
function doc(inputs: unknown, reads: Record<string, boolean> = {}): WorkflowDefinitionDocument {
  const input = Object.fromEntries(Object.entries(reads).map(([p, optional], i) => [`v${i}`, { from: 'input', path: p, ...(optional ? { optional } : {}) }]));
  return {
    schemaVersion: 1,
    name: 'wf',
    inputs,
    steps: [{ type: 'agent', name: 'work', agent: 'worker', input, timeoutSeconds: 60, retry: RETRY }],
  } as unknown as WorkflowDefinitionDocument;
}

const obj = (properties: Record<string, InputFieldDocument>, extra: Partial<InputFieldDocument> = {}): InputsDocument =>
  ({ type: 'object', properties, additionalProperties: false, ...extra }) as InputsDocument;

const messages = (decl: InputFieldDocument, input: unknown) => checkInputAgainstDeclaration(decl, input).map((i) => i.message);

describe('checking an input against a declaration', () => {
  const decl = obj({
    topic: { type: 'string', minLength: 2, maxLength: 5 },
    depth: { type: 'string', enum: ['brief', 'standard'] },
    ratio: { type: 'number', minimum: 0, maximum: 1 },
    count: { type: 'integer', minimum: 1, maximum: 10 },
    size: { type: 'integer', enum: [1, 2, 4] },
    dryRun: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string', maxLength: 3 }, minItems: 1, maxItems: 2 },
    options: { type: 'object', properties: { mode: { type: 'string', enum: ['a', 'b'] } }, required: ['mode'], additionalProperties: false },
    free: { type: 'object', additionalProperties: true },
  }, { required: ['topic'] });

  test('a valid input has no issues', () => {
    expect(messages(decl, {
      topic: 'abc', depth: 'brief', ratio: 0.5, count: 3, size: 4, dryRun: false, tags: ['x'], options: { mode: 'a' }, free: { anything: [1] },
    })).toEqual([]);
  });

  test.each([
    ['a number for a string', { topic: 123 }, 'input.topic: expected a string, got number'],
    ['a boolean for a string', { topic: true }, 'input.topic: expected a string, got boolean'],
    ['an array for a string', { topic: ['a'] }, 'input.topic: expected a string, got array'],
    ['an object for a string', { topic: { a: 1 } }, 'input.topic: expected a string, got object'],
    ['a missing required field', {}, 'input.topic is required: give a string'],
    ['a required field that is null', { topic: null }, 'input.topic is required (got null): give a string'],
    ['a string too short', { topic: 'a' }, 'input.topic: expected at least 2 characters, got 1'],
    ['a string too long', { topic: 'abcdef' }, 'input.topic: expected at most 5 characters, got 6'],
    ['a value not allowed', { topic: 'ab', depth: 'x' }, 'input.topic: expected one of "brief", "standard", got "x"'.replace('topic', 'depth')],
    ['a number below the minimum', { topic: 'ab', ratio: -0.1 }, 'input.ratio: expected at least 0, got -0.1'],
    ['a number above the maximum', { topic: 'ab', ratio: 1.5 }, 'input.ratio: expected at most 1, got 1.5'],
    ['a string for a number', { topic: 'ab', ratio: '0.5' }, 'input.ratio: expected a number, got string'],
    ['a fraction for an integer', { topic: 'ab', count: 1.5 }, 'input.count: expected a whole number, got 1.5'],
    ['an integer out of range', { topic: 'ab', count: 11 }, 'input.count: expected at most 10, got 11'],
    ['an integer not allowed', { topic: 'ab', size: 3 }, 'input.size: expected one of 1, 2, 4, got 3'],
    ['a string for a boolean', { topic: 'ab', dryRun: 'false' }, 'input.dryRun: expected a boolean (true or false), got string'],
    ['too few items', { topic: 'ab', tags: [] }, 'input.tags: expected at least 1 item, got 0'],
    ['too many items', { topic: 'ab', tags: ['a', 'b', 'c'] }, 'input.tags: expected at most 2 items, got 3'],
    ['a bad item', { topic: 'ab', tags: ['a', 'long'] }, 'input.tags[1]: expected at most 3 characters, got 4'],
    ['an object for an array', { topic: 'ab', tags: { 0: 'a' } }, 'input.tags: expected an array, got object'],
    ['a string for an object', { topic: 'ab', options: 'nope' }, 'input.options: expected an object, got string'],
    ['an array for an object', { topic: 'ab', options: [] }, 'input.options: expected an object, got array'],
    ['a nested required field missing', { topic: 'ab', options: {} }, 'input.options.mode is required: give a string'],
    ['a nested value not allowed', { topic: 'ab', options: { mode: 'c' } }, 'input.options.mode: expected one of "a", "b", got "c"'],
    ['a nested unknown field', { topic: 'ab', options: { mode: 'a', moed: 'b' } }, 'input.options.moed is not a declared field of input.options: its fields are mode; remove it'],
    ['an unknown top-level field', { topic: 'ab', topc: 'x' }, 'input.topc is not a declared field of input: its fields are topic, depth, ratio, count, size, dryRun, tags, options, free; remove it'],
    ['an unknown field that is not a plain name', { 'topic': 'ab', 'a b': 1 }, 'input["a b"] is not a declared field of input: its fields are topic, depth, ratio, count, size, dryRun, tags, options, free; remove it'],
  ])('%s is refused, naming the field', (_what, input, message) => {
    expect(messages(decl, input)).toEqual([message]);
  });

  test('an optional field sent as null counts as absent', () => {
    expect(messages(decl, { topic: 'ab', ratio: null, options: null })).toEqual([]);
  });

  test('every bad field is reported, in the order of the declaration, unknown fields last', () => {
    const issues = checkInputAgainstDeclaration(decl, { extra: 1, count: 0, topic: 7, depth: 'x' });
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['input.topic', 'type'], ['input.depth', 'enum'], ['input.count', 'minimum'], ['input.extra', 'unknown_field'],
    ]);
  });

  test('lengths count characters: an emoji is one', () => {
    expect(messages(obj({ t: { type: 'string', maxLength: 2 } }), { t: '😀😀' })).toEqual([]);
    expect(messages(obj({ t: { type: 'string', maxLength: 2 } }), { t: '😀😀😀' })).toEqual(['input.t: expected at most 2 characters, got 3']);
  });

  test('fields not declared are accepted where additionalProperties is true or absent (JSON Schema\'s default)', () => {
    expect(messages({ type: 'object', properties: {} }, { any: 1 })).toEqual([]);
    expect(messages({ type: 'object', properties: {}, additionalProperties: true }, { any: 1 })).toEqual([]);
  });

  test('a field is read as an own property only', () => {
    const input = JSON.parse('{"__proto__": {"topic": "ab"}}');
    expect(messages(obj({ topic: { type: 'string' } }, { required: ['topic'] }), input)).toContain('input.topic is required: give a string');
  });

  test(`at most ${MAX_INPUT_ISSUES} issues are reported`, () => {
    const decl2 = obj({ list: { type: 'array', items: { type: 'integer' } } });
    expect(checkInputAgainstDeclaration(decl2, { list: Array.from({ length: 500 }, () => 'x') })).toHaveLength(MAX_INPUT_ISSUES);
  });
});

describe('a declaration is checked with the definition', () => {
  const problems = (inputs: unknown, reads?: Record<string, boolean>) => validateDefinition(doc(inputs, reads));

  test('a valid declaration has no problems', () => {
    expect(problems(obj({ topic: { type: 'string', minLength: 1 }, n: { type: 'integer', enum: [1, 2] } }, { required: ['topic'] }), { topic: false })).toEqual([]);
  });

  test.each([
    ['inputs that are not an object declaration', { type: 'string' }, /workflow 'wf': inputs is not an object declaration/],
    ['an unknown type', obj({ a: { type: 'text' } as never }), /input 'a': type "text" is not an input type: use one of string, number, integer, boolean, object, array/],
    ['a keyword of another type', obj({ a: { type: 'string', minimum: 1 } }), /input 'a': minimum does not apply to a string input: remove it, or make the field a number/],
    ['an unsupported keyword', obj({ a: { type: 'string', pattern: '^a' } as never }), /input 'a': "pattern" is not a supported keyword/],
    ['minLength above maxLength', obj({ a: { type: 'string', minLength: 5, maxLength: 3 } }), /input 'a': minLength 5 is more than maxLength 3, so no value could be accepted/],
    ['a negative maxLength', obj({ a: { type: 'string', maxLength: -1 } }), /input 'a': maxLength is -1: set it to a whole number of at least 0/],
    ['a fractional minItems', obj({ a: { type: 'array', items: { type: 'string' }, minItems: 1.5 } }), /input 'a': minItems is 1.5/],
    ['minimum above maximum', obj({ a: { type: 'number', minimum: 2, maximum: 1 } }), /input 'a': minimum 2 is more than maximum 1/],
    ['a minimum that is not a number', obj({ a: { type: 'number', minimum: '1' } as never }), /input 'a': minimum is "1": set it to a finite number/],
    ['empty allowedValues', obj({ a: { type: 'string', enum: [] } }), /input 'a': allowedValues is empty, so no value could be accepted/],
    ['an allowed value of another type', obj({ a: { type: 'integer', enum: [1, 1.5] } }), /input 'a': allowed value 1.5 is not a whole number/],
    ['an allowed value listed twice', obj({ a: { type: 'string', enum: ['x', 'x'] } }), /input 'a': allowed value "x" is listed twice/],
    ['an allowed value its own rules refuse', obj({ a: { type: 'string', enum: ['long'], maxLength: 3 } }), /input 'a': allowed value "long" breaks the field's own rules \(expected at most 3 characters, got 4\), so it could never be accepted/],
    ['an array without items', obj({ a: { type: 'array' } }), /input 'a': an array input needs items/],
    ['a field name with a dot', obj({ 'a.b': { type: 'string' } }), /input 'a.b': the field name is not valid: .*no dots.*rename it, for example to 'a_b'/],
    ['required naming no field', obj({ a: { type: 'string' } }, { required: ['b'] }), /the input: required lists "b", which is not one of its fields/],
    ['additionalProperties not a boolean', obj({}, { additionalProperties: 'no' as never }), /the input: additionalFields is "no": set it to true/],
    ['a nested problem', obj({ p: { type: 'object', properties: { d: { type: 'string', enum: [] } } } }), /input 'p.d': allowedValues is empty/],
    ['an item problem', obj({ p: { type: 'array', items: { type: 'number', minimum: 3, maximum: 1 } } }), /input 'p' items: minimum 3 is more than maximum 1/],
  ])('%s', (_what, inputs, message) => {
    expect(problems(inputs)).toEqual([expect.stringMatching(message)]);
  });

  test('a declaration nested deeper than the limit is refused', () => {
    let field: InputFieldDocument = { type: 'string' };
    for (let i = 0; i < 11; i++) field = { type: 'object', properties: { x: field } };
    expect(problems(obj({ x: field }))).toEqual([expect.stringMatching(/nested 11 levels deep, deeper than the limit of 10/)]);
  });

  test('more than 200 declared fields are refused', () => {
    const many = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`f${i}`, { type: 'string' } as InputFieldDocument]));
    expect(problems(obj(many))).toEqual([expect.stringMatching(/declares 201 fields .* more than the limit of 200/)]);
  });

  describe('the steps\' reads of the input must fit the declaration', () => {
    test('a read of a field that is not declared, where undeclared fields are refused', () => {
      expect(problems(obj({ topic: { type: 'string' } }, { required: ['topic'] }), { topc: false })).toEqual([
        "workflow 'wf': step 'work' reads input 'topc', which is not declared, and the input refuses fields it does not declare: declare 'topc' in inputs, or fix the path",
      ]);
    });

    test('a nested read of a field that is not declared', () => {
      const decl = obj({ p: { type: 'object', properties: {}, additionalProperties: false } });
      expect(problems(decl, { 'p.depth': true })).toEqual([expect.stringMatching(/reads input 'p.depth', which is not declared, and input 'p' refuses fields .*declare 'p.depth' in the fields of 'p'/)]);
    });

    test('a read inside a field that is not an object', () => {
      expect(problems(obj({ topic: { type: 'string' } }, { required: ['topic'] }), { 'topic.x': true })).toEqual([
        expect.stringMatching(/reads input 'topic.x', but input 'topic' is declared a string, which has no fields/),
      ]);
    });

    test('a required read of a field declared optional', () => {
      expect(problems(obj({ topic: { type: 'string' } }), { topic: false })).toEqual([
        expect.stringMatching(/reads input 'topic', which every run needs .* but input 'topic' is declared optional: declare it with required: true, or read the field with StepInput.fromOptionalWorkflowInput/),
      ]);
      // Inside an optional object.
      const decl = obj({ p: { type: 'object', properties: { d: { type: 'string' } }, required: ['d'] } });
      expect(problems(decl, { 'p.d': false })).toEqual([expect.stringMatching(/input 'p' is declared optional/)]);
    });

    test('fine: an optional read of an optional field, any read where undeclared fields are accepted, a read of the whole input', () => {
      expect(problems(obj({ topic: { type: 'string' } }), { topic: true })).toEqual([]);
      expect(problems(obj({}, { additionalProperties: true }), { anything: false })).toEqual([]);
      expect(problems(obj({}), { '': false })).toEqual([]);
    });
  });
});

describe('inputFieldProblems (what the definition classes check at once)', () => {
  test('names the owner', () => {
    expect(inputFieldProblems({ type: 'string', minLength: 3, maxLength: 1 }, 'WorkflowInput.text')).toEqual([
      'WorkflowInput.text: minLength 3 is more than maxLength 1, so no value could be accepted: make minLength at most maxLength',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: a value generated from a declaration passes it; one field broken is refused, at its path.
// ---------------------------------------------------------------------------------------------

type Generated = { decl: InputFieldDocument; value: fc.Arbitrary<unknown>; broken: fc.Arbitrary<{ value: unknown; path: string }> };

const NAME = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,8}$/);

/** A declaration, with an arbitrary of values that match it and one of values broken at one place. */
function declaration(depth: number): fc.Arbitrary<Generated> {
  const text = fc.record({ min: fc.nat(5), extra: fc.nat(10), allowed: fc.boolean() }).map(({ min, extra, allowed }): Generated => {
    if (allowed) {
      const values = ['alpha', 'beta', 'gamma'];
      return {
        decl: { type: 'string', enum: values },
        value: fc.constantFrom(...values),
        // Not null: an optional field sent as null counts as absent, which is valid.
        broken: fc.constantFrom<unknown>('delta', 1, true).map((v) => ({ value: v, path: '' })),
      };
    }
    const max = min + extra;
    return {
      decl: { type: 'string', minLength: min, maxLength: max },
      value: fc.string({ minLength: min, maxLength: max, unit: 'grapheme-ascii' }),
      broken: fc.oneof(
        fc.constant<unknown>('x'.repeat(max + 1)),
        ...(min > 0 ? [fc.constant<unknown>('x'.repeat(min - 1))] : []),
        fc.integer(), fc.constant([]), fc.constant({}),
      ).map((v) => ({ value: v, path: '' })),
    };
  });
  const integer = fc.record({ min: fc.integer({ min: -100, max: 100 }), span: fc.nat(100) }).map(({ min, span }): Generated => ({
    decl: { type: 'integer', minimum: min, maximum: min + span },
    value: fc.integer({ min, max: min + span }),
    broken: fc.constantFrom<unknown>(min - 1, min + span + 1, min + 0.5, String(min), false).map((v) => ({ value: v, path: '' })),
  }));
  const flag: fc.Arbitrary<Generated> = fc.constant({
    decl: { type: 'boolean' },
    value: fc.boolean(),
    broken: fc.constantFrom<unknown>('true', 0, []).map((v) => ({ value: v, path: '' })),
  });
  const leaves = fc.oneof(text, integer, flag);
  if (depth <= 0) return leaves;
  const list = declaration(depth - 1).map((item): Generated => ({
    decl: { type: 'array', items: item.decl, maxItems: 3 },
    value: fc.array(item.value, { maxLength: 3 }),
    broken: fc.tuple(fc.array(item.value, { maxLength: 2 }), item.broken, fc.nat(2)).map(([items, bad, at]) => {
      const i = Math.min(at, items.length);
      const copy = [...items];
      copy.splice(i, 0, bad.value);
      return { value: copy, path: `[${i}]${bad.path}` };
    }),
  }));
  const object = fc.uniqueArray(fc.tuple(NAME, declaration(depth - 1), fc.boolean()), { minLength: 1, maxLength: 4, selector: ([n]) => n })
    .map((fields): Generated => {
      const properties = Object.fromEntries(fields.map(([n, g]) => [n, g.decl]));
      const required = fields.filter(([, , r]) => r).map(([n]) => n);
      const value = fc.tuple(...fields.map(([n, g, r]) => (r ? g.value.map((v) => [n, v] as const)
        : fc.option(g.value.map((v) => [n, v] as const), { nil: undefined }))))
        .map((entries) => Object.fromEntries(entries.filter((e): e is readonly [string, unknown] => e !== undefined)));
      const broken = fc.tuple(value, fc.nat(fields.length - 1), fc.boolean()).chain(([good, pick, unknown]) => {
        if (unknown) return fc.constant({ value: { ...good, zz_unknown: 1 }, path: '.zz_unknown' });
        const [n, g, r] = fields[pick];
        return fc.oneof(
          g.broken.map((bad) => ({ value: { ...good, [n]: bad.value }, path: `.${n}${bad.path}` })),
          ...(r ? [fc.constant((() => { const copy: Record<string, unknown> = { ...good }; delete copy[n]; return { value: copy, path: `.${n}` }; })())] : []),
        );
      });
      return { decl: { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: false }, value, broken };
    });
  return fc.oneof({ depthSize: 'small' }, leaves, list, object);
}

describe('property: generated inputs', () => {
  const wrapped = declaration(2).map((g): Generated => ({
    decl: { type: 'object', properties: { root: g.decl }, required: ['root'], additionalProperties: false },
    value: g.value.map((v) => ({ root: v })),
    broken: g.broken.map((b) => ({ value: { root: b.value }, path: `.root${b.path}` })),
  }));

  test('every generated declaration is valid, a value generated from it passes, and one broken field is refused at its path', () => {
    fc.assert(fc.property(wrapped.chain((g) => fc.tuple(fc.constant(g.decl), g.value, g.broken)), ([decl, value, broken]) => {
      expect(validateDefinition(doc(decl))).toEqual([]);
      expect(checkInputAgainstDeclaration(decl, value)).toEqual([]);
      const issues = checkInputAgainstDeclaration(decl, broken.value);
      expect(issues.length).toBeGreaterThan(0);
      expect(issues.map((i) => i.path)).toContain(`input${broken.path}`);
    }), { numRuns: 300 });
  });
});
