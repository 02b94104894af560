import { Token } from 'aws-cdk-lib';
import { WorkflowStep } from './step';
import { StepInput } from './step-input';
import type { ChoiceCaseDocument, ChoiceStepDocument } from '../contract/definition';
import { checkBuiltByFactory } from '../private/closed-class';

/** One case of a `ChoiceStep`: steps that run when the value equals this case's value. */
export class ChoiceCase {
  /**
   * Run `steps` when the value equals this string.
   * @param value the string to compare with
   * @param steps the steps to run, in order (may be empty: do nothing)
   */
  public static whenString(value: string, steps: WorkflowStep[]): ChoiceCase {
    return new ChoiceCase(value, steps);
  }

  /**
   * Run `steps` when the value equals this number.
   * @param value the number to compare with
   * @param steps the steps to run, in order (may be empty: do nothing)
   */
  public static whenNumber(value: number, steps: WorkflowStep[]): ChoiceCase {
    if (!Token.isUnresolved(value) && !Number.isFinite(value)) {
      throw new Error(`ChoiceCase.whenNumber: value is ${value}: pass a finite number`);
    }
    return new ChoiceCase(value, steps);
  }

  /**
   * Run `steps` when the value equals this boolean.
   * @param value the boolean to compare with
   * @param steps the steps to run, in order (may be empty: do nothing)
   */
  public static whenBoolean(value: boolean, steps: WorkflowStep[]): ChoiceCase {
    return new ChoiceCase(value, steps);
  }

  /** The steps that run in this case. */
  public readonly steps: WorkflowStep[];
  private readonly equals: string | number | boolean;

  private constructor(equals: string | number | boolean, steps: WorkflowStep[]) {
    checkBuiltByFactory('ChoiceCase', steps, 'ChoiceCase.whenString(), whenNumber() or whenBoolean()');
    this.equals = equals;
    this.steps = [...steps];
  }

  /**
   * The value compared with, as `case "yes"`, `case 3`, `case true`.
   * @internal
   */
  public _label(): string {
    return `case ${JSON.stringify(this.equals)}`;
  }

  /** @internal */
  public _key(): string {
    return `${typeof this.equals}:${String(this.equals)}`;
  }

  /** @internal */
  public _render(): ChoiceCaseDocument {
    return { equals: this.equals, steps: this.steps.map((s) => s._render()) };
  }
}

/** Properties of a `ChoiceStep`. */
export interface ChoiceStepProps {
  /** Name of the step: unique in the workflow, letters, digits, `-` and `_`, starting with a letter. */
  readonly stepName: string;
  /** The value the cases are compared with, resolved when the step starts. */
  readonly value: StepInput;
  /** The cases, compared in order; the first equal one runs (at least one, no value twice). */
  readonly cases: ChoiceCase[];
  /**
   * Steps that run when no case matches.
   * @default - none: the workflow goes on after the choice
   */
  readonly otherwise?: WorkflowStep[];
}

/**
 * Run the steps of the first case whose value equals the resolved value, or the `otherwise`
 * steps. Steps after the choice cannot read the outputs of steps inside it (they may not have run).
 */
export class ChoiceStep extends WorkflowStep {
  /** The value the cases are compared with. */
  public readonly value: StepInput;
  /** The cases. */
  public readonly cases: ChoiceCase[];
  /** Steps that run when no case matches. */
  public readonly otherwise: WorkflowStep[];

  constructor(props: ChoiceStepProps) {
    super(props.stepName);
    const owner = `ChoiceStep '${props.stepName}'`;
    if (props.cases.length === 0) {
      throw new Error(`${owner}: cases is empty: give the choice at least one case (ChoiceCase.whenString(...))`);
    }
    const seen = new Set<string>();
    for (const c of props.cases) {
      if (seen.has(c._key())) {
        throw new Error(`${owner}: cases has ${c._label()} twice; only the first would ever run: remove the duplicate or merge its steps into the first`);
      }
      seen.add(c._key());
    }
    this.value = props.value;
    this.cases = [...props.cases];
    this.otherwise = [...(props.otherwise ?? [])];
  }

  /** @internal */
  public _render(): ChoiceStepDocument {
    return {
      type: 'choice',
      name: this.stepName,
      value: this.value._toValueRef(),
      cases: this.cases.map((c) => c._render()),
      otherwise: this.otherwise.map((s) => s._render()),
    };
  }

  /** @internal */
  public _nestedSteps(): WorkflowStep[] {
    return [...this.cases.flatMap((c) => c.steps), ...this.otherwise];
  }
}
