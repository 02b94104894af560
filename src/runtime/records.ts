/**
 * The workflow record as the API and the controller create it. Kept apart from the controller so
 * that the API does not bundle the durable SDK the controller imports.
 */
import type { WorkflowRecord } from './ports';

/** A new status projection record. */
export function newRecord(workflowId: string, definition: string, input: Record<string, unknown>, now: string,
  retentionDays = 14, idempotencyKey?: string): WorkflowRecord {
  return {
    workflowId,
    definitionName: definition,
    status: 'PENDING',
    awaiting: null,
    input,
    createdAt: now,
    updatedAt: now,
    steps: [],
    expiresAt: Math.floor(Date.parse(now) / 1000) + retentionDays * 86_400,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  };
}
