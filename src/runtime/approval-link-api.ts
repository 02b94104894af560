/**
 * The approval link routes of the HTTP API, and the audit record of every decision.
 *
 * - `GET /approvals/{token}` answers a small HTML page that says what the link decides and asks
 *   for a confirmation. It never decides: mail previews and link scanners fetch GETs.
 * - `POST /approvals/{token}` (the page's form, or a JSON client with `{"comment": "..."}`)
 *   decides: it checks the token (signature, expiry), that the workflow still waits for that
 *   approval, marks the link used (a conditional write: one use), hands the decision to the
 *   durable execution, and writes the decision's audit record.
 *
 * Every refusal is a 4xx that says why, and changes nothing: a malformed token 400, a forged one
 * 403, an expired one 410, an unknown workflow 404, a link of another approval 403, a used link,
 * a decided, cancelled or ended workflow 409.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { LinkClaims, LinkKeySource, verifyLinkToken } from './approval-links';
import { CallbackNotPendingError, CallbackRecord, DecisionRecord, DurableControl, WorkflowRecord, WorkflowStore } from './ports';
import { isTerminal } from '../contract/status';

/** What the link routes need. */
export interface ApprovalLinkApiOptions {
  readonly store: WorkflowStore;
  readonly durable: DurableControl;
  readonly keys: LinkKeySource;
}

/** A refusal: a status, a stable code and a message a person can act on. */
export class LinkRefusal extends Error {
  constructor(public readonly statusCode: number, public readonly code: string, message: string) {
    super(message);
    this.name = 'LinkRefusal';
  }
}

/** Longest comment accepted (as on `POST /workflows/{id}/approval`). */
const MAX_COMMENT = 2000;

/** What a checked link stands for. */
interface CheckedLink {
  readonly claims: LinkClaims;
  readonly workflow: WorkflowRecord;
  readonly callback: CallbackRecord;
}

/** Who made a request and from where, for the audit record. */
export interface RequestIdentity {
  readonly by: string;
  readonly via: DecisionRecord['via'];
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/**
 * The caller of an authorized request: the IAM principal ARN (IAM authorization), `jwt:<sub>`
 * (a JWT authorizer), or `unauthenticated (local)` (the local server, which has no authorizer).
 */
export function requestIdentity(event: APIGatewayProxyEventV2): RequestIdentity {
  const ctx = event.requestContext as unknown as {
    authorizer?: { iam?: { userArn?: string }; jwt?: { claims?: Record<string, unknown> } };
    http?: { sourceIp?: string; userAgent?: string };
  };
  const where = {
    ...(ctx.http?.sourceIp ? { sourceIp: ctx.http.sourceIp } : {}),
    ...(ctx.http?.userAgent ? { userAgent: ctx.http.userAgent.slice(0, 512) } : {}),
  };
  const arn = ctx.authorizer?.iam?.userArn;
  if (arn) return { by: arn, via: 'iam', ...where };
  const sub = ctx.authorizer?.jwt?.claims?.sub;
  if (sub !== undefined && sub !== null && String(sub) !== '') return { by: `jwt:${String(sub)}`, via: 'jwt', ...where };
  return { by: 'unauthenticated (local)', via: 'local', ...where };
}

/** A decision's audit record as the API shows it (snake case). */
export function decisionView(d: DecisionRecord) {
  return {
    step_name: d.stepName,
    decision: d.decision,
    by: d.by,
    via: d.via,
    decided_at: d.decidedAt,
    comment: d.comment ?? null,
    source_ip: d.sourceIp ?? null,
    user_agent: d.userAgent ?? null,
    ...(d.linkId ? { link_id: d.linkId } : {}),
  };
}

/** The approval link routes. */
export class ApprovalLinkApi {
  constructor(private readonly options: ApprovalLinkApiOptions) {}

  /** `GET /approvals/{token}`: the confirmation page (or why the link can no longer decide). Never decides. */
  public async page(token: string): Promise<APIGatewayProxyStructuredResultV2> {
    let link: CheckedLink;
    try {
      link = await this.check(token);
    } catch (e) {
      if (e instanceof LinkRefusal) return html(e.statusCode, refusalPage(e));
      throw e;
    }
    return html(200, confirmationPage(link));
  }

  /** `POST /approvals/{token}`: decides, once. Answers HTML to a form post, JSON otherwise. */
  public async decide(token: string, event: APIGatewayProxyEventV2, headers: Record<string, string>): Promise<APIGatewayProxyStructuredResultV2> {
    const form = (headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
    try {
      const comment = commentOf(event, form);
      const link = await this.check(token);
      const { claims, workflow, callback } = link;
      const { store, durable } = this.options;
      if (!(await store.claimLink(workflow.workflowId, claims.linkId))) throw usedLink(claims, await store.listDecisions(workflow.workflowId));
      const approved = claims.decision === 'approve';
      const by = `link:${claims.linkId}`;
      try {
        await durable.callbackSuccess(callback, JSON.stringify({ approved, ...(comment !== undefined ? { comment } : {}), by }));
      } catch (e) {
        if (e instanceof CallbackNotPendingError) throw new LinkRefusal(409, 'conflict', `workflow ${workflow.workflowId} no longer waits for this approval; the link changed nothing`);
        throw e;
      }
      await store.completeCallback(callback.callbackId, 'SUCCEEDED');
      const who = requestIdentity(event);
      await store.putDecision({
        workflowId: workflow.workflowId,
        callbackId: callback.callbackId,
        stepName: callback.stepName,
        decision: approved ? 'approved' : 'rejected',
        ...(comment !== undefined ? { comment } : {}),
        by,
        via: 'link',
        decidedAt: new Date().toISOString(),
        ...(who.sourceIp ? { sourceIp: who.sourceIp } : {}),
        ...(who.userAgent ? { userAgent: who.userAgent } : {}),
        linkId: claims.linkId,
      });
      const message = approved ? 'Approved; the workflow continues' : 'Rejected; the workflow follows its rejection rule';
      if (form) return html(200, resultPage(approved ? 'Approved' : 'Rejected', `${message}. Workflow ${workflow.workflowId}, step ${callback.stepName}.`));
      return json(200, { workflow_id: workflow.workflowId, step_name: callback.stepName, approved, by, message });
    } catch (e) {
      if (!(e instanceof LinkRefusal)) throw e;
      return form ? html(e.statusCode, refusalPage(e)) : json(e.statusCode, { error: e.code, message: e.message });
    }
  }

  /** The link's claims, workflow and approval, once every check passed; a `LinkRefusal` otherwise. */
  private async check(token: string): Promise<CheckedLink> {
    const { store, keys } = this.options;
    const checked = verifyLinkToken(await keys.key(), token);
    if (!checked.ok) {
      const status = checked.problem === 'malformed' ? 400 : checked.problem === 'forged' ? 403 : 410;
      throw new LinkRefusal(status, checked.problem === 'expired' ? 'link_expired' : checked.problem === 'forged' ? 'forbidden' : 'bad_request', checked.message);
    }
    const { claims } = checked;
    const workflow = await store.getWorkflow(claims.workflowId);
    if (!workflow) throw new LinkRefusal(404, 'not_found', `workflow ${claims.workflowId} of this link does not exist (any more)`);
    const callback = await store.getCallback(claims.callbackId);
    if (!callback || callback.workflowId !== workflow.workflowId || callback.kind !== 'approval') {
      throw new LinkRefusal(403, 'forbidden', `this link is not for an approval of workflow ${workflow.workflowId}`);
    }
    const decisions = await store.listDecisions(workflow.workflowId);
    if (decisions.some((d) => d.linkId === claims.linkId)) throw usedLink(claims, decisions);
    if (isTerminal(workflow.status)) {
      throw new LinkRefusal(409, 'conflict', `workflow ${workflow.workflowId} has ended (${workflow.status}); the link changes nothing`);
    }
    if (workflow.cancelRequested) {
      throw new LinkRefusal(409, 'conflict', `workflow ${workflow.workflowId} is being cancelled; the link changes nothing`);
    }
    if (callback.state !== 'PENDING') {
      const decided = decisions.find((d) => d.callbackId === callback.callbackId);
      throw new LinkRefusal(409, 'conflict', `approval '${callback.stepName}' of workflow ${workflow.workflowId} was already `
        + (decided ? `${decided.decision} by ${decided.by} at ${decided.decidedAt}` : `completed (${callback.outcome ?? 'COMPLETED'})`) + '; the link changes nothing');
    }
    if (Date.now() > Date.parse(callback.deadline)) {
      throw new LinkRefusal(409, 'conflict', `approval '${callback.stepName}' of workflow ${workflow.workflowId} stopped waiting at ${callback.deadline}`);
    }
    return { claims, workflow, callback };
  }
}

function usedLink(claims: LinkClaims, decisions: readonly DecisionRecord[]): LinkRefusal {
  const used = decisions.find((d) => d.linkId === claims.linkId);
  return new LinkRefusal(409, 'link_used', `this link was already used${used ? ` at ${used.decidedAt}` : ''}; a link decides once`);
}

/** The optional comment of a decision: a form field `comment`, or `{"comment": "..."}`; no body is no comment. */
function commentOf(event: APIGatewayProxyEventV2, form: boolean): string | undefined {
  const raw = event.body === undefined || event.body === null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (raw.length > 16 * 1024) throw new LinkRefusal(400, 'bad_request', 'the request body is larger than 16 KB; send at most a comment');
  let comment: unknown;
  if (form) {
    comment = new URLSearchParams(raw).get('comment') ?? undefined;
  } else if (raw.trim() !== '') {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (e) {
      throw new LinkRefusal(400, 'bad_request', `the body is not valid JSON (${(e as Error).message}); send {"comment": "..."} or nothing`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new LinkRefusal(400, 'bad_request', 'the body must be a JSON object: {"comment": "..."}');
    const extra = Object.keys(body).filter((k) => k !== 'comment');
    if (extra.length > 0) throw new LinkRefusal(400, 'bad_request', `field '${extra[0]}' is not accepted: the link makes the decision; send only {"comment": "..."}`);
    comment = (body as { comment?: unknown }).comment;
  }
  if (comment === undefined || comment === '') return undefined;
  if (typeof comment !== 'string') throw new LinkRefusal(400, 'bad_request', "field 'comment' must be a string");
  if (comment.length > MAX_COMMENT) throw new LinkRefusal(400, 'bad_request', `field 'comment' is longer than ${MAX_COMMENT} characters`);
  return comment;
}

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(title: string, body: string): string {
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
    + `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>`
    + '<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}'
    + 'textarea{width:100%;min-height:5rem}button{font-size:1rem;padding:.5rem 1.5rem}dt{font-weight:bold}</style></head>'
    + `<body>${body}</body></html>`;
}

function confirmationPage(link: CheckedLink): string {
  const { claims, workflow, callback } = link;
  const approve = claims.decision === 'approve';
  const step = workflow.steps.find((s) => s.name === callback.stepName);
  const prompt = typeof step?.output?.prompt === 'string' ? step.output.prompt : '';
  const verb = approve ? 'Approve' : 'Reject';
  return layout(`${verb} workflow ${workflow.workflowId}`, `<h1>${verb}?</h1>`
    + (prompt ? `<p>${escapeHtml(prompt)}</p>` : '')
    + `<dl><dt>Workflow</dt><dd>${escapeHtml(workflow.workflowId)} (${escapeHtml(workflow.definitionName)})</dd>`
    + `<dt>Approval step</dt><dd>${escapeHtml(callback.stepName)}</dd>`
    + `<dt>This link</dt><dd>${approve ? 'approves' : 'rejects'}, once; valid until ${escapeHtml(new Date(claims.expiresAt * 1000).toISOString())}</dd></dl>`
    + '<form method="post"><label for="comment">Comment (optional)</label><br><textarea id="comment" name="comment" maxlength="2000"></textarea>'
    + `<p><button type="submit">${verb}</button></p></form>`
    + '<p><small>Opening this page decided nothing: only the button does.</small></p>');
}

function refusalPage(e: LinkRefusal): string {
  return resultPage('This link cannot decide', `${e.message}. Nothing was changed.`);
}

function resultPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}

/** Headers of every page: never cached, never framed, no referrer (the URL is the link), no scripts. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

function html(statusCode: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...PAGE_HEADERS }, body };
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'referrer-policy': 'same-origin' }, body: JSON.stringify(body) };
}
