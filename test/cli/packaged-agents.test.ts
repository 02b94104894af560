/**
 * The reference agents as the package ships them: `AgentImage.fromReferenceAgent*` builds the
 * image from the shipped build context (a Dockerfile and the bundle, nothing else), the agent's
 * local command is `cdk-durable-agents agent <name>`, and `dev --app` runs that command as the
 * package's own bundle: the same agent locally and in the image.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { decide, startWorkflow, tempDir, waitForApproval, waitForEnd } from './helpers';
import { packagedAgent, resolveAgents } from '../../src/cli/agents';
import { readAssembly } from '../../src/cli/assembly';
import { run } from '../../src/cli/main';
import { referenceAgentEntry } from '../../src/cli/paths';
import type { LocalServer } from '../../src/cli/server';
import { AgentCompute, AgentImage, ContainerAgent, ReferenceAgent } from '../../src/container-agent';
import { DurableOrchestrator } from '../../src/durable-orchestrator';
import { ReferenceWorkflows } from '../../src/workflow';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..');

/** The app a team writes from the README: three Lambda agents from the package, the reference workflow. */
function synthesize(build: 'docker' | 'codebuild'): { outdir: string; stack: Stack } {
  const outdir = tempDir('cdkda-packaged-');
  const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': true } });
  const stack = new Stack(app, 'Research');
  const agents = ReferenceAgent.all().map((reference) => new ContainerAgent(stack, reference.name, {
    agentName: reference.name,
    image: build === 'docker' ? AgentImage.fromReferenceAgent(reference) : AgentImage.fromReferenceAgentIntoNewRepository(reference),
    compute: AgentCompute.lambdaFunction(),
  }));
  new DurableOrchestrator(stack, 'Orchestrator', {
    workflow: ReferenceWorkflows.researchReport({ researcher: agents[0], analyst: agents[1], writer: agents[2] }),
    agents,
  });
  app.synth();
  return { outdir, stack };
}

describe('ReferenceAgent', () => {
  test('three agents, each with a build context of exactly a Dockerfile and the bundle', () => {
    expect(ReferenceAgent.all().map((a) => a.name)).toEqual(['researcher', 'analyst', 'writer']);
    for (const agent of ReferenceAgent.all()) {
      expect(fs.readdirSync(agent.buildContext).sort()).toEqual(['Dockerfile', 'index.js', 'index.js.LEGAL.txt', 'index.js.map']);
      expect(agent.buildContext).toBe(path.dirname(referenceAgentEntry(agent.name, ROOT)));
      expect(agent.localCommand).toEqual(['cdk-durable-agents', 'agent', agent.name]);
    }
  });

  test('the Dockerfile copies only files of the build context and runs the bundle', () => {
    const dockerfile = fs.readFileSync(path.join(ReferenceAgent.WRITER.buildContext, 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (.+) \/app\/$/gm)].flatMap((m) => m[1].split(' '));
    expect(copied.sort()).toEqual(fs.readdirSync(ReferenceAgent.WRITER.buildContext).filter((f) => f !== 'Dockerfile').sort());
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/index.js"\]$/m);
  });
});

describe('AgentImage.fromReferenceAgent', () => {
  test('stages the shipped context as the image asset, and the agents declare the packaged local command', () => {
    const { outdir, stack } = synthesize('docker');
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'Research.assets.json'), 'utf8'));
    const images = Object.values(manifest.dockerImages) as Array<{ source: { directory: string } }>;
    expect(images).toHaveLength(3);
    for (const image of images) {
      expect(fs.readdirSync(path.join(outdir, image.source.directory)).sort()).toEqual(['Dockerfile', 'index.js', 'index.js.LEGAL.txt', 'index.js.map']);
    }
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { PackageType: 'Image' } });
    expect(Object.values(functions).map((f) => f.Properties.Description).sort()).toEqual([
      'Agent analyst: the reference agent analyst (built from the package\'s bundle)',
      'Agent researcher: the reference agent researcher (built from the package\'s bundle)',
      'Agent writer: the reference agent writer (built from the package\'s bundle)',
    ]);
    const [workflow] = readAssembly(outdir);
    expect(workflow.agents).toEqual({
      researcher: { kind: 'lambda', localCommand: ['cdk-durable-agents', 'agent', 'researcher'] },
      analyst: { kind: 'lambda', localCommand: ['cdk-durable-agents', 'agent', 'analyst'] },
      writer: { kind: 'lambda', localCommand: ['cdk-durable-agents', 'agent', 'writer'] },
    });
  });

  test('into a new repository: built by CodeBuild from the same context, no Docker image asset', () => {
    const { outdir, stack } = synthesize('codebuild');
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'Research.assets.json'), 'utf8'));
    expect(Object.keys(manifest.dockerImages ?? {})).toHaveLength(0);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ECR::Repository', 3);
    template.resourceCountIs('AWS::CodeBuild::Project', 3);
    expect(Object.values(template.findResources('AWS::Lambda::Function', { Properties: { PackageType: 'Image' } }))
      .map((f) => f.Properties.Description)).toContain('Agent writer: the reference agent writer (built by AWS CodeBuild from the package\'s bundle)');
  });

  test('an explicit localCommand wins over the reference agent\'s', () => {
    const stack = new Stack(new App());
    const agent = new ContainerAgent(stack, 'R', {
      agentName: 'researcher',
      image: AgentImage.fromReferenceAgent(ReferenceAgent.RESEARCHER),
      compute: AgentCompute.lambdaFunction(),
      localCommand: ['node', 'mine.js'],
    });
    expect(agent.localCommand).toEqual(['node', 'mine.js']);
  });
});

describe('the packaged local command', () => {
  test('resolves to this package\'s bundle on this Node.js, whoever declares it', () => {
    expect(packagedAgent(['cdk-durable-agents', 'agent', 'analyst'])).toEqual({
      command: [process.execPath, referenceAgentEntry('analyst', ROOT)], source: 'reference', worker: true,
    });
    expect(packagedAgent(['node', 'agent.js'])).toBeUndefined();
    expect(packagedAgent(['cdk-durable-agents', 'agent', 'researcher', '--x'])).toBeUndefined();
    expect(() => packagedAgent(['cdk-durable-agents', 'agent', 'reviewer'])).toThrow(
      /'cdk-durable-agents agent reviewer': there is no reference agent 'reviewer'; the package has researcher, analyst, writer/);
  });

  test('`--agent` may name it too', () => {
    const [wf] = readAssembly(synthesize('docker').outdir);
    const agents = resolveAgents({ definition: wf.definition, declared: { researcher: { kind: 'lambda', localCommand: ['node', 'r.js'] }, analyst: { kind: 'lambda', localCommand: ['node', 'a.js'] } }, options: { writer: ['cdk-durable-agents', 'agent', 'writer'] }, fallback: () => undefined });
    expect(agents.writer.command).toEqual([process.execPath, referenceAgentEntry('writer', ROOT)]);
  });

  test('`cdk-durable-agents agent <name>` with no task: the agent\'s own exit code 2, its message on stderr', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'assets', 'cli', 'index.js'), 'agent', 'researcher'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/TASK_ENVELOPE/);
  });

  test('an unknown agent name is a clear error', async () => {
    const err: string[] = [];
    const code = await run(['agent', 'reviewer'], { out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/there is no reference agent 'reviewer'/);
  });
});

describe('dev --app with the packaged agents', () => {
  test('runs the reference workflow to its report with no --agent', async () => {
    const { outdir } = synthesize('docker');
    const out: string[] = [];
    const err: string[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((r) => { stop = r; });
    let failure: unknown;
    const code = await run(['dev', '--app', outdir, '--port', '0', '--data-dir', tempDir()], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      stopSignal: () => stopped,
      onServing: (server: LocalServer) => {
        void (async () => {
          const id = await startWorkflow(server.url);
          await waitForApproval(server.url, id);
          expect((await decide(server.url, id, true)).status).toBe(200);
          const done = await waitForEnd(server.url, id);
          expect(done.status).toBe('SUCCEEDED');
          expect(fs.readFileSync(done.result.location, 'utf8')).toMatch(/^# /);
        })().catch((e) => { failure = e; }).finally(stop);
      },
    });
    if (failure) throw failure;
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/researcher: node \S+assets\/agents\/researcher\/src\/main\/index\.js \(reference agent\)/);
  });
});
