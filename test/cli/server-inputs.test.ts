import * as fs from 'fs';
import * as path from 'path';
import { decide, http, startWorkflow, tempDir, waitFor, waitForApproval, waitForEnd } from './helpers';
import { REFERENCE_AGENTS, referenceAgentEntry } from '../../src/cli/paths';
import { LocalServer, startLocalServer } from '../../src/cli/server';
import { builtFile, describeIfInstalled } from '../helpers/tools';

jest.setTimeout(60_000);

/** Every file under `dir` with its size (what the server has written), `runtime.log` aside. */
function writtenFiles(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name !== 'runtime.log') out[path.relative(dir, p)] = fs.statSync(p).size;
    }
  };
  walk(dir);
  return out;
}

/** The bad inputs of issue 16 and the field each 400 must name. */
const BAD: Array<[string, unknown, string, RegExp]> = [
  ['{"topic":123}', { topic: 123 }, 'input.topic', /^input.topic: expected a string, got number$/],
  ['a boolean topic', { topic: false }, 'input.topic', /^input.topic: expected a string, got boolean$/],
  ['an array topic', { topic: ['a', 'b'] }, 'input.topic', /^input.topic: expected a string, got array$/],
  ['an object topic', { topic: { about: 'x' } }, 'input.topic', /^input.topic: expected a string, got object$/],
  ['"parameters": "nope"', { topic: 'x', parameters: 'nope' }, 'input.parameters', /^input.parameters: expected an object, got string$/],
  ['an unknown depth', { topic: 'x', parameters: { depth: 'quick' } }, 'input.parameters.depth',
    /^input.parameters.depth: expected one of "brief", "standard", "comprehensive", got "quick"$/],
  ['a missing topic', { parameters: { depth: 'brief' } }, 'input.topic', /^input.topic is required: give a string$/],
  ['an over-long topic', { topic: 'x'.repeat(1001) }, 'input.topic', /^input.topic: expected at most 1000 characters, got 1001$/],
  ['an undeclared field', { topic: 'x', depth: 'brief' }, 'input.depth', /^input.depth is not a declared field of input/],
];

/**
 * The local server with its defaults (the reference workflow, its declared input, and the bundled
 * reference agents with the offline model), over HTTP: it refuses what the deployed API refuses.
 */
const bundles = REFERENCE_AGENTS.map((name) => builtFile(referenceAgentEntry(name), '`npx projen bundle`, which the test and build tasks run before jest'));

describeIfInstalled(bundles, 'local server: declared inputs of the reference workflow over HTTP', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer({ port: 0, dataDir: tempDir(), log: () => {} });
  });
  afterAll(() => server?.close());

  test('each bad input is a 400 naming the field, and nothing is written, logged as an event or started', async () => {
    const before = writtenFiles(server.dataDir);
    for (const [what, input, field, message] of BAD) {
      const res = await http(server.url, 'POST', '/workflows', input);
      expect({ what, status: res.status, error: res.body.error }).toEqual({ what, status: 400, error: 'bad_request' });
      expect(res.body.fields).toEqual([{ path: field, code: expect.any(String), message: expect.stringMatching(message) }]);
      expect(res.body.message).toBe(res.body.fields[0].message);
    }
    expect((await http(server.url, 'GET', '/workflows')).body.workflows).toEqual([]);
    // No workflow file, artifact, event line or agent log appeared.
    expect(writtenFiles(server.dataDir)).toEqual(before);
  });

  test('a valid input still runs to the end with the reference agents, its extra parameters accepted', async () => {
    const id = await startWorkflow(server.url, { topic: 'Durable execution for AI agents', parameters: { depth: 'comprehensive', focus: 'costs' } });
    const started = await waitFor(server.url, id, (wf) => wf.steps.some((s: { name: string; status: string }) => s.name === 'research' && s.status === 'SUCCEEDED')
      || wf.status === 'FAILED', 30_000);
    expect(started.status).not.toBe('FAILED');
    expect((await waitForApproval(server.url, id, 30_000)).awaiting).toBe('approval');
    expect((await decide(server.url, id, true)).status).toBe(200);
    expect((await waitForEnd(server.url, id, 30_000)).status).toBe('SUCCEEDED');
  });
});
