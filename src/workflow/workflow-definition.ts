import { AgentStep } from './agent-step';
import { WorkflowBudget } from './budget';
import { checkWorkflowBudget, renderWorkflowBudget } from './budget-checks';
import { checkName, UnresolvedValueError } from './checks';
import { WorkflowStep } from './step';
import { WorkflowInput } from './workflow-input';
import { DEFINITION_SCHEMA_VERSION } from '../contract/definition';
import type { InputsDocument, WorkflowDefinitionDocument } from '../contract/definition';
import { validateDefinition } from '../contract/validate';

/** Properties of a `WorkflowDefinition`. */
export interface WorkflowDefinitionProps {
  /** Name of the workflow: letters, digits, `-` and `_`, starting with a letter. */
  readonly workflowName: string;
  /**
   * What the workflow does, for people.
   * @default - no description
   */
  readonly description?: string;
  /** The steps, run in order (at least one). */
  readonly steps: WorkflowStep[];
  /**
   * The fields of the workflow input (the body of `POST /workflows`), by name. When given, the API
   * (local and deployed) refuses an input that does not match them with a 400 naming each bad
   * field, before anything is written; and every input field a step reads must fit them.
   * @default - no declaration: any JSON object is accepted, and only the fields steps read are checked (present, not empty)
   */
  readonly inputs?: { [name: string]: WorkflowInput };
  /**
   * Whether top-level input fields that `inputs` does not declare are accepted (and passed on
   * unchecked). Needs `inputs`.
   * @default false - an undeclared field is refused, so a misspelt optional field is caught
   */
  readonly additionalInputs?: boolean;
  /**
   * What a run may spend: wall-clock time, agent attempts, model tokens, estimated cost. A run
   * over it ends FAILED with the error code `BUDGET_EXCEEDED` and its running agent tasks are
   * cancelled.
   * @default - no workflow budget
   */
  readonly budget?: WorkflowBudget;
}

/**
 * A declared workflow: steps that render to the JSON definition the durable controller (or the
 * local server) interprets.
 */
export class WorkflowDefinition {
  /** Name of the workflow. */
  public readonly workflowName: string;
  /** What the workflow does, if described. */
  public readonly description?: string;
  /** The top-level steps, in order. */
  public readonly steps: WorkflowStep[];
  /** The declared input fields, if declared. */
  public readonly inputs?: { [name: string]: WorkflowInput };
  /** Whether top-level input fields that are not declared are accepted (false when `inputs` is not given). */
  public readonly additionalInputs: boolean;
  /** What a run may spend, if limited. */
  public readonly budget?: WorkflowBudget;

  constructor(props: WorkflowDefinitionProps) {
    checkName('WorkflowDefinition', 'workflowName', props.workflowName);
    if (props.steps.length === 0) {
      throw new Error(`WorkflowDefinition '${props.workflowName}': steps is empty: give the workflow at least one step`);
    }
    if (props.additionalInputs !== undefined && props.inputs === undefined) {
      throw new Error(`WorkflowDefinition '${props.workflowName}': additionalInputs (additional_inputs in Python) is set, but inputs is not: `
        + 'declare the input fields with inputs, or leave additionalInputs out (without inputs any input is accepted)');
    }
    for (const [name, input] of Object.entries(props.inputs ?? {})) {
      if (!(input instanceof WorkflowInput)) {
        throw new Error(`WorkflowDefinition '${props.workflowName}': input '${name}' is not a WorkflowInput: declare it with WorkflowInput.text(), `
          + '.number(), .integer(), .flag(), .objectOf() or .listOf()');
      }
    }
    this.workflowName = props.workflowName;
    this.description = props.description;
    this.steps = [...props.steps];
    this.inputs = props.inputs === undefined ? undefined : { ...props.inputs };
    this.additionalInputs = props.additionalInputs ?? false;
    checkWorkflowBudget(`WorkflowDefinition '${props.workflowName}'`, props.budget);
    this.budget = props.budget ? { ...props.budget } : undefined;
  }

  /** Names of the distinct agents the workflow uses, in the order they first appear. */
  public get agentNames(): string[] {
    const names = new Set<string>();
    for (const s of this.everyStep()) if (s instanceof AgentStep) names.add(s.agent.agentName);
    return [...names];
  }

  /** Names of every step, nested ones included, in document order. */
  public get stepNames(): string[] {
    return this.everyStep().map((s) => s.stepName);
  }

  /**
   * Every problem of the definition (an empty list when it is valid), each naming the step
   * and saying how to fix it.
   *
   * @param knownAgents when given, every agent step must use one of these agents
   */
  public validate(knownAgents?: string[]): string[] {
    let doc: WorkflowDefinitionDocument;
    try {
      doc = this._toDocument();
    } catch (e) {
      if (e instanceof UnresolvedValueError) return [e.message];
      throw e;
    }
    return validateDefinition(doc, { knownAgents });
  }

  /**
   * The definition as JSON, as the controller reads it.
   *
   * @param knownAgents when given, every agent step must use one of these agents
   * @throws an Error listing every problem when the definition is not valid
   */
  public toJson(knownAgents?: string[]): string {
    const problems = this.validate(knownAgents);
    if (problems.length > 0) {
      throw new Error(`workflow '${this.workflowName}' is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`
        + problems.map((p) => `- ${p}`).join('\n'));
    }
    return JSON.stringify(this._toDocument());
  }

  /**
   * The definition document, not validated.
   * @internal
   */
  public _toDocument(): WorkflowDefinitionDocument {
    return {
      schemaVersion: DEFINITION_SCHEMA_VERSION,
      name: this.workflowName,
      ...(this.description !== undefined ? { description: this.description } : {}),
      ...(this.inputs !== undefined ? { inputs: this.renderInputs(this.inputs) } : {}),
      steps: this.steps.map((s) => s._render()),
      ...(this.budget ? { budget: renderWorkflowBudget(`WorkflowDefinition '${this.workflowName}'`, this.budget) } : {}),
    };
  }

  private renderInputs(inputs: { [name: string]: WorkflowInput }): InputsDocument {
    const entries = Object.entries(inputs);
    const required = entries.filter(([, f]) => f.required).map(([name]) => name);
    return {
      type: 'object',
      properties: Object.fromEntries(entries.map(([name, f]) => [name, f._render()])),
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: this.additionalInputs,
    };
  }

  private everyStep(): WorkflowStep[] {
    const out: WorkflowStep[] = [];
    const visit = (steps: WorkflowStep[]) => {
      for (const s of steps) {
        out.push(s);
        visit(s._nestedSteps());
      }
    };
    visit(this.steps);
    return out;
  }
}
