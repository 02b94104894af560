/**
 * Integration test: seed 002 ("Agent Team Infrastructure": an API service and a gRPC workflow
 * engine on ECS Fargate, PostgreSQL, Redis, Cloud Map, ECR, Fargate Spot) rebuilt with the
 * constructs, item by item.
 *
 * - networking, PostgreSQL and Redis: a `DataTier` (ephemeral profile: its VPC with public and
 *   private subnets and NAT, PostgreSQL and Redis in isolated subnets, TLS only, encrypted, admitted
 *   from the API service only: the seed's RDS and ElastiCache security groups);
 * - the front door: a `SecureApi` (HTTP API with IAM authorization, VPC link, internal load
 *   balancer with WAF, access logs) in the data tier's VPC: the seed's API Gateway and ALB;
 * - the API service (seed 002's FastAPI service), routed under `/team`: a Node server built by
 *   CodeBuild from `integ/services/team-api/` into its own ECR repository (scan on push, immutable
 *   tags, lifecycle rules: the seed's `ecr.tf`), with a container health check, the data tier's
 *   settings from `bindToContainer`, and its command wrapped with `DataTier.connectionUrlCommand`
 *   so that it reads `DATABASE_URL` and `REDIS_URL` as the seed's services do;
 * - the workflow engine, an internal service in Cloud Map (`engine.internal:50051`, the seed's
 *   `service_discovery.tf`) reachable from the API service only, built the same way from
 *   `integ/services/engine/`, with a container health check, on Fargate Spot with one task always
 *   on demand (the seed's cost option). The seed's engine speaks gRPC; here it is a stand-in HTTP
 *   server on the same port answering `GET /health`, which is what the API service calls;
 * - `Throwaway.enable(stack)`: every construct destroys its data with the stack (the API's logs
 *   and log bucket, the data tier's database, cache and secrets); the two repositories are
 *   destroyed with their images too.
 *
 * The services (`integ/services/`, each a Dockerfile and a `server.js`, Node 22 on Alpine):
 * `team-api` answers `GET /team/health` and `GET /team/probe`, which writes and reads a row in
 * PostgreSQL (verifying the server with the Amazon RDS CA bundle the Dockerfile downloads), sets
 * and gets a key in Redis, and calls the engine's `/health` through Cloud Map, answering
 * `{"postgres":"ok","redis":"ok","engine":"ok"}`; `engine` answers `GET /health` on port 50051.
 *
 * Left out of the seed: its custom domain and certificate (the SecureApi takes `domain` and
 * `loadBalancerTls`), its SSM parameters for third-party API keys, and RDS Multi-AZ (the data
 * tier's production profile).
 *
 * The assertions: an unsigned `GET /team/probe` is refused (403: IAM authorization); a probe
 * function, granted the API with `grantInvoke`, makes the signed call and expects
 * `{"postgres":"ok","redis":"ok","engine":"ok"}` from the API service, through the VPC link, the
 * load balancer and the WAF. Deploying it takes about 25 minutes (two image builds, the database,
 * the cache).
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { acknowledgeFixture, acknowledgeTestScaffolding, bundleTestAgent, notifyOnCall, serviceImage, wgetHealthCheck } from './integ-helpers';
import { DataTier } from '../src/data-tier';
import { SecureApi, ServiceCapacity } from '../src/secure-api';
import { Throwaway } from '../src/throwaway';

const API_PORT = 8000;
const ENGINE_PORT = 50051;

const app = new App();
// The load balancer's access logs need the region at synth (the log delivery principal).
const stack = new Stack(app, 'cdkda-seed-002', { env: { region: 'us-east-1' } });
Throwaway.enable(stack);
notifyOnCall(stack); // every alarm of the stack emails the on-call address

const data = new DataTier(stack, 'Data');
const api = new SecureApi(stack, 'Api', { vpc: data.vpc });


// The workflow engine: internal, in Cloud Map; with two tasks, one on demand (the base) and one on Spot.
const engine = api.addInternalService('Engine', {
  imageSource: serviceImage('engine'),
  containerPort: ENGINE_PORT,
  discoveryName: 'engine',
  desiredCount: 2,
  maxCapacity: 2,
  capacity: ServiceCapacity.spot({ onDemandBase: 1 }),
  healthCheck: wgetHealthCheck(`http://127.0.0.1:${ENGINE_PORT}/health`),
});

// The API service: routed under /team; DATABASE_URL and REDIS_URL built at container start.
const teamApi = api.addService('TeamApi', {
  imageSource: serviceImage('team-api'),
  pathPrefix: '/team',
  containerPort: API_PORT,
  healthCheckPath: '/team/health',
  desiredCount: 1,
  maxCapacity: 2,
  command: DataTier.connectionUrlCommand(['node', 'server.js']),
  environment: { ENGINE_URL: `http://${engine.endpoint}/health` },
  healthCheck: wgetHealthCheck(`http://127.0.0.1:${API_PORT}/team/health`),
  healthCheckGracePeriod: Duration.seconds(90),
});
data.bindToContainer(teamApi.taskDefinition.findContainer(teamApi.containerName)!);
data.allowDefaultPortsFrom(teamApi);
engine.connections.allowFrom(teamApi, ec2.Port.tcp(ENGINE_PORT), 'the team API calls the workflow engine');

// The seed's outputs: the API's URL, the stores' endpoints, the repositories, the engine's name.
api.addOutputs({ outputIdPrefix: 'Api' });
data.addOutputs({ outputIdPrefix: 'Data' });
new CfnOutput(stack, 'TeamApiRepositoryUri', { value: teamApi.repository!.repositoryUri, description: 'ECR repository of the team API (seed 002: ecr.tf)' });
new CfnOutput(stack, 'EngineRepositoryUri', { value: engine.repository!.repositoryUri, description: 'ECR repository of the workflow engine' });
new CfnOutput(stack, 'EngineEndpoint', { value: engine.endpoint!, description: 'Where the API service reaches the engine (Cloud Map)' });

const probe = new lambda.Function(stack, 'Probe', {
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(bundleTestAgent('secure-api-probe')),
  timeout: Duration.seconds(40),
  environment: { API_URL: api.url },
  description: 'Seed 002 integ: makes SigV4-signed calls to the API',
});
acknowledgeFixture(probe, 'a probe that calls the API with a signed request');
api.grantInvoke(probe);

// The assertions live in a stack of the same environment, so they can name the probe.
const assertions = new Stack(app, 'cdkda-seed-002-assertions', { env: { region: 'us-east-1' } });
const integ = new IntegTest(app, 'Seed002', { testCases: [stack], regions: ['us-east-1'], assertionStack: assertions });

const unsigned = integ.assertions.httpApiCall(`${api.url}team/probe`);
unsigned.expect(ExpectedResult.objectLike({ status: 403 }));

// The services are running when the stack is complete (ECS waits for them), but the first calls
// through the VPC link may still meet a target that is registering: wait for the answer.
const signed = integ.assertions.invokeFunction({ functionName: probe.functionName, payload: JSON.stringify({ path: '/team/probe' }) });
signed.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ status: 200, body: { postgres: 'ok', redis: 'ok', engine: 'ok' } })),
})).waitForAssertions({ totalTimeout: Duration.minutes(20), interval: Duration.seconds(30) });

unsigned.next(signed);

acknowledgeTestScaffolding(app, assertions);
app.synth();
