/**
 * How synthesis scales with the number of agents (not a test):
 *
 *   npx ts-node --project tsconfig.dev.json bench/synth-scaling.bench.ts [--runs 5] [--agents 50] [--out bench/results/synth-scaling.json]
 *
 * An app with one orchestrator and 1 agent, and the same app with N agents (default 50): Fargate
 * ContainerAgents on one shared cluster, every fifth a Lambda container agent, one agent step each.
 * Two measures, each variant `--runs` times, interleaved (1, N, 1, N, ...) so that machine load
 * weighs on both alike:
 * - `app`: what a user waits for at `cdk synth`: a fresh `node` process that loads aws-cdk-lib and
 *   the library, builds the app and writes the cloud assembly (this file bundled with esbuild, with
 *   aws-cdk-lib and constructs loaded from node_modules as an app loads them). The budget (at most
 *   2x for N agents) is judged on this one.
 * - `inProcess`: building and synthesizing only, in this process after a warm-up: it grows with the
 *   number of resources (about 6x the resources for 50 agents), and shows that nothing grows faster.
 * Writes the figures with the machine, the resource count and the template size to the results file.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { AgentCompute, AgentImage, ContainerAgent } from '../src/container-agent';
import { DurableOrchestrator } from '../src/durable-orchestrator';
import { AgentStep, StepInput, WorkflowAgent, WorkflowDefinition } from '../src/workflow';

interface Run {
  readonly agents: number;
  readonly ms: number;
  readonly resources: number;
  readonly templateBytes: number;
}

function synthApp(agentCount: number): Run {
  const started = process.hrtime.bigint();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bench');
    const team = new Construct(stack, 'Team');
    const vpc = new ec2.Vpc(team, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new ecs.Cluster(team, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const repository = ecr.Repository.fromRepositoryName(team, 'Images', 'agents');
    const agents = Array.from({ length: agentCount }, (_, i) => {
      const agentName = `agent${i + 1}`;
      return i % 5 === 4
        ? new ContainerAgent(team, agentName, {
          agentName, image: AgentImage.fromEcrRepository(repository, agentName), compute: AgentCompute.lambdaFunction(),
        })
        : new ContainerAgent(team, agentName, { agentName, image: AgentImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'), compute: AgentCompute.fargate({ cluster }) });
    });
    const workflow = new WorkflowDefinition({
      workflowName: 'bench',
      steps: agents.map((a, i) => new AgentStep({
        stepName: `step${i + 1}`,
        agent: WorkflowAgent.named(a.agentName),
        input: { topic: StepInput.fromWorkflowInput('topic') },
        timeout: Duration.minutes(30),
      })),
    });
    new DurableOrchestrator(stack, 'Orchestrator', { workflow, agents });
    const assembly = app.synth();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const templateFile = path.join(assembly.directory, assembly.getStackByName('Bench').templateFile);
    const templateBytes = fs.statSync(templateFile).size;
    const resources = Object.keys(JSON.parse(fs.readFileSync(templateFile, 'utf8')).Resources).length;
    return { agents: agentCount, ms, resources, templateBytes };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A fresh process (see the header): this file bundled once, run with --child. */
function freshApp(bundle: string, agentCount: number): number {
  const started = process.hrtime.bigint();
  const res = spawnSync(process.execPath, [bundle, '--child', String(agentCount)], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 0) throw new Error(`synth of ${agentCount} agent(s) failed: ${res.stderr}`);
  return ms;
}

function bundleSelf(): string {
  const out = path.join(__dirname, '..', '.tmp', 'synth-scaling', 'app.js');
  const esbuild = path.join(__dirname, '..', 'node_modules', '.bin', 'esbuild');
  const res = spawnSync(esbuild, [__filename, '--bundle', '--platform=node', '--format=cjs', '--target=node20', `--outfile=${out}`,
    '--external:aws-cdk-lib', '--external:constructs', '--log-level=warning'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`esbuild failed: ${res.stderr}`);
  return out;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      agents: { type: 'string', default: '50' },
      child: { type: 'string' },
      out: { type: 'string', default: path.join(__dirname, 'results', 'synth-scaling.json') },
    },
  });
  if (values.child !== undefined) {
    synthApp(Number(values.child));
    return;
  }
  const runs = Math.max(3, Number(values.runs));
  const many = Math.max(2, Number(values.agents));
  const bundle = bundleSelf();
  // Warm-up: module loading and the first construction's lazy initialisation are not synthesis.
  synthApp(1);
  synthApp(many);
  freshApp(bundle, 1);
  const one: Run[] = [];
  const lots: Run[] = [];
  const freshOne: number[] = [];
  const freshMany: number[] = [];
  for (let i = 0; i < runs; i++) {
    freshOne.push(freshApp(bundle, 1));
    freshMany.push(freshApp(bundle, many));
    one.push(synthApp(1));
    lots.push(synthApp(many));
  }
  const oneMs = median(one.map((r) => r.ms));
  const manyMs = median(lots.map((r) => r.ms));
  const appOne = median(freshOne);
  const appMany = median(freshMany);
  const result = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadavg: os.loadavg(), node: process.version },
    runs,
    agents: many,
    resources: { oneAgent: one[0].resources, manyAgents: lots[0].resources },
    templateBytes: { oneAgent: one[0].templateBytes, manyAgents: lots[0].templateBytes },
    app: {
      oneAgentMedianMs: Math.round(appOne),
      manyAgentsMedianMs: Math.round(appMany),
      ratio: Number((appMany / appOne).toFixed(2)),
      runsMs: { oneAgent: freshOne.map(Math.round), manyAgents: freshMany.map(Math.round) },
    },
    inProcess: {
      oneAgentMedianMs: Math.round(oneMs),
      manyAgentsMedianMs: Math.round(manyMs),
      ratio: Number((manyMs / oneMs).toFixed(2)),
      runsMs: { oneAgent: one.map((r) => Math.round(r.ms)), manyAgents: lots.map((r) => Math.round(r.ms)) },
    },
    budget: { maxRatio: 2, judgedOn: 'app', pass: appMany / appOne <= 2 },
  };
  fs.mkdirSync(path.dirname(values.out!), { recursive: true });
  fs.writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`synth, median of ${runs} (1 agent: ${result.resources.oneAgent} resources; ${many} agents: ${result.resources.manyAgents} resources, ` +
    `${result.templateBytes.manyAgents} bytes of template)`);
  console.log(`  app (fresh process, like cdk synth): ${result.app.oneAgentMedianMs} ms vs ${result.app.manyAgentsMedianMs} ms, ratio ${result.app.ratio} ` +
    `(budget 2: ${result.budget.pass ? 'pass' : 'FAIL'})`);
  console.log(`  in process (build + synth only):     ${result.inProcess.oneAgentMedianMs} ms vs ${result.inProcess.manyAgentsMedianMs} ms, ratio ${result.inProcess.ratio}`);
  console.log(`  -> ${values.out}`);
}

main();
