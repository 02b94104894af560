/**
 * Runs the built library (lib/ and assets/, as the npm package ships them) against the oldest
 * aws-cdk-lib its peer dependency admits, and synthesizes every construct in the shapes the
 * README shows. The development copy of aws-cdk-lib is newer, so the jest suite cannot see an API
 * the library uses that the peer minimum lacks; this can.
 *
 *   npx projen compat:peer-min            # the minimum of package.json's peerDependencies
 *   npx projen compat:peer-min 2.240.0    # another version
 *
 * It downloads that aws-cdk-lib with `npm pack` into .tmp/ (once) and needs `npx projen compile`
 * to have run. Exits 1, naming the construct and the error, when a synth fails.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf-8'));
const version = process.argv[2] ?? String(pkg.peerDependencies['aws-cdk-lib']).replace(/^[\^~>=]+/, '');
const work = path.join(ROOT, '.tmp', 'peer-minimum', version);

function fetchCdkLib(): string {
  const extracted = path.join(work, 'package');
  if (!fs.existsSync(path.join(extracted, 'package.json'))) {
    fs.mkdirSync(work, { recursive: true });
    const tarball = execFileSync('npm', ['pack', `aws-cdk-lib@${version}`, '--silent', '--pack-destination', work], { cwd: work, encoding: 'utf-8' }).trim();
    execFileSync('tar', ['-xzf', path.join(work, tarball.split('\n').pop()!), '-C', work]);
  }
  return extracted;
}

/** A consumer's node_modules: that aws-cdk-lib, our constructs copy, and the package as built. */
function consumerApp(cdkLib: string): string {
  const app = path.join(work, 'app');
  const modules = path.join(app, 'node_modules');
  fs.rmSync(app, { recursive: true, force: true });
  fs.mkdirSync(modules, { recursive: true });
  fs.symlinkSync(cdkLib, path.join(modules, 'aws-cdk-lib'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'constructs'), path.join(modules, 'constructs'));
  const self = path.join(modules, 'cdk-durable-agents');
  fs.mkdirSync(self);
  for (const part of ['lib', 'assets', 'package.json']) {
    if (!fs.existsSync(path.join(ROOT, part))) throw new Error(`${part} is missing: run npx projen bundle && npx projen compile first`);
    fs.cpSync(path.join(ROOT, part), path.join(self, part), { recursive: true });
  }
  fs.writeFileSync(path.join(app, 'synth.js'), SYNTH);
  return app;
}

/** Every construct, as the README uses it, in one app per case so that a failure names its case. */
const SYNTH = `
const cdk = require('aws-cdk-lib');
const apigwv2 = require('aws-cdk-lib/aws-apigatewayv2');
const ecr = require('aws-cdk-lib/aws-ecr');
const ecs = require('aws-cdk-lib/aws-ecs');
const lambda = require('aws-cdk-lib/aws-lambda');
const iam = require('aws-cdk-lib/aws-iam');
const lib = require('cdk-durable-agents');

const workflow = () => lib.ReferenceWorkflows.researchReport({
  researcher: lib.WorkflowAgent.named('researcher'),
  analyst: lib.WorkflowAgent.named('analyst'),
  writer: lib.WorkflowAgent.named('writer'),
});
const fn = (scope, id) => new lambda.Function(scope, id, {
  runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'),
});
const agents = (scope) => ['researcher', 'analyst', 'writer'].map((n) => lib.AgentTarget.lambdaFunction(n, fn(scope, n)));

const cases = {
  'DurableOrchestrator (own HTTP API)': (stack) => {
    const o = new lib.DurableOrchestrator(stack, 'O', { workflow: workflow(), agents: agents(stack), dashboard: true });
    o.grantStartWorkflow(new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
  },
  'ContainerAgent (Fargate from a registry, Lambda from ECR)': (stack) => {
    const researcher = new lib.ContainerAgent(stack, 'R', {
      agentName: 'researcher', image: lib.AgentImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'), compute: lib.AgentCompute.fargate(),
    });
    const repo = new ecr.Repository(stack, 'Repo');
    const analyst = new lib.ContainerAgent(stack, 'A', {
      agentName: 'analyst', image: lib.AgentImage.fromEcrRepository(repo, 'v1'), compute: lib.AgentCompute.lambdaFunction(),
    });
    const writer = new lib.ContainerAgent(stack, 'W', { agentName: 'writer', image: lib.AgentImage.fromNewRepository('v1') });
    new lib.DurableOrchestrator(stack, 'O', { workflow: workflow(), agents: [researcher, analyst, writer] });
  },
  'ContainerAgent (image built by CodeBuild into its own repository)': (stack) => {
    const fs = require('fs');
    const dir = fs.mkdtempSync(require('path').join(require('os').tmpdir(), 'compat-agent-'));
    fs.writeFileSync(require('path').join(dir, 'Dockerfile'), 'FROM public.ecr.aws/docker/library/node:22-alpine');
    new lib.ContainerAgent(stack, 'B', {
      agentName: 'builder', image: lib.AgentImage.fromDirectoryIntoNewRepository(dir), compute: lib.AgentCompute.lambdaFunction(),
    });
    new lib.ContainerAgent(stack, 'F', { agentName: 'fargate', image: lib.AgentImage.fromDirectoryIntoNewRepository(dir) });
  },
  'ContainerAgent (the reference agents from the package, Docker and CodeBuild builds)': (stack) => {
    const [researcher, analyst, writer] = lib.ReferenceAgent.all().map((r, i) => new lib.ContainerAgent(stack, r.name, {
      agentName: r.name,
      image: i === 0 ? lib.AgentImage.fromReferenceAgent(r) : lib.AgentImage.fromReferenceAgentIntoNewRepository(r),
      compute: lib.AgentCompute.lambdaFunction(),
    }));
    new lib.DurableOrchestrator(stack, 'O', { workflow: lib.ReferenceWorkflows.researchReport({ researcher, analyst, writer }), agents: [researcher, analyst, writer] });
  },
  'DataTier (ephemeral, with a container and a function)': (stack) => {
    const data = new lib.DataTier(stack, 'D');
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    data.bindToContainer(task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.36') }));
    data.bindToFunction(new lambda.Function(stack, 'F', {
      runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x'), vpc: data.vpc,
    }));
  },
  'DataTier (production)': (stack) => {
    new lib.DataTier(stack, 'D', { profile: lib.DataTierProfile.production() });
  },
  'SecureApi (Lambda route, service, internal service) with a DurableOrchestrator on it': (stack) => {
    const api = new lib.SecureApi(stack, 'Api', {
      authorization: lib.ApiAuthorization.jwt({ issuer: 'https://issuer.example.com', audience: ['api'] }),
    });
    api.addLambdaRoute('Items', { path: '/items', methods: [apigwv2.HttpMethod.GET], handler: fn(stack, 'Items') });
    const web = api.addService('Web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'), pathPrefix: '/web' });
    const engine = api.addInternalService('Engine', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine') });
    engine.connections.allowFrom(web, cdk.aws_ec2.Port.tcp(8080));
    new lib.DurableOrchestrator(stack, 'O', { workflow: workflow(), agents: agents(stack), api, apiBasePath: '/research' });
  },
  'Monitoring (alarms to an email topic, canaries, dashboard, event routing, a schedule, 3 AZs)': (stack) => {
    const key = new cdk.aws_kms.Key(stack, 'Key', { enableKeyRotation: true });
    const oncall = lib.AlarmDestination.email('oncall@example.com', { encryptionKey: key });
    const data = new lib.DataTier(stack, 'D', { profile: lib.DataTierProfile.production(), maxAzs: 3, natGateways: 3, encryptionKey: key, alarmActions: oncall });
    const api = new lib.SecureApi(stack, 'Api', { vpc: data.vpc, logEncryptionKey: key, alarmActions: oncall, healthCanary: true });
    api.addService('Web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'), pathPrefix: '/web' });
    const o = new lib.DurableOrchestrator(stack, 'O', {
      workflow: workflow(), agents: agents(stack), api, apiBasePath: '/research', encryptionKey: key, alarmActions: oncall, statusCanary: true,
    });
    o.onWorkflowFailed('Failed', { target: new cdk.aws_events_targets.SqsQueue(new cdk.aws_sqs.Queue(stack, 'Q', { enforceSSL: true })) });
    o.addSchedule('Daily', { schedule: cdk.aws_scheduler.ScheduleExpression.cron({ hour: '6', minute: '0' }), input: JSON.stringify({ topic: 'daily' }) });
    oncall.notifyAlarmsIn(stack);
    new lib.PlatformDashboard(stack, 'Dashboard');
  },
};

const version = require('aws-cdk-lib/package.json').version;
let failed = 0;
for (const [name, build] of Object.entries(cases)) {
  try {
    const app = new cdk.App({ outdir: require('path').join(__dirname, 'cdk.out', String(Object.keys(cases).indexOf(name))) });
    build(new cdk.Stack(app, 'Compat', { env: { account: '123456789012', region: 'us-east-1' } }));
    const template = app.synth().getStackByName('Compat').template;
    console.log('ok      ' + name + ': ' + Object.keys(template.Resources).length + ' resources (aws-cdk-lib ' + version + ')');
  } catch (e) {
    failed++;
    console.log('FAILED  ' + name + ' (aws-cdk-lib ' + version + '): ' + (e && e.stack ? e.stack.split('\\n').slice(0, 4).join('\\n        ') : e));
  }
}
process.exit(failed > 0 ? 1 : 0);
`;

const app = consumerApp(fetchCdkLib());
try {
  // --preserve-symlinks: the package's own require('aws-cdk-lib') resolves in the consumer's node_modules.
  execFileSync(process.execPath, ['--preserve-symlinks', path.join(app, 'synth.js')], { cwd: app, stdio: 'inherit' });
} catch {
  console.error(`The library does not synthesize with aws-cdk-lib ${version}, the oldest its peer dependency admits (see above).`);
  process.exit(1);
}
