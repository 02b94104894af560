import type { WorkflowDefinitionDocument } from './definition';

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
 * | decision (audit) | `WF#<workflowId>` | `DEC#<callbackId>` | who decided an approval; written once, never overwritten |
 * | used approval link | `WF#<workflowId>` | `LINK#<linkId>` | `usedAt`; written once (single use) |
 * | kill switch | `ADMIN#kill-switch` | `ADMIN` | `engaged`, `reason`, `changedBy`, `changedAt`; never expires |
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
  decision: (workflowId: string, callbackId: string) => ({ pk: `WF#${workflowId}`, sk: `DEC#${callbackId}` }),
  usedLink: (workflowId: string, linkId: string) => ({ pk: `WF#${workflowId}`, sk: `LINK#${linkId}` }),
  killSwitch: () => ({ pk: 'ADMIN#kill-switch', sk: 'ADMIN' }),
};

/**
 * Environment variables through which the constructs configure the bundled handlers. They carry
 * names and pointers only: the workflow definition is a file of the function's configuration
 * layer (`WORKFLOW_CONFIG_FILE`), and each agent's dispatch target is an SSM parameter under
 * `ENV.agentTargetsPrefix`, so neither is bound by Lambda's 4 KB of environment.
 */
export const ENV = {
  tableName: 'WORKFLOW_TABLE_NAME',
  bucketName: 'ARTIFACT_BUCKET_NAME',
  eventBusName: 'EVENT_BUS_NAME',
  /** Qualified ARN (alias) of the controller function (the API's environment only). */
  controllerArn: 'CONTROLLER_FUNCTION_ARN',
  /**
   * SHA-256 (hex) of the configuration file the function's layer holds. Part of the function's
   * configuration, so a new definition publishes a new controller version (which pins it for the
   * workflows that start on it), and checked at load, so a function never runs another file.
   */
  configSha256: 'WORKFLOW_CONFIG_SHA256',
  /** Where the configuration file is: set by tests and the local runtime; the layer's path otherwise. */
  configFile: 'WORKFLOW_CONFIG_FILE',
  /** SSM parameter path under which each agent's dispatch target is `<prefix>/<agent name>` (the controller only). */
  agentTargetsPrefix: 'AGENT_TARGETS_PARAMETER_PREFIX',
  /** Base URL agents report to (`{url}/callbacks/{id}`; the controller only). */
  callbackBaseUrl: 'CALLBACK_BASE_URL',
  /** Days a workflow's state is kept after its last update. */
  stateRetentionDays: 'STATE_RETENTION_DAYS',
  /** Path the API's routes are mounted under on a shared API (`/research`), or unset for the root. */
  apiBasePath: 'API_BASE_PATH',
  /** 'false' turns the X-Ray subsegments of SDK calls off (and keeps the X-Ray SDK from loading); Powertools reads it too. */
  traceEnabled: 'POWERTOOLS_TRACE_ENABLED',
  /** ARN of the Secrets Manager secret holding the approval link key; unset when approval links are off. */
  approvalLinkSecretArn: 'APPROVAL_LINK_SECRET_ARN',
  /** Base URL of approval links (the controller only; `{url}/approvals/{token}`). */
  approvalLinkBaseUrl: 'APPROVAL_LINK_BASE_URL',
  /** Seconds an approval link stays valid (the controller only). */
  approvalLinkExpirySeconds: 'APPROVAL_LINK_EXPIRY_SECONDS',
} as const;

/** Where a function finds its configuration file: `/opt/<directory>/<file>` of its configuration layer. */
export const CONFIG_LAYER = {
  directory: 'cdk-durable-agents',
  file: 'workflow-config.json',
} as const;

/** The configuration file's path in a function that has the configuration layer. */
export const WORKFLOW_CONFIG_FILE = `/opt/${CONFIG_LAYER.directory}/${CONFIG_LAYER.file}`;

/**
 * The configuration file of an orchestrator's functions: the definition document and the names
 * of the agents it may dispatch to (their targets are SSM parameters, resolved at deploy time).
 */
export interface WorkflowConfigDocument {
  readonly configVersion: 1;
  readonly definition: WorkflowDefinitionDocument;
  readonly agentNames: readonly string[];
}

/**
 * CloudFormation metadata key on the controller function: `{ configFile: <path of the configuration
 * file in the cloud assembly>, configSha256, agents: { <name>: { kind, localCommand? } } }`. The local
 * server reads it from a synthesized app (`--app cdk.out`). Apps synthesized before the
 * configuration layer carry `workflow: <definition document>` instead of `configFile`.
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
