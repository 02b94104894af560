import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { decide, startWorkflow, tempDir, TEST_AGENT, waitForApproval, waitForEnd } from './helpers';
import { readAssembly, selectWorkflow } from '../../src/cli/assembly';
import { run } from '../../src/cli/main';
import type { LocalServer } from '../../src/cli/server';
import { LOCAL_METADATA_KEY } from '../../src/contract/table';
import { AgentDispatch, AgentTarget, DurableOrchestrator, IDispatchableAgent } from '../../src/durable-orchestrator';
import { researchWorkflow, testAgentFunction } from '../durable-orchestrator/fixtures';

jest.setTimeout(60_000);

/** A Lambda agent that also says how to run it locally (as ContainerAgent will). */
class AgentWithLocalCommand implements IDispatchableAgent {
  constructor(public readonly agentName: string, private readonly fn: lambda.IFunction, private readonly localCommand: string[]) {}
  bindDispatch(scope: Construct, dispatcher: iam.IGrantable): AgentDispatch {
    AgentTarget.lambdaFunction(this.agentName, this.fn).bindDispatch(scope, dispatcher); // the invoke grant
    return AgentDispatch.lambdaFunction({ functionArn: this.fn.functionArn, runtimePrincipal: this.fn, localCommand: this.localCommand });
  }
}

/** Synthesizes an app with one DurableOrchestrator: the researcher declares a local command, the others do not. */
function synthesize(): string {
  const outdir = tempDir('cdkda-app-');
  // As the cdk CLI does: resources carry their construct path.
  const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': true } });
  const stack = new Stack(app, 'Research');
  const agents = new Construct(stack, 'Agents');
  new DurableOrchestrator(stack, 'Orchestrator', {
    workflow: researchWorkflow(),
    agents: [
      new AgentWithLocalCommand('researcher', testAgentFunction(agents, 'Researcher'), ['node', TEST_AGENT]),
      AgentTarget.lambdaFunction('analyst', testAgentFunction(agents, 'Analyst')),
      AgentTarget.lambdaFunction('writer', testAgentFunction(agents, 'Writer')),
    ],
  });
  app.synth();
  return outdir;
}

interface Captured {
  readonly out: string[];
  readonly err: string[];
  server?: LocalServer;
}

/** Runs `dev` until `body` is done with the server it serves. */
async function dev(args: string[], body?: (server: LocalServer) => Promise<void>): Promise<{ code: number } & Captured> {
  const captured: Captured = { out: [], err: [] };
  let stop!: () => void;
  const stopped = new Promise<void>((r) => {
    stop = r;
  });
  let failure: unknown;
  const code = await run(['dev', ...args], {
    out: (l) => captured.out.push(l),
    err: (l) => captured.err.push(l),
    stopSignal: () => stopped,
    onServing: (server) => {
      captured.server = server;
      void (body ? body(server) : Promise.resolve()).catch((e) => {
        failure = e;
      }).finally(stop);
    },
  });
  if (failure) throw failure;
  return { code, ...captured };
}

describe('dev --app <cloud assembly>', () => {
  let assembly: string;
  beforeAll(() => {
    assembly = synthesize();
  });

  test('readAssembly finds the orchestrator, its definition and its agents', () => {
    const [wf, ...others] = readAssembly(assembly);
    expect(others).toHaveLength(0);
    expect(wf.name).toBe('research-report');
    expect(wf.template).toBe('Research.template.json');
    expect(wf.constructPath).toMatch(/^Research\/Orchestrator\//);
    expect(wf.definition.steps.map((s) => s.name)).toEqual(['research', 'analysis', 'writing', 'approval', 'publish']);
    expect(wf.agents).toEqual({
      researcher: { kind: 'lambda', localCommand: ['node', TEST_AGENT] },
      analyst: { kind: 'lambda' },
      writer: { kind: 'lambda' },
    });
  });

  test('serves the app\'s workflow: the declared command for one agent, --agent for the others', async () => {
    const dataDir = tempDir();
    const result = await dev(['--app', assembly, '--port', '0', '--data-dir', dataDir,
      '--agent', `analyst=node ${TEST_AGENT}`, '--agent', `writer="node" '${TEST_AGENT}'`], async (server) => {
      const id = await startWorkflow(server.url);
      await waitForApproval(server.url, id);
      expect((await decide(server.url, id, true)).status).toBe(200);
      const done = await waitForEnd(server.url, id);
      expect(done.status).toBe('SUCCEEDED');
      expect(fs.readFileSync(done.result.location, 'utf8')).toMatch(/offline/);
    });
    expect(result.err).toEqual([]);
    expect(result.code).toBe(0);
    const out = result.out.join('\n');
    expect(out).toContain(`workflow 'research-report' from ${path.join(assembly, 'Research.template.json')}`);
    expect(out).toMatch(/researcher: node \S+agent\.js \(from the app\)/);
    expect(out).toMatch(/writer: node \S+agent\.js\n/);
    expect(out).toContain(`serving  ${result.server!.url}  (127.0.0.1 only; no credentials)`);
    expect(out).toContain('stopping the local server');
  });

  test('an agent the app gives no local command for, and no --agent: a clear error', async () => {
    const result = await dev(['--app', assembly, '--port', '0', '--data-dir', tempDir(), '--agent', `analyst=node ${TEST_AGENT}`]);
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(/^error: no local command for agent 'writer' \(runs as lambda in the cloud\) of workflow 'research-report'.*--agent writer=/);
  });

  test('--workflow chooses among several orchestrators; an unknown one is a clear error', async () => {
    const dir = tempDir('cdkda-app-');
    const template = JSON.parse(fs.readFileSync(path.join(assembly, 'Research.template.json'), 'utf8'));
    // The definition inline, as apps synthesized before the configuration layer carry it (still read).
    for (const resource of Object.values<any>(template.Resources)) {
      const meta = resource.Metadata?.[LOCAL_METADATA_KEY];
      if (!meta) continue;
      meta.workflow = JSON.parse(fs.readFileSync(path.join(assembly, meta.configFile), 'utf8')).definition;
      delete meta.configFile;
      delete meta.configSha256;
    }
    fs.writeFileSync(path.join(dir, 'A.template.json'), JSON.stringify(template));
    for (const resource of Object.values<any>(template.Resources)) {
      if (resource.Metadata?.[LOCAL_METADATA_KEY]) resource.Metadata[LOCAL_METADATA_KEY].workflow.name = 'second-report';
    }
    fs.mkdirSync(path.join(dir, 'assembly-Stage'));
    fs.writeFileSync(path.join(dir, 'assembly-Stage', 'B.template.json'), JSON.stringify(template));
    const all = readAssembly(dir);
    expect(all.map((w) => w.name)).toEqual(['research-report', 'second-report']);
    expect(selectWorkflow(all).name).toBe('research-report');
    expect(selectWorkflow(all, 'second-report').template).toBe(path.join('assembly-Stage', 'B.template.json'));
    expect(() => selectWorkflow(all, 'third')).toThrow(/unknown workflow 'third' \(--workflow\): the app has 'research-report' \(A.template.json/);
    const result = await dev(['--app', dir, '--workflow', 'third', '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.err[0]).toMatch(/^error: unknown workflow 'third'/);
  });
});

describe('dev --app with a malformed assembly', () => {
  function assemblyWith(files: Record<string, unknown>): string {
    const dir = tempDir('cdkda-bad-');
    for (const [name, content] of Object.entries(files)) {
      fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    }
    return dir;
  }
  const controller = (meta: unknown) => ({ Resources: { Controller: { Type: 'AWS::Lambda::Function', Metadata: { [LOCAL_METADATA_KEY]: meta } } } });
  const validWorkflow = {
    schemaVersion: 1,
    name: 'tiny',
    steps: [{ type: 'agent', name: 'work', agent: 'worker', input: {}, timeoutSeconds: 30, retry: { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 } }],
  };

  test.each([
    ['a folder that does not exist', () => '/nonexistent/cdk.out', /--app \/nonexistent\/cdk.out: no such folder.*cdk synth/],
    ['no templates', () => assemblyWith({ 'manifest.json': {} }), /no \*\.template\.json in .*cdk synth/],
    ['a template that is not JSON', () => assemblyWith({ 'S.template.json': '{"Resources": ' }), /S\.template\.json is not valid JSON/],
    ['no orchestrator', () => assemblyWith({ 'S.template.json': { Resources: { Bucket: { Type: 'AWS::S3::Bucket' } } } }),
      /no DurableOrchestrator in 1 template \(S\.template\.json\): no resource carries metadata 'cdk-durable-agents'/],
    ['metadata without a workflow', () => assemblyWith({ 'S.template.json': controller({ agents: {} }) }),
      /S\.template\.json: resource Controller: metadata 'cdk-durable-agents' names no configuration file \('configFile'\) and holds no 'workflow' definition document/],
    ['a configuration file that is not in the assembly', () => assemblyWith({ 'S.template.json': controller({ configFile: 'asset.gone/cdk-durable-agents/workflow-config.json', agents: {} }) }),
      /resource Controller: cannot read its workflow configuration .*asset\.gone.*synthesize the app again, with asset staging on/],
    ['a configuration file of another synth', () => assemblyWith({
      'S.template.json': controller({ configFile: 'config.json', configSha256: 'ab'.repeat(32), agents: { worker: { kind: 'lambda' } } }),
      'config.json': { configVersion: 1, definition: validWorkflow, agentNames: ['worker'] },
    }), /config\.json has SHA-256 [0-9a-f]{64}, but the template says abab.*mixes two synths/],
    ['an invalid definition', () => assemblyWith({ 'S.template.json': controller({ workflow: { ...validWorkflow, steps: [{ ...validWorkflow.steps[0], timeoutSeconds: 0 }] }, agents: { worker: { kind: 'lambda' } } }) }),
      /resource Controller: the workflow definition is not valid:\n {2}- .*'work'/],
    ['a definition naming an agent the app lacks', () => assemblyWith({ 'S.template.json': controller({ workflow: validWorkflow, agents: {} }) }),
      /the workflow definition is not valid:\n {2}- .*worker/],
    ['a localCommand that is not a list of strings', () => assemblyWith({ 'S.template.json': controller({ workflow: validWorkflow, agents: { worker: { kind: 'lambda', localCommand: 'node agent.js' } } }) }),
      /agent 'worker': localCommand must be a non-empty list of strings/],
  ])('%s', async (_name, make, message) => {
    const dir = make();
    expect(() => readAssembly(dir)).toThrow(message);
    const result = await dev(['--app', dir, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(/^error: /);
    expect(result.server).toBeUndefined();
  });
});
