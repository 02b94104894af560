import { WorkflowStep } from './step';
import { StepInput } from './step-input';
import type { PublishStepDocument } from '../contract/definition';

/** Properties of a `PublishStep`. */
export interface PublishStepProps {
  /**
   * Name of the step: unique in the workflow, letters, digits, `-` and `_`, starting with a letter.
   * @default 'publish'
   */
  readonly stepName?: string;
  /** The artifact to publish: written by an earlier step, for example `StepInput.fromArtifact('writing', 'report')` (`StepInput.from_artifact` in Python). */
  readonly artifact: StepInput;
}

/**
 * Store the result: the runtime copies the artifact to the workflow's published location and
 * makes it the workflow's result (`result.report` in the API).
 */
export class PublishStep extends WorkflowStep {
  /** The artifact to publish. */
  public readonly artifact: StepInput;

  constructor(props: PublishStepProps) {
    super(props.stepName ?? 'publish');
    const ref = props.artifact._toValueRef();
    if (ref.from !== 'step') {
      throw new Error(`PublishStep '${this.stepName}': artifact comes from ${ref.from === 'input' ? 'the workflow input' : 'a literal'}, `
        + 'but only an artifact written by an earlier step can be published: pass StepInput.fromArtifact(stepName, artifactName)');
    }
    if (ref.path.length === 0) {
      throw new Error(`PublishStep '${this.stepName}': artifact is the whole output of step '${ref.step}': `
        + 'pass one artifact of it, StepInput.fromArtifact(stepName, artifactName)');
    }
    this.artifact = props.artifact;
  }

  /** @internal */
  public _render(): PublishStepDocument {
    return { type: 'publish', name: this.stepName, artifact: this.artifact._toValueRef() };
  }
}
