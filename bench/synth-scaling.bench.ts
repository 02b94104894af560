/**
 * How synthesis scales with the number of agents (not a test):
 *
 *   npx ts-node --project tsconfig.dev.json bench/synth-scaling.bench.ts [--runs 5] [--agents 50] [--out bench/results/synth-scaling.json]
 *
 * Builds and synthesizes, in this process, an app with one orchestrator and 1 agent, and the same
 * app with N agents (default 50): Fargate ContainerAgents on one shared cluster, every fifth a
 * Lambda container agent, one agent step each. Each variant runs `--runs` times after one warm-up,
 * interleaved (1, N, 1, N, ...) so that machine load weighs on both alike; the ratio of the medians
 * is what the project's budget (at most 2x) is about. Writes the figures with the machine to the
 * results file. Also records the resource count and template size of the N-agent stack.
 */
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
        ? new ContainerAgent(team, agentName, { agentName, image: AgentImage.fromEcrRepository(repository, agentName), compute: AgentCompute.lambdaFunction() })
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

function main(): void {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      agents: { type: 'string', default: '50' },
      out: { type: 'string', default: path.join(__dirname, 'results', 'synth-scaling.json') },
    },
  });
  const runs = Math.max(3, Number(values.runs));
  const many = Math.max(2, Number(values.agents));
  // Warm-up: module loading and the first construction's lazy initialisation are not synthesis.
  synthApp(1);
  synthApp(many);
  const one: Run[] = [];
  const lots: Run[] = [];
  for (let i = 0; i < runs; i++) {
    one.push(synthApp(1));
    lots.push(synthApp(many));
  }
  const oneMs = median(one.map((r) => r.ms));
  const manyMs = median(lots.map((r) => r.ms));
  const result = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadavg: os.loadavg(), node: process.version },
    runs,
    oneAgent: { medianMs: Math.round(oneMs), runsMs: one.map((r) => Math.round(r.ms)), resources: one[0].resources, templateBytes: one[0].templateBytes },
    manyAgents: { agents: many, medianMs: Math.round(manyMs), runsMs: lots.map((r) => Math.round(r.ms)), resources: lots[0].resources, templateBytes: lots[0].templateBytes },
    ratio: Number((manyMs / oneMs).toFixed(2)),
    budget: { maxRatio: 2, pass: manyMs / oneMs <= 2 },
  };
  fs.mkdirSync(path.dirname(values.out!), { recursive: true });
  fs.writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`synth, median of ${runs}: 1 agent ${result.oneAgent.medianMs} ms (${result.oneAgent.resources} resources), ` +
    `${many} agents ${result.manyAgents.medianMs} ms (${result.manyAgents.resources} resources, ${result.manyAgents.templateBytes} bytes): ` +
    `ratio ${result.ratio} (budget 2): ${result.budget.pass ? 'pass' : 'FAIL'} -> ${values.out}`);
}

main();
