import { Token } from 'aws-cdk-lib';
import { checkName, checkPath } from './checks';
import type { ValueRef } from '../contract/definition';
import { checkBuiltByFactory } from '../private/closed-class';

/**
 * A value a step reads when it starts: a field of the workflow input, a field of an earlier
 * step's output (an artifact, for instance), or a constant.
 */
export class StepInput {
  /**
   * A field of the workflow's input. It is required: a start request whose input lacks it is
   * rejected (use `fromOptionalWorkflowInput`, `from_optional_workflow_input` in Python, for a field that may be absent).
   *
   * @param path dot path into the input (`topic`, `parameters.depth`); `''` is the whole input
   */
  public static fromWorkflowInput(path: string): StepInput {
    checkPath('StepInput.fromWorkflowInput', 'path', path, true);
    return new StepInput({ from: 'input', path });
  }

  /**
   * A field of the workflow's input that may be absent: it resolves to `null` when the input
   * has no such field (a start request without it is accepted).
   *
   * @param path dot path into the input (`parameters`, `parameters.depth`)
   */
  public static fromOptionalWorkflowInput(path: string): StepInput {
    checkPath('StepInput.fromOptionalWorkflowInput', 'path', path, false);
    return new StepInput({ from: 'input', path, optional: true });
  }

  /**
   * A field of the output of an earlier step.
   *
   * @param stepName name of a step that runs before the step reading it
   * @param path dot path into that step's output (`outcome`, `artifacts.report`); `''` is the whole output
   */
  public static fromStepOutput(stepName: string, path: string): StepInput {
    checkName('StepInput.fromStepOutput', 'stepName', stepName);
    checkPath('StepInput.fromStepOutput', 'path', path, true);
    return new StepInput({ from: 'step', step: stepName, path });
  }

  /**
   * An artifact written by an earlier step (its key in the artifact store): the step output's
   * `artifacts.<artifactName>`.
   *
   * @param stepName name of a step that runs before the step reading it
   * @param artifactName name of the artifact, as the agent reported it (for example `report`)
   */
  public static fromArtifact(stepName: string, artifactName: string): StepInput {
    checkName('StepInput.fromArtifact', 'stepName', stepName);
    if (!Token.isUnresolved(artifactName) && (artifactName.length === 0 || artifactName.includes('.'))) {
      throw new Error(`StepInput.fromArtifact: artifactName is ${JSON.stringify(artifactName)}: `
        + 'pass the name the agent gave the artifact, without dots (for example \'report\')');
    }
    return new StepInput({ from: 'step', step: stepName, path: `artifacts.${artifactName}` });
  }

  /** A constant string. */
  public static literalString(value: string): StepInput {
    return new StepInput({ from: 'literal', value });
  }

  /** A constant number (finite). */
  public static literalNumber(value: number): StepInput {
    if (!Token.isUnresolved(value) && !Number.isFinite(value)) {
      throw new Error(`StepInput.literalNumber: value is ${value}: pass a finite number`);
    }
    return new StepInput({ from: 'literal', value });
  }

  /** A constant boolean. */
  public static literalBoolean(value: boolean): StepInput {
    return new StepInput({ from: 'literal', value });
  }

  private readonly ref: ValueRef;

  private constructor(ref: ValueRef) {
    checkBuiltByFactory('StepInput', ref, 'the static factories of StepInput (fromWorkflowInput(), fromStepOutput(), fromArtifact(), literalString(), ...)');
    this.ref = ref;
  }

  /** @internal */
  public _toValueRef(): ValueRef {
    return this.ref;
  }
}
