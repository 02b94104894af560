/**
 * Declared workflow inputs: the checks of a declaration (run by `validateDefinition`, so at synth
 * and again by the runtime on the document it is handed) and the check of an input against it (run
 * by the API before anything is written). Pure and dependency-free, like the rest of the contract:
 * the constructs and the runtime both use it.
 *
 * A declaration is a subset of JSON Schema (see `InputFieldDocument`). Messages name the prop as
 * the definition classes spell it (`allowedValues`, `fields`, `additionalFields`), since that is
 * what a person wrote.
 */
import { LIMITS } from './definition';
import type { InputFieldDocument, InputFieldType, StepDocument, ValueRef, WorkflowDefinitionDocument } from './definition';

const INPUT_TYPES: readonly InputFieldType[] = ['string', 'number', 'integer', 'boolean', 'object', 'array'];
/** A declared field's name: it is a segment of a dot path, so no dots. */
export const INPUT_FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;
/** The longest description of a field. */
const MAX_DESCRIPTION_LENGTH = 2000;
/** Most issues one input check reports (an input of thousands of bad items says the first ones). */
export const MAX_INPUT_ISSUES = 50;

/** Keywords each type accepts besides `type` and `description`, with the prop that writes each. */
const KEYWORDS: Record<InputFieldType, Record<string, string>> = {
  string: { enum: 'allowedValues', minLength: 'minLength', maxLength: 'maxLength' },
  number: { enum: 'allowedValues', minimum: 'minimum', maximum: 'maximum' },
  integer: { enum: 'allowedValues', minimum: 'minimum', maximum: 'maximum' },
  boolean: {},
  object: { properties: 'fields', required: 'required', additionalProperties: 'additionalFields' },
  array: { items: 'items', minItems: 'minItems', maxItems: 'maxItems' },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(object: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** `a string`, `a whole number`, ... */
function expectedType(type: InputFieldType): string {
  switch (type) {
    case 'integer': return 'a whole number';
    case 'boolean': return 'a boolean (true or false)';
    case 'object': return 'an object';
    case 'array': return 'an array';
    default: return `a ${type}`;
  }
}

function hasType(type: InputFieldType, value: unknown): boolean {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'object': return isObject(value);
    case 'array': return Array.isArray(value);
  }
}

/** How a message names the type of a value it did not accept (`number`, `array`, `null`). */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A value quoted for a message, cut at 60 characters. */
function shown(value: unknown): string {
  const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** Characters as a person counts them: a surrogate pair (an emoji, say) is one character. */
export function inputCharacterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1))) {
      count--;
      i++;
    }
  }
  return count;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `input.parameters.depth`; a key that is not a plain name is quoted: `input["a b"]`. */
function childPath(parent: string, key: string): string {
  return INPUT_FIELD_NAME_PATTERN.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

// ---------------------------------------------------------------------------------------------
// Checking an input
// ---------------------------------------------------------------------------------------------

/**
 * What is wrong with one field of an input. `empty` is the API's own check of a text a step
 * reads on every run (blank); the others are the declaration's.
 */
export type InputIssueCode =
  | 'required' | 'type' | 'enum' | 'min_length' | 'max_length' | 'minimum' | 'maximum' | 'min_items' | 'max_items' | 'unknown_field'
  | 'empty';

/** One field of an input that does not match the declaration. */
export interface InputIssue {
  /** Where: `input.topic`, `input.parameters.depth`, `input.sources[2]`. */
  readonly path: string;
  readonly code: InputIssueCode;
  /** A sentence that names the path: `input.topic: expected a string, got number`, `input.topic is required`. */
  readonly message: string;
}

/**
 * Every field of `input` that does not match the declaration `inputs` (at most `MAX_INPUT_ISSUES`),
 * in the order of the declaration, then unknown fields. A field that is `null` counts as absent
 * (refused only when it is required). An empty list means the input matches.
 *
 * @param root the name of the input in paths (`input`)
 */
export function checkInputAgainstDeclaration(inputs: InputFieldDocument, input: unknown, root = 'input'): InputIssue[] {
  const issues: InputIssue[] = [];
  checkValue(inputs, input, root, issues);
  return issues;
}

function checkValue(field: InputFieldDocument, value: unknown, path: string, issues: InputIssue[]): void {
  if (issues.length >= MAX_INPUT_ISSUES) return;
  const push = (code: InputIssueCode, message: string) => {
    if (issues.length < MAX_INPUT_ISSUES) issues.push({ path, code, message: `${path}: ${message}` });
  };
  if (!hasType(field.type, value)) {
    // A number where a whole number is expected is shown itself: `got 1.5` says more than `got number`.
    const got = field.type === 'integer' && typeof value === 'number' ? String(value) : typeName(value);
    push('type', `expected ${expectedType(field.type)}, got ${got}`);
    return;
  }
  switch (field.type) {
    case 'string': {
      const text = value as string;
      if (field.enum !== undefined && !field.enum.includes(text)) {
        push('enum', `expected one of ${field.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${shown(text)}`);
        return;
      }
      const length = inputCharacterCount(text);
      if (field.minLength !== undefined && length < field.minLength) {
        push('min_length', `expected at least ${plural(field.minLength, 'character')}, got ${length}`);
      }
      if (field.maxLength !== undefined && length > field.maxLength) {
        push('max_length', `expected at most ${plural(field.maxLength, 'character')}, got ${length}`);
      }
      return;
    }
    case 'number':
    case 'integer': {
      const n = value as number;
      if (field.enum !== undefined && !field.enum.includes(n)) {
        push('enum', `expected one of ${field.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${n}`);
        return;
      }
      if (field.minimum !== undefined && n < field.minimum) push('minimum', `expected at least ${field.minimum}, got ${n}`);
      if (field.maximum !== undefined && n > field.maximum) push('maximum', `expected at most ${field.maximum}, got ${n}`);
      return;
    }
    case 'array': {
      const items = value as unknown[];
      if (field.minItems !== undefined && items.length < field.minItems) {
        push('min_items', `expected at least ${plural(field.minItems, 'item')}, got ${items.length}`);
      }
      if (field.maxItems !== undefined && items.length > field.maxItems) {
        push('max_items', `expected at most ${plural(field.maxItems, 'item')}, got ${items.length}`);
      }
      if (field.items !== undefined) {
        const itemField = field.items;
        items.forEach((item, i) => checkValue(itemField, item, `${path}[${i}]`, issues));
      }
      return;
    }
    case 'object': {
      const object = value as Record<string, unknown>;
      const properties = field.properties ?? {};
      const required = new Set(field.required ?? []);
      for (const [key, child] of Object.entries(properties)) {
        const v = own(object, key);
        const p = childPath(path, key);
        if (v === undefined || v === null) {
          if (required.has(key) && issues.length < MAX_INPUT_ISSUES) {
            issues.push({ path: p, code: 'required', message: `${p} is required${v === null ? ' (got null)' : ''}: give ${expectedType(child.type)}` });
          }
          continue;
        }
        checkValue(child, v, p, issues);
      }
      if (field.additionalProperties === false) {
        const declared = Object.keys(properties);
        for (const key of Object.keys(object)) {
          if (Object.prototype.hasOwnProperty.call(properties, key)) continue;
          const p = childPath(path, key);
          if (issues.length < MAX_INPUT_ISSUES) {
            issues.push({
              path: p,
              code: 'unknown_field',
              message: `${p} is not a declared field of ${path}: ${declared.length > 0 ? `its fields are ${declared.join(', ')}` : 'it takes no fields'}; remove it`,
            });
          }
        }
      }
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Checking a declaration
// ---------------------------------------------------------------------------------------------

/**
 * Every problem of the declared input of a definition (an empty list when it has none or it is
 * valid), each naming the field and saying how to fix it; includes the checks of the steps'
 * reads of the input against the declaration.
 */
export function inputDeclarationProblems(doc: WorkflowDefinitionDocument, workflowLabel: string): string[] {
  const raw = (doc as unknown as Record<string, unknown>).inputs;
  if (raw === undefined) return [];
  const problems: string[] = [];
  if (!isObject(raw) || raw.type !== 'object') {
    problems.push(`${workflowLabel}: inputs is not an object declaration: declare the input's fields with inputs (a map of field names to WorkflowInput), `
      + 'or leave it out to accept any input');
    return problems;
  }
  const counter = { fields: 0 };
  checkField(raw, 'the input', [], 1, counter, problems, workflowLabel);
  if (counter.fields > LIMITS.maxInputFields) {
    problems.push(`${workflowLabel}: the input declares ${counter.fields} fields (nested ones included), more than the limit of ${LIMITS.maxInputFields}: `
      + 'declare fewer fields, or declare a large part as one object field with additionalFields: true');
  }
  if (problems.length === 0 && Array.isArray(doc.steps)) problems.push(...readProblems(doc, raw as unknown as InputFieldDocument, workflowLabel));
  return problems;
}

/** `workflow 'x': input 'topic'`, or the label alone where there is no workflow (a single declaration). */
function prefixed(workflowLabel: string, label: string): string {
  return workflowLabel ? `${workflowLabel}: ${label}` : label;
}

/**
 * The problems of one field declaration, each starting with `owner` (`WorkflowInput.text`): what
 * the definition classes check as soon as a field is declared.
 */
export function inputFieldProblems(field: InputFieldDocument, owner: string): string[] {
  const problems: string[] = [];
  checkField(field as unknown as Record<string, unknown>, owner, [], 1, { fields: 0 }, problems, '');
  return problems;
}

function checkField(field: Record<string, unknown>, label: string, path: readonly string[], depth: number,
  counter: { fields: number }, problems: string[], workflowLabel: string): void {
  const at = prefixed(workflowLabel, label);
  const type = field.type as InputFieldType;
  if (!INPUT_TYPES.includes(type)) {
    problems.push(`${at}: type ${shown(field.type)} is not an input type: use one of ${INPUT_TYPES.join(', ')} `
      + '(WorkflowInput.text(), .number(), .integer(), .flag(), .objectOf() or .listOf())');
    return;
  }
  const keywords = KEYWORDS[type];
  for (const key of Object.keys(field)) {
    if (key === 'type' || key === 'description' || Object.prototype.hasOwnProperty.call(keywords, key)) continue;
    const owner = INPUT_TYPES.find((t) => Object.prototype.hasOwnProperty.call(KEYWORDS[t], key));
    problems.push(owner
      ? `${at}: ${KEYWORDS[owner][key]} does not apply to ${expectedType(type).replace(/ \(.*\)$/, '')} input: remove it, or make the field a ${owner}`
      : `${at}: ${shown(key)} is not a supported keyword of an input declaration: remove it (supported: type, description, ${[...new Set(INPUT_TYPES.flatMap((t) => Object.keys(KEYWORDS[t])))].join(', ')})`);
  }
  if (field.description !== undefined) {
    if (typeof field.description !== 'string') {problems.push(`${at}: description is not a string: give a text description or leave it out`);} else if (field.description.length > MAX_DESCRIPTION_LENGTH) {
      problems.push(`${at}: description has ${field.description.length} characters, more than ${MAX_DESCRIPTION_LENGTH}: shorten it`);
    }
  }
  if (depth > LIMITS.maxInputDepth) {
    problems.push(`${at}: it is nested ${depth} levels deep, deeper than the limit of ${LIMITS.maxInputDepth}: flatten the declaration, `
      + 'or declare the deep part as an object with additionalFields: true');
    return;
  }
  switch (type) {
    case 'string':
      checkAllowed(field, type, at, problems, checkBounds(field, 'minLength', 'maxLength', true, at, problems));
      return;
    case 'number':
    case 'integer':
      checkAllowed(field, type, at, problems, checkBounds(field, 'minimum', 'maximum', false, at, problems));
      return;
    case 'array':
      checkBounds(field, 'minItems', 'maxItems', true, at, problems);
      if (!isObject(field.items)) {
        problems.push(`${at}: an array input needs items, the declaration of each item (for example WorkflowInput.text()): give items`);
      } else {
        counter.fields++;
        checkField(field.items, `${label} items`, [...path, '[]'], depth + 1, counter, problems, workflowLabel);
      }
      return;
    case 'object':
      checkObject(field, label, path, depth, counter, problems, workflowLabel);
      return;
    default:
      return;
  }
}

function checkObject(field: Record<string, unknown>, label: string, path: readonly string[], depth: number,
  counter: { fields: number }, problems: string[], workflowLabel: string): void {
  const at = prefixed(workflowLabel, label);
  const properties = field.properties === undefined ? {} : field.properties;
  if (!isObject(properties)) {
    problems.push(`${at}: fields is not a map of field names to declarations: give fields such as { depth: WorkflowInput.text() }`);
    return;
  }
  for (const [key, child] of Object.entries(properties)) {
    const childLabel = `input '${[...path, key].join('.')}'`;
    if (!INPUT_FIELD_NAME_PATTERN.test(key)) {
      problems.push(`${prefixed(workflowLabel, childLabel)}: the field name is not valid: a field name starts with a letter or '_', contains only `
        + `letters, digits, '_' and '-' (no dots: steps read fields by dot path), and has at most 63 characters; rename it, for example to '${
          key.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^[^A-Za-z_]+/, '').slice(0, 63) || 'field'}'`);
      continue;
    }
    counter.fields++;
    if (!isObject(child)) {
      problems.push(`${prefixed(workflowLabel, childLabel)}: the declaration is not an object: declare it with WorkflowInput (for example WorkflowInput.text())`);
      continue;
    }
    checkField(child, childLabel, [...path, key], depth + 1, counter, problems, workflowLabel);
  }
  if (field.required !== undefined) {
    if (!Array.isArray(field.required) || field.required.some((r) => typeof r !== 'string')) {
      problems.push(`${at}: required is not a list of field names: list the names of the fields that must be present`);
    } else {
      const seen = new Set<string>();
      for (const name of field.required as string[]) {
        if (seen.has(name)) problems.push(`${at}: required lists ${shown(name)} twice: list each field once`);
        seen.add(name);
        if (!Object.prototype.hasOwnProperty.call(properties, name)) {
          problems.push(`${at}: required lists ${shown(name)}, which is not one of its fields: declare it, or remove it from required`);
        }
      }
    }
  }
  if (field.additionalProperties !== undefined && typeof field.additionalProperties !== 'boolean') {
    problems.push(`${at}: additionalFields is ${shown(field.additionalProperties)}: set it to true (fields not declared are accepted) `
      + 'or false (refused), or leave it out');
  }
}

/** `minLength`/`maxLength` (or the number or item bounds): numbers, the smaller first. Returns whether they are valid. */
function checkBounds(field: Record<string, unknown>, minKey: string, maxKey: string, whole: boolean, at: string, problems: string[]): boolean {
  const min = field[minKey];
  const max = field[maxKey];
  let valid = true;
  for (const [key, value] of [[minKey, min], [maxKey, max]] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || (whole && (!Number.isInteger(value) || value < 0))) {
      problems.push(`${at}: ${key} is ${shown(value)}: set it to ${whole ? 'a whole number of at least 0' : 'a finite number'}, or leave it out`);
      valid = false;
    }
  }
  if (valid && typeof min === 'number' && typeof max === 'number' && min > max) {
    problems.push(`${at}: ${minKey} ${min} is more than ${maxKey} ${max}, so no value could be accepted: make ${minKey} at most ${maxKey}`);
    valid = false;
  }
  return valid;
}

/** `allowedValues`: values of the field's type, each unique and (when the bounds are valid) within them. */
function checkAllowed(field: Record<string, unknown>, type: 'string' | 'number' | 'integer', at: string, problems: string[], boundsValid: boolean): void {
  if (field.enum === undefined) return;
  const values = field.enum;
  if (!Array.isArray(values) || values.length === 0) {
    problems.push(`${at}: allowedValues is empty, so no value could be accepted: list the values allowed, or leave allowedValues out`);
    return;
  }
  if (values.length > LIMITS.maxInputEnumValues) {
    problems.push(`${at}: allowedValues lists ${values.length} values, more than the limit of ${LIMITS.maxInputEnumValues}: `
      + 'list fewer, or check the value in the agent');
  }
  const seen = new Set<unknown>();
  for (const v of values) {
    if (!hasType(type, v)) {
      problems.push(`${at}: allowed value ${shown(v)} is not ${expectedType(type)}: list only values of the field's type`);
      continue;
    }
    if (seen.has(v)) problems.push(`${at}: allowed value ${shown(v)} is listed twice: list each value once`);
    seen.add(v);
    if (!boundsValid) continue;
    const issues = checkInputAgainstDeclaration({ ...field, enum: undefined } as InputFieldDocument, v, 'value');
    if (issues.length > 0) {
      problems.push(`${at}: allowed value ${shown(v)} breaks the field's own rules (${issues.map((i) => i.message.replace(/^value: /, '')).join('; ')}), `
        + 'so it could never be accepted: remove it, or widen the rule');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The steps' reads of the input
// ---------------------------------------------------------------------------------------------

interface InputRead {
  readonly step: string;
  readonly ref: Extract<ValueRef, { from: 'input' }>;
  /** Whether every run reads it (not only the runs that take a choice's case). */
  readonly always: boolean;
}

function inputReads(steps: readonly StepDocument[], always: boolean, out: InputRead[]): InputRead[] {
  for (const s of steps) {
    const refs: unknown[] = s.type === 'agent' && isObject(s.input) ? Object.values(s.input)
      : s.type === 'choice' ? [s.value]
        : s.type === 'publish' ? [s.artifact] : [];
    for (const ref of refs) {
      if (isObject(ref) && ref.from === 'input' && typeof ref.path === 'string' && ref.path !== '') {
        out.push({ step: s.name, ref: ref as InputRead['ref'], always });
      }
    }
    if (s.type === 'parallel' && Array.isArray(s.branches)) {
      for (const b of s.branches) if (isObject(b) && Array.isArray(b.steps)) inputReads(b.steps, always, out);
    } else if (s.type === 'choice') {
      for (const c of Array.isArray(s.cases) ? s.cases : []) if (isObject(c) && Array.isArray(c.steps)) inputReads(c.steps, false, out);
      if (Array.isArray(s.otherwise)) inputReads(s.otherwise, false, out);
    }
  }
  return out;
}

/**
 * A step that reads an input field the declaration does not have (and refuses), that reads a field
 * inside a field that is not an object, or that needs (reads without `fromOptionalWorkflowInput`,
 * on every run) a field the declaration leaves optional: the declaration would not say what the
 * API in fact requires.
 */
function readProblems(doc: WorkflowDefinitionDocument, inputs: InputFieldDocument, workflowLabel: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const read of inputReads(doc.steps, true, [])) {
    const key = `${read.step}\0${read.ref.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const problem = readProblem(inputs, read);
    if (problem) problems.push(`${workflowLabel}: step '${read.step}' reads input '${read.ref.path}', ${problem}`);
  }
  return problems;
}

function readProblem(inputs: InputFieldDocument, read: InputRead): string | undefined {
  const segments = read.ref.path.split('.');
  let field: InputFieldDocument = inputs;
  const walked: string[] = [];
  let optionalAt: string | undefined;
  for (const segment of segments) {
    const here = walked.length === 0 ? 'the input' : `input '${walked.join('.')}'`;
    if (field.type !== 'object') {
      return `but ${here} is declared ${expectedType(field.type)}, which has no fields: read '${walked.join('.')}' itself, or declare it an object`;
    }
    const child = field.properties && Object.prototype.hasOwnProperty.call(field.properties, segment) ? field.properties[segment] : undefined;
    walked.push(segment);
    if (child === undefined) {
      if (field.additionalProperties === false) {
        return `which is not declared, and ${here} refuses fields it does not declare: declare '${walked.join('.')}' `
          + `${walked.length === 1 ? 'in inputs' : `in the fields of '${walked.slice(0, -1).join('.')}'`}, or fix the path`;
      }
      return undefined; // accepted undeclared: nothing is known about it
    }
    if (optionalAt === undefined && !(field.required ?? []).includes(segment)) optionalAt = walked.join('.');
    field = child;
  }
  if (read.always && read.ref.optional !== true && optionalAt !== undefined) {
    return `which every run needs (StepInput.fromWorkflowInput), but input '${optionalAt}' is declared optional: declare it with required: true, `
      + 'or read the field with StepInput.fromOptionalWorkflowInput (from_optional_workflow_input in Python)';
  }
  return undefined;
}

/**
 * A value the declaration accepts, for runs that need a made-up input (the cost command's counted
 * run, examples): the first allowed value; a string naming `label`, fitted to the length limits;
 * the smallest number allowed (0 when it is allowed); true; an object with its required fields;
 * an array of the fewest items allowed.
 */
export function sampleInputValue(field: InputFieldDocument, label: string): unknown {
  if (field.enum !== undefined && field.enum.length > 0) return field.enum[0];
  switch (field.type) {
    case 'string': {
      let text = `sample ${label}`;
      const min = field.minLength ?? 0;
      while (inputCharacterCount(text) < min) text += ' sample';
      return field.maxLength !== undefined ? [...text].slice(0, field.maxLength).join('') : text;
    }
    case 'number':
    case 'integer': {
      const low = field.minimum ?? (field.maximum !== undefined && field.maximum < 0 ? field.maximum : 0);
      const value = field.type === 'integer' ? Math.ceil(low) : low;
      return field.maximum !== undefined && value > field.maximum ? field.maximum : value;
    }
    case 'boolean':
      return true;
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of field.required ?? []) {
        const inner = field.properties?.[name];
        if (inner) out[name] = sampleInputValue(inner, `${label}.${name}`);
      }
      return out;
    }
    case 'array':
      return Array.from({ length: field.minItems ?? 0 }, (_, i) => (field.items ? sampleInputValue(field.items, `${label}[${i}]`) : null));
  }
}

/** The declaration of the field at `path` (dot-separated) of a declared input, if declared. */
export function declaredInputField(inputs: InputFieldDocument, path: string): InputFieldDocument | undefined {
  let field: InputFieldDocument | undefined = inputs;
  for (const part of path.split('.')) {
    field = field?.type === 'object' ? field.properties?.[part] : undefined;
    if (!field) return undefined;
  }
  return field;
}
