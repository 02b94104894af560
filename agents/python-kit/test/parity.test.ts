/**
 * The Python reference agents (agents/python-kit/examples) against the TypeScript ones
 * (agents/researcher|analyst|writer, run in-process with the Node kit's runAgent): the same
 * envelopes give byte-identical artifacts and the same reports with the offline provider, and
 * the same model requests with an OpenAI-compatible endpoint.
 */
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pythonAgent, runPython } from './helpers';
import { testIfInstalled } from '../../../test/helpers/tools';
import { analyst } from '../../analyst/src/main';
import { AgentSpec, createLogger, runAgent, TaskEnvelope } from '../../kit/src';
import { closeAllServers, openAIServer, TestServer } from '../../kit/test/servers';
import { researcher } from '../../researcher/src/main';
import { writer } from '../../writer/src/main';

afterAll(closeAllServers);

const WORKFLOW = 'wf-0123456789abcdef0123456789abcdef';
const SPECS: Record<string, { spec: AgentSpec; step: string; artifact: string }> = {
  researcher: { spec: researcher, step: 'research', artifact: 'research' },
  analyst: { spec: analyst, step: 'analysis', artifact: 'analysis' },
  writer: { spec: writer, step: 'writing', artifact: 'report' },
};

interface Side {
  readonly dir: string;
  readonly callback: TestServer;
}

function envelopeFor(side: Side, agent: string, input: Record<string, unknown>): TaskEnvelope {
  const { step } = SPECS[agent];
  return {
    envelope_version: 1,
    workflow_id: WORKFLOW,
    step_name: step,
    attempt: 1,
    agent,
    input,
    artifacts: { prefix: `agents/${agent}/${WORKFLOW}/${step}/attempt-1/`, local_dir: side.dir },
    callback: { id: `cb-${agent}`, url: `${side.callback.url}/callbacks/cb-${agent}`, token: 'tok', heartbeat_url: `${side.callback.url}/hb` },
    deadline: new Date(Date.now() + 60_000).toISOString(),
  };
}

async function newSide(): Promise<Side> {
  return { dir: await fsp.mkdtemp(path.join(os.tmpdir(), 'pykit-parity-')), callback: await TestServer.start(() => ({ status: 200 })) };
}

/** Runs one agent in both languages; returns both reports and both artifacts. */
async function both(node: Side, py: Side, agent: string, input: Record<string, unknown>, env: Record<string, string>) {
  const quiet = createLogger({}, { write: () => undefined });
  await runAgent(SPECS[agent].spec, envelopeFor(node, agent, input), { env, logger: quiet });
  const run = await runPython(pythonAgent(agent), { ...env, TASK_ENVELOPE: JSON.stringify(envelopeFor(py, agent, input)) });
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
  const reports = [node, py].map((s) => JSON.parse(s.callback.requests[s.callback.requests.length - 1].body));
  const read = async (s: Side, report: any) => report.artifacts ? fsp.readFile(path.join(s.dir, report.artifacts[SPECS[agent].artifact]), 'utf-8') : undefined;
  return { node: { report: reports[0], text: await read(node, reports[0]) }, python: { report: reports[1], text: await read(py, reports[1]) } };
}

const INPUTS: Array<Record<string, unknown>> = [
  { topic: 'Durable execution for AI agents', parameters: { depth: 'brief' } },
  { topic: '  Small modular reactors 🚀 — costs, "risks" & *timelines*  ', parameters: { depth: 'comprehensive', focus: 'Europe', years: 10, ratio: 1.5, regions: ['EU', 'UK'], nested: { a: null } } },
  { topic: `${'A very long topic line that goes on. '.repeat(8)}end`, parameters: null },
  { topic: 'Plain topic' },
  // Enough lines to fill each section past its cap, a line past 200 characters, markdown markers, repeats.
  {
    topic: 'Many parameters',
    parameters: Object.fromEntries([
      ...Array.from({ length: 24 }, (_, i) => [`p${i}`, i % 3 === 0 ? `- item **${i}**` : `value ${i % 5}`]),
      ['long', 'x'.repeat(230)],
      ['label', 'Sources:'],
    ]),
  },
];

testIfInstalled('python3', 'offline: the Python reference agents write the same artifacts and reports as the TypeScript ones', async () => {
  const env = { AGENT_MODEL_PROVIDER: 'offline' };
  for (const input of INPUTS) {
    const node = await newSide();
    const py = await newSide();
    const research = await both(node, py, 'researcher', input, env);
    expect(research.python).toEqual(research.node);
    expect(research.node.report.status).toBe('succeeded');
    const analysis = await both(node, py, 'analyst', { research: research.node.report.artifacts.research }, env);
    expect(analysis.python).toEqual(analysis.node);
    const report = await both(node, py, 'writer', { analysis: analysis.node.report.artifacts.analysis, topic: input.topic }, env);
    expect(report.python).toEqual(report.node);
    expect(report.node.text).toContain('Generated offline by the deterministic provider; no model was called.');
  }
  // A bad input fails alike.
  const node = await newSide();
  const py = await newSide();
  const bad = await both(node, py, 'researcher', { topic: 'x', parameters: 'deep' }, env);
  expect(bad.python).toEqual(bad.node);
  expect(bad.node.report.error.code).toBe('InputError');
}, 150_000);

testIfInstalled('python3', 'with an OpenAI-compatible endpoint: the same requests (system prompt, prompt, max tokens) and artifacts', async () => {
  const llm = await openAIServer();
  const env = { AGENT_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: `${llm.url}/v1`, OPENAI_MODEL: 'test-model' };
  const node = await newSide();
  const py = await newSide();
  const research = await both(node, py, 'researcher', INPUTS[1], env);
  const analysis = await both(node, py, 'analyst', { research: research.node.report.artifacts.research }, env);
  const report = await both(node, py, 'writer', { analysis: analysis.node.report.artifacts.analysis, topic: INPUTS[1].topic }, env);
  for (const step of [research, analysis, report]) expect(step.python).toEqual(step.node);
  expect(report.node.report.output).toEqual({ provider: 'openai', model: 'test-model', offline: false, characters: report.node.text!.length });
  const bodies = llm.requests.map((r) => JSON.parse(r.body));
  expect(bodies).toHaveLength(6);
  for (let i = 0; i < 6; i += 2) expect(bodies[i + 1]).toEqual(bodies[i]);
  expect(bodies.map((b) => b.max_tokens)).toEqual([8192, 8192, 4096, 4096, 8192, 8192]);
}, 150_000);
