import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { LocalApprovals, LocalApprovalsOptions } from '../../src/cli/approvals';
import { EVENT_TYPES } from '../../src/contract/status';
import type { ApiHandler } from '../../src/runtime/api';
import type { WorkflowEvent } from '../../src/runtime/ports';

function event(type: string, workflowId = 'wf-1'): WorkflowEvent {
  return { type, workflowId, stepName: 'approval', detail: {}, time: new Date().toISOString() };
}

/** An API handler that answers with the given results in turn (the last one repeated) and records the requests. */
function fakeApi(results: APIGatewayProxyStructuredResultV2[]): { api: ApiHandler; requests: APIGatewayProxyEventV2[] } {
  const requests: APIGatewayProxyEventV2[] = [];
  const api: ApiHandler = async (req) => {
    requests.push(req);
    return results[Math.min(requests.length - 1, results.length - 1)];
  };
  return { api, requests };
}

const OK = { statusCode: 200, body: '{}' };
const NOT_YET = { statusCode: 409, body: JSON.stringify({ error: 'conflict', message: 'the workflow is not waiting for approval' }) };

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function approvals(api: ApiHandler, options: Partial<LocalApprovalsOptions> = {}): { approvals: LocalApprovals; lines: string[] } {
  const lines: string[] = [];
  const a = new LocalApprovals({ mode: 'auto', api: () => api, ask: async () => true, console: (l) => lines.push(l), ...options });
  return { approvals: a, lines };
}

describe('LocalApprovals', () => {
  test('auto: approves as soon as approval is requested, retrying while it is being registered', async () => {
    const { api, requests } = fakeApi([NOT_YET, NOT_YET, OK]);
    const { approvals: a, lines } = approvals(api);
    a.onEvent(event(EVENT_TYPES.approvalRequested));
    await until(() => requests.length === 3);
    expect(requests[0].rawPath).toBe('/workflows/wf-1/approval');
    expect(requests[0].requestContext.http.method).toBe('POST');
    expect(JSON.parse(requests[0].body ?? '')).toEqual({ approved: true, comment: expect.stringMatching(/approved automatically/) });
    expect(lines).toEqual([]);
  });

  test('other events, and mode api, send nothing', async () => {
    const { api, requests } = fakeApi([OK]);
    approvals(api).approvals.onEvent(event(EVENT_TYPES.workflowCompleted));
    approvals(api, { mode: 'api' }).approvals.onEvent(event(EVENT_TYPES.approvalRequested));
    await new Promise((r) => setTimeout(r, 50));
    expect(requests).toHaveLength(0);
  });

  test('prompt: asks one question at a time, and sends the answer', async () => {
    const { api, requests } = fakeApi([OK]);
    const questions: string[] = [];
    const { approvals: a } = approvals(api, {
      mode: 'prompt',
      ask: async (q) => {
        questions.push(q);
        return questions.length === 1; // yes to the first, no to the second
      },
    });
    a.onEvent(event(EVENT_TYPES.approvalRequested, 'wf-1'));
    a.onEvent(event(EVENT_TYPES.approvalRequested, 'wf-2'));
    await until(() => requests.length === 2);
    expect(questions).toEqual(['Approve workflow wf-1 (step approval)? [y/n] ', 'Approve workflow wf-2 (step approval)? [y/n] ']);
    expect(requests.map((r) => [r.rawPath, JSON.parse(r.body ?? '').approved])).toEqual([['/workflows/wf-1/approval', true], ['/workflows/wf-2/approval', false]]);
  });

  test('a workflow that has ended is left alone, with a warning; no retry', async () => {
    const ended = { statusCode: 409, body: JSON.stringify({ error: 'conflict', message: 'workflow wf-1 has ended (CANCELLED)' }) };
    const { api, requests } = fakeApi([ended]);
    const { approvals: a, lines } = approvals(api);
    a.onEvent(event(EVENT_TYPES.approvalRequested));
    await until(() => lines.length === 1);
    expect(lines[0]).toBe('warning: could not approve workflow wf-1: 409 workflow wf-1 has ended (CANCELLED)');
    expect(requests).toHaveLength(1);
  });

  test('gives up after its retry time, with a warning; a body that is not JSON does not break it', async () => {
    const { api, requests } = fakeApi([{ statusCode: 409, body: 'not json' }]);
    const { approvals: a, lines } = approvals(api, { retryMs: 250 });
    a.onEvent(event(EVENT_TYPES.approvalRequested));
    await until(() => lines.length === 1);
    expect(lines[0]).toBe('warning: could not approve workflow wf-1: 409 ');
    expect(requests.length).toBeGreaterThan(1);
  });

  test('after close, no question is asked and nothing is sent', async () => {
    const { api, requests } = fakeApi([OK]);
    const ask = jest.fn(async () => true);
    const { approvals: a } = approvals(api, { mode: 'prompt', ask });
    a.close();
    a.onEvent(event(EVENT_TYPES.approvalRequested));
    await new Promise((r) => setTimeout(r, 50));
    expect(ask).not.toHaveBeenCalled();
    expect(requests).toHaveLength(0);
  });
});
