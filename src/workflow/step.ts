import { checkName } from './checks';
import type { StepDocument } from '../contract/definition';

/** A step of a workflow. Use one of its subclasses (`AgentStep`, `ApprovalStep`, ...). */
export abstract class WorkflowStep {
  /** Name of the step: unique in its workflow, nested steps included. */
  public readonly stepName: string;

  protected constructor(stepName: string) {
    checkName(new.target.name, 'stepName', stepName);
    this.stepName = stepName;
  }

  /** @internal */
  public abstract _render(): StepDocument;

  /**
   * The steps nested directly in this one (branches and cases), in document order.
   * @internal
   */
  public _nestedSteps(): WorkflowStep[] {
    return [];
  }
}
