/**
 * ResumableDispatcher: what it journals is dispatched again by the next server on the folder,
 * and one attempt of a step has one agent task, also when the step's dispatch ran again after a
 * restart (a new callback for the same attempt) while the journaled task was dispatched again.
 */
import { tempDir } from './helpers';
import { ResumableDispatcher } from '../../src/cli/resume';
import type { TaskEnvelope } from '../../src/contract/status';
import type { AgentDispatcher } from '../../src/runtime/ports';

function envelope(callbackId: string, attempt = 1): TaskEnvelope {
  return {
    envelope_version: 1,
    workflow_id: 'wf-0123456789abcdef0123456789abcdef',
    step_name: 'research',
    attempt,
    agent: 'researcher',
    input: { topic: 't' },
    artifacts: { prefix: 'agents/wf/research/1/', local_dir: '/tmp/x' },
    callback: { id: callbackId, url: `http://127.0.0.1:1/callbacks/${callbackId}`, token: 'tok', heartbeat_url: `http://127.0.0.1:1/callbacks/${callbackId}/heartbeat` },
    deadline: new Date(Date.now() + 60_000).toISOString(),
  };
}

class Recorder implements AgentDispatcher {
  readonly dispatched: TaskEnvelope[] = [];
  get ids(): string[] {
    return this.dispatched.map((e) => e.callback.id);
  }
  async dispatch(_agent: string, e: TaskEnvelope): Promise<{ handle: string }> {
    this.dispatched.push(e);
    return { handle: 'queued' };
  }
}

function resumable(dataDir: string, inner: AgentDispatcher, cancelled: string[]) {
  return new ResumableDispatcher(inner, {
    dataDir,
    url: 'http://127.0.0.1:2',
    log: () => undefined,
    stillWaiting: async () => true,
    cancel: (id) => cancelled.push(id),
  });
}

/** A folder whose journal holds task `cb-old` (attempt 1), dispatched by a server that then stopped. */
async function folderWithJournaledTask(): Promise<string> {
  const dir = tempDir();
  const first = resumable(dir, new Recorder(), []);
  await first.dispatch('researcher', envelope('cb-old'));
  await first.close();
  return dir;
}

describe('ResumableDispatcher', () => {
  test('a journaled task is dispatched again by the next dispatcher on the folder, pointed at its URL', async () => {
    const inner = new Recorder();
    const second = resumable(await folderWithJournaledTask(), inner, []);
    expect(await second.redispatch()).toBe(1);
    expect(inner.ids).toEqual(['cb-old']);
    expect(inner.dispatched[0].callback.url).toBe('http://127.0.0.1:2/callbacks/cb-old');
    await second.close();
  });

  test('the step dispatched its attempt again before the journal was read: the journaled task is not dispatched', async () => {
    const inner = new Recorder();
    const cancelled: string[] = [];
    const second = resumable(await folderWithJournaledTask(), inner, cancelled);
    await second.dispatch('researcher', envelope('cb-new'));
    expect(await second.redispatch()).toBe(0);
    expect(inner.ids).toEqual(['cb-new']);
    expect(cancelled).toEqual([]);
    await second.close();
  });

  test('the step dispatched its attempt again after the journaled task was: that task is cancelled, one agent works', async () => {
    const inner = new Recorder();
    const cancelled: string[] = [];
    const second = resumable(await folderWithJournaledTask(), inner, cancelled);
    expect(await second.redispatch()).toBe(1);
    await second.dispatch('researcher', envelope('cb-new'));
    expect(inner.ids).toEqual(['cb-old', 'cb-new']);
    expect(cancelled).toEqual(['cb-old']);
    // Another attempt of the step is other work: nothing is cancelled for it.
    await second.dispatch('researcher', envelope('cb-retry', 2));
    expect(cancelled).toEqual(['cb-old']);
    await second.close();
  });
});
