import { Token } from 'aws-cdk-lib';
import { checkName, checkWholeNumber, renderNumber } from './checks';
import { WorkflowStep } from './step';
import { LIMITS } from '../contract/definition';
import type { BranchDocument, ParallelStepDocument } from '../contract/definition';

/** Properties of a `ParallelBranch`. */
export interface ParallelBranchProps {
  /** Name of the branch: unique in its parallel step, letters, digits, `-` and `_`, starting with a letter. */
  readonly branchName: string;
  /** The steps of the branch, run in order (at least one). */
  readonly steps: WorkflowStep[];
}

/** One branch of a `ParallelStep`: a sequence of steps. */
export class ParallelBranch {
  /** Name of the branch. */
  public readonly branchName: string;
  /** The steps of the branch, run in order. */
  public readonly steps: WorkflowStep[];

  constructor(props: ParallelBranchProps) {
    checkName('ParallelBranch', 'branchName', props.branchName);
    if (props.steps.length === 0) {
      throw new Error(`ParallelBranch '${props.branchName}': steps is empty: give the branch at least one step`);
    }
    this.branchName = props.branchName;
    this.steps = [...props.steps];
  }

  /** @internal */
  public _render(): BranchDocument {
    return { name: this.branchName, steps: this.steps.map((s) => s._render()) };
  }
}

/** Properties of a `ParallelStep`. */
export interface ParallelStepProps {
  /** Name of the step: unique in the workflow, letters, digits, `-` and `_`, starting with a letter. */
  readonly stepName: string;
  /** The branches, run side by side (1 to 50). */
  readonly branches: ParallelBranch[];
  /**
   * How many branches run at once.
   * @default - all branches at once
   */
  readonly maxConcurrency?: number;
  /**
   * How many branches must succeed for the step to succeed. When fewer than all, later steps
   * cannot read the outputs of steps inside the branches.
   * @default - all branches
   */
  readonly minSuccessful?: number;
}

/** Run branches of steps side by side. */
export class ParallelStep extends WorkflowStep {
  /** The branches. */
  public readonly branches: ParallelBranch[];
  /** How many branches run at once. */
  public readonly maxConcurrency: number;
  /** How many branches must succeed. */
  public readonly minSuccessful: number;

  constructor(props: ParallelStepProps) {
    super(props.stepName);
    const owner = `ParallelStep '${props.stepName}'`;
    const count = props.branches.length;
    if (count === 0) throw new Error(`${owner}: branches is empty: give the parallel step at least one branch`);
    if (count > LIMITS.maxParallelBranches) {
      throw new Error(`${owner}: branches has ${count} branches, more than the limit of ${LIMITS.maxParallelBranches}: `
        + 'split them into several parallel steps');
    }
    const seen = new Set<string>();
    for (const b of props.branches) {
      if (!Token.isUnresolved(b.branchName) && seen.has(b.branchName)) {
        throw new Error(`${owner}: branches has two branches named '${b.branchName}': rename one of them (branch names are unique within a parallel step)`);
      }
      seen.add(b.branchName);
    }
    this.maxConcurrency = props.maxConcurrency ?? count;
    this.minSuccessful = props.minSuccessful ?? count;
    checkWholeNumber(owner, 'maxConcurrency', this.maxConcurrency, 1, Number.MAX_SAFE_INTEGER,
      `pass how many branches may run at once (${count} runs them all at once)`);
    checkWholeNumber(owner, 'minSuccessful', this.minSuccessful, 1, count,
      `pass how many of the ${count} branches must succeed`);
    this.branches = [...props.branches];
  }

  /** @internal */
  public _render(): ParallelStepDocument {
    const owner = `ParallelStep '${this.stepName}'`;
    return {
      type: 'parallel',
      name: this.stepName,
      branches: this.branches.map((b) => b._render()),
      maxConcurrency: renderNumber(owner, 'maxConcurrency', this.maxConcurrency),
      minSuccessful: renderNumber(owner, 'minSuccessful', this.minSuccessful),
    };
  }

  /** @internal */
  public _nestedSteps(): WorkflowStep[] {
    return this.branches.flatMap((b) => b.steps);
  }
}
