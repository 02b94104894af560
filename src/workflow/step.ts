import { checkName } from './checks';
import type { StepDocument } from '../contract/definition';
import { checkLibrarySubclass } from '../private/closed-class';

/**
 * A step of a workflow. Use one of its subclasses (`AgentStep`, `ApprovalStep`, `ChoiceStep`,
 * `ParallelStep`, `PublishStep`); the controller runs only these kinds.
 *
 * Not extensible: a class that extends `WorkflowStep` directly (in TypeScript or Python) is refused
 * when it is constructed, as the library renders each step through an internal method that only its
 * own step kinds implement. Subclasses of the step kinds keep their kind's behaviour.
 */
export abstract class WorkflowStep {
  /** Name of the step: unique in its workflow, nested steps included. */
  public readonly stepName: string;

  protected constructor(stepName: string) {
    checkLibrarySubclass('WorkflowStep', new.target === WorkflowStep, '_render', this,
      'AgentStep, ApprovalStep, ChoiceStep, ParallelStep or PublishStep (or extend one of them)');
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
