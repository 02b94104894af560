import { Duration, Token } from 'aws-cdk-lib';
import { IWorkflowAgent } from './agent';
import { StepBudget } from './budget';
import { checkStepBudget, renderStepBudget } from './budget-checks';
import { checkDuration, renderSeconds } from './checks';
import { RetryPolicy } from './retry';
import { WorkflowStep } from './step';
import { StepInput } from './step-input';
import { LIMITS } from '../contract/definition';
import type { AgentStepDocument, ValueRef } from '../contract/definition';

/** Properties of an `AgentStep`. */
export interface AgentStepProps {
  /** Name of the step: unique in the workflow, letters, digits, `-` and `_`, starting with a letter. */
  readonly stepName: string;
  /** The agent that runs the task. */
  readonly agent: IWorkflowAgent;
  /**
   * The task's input: each key becomes a field of the task envelope's `input`.
   * @default - no input
   */
  readonly input?: { [key: string]: StepInput };
  /**
   * How long one attempt may take before it counts as timed out (1 second to 7 days).
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * If set, the agent must heartbeat at least this often, or the attempt counts as timed out.
   * Shorter than `timeout`.
   * @default - no heartbeat is required
   */
  readonly heartbeatTimeout?: Duration;
  /**
   * How failed or timed-out attempts are retried.
   * @default RetryPolicy.exponential() (3 attempts, 10 seconds then doubling, at most 5 minutes apart)
   */
  readonly retry?: RetryPolicy;
  /**
   * What the step's agent may spend over all its attempts (tokens, estimated cost), as it reports
   * it. A heartbeat or report over it stops the run with `BUDGET_EXCEEDED`.
   * @default - no step budget (the workflow's budget, if any, still applies)
   */
  readonly budget?: StepBudget;
}

/** Hand a task to an agent and wait, without paying, for its report. */
export class AgentStep extends WorkflowStep {
  /** The agent that runs the task. */
  public readonly agent: IWorkflowAgent;
  /** How long one attempt may take. */
  public readonly timeout: Duration;
  /** How often the agent must heartbeat, if it must. */
  public readonly heartbeatTimeout?: Duration;
  /** How failed or timed-out attempts are retried. */
  public readonly retry: RetryPolicy;
  /** What the step's agent may spend, if limited. */
  public readonly budget?: StepBudget;
  private readonly input: { [key: string]: StepInput };

  constructor(props: AgentStepProps) {
    super(props.stepName);
    const owner = `AgentStep '${props.stepName}'`;
    if (!Token.isUnresolved(props.agent.agentName) && props.agent.agentName.trim().length === 0) {
      throw new Error(`${owner}: agent has an empty agentName: pass an agent with a name, for example WorkflowAgent.named('researcher')`);
    }
    this.timeout = props.timeout ?? Duration.hours(1);
    checkDuration(owner, 'timeout', this.timeout, LIMITS.minAgentTimeoutSeconds, LIMITS.maxAgentTimeoutSeconds,
      'an agent step\'s timeout (one attempt)');
    if (props.heartbeatTimeout) {
      checkDuration(owner, 'heartbeatTimeout', props.heartbeatTimeout, 1, LIMITS.maxAgentTimeoutSeconds, 'a heartbeat timeout');
      if (!props.heartbeatTimeout.isUnresolved() && !this.timeout.isUnresolved()
        && props.heartbeatTimeout.toMilliseconds() >= this.timeout.toMilliseconds()) {
        throw new Error(`${owner}: heartbeatTimeout is ${props.heartbeatTimeout.toHumanString()}, not shorter than timeout `
          + `(${this.timeout.toHumanString()}): pass a heartbeatTimeout shorter than the timeout, or none`);
      }
    }
    for (const key of Object.keys(props.input ?? {})) {
      if (key.trim().length === 0) throw new Error(`${owner}: input has a key that is empty: give every input a name`);
    }
    this.agent = props.agent;
    this.heartbeatTimeout = props.heartbeatTimeout;
    this.retry = props.retry ?? RetryPolicy.exponential();
    checkStepBudget(owner, props.budget);
    this.budget = props.budget ? { ...props.budget } : undefined;
    this.input = { ...props.input };
  }

  /** @internal */
  public _render(): AgentStepDocument {
    const owner = `AgentStep '${this.stepName}'`;
    const input: Record<string, ValueRef> = {};
    for (const [key, value] of Object.entries(this.input)) input[key] = value._toValueRef();
    return {
      type: 'agent',
      name: this.stepName,
      agent: this.agent.agentName,
      input,
      timeoutSeconds: renderSeconds(owner, 'timeout', this.timeout),
      ...(this.heartbeatTimeout ? { heartbeatTimeoutSeconds: renderSeconds(owner, 'heartbeatTimeout', this.heartbeatTimeout) } : {}),
      retry: this.retry._render(owner),
      ...(this.budget ? { budget: renderStepBudget(owner, this.budget) } : {}),
    };
  }
}
