/**
 * Routes only the local server has, beside the workflow API: the web page (`GET /`, `/page.js`,
 * `/page.css`, `/favicon.svg`), server-sent events (`GET /events`, `GET /workflows/{id}/events`, see
 * event-stream.ts) and the content of artifacts (`GET /artifacts/<key>`, read through the artifact
 * store, which refuses keys outside its folder and symbolic links).
 */
import type { IncomingMessage, ServerResponse } from 'http';
import { EventStreams, StreamRequestError } from './event-stream';
import { sendError, sendResult } from './http';
import { PAGE_ICON, PAGE_SCRIPT, PAGE_STYLE, PageConfig, pageHtml } from './page';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { declaredInputField, sampleInputValue } from '../contract/inputs';
import { isTerminal, LOG_EVENT_TYPES } from '../contract/status';
import { ArtifactRefusedError, ArtifactStore, WorkflowStore } from '../runtime/ports';
import { requiredInputFields } from '../runtime/values';

/** Answers a request when it is one of these routes (true), or leaves it to the API (false). */
export type LocalRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export interface LocalRoutesOptions {
  readonly streams: EventStreams;
  readonly store: Pick<WorkflowStore, 'getWorkflow'>;
  readonly artifacts: Pick<ArtifactStore, 'get'>;
  readonly definition: WorkflowDefinitionDocument;
}

/**
 * The page may only load from this server (`script-src 'self'`, no inline script), talk to this
 * server, and never be framed by another page (a framed page could be clicked into approving).
 */
const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * An artifact is shown as text (or downloaded), never run as a page of this origin: an agent's
 * HTML must not be able to script the page that approves.
 */
const ARTIFACT_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'x-frame-options': 'DENY',
};

const WORKFLOW_EVENTS = /^\/workflows\/([^/]+)\/events$/;

export function localRoutes(options: LocalRoutesOptions): LocalRoutes {
  const config: PageConfig = {
    workflow: options.definition.name,
    steps: options.definition.steps.map((s) => s.name),
    exampleInput: exampleInput(options.definition),
    topicField: takesTopic(options.definition),
    eventNames: Object.values(LOG_EVENT_TYPES),
  };
  const html = pageHtml(config);
  const files: Record<string, { readonly type: string; readonly body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: html },
    '/page.js': { type: 'text/javascript; charset=utf-8', body: PAGE_SCRIPT },
    '/page.css': { type: 'text/css; charset=utf-8', body: PAGE_STYLE },
    '/favicon.svg': { type: 'image/svg+xml', body: PAGE_ICON },
  };

  return async (req, res, url) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const p = url.pathname;
    const readOnly = () => {
      if (method === 'GET' || method === 'HEAD') return true;
      res.setHeader('allow', 'GET, HEAD');
      sendError(res, 405, 'method_not_allowed', `${method} ${p} is not allowed: this local page route answers GET only`);
      return false;
    };

    const file = Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined;
    if (file) {
      // (Node sends no body in answer to HEAD.)
      if (readOnly()) sendResult(res, { statusCode: 200, headers: { ...PAGE_HEADERS, 'content-type': file.type }, body: file.body });
      return true;
    }

    const workflowEvents = WORKFLOW_EVENTS.exec(p);
    if (p === '/events' || workflowEvents) {
      if (!readOnly()) return true;
      const lastEventId = headerOrQuery(req, url);
      try {
        if (workflowEvents) {
          const id = decodePart(workflowEvents[1], 'workflow id');
          await options.streams.serveWorkflow(res, id, lastEventId, async () => {
            const wf = await options.store.getWorkflow(id);
            return wf ? { ended: isTerminal(wf.status), status: wf.status } : undefined;
          });
        } else {
          await options.streams.serveAll(res, lastEventId);
        }
      } catch (e) {
        if (!(e instanceof StreamRequestError) || res.headersSent) throw e;
        sendError(res, e.statusCode, e.code, e.message);
      }
      return true;
    }

    if (p.startsWith('/artifacts/')) {
      if (readOnly()) await serveArtifact(options.artifacts, p.slice('/artifacts/'.length), res);
      return true;
    }
    return false;
  };
}

/** `GET /artifacts/<key>`: the file of a key under the artifact folder, as text (or a download). */
async function serveArtifact(artifacts: Pick<ArtifactStore, 'get'>, encodedKey: string, res: ServerResponse): Promise<void> {
  let key: string;
  try {
    key = encodedKey.split('/').map(decodeURIComponent).join('/');
  } catch {
    return sendError(res, 400, 'bad_request', `the artifact key '${encodedKey.slice(0, 200)}' is not valid percent-encoding; encode each segment with encodeURIComponent`);
  }
  let content: Uint8Array | undefined;
  try {
    content = await artifacts.get(key);
  } catch (e) {
    if (e instanceof ArtifactRefusedError) return sendError(res, 403, 'artifact_refused', e.message);
    // The store refuses keys that are not valid or would leave its folder with a plain Error naming why.
    if (e instanceof Error && /artifact key .* is not valid/.test(e.message)) return sendError(res, 400, 'bad_request', e.message);
    throw e;
  }
  if (content === undefined) {
    return sendError(res, 404, 'not_found', `no artifact is stored at '${key}'; the keys are in the steps' outputs of GET /workflows/{id}`);
  }
  const body = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const text = body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(body);
  const name = key.split('/').pop() ?? 'artifact';
  sendResult(res, {
    statusCode: 200,
    headers: {
      ...ARTIFACT_HEADERS,
      'content-type': isText ? (name.endsWith('.json') ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8') : 'application/octet-stream',
      'content-disposition': `${isText ? 'inline' : 'attachment'}; filename="${name.replace(/[^\w.-]/g, '_')}"`,
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  });
}

/** A percent-encoded path segment, or a 400 naming what it was. */
function decodePart(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new StreamRequestError(400, 'bad_request', `the ${what} '${text.slice(0, 200)}' is not valid percent-encoding; encode it with encodeURIComponent`);
  }
}

/** `Last-Event-ID` (what an EventSource sends when it reconnects), or the query parameter `last_event_id`. */
function headerOrQuery(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string') return header;
  return url.searchParams.get('last_event_id') ?? undefined;
}

/**
 * An input the start form offers: the reference workflow's example; else, for a declared input,
 * values its declaration accepts (its required fields, and those steps read); else each field
 * steps read, empty.
 */
function exampleInput(definition: WorkflowDefinitionDocument): Record<string, unknown> {
  if (definition.name === 'research-report') return { topic: 'durable execution for AI agents', parameters: { depth: 'brief' } };
  const declared = definition.inputs;
  const example: Record<string, unknown> = declared ? { ...(sampleInputValue(declared, 'input') as Record<string, unknown>) } : {};
  for (const { path: fieldPath } of requiredInputFields(definition)) {
    const parts = fieldPath.split('.');
    let node = example;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    const field = declared ? declaredInputField(declared, fieldPath) : undefined;
    node[parts[parts.length - 1]] ??= field ? sampleInputValue(field, fieldPath) : '';
  }
  return example;
}

/** Whether the workflow takes a top-level `topic`: declared, or (without a declaration) read by a step. */
function takesTopic(definition: WorkflowDefinitionDocument): boolean {
  if (definition.inputs) return definition.inputs.properties?.topic !== undefined;
  return requiredInputFields(definition).some((f) => f.path === 'topic');
}
