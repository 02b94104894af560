/**
 * What one reference workflow costs to run (not a test):
 *
 *   npx ts-node --project tsconfig.dev.json bench/durable-operations.bench.ts \
 *     [--out bench/results/durable-operations.json] [--workflows 3] [--baseline <git revision>]
 *
 * Runs `ReferenceWorkflows.researchReport` for real: the controller of src/runtime/controller.ts on
 * the durable-execution testing SDK's LocalDurableTestRunner (through LocalDurableControl), the
 * API handler in process, agents in process that write their artifact and report over the API,
 * and an approval given over the API. Every port (store, events, artifacts, dispatcher, durable
 * control) is wrapped to count its calls, and the runner's operation history gives the durable
 * operations and the invocations of the controller.
 *
 * The figures are priced with the list prices of {@link PRICES} (us-east-1) and the assumptions
 * of {@link MODEL}, into a cost per 1,000 workflows, and compared with a Step Functions Standard
 * state machine doing the same bookkeeping (see {@link stepFunctionsTransitions}).
 *
 * `--baseline <rev>` also measures the controller of that git revision (its
 * src/runtime/controller.ts, copied next to this file for the run and removed afterwards) with
 * everything else as it is now, so that the JSON holds figures before and after a change.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { StepDocument, WorkflowDefinitionDocument } from '../src/contract/definition';
import type { TaskEnvelope } from '../src/contract/status';
import { keys } from '../src/contract/table';
import { LocalArtifactStore, LocalEventPublisher, LocalWorkflowStore } from '../src/runtime/adapters/local';
import { ApiHandler, createApi } from '../src/runtime/api';
import { ControllerEvent, ControllerOptions, ControllerResult, createController } from '../src/runtime/controller';
import { LocalDurableControl, LocalExecutionHistory } from '../src/runtime/durable/local-durable-control';
import type {
  AgentDispatcher,
  ArtifactStore,
  CallbackRecord,
  DurableControl,
  ErrorInfo,
  EventPublisher,
  ListOptions,
  Page,
  RuntimePorts,
  StepRecord,
  WorkflowEvent,
  WorkflowPatch,
  WorkflowRecord,
  WorkflowStore,
} from '../src/runtime/ports';
import { RecordingTelemetry } from '../src/runtime/telemetry';
import { ReferenceWorkflows, WorkflowAgent } from '../src/workflow';

// ---------------------------------------------------------------------------------------------
// Prices and assumptions
// ---------------------------------------------------------------------------------------------

/**
 * List prices, us-east-1, on-demand, no free tier, looked up on 2026-12-06 with the project's
 * search tool (stored copies of public pages, not the live web). Found: Lambda requests and Arm
 * duration (aws.amazon.com/lambda/pricing, copy archived 2026-06-18), Step Functions Standard
 * $0.025 per 1,000 state transitions (as quoted by finops.com.py). Not found, so taken from the
 * task that asked for this benchmark: durable operations, API Gateway HTTP API, DynamoDB
 * on-demand, EventBridge custom events, S3 Standard requests.
 */
const PRICES = {
  durableOperationPerMillion: 8.0,
  lambdaRequestPerMillion: 0.2,
  lambdaArmGbSecond: 0.0000133334,
  httpApiRequestPerMillion: 1.0,
  dynamoWriteRequestUnitPerMillion: 0.625,
  dynamoReadRequestUnitPerMillion: 0.125,
  eventBridgeCustomEventPerMillion: 1.0,
  s3PutPer1000: 0.005,
  s3GetPer1000: 0.0004,
  stepFunctionsTransitionPerMillion: 25.0,
} as const;

const PRICE_SOURCES: Record<keyof typeof PRICES, string> = {
  durableOperationPerMillion: 'task brief (Lambda durable functions, durable operations); no stored copy of the pricing page, not checked',
  lambdaRequestPerMillion: 'aws.amazon.com/lambda/pricing (copy archived 2026-06-18), looked up 2026-12-06',
  lambdaArmGbSecond: 'aws.amazon.com/lambda/pricing, Arm, first tier (copy archived 2026-06-18), looked up 2026-12-06',
  httpApiRequestPerMillion: 'task brief (API Gateway HTTP API, first 300 million); no stored copy of the pricing page, not checked',
  dynamoWriteRequestUnitPerMillion: 'task brief (DynamoDB on-demand write request unit); no stored copy of the pricing page, not checked',
  dynamoReadRequestUnitPerMillion: 'task brief (DynamoDB on-demand read request unit); no stored copy of the pricing page, not checked',
  eventBridgeCustomEventPerMillion: 'task brief (EventBridge custom events, 64 KB chunks); no stored copy of the pricing page, not checked',
  s3PutPer1000: 'task brief (S3 Standard PUT, COPY, POST, LIST); no stored copy of the pricing page, not checked',
  s3GetPer1000: 'task brief (S3 Standard GET, HEAD and other requests); no stored copy of the pricing page, not checked',
  stepFunctionsTransitionPerMillion: 'Step Functions Standard, $0.025 per 1,000 state transitions, as quoted by finops.com.py, looked up 2026-12-06',
};

/**
 * What cannot be measured here and is assumed instead. Latencies are typical same-region figures
 * of a warm function; the functions' memory is the DurableOrchestrator default.
 */
const MODEL = {
  controllerMemoryGb: 1.0,
  apiMemoryGb: 0.5,
  /** Billed time of an invocation besides its calls: runtime, replay of the checkpoint log. */
  controllerBaseMs: 25,
  apiBaseMs: 10,
  /** Share of invocations that start cold, and the billed init time of those. */
  coldStartShare: 0.1,
  controllerInitMs: 300,
  apiInitMs: 250,
  /** One CheckpointDurableExecution call per billable operation (start and end are batched). */
  checkpointMs: 15,
  dynamoItemMs: 6,
  dynamoTransactionMs: 12,
  eventBridgeMs: 20,
  s3Ms: 20,
  /** SSM GetParameter (cached after the first) and ECS RunTask of a ContainerAgent. */
  dispatchMs: 250,
  /** SendDurableExecutionCallback* and Invoke (start) from the API. */
  durableApiMs: 25,
} as const;

/** What counts as one billable durable operation. */
const BILLING_RULE = 'One durable operation per operation in the execution\'s history (STEP, WAIT, CALLBACK, CONTEXT, '
  + 'CHAINED_INVOKE: a waitForCallback is a CONTEXT holding a CALLBACK and its submitter STEP, 3 operations; a parallel step '
  + 'is a CONTEXT and one CONTEXT per branch) plus one for starting the execution. Retried attempts of a step are listed '
  + 'apart (retriedStepAttempts) and priced as one operation each (an upper bound); the reference run retries nothing. '
  + 'Replays on later invocations re-read checkpoints and create no operation. (No stored copy of the pricing page said which '
  + 'operations count; the rule is the issue\'s, and on the controller before this change it gives the issue\'s 26.)';

// ---------------------------------------------------------------------------------------------
// Counting ports
// ---------------------------------------------------------------------------------------------

type Actor = 'controller' | 'api' | 'agent';

/** Calls made through the wrapped ports, by actor, and what DynamoDB would bill for them. */
class Meter {
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
    largestWorkflowItem = 0;
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

/** The largest workflow item seen since the last reset. */
let largestWorkflowItem = 0;

/**
 * Bytes of the workflow item as the DynamoDB adapter writes it: the record with its steps as a
 * map, their order, keys, entity and TTL.
 */
function workflowItemBytes(record: WorkflowRecord | undefined): number {
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
  largestWorkflowItem = Math.max(largestWorkflowItem, bytes);
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
class MeteredStore implements WorkflowStore {
  /** Callback ids of each workflow (the adapter's `WF#<id>`/`CB#<id>` items, pending or not). */
  private static readonly callbacksOf = new Map<string, string[]>();

  constructor(private readonly inner: LocalWorkflowStore, private readonly meter: Meter, private readonly actor: Actor) {}

  async createWorkflow(record: WorkflowRecord): Promise<{ created: boolean; workflow: WorkflowRecord }> {
    this.meter.count(this.actor, 'store.createWorkflow');
    const out = await this.inner.createWorkflow(record);
    this.transaction('createWorkflow', 2 * writeUnits(workflowItemBytes(out.workflow)) + (record.idempotencyKey !== undefined ? 2 : 0));
    return out;
  }

  async getWorkflow(workflowId: string): Promise<WorkflowRecord | undefined> {
    this.meter.count(this.actor, 'store.getWorkflow');
    const wf = await this.inner.getWorkflow(workflowId);
    this.read(readUnits(workflowItemBytes(wf)));
    return wf;
  }

  async listWorkflows(options: ListOptions): Promise<Page<WorkflowRecord>> {
    this.meter.count(this.actor, 'store.listWorkflows');
    const page = await this.inner.listWorkflows(options);
    this.read(readUnits(page.items.reduce((n, wf) => n + workflowItemBytes(wf), 0)));
    return page;
  }

  async updateWorkflow(workflowId: string, patch: WorkflowPatch, onlyIfStatusIn?: WorkflowStatusList): Promise<boolean> {
    this.meter.count(this.actor, 'store.updateWorkflow');
    if (onlyIfStatusIn && onlyIfStatusIn.length === 0) return this.inner.updateWorkflow(workflowId, patch, onlyIfStatusIn);
    const before = await this.inner.getWorkflow(workflowId);
    const applied = await this.inner.updateWorkflow(workflowId, patch, onlyIfStatusIn);
    const after = await this.inner.getWorkflow(workflowId);
    this.item('updateWorkflow', writeUnits(Math.max(workflowItemBytes(before), workflowItemBytes(after))));
    return applied;
  }

  async putStep(workflowId: string, step: StepRecord): Promise<void> {
    this.meter.count(this.actor, 'store.putStep');
    const before = await this.inner.getWorkflow(workflowId);
    await this.inner.putStep(workflowId, step);
    const after = await this.inner.getWorkflow(workflowId);
    const size = Math.max(workflowItemBytes(before), workflowItemBytes(after));
    // The adapter first tries to append the step (condition: not there yet); a known step takes
    // that failed update (charged by the item's size) and a second one that replaces it.
    if (before?.steps.some((s) => s.name === step.name)) this.item('putStep', writeUnits(workflowItemBytes(before)));
    this.item('putStep', writeUnits(size));
  }

  async putCallback(callback: CallbackRecord): Promise<void> {
    this.meter.count(this.actor, 'store.putCallback');
    const wf = await this.inner.getWorkflow(callback.workflowId);
    await this.inner.putCallback(callback);
    const ids = MeteredStore.callbacksOf.get(callback.workflowId) ?? [];
    ids.push(callback.callbackId);
    MeteredStore.callbacksOf.set(callback.workflowId, ids);
    // ConditionCheck on the workflow item and the two callback items.
    this.transaction('putCallback', 2 * writeUnits(workflowItemBytes(wf)) + 2 * 2 * writeUnits(callbackItemBytes(callback)));
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
    for (const id of MeteredStore.callbacksOf.get(workflowId) ?? []) bytes += callbackItemBytes(await this.inner.getCallback(id));
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

class MeteredEvents implements EventPublisher {
  constructor(private readonly inner: EventPublisher, private readonly meter: Meter, private readonly actor: Actor) {}

  async publish(event: WorkflowEvent): Promise<void> {
    this.meter.count(this.actor, 'events.publish');
    this.meter.events.push(event);
    await this.inner.publish(event);
  }
}

class MeteredArtifacts implements ArtifactStore {
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
class MeteredDurable implements DurableControl {
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

/**
 * How long an in-process agent works before it writes and reports: long enough for the controller
 * to suspend while it waits, as it does in Lambda, where an agent takes seconds or more.
 */
const AGENT_WORK_MS = 500;

/** How long the person takes to approve once asked (the same reason). */
const APPROVER_MS = 500;

/** The artifact each reference agent writes. */
const AGENT_ARTIFACTS: Record<string, string> = { researcher: 'research', analyst: 'analysis', writer: 'report' };

/** Agents in process: each writes its artifact under its envelope's prefix and reports over the API. */
class InProcessAgents implements AgentDispatcher {
  public readonly errors: unknown[] = [];

  constructor(private readonly meter: Meter, private readonly artifacts: ArtifactStore, private readonly api: () => HttpClient) {}

  async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    this.meter.count('controller', 'dispatcher.dispatch');
    const artifact = AGENT_ARTIFACTS[agent];
    if (!artifact) throw new Error(`bench: no in-process agent '${agent}'`);
    setImmediate(() => {
      void (async () => {
        await new Promise((r) => setTimeout(r, AGENT_WORK_MS));
        const key = `${envelope.artifacts.prefix}${artifact}.md`;
        await this.artifacts.put(key, `# ${artifact}\n\n${envelope.step_name} of ${envelope.workflow_id}\n`, 'text/markdown');
        const res = await this.api().call('POST', `/callbacks/${envelope.callback.id}`,
          { status: 'succeeded', artifacts: { [artifact]: key }, output: { words: 42 } }, { 'x-callback-token': envelope.callback.token });
        if (res.status !== 200) throw new Error(`report of ${envelope.step_name} refused: ${res.status} ${res.body}`);
      })().catch((e: unknown) => this.errors.push(e));
    });
    return { handle: `in-process-${envelope.workflow_id}-${envelope.step_name}-${envelope.attempt}` };
  }
}

interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

class HttpClient {
  constructor(private readonly api: ApiHandler, private readonly meter: Meter) {}

  async call(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> {
    const label = `${method} ${route.replace(/\/wf-[0-9a-f]+/, '/{id}').replace(/\/cb-[A-Za-z0-9_-]+/, '/{id}')}`;
    this.meter.apiRequests[label] = (this.meter.apiRequests[label] ?? 0) + 1;
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: route,
      rawQueryString: '',
      headers: { 'content-type': 'application/json', ...headers },
      requestContext: { http: { method, path: route }, stage: '$default', requestId: 'bench' },
      body: body === undefined ? undefined : JSON.stringify(body),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const res = await this.api(event);
    return { status: res.statusCode ?? 0, body: typeof res.body === 'string' ? res.body : '' };
  }
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

type ControllerFactory = (options: ControllerOptions) => (event: ControllerEvent, ctx: DurableContext) => Promise<ControllerResult>;

/** What one reference workflow did, counted. */
interface WorkflowFigures {
  readonly status: string;
  readonly durableOperations: {
    readonly billable: number;
    readonly execution: number;
    readonly byType: Record<string, number>;
    readonly retriedStepAttempts: number;
    readonly names: string[];
  };
  readonly controllerInvocations: number;
  readonly apiRequests: Record<string, number>;
  readonly calls: Record<Actor, Record<string, number>>;
  readonly dynamo: {
    readonly writeRequestUnits: number;
    readonly readRequestUnits: number;
    /** By actor and store method. */
    readonly writeRequestUnitsBy: Record<string, number>;
    /** The workflow item at its largest (DynamoDB's item size): every write of it costs 1 WRU per KB of it. */
    readonly largestWorkflowItemBytes: number;
    readonly apiCalls: Record<Actor, { items: number; transactions: number }>;
  };
  readonly events: number;
  readonly eventTypes: string[];
  /** S3 requests of the runtime (controller and API), and the agents' own artifact writes. */
  readonly s3: { readonly putClass: number; readonly getClass: number; readonly agentPutClass: number };
}

async function measure(definition: WorkflowDefinitionDocument, factory: ControllerFactory, workflows: number): Promise<WorkflowFigures[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-ops-bench-'));
  try {
    const meter = new Meter();
    const store = new LocalWorkflowStore();
    const artifacts = new LocalArtifactStore(path.join(dir, 'artifacts'));
    const events = new LocalEventPublisher();
    const telemetry = new RecordingTelemetry();
    let http: HttpClient | undefined;
    const client = () => {
      if (!http) throw new Error('bench: the API is not ready');
      return http;
    };
    const agents = new InProcessAgents(meter, new MeteredArtifacts(artifacts, meter, 'agent'), client);
    let durable: LocalDurableControl | undefined;
    const control = () => {
      if (!durable) throw new Error('bench: the durable control is not ready');
      return durable;
    };
    const durableOf = (actor: Actor): DurableControl => new MeteredDurable(control, meter, actor);
    const controllerPorts: RuntimePorts = {
      store: new MeteredStore(store, meter, 'controller'),
      artifacts: new MeteredArtifacts(artifacts, meter, 'controller'),
      events: new MeteredEvents(events, meter, 'controller'),
      dispatcher: agents,
      durable: durableOf('controller'),
    };
    durable = new LocalDurableControl(factory({ definition, ports: controllerPorts, telemetry, callbackBaseUrl: 'http://127.0.0.1:0' }));
    const api = createApi({
      definition,
      ports: { store: new MeteredStore(store, meter, 'api'), artifacts: new MeteredArtifacts(artifacts, meter, 'api'), durable: durableOf('api') },
      telemetry,
    });
    http = new HttpClient(api, meter);

    const figures: WorkflowFigures[] = [];
    for (let i = 0; i < workflows; i++) {
      meter.reset();
      const started = await http.call('POST', '/workflows', { topic: `Quantum computing and cryptography (${i})`, parameters: { depth: 'comprehensive' } });
      if (started.status !== 202) throw new Error(`start refused: ${started.status} ${started.body}`);
      const id = (JSON.parse(started.body) as { workflow_id: string }).workflow_id;
      await until(async () => {
        if (agents.errors.length > 0) throw new Error(`agents failed: ${agents.errors.map(String).join('; ')}`);
        return (await store.getWorkflow(id))?.awaiting === 'approval';
      }, `workflow ${id} to wait for approval`, () => store.getWorkflow(id));
      await new Promise((r) => setTimeout(r, APPROVER_MS));
      const approved = await http.call('POST', `/workflows/${id}/approval`, { approved: true, comment: 'ship it' });
      if (approved.status !== 200) throw new Error(`approval refused: ${approved.status} ${approved.body}`);
      const outcome = await durable.finished(id);
      const wf = await store.getWorkflow(id);
      if (agents.errors.length > 0) throw new Error(`agents failed: ${agents.errors.map(String).join('; ')}`);
      if (!outcome.history) throw new Error(`no history of ${id}: ${JSON.stringify(outcome.error)}`);
      figures.push(figuresOf(wf?.status ?? 'unknown', outcome.history, meter));
    }
    return figures;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function figuresOf(status: string, history: LocalExecutionHistory, meter: Meter): WorkflowFigures {
  const byType: Record<string, number> = {};
  for (const op of history.operations) byType[op.type] = (byType[op.type] ?? 0) + 1;
  const retried = history.operations.reduce((n, op) => n + Math.max(0, (op.attempts ?? 1) - 1), 0);
  const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
  const runtime = (prefix: string) => meter.total('controller', prefix) + meter.total('api', prefix);
  return {
    status,
    durableOperations: {
      billable: history.operations.length + 1,
      execution: 1,
      byType,
      retriedStepAttempts: retried,
      names: history.operations.map((op) => `${op.type}${op.subType && op.subType.toUpperCase() !== op.type ? `/${op.subType}` : ''} ${op.name ?? '-'}`),
    },
    controllerInvocations: history.invocations,
    apiRequests: copy(meter.apiRequests),
    calls: copy(meter.calls),
    dynamo: {
      writeRequestUnits: meter.wru,
      readRequestUnits: meter.rru,
      writeRequestUnitsBy: copy(meter.wruBy),
      apiCalls: copy(meter.dynamoCalls),
      largestWorkflowItemBytes: largestWorkflowItem,
    },
    events: meter.events.length,
    eventTypes: meter.events.map((e) => `${e.type}${e.stepName ? `:${e.stepName}` : ''}`),
    s3: {
      putClass: runtime('artifacts.put') + runtime('artifacts.copy'),
      getClass: runtime('artifacts.get') + runtime('artifacts.exists'),
      agentPutClass: meter.total('agent', 'artifacts.put') + meter.total('agent', 'artifacts.copy'),
    },
  };
}

async function until(check: () => Promise<boolean>, what: string, detail: () => Promise<unknown>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}; last seen: ${JSON.stringify(await detail())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------------------------

interface Costs {
  /** USD per 1,000 workflows, by item (the agents' own artifact writes apart). */
  readonly per1000: Record<string, number>;
  /** All in for the runtime: every item of `per1000`. */
  readonly totalPer1000: number;
  /**
   * The agents' S3 PUTs of their artifacts: agent-side work, like their compute, and the same
   * under either engine; not in `totalPer1000`.
   */
  readonly agentArtifactWritesPer1000: number;
  readonly totalWithAgentArtifactWritesPer1000: number;
  readonly lambda: {
    readonly controllerBilledMsPerWorkflow: number;
    readonly apiInvocations: number;
    readonly apiBilledMsPerWorkflow: number;
  };
}

/** The Lambda time the latency model gives to one actor's calls, in ms. */
function callMs(f: WorkflowFigures, actor: Actor): number {
  const c = f.calls[actor];
  const n = (prefix: string) => Object.entries(c).filter(([k]) => k.startsWith(prefix)).reduce((s, [, v]) => s + v, 0);
  const dynamo = f.dynamo.apiCalls[actor];
  return dynamo.items * MODEL.dynamoItemMs + dynamo.transactions * MODEL.dynamoTransactionMs
    + n('events.') * MODEL.eventBridgeMs + n('artifacts.') * MODEL.s3Ms
    + n('dispatcher.') * MODEL.dispatchMs + n('durable.') * MODEL.durableApiMs;
}

function price(f: WorkflowFigures): Costs {
  const perMillion = (count: number, usd: number) => (count * usd) / 1000; // per 1,000 workflows
  const apiInvocations = Object.values(f.apiRequests).reduce((a, b) => a + b, 0);
  const controllerMs = f.controllerInvocations * (MODEL.controllerBaseMs + MODEL.coldStartShare * MODEL.controllerInitMs)
    + f.durableOperations.billable * MODEL.checkpointMs + callMs(f, 'controller');
  const apiMs = apiInvocations * (MODEL.apiBaseMs + MODEL.coldStartShare * MODEL.apiInitMs) + callMs(f, 'api');
  const per1000: Record<string, number> = {
    durableOperations: perMillion(f.durableOperations.billable + f.durableOperations.retriedStepAttempts, PRICES.durableOperationPerMillion),
    controllerRequests: perMillion(f.controllerInvocations, PRICES.lambdaRequestPerMillion),
    controllerDuration: (controllerMs / 1000) * MODEL.controllerMemoryGb * PRICES.lambdaArmGbSecond * 1000,
    apiGatewayRequests: perMillion(apiInvocations, PRICES.httpApiRequestPerMillion),
    apiRequests: perMillion(apiInvocations, PRICES.lambdaRequestPerMillion),
    apiDuration: (apiMs / 1000) * MODEL.apiMemoryGb * PRICES.lambdaArmGbSecond * 1000,
    dynamoWrites: perMillion(f.dynamo.writeRequestUnits, PRICES.dynamoWriteRequestUnitPerMillion),
    dynamoReads: perMillion(f.dynamo.readRequestUnits, PRICES.dynamoReadRequestUnitPerMillion),
    eventBridge: perMillion(f.events, PRICES.eventBridgeCustomEventPerMillion),
    s3Put: f.s3.putClass * PRICES.s3PutPer1000,
    s3Get: f.s3.getClass * PRICES.s3GetPer1000,
  };
  const total = Object.values(per1000).reduce((a, b) => a + b, 0);
  const agentWrites = f.s3.agentPutClass * PRICES.s3PutPer1000;
  return {
    per1000: roundAll(per1000),
    totalPer1000: round(total),
    agentArtifactWritesPer1000: round(agentWrites),
    totalWithAgentArtifactWritesPer1000: round(total + agentWrites),
    lambda: { controllerBilledMsPerWorkflow: Math.round(controllerMs), apiInvocations, apiBilledMsPerWorkflow: Math.round(apiMs) },
  };
}

/**
 * Step Functions Standard doing the same bookkeeping: its SDK integrations make one API call per
 * Task state, so each call the controller makes (store read or write, event, artifact operation,
 * dispatch) is one Task state; each read the controller makes decides something (cancelled? ended?
 * which callbacks are left?), so it is followed by one Choice state; an approval's outcome is one
 * more Choice; the execution ends in one Succeed state. A wait costs no state of its own: the
 * dispatch (ECS RunTask / Lambda Invoke) and the approval-requested event are Task states with
 * `.waitForTaskToken`. Every state entered is one transition. Not counted (in Step Functions'
 * favour): Pass states to shape data, Catch and Retry paths, and the DynamoDB adapter's second
 * request where a port call takes two (a state machine could do those in one).
 * The API, its Lambda, and the store, event and S3 requests are the same under both engines.
 */
function stepFunctionsTransitions(f: WorkflowFigures, definition: WorkflowDefinitionDocument):
{ transitions: number; explanation: Record<string, number> } {
  const c = f.calls.controller;
  const sum = (prefixes: string[]) => Object.entries(c).filter(([k]) => prefixes.some((p) => k.startsWith(p))).reduce((s, [, v]) => s + v, 0);
  const taskStates = sum(['store.', 'events.', 'artifacts.', 'dispatcher.']);
  const reads = sum(['store.getWorkflow', 'store.pendingCallbacks', 'store.getCallback', 'artifacts.exists', 'artifacts.get']);
  const approvals = definition.steps.filter((s) => s.type === 'approval').length;
  const explanation = { taskStates, choiceAfterRead: reads, approvalChoice: approvals, succeed: 1 };
  return { transitions: taskStates + reads + approvals + 1, explanation };
}

/**
 * A second, leaner count from the definition alone: the least a hand-written state machine needs
 * for the same records and events, with every DynamoDB write of one moment in one
 * TransactWriteItems state, cancellation by StopExecution (no cancel checks) and no retries.
 * Workflow start: UpdateItem, PutEvents (2). Agent step: TransactWriteItems (callback, step,
 * awaiting), PutEvents (started), RunTask `.waitForTaskToken`, TransactWriteItems (step ended,
 * awaiting, callback closed), PutEvents (completed) (5). Approval: the same with PutEvents
 * (approval requested) `.waitForTaskToken` in place of RunTask, one more PutEvents (started),
 * and a Choice on the decision (6). Publish: CopyObject, UpdateItem, 2 PutEvents (4). Choice: a
 * Choice state, UpdateItem, 2 PutEvents (4), plus the case's steps (the longest). Parallel: the
 * Parallel state, UpdateItem twice, 2 PutEvents (5), plus its branches. End: UpdateItem,
 * PutEvents, Succeed (3).
 */
function minimalStateMachineTransitions(definition: WorkflowDefinitionDocument): number {
  const count = (steps: readonly StepDocument[]): number => steps.reduce((n, step) => {
    switch (step.type) {
      case 'agent': return n + 5;
      case 'approval': return n + 6;
      case 'publish': return n + 4;
      case 'choice': return n + 4 + Math.max(count(step.otherwise), ...step.cases.map((c) => count(c.steps)));
      case 'parallel': return n + 5 + step.branches.reduce((b, branch) => b + count(branch.steps), 0);
    }
    return n;
  }, 0);
  return 2 + count(definition.steps) + 3;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function roundAll(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]));
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

interface Variant {
  readonly controller: string;
  readonly figures: WorkflowFigures;
  /** Figures in which the workflows of the run differed (none expected: the counts follow from the definition). */
  readonly differences: string[];
  readonly costs: Costs;
  readonly stepFunctions: {
    /** One Task state per call the controller made (see stepFunctionsTransitions). */
    readonly transitions: number;
    readonly explanation: Record<string, number>;
    readonly transitionsPer1000: number;
    /** What both engines pay: the API and its function, DynamoDB, EventBridge, S3. */
    readonly sharedPer1000: number;
    readonly totalPer1000: number;
    /** The durable runtime's `totalPer1000` over Step Functions' (goal: at most 0.6). */
    readonly durableToStepFunctionsRatio: number;
    /** The leaner count of minimalStateMachineTransitions, and the ratio against it. */
    readonly minimalTransitions: number;
    readonly minimalTotalPer1000: number;
    readonly durableToMinimalStepFunctionsRatio: number;
  };
}

async function variant(label: string, definition: WorkflowDefinitionDocument, factory: ControllerFactory, workflows: number): Promise<Variant> {
  const runs = await measure(definition, factory, workflows);
  const differences = (Object.keys(runs[0]) as (keyof WorkflowFigures)[])
    .filter((k) => runs.some((r) => JSON.stringify(r[k]) !== JSON.stringify(runs[0][k])))
    .map((k) => `${k}: ${runs.map((r) => JSON.stringify(r[k])).join(' | ')}`);
  const figures = runs[0];
  if (runs.some((r) => r.status !== 'SUCCEEDED')) throw new Error(`${label}: a workflow did not succeed: ${runs.map((r) => r.status).join(', ')}`);
  const costs = price(figures);
  const sfn = stepFunctionsTransitions(figures, definition);
  const p = costs.per1000;
  // What Step Functions would not need: the durable operations and the controller function.
  const shared = p.apiGatewayRequests + p.apiRequests + p.apiDuration + p.dynamoWrites + p.dynamoReads + p.eventBridge + p.s3Put + p.s3Get;
  // The controller's own requests (its reads and writes, events, copies) are in `shared` too: a
  // state machine makes the same ones. Only the operations and the controller function are not.
  const transitionsPer1000 = (sfn.transitions * PRICES.stepFunctionsTransitionPerMillion) / 1000;
  const sfnTotal = transitionsPer1000 + shared;
  const minimal = minimalStateMachineTransitions(definition);
  const minimalTotal = (minimal * PRICES.stepFunctionsTransitionPerMillion) / 1000 + shared;
  return {
    controller: label,
    figures,
    differences,
    costs,
    stepFunctions: {
      transitions: sfn.transitions,
      explanation: sfn.explanation,
      transitionsPer1000: round(transitionsPer1000),
      sharedPer1000: round(shared),
      totalPer1000: round(sfnTotal),
      durableToStepFunctionsRatio: Math.round((costs.totalPer1000 / sfnTotal) * 1000) / 1000,
      minimalTransitions: minimal,
      minimalTotalPer1000: round(minimalTotal),
      durableToMinimalStepFunctionsRatio: Math.round((costs.totalPer1000 / minimalTotal) * 1000) / 1000,
    },
  };
}

/**
 * Copies src/runtime/controller.ts of `rev` next to this file, with its imports pointed at src/;
 * `label` names the commit that last changed that file as of `rev`.
 */
function baselineController(rev: string): { file: string; label: string; dispose: () => void } {
  const root = path.join(__dirname, '..');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf-8' }).trim();
  const text = git('show', `${rev}:src/runtime/controller.ts`);
  const commit = git('log', '-1', '--format=%h %s', rev, '--', 'src/runtime/controller.ts');
  const label = `src/runtime/controller.ts at ${rev} (last changed in ${commit})`;
  const dir = fs.mkdtempSync(path.join(__dirname, '.baseline-'));
  const rewritten = text
    .replace(/from '\.\.\/contract\//g, "from '../../src/contract/")
    .replace(/from '\.\/(?!\.)/g, "from '../../src/runtime/");
  const file = path.join(dir, 'controller.ts');
  fs.writeFileSync(file, `${rewritten}\n`);
  return { file, label, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join('bench', 'results', 'durable-operations.json') },
      workflows: { type: 'string', default: '3' },
      baseline: { type: 'string' },
    },
  });
  const workflows = Number(values.workflows);
  if (!Number.isInteger(workflows) || workflows < 1) throw new Error(`--workflows must be a whole number of 1 or more, got ${values.workflows}`);
  const definition = ReferenceWorkflows.researchReport({
    researcher: WorkflowAgent.named('researcher'), analyst: WorkflowAgent.named('analyst'), writer: WorkflowAgent.named('writer'),
  })._toDocument();

  await LocalDurableControl.setup();
  const variants: Variant[] = [];
  try {
    if (values.baseline) {
      const base = baselineController(values.baseline);
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(base.file) as { createController: ControllerFactory };
        variants.push(await variant(base.label, definition, mod.createController, workflows));
      } finally {
        base.dispose();
      }
    }
    variants.push(await variant('src/runtime/controller.ts (working tree)', definition, createController, workflows));
  } finally {
    await LocalDurableControl.teardown();
  }

  const result = {
    benchmark: 'durable-operations',
    workflow: `${definition.name} (ReferenceWorkflows.researchReport): research -> analysis -> writing -> approval -> publish, agents report in process, approval given`,
    workflowsPerVariant: workflows,
    billingRule: BILLING_RULE,
    prices: Object.fromEntries(Object.entries(PRICES).map(([k, v]) => [k, { usd: v, source: PRICE_SOURCES[k as keyof typeof PRICES] }])),
    model: MODEL,
    notes: [
      'Costs are USD per 1,000 workflows. Not included (agent-side, or the same under both engines): agent compute and model calls, the agents\' '
        + 'own artifact writes (shown apart as agentArtifactWritesPer1000), SSM reads, status polling by clients. Durable execution data written '
        + 'and retained is not priced (no checked price here).',
      'Step Functions: the same API, store, event and S3 requests (sharedPer1000) plus one transition per state entered, in place of the durable '
        + 'operations and the controller function; `transitions` maps each call the controller made to a state, `minimalTransitions` is the '
        + 'least a hand-written state machine needs (see the functions of the same names).',
      'DynamoDB units follow the DynamoDB adapter\'s requests and DynamoDB\'s capacity and item-size rules (see MeteredStore and itemBytes).',
    ],
    variants,
    finishedAt: new Date().toISOString(),
  };
  const out = path.resolve(values.out!);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  for (const v of variants) {
    const f = v.figures;
    const c = v.costs;
    const sfn = v.stepFunctions;
    process.stdout.write([
      `${v.controller}:`,
      `  ${f.durableOperations.billable} billable durable operations (${JSON.stringify(f.durableOperations.byType)} + 1 execution), ${f.controllerInvocations} invocations`,
      `  ${f.dynamo.writeRequestUnits} WRU, ${f.dynamo.readRequestUnits} RRU, ${f.events} events, S3 ${f.s3.putClass} PUT/${f.s3.getClass} GET (+ ${f.s3.agentPutClass} agent PUT)`,
      `  $${c.totalPer1000.toFixed(4)} per 1,000 workflows all in (operations $${c.per1000.durableOperations.toFixed(4)}); `
        + `$${c.totalWithAgentArtifactWritesPer1000.toFixed(4)} with the agents' artifact writes`,
      `  Step Functions: ${sfn.transitions} transitions, $${sfn.totalPer1000.toFixed(4)} per 1,000: ratio ${sfn.durableToStepFunctionsRatio}; `
        + `minimal state machine ${sfn.minimalTransitions} transitions, $${sfn.minimalTotalPer1000.toFixed(4)}: ratio ${sfn.durableToMinimalStepFunctionsRatio}`,
      ...v.differences.map((d) => `  the runs differed in ${d}`),
    ].join('\n') + '\n');
  }
  process.stdout.write(`written to ${path.relative(process.cwd(), out)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
