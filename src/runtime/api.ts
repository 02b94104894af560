/**
 * The HTTP API of the runtime (JSON, snake_case), as one handler for an API Gateway HTTP API
 * (payload format 2.0). The local server feeds it the same events.
 *
 * Every bad request gets a 4xx whose message names the field and what is expected; nothing is
 * written before a request has been validated.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ApprovalLinkApi, decisionView, requestIdentity } from './approval-link-api';
import type { LinkKeySource } from './approval-links';
import { CALLBACK_ID_PATTERN, newWorkflowId, tokenMatches, WORKFLOW_ID_PATTERN } from './ids';
import { refusedInputFields } from './input-check';
import { ArtifactRefusedError, CallbackNotPendingError, CallbackRecord, DecisionRecord, InvalidPageTokenError, KillSwitchState, RuntimePorts, StepRecord, WorkflowRecord } from './ports';
import { newRecord } from './records';
import {
  checkApprovalBody, checkCallbackBody, checkHeartbeatBody, checkKillSwitchBody, checkListQuery, checkScheduledStartEvent, Checked,
  ScheduledStartEvent,
} from './request-schemas';
import { budgetStopReason, requestStop } from './stop';
import type { Telemetry } from './telemetry';
import { canonicalJson, checkArtifactKey, nestedDeeperThan } from './validation';
import { requiredInputFields } from './values';
import { attemptArtifactPrefix, stepArtifactPrefix } from '../contract/artifacts';
import { describeBreach, durationBreach, UsageReport, usageBreach, usageKey, usageTotals } from '../contract/budget';
import { allSteps, StepDocument, WorkflowDefinitionDocument } from '../contract/definition';
import { displayPath, ROUTES, RouteOperation, routePattern } from '../contract/routes';
import { Awaiting, awaitingOf, awaitingWords, CALLBACK_TOKEN_HEADER, IDEMPOTENCY_HEADER, isTerminal, SCHEDULED_START_KEY, suspendedMessage, waitKindOf, WorkflowStatus } from '../contract/status';
import { ENV, normalizeBasePath } from '../contract/table';

export interface ApiOptions {
  readonly definition: WorkflowDefinitionDocument;
  readonly ports: Pick<RuntimePorts, 'store' | 'artifacts' | 'durable'>;
  readonly telemetry: Telemetry;
  /** Days a workflow's state is kept after its last update. @default 14 */
  readonly stateRetentionDays?: number;
  /**
   * Path under which the routes are mounted when the API is shared (e.g. `/research`): a request
   * for `/research/workflows` is routed as `/workflows`. @default '' (the routes are at the root)
   */
  readonly basePath?: string;
  /**
   * Approval links: the routes `GET`/`POST /approvals/{token}` verify tokens signed with this
   * key. @default - no approval links (those routes answer 404)
   */
  readonly approvalLinks?: { readonly keys: LinkKeySource };
}

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Largest workflow input (it travels through the durable execution). */
export const MAX_INPUT_BYTES = 32 * 1024;
/** Largest small output an agent may report (artifacts carry the rest). */
export const MAX_OUTPUT_BYTES = 16 * 1024;
/** Deepest nesting of objects and arrays accepted in a workflow input or an agent's output. */
export const MAX_JSON_DEPTH = 20;
/** Error codes only the runtime uses when it fails a callback. */
const RESERVED_ERROR_CODES: readonly string[] = ['WorkflowCancelled', 'BranchAbandoned'];

class HttpError extends Error {
  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    message: string,
    public readonly headers: Record<string, string> = {},
    /** More members of the error body (`fields` of a refused input). */
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const badRequest = (message: string) => new HttpError(400, 'bad_request', message);
const notFound = (message: string) => new HttpError(404, 'not_found', message);
const conflict = (message: string) => new HttpError(409, 'conflict', message);

/** The value of a checked request part, or a 400 with the check's message. */
function parse<T>(checked: Checked<T>): T {
  if (!checked.ok) throw badRequest(checked.message);
  return checked.value;
}

// ---------------------------------------------------------------------------------------------
// Handler
// ---------------------------------------------------------------------------------------------

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handle: (req: Request) => Promise<APIGatewayProxyStructuredResultV2>;
}

interface Request {
  readonly event: APIGatewayProxyEventV2;
  readonly params: string[];
  readonly headers: Record<string, string>;
}

/** Creates the API handler. */
export function createApi(options: ApiOptions): ApiHandler {
  const api = new Api(options);
  return (event) => api.handle(event);
}

export type { ScheduledStartEvent };

/** What the API function answers a schedule's tick with (Scheduler invokes it asynchronously and reads nothing; tests and logs do). */
export interface ScheduledStartResult {
  readonly workflow_id: string;
  readonly status: WorkflowStatus;
  readonly schedule: string;
  readonly scheduled_time: string;
  /** Present when this tick had already started the workflow. */
  readonly idempotent_replay?: true;
}

/** A tick of a schedule that is refused: its event or input is wrong, so retrying it cannot help. Nothing was started. */
export class ScheduledStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduledStartError';
  }
}

/**
 * The idempotency key of one tick of a schedule. It holds spaces, which an `Idempotency-Key`
 * header may not: no HTTP request can take (or pre-empt) the workflow of a tick.
 */
export function scheduledStartKey(schedule: string, scheduledTime: string): string {
  return `scheduled-start ${schedule} ${scheduledTime}`;
}

/** The handler of the API function: the HTTP API's requests and schedules' ticks. */
export type ApiFunctionHandler =
  (event: APIGatewayProxyEventV2 | ScheduledStartEvent) => Promise<APIGatewayProxyStructuredResultV2 | ScheduledStartResult>;

/**
 * Creates the API function's handler: an event with the key `scheduled_start` is a schedule's
 * tick (`Api.scheduledStart`); an API Gateway request (it has a `requestContext`) goes to the
 * routes; anything else is refused with an error that names both shapes.
 */
export function createApiFunctionHandler(options: ApiOptions): ApiFunctionHandler {
  const api = new Api(options);
  return async (event) => {
    const e = event as unknown;
    if (typeof e === 'object' && e !== null && !Array.isArray(e)) {
      if (Object.prototype.hasOwnProperty.call(e, SCHEDULED_START_KEY)) return api.scheduledStart(e);
      if (typeof (e as { requestContext?: unknown }).requestContext === 'object') return api.handle(e as APIGatewayProxyEventV2);
    }
    throw new ScheduledStartError('the API function takes an API Gateway HTTP API request (payload format 2.0) or a scheduled start '
      + `({ "${SCHEDULED_START_KEY}": { "schedule": ..., "scheduled_time": ..., "input": {...} } }); this event is neither, and nothing was started`);
  };
}

class Api {
  private readonly routes: Route[];
  private readonly required: Array<{ path: string; step: string }>;
  private readonly retentionDays: number;
  private readonly basePath: string;
  /** Agent of each agent step, for the artifact prefix a report may name. */
  private readonly agentOf = new Map<string, string>();
  /** The routes served (the approval link routes only with approval links). */
  private readonly served: typeof ROUTES;
  private readonly links?: ApprovalLinkApi;

  constructor(private readonly options: ApiOptions) {
    for (const s of allSteps(options.definition.steps)) if (s.type === 'agent') this.agentOf.set(s.name, s.agent);
    this.required = requiredInputFields(options.definition);
    this.retentionDays = options.stateRetentionDays ?? 14;
    const basePath = normalizeBasePath(options.basePath ?? '');
    if (basePath === undefined) {
      throw new Error(`the API base path '${options.basePath}' (${ENV.apiBasePath}) is not plain path segments starting with '/', such as /research`);
    }
    this.basePath = basePath;
    const operations: Record<RouteOperation, Route['handle']> = {
      startWorkflow: (r) => this.startWorkflow(r),
      listWorkflows: (r) => this.listWorkflows(r),
      getWorkflow: (r) => this.getWorkflow(r),
      approve: (r) => this.approve(r),
      cancel: (r) => this.cancel(r),
      report: (r) => this.report(r),
      heartbeat: (r) => this.heartbeat(r),
      approvalLinkPage: (r) => this.links!.page(r.params[0]),
      approvalLinkDecide: (r) => this.links!.decide(r.params[0], r.event, r.headers),
      getKillSwitch: (r) => this.getKillSwitch(r),
      setKillSwitch: (r) => this.setKillSwitch(r),
    };
    if (options.approvalLinks) {
      this.links = new ApprovalLinkApi({ store: options.ports.store, durable: options.ports.durable, keys: options.approvalLinks.keys });
    }
    this.served = ROUTES.filter((r) => r.group !== 'link' || this.links !== undefined);
    this.routes = this.served.map((r) => ({ method: r.method, pattern: routePattern(r), handle: operations[r.operation] }));
  }

  public async handle(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    const path = routePath(event, this.basePath);
    /** The path as the caller sent it (base path included), for messages. */
    const requestPath = routePath(event, '');
    try {
      // Under a base path, a request outside it is none of ours, even if the rest looks like a route.
      const outside = this.basePath !== '' && requestPath !== this.basePath && !requestPath.startsWith(`${this.basePath}/`);
      const matching = outside ? [] : this.routes.filter((r) => r.pattern.test(path));
      if (matching.length === 0) {
        // Paths as the caller sees them: under the base path on a shared API.
        throw notFound(`no route for ${method} ${requestPath}; routes are ${this.served.map((r) => `${r.method} ${displayPath(r, this.basePath)}`).join(', ')}`);
      }
      const route = matching.find((r) => r.method === method);
      if (!route) {
        const allowed = matching.map((r) => r.method).join(', ');
        throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${requestPath}; use ${allowed}`, { allow: allowed });
      }
      let params: string[];
      try {
        params = route.pattern.exec(path)!.slice(1).map(decodeURIComponent);
      } catch (e) {
        if (!(e instanceof URIError)) throw e;
        throw notFound(`nothing is found at ${requestPath}: the path is not valid percent-encoding (encode ids with encodeURIComponent)`);
      }
      return await route.handle({ event, params, headers: lowerCaseHeaders(event.headers) });
    } catch (e) {
      if (e instanceof HttpError) {
        return json(e.statusCode, { error: e.code, message: e.message, ...e.details }, e.headers);
      }
      this.options.telemetry.error('unhandled API error', { method, path, error: e instanceof Error ? e.stack ?? e.message : String(e) });
      return json(500, { error: 'internal_error', message: `the request failed on our side; it is safe to retry (request ${event.requestContext?.requestId ?? 'unknown'})` });
    }
  }

  // POST /workflows ---------------------------------------------------------------------------
  private async startWorkflow(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    const key = req.headers[IDEMPOTENCY_HEADER];
    if (key !== undefined && !/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw badRequest('header Idempotency-Key must be 1 to 255 printable ASCII characters without spaces');
    }
    const input = jsonObjectBody(req.event, 'the workflow input, e.g. {"topic": "...", "parameters": {"depth": "comprehensive"}}');
    this.checkInput(input);
    await this.refuseWhileKilled();
    const { created, current } = await this.begin(input, key, {
      conflict: (id) => `Idempotency-Key '${key}' was already used for workflow ${id} with a different input; use a new key for a new workflow`,
      startFailed: key === undefined
        ? 'the workflow could not be started; retry the request (send an Idempotency-Key header to make retries safe)'
        : `the workflow could not be started yet; retry with the same Idempotency-Key '${key}'`,
    });
    const first = this.options.definition.steps[0];
    // A new workflow is answered with what its first step will wait on (seed 000's answer).
    const awaiting = created ? firstAwaiting(first) : awaitingView(current);
    let message: string;
    if (created) {
      message = awaiting ? suspendedMessage(awaiting) : `Workflow accepted; its first step '${first.name}' starts now`;
    } else {
      message = `Workflow ${current.workflowId} was already started with this Idempotency-Key; it is ${current.status}`
        + (awaiting ? `, suspended awaiting ${awaitingWords(awaiting)}` : '');
    }
    return json(202, {
      workflow_id: current.workflowId,
      status: current.status,
      awaiting,
      wait_kind: waitKindOf(awaiting),
      message,
      ...(created ? {} : { idempotent_replay: true }),
      links: { self: `${this.basePath}/workflows/${current.workflowId}` },
    });
  }

  // A schedule's tick ---------------------------------------------------------------------------
  /**
   * Starts the workflow of one tick of a schedule (`{ "scheduled_start": {...} }`, sent by
   * EventBridge Scheduler), with the checks of `POST /workflows`. The idempotency key is the
   * schedule's name and the scheduled time, so a tick delivered twice starts one workflow and
   * answers it again. A malformed event or input is refused with a `ScheduledStartError`, and
   * nothing is written.
   */
  public async scheduledStart(event: unknown): Promise<ScheduledStartResult> {
    const checked = checkScheduledStartEvent(event);
    if (!checked.ok) throw new ScheduledStartError(`scheduled start refused, nothing was started: ${checked.message}`);
    const { schedule, scheduled_time: scheduledTime, input } = checked.value.scheduled_start;
    const what = `the tick of schedule '${schedule}' at ${scheduledTime}`;
    try {
      this.checkInput(input);
    } catch (e) {
      if (e instanceof HttpError) throw new ScheduledStartError(`scheduled start refused, nothing was started: ${what}: ${e.message}; fix the schedule's input`);
      throw e;
    }
    const killed = await this.options.ports.store.getKillSwitch();
    if (killed?.engaged) {
      throw new ScheduledStartError(`scheduled start refused, nothing was started: ${what}: the kill switch is engaged (${killed.reason ?? 'no reason given'}; by ${killed.changedBy} at ${killed.changedAt})`);
    }
    const key = scheduledStartKey(schedule, scheduledTime);
    let started: { created: boolean; current: WorkflowRecord };
    try {
      started = await this.begin({ ...input }, key, {
        conflict: (id) => `${what} already started workflow ${id} with a different input; nothing new was started`,
        startFailed: `${what}: the workflow could not be started yet; a retry of the same tick drives the same workflow`,
      });
    } catch (e) {
      if (e instanceof HttpError && e.statusCode < 500) throw new ScheduledStartError(`scheduled start refused: ${e.message}`);
      // A failed start is worth retrying (Lambda retries an asynchronous invocation): a plain error.
      if (e instanceof HttpError) throw new Error(e.message);
      throw e;
    }
    const { created, current } = started;
    this.options.telemetry.info(created ? 'scheduled workflow started' : 'scheduled tick already started its workflow',
      { workflow_id: current.workflowId, schedule, scheduled_time: scheduledTime });
    return {
      workflow_id: current.workflowId,
      status: current.status,
      schedule,
      scheduled_time: scheduledTime,
      ...(created ? {} : { idempotent_replay: true }),
    };
  }

  /** The checks every workflow input passes, from a request or a schedule (a 400 when one fails). */
  private checkInput(input: Record<string, unknown>): void {
    if (nestedDeeperThan(input, MAX_JSON_DEPTH)) {
      throw badRequest(`the workflow input is nested deeper than ${MAX_JSON_DEPTH} levels (the depth limit); flatten it, or put it in the artifact store and pass its key`);
    }
    if (Buffer.byteLength(JSON.stringify(input)) > MAX_INPUT_BYTES) {
      throw badRequest(`the workflow input is larger than ${MAX_INPUT_BYTES / 1024} KB; put large content in the artifact store and pass its key`);
    }
    const issues = refusedInputFields(this.options.definition, input, this.required);
    if (issues.length > 0) {
      // Each field in the message, and as a list a client can show beside its own fields.
      throw new HttpError(400, 'bad_request', issues.map((i) => i.message).join('; '), {}, { fields: issues });
    }
  }

  /**
   * Creates the workflow's record (or finds the one of the same idempotency key) and starts its
   * durable execution unless it has started: a repeat whose start did not go through drives the
   * start again.
   */
  private async begin(input: Record<string, unknown>, key: string | undefined,
    messages: { conflict: (workflowId: string) => string; startFailed: string }): Promise<{ created: boolean; current: WorkflowRecord }> {
    const { store, durable } = this.options.ports;
    const workflowId = newWorkflowId(key);
    const now = new Date().toISOString();
    const record = newRecord(workflowId, this.options.definition.name, input, now, this.retentionDays, key);
    const { created, workflow } = await store.createWorkflow(record);
    // Key order is not part of a JSON object's meaning: compare canonical texts.
    if (!created && key !== undefined && canonicalJson(workflow.input) !== canonicalJson(input)) {
      throw conflict(messages.conflict(workflow.workflowId));
    }
    if (created || workflow.status === 'PENDING') {
      try {
        await durable.start(workflow.workflowId, workflow.input);
      } catch (e) {
        this.options.telemetry.error('could not start the durable execution', { workflow_id: workflow.workflowId, error: String(e) });
        if (key === undefined) {
          await store.updateWorkflow(workflow.workflowId, { status: 'FAILED', error: { code: 'START_FAILED', message: 'the workflow could not be started' } }, ['PENDING']);
        }
        throw new HttpError(503, 'start_failed', messages.startFailed);
      }
    }
    const current = created ? workflow : (await store.getWorkflow(workflow.workflowId)) ?? workflow;
    return { created, current };
  }

  // GET /workflows ----------------------------------------------------------------------------
  private async listWorkflows(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    const query = parse(checkListQuery(req.event.queryStringParameters ?? {}));
    try {
      const page = await this.options.ports.store.listWorkflows({ status: query.status, limit: query.limit ?? 20, nextToken: query.next_token });
      return json(200, {
        workflows: page.items.map(summary),
        ...(page.nextToken ? { next_token: page.nextToken } : {}),
      });
    } catch (e) {
      if (e instanceof InvalidPageTokenError) throw badRequest(`parameter 'next_token': ${e.message}`);
      throw e;
    }
  }

  // GET /workflows/{id} -----------------------------------------------------------------------
  private async getWorkflow(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    const wf = await this.requireWorkflow(req.params[0]);
    return json(200, detail(wf, await this.options.ports.store.listDecisions(wf.workflowId)));
  }

  // POST /workflows/{id}/approval -------------------------------------------------------------
  private async approve(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    const wf = await this.requireWorkflow(req.params[0]);
    const body = parse(checkApprovalBody(jsonObjectBody(req.event, '{"approved": true, "comment": "..."}')));
    if (isTerminal(wf.status)) throw conflict(`workflow ${wf.workflowId} has ended (${wf.status}); nothing waits for approval`);
    const { store, durable } = this.options.ports;
    const pending = (await store.pendingCallbacks(wf.workflowId)).filter((c) => c.kind === 'approval');
    if (pending.length === 0) {
      const awaiting = awaitingView(wf);
      throw conflict(`workflow ${wf.workflowId} is not waiting for approval (it is ${wf.status}${awaiting ? `, awaiting ${awaiting}` : ''})`);
    }
    const callback = pending.sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
    const who = requestIdentity(req.event);
    const by = who.by;
    await this.complete(callback, 'SUCCEEDED', () => durable.callbackSuccess(callback, JSON.stringify({ approved: body.approved, comment: body.comment, by })));
    // The audit record, once the decision took: who, when, from where (never overwritten).
    await store.putDecision({
      workflowId: wf.workflowId,
      callbackId: callback.callbackId,
      stepName: callback.stepName,
      decision: body.approved ? 'approved' : 'rejected',
      ...(body.comment !== undefined ? { comment: body.comment } : {}),
      by,
      via: who.via,
      decidedAt: new Date().toISOString(),
      ...(who.sourceIp ? { sourceIp: who.sourceIp } : {}),
      ...(who.userAgent ? { userAgent: who.userAgent } : {}),
    });
    return json(200, {
      workflow_id: wf.workflowId,
      step_name: callback.stepName,
      approved: body.approved,
      message: body.approved ? 'Approved; the workflow continues' : 'Rejected; the workflow follows its rejection rule',
    });
  }

  // POST /workflows/{id}/cancel ---------------------------------------------------------------
  private async cancel(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    const wf = await this.requireWorkflow(req.params[0]);
    optionalEmptyBody(req.event);
    if (isTerminal(wf.status)) throw conflict(`workflow ${wf.workflowId} has already ended (${wf.status})`);
    const { store } = this.options.ports;
    if (!(await requestStop(this.options.ports, wf.workflowId))) {
      const now = await store.getWorkflow(wf.workflowId);
      throw conflict(`workflow ${wf.workflowId} has already ended (${now?.status ?? 'unknown'})`);
    }
    return json(202, {
      workflow_id: wf.workflowId,
      status: wf.status,
      cancel_requested: true,
      message: 'Cancellation requested; the workflow stops and ends CANCELLED',
    });
  }

  // POST /callbacks/{id} ----------------------------------------------------------------------
  private async report(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    const callback = await this.authorizedCallback(req);
    const body = parse(checkCallbackBody(jsonObjectBody(req.event, '{"status": "succeeded", "artifacts": {"report": "<key>"}}')));
    const { artifacts, durable } = this.options.ports;
    // Usage is recorded (and judged) first: a report over budget stops the run instead of moving it on.
    await this.usageReported(callback, body.usage);
    if (body.status === 'failed') {
      if (!body.error) throw badRequest("field 'error': required when status is 'failed': {\"message\": \"what went wrong\"}");
      if (body.artifacts) throw badRequest("field 'artifacts': a failed report carries no artifacts; report 'succeeded' to hand artifacts over");
      // The runtime fails callbacks with these codes; an agent's report must not use them. (How a
      // workflow ends travels as error data, which a report never sets: its message is only words.)
      if (body.error.code !== undefined && RESERVED_ERROR_CODES.includes(body.error.code)) {
        throw badRequest(`field 'error.code': '${body.error.code}' is reserved for the runtime; use a code of your own, e.g. 'ModelError'`);
      }
      await this.complete(callback, 'FAILED', () => durable.callbackFailure(callback, { code: body.error!.code ?? 'AgentReportedFailure', message: body.error!.message }));
    } else {
      if (body.error) throw badRequest("field 'error': only a 'failed' report carries an error");
      if (body.output !== undefined && nestedDeeperThan(body.output, MAX_JSON_DEPTH)) {
        throw badRequest(`field 'output': nested deeper than ${MAX_JSON_DEPTH} levels (the depth limit); write deep results as artifacts`);
      }
      if (body.output !== undefined && Buffer.byteLength(JSON.stringify(body.output)) > MAX_OUTPUT_BYTES) {
        throw badRequest(`field 'output': larger than ${MAX_OUTPUT_BYTES / 1024} KB; write large results as artifacts and report their keys`);
      }
      const prefix = callback.artifactPrefix ?? this.legacyArtifactPrefix(callback);
      for (const [name, key] of Object.entries(body.artifacts ?? {})) {
        if (!key.startsWith(prefix)) {
          throw badRequest(`field 'artifacts.${name}': key '${key}' is outside this task's prefix '${prefix}' (use the prefix from the task envelope)`);
        }
        // Inside the prefix but not a key the store can hold ('a//b', './x', '..', a backslash, NUL).
        try {
          checkArtifactKey(key);
        } catch (e) {
          throw badRequest(`field 'artifacts.${name}': ${(e as Error).message}`);
        }
        let stored: boolean;
        try {
          stored = await artifacts.exists(key);
        } catch (e) {
          if (e instanceof ArtifactRefusedError) throw badRequest(`field 'artifacts.${name}': ${e.message}`);
          throw e;
        }
        if (!stored) {
          throw badRequest(`field 'artifacts.${name}': nothing is stored at '${key}'; write the artifact before reporting`);
        }
      }
      const payload = JSON.stringify({ artifacts: body.artifacts ?? {}, output: body.output ?? {} });
      await this.complete(callback, 'SUCCEEDED', () => durable.callbackSuccess(callback, payload));
    }
    return json(200, { accepted: true, callback_id: callback.callbackId, workflow_id: callback.workflowId, step_name: callback.stepName });
  }

  // POST /callbacks/{id}/heartbeat ------------------------------------------------------------
  private async heartbeat(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    const callback = await this.authorizedCallback(req);
    const text = rawBody(req.event);
    const body = text === undefined || text.trim() === '' ? {} : parse(checkHeartbeatBody(jsonObjectBody(req.event, '{"usage": {"input_tokens": 120, "output_tokens": 80}}')));
    await this.usageReported(callback, body.usage);
    try {
      await this.options.ports.durable.callbackHeartbeat(callback);
    } catch (e) {
      if (e instanceof CallbackNotPendingError) throw conflict(e.message);
      throw e;
    }
    return json(200, { accepted: true, callback_id: callback.callbackId });
  }

  // GET /admin/kill-switch --------------------------------------------------------------------
  private async getKillSwitch(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    optionalEmptyBody(req.event);
    return json(200, killSwitchView(await this.options.ports.store.getKillSwitch()));
  }

  // PUT /admin/kill-switch --------------------------------------------------------------------
  /**
   * Engages or releases the kill switch. Engaging refuses new starts from then on, then cancels
   * every PENDING and RUNNING workflow with the reason (page by page; engaging again cancels what
   * is still running, so a call cut short is finished by repeating it).
   */
  private async setKillSwitch(req: Request): Promise<APIGatewayProxyStructuredResultV2> {
    const body = parse(checkKillSwitchBody(jsonObjectBody(req.event, '{"engaged": true, "reason": "runaway costs"}')));
    const { store } = this.options.ports;
    const state: KillSwitchState = {
      engaged: body.engaged,
      ...(body.reason !== undefined ? { reason: body.reason } : {}),
      changedBy: requestIdentity(req.event).by,
      changedAt: new Date().toISOString(),
    };
    await store.putKillSwitch(state);
    let cancelled = 0;
    if (state.engaged) {
      const message = `stopped by the kill switch: ${state.reason} (engaged by ${state.changedBy})`;
      for (const status of ['RUNNING', 'PENDING'] as const) {
        let nextToken: string | undefined;
        do {
          const page = await store.listWorkflows({ status, limit: 100, ...(nextToken ? { nextToken } : {}) });
          for (const wf of page.items) {
            if (await requestStop(this.options.ports, wf.workflowId, { status: 'CANCELLED', code: 'KILL_SWITCH', message })) cancelled++;
          }
          nextToken = page.nextToken;
        } while (nextToken);
      }
    }
    return json(200, {
      ...killSwitchView(state),
      ...(state.engaged ? { cancelled_workflows: cancelled } : {}),
      message: state.engaged
        ? `Kill switch engaged: new workflows are refused and ${cancelled} running workflow(s) are being cancelled`
        : 'Kill switch released: workflows may start again',
    });
  }

  // -------------------------------------------------------------------------------------------

  /** Answers 503 while the kill switch is engaged, naming its reason and who engaged it. */
  private async refuseWhileKilled(): Promise<void> {
    const killed = await this.options.ports.store.getKillSwitch();
    if (!killed?.engaged) return;
    throw new HttpError(503, 'kill_switch_engaged',
      `the kill switch is engaged: ${killed.reason ?? 'no reason given'} (by ${killed.changedBy} at ${killed.changedAt}); `
      + 'no workflow starts until it is released (PUT /admin/kill-switch {"engaged": false})');
  }

  /**
   * Records an agent's usage of its attempt and judges the run's budgets by it: a run over a token
   * or cost budget (or past its wall-clock budget) is stopped, its other waits failed, and the
   * report or heartbeat is answered 409 with the budget and the figures.
   */
  private async usageReported(callback: CallbackRecord, usage: UsageReport | undefined): Promise<void> {
    const { store } = this.options.ports;
    if (usage === undefined && this.options.definition.budget?.maxDurationSeconds === undefined) return;
    const wf = usage !== undefined && callback.attempt !== undefined
      ? await store.recordUsage(callback.workflowId, usageKey(callback.stepName, callback.attempt), usage)
      : await store.getWorkflow(callback.workflowId);
    if (!wf || isTerminal(wf.status)) return;
    const breach = usageBreach(this.options.definition, wf.usage) ?? durationBreach(this.options.definition, wf.createdAt, Date.now());
    if (!breach) return;
    await requestStop(this.options.ports, wf.workflowId, budgetStopReason(breach));
    throw new HttpError(409, 'budget_exceeded', `${describeBreach(breach)}: stop working; this task's result is no longer wanted`);
  }

  /**
   * The artifact prefix of a callback registered before callbacks carried their own (by the
   * definition this API was deployed with, which is the one such a workflow started on unless a
   * deploy changed the agent of its step).
   */
  private legacyArtifactPrefix(callback: CallbackRecord): string {
    const agent = this.agentOf.get(callback.stepName) ?? '?';
    return callback.attempt !== undefined
      ? attemptArtifactPrefix(agent, callback.workflowId, callback.stepName, callback.attempt)
      : stepArtifactPrefix(agent, callback.workflowId, callback.stepName);
  }

  private async requireWorkflow(id: string): Promise<WorkflowRecord> {
    const wf = WORKFLOW_ID_PATTERN.test(id) ? await this.options.ports.store.getWorkflow(id) : undefined;
    if (!wf) throw notFound(`no workflow with id '${id}'`);
    return wf;
  }

  /**
   * The callback of the path, after checking the bearer token, its state and its deadline. The
   * callback is looked up first, so an unknown id is a 404 whatever the token looks like.
   */
  private async authorizedCallback(req: Request): Promise<CallbackRecord> {
    const id = req.params[0];
    const callback = CALLBACK_ID_PATTERN.test(id) ? await this.options.ports.store.getCallback(id) : undefined;
    if (!callback) throw notFound(`no callback with id '${id}'`);
    // `X-Callback-Token` works behind IAM authorization (where Authorization carries the SigV4
    // signature); `Authorization: Bearer` is accepted where nothing else uses that header.
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = req.headers[CALLBACK_TOKEN_HEADER] ?? bearer;
    if (!token) {
      throw new HttpError(401, 'unauthorized',
        'header X-Callback-Token: <token> (or Authorization: Bearer <token>) is required, with the callback token from the task envelope',
        { 'www-authenticate': 'Bearer' });
    }
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(token)) {
      throw new HttpError(401, 'unauthorized', 'the callback token is malformed: send the token from the task envelope unchanged');
    }
    // Approvals and timers have no token: their ids are never an agent's callback.
    if (callback.kind !== 'agent' || !tokenMatches(token, callback.tokenHash)) {
      throw new HttpError(403, 'forbidden', `the token does not belong to callback '${id}'`);
    }
    if (callback.state !== 'PENDING') {
      throw conflict(`callback '${id}' was already completed (${callback.outcome ?? 'COMPLETED'}); a task reports once`);
    }
    if (Date.now() > Date.parse(callback.deadline)) {
      throw conflict(`callback '${id}' is late: its deadline was ${callback.deadline}, and the step has moved on`);
    }
    return callback;
  }

  /**
   * Hands the outcome to the durable execution first (it accepts a callback once, which settles
   * races), then marks the record. A refused hand-over changes nothing: the record is left as it
   * is (the controller closes leftover callbacks when the workflow ends), so it never claims an
   * outcome the workflow did not get.
   */
  private async complete(callback: CallbackRecord, outcome: 'SUCCEEDED' | 'FAILED', send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (e) {
      if (e instanceof CallbackNotPendingError) throw conflict(e.message);
      throw e;
    }
    await this.options.ports.store.completeCallback(callback.callbackId, outcome);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function routePath(event: APIGatewayProxyEventV2, basePath: string): string {
  let path = event.rawPath || '/';
  const stage = event.requestContext?.stage;
  if (stage && stage !== '$default' && path.startsWith(`/${stage}/`)) path = path.slice(stage.length + 1);
  if (basePath && (path === basePath || path.startsWith(`${basePath}/`))) path = path.slice(basePath.length) || '/';
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function lowerCaseHeaders(headers: APIGatewayProxyEventV2['headers'] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

function rawBody(event: APIGatewayProxyEventV2): string | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf-8') : event.body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw badRequest(`the request body is larger than ${MAX_BODY_BYTES / 1024} KB`);
  }
  return text;
}

function jsonObjectBody(event: APIGatewayProxyEventV2, example: string): Record<string, unknown> {
  const text = rawBody(event);
  if (text === undefined || text.trim() === '') throw badRequest(`a JSON body is required: ${example}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw badRequest(`the body is not valid JSON (${(e as Error).message}); send ${example}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`the body must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}; send ${example}`);
  }
  return value as Record<string, unknown>;
}

function optionalEmptyBody(event: APIGatewayProxyEventV2): void {
  const text = rawBody(event);
  if (text === undefined || text.trim() === '' || text.trim() === '{}') return;
  throw badRequest('this route takes no body (or an empty JSON object {})');
}


/** What a workflow whose first step is `step` waits on once that step has started. */
function firstAwaiting(step: StepDocument): Awaiting {
  return step.type === 'agent' || step.type === 'approval' ? awaitingOf(step.type, step.name) : null;
}

/**
 * The `awaiting` of a record. A record written by an earlier version holds `agent` for any agent
 * step: its waiting agent step names it (`null` between two steps).
 */
function awaitingView(wf: WorkflowRecord): Awaiting {
  if ((wf.awaiting as string | null) !== 'agent') return wf.awaiting;
  const waiting = wf.steps.find((s) => s.type === 'agent' && s.status === 'WAITING');
  return waiting ? awaitingOf('agent', waiting.name) : null;
}

function summary(wf: WorkflowRecord) {
  const awaiting = awaitingView(wf);
  return {
    workflow_id: wf.workflowId,
    definition: wf.definitionName,
    status: wf.status,
    awaiting,
    wait_kind: waitKindOf(awaiting),
    created_at: wf.createdAt,
    updated_at: wf.updatedAt,
  };
}

function stepView(s: StepRecord) {
  return {
    name: s.name,
    type: s.type,
    status: s.status,
    ...(s.attempts !== undefined ? { attempts: s.attempts } : {}),
    started_at: s.startedAt ?? null,
    ended_at: s.endedAt ?? null,
    ...(s.output ? { output: s.output } : {}),
    ...(s.error ? { error: s.error } : {}),
  };
}

function killSwitchView(state: KillSwitchState | undefined) {
  return {
    engaged: state?.engaged === true,
    reason: state?.reason ?? null,
    changed_by: state?.changedBy ?? null,
    changed_at: state?.changedAt ?? null,
  };
}

/** Usage agents reported: the workflow's total and each step's (absent when none was reported). */
function usageView(wf: WorkflowRecord) {
  if (!wf.usage || Object.keys(wf.usage).length === 0) return {};
  const { total, steps } = usageTotals(wf.usage);
  const models = [...new Set(Object.values(wf.usage).map((u) => u.model).filter((m): m is string => m !== undefined))].sort();
  return { usage: { ...total, models, steps } };
}

function detail(wf: WorkflowRecord, decisions: readonly DecisionRecord[]) {
  return {
    ...summary(wf),
    input: wf.input,
    cancel_requested: wf.cancelRequested === true,
    ...usageView(wf),
    steps: wf.steps.map(stepView),
    result: wf.result ?? null,
    error: wf.error ?? null,
    decisions: decisions.map(decisionView),
  };
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
