import * as fs from 'fs';
import { decide, startWorkflow, tempDir, waitForApproval, waitForEnd } from './helpers';
import { REFERENCE_AGENTS, referenceAgentEntry, referenceWorkerEntry } from '../../src/cli/paths';
import { LocalServer, startLocalServer } from '../../src/cli/server';
import { builtFile, describeIfInstalled } from '../helpers/tools';

jest.setTimeout(60_000);

/**
 * The reference agents run from their bundles (assets/agents/<name>/src/main/index.js), which
 * `npx projen bundle` builds (the test task runs it first): missing ones fail the suite under
 * CI=true and skip it elsewhere.
 */
const bundles = [...REFERENCE_AGENTS.map((name) => referenceAgentEntry(name)), referenceWorkerEntry()]
  .map((file) => builtFile(file, '`npx projen bundle`, which the test and build tasks run before jest'));

describeIfInstalled(bundles, 'dev with its defaults: the reference workflow and the bundled reference agents (offline model)', () => {
  let server: LocalServer;
  const lines: string[] = [];
  beforeAll(async () => {
    server = await startLocalServer({ port: 0, dataDir: tempDir(), log: (l) => lines.push(l) });
  });
  afterAll(() => server?.close());

  test('runs the reference agents with the offline provider', () => {
    for (const name of REFERENCE_AGENTS) {
      expect(server.agents[name]).toEqual({
        // One program serves all three, as one worker.
        command: [process.execPath, referenceWorkerEntry()],
        env: { AGENT_MODEL_PROVIDER: 'offline' },
        source: 'reference',
        worker: true,
      });
    }
  });

  test('start -> approval -> approve -> SUCCEEDED; the published report says it was written offline', async () => {
    const id = await startWorkflow(server.url, { topic: 'Durable execution for AI agents', parameters: { depth: 'brief' } });
    const waiting = await waitForApproval(server.url, id, 30_000);
    expect(waiting.awaiting).toBe('approval');
    expect((await decide(server.url, id, true)).status).toBe(200);
    const done = await waitForEnd(server.url, id, 30_000);
    expect(done.status).toBe('SUCCEEDED');
    const report = fs.readFileSync(done.result.location, 'utf8');
    expect(report).toMatch(/offline/i);
    expect(report).toContain('Durable execution for AI agents');
  });

  test('rejection -> REJECTED', async () => {
    const id = await startWorkflow(server.url, { topic: 'Rejected topic' });
    await waitForApproval(server.url, id, 30_000);
    expect((await decide(server.url, id, false, 'not this one')).status).toBe(200);
    expect((await waitForEnd(server.url, id, 30_000)).status).toBe('REJECTED');
  });
});

