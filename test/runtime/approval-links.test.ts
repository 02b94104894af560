/**
 * Approval links through the API handler (the same code in Lambda and on the local server): a
 * valid link decides once; a reused, expired, forged, malformed link, one for another workflow,
 * and one after a cancel or a decision each get a 4xx and change nothing; a GET never decides.
 * And the audit record of every decision (IAM, JWT, link), returned with the workflow.
 */
import { randomBytes } from 'crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { researchDefinition } from './fixtures';
import { makeRuntime, succeeds, TestRuntime } from './harness';
import { LocalArtifactStore } from '../../src/runtime/adapters/local';
import { signLinkToken, verifyLinkToken } from '../../src/runtime/approval-links';
import { approvalSummary } from '../../src/runtime/approval-summary';
import { LocalDurableControl } from '../../src/runtime/durable/local-durable-control';

jest.setTimeout(60_000);

const KEY = randomBytes(32);
let rt: TestRuntime;

interface Sent {
  readonly status: number;
  readonly text: string;
  readonly json?: any;
  readonly headers: Record<string, string>;
}

/** A request as API Gateway would hand it over, with a request context of our choosing. */
interface SendOptions {
  readonly body?: string;
  readonly contentType?: string;
  readonly context?: Record<string, unknown>;
}

async function send(method: string, path: string, options: SendOptions = {}): Promise<Sent> {
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': options.contentType ?? 'application/json' },
    requestContext: { http: { method, path, sourceIp: '198.51.100.20', userAgent: 'Mozilla/5.0 (approver)' }, stage: '$default', requestId: 'test', ...options.context },
    body: options.body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  const res = (await rt.api(event)) as APIGatewayProxyStructuredResultV2;
  const text = typeof res.body === 'string' ? res.body : '';
  const headers = (res.headers ?? {}) as Record<string, string>;
  return { status: res.statusCode ?? 0, text, headers, ...(headers['content-type'] === 'application/json' ? { json: JSON.parse(text) } : {}) };
}

/** The links of a workflow's approval_requested event. */
function linksOf(workflowId: string): { approve: string; reject: string; expires_at: string } {
  const event = rt.events.find((e) => e.workflowId === workflowId && e.type === 'Workflow Approval Requested');
  if (!event) throw new Error(`no approval_requested event for ${workflowId}`);
  return event.detail.links as { approve: string; reject: string; expires_at: string };
}

const pathOf = (link: string) => new URL(link).pathname;
const tokenOf = (link: string) => pathOf(link).split('/').pop()!;

/** What must not change when a link is refused. */
async function snapshot(workflowId: string) {
  const wf = (await rt.call('GET', `/workflows/${workflowId}`)).body;
  const pending = (await rt.store.pendingCallbacks(workflowId)).map((c) => c.state);
  return { status: wf.status, awaiting: wf.awaiting, decisions: wf.decisions, pending };
}

async function waitingForApproval(topic: string): Promise<string> {
  const id = await rt.start({ topic });
  await rt.waitFor(id, (wf) => wf.awaiting === 'approval');
  // The record says it waits before the request's event (with its links) is out: poll for that too.
  const deadline = Date.now() + 20_000;
  while (!rt.events.some((e) => e.workflowId === id && e.type === 'Workflow Approval Requested')) {
    if (Date.now() > deadline) throw new Error(`no approval_requested event for ${id} within 20 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return id;
}

beforeAll(async () => {
  await LocalDurableControl.setup();
  rt = makeRuntime(researchDefinition(), {
    researcher: succeeds(['research']),
    analyst: succeeds(['analysis']),
    writer: async (_env, tools) => {
      const key = await tools.writeArtifact('report', '# The report\n\nline 2\nline 3\n');
      await tools.report({ status: 'succeeded', artifacts: { report: key } });
    },
  }, { approvalLinkKey: KEY });
});

afterAll(async () => {
  rt.dispose();
  await LocalDurableControl.teardown();
});

describe('the approval_requested event', () => {
  test('carries signed approve and reject links and the summary of what is approved', async () => {
    const id = await waitingForApproval('event');
    const event = rt.events.find((e) => e.workflowId === id && e.type === 'Workflow Approval Requested')!;
    const links = event.detail.links as Record<string, string>;
    expect(links.approve).toMatch(/^http:\/\/127\.0\.0\.1:0\/approvals\/v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const approve = verifyLinkToken(KEY, tokenOf(links.approve));
    const reject = verifyLinkToken(KEY, tokenOf(links.reject));
    expect(approve.ok && reject.ok).toBe(true);
    if (!approve.ok || !reject.ok) return;
    const [callback] = await rt.store.pendingCallbacks(id);
    expect(approve.claims).toMatchObject({ workflowId: id, callbackId: callback.callbackId, decision: 'approve' });
    expect(reject.claims).toMatchObject({ workflowId: id, callbackId: callback.callbackId, decision: 'reject' });
    expect(approve.claims.linkId).not.toBe(reject.claims.linkId);
    expect(new Date(approve.claims.expiresAt * 1000).toISOString()).toBe(links.expires_at);
    expect(event.detail.summary).toEqual({
      artifact: 'report',
      artifact_key: expect.stringMatching(new RegExp(`${id}/writing/.*report\\.md$`)),
      step_name: 'writing',
      excerpt: '# The report\n\nline 2\nline 3\n',
      truncated: false,
    });
    // The links are not in the status view (a reader of workflows could otherwise decide).
    expect(JSON.stringify((await rt.call('GET', `/workflows/${id}`)).body)).not.toContain('/approvals/');
    await rt.call('POST', `/workflows/${id}/cancel`);
    await rt.finished(id);
  });
});

describe('a valid link', () => {
  test('GET answers a confirmation page and decides nothing; POST decides once, with an audit record', async () => {
    const id = await waitingForApproval('valid');
    const links = linksOf(id);
    const before = await snapshot(id);
    const page = await send('GET', pathOf(links.approve));
    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'same-origin' });
    expect(page.text).toContain('<form method="post">');
    expect(page.text).toContain('Publish the report?');
    expect(page.text).toContain(id);
    expect(await snapshot(id)).toEqual(before);

    const decided = await send('POST', pathOf(links.approve), { body: JSON.stringify({ comment: 'ship it' }) });
    expect(decided.status).toBe(200);
    const linkId = (verifyLinkToken(KEY, tokenOf(links.approve)) as { claims: { linkId: string } }).claims.linkId;
    expect(decided.json).toEqual({ workflow_id: id, step_name: 'approval', approved: true, by: `link:${linkId}`, message: 'Approved; the workflow continues' });
    const done = await rt.finished(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.steps.find((s: { name: string }) => s.name === 'approval').output).toMatchObject({ approved: true, comment: 'ship it', by: `link:${linkId}` });
    expect(done.decisions).toEqual([{
      step_name: 'approval',
      decision: 'approved',
      by: `link:${linkId}`,
      via: 'link',
      decided_at: expect.any(String),
      comment: 'ship it',
      source_ip: '198.51.100.20',
      user_agent: 'Mozilla/5.0 (approver)',
      link_id: linkId,
    }]);

    // Reused: refused, says why, changes nothing.
    const after = await snapshot(id);
    const again = await send('POST', pathOf(links.approve));
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ error: 'link_used', message: expect.stringMatching(/this link was already used at .*; a link decides once/) });
    // The other link of the same approval: the approval is decided.
    const reject = await send('POST', pathOf(links.reject));
    expect(reject.status).toBe(409);
    expect(reject.json.message).toMatch(/has ended \(SUCCEEDED\)|already approved/);
    expect(await snapshot(id)).toEqual(after);
    // A GET of a used link shows why on the page, with the status.
    const usedPage = await send('GET', pathOf(links.approve));
    expect(usedPage.status).toBe(409);
    expect(usedPage.text).toContain('this link was already used');
  });

  test('a form post from the page rejects, answering a page; concurrent posts of one link decide once', async () => {
    const id = await waitingForApproval('form');
    const links = linksOf(id);
    const posts = await Promise.all(Array.from({ length: 5 }, () => send('POST', pathOf(links.reject), {
      body: 'comment=not+yet%21', contentType: 'application/x-www-form-urlencoded',
    })));
    expect(posts.map((p) => p.status).sort()).toEqual([200, 409, 409, 409, 409]);
    const won = posts.find((p) => p.status === 200)!;
    expect(won.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(won.text).toContain('Rejected');
    const done = await rt.finished(id);
    expect(done.status).toBe('REJECTED');
    expect(done.decisions).toHaveLength(1);
    expect(done.decisions[0]).toMatchObject({ decision: 'rejected', comment: 'not yet!', via: 'link' });
  });
});

describe('refused links change nothing', () => {
  let id: string;
  let other: string;
  let links: { approve: string; reject: string };
  let claims: { workflowId: string; callbackId: string; linkId: string };

  beforeAll(async () => {
    id = await waitingForApproval('refused');
    other = await waitingForApproval('other');
    links = linksOf(id);
    claims = (verifyLinkToken(KEY, tokenOf(links.approve)) as { claims: typeof claims }).claims;
  });

  afterAll(async () => {
    for (const w of [id, other]) await rt.call('POST', `/workflows/${w}/cancel`);
    await Promise.all([id, other].map((w) => rt.finished(w)));
  });

  const forge = (mutate: (token: string) => string) => `/approvals/${mutate(tokenOf(links.approve))}`;

  test.each([
    ['forged (payload altered)', () => forge((t) => {
      const [v, payload, mac] = t.split('.');
      const claimsJson = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      return `${v}.${Buffer.from(JSON.stringify({ ...claimsJson, d: 'reject' })).toString('base64url')}.${mac}`;
    }), 403, /not issued by this orchestrator, or it was altered/],
    ['forged (signed with another key)', () => `/approvals/${signLinkToken(randomBytes(32), { ...claims, decision: 'approve', expiresAt: Math.floor(Date.now() / 1000) + 600 })}`,
      403, /signature does not match/],
    ['malformed', () => '/approvals/not-a-token', 400, /not a link token of this orchestrator/],
    ['expired', () => `/approvals/${signLinkToken(KEY, { ...claims, decision: 'approve', expiresAt: Math.floor(Date.now() / 1000) - 1 })}`,
      410, /this approval link expired at/],
    ['for another workflow (its approval, signed for this one)', () => `/approvals/${signLinkToken(KEY, {
      ...claims, workflowId: other, decision: 'approve', expiresAt: Math.floor(Date.now() / 1000) + 600,
    })}`, 403, new RegExp(`not for an approval of workflow ${'wf-'}`)],
    ['for a workflow that does not exist', () => `/approvals/${signLinkToken(KEY, {
      ...claims, workflowId: `wf-${'0'.repeat(32)}`, decision: 'approve', expiresAt: Math.floor(Date.now() / 1000) + 600,
    })}`, 404, /does not exist/],
  ])('%s: GET and POST are refused', async (_name, path, status, message) => {
    const before = [await snapshot(id), await snapshot(other)];
    for (const method of ['GET', 'POST']) {
      const res = await send(method, path());
      expect(res.status).toBe(status);
      if (method === 'POST') expect(res.json).toEqual({ error: expect.any(String), message: expect.stringMatching(message) });
      else expect(res.text).toMatch(/Nothing was changed/);
    }
    expect([await snapshot(id), await snapshot(other)]).toEqual(before);
  });

  test('a body that is not a comment is refused before anything is looked at', async () => {
    const before = await snapshot(id);
    const res = await send('POST', pathOf(links.approve), { body: JSON.stringify({ approved: false }) });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/field 'approved' is not accepted: the link makes the decision/);
    expect(await snapshot(id)).toEqual(before);
    // The link is still good after all those refusals.
    expect((await send('GET', pathOf(links.approve))).status).toBe(200);
  });
});

test('after a cancel, a link is refused and changes nothing', async () => {
  const id = await waitingForApproval('cancelled');
  const links = linksOf(id);
  expect((await rt.call('POST', `/workflows/${id}/cancel`)).status).toBe(202);
  await rt.finished(id);
  const before = await snapshot(id);
  const res = await send('POST', pathOf(links.approve));
  expect(res.status).toBe(409);
  expect(res.json.message).toMatch(/has ended \(CANCELLED\); the link changes nothing/);
  expect(await snapshot(id)).toEqual({ ...before, decisions: [] });
  expect(before.status).toBe('CANCELLED');
});

describe('audit records of decisions through the API', () => {
  test('IAM: the principal ARN, with where from and the comment', async () => {
    const id = await waitingForApproval('iam');
    const arn = 'arn:aws:sts::123456789012:assumed-role/Approvers/alice';
    const res = await send('POST', `/workflows/${id}/approval`, {
      body: JSON.stringify({ approved: true, comment: 'fine' }), context: { authorizer: { iam: { userArn: arn } } },
    });
    expect(res.status).toBe(200);
    const done = await rt.finished(id);
    expect(done.decisions).toEqual([{
      step_name: 'approval',
      decision: 'approved',
      by: arn,
      via: 'iam',
      decided_at: expect.any(String),
      comment: 'fine',
      source_ip: '198.51.100.20',
      user_agent: 'Mozilla/5.0 (approver)',
    }]);
    expect(Date.parse(done.decisions[0].decided_at)).toBeGreaterThan(Date.parse(done.created_at));
  });

  test('JWT: the subject', async () => {
    const id = await waitingForApproval('jwt');
    const res = await send('POST', `/workflows/${id}/approval`, {
      body: JSON.stringify({ approved: false }), context: { authorizer: { jwt: { claims: { sub: 'user-42' }, scopes: [] } } },
    });
    expect(res.status).toBe(200);
    const done = await rt.finished(id);
    expect(done.decisions).toEqual([expect.objectContaining({ decision: 'rejected', by: 'jwt:user-42', via: 'jwt', comment: null })]);
  });

  test('a workflow nobody decided has no decisions', async () => {
    const id = await waitingForApproval('undecided');
    expect((await rt.call('GET', `/workflows/${id}`)).body.decisions).toEqual([]);
    await rt.call('POST', `/workflows/${id}/cancel`);
    await rt.finished(id);
  });
});

test('without approval links the routes do not exist', async () => {
  const plain = makeRuntime(researchDefinition(), {});
  try {
    const res = await plain.call('GET', '/approvals/v1.abc.def');
    expect(res.status).toBe(404);
    expect(res.body.message.split('routes are ')[1]).not.toContain('/approvals/');
  } finally {
    plain.dispose();
  }
});

test('the summary shows the newest artifact, cut to its first lines', async () => {
  const store = new LocalArtifactStore(rt.dir + '/summary');
  await store.put('agents/a/one.md', 'old');
  await store.put('agents/b/two.md', Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n'));
  const summary = await approvalSummary(store, { first: { artifacts: { one: 'agents/a/one.md' } }, second: { artifacts: { two: 'agents/b/two.md' }, output: {} }, choice: { value: 1 } });
  expect(summary).toEqual({ artifact: 'two', artifact_key: 'agents/b/two.md', step_name: 'second', excerpt: expect.stringMatching(/^line 1\n.*line 12$/s), truncated: true });
  expect(await approvalSummary(store, { choice: { value: 1 } })).toBeUndefined();
  expect(await approvalSummary(store, { gone: { artifacts: { x: 'agents/missing.md' } } })).toEqual({ artifact: 'x', artifact_key: 'agents/missing.md', step_name: 'gone', excerpt: null, truncated: false });
});
