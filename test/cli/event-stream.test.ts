import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as nodeHttp from 'http';
import * as path from 'path';
import { decide, http, startWorkflow, tempDir, testAgents, waitForApproval, waitForEnd, waitUntil } from './helpers';
import { EventStreams } from '../../src/cli/event-stream';
import { LocalServer, startLocalServer } from '../../src/cli/server';

jest.setTimeout(30_000);

/** One server-sent event as a client reads it. */
interface Sse {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
}

/** A raw HTTP client of an event stream: parses events as they arrive, keeps comments. */
class SseClient {
  public readonly events: Sse[] = [];
  public readonly comments: string[] = [];
  public status = 0;
  public headers: nodeHttp.IncomingHttpHeaders = {};
  public ended = false;
  public body = '';
  private buffer = '';
  private readonly req: nodeHttp.ClientRequest;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.req = nodeHttp.get(url, { headers }, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.body += chunk;
        this.buffer += chunk;
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          this.block(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
      });
      res.on('end', () => (this.ended = true));
      res.on('close', () => (this.ended = true));
    });
    this.req.on('error', () => (this.ended = true));
  }

  public of(name: string): Sse[] {
    return this.events.filter((e) => e.event === name);
  }

  public close(): void {
    this.req.destroy();
  }

  private block(text: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) this.events.push({ ...(id !== undefined ? { id } : {}), event, data: data.join('\n') });
  }
}

describe('local server: server-sent events over raw HTTP', () => {
  let server: LocalServer;
  const clients: SseClient[] = [];
  const open = (p: string, headers: Record<string, string> = {}) => {
    const c = new SseClient(`${server.url}${p}`, headers);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startLocalServer({ port: 0, dataDir: tempDir(), agentCommands: testAgents(), log: () => undefined });
  });
  afterEach(() => clients.splice(0).forEach((c) => c.close()));
  afterAll(() => server?.close());

  test('a workflow\'s stream: earlier events replayed, live ones, `end` after its final event; Last-Event-ID resumes', async () => {
    const all = open('/events');
    await waitUntil(() => all.status === 200, 10_000, '/events answered');
    const id = await startWorkflow(server.url);
    await waitForApproval(server.url, id);

    // Opened after the workflow reached its approval: everything so far is replayed, in order.
    const stream = open(`/workflows/${id}/events`);
    await waitUntil(() => stream.of('approval_requested').length === 1, 10_000, 'the approval request replayed');
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-store');
    expect(stream.events.map((e) => e.event)).toEqual([
      'workflow_started',
      'step_started', 'step_completed', 'step_started', 'step_completed', 'step_started', 'step_completed',
      'step_started', 'approval_requested',
    ]);
    const ids = stream.events.map((e) => Number(e.id));
    expect(ids.every((n, i) => Number.isInteger(n) && (i === 0 || n > ids[i - 1]))).toBe(true);
    const first = JSON.parse(stream.events[0].data);
    expect(first).toMatchObject({ type: 'Workflow Started', workflowId: id, detail: { event_type: 'workflow_started' } });
    expect(JSON.parse(stream.events[2].data)).toMatchObject({ stepName: 'research', detail: { status: 'SUCCEEDED' } });
    expect(stream.ended).toBe(false);

    // Live: the approval and what follows arrive on the open stream, then `end`, then the stream closes.
    expect((await decide(server.url, id, true)).status).toBe(200);
    await waitUntil(() => stream.ended, 20_000, 'the stream ended');
    expect(stream.events.slice(-3).map((e) => e.event)).toEqual(['step_completed', 'workflow_completed', 'end']);
    const end = stream.events[stream.events.length - 1];
    expect(end.id).toBeUndefined();
    expect(JSON.parse(end.data)).toEqual({ workflow_id: id, status: 'SUCCEEDED' });
    const finalId = Number(stream.events[stream.events.length - 2].id);

    // The same ids as the event log's lines: line n of events.jsonl is event n.
    const log = fs.readFileSync(path.join(server.dataDir, 'events.jsonl'), 'utf8').split('\n');
    expect(JSON.parse(log[finalId - 1])).toMatchObject({ type: 'Workflow Completed', workflowId: id });

    // The stream of every workflow saw the same events, with the same ids, and stays open.
    await waitUntil(() => all.events.some((e) => e.id === String(finalId)), 10_000, '/events got the final event');
    const mine = all.events.filter((e) => JSON.parse(e.data).workflowId === id);
    expect(mine.map((e) => e.id)).toEqual(stream.events.slice(0, -1).map((e) => e.id));
    expect(all.ended).toBe(false);

    // Reconnecting with Last-Event-ID: only the events after it, then `end` again.
    const resumeAfter = stream.events[8].id!; // approval_requested
    const resumed = open(`/workflows/${id}/events`, { 'last-event-id': resumeAfter });
    await waitUntil(() => resumed.ended, 10_000, 'the resumed stream ended');
    expect(resumed.events.map((e) => e.event)).toEqual(['step_completed', 'step_started', 'step_completed', 'workflow_completed', 'end']);
    expect(Number(resumed.events[0].id)).toBeGreaterThan(Number(resumeAfter));
    // The query parameter does the same (for a client that cannot set headers).
    const byQuery = open(`/workflows/${id}/events?last_event_id=${finalId}`);
    await waitUntil(() => byQuery.ended, 10_000, 'the stream after the final event ended');
    expect(byQuery.events.map((e) => e.event)).toEqual(['end']);

    // /events with Last-Event-ID replays the events after it, of every workflow.
    const allResumed = open('/events', { 'last-event-id': String(finalId - 2) });
    await waitUntil(() => allResumed.events.length >= 2, 10_000, '/events resumed');
    expect(allResumed.events.map((e) => Number(e.id))).toEqual([finalId - 1, finalId]);
  });

  test('a workflow that ends while nobody follows: a new stream replays it and ends; a cancelled one ends CANCELLED', async () => {
    const id = await startWorkflow(server.url);
    await waitForApproval(server.url, id);
    expect((await http(server.url, 'POST', `/workflows/${id}/cancel`)).status).toBe(202);
    await waitForEnd(server.url, id);
    const stream = open(`/workflows/${id}/events`);
    await waitUntil(() => stream.ended, 10_000, 'the stream ended');
    expect(stream.events.map((e) => e.event).slice(-2)).toEqual(['workflow_cancelled', 'end']);
    expect(JSON.parse(stream.events[stream.events.length - 1].data)).toEqual({ workflow_id: id, status: 'CANCELLED' });
  });

  test('an unknown workflow is 404, a Last-Event-ID that is not an id is 400, other methods 405 (JSON, no stream)', async () => {
    const unknown = await http(server.url, 'GET', '/workflows/wf-unknown/events');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/workflow 'wf-unknown' not found/);
    const bad = await http(server.url, 'GET', '/events', undefined, { 'last-event-id': 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/Last-Event-ID 'yesterday' is not an event id/);
    const undecodable = await http(server.url, 'GET', '/workflows/wf-%E0/events');
    expect(undecodable.status).toBe(400);
    expect(undecodable.body.message).toMatch(/the workflow id 'wf-%E0' is not valid percent-encoding/);
    const post = await http(server.url, 'POST', '/events', {});
    expect(post.status).toBe(405);
  });

  test('ids hold across a restart on the same folder: earlier workflows replay from the log, new events number on', async () => {
    const dir = tempDir();
    const first = await startLocalServer({ port: 0, dataDir: dir, agentCommands: testAgents(), log: () => undefined });
    let old: string;
    try {
      old = await startWorkflow(first.url);
      await waitForApproval(first.url, old);
      await decide(first.url, old, false);
      await waitForEnd(first.url, old);
    } finally {
      await first.close();
    }
    const logged = fs.readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').length;
    const second = await startLocalServer({ port: 0, dataDir: dir, agentCommands: testAgents(), log: () => undefined });
    try {
      const replay = new SseClient(`${second.url}/workflows/${old}/events`);
      clients.push(replay);
      await waitUntil(() => replay.ended, 10_000, 'the old workflow\'s stream ended');
      expect(replay.events.map((e) => e.event).slice(-2)).toEqual(['workflow_failed', 'end']);
      expect(JSON.parse(replay.events[replay.events.length - 1].data)).toEqual({ workflow_id: old, status: 'REJECTED' });
      expect(Number(replay.events[replay.events.length - 2].id)).toBe(logged);

      const all = new SseClient(`${second.url}/events`);
      clients.push(all);
      await waitUntil(() => all.status === 200, 10_000, '/events answered');
      const id = await startWorkflow(second.url);
      await waitUntil(() => all.events.length > 0, 10_000, 'the new workflow\'s first event');
      expect(all.events[0]).toMatchObject({ id: String(logged + 1), event: 'workflow_started' });
      expect(JSON.parse(all.events[0].data).workflowId).toBe(id);
      await waitForApproval(second.url, id);
      await decide(second.url, id, false);
      await waitForEnd(second.url, id);
    } finally {
      await second.close();
    }
  });

  test('closing the server ends open streams', async () => {
    const own = await startLocalServer({ port: 0, dataDir: tempDir(), agentCommands: testAgents(), log: () => undefined });
    const stream = new SseClient(`${own.url}/events`);
    clients.push(stream);
    await waitUntil(() => stream.status === 200, 10_000, 'the stream opened');
    await own.close();
    await waitUntil(() => stream.ended, 10_000, 'the stream ended with the server');
  });
});

describe('local server: the page, artifacts and who may call', () => {
  let server: LocalServer;

  beforeAll(async () => {
    server = await startLocalServer({ port: 0, dataDir: tempDir(), agentCommands: testAgents(), log: () => undefined });
  });
  afterAll(() => server?.close());

  type Got = { status: number; headers: nodeHttp.IncomingHttpHeaders; body: string };
  const get = (p: string, headers: Record<string, string> = {}) => new Promise<Got>(
    (resolve, reject) => {
      nodeHttp.get(`${server.url}${p}`, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      }).on('error', reject);
    });

  test('GET / is the page: HTML naming the workflow, its script and style from this server only, never framed', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script src="/page.js" defer></script>');
    expect(page.body).toContain('research &rarr; analysis &rarr; writing &rarr; approval &rarr; publish');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const config = JSON.parse(/<script type="application\/json" id="page-config">(.*?)<\/script>/s.exec(page.body)![1]);
    expect(config).toMatchObject({ workflow: 'research-report', steps: ['research', 'analysis', 'writing', 'approval', 'publish'] });
    expect(config.eventNames).toContain('approval_requested');
    const script = await get('/page.js');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toContain("new EventSource('/events')");
    expect((await get('/page.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await http(server.url, 'POST', '/', {})).status).toBe(405);
  });

  test('GET /artifacts/<key> serves a file of the artifact folder as text; no escape, no link, 404 for none', async () => {
    const id = await startWorkflow(server.url);
    const waiting = await waitForApproval(server.url, id);
    const key: string = waiting.steps.find((s: any) => s.name === 'writing').output.artifacts.report;
    const file = path.join(server.artifactsDir, ...key.split('/'));
    const served = await get(`/artifacts/${key.split('/').map(encodeURIComponent).join('/')}`);
    expect(served.status).toBe(200);
    expect(served.body).toBe(fs.readFileSync(file, 'utf8'));
    expect(served.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(served.headers['content-security-policy']).toContain('sandbox');

    // An agent's HTML is text here, never a page of this origin.
    fs.writeFileSync(path.join(server.artifactsDir, 'page.html'), '<script>alert(1)</script>');
    expect((await get('/artifacts/page.html')).headers['content-type']).toBe('text/plain; charset=utf-8');

    const escape = await get('/artifacts/a%2F..%2F..%2Fetc%2Fpasswd');
    expect(escape.status).toBe(400);
    expect(JSON.parse(escape.body).message).toMatch(/"\.\." segment/);
    fs.symlinkSync('/etc/hostname', path.join(server.artifactsDir, 'link.txt'));
    const link = await get('/artifacts/link.txt');
    expect(link.status).toBe(403);
    expect(JSON.parse(link.body).message).toMatch(/is a symbolic link/);
    expect((await get('/artifacts/nothing/here.md')).status).toBe(404);
    await decide(server.url, id, false);
    await waitForEnd(server.url, id);
  });

  test('a browser request from another site, or another port of this machine, is refused; the page\'s own origin is not', async () => {
    for (const origin of ['https://evil.example', 'http://localhost:3000', `http://127.0.0.1:${server.port + 1}`, 'null']) {
      const res = await http(server.url, 'POST', '/workflows', { topic: 'x' }, { origin });
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/other sites .*only this server's own page/);
      expect((await get('/events', { origin })).status).toBe(403);
    }
    const own = await http(server.url, 'GET', '/workflows?limit=1', undefined, { origin: server.url });
    expect(own.status).toBe(200);
    const rebound = await get('/', { host: `attacker.example:${server.port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).message).toMatch(/is not this local server/);
  });
});

/** A stand-in for a response, for what a socket cannot show quickly: a client that stops reading. */
class FakeResponse extends EventEmitter {
  public chunks: string[] = [];
  public writableLength = 0;
  public writableNeedDrain = false;
  public headersSent = false;
  public destroyed = false;
  public finished = false;
  public writeHead(): this {
    this.headersSent = true;
    return this;
  }
  public write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  public end(chunk?: string): this {
    if (chunk) this.chunks.push(chunk);
    this.finished = true;
    this.emit('close');
    return this;
  }
  public destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }
}

describe('EventStreams', () => {
  const event = (workflowId: string, type = 'Workflow Step Started') => ({ type, workflowId, stepName: 's', detail: {}, time: new Date().toISOString() });

  test('ids continue after the events already in the log; a heartbeat comment keeps an idle stream open', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(event('wf-a'))}\n${JSON.stringify(event('wf-b'))}\n`);
    const streams = new EventStreams({ eventLogFile: file, heartbeatMs: 20 });
    const res = new FakeResponse();
    await streams.serveAll(res as unknown as nodeHttp.ServerResponse, undefined);
    streams.onEvent(event('wf-c'));
    expect(res.chunks.join('')).toContain('id: 3\nevent: step_started\n');
    await waitUntil(() => res.chunks.includes(': keep-alive\n\n'), 10_000, 'a heartbeat');
    streams.close();
    expect(res.finished).toBe(true);
    expect(streams.open).toBe(0);
  });

  test('a client that does not read (more than maxQueuedBytes waiting) is disconnected; the others keep their streams', async () => {
    const streams = new EventStreams({ eventLogFile: path.join(tempDir(), 'events.jsonl'), maxQueuedBytes: 1000 });
    const slow = new FakeResponse();
    const fine = new FakeResponse();
    await streams.serveAll(slow as unknown as nodeHttp.ServerResponse, undefined);
    await streams.serveAll(fine as unknown as nodeHttp.ServerResponse, undefined);
    streams.onEvent(event('wf-a'));
    expect(slow.destroyed).toBe(false);
    slow.writableLength = 5000; // what the socket has not taken yet
    streams.onEvent(event('wf-a'));
    expect(slow.destroyed).toBe(true);
    streams.onEvent(event('wf-a'));
    expect(fine.destroyed).toBe(false);
    expect(fine.chunks.filter((c) => c.startsWith('id: '))).toHaveLength(3);
    expect(streams.open).toBe(1);
    streams.close();
  });

  test('a workflow whose record has ended without a final event in the log (an earlier server\'s) ends with the record\'s status', async () => {
    const streams = new EventStreams({ eventLogFile: path.join(tempDir(), 'events.jsonl'), endGraceMs: 10 });
    const res = new FakeResponse();
    await streams.serveWorkflow(res as unknown as nodeHttp.ServerResponse, 'wf-old', undefined, async () => ({ ended: true, status: 'FAILED' }));
    await waitUntil(() => res.finished, 10_000, 'the stream ended');
    expect(res.chunks[res.chunks.length - 1]).toBe('event: end\ndata: {"workflow_id":"wf-old","status":"FAILED"}\n\n');
  });
});
