/**
 * Runs a workflow definition for real, in process, and counts what it does: the controller of
 * src/runtime on the durable-execution testing SDK's LocalDurableTestRunner, the API handler in
 * process, agents in process that write their artifacts and report success over the API, and
 * every approval given over the API. Every port is wrapped to count its calls (metering.ts) and
 * the runner's operation history gives the durable operations, the controller's invocations and
 * the data the execution checkpointed.
 *
 * Any definition runs: the input of the workflow and each agent's report are made up from what
 * the definition reads (see `planRun`), so that every reference resolves, and a choice whose
 * value comes from the input or from an agent's output takes its first case.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { Actor, Meter, MeteredArtifacts, MeteredDurable, MeteredEvents, MeteredStore } from './metering';
import { allSteps, StepDocument, ValueRef, WorkflowDefinitionDocument } from '../../contract/definition';
import { declaredInputField, sampleInputValue } from '../../contract/inputs';
import type { TaskEnvelope } from '../../contract/status';
import { LocalArtifactStore, LocalEventPublisher, LocalWorkflowStore } from '../../runtime/adapters/local';
import { ApiHandler, createApi } from '../../runtime/api';
import { ControllerEvent, ControllerOptions, ControllerResult, createController } from '../../runtime/controller';
import { LocalDurableControl, LocalExecutionHistory } from '../../runtime/durable/local-durable-control';
import type { AgentDispatcher, ArtifactStore, DurableControl, RuntimePorts } from '../../runtime/ports';
import { RecordingTelemetry } from '../../runtime/telemetry';
import { CliError } from '../errors';
import { acquireBackend, releaseBackend } from '../local-durable';

/** The controller to run (the bench also runs an older revision of it). */
export type ControllerFactory = (options: ControllerOptions) => (event: ControllerEvent, ctx: DurableContext) => Promise<ControllerResult>;

/** What one workflow did, counted. */
export interface WorkflowFigures {
  readonly status: string;
  readonly durableOperations: {
    /** Operations in the history, plus one for starting the execution. */
    readonly billable: number;
    readonly execution: number;
    readonly byType: Record<string, number>;
    readonly retriedStepAttempts: number;
    readonly names: string[];
    /**
     * Bytes the execution checkpointed: the results and errors of its operations and its input
     * and result payloads (UTF-8 JSON).
     */
    readonly payloadBytes: number;
  };
  readonly controllerInvocations: number;
  readonly apiRequests: Record<string, number>;
  readonly calls: Record<Actor, Record<string, number>>;
  /** Tasks handed to each agent. */
  readonly dispatches: Record<string, number>;
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

export interface CountOptions {
  readonly definition: WorkflowDefinitionDocument;
  /**
   * Workflows to run one after the other.
   * @default 1
   */
  readonly workflows?: number;
  /** @default the controller of src/runtime/controller.ts */
  readonly controller?: ControllerFactory;
  /**
   * The input of the `index`th workflow (it must have every field the definition reads; a choice
   * on an input field follows its value).
   * @default made up from the definition (see `planRun`)
   */
  readonly input?: (index: number) => Record<string, unknown>;
}

/**
 * How long an in-process agent works before it writes and reports, and how long the approver
 * takes: long enough for the controller to suspend while it waits, as it does in Lambda, where
 * an agent takes seconds or more (an answer quicker than the suspension would save invocations
 * that a deployed workflow makes).
 */
const AGENT_WORK_MS = 500;
const APPROVER_MS = 500;

/** What each agent step reports, and the workflow input: made up from what the definition reads. */
export interface RunPlan {
  readonly input: Record<string, unknown>;
  /** By agent step name: the artifacts it writes and the output it reports. */
  readonly reports: Record<string, { readonly artifacts: string[]; readonly output: Record<string, unknown> }>;
}

/** The artifact an agent step writes when no later step names one of its artifacts. */
const DEFAULT_ARTIFACT = 'output';

/**
 * The input and the agents' reports of a run in which every reference of the definition
 * resolves: each input field read gets a value, each agent step writes every artifact a later
 * step names (at least one) and reports every output field read. A choice's value, where it comes
 * from the input or an agent's output, is its first case's (the run takes that case; a choice
 * without cases takes `otherwise`). Other made-up values are strings naming their source.
 */
export function planRun(definition: WorkflowDefinitionDocument): RunPlan {
  const steps = allSteps(definition.steps);
  const agentSteps = new Set(steps.filter((s) => s.type === 'agent').map((s) => s.name));
  const input: Record<string, unknown> = {};
  const reports: Record<string, { artifacts: string[]; output: Record<string, unknown> }> = {};
  for (const name of agentSteps) reports[name] = { artifacts: [], output: {} };
  const uses: Array<{ ref: ValueRef; value: unknown }> = [];
  for (const step of steps) {
    for (const ref of refsOf(step)) {
      const chosen = step.type === 'choice' && step.cases.length > 0 ? step.cases[0].equals : undefined;
      uses.push({ ref, value: chosen });
    }
  }
  // Shallow paths first, so that a deeper path read elsewhere makes its parent an object; of two
  // reads of one path, a choice's value last, so that it wins.
  uses.sort((a, b) => depth(a.ref) - depth(b.ref) || Number(a.value !== undefined) - Number(b.value !== undefined));
  // A declared input gets values its declaration accepts: its required fields first, then what steps read.
  const declared = definition.inputs;
  if (declared) Object.assign(input, sampleInputValue(declared, 'input'));
  const sample = (fieldPath: string) => {
    const field = declared ? declaredInputField(declared, fieldPath) : undefined;
    return field ? sampleInputValue(field, fieldPath) : `sample ${fieldPath}`;
  };
  for (const { ref, value } of uses) {
    if (ref.from === 'input') {
      if (ref.path !== '') setPath(input, ref.path, value ?? sample(ref.path));
    } else if (ref.from === 'step' && agentSteps.has(ref.step)) {
      const report = reports[ref.step];
      const [head, name, ...rest] = ref.path.split('.');
      if (head === 'artifacts' && name !== undefined && name !== '') {
        if (!report.artifacts.includes(name)) report.artifacts.push(name);
      } else if (head === 'output' && name !== undefined && name !== '') {
        setPath(report.output, [name, ...rest].join('.'), value ?? `sample ${ref.step}.${ref.path}`);
      }
    }
  }
  for (const report of Object.values(reports)) {
    if (report.artifacts.length === 0) report.artifacts.push(DEFAULT_ARTIFACT);
  }
  return { input, reports };
}

function refsOf(step: StepDocument): ValueRef[] {
  switch (step.type) {
    case 'agent': return Object.values(step.input);
    case 'choice': return [step.value];
    case 'publish': return [step.artifact];
    default: return [];
  }
}

function depth(ref: ValueRef): number {
  return ref.from === 'literal' ? 0 : ref.path.split('.').length;
}

function setPath(target: Record<string, unknown>, dotPath: string, value: unknown): void {
  const parts = dotPath.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1];
  // An object there was made for a deeper read (set after this one only if as deep): keep it.
  const existing = node[last];
  if (existing !== null && typeof existing === 'object') return;
  node[last] = value;
}

/** Agents in process: each writes its artifacts under its envelope's prefix and reports success over the API. */
class InProcessAgents implements AgentDispatcher {
  public readonly errors: unknown[] = [];
  public readonly dispatches: Record<string, number> = {};

  constructor(private readonly plan: RunPlan, private readonly meter: Meter, private readonly artifacts: ArtifactStore,
    private readonly api: () => HttpClient) {}

  public reset(): void {
    for (const k of Object.keys(this.dispatches)) delete this.dispatches[k];
  }

  async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    this.meter.count('controller', 'dispatcher.dispatch');
    this.dispatches[agent] = (this.dispatches[agent] ?? 0) + 1;
    const report = this.plan.reports[envelope.step_name];
    if (!report) throw new Error(`no agent step '${envelope.step_name}' in the definition (agent '${agent}')`);
    setTimeout(() => {
      void (async () => {
        const written: Record<string, string> = {};
        for (const name of report.artifacts) {
          const key = `${envelope.artifacts.prefix}${name}.md`;
          await this.artifacts.put(key, `# ${name}\n\n${envelope.step_name} of ${envelope.workflow_id}\n`, 'text/markdown');
          written[name] = key;
        }
        const res = await this.api().call('POST', `/callbacks/${envelope.callback.id}`,
          { status: 'succeeded', artifacts: written, output: report.output }, { 'x-callback-token': envelope.callback.token });
        if (res.status !== 200) throw new Error(`the report of step '${envelope.step_name}' was refused: ${res.status} ${res.body}`);
      })().catch((e: unknown) => this.errors.push(e));
    }, AGENT_WORK_MS);
    return { handle: `in-process-${envelope.workflow_id}-${envelope.step_name}-${envelope.attempt}` };
  }
}

interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** Calls the API handler as API Gateway would, counting each request by route. */
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
      requestContext: { http: { method, path: route }, stage: '$default', requestId: 'cost-run' },
      body: body === undefined ? undefined : JSON.stringify(body),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const res = await this.api(event);
    return { status: res.statusCode ?? 0, body: typeof res.body === 'string' ? res.body : '' };
  }
}

/**
 * Runs `workflows` workflows of the definition one after the other and returns what each did.
 * Rejects with a `CliError` when a workflow does not succeed (with what it ended with).
 */
export async function countWorkflows(options: CountOptions): Promise<WorkflowFigures[]> {
  const { definition } = options;
  const workflows = options.workflows ?? 1;
  const factory = options.controller ?? createController;
  const plan = planRun(definition);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-cost-'));
  await acquireBackend();
  try {
    const meter = new Meter();
    const store = new LocalWorkflowStore();
    const artifacts = new LocalArtifactStore(path.join(dir, 'artifacts'));
    const events = new LocalEventPublisher();
    const telemetry = new RecordingTelemetry();
    let http: HttpClient | undefined;
    const client = () => {
      if (!http) throw new Error('the API is not ready');
      return http;
    };
    const agents = new InProcessAgents(plan, meter, new MeteredArtifacts(artifacts, meter, 'agent'), client);
    let durable: LocalDurableControl | undefined;
    const control = () => {
      if (!durable) throw new Error('the durable control is not ready');
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
    // Each step waits about a second at most (the agent or the approver), plus the runner's own time.
    const timeoutMs = 30_000 + 2_000 * allSteps(definition.steps).length;

    const figures: WorkflowFigures[] = [];
    for (let i = 0; i < workflows; i++) {
      meter.reset();
      agents.reset();
      const input = options.input?.(i) ?? plan.input;
      const started = await http.call('POST', '/workflows', input);
      if (started.status !== 202) {
        throw new CliError(`workflow '${definition.name}': the API refused to start it with the input ${JSON.stringify(input)}: ${started.status} ${started.body}`);
      }
      const id = (JSON.parse(started.body) as { workflow_id: string }).workflow_id;
      const outcome = await runToEnd(id, durable, store, http, agents, timeoutMs);
      const wf = await store.getWorkflow(id);
      if (agents.errors.length > 0) throw new CliError(`workflow '${definition.name}': an in-process agent failed: ${agents.errors.map(String).join('; ')}`);
      if (!outcome.history) throw new CliError(`workflow '${definition.name}': the local durable runner failed: ${JSON.stringify(outcome.error)}`);
      if (wf?.status !== 'SUCCEEDED') {
        throw new CliError(`workflow '${definition.name}' ended ${wf?.status ?? 'without a record'} when run with every agent succeeding and every `
          + `approval given${wf?.error ? ` (${wf.error.code}: ${wf.error.message})` : ''}; its cost cannot be counted from this run`);
      }
      figures.push(figuresOf(wf.status, outcome.history, meter, agents.dispatches));
    }
    return figures;
  } finally {
    await releaseBackend();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits for the workflow's execution to end, approving each approval the workflow asks for. */
async function runToEnd(id: string, durable: LocalDurableControl, store: LocalWorkflowStore, http: HttpClient,
  agents: InProcessAgents, timeoutMs: number) {
  let ended = false;
  const done = durable.finished(id).finally(() => { ended = true; });
  const deadline = Date.now() + timeoutMs;
  const asked = new Map<string, number>();
  while (!ended) {
    if (agents.errors.length > 0) break;
    if (Date.now() > deadline) {
      throw new CliError(`workflow ${id} did not end within ${timeoutMs / 1000}s; last seen: ${JSON.stringify(await store.getWorkflow(id))}`);
    }
    const approvals = (await store.pendingCallbacks(id)).filter((c) => c.kind === 'approval');
    const oldest = approvals.sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
    if (oldest) {
      const since = asked.get(oldest.callbackId) ?? Date.now();
      asked.set(oldest.callbackId, since);
      if (Date.now() - since >= APPROVER_MS) {
        asked.delete(oldest.callbackId);
        const res = await http.call('POST', `/workflows/${id}/approval`, { approved: true, comment: 'approved by the cost estimate run' });
        if (res.status !== 200) throw new CliError(`workflow ${id}: the approval of step '${oldest.stepName}' was refused: ${res.status} ${res.body}`);
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return done;
}

function figuresOf(status: string, history: LocalExecutionHistory, meter: Meter, dispatches: Record<string, number>): WorkflowFigures {
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
      payloadBytes: history.executionPayloadBytes + history.operations.reduce((n, op) => n + op.payloadBytes, 0),
    },
    controllerInvocations: history.invocations,
    apiRequests: copy(meter.apiRequests),
    calls: copy(meter.calls),
    dispatches: copy(dispatches),
    dynamo: {
      writeRequestUnits: meter.wru,
      readRequestUnits: meter.rru,
      writeRequestUnitsBy: copy(meter.wruBy),
      apiCalls: copy(meter.dynamoCalls),
      largestWorkflowItemBytes: meter.largestWorkflowItem,
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
