/**
 * Talking to the orchestrator: the one report of a task and its heartbeats.
 *
 * An answer 2xx is accepted. A 4xx is final (400 bad report, 401/403 token, 404 unknown
 * callback, 409 duplicate, late or no longer waiting): it is logged and never retried, because
 * sending the same thing again cannot change it. 429 (throttled), 408, 5xx and network errors
 * are retried with exponential backoff and jitter until the tries run out or the next try would
 * come too close to the task's deadline. Requests to https URLs are SigV4-signed when
 * credentials are found (the route uses IAM authorization; the AWS SDK's credential chain, see
 * `sigv4.ts`); plain http (local runs) is not.
 */
import { CALLBACK_TOKEN_HEADER, TaskEnvelope } from './envelope';
import type { Logger } from './log';
import { CredentialResolver, signingRegion, signRequest } from './sigv4';
import type { UsageBody } from './usage';

/** What became of a request to the orchestrator. */
export type Delivery =
  | { readonly outcome: 'accepted'; readonly status: number; readonly attempts: number }
  /** A final 4xx: the orchestrator will not take it. */
  | { readonly outcome: 'refused'; readonly status: number; readonly message: string; readonly attempts: number }
  /** Every try failed with a 5xx or a network error, or the deadline came too close. */
  | { readonly outcome: 'undelivered'; readonly status?: number; readonly message: string; readonly attempts: number };

export interface DeliveryOptions {
  /** Tries in all, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** Pause before the second try; it doubles for each further one (with jitter). @default 500 */
  readonly baseDelayMs?: number;
  /** Longest pause between tries. @default 8000 */
  readonly maxDelayMs?: number;
  /** Timeout of one request. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** No try starts later than this before the deadline. @default 1000 */
  readonly deadlineMarginMs?: number;
  readonly fetchImpl?: typeof fetch;
  readonly credentials?: CredentialResolver;
  readonly env?: NodeJS.ProcessEnv;
  /** Random number in [0, 1) for the jitter. @default Math.random */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Stops the delivery (a worker's task was cancelled, or its input closed): no further try, a
   * request under way is aborted, and the outcome is `undelivered`.
   * @default - tries until accepted, refused, or out of tries
   */
  readonly signal?: AbortSignal;
}

export interface CallbackRequest {
  readonly url: string;
  readonly token: string;
  readonly body: unknown;
  /** Tries stop when the next one would start after this (less the margin). */
  readonly deadline: Date;
  readonly logger: Logger;
  /** For the logs: 'report' or 'heartbeat'. */
  readonly kind: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether an HTTP status is worth another try. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** POSTs a JSON body with the callback token, retrying as described above. Never throws. */
export async function postCallback(request: CallbackRequest, options: DeliveryOptions = {}): Promise<Delivery> {
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelay = options.baseDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 8000;
  const margin = options.deadlineMarginMs ?? 1000;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const { logger, kind } = request;
  const payload = JSON.stringify(request.body ?? {});
  let last: { status?: number; message: string } = { message: 'not sent' };

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (options.signal?.aborted) {
      logger.warn(`${kind} not sent: the task was cancelled`, { attempts: attempt - 1 });
      return { outcome: 'undelivered', message: 'the task was cancelled', attempts: attempt - 1 };
    }
    try {
      const res = await send(request, payload, options);
      const text = await res.text();
      if (res.ok) {
        logger.info(`${kind} accepted`, { status: res.status, attempts: attempt });
        return { outcome: 'accepted', status: res.status, attempts: attempt };
      }
      const message = errorMessage(text);
      if (!isRetryableStatus(res.status)) {
        logger.error(`${kind} refused; not retrying (a ${res.status} is final)`, { status: res.status, answer: message, attempts: attempt });
        return { outcome: 'refused', status: res.status, message, attempts: attempt };
      }
      last = { status: res.status, message };
    } catch (e) {
      last = { message: (e as Error).message };
    }
    if (attempt === maxAttempts) break;
    const ceiling = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
    const delay = Math.round(ceiling / 2 + random() * (ceiling / 2));
    const remaining = request.deadline.getTime() - margin - Date.now();
    if (delay > remaining) {
      logger.warn(`${kind} failed; no time left before the deadline for another try`, { ...last, attempts: attempt, deadline: request.deadline.toISOString() });
      return { outcome: 'undelivered', ...last, attempts: attempt };
    }
    logger.warn(`${kind} failed; retrying`, { ...last, attempt, retry_in_ms: delay });
    await (options.signal ? Promise.race([sleep(delay), abortedPromise(options.signal)]) : sleep(delay));
  }
  logger.error(`${kind} could not be delivered`, { ...last, attempts: maxAttempts });
  return { outcome: 'undelivered', ...last, attempts: maxAttempts };
}

async function send(request: CallbackRequest, payload: string, options: DeliveryOptions): Promise<Response> {
  const url = new URL(request.url);
  let headers: Record<string, string> = { 'content-type': 'application/json', [CALLBACK_TOKEN_HEADER.toLowerCase()]: request.token };
  if (url.protocol === 'https:') {
    const credentials = await (options.credentials ?? defaultResolver(options.env)).resolve();
    if (credentials) {
      const region = signingRegion(url, options.env ?? process.env);
      if (!region) throw new Error(`cannot sign the ${request.kind} for ${url.host}: set AWS_REGION`);
      headers = await signRequest({ method: 'POST', url, headers, body: payload, credentials, region });
    } else {
      request.logger.warn(`no AWS credentials found: sending the ${request.kind} to ${url.host} unsigned (an IAM-authorized route will refuse it)`);
    }
  }
  const limit = AbortSignal.timeout(options.requestTimeoutMs ?? 10_000);
  const timeout = options.signal ? AbortSignal.any([limit, options.signal]) : limit;
  return (options.fetchImpl ?? fetch)(url, { method: 'POST', headers, body: payload, signal: timeout });
}

/** One SDK chain per process, so that its cached credentials serve every report and heartbeat. */
let sharedResolver: CredentialResolver | undefined;
function defaultResolver(env?: NodeJS.ProcessEnv): CredentialResolver {
  if (env && env !== process.env) return new CredentialResolver({ env });
  sharedResolver ??= new CredentialResolver();
  return sharedResolver;
}

/** Resolves when the signal aborts (never rejects). */
function abortedPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 500) || '(empty answer)';
}

/** The body of a report (see README "HTTP API", `POST /callbacks/{callback_id}`). */
export type Report =
  | { readonly status: 'succeeded'; readonly artifacts: Record<string, string>; readonly output?: Record<string, unknown>; readonly usage?: UsageBody }
  | { readonly status: 'failed'; readonly error: { readonly code: string; readonly message: string }; readonly usage?: UsageBody };

/** Sends the task's one report. */
export function sendReport(callback: TaskEnvelope['callback'], deadline: Date, report: Report,
  logger: Logger, options: DeliveryOptions = {}): Promise<Delivery> {
  return postCallback({ url: callback.url, token: callback.token, body: report, deadline, logger, kind: 'report' }, options);
}

export interface Heartbeats {
  /** Aborted when the orchestrator says the task is gone (404 or 409): the work is wasted. */
  readonly gone: AbortSignal;
  /** Stops sending (idempotent). */
  stop(): void;
}

/**
 * Heartbeats every `heartbeat_interval_seconds` while the work runs, when the envelope asks
 * for them. A beat is tried twice at most and never overlaps the next one. A 404 or 409 stops
 * the beats and aborts `gone`; another 4xx stops them.
 */
export function startHeartbeats(envelope: TaskEnvelope, logger: Logger, options: DeliveryOptions = {},
  usage: () => UsageBody | undefined = () => undefined): Heartbeats {
  const controller = new AbortController();
  const seconds = envelope.heartbeat_interval_seconds;
  if (!seconds || !envelope.callback.heartbeat_url) return { stop: () => undefined, gone: controller.signal };
  let inFlight = false;
  let stopped = false;
  const deadline = new Date(envelope.deadline);
  const beat = async () => {
    if (inFlight || stopped) return;
    inFlight = true;
    try {
      // The usage so far rides along, so a budget the task goes over stops it (a 409) mid-work.
      const soFar = usage();
      const delivery = await postCallback({
        url: envelope.callback.heartbeat_url, token: envelope.callback.token, body: soFar ? { usage: soFar } : {}, deadline, logger, kind: 'heartbeat',
      }, { maxAttempts: 2, requestTimeoutMs: Math.max(1000, Math.min(10_000, seconds * 500)), ...options });
      if (delivery.outcome === 'refused') {
        stop();
        if (delivery.status === 404 || delivery.status === 409) controller.abort(new Error(`the orchestrator no longer waits for this task: ${delivery.message}`));
      }
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void beat(), seconds * 1000);
  timer.unref();
  function stop() {
    stopped = true;
    clearInterval(timer);
  }
  return { stop, gone: controller.signal };
}
