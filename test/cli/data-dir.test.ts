import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './helpers';
import { LOCK_FILE, lockDataDir, markOrphans } from '../../src/cli/data-dir';
import { CliError } from '../../src/cli/errors';
import { LocalWorkflowStore } from '../../src/runtime/adapters/local';
import type { WorkflowRecord } from '../../src/runtime/ports';

describe('lockDataDir', () => {
  test('creates the folder and a lock with this pid; unlocking removes it, and the folder can be locked again', () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    const unlock = lockDataDir(dir);
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe(String(process.pid));
    unlock();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    lockDataDir(dir)();
  });

  test('a folder locked by a live process is refused, naming it and the fix', () => {
    const dir = tempDir();
    const unlock = lockDataDir(dir);
    try {
      expect(() => lockDataDir(dir)).toThrow(CliError);
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`used by another local server \\(pid ${process.pid}, this process\\).*--data-dir`));
    } finally {
      unlock();
    }
  });

  test('a lock left by a process that is gone is taken over', () => {
    const dir = tempDir();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(path.join(dir, LOCK_FILE), gone.stdout);
    const lines: string[] = [];
    const unlock = lockDataDir(dir, (l) => lines.push(l));
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe(String(process.pid));
    expect(lines).toEqual([`note: data folder ${dir} was locked by a local server that is gone (pid ${gone.stdout}); taking it over`]);
    unlock();
  });

  test('unlocking leaves a lock another process took over', () => {
    const dir = tempDir();
    const unlock = lockDataDir(dir);
    fs.writeFileSync(path.join(dir, LOCK_FILE), '1');
    unlock();
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe('1');
  });
});

function record(workflowId: string, status: WorkflowRecord['status']): WorkflowRecord {
  const now = new Date().toISOString();
  return { workflowId, definitionName: 'd', status, awaiting: status === 'RUNNING' ? 'approval' : null, input: {}, createdAt: now, updatedAt: now, steps: [] };
}

describe('markOrphans', () => {
  test('marks PENDING and RUNNING workflows FAILED, completes their callbacks, and says how many', async () => {
    const store = new LocalWorkflowStore();
    await store.createWorkflow(record('wf-pending', 'PENDING'));
    await store.createWorkflow(record('wf-running', 'RUNNING'));
    await store.createWorkflow(record('wf-done', 'SUCCEEDED'));
    const now = new Date().toISOString();
    await store.putCallback({
      callbackId: 'cb-1', durableCallbackId: 'd-1', workflowId: 'wf-running', stepName: 'approval', kind: 'approval', state: 'PENDING', createdAt: now, deadline: now,
    });
    const lines: string[] = [];

    const orphans = await markOrphans(store, (l) => lines.push(l));

    expect(orphans.sort()).toEqual(['wf-pending', 'wf-running']);
    for (const id of orphans) {
      expect(await store.getWorkflow(id)).toMatchObject({ status: 'FAILED', awaiting: null, error: { code: 'LOCAL_SERVER_STOPPED' } });
    }
    expect((await store.getWorkflow('wf-done'))?.status).toBe('SUCCEEDED');
    expect(await store.getCallback('cb-1')).toMatchObject({ state: 'COMPLETED', outcome: 'FAILED' });
    expect(lines).toEqual(['note: 2 workflows left unfinished by an earlier server were marked FAILED (no durable execution of them in this folder to continue)']);
  });

  test('leaves the workflows whose execution continues, and leaves no step of an ended workflow running or waiting', async () => {
    const store = new LocalWorkflowStore();
    await store.createWorkflow(record('wf-continues', 'RUNNING'));
    await store.createWorkflow(record('wf-lost', 'RUNNING'));
    const now = new Date().toISOString();
    await store.putStep('wf-lost', { name: 'writing', type: 'agent', status: 'SUCCEEDED', startedAt: now, endedAt: now });
    await store.putStep('wf-lost', { name: 'approval', type: 'approval', status: 'WAITING', startedAt: now });
    const lines: string[] = [];

    expect(await markOrphans(store, (l) => lines.push(l), new Set(['wf-continues']))).toEqual(['wf-lost']);

    expect((await store.getWorkflow('wf-continues'))?.status).toBe('RUNNING');
    expect((await store.getWorkflow('wf-lost'))?.steps.map((s) => [s.name, s.status, s.error?.code])).toEqual([
      ['writing', 'SUCCEEDED', undefined], ['approval', 'FAILED', 'LOCAL_SERVER_STOPPED'],
    ]);
    expect(lines).toEqual(['note: 1 workflow left unfinished by an earlier server was marked FAILED (no durable execution of it in this folder to continue)']);
  });

  test('says nothing when there are none', async () => {
    const lines: string[] = [];
    expect(await markOrphans(new LocalWorkflowStore(), (l) => lines.push(l))).toEqual([]);
    expect(lines).toEqual([]);
  });
});
