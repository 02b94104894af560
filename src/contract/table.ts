/**
 * Key layout of the workflow state table (DynamoDB). The DurableOrchestrator construct creates
 * the table and its indexes from these names; the DynamoDB adapter of the WorkflowStore port
 * reads and writes items with them.
 *
 * | item | pk | sk | notes |
 * |---|---|---|---|
 * | workflow | `WF#<workflowId>` | `WF` | status projection; steps in the `steps` map; has `status`, `entity`, `updatedAt` (indexed) |
 * | callback (by workflow) | `WF#<workflowId>` | `CB#<callbackId>` | listing pending callbacks of a workflow |
 * | callback (by id) | `CB#<callbackId>` | `CB` | lookup by callback id; written in the same transaction |
 * | idempotency key | `IDEM#<sha256(key)>` | `IDEM` | `workflowId` of the workflow the key started |
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** TTL attribute (epoch seconds). */
  ttlAttribute: 'expiresAt',
  /** Sparse GSI over workflow items: one status, newest update first. */
  statusIndex: { name: 'by-status', partitionKey: 'status', sortKey: 'updatedAt' },
  /** Sparse GSI over workflow items: every status, newest update first (`entity` is always `WORKFLOW`). */
  updatedIndex: { name: 'by-updated', partitionKey: 'entity', sortKey: 'updatedAt' },
  workflowEntity: 'WORKFLOW',
} as const;

export const keys = {
  workflow: (workflowId: string) => ({ pk: `WF#${workflowId}`, sk: 'WF' }),
  callbackByWorkflow: (workflowId: string, callbackId: string) => ({ pk: `WF#${workflowId}`, sk: `CB#${callbackId}` }),
  callback: (callbackId: string) => ({ pk: `CB#${callbackId}`, sk: 'CB' }),
  idempotency: (keyHash: string) => ({ pk: `IDEM#${keyHash}`, sk: 'IDEM' }),
};

/** Environment variables through which the constructs configure the bundled handlers. */
export const ENV = {
  tableName: 'WORKFLOW_TABLE_NAME',
  bucketName: 'ARTIFACT_BUCKET_NAME',
  eventBusName: 'EVENT_BUS_NAME',
  /** Qualified ARN (alias) of the controller function. */
  controllerArn: 'CONTROLLER_FUNCTION_ARN',
  /** The workflow definition document (JSON). */
  definition: 'WORKFLOW_DEFINITION',
  /** JSON map agent name -> dispatch target. */
  agents: 'WORKFLOW_AGENTS',
  /** Base URL agents report to (`{url}/callbacks/{id}`). */
  callbackBaseUrl: 'CALLBACK_BASE_URL',
  /** Days a workflow's state is kept after its last update. */
  stateRetentionDays: 'STATE_RETENTION_DAYS',
  /** Path the API's routes are mounted under on a shared API (`/research`), or unset for the root. */
  apiBasePath: 'API_BASE_PATH',
} as const;

/**
 * CloudFormation metadata key on the controller function: `{ workflow: <definition document>,
 * agents: { <name>: { kind, localCommand? } } }`. The local server reads it from a synthesized app.
 */
export const LOCAL_METADATA_KEY = 'cdk-durable-agents';

/**
 * A base path for the API's routes as both sides use it: `/a/b` (plain segments, a leading slash,
 * none trailing), '' for the root; `undefined` when `basePath` is not plain segments starting
 * with '/'. The construct checks what the user gives with it; the API handler reads the result from
 * `API_BASE_PATH`.
 */
export function normalizeBasePath(basePath: string): string | undefined {
  const trimmed = basePath.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return /^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed) ? trimmed : undefined;
}
