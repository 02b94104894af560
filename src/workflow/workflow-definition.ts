import { AgentStep } from './agent-step';
import { WorkflowBudget } from './budget';
import { checkWorkflowBudget, renderWorkflowBudget } from './budget-checks';
import { checkName, UnresolvedValueError } from './checks';
import { WorkflowStep } from './step';
import { DEFINITION_SCHEMA_VERSION } from '../contract/definition';
import type { WorkflowDefinitionDocument } from '../contract/definition';
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
  /** What a run may spend, if limited. */
  public readonly budget?: WorkflowBudget;

  constructor(props: WorkflowDefinitionProps) {
    checkName('WorkflowDefinition', 'workflowName', props.workflowName);
    if (props.steps.length === 0) {
      throw new Error(`WorkflowDefinition '${props.workflowName}': steps is empty: give the workflow at least one step`);
    }
    this.workflowName = props.workflowName;
    this.description = props.description;
    this.steps = [...props.steps];
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
      steps: this.steps.map((s) => s._render()),
      ...(this.budget ? { budget: renderWorkflowBudget(`WorkflowDefinition '${this.workflowName}'`, this.budget) } : {}),
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
