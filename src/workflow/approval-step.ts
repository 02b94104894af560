import { Duration, Token } from 'aws-cdk-lib';
import { checkDuration, renderSeconds } from './checks';
import { WorkflowStep } from './step';
import { LIMITS } from '../contract/definition';
import type { ApprovalStepDocument } from '../contract/definition';

/** What an approval that nobody answers in time becomes. */
export enum ApprovalTimeoutAction {
  /** Rejected: the workflow ends REJECTED (or continues, with `continueOnRejection`, `continue_on_rejection` in Python). */
  REJECT = 'REJECT',
  /** Approved: the workflow goes on. */
  APPROVE = 'APPROVE',
  /** The step fails, and with it the workflow. */
  FAIL = 'FAIL',
}

/** Properties of an `ApprovalStep`. */
export interface ApprovalStepProps {
  /** Name of the step: unique in the workflow, letters, digits, `-` and `_`, starting with a letter. */
  readonly stepName: string;
  /** What the approver is asked to decide (at most 2000 characters). */
  readonly prompt: string;
  /**
   * How long to wait for an answer (1 second to 30 days).
   * @default Duration.hours(24)
   */
  readonly timeout?: Duration;
  /**
   * What an unanswered approval becomes when the timeout passes.
   * @default ApprovalTimeoutAction.REJECT
   */
  readonly onTimeout?: ApprovalTimeoutAction;
  /**
   * Whether a rejection lets the workflow go on (the step's output `outcome` is then `REJECTED`,
   * for a `ChoiceStep` to act on) instead of ending it as REJECTED.
   * @default false
   */
  readonly continueOnRejection?: boolean;
}

/** Wait for a person to approve or reject, with a timeout. */
export class ApprovalStep extends WorkflowStep {
  /** What the approver is asked to decide. */
  public readonly prompt: string;
  /** How long to wait for an answer. */
  public readonly timeout: Duration;
  /** What an unanswered approval becomes. */
  public readonly onTimeout: ApprovalTimeoutAction;
  /** Whether a rejection lets the workflow go on. */
  public readonly continueOnRejection: boolean;

  constructor(props: ApprovalStepProps) {
    super(props.stepName);
    const owner = `ApprovalStep '${props.stepName}'`;
    if (!Token.isUnresolved(props.prompt)) {
      if (props.prompt.trim().length === 0) {
        throw new Error(`${owner}: prompt is empty: say what the approver is asked to decide`);
      }
      if (props.prompt.length > LIMITS.maxPromptLength) {
        throw new Error(`${owner}: prompt has ${props.prompt.length} characters, more than the limit of ${LIMITS.maxPromptLength}: `
          + 'shorten it and link to the details');
      }
    }
    this.timeout = props.timeout ?? Duration.hours(24);
    checkDuration(owner, 'timeout', this.timeout, LIMITS.minApprovalTimeoutSeconds, LIMITS.maxApprovalTimeoutSeconds,
      'an approval\'s timeout');
    this.prompt = props.prompt;
    this.onTimeout = props.onTimeout ?? ApprovalTimeoutAction.REJECT;
    this.continueOnRejection = props.continueOnRejection ?? false;
  }

  /** @internal */
  public _render(): ApprovalStepDocument {
    return {
      type: 'approval',
      name: this.stepName,
      prompt: this.prompt,
      timeoutSeconds: renderSeconds(`ApprovalStep '${this.stepName}'`, 'timeout', this.timeout),
      onTimeout: this.onTimeout,
      onReject: this.continueOnRejection ? 'CONTINUE' : 'END',
    };
  }
}
