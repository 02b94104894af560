/**
 * The three reference agents as real processes: each is bundled with esbuild (as the build
 * does), run with its envelope in TASK_ENVELOPE against a local callback route and a local
 * OpenAI-compatible endpoint, with artifacts in a temporary local_dir.
 */
import { spawn } from 'child_process';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { build } from 'esbuild';
import type { TaskEnvelope } from '../../kit/src';
import { OFFLINE_NOTICE } from '../../kit/src';
import { envelope, TOKEN } from '../../kit/test/fixtures';
import { callbackServer, closeAllServers, openAIAnswer, openAIServer, TestServer } from '../../kit/test/servers';

// A failed test may leave its servers open: close them, so that jest can exit.
afterAll(closeAllServers);

const AGENTS = ['researcher', 'analyst', 'writer'] as const;
type AgentName = typeof AGENTS[number];
const ROOT = path.join(__dirname, '..', '..', '..');

let outdir: string;
let localDir: string;
let llm: TestServer;

beforeAll(async () => {
  outdir = await fsp.mkdtemp(path.join(os.tmpdir(), 'agents-bundle-'));
  localDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'agents-artifacts-'));
  await Promise.all(AGENTS.map((name) => build({
    entryPoints: [path.join(ROOT, 'agents', name, 'src', 'main.ts')],
    outfile: path.join(outdir, name, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    logLevel: 'error',
  })));
  llm = await openAIServer();
}, 60_000);

afterAll(async () => {
  await llm?.close();
  await fsp.rm(outdir, { recursive: true, force: true });
  await fsp.rm(localDir, { recursive: true, force: true });
});

beforeEach(() => {
  llm.requests.length = 0;
  llm.answerWith(openAIAnswer);
});

const STEP: Record<AgentName, { step: string; artifact: string }> = {
  researcher: { step: 'research', artifact: 'research' },
  analyst: { step: 'analysis', artifact: 'analysis' },
  writer: { step: 'writing', artifact: 'report' },
};

let runs = 0;

/** A task for one agent with its inputs in place (input artifacts written to local_dir). */
async function taskFor(agent: AgentName, callback: TestServer): Promise<{ env: TaskEnvelope; marker: string }> {
  const id = `wf-${(++runs).toString(16).padStart(32, '0')}`;
  const marker = `MARKER-${agent}-${runs}`;
  let input: Record<string, unknown>;
  if (agent === 'researcher') {
    input = { topic: `Tidal energy ${marker}`, parameters: null };
  } else {
    const from = agent === 'analyst' ? { agent: 'researcher', step: 'research', name: 'research' } : { agent: 'analyst', step: 'analysis', name: 'analysis' };
    const key = `agents/${from.agent}/${id}/${from.step}/attempt-1/${from.name}.md`;
    await fsp.mkdir(path.dirname(path.join(localDir, key)), { recursive: true });
    await fsp.writeFile(path.join(localDir, key), `## Summary\n\nContent of the ${from.name} artifact: ${marker}\n`);
    input = agent === 'analyst' ? { research: key } : { analysis: key, topic: 'Tidal energy' };
  }
  const base = envelope(callback.url);
  return {
    marker,
    env: {
      ...base,
      workflow_id: id,
      step_name: STEP[agent].step,
      agent,
      input,
      artifacts: { prefix: `agents/${agent}/${id}/${STEP[agent].step}/attempt-1/`, local_dir: localDir },
    },
  };
}

interface Run { code: number | null; stderr: string; logs: Array<Record<string, unknown>> }

function runAgentProcess(agent: AgentName, env: TaskEnvelope | string, extraEnv: Record<string, string> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, TASK_ENVELOPE: typeof env === 'string' ? env : JSON.stringify(env), ...extraEnv };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(outdir, agent, 'index.js')], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({
      code,
      stderr,
      logs: stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    }));
  });
}

const openai = () => ({ AGENT_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: `${llm.url}/v1`, OPENAI_MODEL: 'test-model', OPENAI_API_KEY: 'sk-local' });

describe.each(AGENTS)('the %s agent as a process', (agent) => {
  let callback: TestServer;
  afterEach(() => callback.close());

  test('honours the envelope: reads its inputs, writes its artifact under the prefix, reports once with the token', async () => {
    callback = await callbackServer([200]);
    const { env, marker } = await taskFor(agent, callback);
    const run = await runAgentProcess(agent, env, openai());
    expect(run.code).toBe(0);

    // The inputs reached the model.
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0].headers.authorization).toBe('Bearer sk-local');
    const prompt = (JSON.parse(llm.requests[0].body) as { messages: Array<{ content: string }> }).messages[1].content;
    expect(prompt).toContain(marker);

    // One report, with the token, naming the artifact it wrote under the prefix.
    const key = `${env.artifacts.prefix}${STEP[agent].artifact}.md`;
    expect(callback.requests).toHaveLength(1);
    expect(callback.requests[0].path).toBe('/callbacks/cb-1');
    expect(callback.requests[0].headers['x-callback-token']).toBe(TOKEN);
    const report = JSON.parse(callback.requests[0].body);
    expect(report).toEqual({
      status: 'succeeded',
      artifacts: { [STEP[agent].artifact]: key },
      output: { provider: 'openai', model: 'test-model', offline: false, characters: expect.any(Number) },
      // The test model's answers carry no usage: no tokens counted, and no cost estimated.
      usage: { input_tokens: 0, output_tokens: 0, model: 'test-model' },
    });
    const text = await fsp.readFile(path.join(localDir, key), 'utf-8');
    expect(text).toContain('MODEL-ANSWER for:');
    expect(text).not.toContain(OFFLINE_NOTICE);
    expect(report.output.characters).toBe(text.length);

    // Structured logs on stderr, every line about this task, never the token.
    expect(run.logs.length).toBeGreaterThan(3);
    expect(run.logs.every((l) => l.workflow_id === env.workflow_id && l.step_name === env.step_name && l.agent === agent && typeof l.time === 'string')).toBe(true);
    expect(run.stderr).not.toContain(TOKEN);
  });

  test('offline (the default), says plainly in its artifact and its output that no model was called', async () => {
    callback = await callbackServer([200]);
    const { env, marker } = await taskFor(agent, callback);
    const run = await runAgentProcess(agent, env);
    expect(run.code).toBe(0);
    expect(llm.requests).toHaveLength(0);
    const report = JSON.parse(callback.requests[0].body);
    expect(report.output).toMatchObject({ provider: 'offline', model: 'offline-deterministic-v1', offline: true });
    const text = await fsp.readFile(path.join(localDir, report.artifacts[STEP[agent].artifact]), 'utf-8');
    expect(text).toContain(OFFLINE_NOTICE);
    expect(text).toContain(marker);
  });

  test('a refused report (409) is logged and not retried', async () => {
    callback = await callbackServer([409, 200]);
    const { env } = await taskFor(agent, callback);
    const run = await runAgentProcess(agent, env);
    expect(callback.requests).toHaveLength(1);
    expect(run.code).toBe(0);
    expect(run.logs.at(-1)).toMatchObject({ level: 'error', message: 'report refused; not retrying (a 409 is final)', status: 409 });
  });

  test('a 503 is retried, then the report is accepted', async () => {
    callback = await callbackServer([503, 200]);
    const { env } = await taskFor(agent, callback);
    const run = await runAgentProcess(agent, env);
    expect(run.code).toBe(0);
    expect(callback.requests).toHaveLength(2);
    expect(callback.requests[1].body).toBe(callback.requests[0].body);
    expect(JSON.parse(callback.requests[1].body).status).toBe('succeeded');
  });

  test('a model error (the endpoint answers 500) is reported as failed with code ModelError', async () => {
    callback = await callbackServer([200]);
    llm.answerWith(() => ({ status: 500, body: { error: { message: 'model overloaded' } } }));
    const { env } = await taskFor(agent, callback);
    const run = await runAgentProcess(agent, env, openai());
    expect(run.code).toBe(0);
    expect(callback.requests).toHaveLength(1);
    expect(JSON.parse(callback.requests[0].body)).toEqual({
      status: 'failed',
      error: { code: 'ModelError', message: `the OpenAI-compatible endpoint ${llm.url}/v1/chat/completions answered 500: model overloaded` },
    });
    await expect(fsp.stat(path.join(localDir, env.artifacts.prefix))).rejects.toThrow(/ENOENT/);
  });
});

describe('the reference workflow offline, researcher to writer', () => {
  test('each agent reads what the one before wrote, and the report has a title, a summary, sections and the offline notice', async () => {
    const callback = await callbackServer([200]);
    const id = 'wf-feedfacefeedfacefeedfacefeedface';
    const topic = 'Small modular reactors';
    const keys: Record<string, string> = {};
    const inputs: Record<AgentName, () => Record<string, unknown>> = {
      researcher: () => ({ topic, parameters: { depth: 'brief', region: 'Europe' } }),
      analyst: () => ({ research: keys.research }),
      writer: () => ({ analysis: keys.analysis, topic }),
    };
    for (const agent of AGENTS) {
      const base = envelope(callback.url);
      const env: TaskEnvelope = {
        ...base,
        workflow_id: id,
        step_name: STEP[agent].step,
        agent,
        input: inputs[agent](),
        artifacts: { prefix: `agents/${agent}/${id}/${STEP[agent].step}/attempt-1/`, local_dir: localDir },
      };
      expect((await runAgentProcess(agent, env)).code).toBe(0);
      const report = JSON.parse(callback.requests.at(-1)!.body);
      expect(report.status).toBe('succeeded');
      Object.assign(keys, report.artifacts);
    }
    const report = await fsp.readFile(path.join(localDir, keys.report), 'utf-8');
    expect(report.startsWith(`# ${topic}\n`)).toBe(true);
    const sections = [...report.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(['Summary', 'Background', 'Findings', 'Recommendations', 'Conclusion']);
    expect(report).toContain(OFFLINE_NOTICE);
    expect(report).toContain('region: Europe'); // the researcher's input made it through analysis into the report
    await callback.close();
  });
});

describe('bundled entry points', () => {
  test('an invalid envelope without a callback exits 1, naming the fields', async () => {
    const run = await runAgentProcess('writer', JSON.stringify({ envelope_version: 1 }));
    expect(run.code).toBe(1);
    expect(run.logs[0]).toMatchObject({ level: 'error', message: 'cannot run the task', code: 'InvalidEnvelope' });
    expect(String(run.logs[0].error)).toContain("field 'workflow_id': expected a non-empty string, it is missing");
  });

  test('a report that cannot be delivered before the deadline exits 1', async () => {
    const callback = await callbackServer([503]);
    const { env } = await taskFor('analyst', callback);
    const run = await runAgentProcess('analyst', { ...env, deadline: new Date(Date.now() + 2000).toISOString() });
    expect(run.code).toBe(1);
    expect(callback.requests.length).toBeGreaterThanOrEqual(1);
    await callback.close();
  });

  test('the bundle exports a Lambda handler that takes the envelope as its event', async () => {
    const callback = await callbackServer([200]);
    const { env } = await taskFor('researcher', callback);
    let handler: (event: unknown) => Promise<unknown>;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = require(path.join(outdir, 'researcher', 'index.js')).handler;
    });
    const saved = process.env.AGENT_MODEL_PROVIDER;
    delete process.env.AGENT_MODEL_PROVIDER;
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(handler!(env)).resolves.toEqual({ status: 'succeeded', report: 'accepted', report_status: 200 });
    } finally {
      write.mockRestore();
      if (saved !== undefined) process.env.AGENT_MODEL_PROVIDER = saved;
    }
    expect(callback.requests).toHaveLength(1);
    await callback.close();
  });
});
