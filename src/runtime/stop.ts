/**
 * Stopping a running workflow from outside its controller: a cancel request, a budget it went
 * over, the kill switch. One path for all: the record says a stop was requested (and why), and
 * every callback the workflow waits on is failed with the cancellation, so a wait ends at once and
 * the controller ends the workflow at its next boundary, with the reason's status and code
 * (bookkeeping.ts `workflowEnded`). Agents still running are stopped when the workflow ends
 * (locally by the supervisor, which sees the end event).
 */
import { cancellationError } from './outcome';
import { CallbackNotPendingError, RuntimePorts, StopReason } from './ports';
import { BudgetBreach, BUDGET_EXCEEDED_CODE, describeBreach } from '../contract/budget';

/** The stop reason of a budget breach. */
export function budgetStopReason(breach: BudgetBreach): StopReason {
  return {
    status: 'FAILED',
    code: BUDGET_EXCEEDED_CODE,
    message: describeBreach(breach),
    detail: { budget: breach.budget, scope: breach.scope, ...(breach.step ? { step: breach.step } : {}), limit: breach.limit, used: breach.used },
  };
}

/**
 * Requests the stop of a workflow that has not ended. Returns false (and changes nothing) when it
 * has ended. A reason replaces none that is already there: the first reason wins.
 */
export async function requestStop(ports: Pick<RuntimePorts, 'store' | 'durable'>, workflowId: string, reason?: StopReason): Promise<boolean> {
  const { store, durable } = ports;
  const current = await store.getWorkflow(workflowId);
  const keep = current?.stopReason !== undefined || current?.cancelRequested === true;
  const patch = { cancelRequested: true, ...(reason && !keep ? { stopReason: reason } : {}) };
  if (!(await store.updateWorkflow(workflowId, patch, ['PENDING', 'RUNNING']))) return false;
  // Waits end at once; a workflow between waits ends at its next step boundary.
  for (const callback of await store.pendingCallbacks(workflowId)) {
    try {
      await durable.callbackFailure(callback, cancellationError(reason?.message));
    } catch (e) {
      if (!(e instanceof CallbackNotPendingError)) throw e;
    }
    await store.completeCallback(callback.callbackId, 'CANCELLED');
  }
  return true;
}
