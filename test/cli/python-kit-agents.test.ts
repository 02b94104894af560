/**
 * The local server (`cdk-durable-agents dev`) running the reference workflow whose three agents
 * are the Python agent kit's reference agents (agents/python-kit/examples), given as the
 * `localCommand` a synthesized app declares for its agents: `python3 -B <file>`. Without python3
 * the suite fails under CI=true and is skipped elsewhere, saying why.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decide, shortApprovalDefinition, startWorkflow, tempDir, waitForApproval, waitForEnd } from './helpers';
import { LocalServer, startLocalServer } from '../../src/cli/server';
import { describeIfInstalled, findOnPath } from '../helpers/tools';

jest.setTimeout(60_000);

const EXAMPLES = path.join(__dirname, '..', '..', 'agents', 'python-kit', 'examples');
const AGENTS = ['researcher', 'analyst', 'writer'];
const OFFLINE_NOTICE = 'Generated offline by the deterministic provider; no model was called.';

describeIfInstalled('python3', 'dev: the reference workflow with the Python kit agents (offline model)', () => {
  let server: LocalServer;
  const lines: string[] = [];
  const command = (name: string) => [findOnPath('python3')!, '-B', path.join(EXAMPLES, `${name}.py`)];

  beforeAll(async () => {
    server = await startLocalServer({
      port: 0,
      dataDir: tempDir('cdkda-pykit-'),
      declaredAgents: Object.fromEntries(AGENTS.map((name) => [name, { kind: 'lambda', localCommand: command(name) }])),
      log: (l) => lines.push(l),
    });
  });
  afterAll(() => server?.close());

  test('runs each agent with the command the app declares', () => {
    for (const name of AGENTS) expect(server.agents[name]).toEqual({ command: command(name), source: 'app' });
  });

  test('start -> approval -> approve -> SUCCEEDED; the published report is the Python writer\'s, written offline', async () => {
    const topic = 'Durable execution for AI agents';
    const id = await startWorkflow(server.url, { topic, parameters: { depth: 'brief' } });
    const waiting = await waitForApproval(server.url, id, 40_000);
    expect(waiting.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['research', 'SUCCEEDED'], ['analysis', 'SUCCEEDED'], ['writing', 'SUCCEEDED'], ['approval', 'WAITING'],
    ]);
    expect((await decide(server.url, id, true, 'ship it')).status).toBe(200);
    const done = await waitForEnd(server.url, id, 40_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.result.location).toBe(path.join(server.artifactsDir, 'published', id, 'report.md'));

    const report = fs.readFileSync(done.result.location, 'utf8');
    expect(report.startsWith(`# ${topic}\n\n*Written by the writer agent with offline (offline-deterministic-v1) for workflow ${id}.*\n`)).toBe(true);
    for (const section of ['## Summary', '## Background', '## Findings', '## Recommendations', '## Conclusion']) expect(report).toContain(section);
    expect(report.endsWith(`*${OFFLINE_NOTICE} This report is an outline of its inputs, not model-written analysis.*\n`)).toBe(true);

    // Each agent wrote its artifact where the envelope said: below the server's artifacts folder.
    const research = path.join(server.artifactsDir, 'agents', 'researcher', id, 'research', 'attempt-1', 'research.md');
    expect(fs.readFileSync(research, 'utf8')).toContain('- Depth: brief. Keep it short: the five most important findings.');
    const analysis = path.join(server.artifactsDir, 'agents', 'analyst', id, 'analysis', 'attempt-1', 'analysis.md');
    expect(fs.readFileSync(analysis, 'utf8')).toContain('## Strength of the evidence');
  });
});

describeIfInstalled('python3', 'dev: a Python kit agent that fails reports why', () => {
  let server: LocalServer;
  beforeAll(async () => {
    // One writing step without retries whose input lacks the analysis the writer needs.
    server = await startLocalServer({
      port: 0,
      dataDir: tempDir('cdkda-pykit-'),
      definition: shortApprovalDefinition(60),
      agentCommands: { writer: [findOnPath('python3')!, '-B', path.join(EXAMPLES, 'writer.py')] },
      log: () => undefined,
    });
  });
  afterAll(() => server?.close());

  test('the workflow fails with the message of the InputError the Python writer reported', async () => {
    const id = await startWorkflow(server.url, { topic: 'No analysis given' });
    const done = await waitForEnd(server.url, id, 40_000);
    expect(done.status).toBe('FAILED');
    expect(done.error).toEqual({
      code: 'AGENT_FAILED',
      message: "step 'writing' (agent 'writer') failed after 1 attempt(s): input 'analysis': expected the key of the analyst's 'analysis' artifact, it is missing",
    });
  });
});
