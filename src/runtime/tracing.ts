/**
 * X-Ray subsegments for the AWS SDK calls of a Lambda handler, without the X-Ray SDK.
 *
 * With active tracing, Lambda records a segment for each invocation and hands the handler its
 * trace header (`_X_AMZN_TRACE_ID`: `Root=...;Parent=...;Sampled=1`). A call to an AWS service
 * shows up in the trace as a subsegment of that segment, sent as a JSON document over UDP to the
 * X-Ray daemon Lambda runs beside the function (`AWS_XRAY_DAEMON_ADDRESS`), which is what the X-Ray
 * SDK does too. Powertools Tracer did this before, but it loads the X-Ray SDK (about 110 KB of the
 * bundle with its dependencies, and async hooks) with the handler; this is one SDK middleware and
 * a socket, made with the first client. A call that is not sampled sends nothing; a send that
 * fails is dropped (tracing never fails a request).
 */
import { randomBytes } from 'crypto';
import type { Socket } from 'dgram';
import type { CaptureClient } from './aws-runtime';
import { ENV } from '../contract/table';

/** The trace header of the current invocation, parsed; undefined when there is none or it is not sampled. */
export interface TraceContext {
  readonly traceId: string;
  readonly parentId: string;
}

export function sampledTrace(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const fields = Object.fromEntries(header.split(';').map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()];
  }));
  if (fields.Sampled !== '1' || !fields.Root || !fields.Parent) return undefined;
  return { traceId: fields.Root, parentId: fields.Parent };
}

/** One finished SDK call, as an X-Ray subsegment document. */
export interface SdkCall {
  readonly service: string;
  readonly operation: string;
  readonly region?: string;
  readonly requestId?: string;
  readonly status?: number;
  readonly startSeconds: number;
  readonly endSeconds: number;
  /** The error's name, when the call failed. */
  readonly error?: string;
  readonly retries?: number;
}

export function subsegment(call: SdkCall, trace: TraceContext): Record<string, unknown> {
  const status = call.status;
  return {
    name: call.service,
    id: randomBytes(8).toString('hex'),
    trace_id: trace.traceId,
    parent_id: trace.parentId,
    type: 'subsegment',
    namespace: 'aws',
    start_time: call.startSeconds,
    end_time: call.endSeconds,
    aws: {
      operation: call.operation,
      ...(call.region ? { region: call.region } : {}),
      ...(call.requestId ? { request_id: call.requestId } : {}),
      ...(call.retries ? { retries: call.retries } : {}),
    },
    ...(status !== undefined ? { http: { response: { status } } } : {}),
    // X-Ray's convention: 4xx is an error, 5xx (or no answer) a fault, 429 also throttled.
    ...(call.error !== undefined && (status === undefined || status >= 500) ? { fault: true } : {}),
    ...(call.error !== undefined && status !== undefined && status >= 400 && status < 500 ? { error: true } : {}),
    ...(status === 429 ? { throttle: true } : {}),
    ...(call.error !== undefined ? { cause: { exceptions: [{ id: randomBytes(8).toString('hex'), type: call.error, remote: true }] } } : {}),
  };
}

/** Sends documents to the daemon: `{"format":"json","version":1}` and a newline, then the document. */
export class DaemonSender {
  private socket?: Socket;
  private readonly host: string;
  private readonly port: number;

  constructor(address: string | undefined) {
    // `host:port`, or Lambda's `udp:host:port tcp:host:port`; the daemon's default otherwise.
    const udp = /(?:^|\s)(?:udp:)?([^\s:]+):(\d+)/.exec(address ?? '') ?? [undefined, '127.0.0.1', '2000'];
    this.host = udp[1]!;
    this.port = Number(udp[2]);
  }

  public send(document: Record<string, unknown>): void {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.socket ??= (require('dgram') as typeof import('dgram')).createSocket('udp4').unref();
      this.socket.send(`{"format":"json","version":1}\n${JSON.stringify(document)}`, this.port, this.host, () => undefined);
    } catch {
      // Tracing never fails a request.
    }
  }
}

/** What the middleware needs from an SDK client (v3): its middleware stack and its config. */
interface TraceableClient {
  readonly middlewareStack: {
    add(middleware: (next: (args: unknown) => Promise<unknown>, context: Record<string, unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'deserialize' | 'finalizeRequest' | 'build' | 'serialize' | 'initialize'; name: string; priority?: 'high' | 'low' }): void;
  };
  readonly config: { readonly serviceId?: string; readonly region?: unknown };
}

/**
 * Adds the subsegment middleware to each client it is given, when tracing is on (`POWERTOOLS_TRACE_ENABLED`
 * is not 'false', the variable the construct sets); identity otherwise.
 */
export function tracingCapture(env: Record<string, string | undefined> = process.env, sender?: DaemonSender): CaptureClient {
  if (env[ENV.traceEnabled] === 'false') return (client) => client;
  let daemon = sender;
  return (client) => {
    const c = client as unknown as TraceableClient;
    if (!c?.middlewareStack?.add) return client;
    c.middlewareStack.add((next, context) => async (args) => {
      const trace = sampledTrace(env._X_AMZN_TRACE_ID);
      if (!trace) return next(args);
      const start = Date.now() / 1000;
      const service = String(context.clientName ?? c.config.serviceId ?? 'AWS').replace(/Client$/, '');
      const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      const region = typeof c.config.region === 'function' ? await (c.config.region as () => Promise<string>)() : c.config.region as string | undefined;
      const send = (fields: Partial<SdkCall>) => {
        daemon ??= new DaemonSender(env.AWS_XRAY_DAEMON_ADDRESS);
        daemon.send(subsegment({ service, operation, region, startSeconds: start, endSeconds: Date.now() / 1000, ...fields }, trace));
      };
      try {
        const out = await next(args) as { output?: { $metadata?: { requestId?: string; httpStatusCode?: number; attempts?: number } } };
        const meta = out.output?.$metadata;
        send({ requestId: meta?.requestId, status: meta?.httpStatusCode, retries: meta?.attempts ? meta.attempts - 1 : undefined });
        return out;
      } catch (e) {
        const meta = (e as { $metadata?: { requestId?: string; httpStatusCode?: number } }).$metadata;
        send({ requestId: meta?.requestId, status: meta?.httpStatusCode, error: (e as Error).name ?? 'Error' });
        throw e;
      }
    }, { step: 'initialize', name: 'cdkDurableAgentsXRaySubsegment', priority: 'high' });
    return client;
  };
}
