import { Token } from 'aws-cdk-lib';
import { LIMITS } from '../contract/definition';
import { suggestName } from '../contract/validate';

/**
 * An agent a workflow step can hand a task to.
 *
 * A `ContainerAgent` implements it; `WorkflowAgent.named()` refers to an agent by name only
 * (for local runs, or a definition kept apart from the constructs).
 */
export interface IWorkflowAgent {
  /** Name of the agent, as the orchestrator or the local server knows it. */
  readonly agentName: string;
}

/** Refer to agents by name. */
export class WorkflowAgent {
  /**
   * An agent known by name only: the orchestrator or the local server must know an agent of
   * this name when the workflow runs.
   *
   * @param agentName name of the agent, for example `researcher`
   */
  public static named(agentName: string): IWorkflowAgent {
    if (!Token.isUnresolved(agentName) && agentName.trim().length === 0) {
      throw new Error(`WorkflowAgent.named: agentName is ${JSON.stringify(agentName)}: pass the name of an agent, for example 'researcher'`);
    }
    // The name becomes an artifact prefix (agents/<name>/) and part of IAM resource patterns.
    if (!Token.isUnresolved(agentName) && !LIMITS.namePattern.test(agentName)) {
      throw new Error(`WorkflowAgent.named: agentName ${JSON.stringify(agentName)} is not valid: an agent name starts with a letter, `
        + `contains only letters, digits, '-' and '_', and has at most 63 characters; use for example '${suggestName(agentName)}'`);
    }
    return new NamedAgent(agentName);
  }

  private constructor() {}
}

class NamedAgent implements IWorkflowAgent {
  constructor(public readonly agentName: string) {}
}
