import { createHash, randomBytes, timingSafeEqual } from 'crypto';

/** A new workflow id; derived from the idempotency key when there is one, so a repeat maps to the same id. */
export function newWorkflowId(idempotencyKey?: string): string {
  if (idempotencyKey !== undefined) {
    return `wf-${sha256(`idempotency:${idempotencyKey}`).slice(0, 32)}`;
  }
  return `wf-${randomBytes(16).toString('hex')}`;
}

/** An unguessable, url-safe id for `/callbacks/{callback_id}`. */
export function newCallbackId(): string {
  return `cb-${randomBytes(18).toString('base64url')}`;
}

/** A bearer token for one callback (256 bits). Only its hash is stored. */
export function newCallbackToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(token: string, storedHash: string | undefined): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(sha256(token), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Workflow ids accepted in paths. */
export const WORKFLOW_ID_PATTERN = /^wf-[0-9a-f]{32}$/;
/** Callback ids accepted in paths. */
export const CALLBACK_ID_PATTERN = /^cb-[A-Za-z0-9_-]{24}$/;
