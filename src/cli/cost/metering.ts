/**
 * Counting ports: the runtime's store, events, artifacts and durable control wrapped to count
 * every call by who made it (controller, API, agent), and to charge each store call the DynamoDB
 * request units the DynamoDB adapter (src/runtime/adapters/aws/workflow-store.ts) would consume.
 * Moved here from bench/durable-operations.bench.ts so that `cdk-durable-agents cost` and the
 * benchmark count the same way.
 */
import type { UsageReport } from '../../contract/budget';
import { keys } from '../../contract/table';
import type { LocalWorkflowStore } from '../../runtime/adapters/local';
import type { LocalDurableControl } from '../../runtime/durable/local-durable-control';
import type {
  ArtifactStore,
  CallbackRecord,
  DecisionRecord,
  DurableControl,
  ErrorInfo,
  EventPublisher,
  KillSwitchState,
  ListOptions,
  Page,
  StepRecord,
  WorkflowEvent,
  WorkflowPatch,
  WorkflowRecord,
  WorkflowStore,
} from '../../runtime/ports';

/** Who made a call: the controller function, the API function, or an agent. */
export type Actor = 'controller' | 'api' | 'agent';

/** Calls made through the wrapped ports, by actor, and what DynamoDB would bill for them. */
export class Meter {
  public readonly calls: Record<Actor, Record<string, number>> = { controller: {}, api: {}, agent: {} };
  /** DynamoDB API calls (GetItem, UpdateItem, TransactWriteItems, Query) by actor, for the latency model. */
  public readonly dynamoCalls: Record<Actor, { items: number; transactions: number }> = {
    controller: { items: 0, transactions: 0 }, api: { items: 0, transactions: 0 }, agent: { items: 0, transactions: 0 },
  };
  public wru = 0;
  public rru = 0;
  /** Write request units by actor and store method. */
  public readonly wruBy: Record<string, number> = {};
  public readonly events: WorkflowEvent[] = [];
  public readonly apiRequests: Record<string, number> = {};
  /** The largest workflow item (DynamoDB's item size) seen since the last reset. */
  public largestWorkflowItem = 0;
  /** Callback ids of each workflow (the adapter's `WF#<id>`/`CB#<id>` items, pending or not). */
  public readonly callbacksOf = new Map<string, string[]>();

  public count(actor: Actor, name: string): void {
    const table = this.calls[actor];
    table[name] = (table[name] ?? 0) + 1;
  }

  public total(actor: Actor, prefix: string): number {
    return Object.entries(this.calls[actor]).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
  }

  public reset(): void {
    for (const actor of ['controller', 'api', 'agent'] as const) {
      this.calls[actor] = {};
      this.dynamoCalls[actor] = { items: 0, transactions: 0 };
    }
    this.wru = 0;
    this.rru = 0;
    for (const k of Object.keys(this.wruBy)) delete this.wruBy[k];
    this.largestWorkflowItem = 0;
    this.events.length = 0;
    for (const k of Object.keys(this.apiRequests)) delete this.apiRequests[k];
  }
}

const KB = 1024;
const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));
const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / (4 * KB)));

/**
 * DynamoDB's size of an attribute value: strings by their UTF-8 bytes, numbers 1 byte per 2
 * significant digits plus 1, booleans and null 1 byte, maps and lists 3 bytes plus 1 byte per
 * element (and, in a map, the bytes of each key).
 */
function valueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v: unknown) => n + 1 + valueBytes(v), 0);
  if (typeof value === 'object') {
    return 3 + Object.entries(value).filter(([, v]) => v !== undefined).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + valueBytes(v), 0);
  }
  return Buffer.byteLength(String(value));
}

/** DynamoDB's size of an item: each top-level attribute's name and value. */
function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).filter(([, v]) => v !== undefined).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueBytes(v), 0);
}

/**
 * Bytes of the workflow item as the DynamoDB adapter writes it: the record with its steps as a
 * map, their order, keys, entity and TTL.
 */
function workflowItemBytes(record: WorkflowRecord | undefined, meter?: Meter): number {
  if (!record) return 0;
  const { steps, ...rest } = record;
  const bytes = itemBytes({
    ...rest,
    ...keys.workflow(record.workflowId),
    entity: 'WORKFLOW',
    steps: Object.fromEntries(steps.map((s) => [s.name, s])),
    stepOrder: steps.map((s) => s.name),
    expiresAt: 2_000_000_000,
  });
  if (meter) meter.largestWorkflowItem = Math.max(meter.largestWorkflowItem, bytes);
  return bytes;
}

/** Bytes of one of a callback's two items. */
function callbackItemBytes(record: CallbackRecord | undefined): number {
  if (!record) return 0;
  return itemBytes({ ...record, ...keys.callbackByWorkflow(record.workflowId, record.callbackId), expiresAt: 2_000_000_000 });
}

/**
 * The local store, counting each call and charging it the request units the DynamoDB adapter
 * (src/runtime/adapters/aws/workflow-store.ts) would consume, with DynamoDB's rules: a write is
 * 1 WRU per KB of the larger of the item before and after (also when its condition fails), an
 * item in TransactWriteItems (a ConditionCheck too) 2 WRU per KB, a strongly consistent read
 * 1 RRU per 4 KB read (a Query: of every item its key condition reads, before its filter).
 */
export class MeteredStore implements WorkflowStore {
  constructor(private readonly inner: LocalWorkflowStore, private readonly meter: Meter, private readonly actor: Actor) {}

  async createWorkflow(record: WorkflowRecord): Promise<{ created: boolean; workflow: WorkflowRecord }> {
    this.meter.count(this.actor, 'store.createWorkflow');
    const out = await this.inner.createWorkflow(record);
    this.transaction('createWorkflow', 2 * writeUnits(workflowItemBytes(out.workflow, this.meter)) + (record.idempotencyKey !== undefined ? 2 : 0));
    return out;
  }

  async getWorkflow(workflowId: string): Promise<WorkflowRecord | undefined> {
    this.meter.count(this.actor, 'store.getWorkflow');
    const wf = await this.inner.getWorkflow(workflowId);
    this.read(readUnits(workflowItemBytes(wf, this.meter)));
    return wf;
  }

  async listWorkflows(options: ListOptions): Promise<Page<WorkflowRecord>> {
    this.meter.count(this.actor, 'store.listWorkflows');
    const page = await this.inner.listWorkflows(options);
    this.read(readUnits(page.items.reduce((n, wf) => n + workflowItemBytes(wf, this.meter), 0)));
    return page;
  }

  async updateWorkflow(workflowId: string, patch: WorkflowPatch, onlyIfStatusIn?: WorkflowStatusList): Promise<boolean> {
    this.meter.count(this.actor, 'store.updateWorkflow');
    if (onlyIfStatusIn && onlyIfStatusIn.length === 0) return this.inner.updateWorkflow(workflowId, patch, onlyIfStatusIn);
    const before = await this.inner.getWorkflow(workflowId);
    const applied = await this.inner.updateWorkflow(workflowId, patch, onlyIfStatusIn);
    const after = await this.inner.getWorkflow(workflowId);
    this.item('updateWorkflow', writeUnits(Math.max(workflowItemBytes(before, this.meter), workflowItemBytes(after, this.meter))));
    return applied;
  }

  async putStep(workflowId: string, step: StepRecord): Promise<void> {
    this.meter.count(this.actor, 'store.putStep');
    const before = await this.inner.getWorkflow(workflowId);
    await this.inner.putStep(workflowId, step);
    const after = await this.inner.getWorkflow(workflowId);
    const size = Math.max(workflowItemBytes(before, this.meter), workflowItemBytes(after, this.meter));
    // The adapter first tries to append the step (condition: not there yet); a known step takes
    // that failed update (charged by the item's size) and a second one that replaces it.
    if (before?.steps.some((s) => s.name === step.name)) this.item('putStep', writeUnits(workflowItemBytes(before, this.meter)));
    this.item('putStep', writeUnits(size));
  }

  async putCallback(callback: CallbackRecord): Promise<void> {
    this.meter.count(this.actor, 'store.putCallback');
    const wf = await this.inner.getWorkflow(callback.workflowId);
    await this.inner.putCallback(callback);
    const ids = this.meter.callbacksOf.get(callback.workflowId) ?? [];
    ids.push(callback.callbackId);
    this.meter.callbacksOf.set(callback.workflowId, ids);
    // ConditionCheck on the workflow item and the two callback items.
    this.transaction('putCallback', 2 * writeUnits(workflowItemBytes(wf, this.meter)) + 2 * 2 * writeUnits(callbackItemBytes(callback)));
  }

  async getCallback(callbackId: string): Promise<CallbackRecord | undefined> {
    this.meter.count(this.actor, 'store.getCallback');
    const cb = await this.inner.getCallback(callbackId);
    this.read(readUnits(callbackItemBytes(cb)));
    return cb;
  }

  async pendingCallbacks(workflowId: string): Promise<CallbackRecord[]> {
    this.meter.count(this.actor, 'store.pendingCallbacks');
    let bytes = 0;
    for (const id of this.meter.callbacksOf.get(workflowId) ?? []) bytes += callbackItemBytes(await this.inner.getCallback(id));
    this.read(readUnits(bytes));
    return this.inner.pendingCallbacks(workflowId);
  }

  async completeCallback(callbackId: string, outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED'): Promise<boolean> {
    this.meter.count(this.actor, 'store.completeCallback');
    const before = await this.inner.getCallback(callbackId);
    this.read(readUnits(callbackItemBytes(before)));
    const done = await this.inner.completeCallback(callbackId, outcome);
    if (done) this.transaction('completeCallback', 2 * 2 * writeUnits(callbackItemBytes(await this.inner.getCallback(callbackId))));
    return done;
  }

  async putDecision(decision: DecisionRecord): Promise<boolean> {
    this.meter.count(this.actor, 'store.putDecision');
    const wf = await this.inner.getWorkflow(decision.workflowId);
    const done = await this.inner.putDecision(decision);
    // ConditionCheck on the workflow item and the decision item.
    this.transaction('putDecision', 2 * writeUnits(workflowItemBytes(wf, this.meter))
      + 2 * writeUnits(itemBytes({ ...decision, ...keys.decision(decision.workflowId, decision.callbackId), expiresAt: 2_000_000_000 })));
    return done;
  }

  async listDecisions(workflowId: string): Promise<DecisionRecord[]> {
    this.meter.count(this.actor, 'store.listDecisions');
    const found = await this.inner.listDecisions(workflowId);
    this.read(readUnits(found.reduce((n, d) => n + itemBytes({ ...d, ...keys.decision(d.workflowId, d.callbackId), expiresAt: 2_000_000_000 }), 0)));
    return found;
  }

  async claimLink(workflowId: string, linkId: string): Promise<boolean> {
    this.meter.count(this.actor, 'store.claimLink');
    const wf = await this.inner.getWorkflow(workflowId);
    const done = await this.inner.claimLink(workflowId, linkId);
    this.transaction('claimLink', 2 * writeUnits(workflowItemBytes(wf, this.meter)) + 2 * writeUnits(itemBytes({ ...keys.usedLink(workflowId, linkId), workflowId, linkId, usedAt: new Date().toISOString(), expiresAt: 2_000_000_000 })));
    return done;
  }

  async recordUsage(workflowId: string, key: string, usage: UsageReport): Promise<WorkflowRecord | undefined> {
    this.meter.count(this.actor, 'store.recordUsage');
    const before = await this.inner.getWorkflow(workflowId);
    const after = await this.inner.recordUsage(workflowId, key, usage);
    // Two updates (the map made if missing, then the key), each charged by the larger item.
    const size = writeUnits(Math.max(workflowItemBytes(before, this.meter), workflowItemBytes(after, this.meter)));
    this.item('recordUsage', size);
    if (after) this.item('recordUsage', size);
    return after;
  }

  async getKillSwitch(): Promise<KillSwitchState | undefined> {
    this.meter.count(this.actor, 'store.getKillSwitch');
    const state = await this.inner.getKillSwitch();
    this.read(1);
    return state;
  }

  async putKillSwitch(state: KillSwitchState): Promise<void> {
    this.meter.count(this.actor, 'store.putKillSwitch');
    await this.inner.putKillSwitch(state);
    this.item('putKillSwitch', 1);
  }

  private charge(method: string, wru: number): void {
    this.meter.wru += wru;
    const key = `${this.actor} ${method}`;
    this.meter.wruBy[key] = (this.meter.wruBy[key] ?? 0) + wru;
  }

  private item(method: string, wru: number): void {
    this.charge(method, wru);
    this.meter.dynamoCalls[this.actor].items++;
  }

  private transaction(method: string, wru: number): void {
    this.charge(method, wru);
    this.meter.dynamoCalls[this.actor].transactions++;
  }

  private read(rru: number): void {
    this.meter.rru += rru;
    this.meter.dynamoCalls[this.actor].items++;
  }
}

type WorkflowStatusList = NonNullable<Parameters<WorkflowStore['updateWorkflow']>[2]>;

export class MeteredEvents implements EventPublisher {
  constructor(private readonly inner: EventPublisher, private readonly meter: Meter, private readonly actor: Actor) {}

  async publish(event: WorkflowEvent): Promise<void> {
    this.meter.count(this.actor, 'events.publish');
    this.meter.events.push(event);
    await this.inner.publish(event);
  }
}

export class MeteredArtifacts implements ArtifactStore {
  constructor(private readonly inner: ArtifactStore, private readonly meter: Meter, private readonly actor: Actor) {}

  get location(): ArtifactStore['location'] {
    return this.inner.location;
  }

  async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    this.meter.count(this.actor, 'artifacts.put');
    await this.inner.put(key, body, contentType);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.meter.count(this.actor, 'artifacts.get');
    return this.inner.get(key);
  }

  async exists(key: string): Promise<boolean> {
    this.meter.count(this.actor, 'artifacts.exists');
    return this.inner.exists(key);
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    this.meter.count(this.actor, 'artifacts.copy');
    await this.inner.copy(fromKey, toKey);
  }
}

/** The durable control, counted; `inner` is looked up at each call (the control needs the controller first). */
export class MeteredDurable implements DurableControl {
  constructor(private readonly control: () => LocalDurableControl, private readonly meter: Meter, private readonly actor: Actor) {}

  private get inner(): LocalDurableControl {
    return this.control();
  }

  async start(workflowId: string, input: Record<string, unknown>): Promise<void> {
    this.meter.count(this.actor, 'durable.start');
    await this.inner.start(workflowId, input);
  }

  async callbackSuccess(callback: CallbackRecord, result: string): Promise<void> {
    this.meter.count(this.actor, 'durable.callbackSuccess');
    await this.inner.callbackSuccess(callback, result);
  }

  async callbackFailure(callback: CallbackRecord, error: ErrorInfo): Promise<void> {
    this.meter.count(this.actor, 'durable.callbackFailure');
    await this.inner.callbackFailure(callback, error);
  }

  async callbackHeartbeat(callback: CallbackRecord): Promise<void> {
    this.meter.count(this.actor, 'durable.callbackHeartbeat');
    await this.inner.callbackHeartbeat(callback);
  }
}
