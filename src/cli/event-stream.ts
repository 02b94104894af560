/**
 * Server-sent events of the local server: `GET /workflows/{id}/events` streams one workflow's
 * events (its earlier ones first, then live ones, then an `end` event when it ends), `GET /events`
 * every workflow's events from now on. Any client can read them (`curl -N`, a browser's EventSource).
 *
 * An event's `id` is its line number in `<dataDir>/events.jsonl` (the event log, append-only), so
 * ids stay valid across restarts: a client that reconnects with `Last-Event-ID` (or the query
 * parameter `last_event_id`) gets the events after that one. Earlier events are read from the log;
 * live ones come from the event publisher's sink (`onEvent`), which sees each event once it is in
 * the log, in log order.
 *
 * Connections are bounded: a client that does not read (more than `maxQueuedBytes` waiting to be
 * sent) is disconnected, and reconnects where it left off. `close()` ends every stream.
 */
import * as fs from 'fs';
import type { ServerResponse } from 'http';
import * as readline from 'readline';
import { EVENT_TYPES, LOG_EVENT_TYPES } from '../contract/status';
import type { WorkflowEvent } from '../runtime/ports';

/** How often a comment line keeps an idle stream open (through proxies and idle timeouts). */
export const HEARTBEAT_MS = 15_000;
/** Most bytes waiting to be sent to one client before it is disconnected. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
/** Most live events held for one client while its earlier events are read from the log. */
export const MAX_HELD_EVENTS = 10_000;
/** How long a stream waits for a workflow's final event after its record says it has ended. */
export const END_GRACE_MS = 3_000;
/** The reconnection delay a client is told to use. */
const RETRY_MS = 2_000;

const FINAL_TYPES: readonly string[] = [EVENT_TYPES.workflowCompleted, EVENT_TYPES.workflowFailed, EVENT_TYPES.workflowCancelled];

export interface EventStreamsOptions {
  /** The event log (one JSON event per line); its lines number the events. */
  readonly eventLogFile: string;
  /** @default HEARTBEAT_MS */
  readonly heartbeatMs?: number;
  /** @default MAX_QUEUED_BYTES */
  readonly maxQueuedBytes?: number;
  /** @default END_GRACE_MS */
  readonly endGraceMs?: number;
}

/** Why a stream cannot be served (a 400 or 404 before any event is sent). */
export class StreamRequestError extends Error {
  constructor(public readonly statusCode: 400 | 404, public readonly code: string, message: string) {
    super(message);
    this.name = 'StreamRequestError';
  }
}

interface Numbered {
  readonly id: number;
  readonly event: WorkflowEvent;
}

interface Client {
  readonly res: ServerResponse;
  /** Only this workflow's events (undefined: every workflow's). */
  readonly workflowId?: string;
  /** Live events that arrived while earlier ones were read from the log (undefined once caught up). */
  held?: Numbered[];
  /** The id of the last event sent: nothing at or below it is sent again. */
  lastId: number;
  ended: boolean;
}

/** The streams of one server. */
export class EventStreams {
  /** The id of the last event written to the log. */
  private lastId: number;
  private readonly clients = new Set<Client>();
  private heartbeat?: NodeJS.Timeout;
  private closed = false;
  private readonly heartbeatMs: number;
  private readonly maxQueuedBytes: number;
  private readonly endGraceMs: number;

  /** Reads how many events the log holds already (call it before any new event is published). */
  constructor(private readonly options: EventStreamsOptions) {
    this.lastId = countLines(options.eventLogFile);
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
    this.maxQueuedBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    this.endGraceMs = options.endGraceMs ?? END_GRACE_MS;
  }

  /** How many streams are open. */
  public get open(): number {
    return this.clients.size;
  }

  /** The event publisher's sink: each event once it is in the log, in log order. Never throws. */
  public onEvent(event: WorkflowEvent): void {
    const numbered = { id: ++this.lastId, event };
    for (const client of [...this.clients]) {
      if (client.workflowId !== undefined && client.workflowId !== event.workflowId) continue;
      if (client.held) {
        if (client.held.length >= MAX_HELD_EVENTS) this.drop(client);
        else client.held.push(numbered);
        continue;
      }
      this.send(client, numbered);
    }
  }

  /**
   * Streams one workflow's events: those after `Last-Event-ID` from the log (all of them without
   * it), then live ones, and an `end` event (then the end of the response) once the workflow has
   * ended. `endedStatus` tells whether it has ended (its status) or not (undefined); rejects with
   * a `StreamRequestError` (nothing sent yet) when the workflow is unknown or the id is not valid.
   */
  public async serveWorkflow(res: ServerResponse, workflowId: string, lastEventId: string | undefined,
    status: () => Promise<{ readonly ended: boolean; readonly status: string } | undefined>): Promise<void> {
    const after = parseLastEventId(lastEventId);
    if ((await status()) === undefined) {
      throw new StreamRequestError(404, 'not_found', `workflow '${workflowId}' not found; GET /workflows lists the workflows`);
    }
    // An id beyond the log's end comes from another log (the data folder was replaced): replay it all.
    const from = after > this.lastId ? 0 : after;
    const client = this.openStream(res, workflowId, from);
    if (!client) return;
    await this.replay(client, from, this.lastId);
    if (!this.catchUp(client) || client.ended) return;
    const now = await status().catch(() => undefined);
    if (client.ended || !now?.ended) return;
    // The record says the workflow ended; its final event follows the record. Wait for it a while
    // (a workflow ended by an earlier server may have none), then end the stream with the record's status.
    const timer = setTimeout(() => this.end(client, workflowId, now.status), this.endGraceMs);
    res.once('close', () => clearTimeout(timer));
  }

  /**
   * Streams every workflow's events from now on (after `Last-Event-ID` when given, read from the
   * log: a client that reconnects misses nothing). Never ends by itself.
   */
  public async serveAll(res: ServerResponse, lastEventId: string | undefined): Promise<void> {
    const after = lastEventId === undefined ? this.lastId : Math.min(parseLastEventId(lastEventId), this.lastId);
    const client = this.openStream(res, undefined, after);
    if (!client) return;
    await this.replay(client, after, this.lastId);
    this.catchUp(client);
  }

  /** Ends every stream (the server is closing). */
  public close(): void {
    this.closed = true;
    for (const client of [...this.clients]) {
      client.ended = true;
      client.res.end();
      this.forget(client);
    }
  }

  private openStream(res: ServerResponse, workflowId: string | undefined, after: number): Client | undefined {
    if (this.closed) {
      res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: 'closing', message: 'the local server is stopping; start it again to follow workflows' }));
      return undefined;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'connection': 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: ${RETRY_MS}\n: ${workflowId ? `events of workflow ${workflowId}` : 'events of every workflow'}\n\n`);
    const client: Client = { res, ...(workflowId !== undefined ? { workflowId } : {}), held: [], lastId: after, ended: false };
    this.clients.add(client);
    res.once('close', () => this.forget(client));
    this.heartbeat ??= setInterval(() => this.beat(), this.heartbeatMs).unref();
    return client;
  }

  /** Sends the logged events with ids in (from, to] (of the client's workflow), waiting for a slow client. */
  private async replay(client: Client, from: number, to: number): Promise<void> {
    if (to <= from) return;
    let stream: fs.ReadStream;
    try {
      stream = fs.createReadStream(this.options.eventLogFile, { encoding: 'utf8' });
    } catch {
      return;
    }
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    const needle = client.workflowId !== undefined ? `"workflowId":${JSON.stringify(client.workflowId)}` : undefined;
    let id = 0;
    try {
      for await (const line of lines) {
        if (++id > to || client.ended) break;
        if (id <= from || (needle !== undefined && !line.includes(needle))) continue;
        const event = parseEvent(line);
        if (!event || (client.workflowId !== undefined && event.workflowId !== client.workflowId)) continue;
        if (!this.send(client, { id, event })) break;
        if (client.res.writableNeedDrain) await drained(client.res);
      }
    } catch {
      // No log yet (ENOENT), or it cannot be read: live events follow all the same.
    } finally {
      lines.close();
      stream.destroy();
    }
  }

  /** Sends what arrived during the replay; false when the stream has ended. */
  private catchUp(client: Client): boolean {
    const held = client.held ?? [];
    client.held = undefined;
    for (const numbered of held) if (!this.send(client, numbered)) return false;
    return !client.ended;
  }

  /** Sends one event (and `end` after a workflow's final one); false when the stream has ended. */
  private send(client: Client, { id, event }: Numbered): boolean {
    if (client.ended) return false;
    if (id <= client.lastId) return true;
    client.lastId = id;
    const name = (LOG_EVENT_TYPES as Record<string, string | undefined>)[event.type] ?? event.type.toLowerCase().replace(/\W+/g, '_');
    client.res.write(`id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(event)}\n\n`);
    if (client.workflowId !== undefined && FINAL_TYPES.includes(event.type)) {
      this.end(client, event.workflowId, String(event.detail.status ?? (event.type === EVENT_TYPES.workflowCompleted ? 'SUCCEEDED' : 'FAILED')));
      return false;
    }
    if (client.res.writableLength > this.maxQueuedBytes) {
      this.drop(client);
      return false;
    }
    return true;
  }

  private end(client: Client, workflowId: string, status: string): void {
    if (client.ended) return;
    client.ended = true;
    client.res.end(`event: end\ndata: ${JSON.stringify({ workflow_id: workflowId, status })}\n\n`);
    this.forget(client);
  }

  /** Disconnects a client that does not keep up (its EventSource reconnects with the last id it got). */
  private drop(client: Client): void {
    client.ended = true;
    client.res.destroy();
    this.forget(client);
  }

  private forget(client: Client): void {
    client.ended = true;
    this.clients.delete(client);
    if (this.clients.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private beat(): void {
    for (const client of [...this.clients]) {
      if (client.res.writableLength > this.maxQueuedBytes) this.drop(client);
      else client.res.write(': keep-alive\n\n');
    }
  }
}

/** The id after which to stream: 0 (from the start) without one; a `StreamRequestError` for one that is not an id. */
function parseLastEventId(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new StreamRequestError(400, 'bad_request',
      `Last-Event-ID '${value.slice(0, 40)}' is not an event id; send the id: of the last event received (a whole number), or none to start from the first`);
  }
  return Number(value.trim());
}

function parseEvent(line: string): WorkflowEvent | undefined {
  try {
    const value = JSON.parse(line) as Partial<WorkflowEvent> | null;
    if (!value || typeof value.type !== 'string' || typeof value.workflowId !== 'string') return undefined;
    return { type: value.type, workflowId: value.workflowId, detail: value.detail ?? {}, time: String(value.time ?? ''), ...(value.stepName ? { stepName: value.stepName } : {}) };
  } catch {
    return undefined; // a line cut short by a crash
  }
}

/** The number of complete lines of a file (0 when it does not exist). */
function countLines(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return 0;
  }
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let count = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) return count;
      for (let i = 0; i < n; i++) if (buffer[i] === 0x0a) count++;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
