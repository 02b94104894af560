/**
 * The app of integ/integ.agent-platform.ts, apart so that tests can check it (cdk-nag, cfn-lint)
 * without its assertions: the four constructs composed into the "agent team on ECS" of seed 002
 * (and the ephemeral test stack of seed 003), in one stack.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { echoResearchTeam } from './integ-helpers';
import { DataTier } from '../src/data-tier';
import { DurableOrchestrator } from '../src/durable-orchestrator';
import { SecureApi } from '../src/secure-api';

/** What the assertions (and the tests) need from the platform. */
export interface AgentPlatform {
  readonly stack: Stack;
  readonly data: DataTier;
  readonly api: SecureApi;
  readonly research: DurableOrchestrator;
}

const NGINX = 'public.ecr.aws/nginx/nginx:stable-alpine';
/** nginx answering the load balancer's health check, for the stand-in services. */
const nginxWithHealth = (port: number) => ['sh', '-c', [
  'printf \'{"status":"ok"}\' > /usr/share/nginx/html/health',
  `sed -i 's/listen  *80;/listen ${port};/' /etc/nginx/conf.d/default.conf`,
  'exec nginx -g \'daemon off;\'',
].join(' && ')];

/** Builds the platform's stack in `scope` (the load balancer's access logs need the region at synth). */
export function agentPlatform(scope: Construct, id: string): AgentPlatform {
  const stack = new Stack(scope, id, { env: { region: 'us-east-1' } });

  const data = new DataTier(stack, 'Data');
  const api = new SecureApi(stack, 'Api', { vpc: data.vpc, removalPolicy: RemovalPolicy.DESTROY });

  const web = api.addService('Web', {
    image: ecs.ContainerImage.fromRegistry(NGINX),
    pathPrefix: '/app',
    containerPort: 80,
    desiredCount: 1,
    readonlyRootFilesystem: false, // nginx writes its cache and pid files
    command: nginxWithHealth(80),
  });
  data.bindToContainer(web.taskDefinition.findContainer(web.containerName)!);
  data.allowDefaultPortsFrom(web);

  const engine = api.addInternalService('Engine', {
    image: ecs.ContainerImage.fromRegistry(NGINX),
    containerPort: 50051,
    desiredCount: 1,
    readonlyRootFilesystem: false,
    command: nginxWithHealth(50051),
    // An internal service has no load balancer to check it: its container checks itself.
    healthCheck: { command: ['CMD-SHELL', 'wget -qO- http://127.0.0.1:50051/health || exit 1'], startPeriod: Duration.seconds(15) },
  });
  engine.connections.allowFrom(web, ec2.Port.tcp(50051), 'the web service calls the workflow engine');

  const research = new DurableOrchestrator(stack, 'Research', {
    ...echoResearchTeam(stack),
    api,
    apiBasePath: '/research',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return { stack, data, api, research };
}
