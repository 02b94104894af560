/**
 * Local test servers on 127.0.0.1 (helpers of the agents' tests, not tests themselves): a
 * callback route that answers from a script of statuses, and an OpenAI-compatible endpoint.
 */
import * as http from 'http';
import { AddressInfo } from 'net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type Answer = { status: number; body?: unknown; delayMs?: number };

const open = new Set<TestServer>();

/** Closes every server still open (for `afterAll`, so a failed test cannot leave one behind). */
export async function closeAllServers(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
}

/** An HTTP server that records every request and answers with `answer(request)`. */
export class TestServer {
  public static async start(answer: (req: RecordedRequest, index: number) => Answer): Promise<TestServer> {
    const s = new TestServer(answer);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    open.add(s);
    return s;
  }

  public readonly requests: RecordedRequest[] = [];
  private readonly server: http.Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed?: Promise<void>;

  private constructor(private answer: (req: RecordedRequest, index: number) => Answer) {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
        this.requests.push(recorded);
        const a = this.answer(recorded, this.requests.length - 1);
        const send = () => {
          const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? {});
          res.writeHead(a.status, { 'content-type': 'application/json' }).end(text);
        };
        if (!a.delayMs) return send();
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          send();
        }, a.delayMs);
        this.timers.add(timer);
      });
    });
  }

  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Replaces how the server answers. */
  public answerWith(answer: (req: RecordedRequest, index: number) => Answer): void {
    this.answer = answer;
  }

  /** Stops the server (again: a no-op). */
  public close(): Promise<void> {
    if (!this.closed) {
      open.delete(this);
      for (const timer of this.timers) clearTimeout(timer);
      this.server.closeAllConnections();
      this.closed = new Promise((resolve) => this.server.close(() => resolve()));
    }
    return this.closed;
  }
}

/** A callback route: the n-th request gets `statuses[n]` (the last one repeats). */
export function callbackServer(statuses: number[] = [200]): Promise<TestServer> {
  return TestServer.start((_req, i) => {
    const status = statuses[Math.min(i, statuses.length - 1)];
    return { status, body: status < 300 ? { accepted: true } : { error: 'refused', message: `scripted ${status}` } };
  });
}

/** An OpenAI-compatible chat completions endpoint under `/v1` that echoes a marker and the prompt's first line. */
export function openAIServer(): Promise<TestServer> {
  return TestServer.start((req) => openAIAnswer(req));
}

/** The default answer of {@link openAIServer}. */
export function openAIAnswer(req: RecordedRequest): Answer {
  if (req.path !== '/v1/chat/completions') return { status: 404, body: { error: { message: `no route ${req.path}` } } };
  const body = JSON.parse(req.body) as { model: string; messages: Array<{ role: string; content: string }> };
  const prompt = body.messages.find((m) => m.role === 'user')?.content ?? '';
  return {
    status: 200,
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      model: body.model,
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `## Summary\n\nMODEL-ANSWER for: ${prompt.split('\n')[0]}\n` } }],
    },
  };
}
