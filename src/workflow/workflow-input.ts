import { Token } from 'aws-cdk-lib';
import { UnresolvedValueError } from './checks';
import type { InputFieldDocument, InputFieldType } from '../contract/definition';
import { inputFieldProblems } from '../contract/inputs';
import { propName } from '../private/checks';
import { checkBuiltByFactory } from '../private/closed-class';

/** A prop of a field declaration that is still a token when the definition is rendered. */
class UnresolvedInputError extends UnresolvedValueError {
  constructor(owner: string, prop: string) {
    super(owner, prop);
    this.message = `${owner}: ${propName(prop)} is an unresolved token, but a workflow definition is rendered to JSON at synth and needs `
      + `concrete values: pass a literal ${prop} rather than one from a parameter or another resource`;
  }
}

/** What every declared input field can say. */
export interface InputFieldProps {
  /**
   * Whether a start request must include the field. A field sent as `null` counts as absent.
   * @default false
   */
  readonly required?: boolean;
  /**
   * What the field is for, for people and for clients that read the definition.
   * @default - no description
   */
  readonly description?: string;
}

/** A text field (a JSON string). Lengths count characters; an emoji is one. */
export interface TextInputProps extends InputFieldProps {
  /**
   * The only values accepted.
   * @default - any text
   */
  readonly allowedValues?: string[];
  /**
   * Fewest characters.
   * @default - no minimum (an empty text is accepted)
   */
  readonly minLength?: number;
  /**
   * Most characters.
   * @default - no maximum of its own (the whole input is at most 32 KB)
   */
  readonly maxLength?: number;
}

/** A number field (a JSON number; `integer` accepts whole numbers only). */
export interface NumberInputProps extends InputFieldProps {
  /**
   * The only values accepted.
   * @default - any number in range
   */
  readonly allowedValues?: number[];
  /**
   * Smallest value accepted (included).
   * @default - no minimum
   */
  readonly minimum?: number;
  /**
   * Largest value accepted (included).
   * @default - no maximum
   */
  readonly maximum?: number;
}

/** An object field (a JSON object) with fields of its own. */
export interface ObjectInputProps extends InputFieldProps {
  /**
   * Its fields, by name (letters, digits, `_` and `-`, starting with a letter or `_`).
   * @default - no declared fields
   */
  readonly fields?: { [name: string]: WorkflowInput };
  /**
   * Whether fields it does not declare are accepted (and passed on to the steps unchecked).
   * @default false - a field it does not declare is refused, so a misspelt optional field is caught
   */
  readonly additionalFields?: boolean;
}

/** A list field (a JSON array) whose items all have one declaration. */
export interface ListInputProps extends InputFieldProps {
  /** The declaration every item must match (its `required` does not apply: items are never absent). */
  readonly items: WorkflowInput;
  /**
   * Fewest items.
   * @default - no minimum (an empty list is accepted)
   */
  readonly minItems?: number;
  /**
   * Most items.
   * @default - no maximum of its own (the whole input is at most 32 KB)
   */
  readonly maxItems?: number;
}

/**
 * A declared field of a workflow's input (`WorkflowDefinitionProps.inputs`). `POST /workflows`,
 * locally and deployed, refuses an input that does not match the declaration with a 400 naming
 * each bad field, before anything is written.
 *
 * Each factory is named after the JSON type it accepts: `text` (string), `number`, `integer`,
 * `flag` (boolean), `objectOf` (object) and `listOf` (array).
 */
export class WorkflowInput {
  /** A text (JSON string). */
  public static text(props: TextInputProps = {}): WorkflowInput {
    return WorkflowInput.declare('WorkflowInput.text', 'string', props, {
      ...(props.allowedValues !== undefined ? { enum: [...props.allowedValues] } : {}),
      minLength: props.minLength,
      maxLength: props.maxLength,
    });
  }

  /** A number (JSON number, fractions allowed). */
  public static number(props: NumberInputProps = {}): WorkflowInput {
    return WorkflowInput.declare('WorkflowInput.number', 'number', props, WorkflowInput.numberRules(props));
  }

  /** A whole number (a JSON number without a fraction). */
  public static integer(props: NumberInputProps = {}): WorkflowInput {
    return WorkflowInput.declare('WorkflowInput.integer', 'integer', props, WorkflowInput.numberRules(props));
  }

  /** A flag: `true` or `false` (JSON boolean). */
  public static flag(props: InputFieldProps = {}): WorkflowInput {
    return WorkflowInput.declare('WorkflowInput.flag', 'boolean', props, {});
  }

  /** An object (JSON object) with declared fields. */
  public static objectOf(props: ObjectInputProps = {}): WorkflowInput {
    const fields = props.fields ?? {};
    return WorkflowInput.declare('WorkflowInput.objectOf', 'object', props, {}, fields, props.additionalFields ?? false);
  }

  /** A list (JSON array) of items of one declaration. */
  public static listOf(props: ListInputProps): WorkflowInput {
    const owner = 'WorkflowInput.listOf';
    if (props.items === undefined || !(props.items instanceof WorkflowInput)) {
      throw new Error(`${owner}: items is missing: declare every item, for example items: WorkflowInput.text()`);
    }
    if (props.items.required) {
      throw new Error(`${owner}: items is declared with required: true, which does not apply to list items (an item is never absent): `
        + 'leave required out of the items\' declaration, and set minItems (min_items in Python) to refuse an empty list');
    }
    return WorkflowInput.declare(owner, 'array', props, { minItems: props.minItems, maxItems: props.maxItems }, undefined, undefined, props.items);
  }

  private static numberRules(props: NumberInputProps): Partial<InputFieldDocument> {
    return {
      ...(props.allowedValues !== undefined ? { enum: [...props.allowedValues] } : {}),
      minimum: props.minimum,
      maximum: props.maximum,
    };
  }

  private static declare(owner: string, type: InputFieldType, props: InputFieldProps, rules: Partial<InputFieldDocument>,
    fields?: { [name: string]: WorkflowInput }, additionalFields?: boolean, items?: WorkflowInput): WorkflowInput {
    const input = new WorkflowInput(owner, type, props, rules, fields, additionalFields, items);
    // A token cannot be checked now; rendering the definition refuses it (it needs concrete values).
    if (!input.hasUnresolvedProp()) {
      const problems = inputFieldProblems(input._render(), owner);
      if (problems.length > 0) throw new Error(problems.join('\n'));
    }
    return input;
  }

  /** The JSON type the field accepts: `string`, `number`, `integer`, `boolean`, `object` or `array`. */
  public readonly inputType: string;
  /** Whether a start request must include the field. */
  public readonly required: boolean;
  /** What the field is for, if described. */
  public readonly description?: string;

  private readonly owner: string;
  private readonly rules: Partial<InputFieldDocument>;
  private readonly fields?: { [name: string]: WorkflowInput };
  private readonly additionalFields?: boolean;
  private readonly items?: WorkflowInput;

  private constructor(owner: string, type: InputFieldType, props: InputFieldProps, rules: Partial<InputFieldDocument>,
    fields?: { [name: string]: WorkflowInput }, additionalFields?: boolean, items?: WorkflowInput) {
    checkBuiltByFactory('WorkflowInput', owner, 'the static factories of WorkflowInput (text(), number(), integer(), flag(), objectOf(), listOf())');
    this.owner = owner;
    this.inputType = type;
    this.required = props.required ?? false;
    this.description = props.description;
    this.rules = rules;
    this.fields = fields === undefined ? undefined : { ...fields };
    this.additionalFields = additionalFields;
    this.items = items;
    for (const [name, field] of Object.entries(this.fields ?? {})) {
      if (!(field instanceof WorkflowInput)) {
        throw new Error(`${owner}: field '${name}' is not a WorkflowInput: declare it with WorkflowInput.text(), .number(), .integer(), `
          + '.flag(), .objectOf() or .listOf()');
      }
    }
  }

  /**
   * The declaration as a JSON Schema subset (`InputFieldDocument`).
   * @internal
   */
  public _render(): InputFieldDocument {
    const unresolved = this.unresolvedProp();
    if (unresolved !== undefined) throw new UnresolvedInputError(this.owner, unresolved);
    const doc: Record<string, unknown> = { type: this.inputType };
    if (this.description !== undefined) doc.description = this.description;
    for (const [key, value] of Object.entries(this.rules)) if (value !== undefined) doc[key] = value;
    if (this.fields !== undefined) {
      doc.properties = Object.fromEntries(Object.entries(this.fields).map(([name, f]) => [name, f._render()]));
      const required = Object.entries(this.fields).filter(([, f]) => f.required).map(([name]) => name);
      if (required.length > 0) doc.required = required;
    }
    if (this.additionalFields !== undefined) doc.additionalProperties = this.additionalFields;
    if (this.items !== undefined) doc.items = this.items._render();
    return doc as unknown as InputFieldDocument;
  }

  /** The first prop of this field (not of those inside it) that is still a token, if any. */
  private unresolvedProp(): string | undefined {
    if (this.description !== undefined && Token.isUnresolved(this.description)) return 'description';
    const props: Record<string, string> = {
      enum: 'allowedValues',
      minLength: 'minLength',
      maxLength: 'maxLength',
      minimum: 'minimum',
      maximum: 'maximum',
      minItems: 'minItems',
      maxItems: 'maxItems',
    };
    for (const [key, value] of Object.entries(this.rules)) {
      const values: unknown[] = Array.isArray(value) ? value : [value];
      if (values.some((v) => v !== undefined && Token.isUnresolved(v))) return props[key] ?? key;
    }
    return undefined;
  }

  /** Whether a prop of this field or of a field inside it is still a token. */
  private hasUnresolvedProp(): boolean {
    return this.unresolvedProp() !== undefined
      || Object.values(this.fields ?? {}).some((f) => f.hasUnresolvedProp())
      || (this.items?.hasUnresolvedProp() ?? false);
  }
}
