import { createHash } from 'crypto';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  TransactWriteCommand,
  TransactWriteCommandInput,
  UpdateCommand,
  UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { UsageReport } from '../../../contract/budget';
import type { WorkflowStatus } from '../../../contract/status';
import { keys, TABLE } from '../../../contract/table';
import {
  CallbackRecord,
  DecisionRecord,
  InvalidPageTokenError,
  KillSwitchState,
  ListOptions,
  Page,
  StepRecord,
  WorkflowPatch,
  WorkflowRecord,
  WorkflowStore,
} from '../../ports';
import { checkId, checkListLimit, checkOutcome, decodePageToken, encodePageToken, hasExactStringKeys, jsonCopy } from '../../validation';

export interface DynamoWorkflowStoreOptions {
  /** A document client (marshalling of plain JavaScript values). */
  readonly client: DynamoDBDocumentClient;
  /** The workflow state table, keyed and indexed as `TABLE` in `contract/table.ts` says. */
  readonly tableName: string;
  /** Days an item is kept after the last change of its workflow (sets `expiresAt`). */
  readonly retentionDays: number;
}

type Item = Record<string, unknown>;

/** Attributes of a workflow item that are not part of the record. */
const STEP_ORDER = 'stepOrder';
/** How often a transaction that DynamoDB cancelled for a conflicting one is tried again. */
const MAX_ATTEMPTS = 8;
const DAY_SECONDS = 24 * 3600;

/**
 * WorkflowStore on DynamoDB, with the key layout of `contract/table.ts`:
 *
 * - workflow item `WF#<id>`/`WF`: the record, its steps in a map keyed by step name with
 *   `stepOrder` (names in first-seen order), and `status`/`entity`/`updatedAt` for the two
 *   sparse indexes (`by-status`, `by-updated`);
 * - callback items `CB#<id>`/`CB` and `WF#<workflowId>`/`CB#<id>`, always written together
 *   in one transaction;
 * - idempotency item `IDEM#<sha256(key)>`/`IDEM`, written with its workflow in one transaction.
 *
 * Every item gets `expiresAt` (TTL) = its last change (`updatedAt`, never earlier than now) +
 * `retentionDays`; callback items: their deadline (or now) + `retentionDays`. Reads are strongly
 * consistent except listings (global secondary indexes are eventually consistent). A
 * transaction DynamoDB cancels for a concurrent one (`TransactionConflict`) is retried.
 */
export class DynamoWorkflowStore implements WorkflowStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionSeconds: number;

  constructor(options: DynamoWorkflowStoreOptions) {
    if (!options.tableName) throw new Error('DynamoWorkflowStore: tableName is required');
    if (!Number.isFinite(options.retentionDays) || options.retentionDays <= 0) {
      throw new Error(`DynamoWorkflowStore: retentionDays must be a positive number of days, got ${options.retentionDays}`);
    }
    this.client = options.client;
    this.tableName = options.tableName;
    this.retentionSeconds = Math.round(options.retentionDays * DAY_SECONDS);
  }

  public async createWorkflow(record: WorkflowRecord): Promise<{ created: boolean; workflow: WorkflowRecord }> {
    checkId('workflowId', record.workflowId);
    const expiresAt = this.expiresAt(record.updatedAt);
    const item = toWorkflowItem(jsonCopy(record), expiresAt);
    const keyHash = record.idempotencyKey === undefined ? undefined : sha256(record.idempotencyKey);
    const input: TransactWriteCommandInput = {
      TransactItems: [
        { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
        ...(keyHash === undefined ? [] : [{
          Put: {
            TableName: this.tableName,
            Item: { ...keys.idempotency(keyHash), workflowId: record.workflowId, expiresAt },
            // An idempotency item past its expiry may still be there (TTL deletes lazily): it no longer counts.
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': nowSeconds() },
          },
        }]),
      ],
    };
    for (let attempt = 1; ; attempt++) {
      const reasons = await this.transact(input);
      if (reasons === undefined) return { created: true, workflow: fromWorkflowItem(item) };
      if (reasons[0] === 'ConditionalCheckFailed') {
        const existing = await this.getWorkflow(record.workflowId);
        if (existing) return { created: false, workflow: existing };
      } else if (reasons[1] === 'ConditionalCheckFailed' && keyHash !== undefined) {
        const idem = await this.getItem(keys.idempotency(keyHash));
        const ownerId = idem?.workflowId;
        const owner = typeof ownerId === 'string' ? await this.getWorkflow(ownerId) : undefined;
        if (owner) return { created: false, workflow: owner };
        if (idem && typeof ownerId === 'string' && Number(idem.expiresAt) >= nowSeconds()) {
          throw new Error(`idempotency key of workflow '${record.workflowId}' was used by workflow '${ownerId}', which no longer exists; use a new key`);
        }
      } else if (!reasons.includes('TransactionConflict')) {
        throw new Error(`creating workflow '${record.workflowId}' was cancelled: ${reasons.join(', ')}`);
      }
      await this.backOff(attempt, `creating workflow '${record.workflowId}'`);
    }
  }

  public async getWorkflow(workflowId: string): Promise<WorkflowRecord | undefined> {
    const item = await this.getItem(keys.workflow(workflowId));
    return item ? fromWorkflowItem(item) : undefined;
  }

  public async listWorkflows(options: ListOptions): Promise<Page<WorkflowRecord>> {
    checkListLimit(options.limit);
    const index = options.status === undefined ? TABLE.updatedIndex : TABLE.statusIndex;
    const partition = options.status ?? TABLE.workflowEntity;
    let start = options.nextToken === undefined ? undefined : decodeStartKey(options.nextToken, index.partitionKey, partition);
    // One item more than the page, so that a next token is given only when there is a next item.
    const items: Item[] = [];
    let more = true;
    while (more && items.length <= options.limit) {
      const query: QueryCommandInput = {
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': index.partitionKey },
        ExpressionAttributeValues: { ':p': partition },
        ScanIndexForward: false,
        Limit: options.limit + 1 - items.length,
        ExclusiveStartKey: start,
      };
      let out;
      try {
        out = await this.client.send(new QueryCommand(query));
      } catch (e) {
        // A forged key that passed the shape check but that DynamoDB does not accept.
        if (options.nextToken !== undefined && errorName(e) === 'ValidationException') throw new InvalidPageTokenError();
        throw e;
      }
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
      more = start !== undefined;
    }
    const page = items.slice(0, options.limit);
    const last = page[page.length - 1];
    const nextToken = items.length > options.limit && last
      ? encodePageToken({ pk: last.pk, sk: last.sk, [index.partitionKey]: last[index.partitionKey], updatedAt: last.updatedAt })
      : undefined;
    const full = await this.withAllAttributes(page);
    return { items: full.map(fromWorkflowItem), nextToken };
  }

  public async updateWorkflow(workflowId: string, patch: WorkflowPatch, onlyIfStatusIn?: readonly WorkflowStatus[]): Promise<boolean> {
    if (onlyIfStatusIn && onlyIfStatusIn.length === 0) return false;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const remove: string[] = [];
    const assign = (field: string, value: unknown) => {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      set.push(`#${field} = :${field}`);
    };
    if (patch.status !== undefined) assign('status', patch.status);
    if (patch.awaiting !== undefined) assign('awaiting', patch.awaiting);
    if (patch.cancelRequested !== undefined) assign('cancelRequested', patch.cancelRequested);
    if (patch.stopReason !== undefined) assign('stopReason', jsonCopy(patch.stopReason));
    for (const field of ['result', 'error'] as const) {
      const value = patch[field];
      if (value === null) {
        names[`#${field}`] = field;
        remove.push(`#${field}`);
      } else if (value !== undefined) {
        assign(field, jsonCopy(value));
      }
    }
    const now = Date.now();
    const updatedAt = new Date(now).toISOString();
    assign('updatedAt', updatedAt);
    assign(TABLE.ttlAttribute, this.expiresAt(updatedAt, now));
    let condition = 'attribute_exists(pk)';
    if (onlyIfStatusIn) {
      names['#status'] = 'status';
      const placeholders = onlyIfStatusIn.map((s, i) => {
        values[`:allowed${i}`] = s;
        return `:allowed${i}`;
      });
      condition += ` AND #status IN (${placeholders.join(', ')})`;
    }
    return this.conditionalUpdate({
      Key: keys.workflow(workflowId),
      UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  public async putStep(workflowId: string, step: StepRecord): Promise<void> {
    checkId('step name', step.name);
    const now = Date.now();
    const updatedAt = new Date(now).toISOString();
    const names = { '#steps': 'steps', '#name': step.name, '#updatedAt': 'updatedAt', '#expiresAt': TABLE.ttlAttribute };
    const values = { ':step': jsonCopy(step), ':updatedAt': updatedAt, ':expiresAt': this.expiresAt(updatedAt, now) };
    // A new step is appended to the order; a known one is replaced where it is.
    const inserted = await this.conditionalUpdate({
      Key: keys.workflow(workflowId),
      UpdateExpression: 'SET #steps.#name = :step, #order = list_append(if_not_exists(#order, :none), :names), #updatedAt = :updatedAt, #expiresAt = :expiresAt',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#steps.#name)',
      ExpressionAttributeNames: { ...names, '#order': STEP_ORDER },
      ExpressionAttributeValues: { ...values, ':none': [], ':names': [step.name] },
    });
    if (inserted) return;
    const replaced = await this.conditionalUpdate({
      Key: keys.workflow(workflowId),
      UpdateExpression: 'SET #steps.#name = :step, #updatedAt = :updatedAt, #expiresAt = :expiresAt',
      ConditionExpression: 'attribute_exists(#steps.#name)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    if (!replaced) throw new Error(`cannot put step '${step.name}': workflow '${workflowId}' not found`);
  }

  public async putCallback(callback: CallbackRecord): Promise<void> {
    checkId('callbackId', callback.callbackId);
    checkId('callback workflowId', callback.workflowId);
    const record = jsonCopy(callback);
    const deadline = Date.parse(record.deadline);
    const expiresAt = Math.max(nowSeconds(), Number.isNaN(deadline) ? 0 : Math.floor(deadline / 1000)) + this.retentionSeconds;
    const input: TransactWriteCommandInput = {
      TransactItems: [
        { ConditionCheck: { TableName: this.tableName, Key: keys.workflow(record.workflowId), ConditionExpression: 'attribute_exists(pk)' } },
        { Put: { TableName: this.tableName, Item: { ...record, ...keys.callback(record.callbackId), expiresAt } } },
        { Put: { TableName: this.tableName, Item: { ...record, ...keys.callbackByWorkflow(record.workflowId, record.callbackId), expiresAt } } },
      ],
    };
    for (let attempt = 1; ; attempt++) {
      const reasons = await this.transact(input);
      if (reasons === undefined) return;
      if (reasons[0] === 'ConditionalCheckFailed') {
        throw new Error(`cannot put callback '${record.callbackId}': workflow '${record.workflowId}' not found`);
      }
      if (!reasons.includes('TransactionConflict')) {
        throw new Error(`putting callback '${record.callbackId}' was cancelled: ${reasons.join(', ')}`);
      }
      await this.backOff(attempt, `putting callback '${record.callbackId}'`);
    }
  }

  public async getCallback(callbackId: string): Promise<CallbackRecord | undefined> {
    const item = await this.getItem(keys.callback(callbackId));
    return item ? fromCallbackItem(item) : undefined;
  }

  public async pendingCallbacks(workflowId: string): Promise<CallbackRecord[]> {
    const found: CallbackRecord[] = [];
    let start: Item | undefined;
    do {
      const out = await this.client.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :cb)',
        FilterExpression: '#state = :pending',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':pk': keys.workflow(workflowId).pk, ':cb': 'CB#', ':pending': 'PENDING' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }));
      found.push(...(out.Items ?? []).map(fromCallbackItem));
      start = out.LastEvaluatedKey;
    } while (start);
    return found.sort((a, b) => compare(a.createdAt, b.createdAt) || compare(a.callbackId, b.callbackId));
  }

  public async completeCallback(callbackId: string, outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'): Promise<boolean> {
    checkOutcome(outcome);
    for (let attempt = 1; ; attempt++) {
      const callback = await this.getCallback(callbackId);
      if (!callback || callback.state !== 'PENDING') return false;
      const update = (key: Item) => ({
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #state = :completed, #outcome = :outcome',
          ConditionExpression: '#state = :pending',
          ExpressionAttributeNames: { '#state': 'state', '#outcome': 'outcome' },
          ExpressionAttributeValues: { ':completed': 'COMPLETED', ':pending': 'PENDING', ':outcome': outcome },
        },
      });
      const reasons = await this.transact({
        TransactItems: [update(keys.callback(callbackId)), update(keys.callbackByWorkflow(callback.workflowId, callbackId))],
      });
      if (reasons === undefined) return true;
      if (reasons.includes('ConditionalCheckFailed')) return false;
      if (!reasons.includes('TransactionConflict')) {
        throw new Error(`completing callback '${callbackId}' was cancelled: ${reasons.join(', ')}`);
      }
      await this.backOff(attempt, `completing callback '${callbackId}'`);
    }
  }

  public async putDecision(decision: DecisionRecord): Promise<boolean> {
    checkId('decision workflowId', decision.workflowId);
    checkId('decision callbackId', decision.callbackId);
    const expiresAt = nowSeconds() + this.retentionSeconds;
    const item = { ...jsonCopy(decision), ...keys.decision(decision.workflowId, decision.callbackId), [TABLE.ttlAttribute]: expiresAt };
    return this.putOnce(decision.workflowId, item, `decision on callback '${decision.callbackId}'`);
  }

  public async listDecisions(workflowId: string): Promise<DecisionRecord[]> {
    const found: DecisionRecord[] = [];
    let start: Item | undefined;
    do {
      const out = await this.client.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :dec)',
        ExpressionAttributeValues: { ':pk': keys.workflow(workflowId).pk, ':dec': 'DEC#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }));
      for (const item of out.Items ?? []) {
        const { pk: _pk, sk: _sk, [TABLE.ttlAttribute]: _expiresAt, ...rest } = item;
        found.push(rest as unknown as DecisionRecord);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return found.sort((a, b) => compare(a.decidedAt, b.decidedAt) || compare(a.callbackId, b.callbackId));
  }

  public async claimLink(workflowId: string, linkId: string): Promise<boolean> {
    checkId('link workflowId', workflowId);
    checkId('linkId', linkId);
    const expiresAt = nowSeconds() + this.retentionSeconds;
    const item = { ...keys.usedLink(workflowId, linkId), workflowId, linkId, usedAt: new Date().toISOString(), [TABLE.ttlAttribute]: expiresAt };
    return this.putOnce(workflowId, item, `approval link '${linkId}'`);
  }

  /**
   * Puts an item of a workflow's partition unless it exists (false then); rejects for an unknown
   * workflow. The workflow check and the put are one transaction.
   */
  private async putOnce(workflowId: string, item: Item, what: string): Promise<boolean> {
    const input: TransactWriteCommandInput = {
      TransactItems: [
        { ConditionCheck: { TableName: this.tableName, Key: keys.workflow(workflowId), ConditionExpression: 'attribute_exists(pk)' } },
        { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
      ],
    };
    for (let attempt = 1; ; attempt++) {
      const reasons = await this.transact(input);
      if (reasons === undefined) return true;
      if (reasons[0] === 'ConditionalCheckFailed') throw new Error(`cannot put ${what}: workflow '${workflowId}' not found`);
      if (reasons[1] === 'ConditionalCheckFailed') return false;
      if (!reasons.includes('TransactionConflict')) throw new Error(`putting ${what} was cancelled: ${reasons.join(', ')}`);
      await this.backOff(attempt, `putting ${what}`);
    }
  }

  public async recordUsage(workflowId: string, key: string, usage: UsageReport): Promise<WorkflowRecord | undefined> {
    const names = { '#usage': 'usage' };
    // The map is created first (a document path cannot be set inside a missing map, and one
    // expression cannot both create it and set a key in it); each attempt then sets its own key.
    const exists = await this.conditionalUpdate({
      Key: keys.workflow(workflowId),
      UpdateExpression: 'SET #usage = if_not_exists(#usage, :empty)',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':empty': {} },
    });
    if (!exists) return undefined;
    try {
      const out = await this.client.send(new UpdateCommand({
        TableName: this.tableName,
        Key: keys.workflow(workflowId),
        UpdateExpression: 'SET #usage.#key = :usage',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { ...names, '#key': key },
        ExpressionAttributeValues: { ':usage': jsonCopy(usage) },
        ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes ? fromWorkflowItem(out.Attributes) : undefined;
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return undefined;
      throw e;
    }
  }

  public async getKillSwitch(): Promise<KillSwitchState | undefined> {
    const item = await this.getItem(keys.killSwitch());
    if (!item) return undefined;
    const { pk: _pk, sk: _sk, ...state } = item;
    return state as unknown as KillSwitchState;
  }

  public async putKillSwitch(state: KillSwitchState): Promise<void> {
    // No TTL: the switch stays as it was set until it is set again.
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...jsonCopy(state), ...keys.killSwitch() } }));
  }

  /**
   * `updatedAt` + retention. A record handed in with an `updatedAt` in the past (an import, a
   * test) is kept for the retention from now, so that it and its idempotency key do not
   * expire the moment they are written.
   */
  private expiresAt(isoTime: string, nowMs = Date.now()): number {
    const ms = Date.parse(isoTime);
    if (Number.isNaN(ms)) throw new Error(`updatedAt must be an ISO 8601 time, got ${JSON.stringify(isoTime)}`);
    return Math.floor(Math.max(ms, nowMs) / 1000) + this.retentionSeconds;
  }

  private async getItem(key: Item): Promise<Item | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return out.Item;
  }

  /** An UpdateItem that returns false when its condition fails. */
  private async conditionalUpdate(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ ...input, TableName: this.tableName }));
      return true;
    } catch (e) {
      if (errorName(e) === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }

  /**
   * Runs a transaction: undefined when it went through, else the cancellation reason code of
   * each of its items (`None` for items that were fine).
   */
  private async transact(input: TransactWriteCommandInput): Promise<string[] | undefined> {
    try {
      await this.client.send(new TransactWriteCommand(input));
      return undefined;
    } catch (e) {
      if (errorName(e) !== 'TransactionCanceledException') throw e;
      const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if (!reasons) throw e;
      return reasons.map((r) => r.Code ?? 'None');
    }
  }

  private async backOff(attempt: number, what: string): Promise<void> {
    if (attempt >= MAX_ATTEMPTS) {
      throw new Error(`${what}: still conflicting with concurrent transactions after ${attempt} attempts`);
    }
    const ms = Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * Items of an index that projects only some attributes lack the record: read those from
   * the table (in the index's order). With an `ALL` projection this does nothing.
   */
  private async withAllAttributes(items: Item[]): Promise<Item[]> {
    const partial = items.filter((i) => !(STEP_ORDER in i && 'input' in i && 'workflowId' in i));
    if (partial.length === 0) return items;
    const full = new Map<string, Item>();
    let pending: Item[] = partial.map((i) => ({ pk: i.pk, sk: i.sk }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await this.client.send(new BatchGetCommand({
        RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
      }));
      for (const item of out.Responses?.[this.tableName] ?? []) full.set(String(item.pk), item);
      pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      if (pending.length > 0) await this.backOff(attempt, 'reading listed workflows');
    }
    // A workflow deleted between the query and the read is left out.
    return items.map((i) => (STEP_ORDER in i && 'input' in i && 'workflowId' in i ? i : full.get(String(i.pk)))).filter((i): i is Item => i !== undefined);
  }
}

function toWorkflowItem(record: WorkflowRecord, expiresAt: number): Item {
  const { steps, ...rest } = record;
  const map: Record<string, StepRecord> = {};
  const order: string[] = [];
  for (const step of steps ?? []) {
    if (!(step.name in map)) order.push(step.name);
    map[step.name] = step;
  }
  return {
    ...rest,
    ...keys.workflow(record.workflowId),
    entity: TABLE.workflowEntity,
    steps: map,
    [STEP_ORDER]: order,
    [TABLE.ttlAttribute]: expiresAt,
  };
}

function fromWorkflowItem(item: Item): WorkflowRecord {
  const { pk: _pk, sk: _sk, entity: _entity, steps, [STEP_ORDER]: order, ...rest } = item;
  const map = (steps ?? {}) as Record<string, StepRecord>;
  return { ...rest, steps: ((order ?? []) as string[]).map((name) => map[name]).filter((s) => s !== undefined) } as unknown as WorkflowRecord;
}

function fromCallbackItem(item: Item): CallbackRecord {
  const { pk: _pk, sk: _sk, [TABLE.ttlAttribute]: _expiresAt, ...rest } = item;
  return rest as unknown as CallbackRecord;
}

/**
 * The ExclusiveStartKey in a page token, checked: exactly the keys of a workflow item in the
 * index being read, with the partition of this listing (a token of another filter is refused).
 */
function decodeStartKey(token: string, partitionKey: string, partition: string): Item {
  const key = decodePageToken(token);
  const valid = hasExactStringKeys(key, ['pk', 'sk', partitionKey, 'updatedAt'])
    && key[partitionKey] === partition
    && key.sk === keys.workflow('').sk
    && /^WF#./.test(key.pk as string)
    && !Number.isNaN(Date.parse(key.updatedAt as string));
  if (!valid) throw new InvalidPageTokenError();
  return key;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? (e as { name?: string }).name : undefined;
}
