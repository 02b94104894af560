/**
 * One task, start to end: parse the envelope, read the inputs, call the model (with heartbeats
 * when the envelope asks for them), write the artifact, report once. Each reference agent is an
 * {@link AgentSpec} handed to {@link runAgent}, {@link lambdaHandler} and {@link runAsProcess}.
 */
import { ArtifactError, artifactKey, artifactStoreFor } from './artifacts';
import { Delivery, DeliveryOptions, Report, sendReport, startHeartbeats } from './callback';
import { ENVELOPE_ENV, EnvelopeError, parseEnvelope, salvageCallback, TaskEnvelope } from './envelope';
import { runLambdaRuntime } from './lambda-runtime';
import { createLogger, Logger } from './log';
import { ModelError, ModelProvider, ModelResponse, OFFLINE_MODEL, providerFromEnv } from './model';
import { resolveSecrets, SecretReader } from './secrets';
// Used inside functions only: the import cycle (worker -> agent -> worker) is harmless.
// eslint-disable-next-line import/no-cycle
import { UsageMeter } from './usage';
import { runWorker, specFor, specList, WORKER_ENV, WORKER_MODES } from './worker';

/** The inputs of a task as an agent sees them. */
export interface AgentInputs {
  /** The step input as received (artifact keys as keys). */
  readonly values: Readonly<Record<string, unknown>>;
  /** The content of every input that names an artifact, by input name. */
  readonly artifacts: Readonly<Record<string, string>>;
  readonly envelope: TaskEnvelope;
}

/** What makes one agent. */
export interface AgentSpec {
  /** The agent's name (as in the workflow definition). */
  readonly name: string;
  /** The artifact it writes: the file `<artifactName>.md` under the prefix, reported under this name. */
  readonly artifactName: string;
  /** The system prompt. */
  readonly system: string;
  /** Most tokens of the answer, or a function of the inputs. @default 4096 */
  readonly maxTokens?: number | ((inputs: AgentInputs) => number);
  /** The prompt from the inputs. Throws {@link InputError} when an input is missing or wrong. */
  buildPrompt(inputs: AgentInputs): string;
  /** The artifact's text from the model's answer. @default the answer as it is */
  render?(completion: ModelResponse, inputs: AgentInputs): string;
}

/** An input that is missing or has the wrong shape. Reported with code `InputError`. */
export class InputError extends Error {
  public readonly name = 'InputError';
}

/** Error codes an agent reports. */
export const ERROR_CODES = {
  input: 'InputError',
  model: 'ModelError',
  artifact: 'ArtifactError',
  envelope: 'InvalidEnvelope',
  cancelled: 'Cancelled',
  other: 'AgentError',
} as const;

/** Input values that are artifact keys (the runtime resolves `StepInput.fromArtifact` to keys under `agents/`). */
export function isArtifactKey(value: unknown): value is string {
  return typeof value === 'string' && /^agents\/\S+$/.test(value);
}

/** The text of an input: an artifact's content, or a string value. Throws {@link InputError} when absent or empty. */
export function requiredText(inputs: AgentInputs, name: string, what: string): string {
  const value = inputs.artifacts[name] ?? inputs.values[name];
  if (typeof value !== 'string' || value.trim() === '') {
    const got = value === undefined ? 'it is missing' : `got ${value === null ? 'null' : typeof value === 'string' ? 'an empty string' : typeof value}`;
    throw new InputError(`input '${name}': expected ${what}, ${got}`);
  }
  return value;
}

/** Text cut to at most `max` characters, saying so when it was cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n\n[... ${text.length - max} more characters not shown]`;
}

export interface RunOptions {
  /** @default the provider AGENT_MODEL_PROVIDER names */
  readonly provider?: ModelProvider;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default JSON lines on stderr */
  readonly logger?: Logger;
  /** Retries of the report and heartbeats. */
  readonly delivery?: DeliveryOptions;
  /** Reads the secrets `AGENT_SECRETS` lists. @default GetSecretValue of AWS Secrets Manager */
  readonly readSecret?: SecretReader;
  /**
   * Cancels the task (a worker's `cancel` message: its attempt timed out or its workflow ended).
   * The model call is aborted, nothing more is written and no report is sent.
   * @default - the task runs to its end
   */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly status: 'succeeded' | 'failed';
  /** What became of the report. */
  readonly delivery: Delivery;
  readonly artifacts?: Record<string, string>;
  readonly error?: { readonly code: string; readonly message: string };
  /** The task was cancelled ({@link RunOptions.signal}): it sent no report. */
  readonly cancelled?: boolean;
}

/** A task stopped by {@link RunOptions.signal}. */
export class TaskCancelledError extends Error {
  public readonly name = 'TaskCancelledError';
}

/** Runs one task. Never throws: every failure ends in a `failed` report, or an undelivered one. */
export async function runAgent(spec: AgentSpec, event: unknown, options: RunOptions = {}): Promise<RunResult> {
  const base = options.logger ?? createLogger({ agent: spec.name });
  let envelope: TaskEnvelope;
  try {
    envelope = parseEnvelope(event);
  } catch (e) {
    return reportInvalidEnvelope(event, e as Error, base, options);
  }
  const logger = base.child({ workflow_id: envelope.workflow_id, step_name: envelope.step_name, agent: envelope.agent });
  if (envelope.agent !== spec.name) {
    logger.warn(`the envelope names agent '${envelope.agent}'; this is the ${spec.name} agent (continuing)`);
  }
  const deadline = new Date(envelope.deadline);
  logger.info('task received', { attempt: envelope.attempt, deadline: envelope.deadline, callback_id: envelope.callback.id });

  let report: Report;
  let artifacts: Record<string, string> | undefined;
  // Every model call of the task is counted here, for the heartbeats and the report.
  const meter = new UsageMeter(options.env ?? process.env);
  try {
    // The secrets the agent was given (e.g. its model's API key) become variables before anything reads them.
    const secrets = await resolveSecrets(options.env ?? process.env, options.readSecret);
    if (secrets.length > 0) logger.info('secrets read', { names: secrets });
    const store = artifactStoreFor(envelope);
    const inputs = await readInputs(envelope, store.read.bind(store), logger);
    throwIfCancelled(options.signal);
    const prompt = spec.buildPrompt(inputs);
    const provider = options.provider ?? providerFromEnv(options.env ?? process.env);
    const maxTokens = maxTokensOverride(options.env ?? process.env) ?? (typeof spec.maxTokens === 'function' ? spec.maxTokens(inputs) : spec.maxTokens);
    const completion = await callModel(spec.system, { prompt, maxTokens }, provider, envelope, logger, options, meter);
    const text = spec.render ? spec.render(completion, inputs) : completion.text;
    throwIfCancelled(options.signal);
    const key = artifactKey(envelope, `${spec.artifactName}.md`);
    await store.write(key, text, 'text/markdown; charset=utf-8');
    logger.info('artifact written', { artifact: spec.artifactName, key, store: store.description, bytes: Buffer.byteLength(text) });
    artifacts = { [spec.artifactName]: key };
    report = {
      status: 'succeeded',
      artifacts,
      output: {
        provider: completion.provider,
        model: completion.model,
        offline: completion.provider === 'offline' && completion.model === OFFLINE_MODEL,
        characters: text.length,
      },
    };
  } catch (e) {
    const error = { code: codeOf(e), message: safeMessage((e as Error).message ?? String(e)) };
    if (options.signal?.aborted) {
      // Nobody waits for this report any more (the attempt timed out, the workflow ended).
      logger.warn('task cancelled; no report sent', { reason: reasonOf(options.signal) });
      return { status: 'failed', cancelled: true, error, delivery: { outcome: 'undelivered', message: 'the task was cancelled', attempts: 0 } };
    }
    logger.error('task failed', { code: error.code, error: error.message });
    report = { status: 'failed', error };
  }
  const usage = meter.body();
  if (usage) report = { ...report, usage };
  const delivery = await sendReport(envelope.callback, deadline, report, logger, deliveryOptions(options));
  if (options.signal?.aborted && delivery.outcome === 'undelivered') {
    return { status: report.status, cancelled: true, delivery, ...(report.status === 'failed' ? { error: report.error } : {}) };
  }
  return {
    status: report.status,
    delivery,
    ...(artifacts ? { artifacts } : {}),
    ...(report.status === 'failed' ? { error: report.error } : {}),
  };
}

async function readInputs(envelope: TaskEnvelope, read: (key: string) => Promise<string>, logger: Logger): Promise<AgentInputs> {
  const contents: Record<string, string> = {};
  for (const [name, value] of Object.entries(envelope.input)) {
    if (!isArtifactKey(value)) continue;
    try {
      contents[name] = await read(value);
    } catch (e) {
      throw new InputError(`input '${name}': ${(e as Error).message}`);
    }
    logger.info('input artifact read', { input: name, key: value, characters: contents[name].length });
  }
  return { values: envelope.input, artifacts: contents, envelope };
}

async function callModel(system: string, request: { prompt: string; maxTokens?: number }, provider: ModelProvider,
  envelope: TaskEnvelope, logger: Logger, options: RunOptions, meter: UsageMeter): Promise<ModelResponse> {
  const { prompt, maxTokens } = request;
  const heartbeats = startHeartbeats(envelope, logger, deliveryOptions(options), () => meter.body());
  // No answer is worth waiting for after the deadline: the report would be refused as late.
  const untilDeadline = AbortSignal.timeout(Math.max(1, Date.parse(envelope.deadline) - Date.now()));
  const signal = AbortSignal.any([untilDeadline, heartbeats.gone, ...(options.signal ? [options.signal] : [])]);
  const started = Date.now();
  logger.info('model call started', { provider: provider.name, prompt_characters: prompt.length });
  try {
    const completion = await provider.complete({ system, prompt, maxTokens, signal });
    meter.add(completion);
    logger.info('model call finished', { provider: completion.provider, model: completion.model, ms: Date.now() - started, characters: completion.text.length });
    return completion;
  } catch (e) {
    if (options.signal?.aborted) throw new TaskCancelledError(`model call stopped: ${reasonOf(options.signal)}`);
    if (heartbeats.gone.aborted) throw new ModelError(`model call stopped: ${(heartbeats.gone.reason as Error).message}`);
    if (untilDeadline.aborted) throw new ModelError(`model call stopped at the task's deadline ${envelope.deadline}`);
    throw e instanceof ModelError ? e : new ModelError((e as Error).message);
  } finally {
    heartbeats.stop();
  }
}

async function reportInvalidEnvelope(event: unknown, error: Error, logger: Logger, options: RunOptions): Promise<RunResult> {
  const message = safeMessage(error.message);
  logger.error('cannot run the task', { code: ERROR_CODES.envelope, error: message });
  const failure = { code: ERROR_CODES.envelope, message };
  const callback = error instanceof EnvelopeError ? salvageCallback(event) : undefined;
  if (!callback) {
    return { status: 'failed', error: failure, delivery: { outcome: 'undelivered', message: 'the envelope has no usable callback to report to', attempts: 0 } };
  }
  const delivery = await sendReport(callback, new Date(Date.now() + 60_000), { status: 'failed', error: failure }, logger, deliveryOptions(options));
  return { status: 'failed', error: failure, delivery };
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TaskCancelledError(`the task was cancelled: ${reasonOf(signal)}`);
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'cancelled');
}

/** The envelope's JSON as an object, to find the agent it names (the text as it is when it is not JSON: runAgent says why). */
function parsedOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** `AGENT_MAX_TOKENS`, for a model whose output limit is below what an agent asks for. */
function maxTokensOverride(env: NodeJS.ProcessEnv): number | undefined {
  const value = env.AGENT_MAX_TOKENS;
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ModelError(`AGENT_MAX_TOKENS must be a whole number of tokens from 1, got '${value}'`);
  return n;
}

function deliveryOptions(options: RunOptions): DeliveryOptions {
  return { ...(options.env ? { env: options.env } : {}), ...(options.signal ? { signal: options.signal } : {}), ...options.delivery };
}

function codeOf(e: unknown): string {
  if (e instanceof InputError) return ERROR_CODES.input;
  if (e instanceof ModelError) return ERROR_CODES.model;
  if (e instanceof ArtifactError) return ERROR_CODES.artifact;
  if (e instanceof TaskCancelledError) return ERROR_CODES.cancelled;
  return ERROR_CODES.other;
}

/** A message the callback route takes: at most 4000 characters. */
function safeMessage(message: string): string {
  const text = message || 'unknown error';
  return text.length > 4000 ? `${text.slice(0, 3997)}...` : text;
}

/** The answer of a Lambda agent to a task. */
export interface HandlerResult {
  readonly status: 'succeeded' | 'failed';
  readonly report: Delivery['outcome'];
  readonly report_status?: number;
}

/**
 * The event of a health check: `{"health_check": true}`. A scheduled invocation (to keep an agent
 * warm, or to watch it), a deploy's assertion or a person can send it; the agent runs no task,
 * calls no model and answers {@link HealthResult}.
 */
export const HEALTH_CHECK_EVENT = Object.freeze({ health_check: true });

/** The answer to a health check. */
export interface HealthResult {
  /** `ok`, or `misconfigured` when the model settings are wrong (`message` says how). */
  readonly status: 'ok' | 'misconfigured';
  readonly agent: string;
  /** The model provider the agent would call: `offline`, `bedrock` or `openai`. */
  readonly model_provider?: string;
  readonly message?: string;
}

/** A Lambda function URL's answer (payload format 2.0). */
export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function isHealthCheck(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as Record<string, unknown>).health_check === true;
}

/** A function URL request (payload 2.0): it has `requestContext.http.method` and `rawPath`. */
function urlRequest(event: unknown): { method: string; body?: string } | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as { rawPath?: unknown; requestContext?: { http?: { method?: unknown } }; body?: unknown; isBase64Encoded?: unknown };
  const method = e.requestContext?.http?.method;
  if (typeof method !== 'string' || typeof e.rawPath !== 'string') return undefined;
  const body = typeof e.body === 'string' ? (e.isBase64Encoded === true ? Buffer.from(e.body, 'base64').toString('utf-8') : e.body) : undefined;
  return { method: method.toUpperCase(), body };
}

function health(spec: AgentSpec, options: RunOptions): HealthResult {
  try {
    const provider = options.provider ?? providerFromEnv(options.env ?? process.env);
    return { status: 'ok', agent: spec.name, model_provider: provider.name };
  } catch (e) {
    return { status: 'misconfigured', agent: spec.name, message: (e as Error).message };
  }
}

function httpAnswer(statusCode: number, body: unknown): FunctionUrlResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** What a Lambda agent answers: a task's outcome, a health check, or a function URL's response. */
export type LambdaAnswer = HandlerResult | HealthResult | FunctionUrlResult;

/**
 * A Lambda handler. Its event is one of:
 * - a task envelope (the orchestrator's asynchronous invoke): runs the task and reports it. It
 *   throws only when the report could not be delivered, so that Lambda's retries of an
 *   asynchronous invoke may try again; a refused report (4xx) would be refused again and is not
 *   thrown;
 * - {@link HEALTH_CHECK_EVENT}: answers {@link HealthResult} and runs nothing;
 * - a function URL request: `GET` is a health check, `POST` carries a task envelope as its body
 *   (answered `200` when the report was accepted or refused, `502` when it could not be
 *   delivered), any other method is `405`.
 */
export function lambdaHandler(spec: AgentSpec, options: RunOptions = {}): (event: unknown) => Promise<LambdaAnswer> {
  const runTask = async (event: unknown): Promise<HandlerResult> => {
    const result = await runAgent(spec, event, options);
    if (result.delivery.outcome === 'undelivered') {
      throw new Error(`the ${spec.name} agent could not deliver its report: ${result.delivery.message}`);
    }
    return { status: result.status, report: result.delivery.outcome, report_status: result.delivery.status };
  };
  return async (event) => {
    if (isHealthCheck(event)) return health(spec, options);
    const request = urlRequest(event);
    if (!request) return runTask(event);
    if (request.method === 'GET') return httpAnswer(200, health(spec, options));
    if (request.method !== 'POST') return httpAnswer(405, { message: `${request.method} is not served: GET is a health check, POST takes a task envelope` });
    let envelope: unknown;
    try {
      envelope = JSON.parse(request.body ?? '');
    } catch {
      return httpAnswer(400, { message: 'the body must be a task envelope (JSON)' });
    }
    try {
      return httpAnswer(200, await runTask(envelope));
    } catch (e) {
      return httpAnswer(502, { message: (e as Error).message });
    }
  };
}

/**
 * The entry point of a process or container: the task in `TASK_ENVELOPE`, or, inside a Lambda
 * container image (`AWS_LAMBDA_RUNTIME_API` set), the Lambda Runtime API loop, or, with
 * `CDK_DURABLE_AGENTS_WORKER=stdio`, a worker taking many tasks on stdin ({@link runWorker}). Resolves to the
 * exit code: 0 when the report was delivered (accepted, or refused with a final 4xx, which is
 * logged), 1 when it could not be delivered, 2 when there is no task.
 */
export async function runAsProcess(spec: AgentSpec | readonly AgentSpec[], options: RunOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const specs = specList(spec);
  const name = specs.map((s) => s.name).join(',');
  if (env.AWS_LAMBDA_RUNTIME_API) {
    const handlers = new Map(specs.map((s) => [s.name, lambdaHandler(s, options)]));
    await runLambdaRuntime((event) => handlers.get((specFor(specs, event) ?? specs[0]).name)!(event), { api: env.AWS_LAMBDA_RUNTIME_API });
    return 0;
  }
  const mode = env[WORKER_ENV];
  if (mode !== undefined && mode !== '') {
    if (!(WORKER_MODES as readonly string[]).includes(mode)) {
      (options.logger ?? createLogger({ agent: name })).error(
        `${WORKER_ENV} is '${mode}': the worker modes are ${WORKER_MODES.join(', ')}; unset it to run the one task in ${ENVELOPE_ENV}`);
      return 2;
    }
    return runWorker(specs, options);
  }
  const raw = env[ENVELOPE_ENV];
  if (!raw) {
    (options.logger ?? createLogger({ agent: name })).error(
      `no task: set ${ENVELOPE_ENV} to the task envelope (JSON), or invoke the handler as a Lambda function`);
    return 2;
  }
  const result = await runAgent(specFor(specs, parsedOrRaw(raw)) ?? specs[0], raw, options);
  return result.delivery.outcome === 'undelivered' ? 1 : 0;
}

/** Runs {@link runAsProcess} and sets the process's exit code. For `if (require.main === module)`. */
export function main(spec: AgentSpec | readonly AgentSpec[]): void {
  runAsProcess(spec).then((code) => {
    process.exitCode = code;
    // A worker whose input closed has settled every task: it exits now, whatever keeps the event
    // loop alive (pooled connections to a server that is gone), so it never outlives the server.
    if (process.env[WORKER_ENV]) process.exit(code);
  }, (e: Error) => {
    createLogger({ agent: specList(spec).map((s) => s.name).join(',') }).error('the agent crashed', { error: e.stack ?? e.message });
    process.exitCode = 1;
  });
}
