/**
 * Layout of the artifact store. Each agent writes only under its own prefix, which lets the
 * orchestrator scope an agent's write permission to `agents/<agent>/*`.
 *
 * | prefix | written by |
 * |---|---|
 * | `agents/<agent>/<workflowId>/<step>/attempt-<n>/` | the agent running that attempt |
 * | `published/<workflowId>/` | the controller's publish step |
 */
export const ARTIFACT_ROOTS = { agents: 'agents/', published: 'published/' } as const;

/** Everything one agent may write. */
export function agentPrefix(agent: string): string {
  return `${ARTIFACT_ROOTS.agents}${agent}/`;
}

/** Where the agent of one step writes (any attempt). */
export function stepArtifactPrefix(agent: string, workflowId: string, stepName: string): string {
  return `${agentPrefix(agent)}${workflowId}/${stepName}/`;
}

/** Where the agent of one attempt writes: handed over in its task envelope. */
export function attemptArtifactPrefix(agent: string, workflowId: string, stepName: string, attempt: number): string {
  return `${stepArtifactPrefix(agent, workflowId, stepName)}attempt-${attempt}/`;
}

/** Where a workflow's published result goes. */
export function publishedPrefix(workflowId: string): string {
  return `${ARTIFACT_ROOTS.published}${workflowId}/`;
}
