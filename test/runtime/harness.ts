/**
 * An in-process runtime for tests: the real controller under LocalDurableControl (the
 * durable-execution testing SDK's LocalDurableTestRunner, real timers), the local adapters, and
 * fake agents that behave like real ones: they write artifacts, then report over the HTTP API
 * with the token from their envelope.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import type { TaskEnvelope } from '../../src/contract/status';
import { LocalArtifactStore, LocalEventPublisher, LocalWorkflowStore } from '../../src/runtime/adapters/local';
import { ApiHandler, createApi } from '../../src/runtime/api';
import { ApprovalLinkIssuer } from '../../src/runtime/approval-links';
import { createController } from '../../src/runtime/controller';
import { LocalDurableControl } from '../../src/runtime/durable/local-durable-control';
import { AgentDispatcher, RuntimePorts, UnknownAgentError, WorkflowEvent, WorkflowStore } from '../../src/runtime/ports';
import { RecordingTelemetry } from '../../src/runtime/telemetry';

export interface ApiResponse {
  readonly status: number;
  readonly body: any;
  readonly headers: Record<string, string>;
}

/** What a fake agent can do, as a real agent would. */
export interface AgentTools {
  readonly runtime: TestRuntime;
  writeArtifact(name: string, body: string): Promise<string>;
  report(body: unknown, options?: { token?: string }): Promise<ApiResponse>;
  heartbeat(): Promise<ApiResponse>;
}

export type AgentBehavior = (envelope: TaskEnvelope, tools: AgentTools) => Promise<void>;

/** Succeeds after `delayMs`, writing one artifact per name. */
export function succeeds(artifactNames: string[], delayMs = 5): AgentBehavior {
  return async (envelope, tools) => {
    await sleep(delayMs);
    const artifacts: Record<string, string> = {};
    for (const name of artifactNames) {
      artifacts[name] = await tools.writeArtifact(name, `# ${name}\n\n${envelope.step_name} for ${JSON.stringify(envelope.input)}\n`);
    }
    const res = await tools.report({ status: 'succeeded', artifacts, output: { words: 42 } });
    if (res.status !== 200) throw new Error(`report refused: ${res.status} ${JSON.stringify(res.body)}`);
  };
}

/** Reports failure. */
export function fails(message: string, delayMs = 5): AgentBehavior {
  return async (_envelope, tools) => {
    await sleep(delayMs);
    await tools.report({ status: 'failed', error: { code: 'ModelError', message } });
  };
}

/** Never reports (the step times out). */
export const silent: AgentBehavior = async () => {};

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

class FakeAgents implements AgentDispatcher {
  public readonly dispatches: TaskEnvelope[] = [];
  public readonly errors: unknown[] = [];
  public inFlight = 0;
  public maxInFlight = 0;

  constructor(private readonly behaviors: Record<string, AgentBehavior>, private readonly runtime: () => TestRuntime) {}

  async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    const behavior = this.behaviors[agent];
    if (!behavior) throw new UnknownAgentError(agent, Object.keys(this.behaviors));
    this.dispatches.push(envelope);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const rt = this.runtime();
    const tools: AgentTools = {
      runtime: rt,
      writeArtifact: async (name, body) => {
        const key = `${envelope.artifacts.prefix}${name}.md`;
        await rt.ports.artifacts.put(key, body, 'text/markdown');
        return key;
      },
      report: (body, options) => rt.call('POST', `/callbacks/${envelope.callback.id}`, body, { 'x-callback-token': options?.token ?? envelope.callback.token }),
      heartbeat: () => rt.call('POST', `/callbacks/${envelope.callback.id}/heartbeat`, undefined, { authorization: `Bearer ${envelope.callback.token}` }),
    };
    setImmediate(() => {
      behavior(envelope, tools).catch((e) => this.errors.push(e)).finally(() => this.inFlight--);
    });
    return { handle: `fake-${this.dispatches.length}` };
  }

  dispatchesOf(step: string): TaskEnvelope[] {
    return this.dispatches.filter((d) => d.step_name === step);
  }
}

export interface TestRuntime {
  readonly ports: RuntimePorts;
  readonly store: WorkflowStore;
  readonly agents: FakeAgents;
  readonly durable: LocalDurableControl;
  readonly events: WorkflowEvent[];
  readonly telemetry: RecordingTelemetry;
  readonly api: ApiHandler;
  readonly dir: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Starts a workflow over the API and returns its id. */
  start(input: Record<string, unknown>, headers?: Record<string, string>): Promise<string>;
  /** Polls GET /workflows/{id} until `until` holds. */
  waitFor(workflowId: string, until: (wf: any) => boolean, timeoutMs?: number): Promise<any>;
  /**
   * Replaces the API by one deployed with `definition`, as a deploy of a changed app does while
   * workflows of the old definition run on (their controller version keeps the old one).
   */
  redeployApi(definition: WorkflowDefinitionDocument): void;
  /** Waits for the execution to end and returns the final GET /workflows/{id}. */
  finished(workflowId: string): Promise<any>;
  dispose(): void;
}

export interface RuntimeOptions {
  /** Wraps the store, e.g. to inject failures. */
  readonly wrapStore?: (store: WorkflowStore) => WorkflowStore;
  /** Wraps the agent dispatcher, e.g. to count or fail dispatches. */
  readonly wrapDispatcher?: (dispatcher: AgentDispatcher) => AgentDispatcher;
  /** Approval links signed with this key (base URL `http://127.0.0.1:0`). @default - none */
  readonly approvalLinkKey?: Buffer;
}

export function makeRuntime(definition: WorkflowDefinitionDocument, behaviors: Record<string, AgentBehavior>,
  options: RuntimeOptions = {}): TestRuntime {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-runtime-'));
  const baseStore = new LocalWorkflowStore();
  const store = options.wrapStore ? options.wrapStore(baseStore) : baseStore;
  const artifacts = new LocalArtifactStore(path.join(dir, 'artifacts'));
  const seen: WorkflowEvent[] = [];
  const events = new LocalEventPublisher({ sink: (e) => seen.push(e) });
  const telemetry = new RecordingTelemetry();
  let rt: TestRuntime;
  const agents = new FakeAgents(behaviors, () => rt);
  const partial = { store, artifacts, events, dispatcher: options.wrapDispatcher ? options.wrapDispatcher(agents) : agents };
  const linkKey = options.approvalLinkKey;
  const linkKeys = linkKey ? { key: async () => linkKey } : undefined;
  const approvalLinks = linkKeys ? new ApprovalLinkIssuer({ keys: linkKeys, baseUrl: 'http://127.0.0.1:0', expirySeconds: 3600 }) : undefined;
  const controller = createController({ definition, ports: partial as unknown as RuntimePorts, telemetry, callbackBaseUrl: 'http://127.0.0.1:0', approvalLinks });
  const durable = new LocalDurableControl(controller);
  const ports: RuntimePorts = { ...partial, durable };
  (partial as { durable?: unknown }).durable = durable;
  let api = createApi({ definition, ports, telemetry, ...(linkKeys ? { approvalLinks: { keys: linkKeys } } : {}) });

  const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const [rawPath, qs] = p.split('?');
    const query = qs ? Object.fromEntries(new URLSearchParams(qs)) : undefined;
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath,
      rawQueryString: qs ?? '',
      headers: { 'content-type': 'application/json', ...headers },
      queryStringParameters: query,
      requestContext: { http: { method, path: rawPath }, stage: '$default', requestId: 'test' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const res = await api(event);
    const text = typeof res.body === 'string' ? res.body : '';
    return { status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, headers: (res.headers ?? {}) as Record<string, string> };
  };

  rt = {
    ports,
    store,
    agents,
    durable,
    events: seen,
    telemetry,
    api,
    dir,
    call,
    async start(input, headers) {
      const res = await call('POST', '/workflows', input, headers);
      if (res.status !== 202) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.workflow_id;
    },
    async waitFor(workflowId, until, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await call('GET', `/workflows/${workflowId}`);
        if (res.status === 200 && until(res.body)) return res.body;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${workflowId}; last: ${JSON.stringify(res.body)}`);
        await sleep(20);
      }
    },
    redeployApi(next) {
      api = createApi({ definition: next, ports, telemetry });
      (rt as { api: ApiHandler }).api = api;
    },
    async finished(workflowId) {
      await durable.finished(workflowId);
      return (await call('GET', `/workflows/${workflowId}`)).body;
    },
    dispose() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return rt;
}
