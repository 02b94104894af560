/** Helpers of the integration tests (not themselves tests: integ-runner only runs integ.*.ts). */
import { createHash } from 'crypto';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { AgentTarget, IDispatchableAgent } from '../src/durable-orchestrator';
import { ReferenceWorkflows, WorkflowAgent, WorkflowDefinition } from '../src/workflow';

/** Bundles a test agent from integ/agents into integ/.build/<name>, returning the folder. */
export function bundleTestAgent(name: string): string {
  const outdir = path.join(__dirname, '.build', name);
  buildSync({
    entryPoints: [path.join(__dirname, 'agents', `${name}.ts`)],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  return outdir;
}

/**
 * The reference research workflow played by the echo test agent (integ/agents/echo-agent.ts), a
 * Lambda function that writes one artifact and reports success at once: the workflow and the
 * three agents to give a DurableOrchestrator.
 */
export function echoResearchTeam(scope: Construct): { workflow: WorkflowDefinition; agents: IDispatchableAgent[] } {
  const echo = new lambda.Function(scope, 'EchoAgent', {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(bundleTestAgent('echo-agent')),
    timeout: Duration.seconds(30),
    description: 'Test agent: writes one artifact and reports success at once',
  });
  const names = ['researcher', 'analyst', 'writer'] as const;
  return {
    workflow: ReferenceWorkflows.researchReport({
      researcher: WorkflowAgent.named('researcher'),
      analyst: WorkflowAgent.named('analyst'),
      writer: WorkflowAgent.named('writer'),
    }),
    agents: names.map((name) => AgentTarget.lambdaFunction(name, echo)),
  };
}

/** The workflow id the API derives from an Idempotency-Key (src/runtime/ids.ts). */
export function workflowIdFor(idempotencyKey: string): string {
  return `wf-${createHash('sha256').update(`idempotency:${idempotencyKey}`).digest('hex').slice(0, 32)}`;
}

/** An API Gateway HTTP API (payload 2.0) event for a direct invoke of the API function. */
export function apiEvent(method: string, rawPath: string, body?: unknown, headers: Record<string, string> = {}): string {
  return JSON.stringify({
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: { http: { method, path: rawPath }, stage: '$default', requestId: 'integ' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  });
}
