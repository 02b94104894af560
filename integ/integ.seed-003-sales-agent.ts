/**
 * Integration test: seed 003 ("Terraform Infrastructure" of an AI sales agent: one FastAPI
 * service with a web chat and Twilio webhooks, PostgreSQL 15, Redis 7, secrets, apply-test-destroy)
 * rebuilt with the constructs, item by item.
 *
 * - apply-test-destroy: `Throwaway.enable(stack)`, so the stack leaves nothing behind (the API's
 *   log group and log bucket, the image repository, the data tier and its secrets go with it);
 * - the sales app (`integ/services/sales/`) built by CodeBuild into its own ECR repository (scan
 *   on push, lifecycle rules, emptied and deleted with the stack): the seed's "ECR repository" and
 *   its build-and-push steps, without Docker on the deploying machine;
 * - the seed's ECS service behind a load balancer, on Fargate (ARM64), one task: here a `SecureApi`
 *   service under `/sales` reached by API Gateway through a VPC link at its Cloud Map SRV records
 *   (`ServiceRouting.cloudMap()`: no internal load balancer, so no WAF web ACL, which only a load
 *   balancer could carry), its health the container health check that ECS reports to Cloud Map
 *   (the seed's target group checked `/health`; the check script calls `/sales/health`); its tasks
 *   admit only the VPC link; `GET /sales/health` and `POST /sales/chat` anonymous (a web chat and
 *   Twilio webhooks cannot sign requests), every other route of the service IAM-authorized;
 * - cheap to leave running, as a throwaway environment should be (issue 19: at most $60/month
 *   fixed): one NAT instance (`DataTierNat.instance()`, t4g.nano) instead of a NAT gateway, and no
 *   load balancer or WAF; the trade-offs (one NAT instance without failover, no WAF) are the
 *   ephemeral environment's, and `DataTierNat.gateways()` with `ServiceRouting.loadBalancer()`
 *   put them back;
 * - the seed's RDS PostgreSQL 15 (`db.t4g.micro`, 20 GiB gp3 growing to 100 GiB, no backups, no
 *   final snapshot, no deletion protection) and ElastiCache Redis 7 (`cache.t4g.micro`, one node,
 *   encrypted at rest, no snapshots): a `DataTier` with the ephemeral profile, TLS only, its ports
 *   opened from the service only (the seed's security groups admit only the ECS tasks);
 * - the seed's `DATABASE_URL` and `REDIS_URL`: built at container start by the wrapper of
 *   `DataTier.connectionUrlCommand` from what `bindToContainer` hands over (never in the template);
 * - the seed's application secrets (`OPENAI_API_KEY`, `TWILIO_AUTH_TOKEN`) created without their
 *   values, for the user to fill: Secrets Manager secrets holding a placeholder JSON, injected by
 *   ECS; the app starts and answers while they hold it;
 * - the seed's outputs: the API URL (for the ALB DNS name), the repository, the database and
 *   Redis endpoints, the secrets' ARNs, the cluster and service names.
 *
 * To keep the image small the app uses the Python standard library's `http.server` instead of
 * FastAPI. The seed's FastAPI app would run unchanged the same way, its command wrapped by
 * `DataTier.connectionUrlCommand(['uvicorn', 'app.main:app', ...])`: it reads only `DATABASE_URL`
 * and `REDIS_URL` of the data tier. What it would need is its routes under the service's path
 * prefix (the service receives the full path, `/sales/chat`).
 *
 * Filling the secrets after the deploy (the seed's "Set up Secrets Manager secrets"):
 *   aws secretsmanager put-secret-value --secret-id <OpenAiApiKeySecretArn> --secret-string <key>
 *   aws ecs update-service --cluster <ClusterName> --service <ServiceName> --force-new-deployment
 * (ECS reads secrets when a task starts.)
 *
 * The assertions wait for `GET /sales/health` to answer `{"status":"ok"}`, send a chat message
 * (stored in PostgreSQL, counted in Redis: `messages_stored` and `messages_counted` 1, since the
 * message id makes a retried request count once), and check that an unsigned call of an IAM route
 * of the service is refused (403). Deploying it takes about 20 minutes (the database, the cache
 * and the image build).
 */
import * as path from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, CfnOutput, Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { acknowledgeTestScaffolding, notifyOnCall } from './integ-helpers';
import { AgentImage } from '../src/container-agent';
import { DataTier, DataTierNat } from '../src/data-tier';
import { acknowledgeFindings } from '../src/private/nag';
import { ApiAuthorization, SecureApi, ServiceRouting } from '../src/secure-api';
import { Throwaway } from '../src/throwaway';

/** Where the API routes to the sales app; the app serves its routes under it. */
const PREFIX = '/sales';
const PORT = 8000;
/** The session and message the assertions send. */
const SESSION = 'integ-seed-003';

const app = new App();
const stack = new Stack(app, 'cdkda-seed-003', { env: { region: 'us-east-1' } });
Throwaway.enable(stack); // apply-test-destroy: nothing stays behind
notifyOnCall(stack); // every alarm of the stack emails the on-call address

// PostgreSQL 15 and Redis 7 in the tier's own VPC (private subnets, one NAT instance, flow logs).
const data = new DataTier(stack, 'Data', {
  postgresVersion: '15.17', // the seed's 15.4 is retired; 15.17 is the 15 line's minor of the default 16.13
  cacheEngineVersion: '7.1',
  nat: DataTierNat.instance(), // t4g.nano: a throwaway environment does without a NAT gateway's failover
});
// No load balancer: the VPC link reaches the task at its Cloud Map SRV record. WAF needs a load
// balancer (it cannot be attached to an HTTP API), so it is given up here, on purpose.
const api = new SecureApi(stack, 'Api', { vpc: data.vpc, serviceRouting: ServiceRouting.cloudMap(), waf: false });

/**
 * An application secret created empty for the user to fill: Secrets Manager cannot create a
 * secret without a value (CloudFormation would generate a random one), so it holds a placeholder
 * JSON, which the app recognizes. The whole value is handed to the container, so the user puts the
 * plain key there, as the seed's README does.
 */
function applicationSecret(id: string, name: string, what: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(stack, id, {
    description: `Seed 003's ${name} (${what}), injected into the sales app. Created with a placeholder: replace the whole value ` +
      'with the real one (aws secretsmanager put-secret-value --secret-string <value>), then start new tasks.',
    secretObjectValue: { placeholder: SecretValue.unsafePlainText(`replace this whole value with the ${what}`) },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  acknowledgeFindings(secret, [{
    id: 'AwsSolutions-SMG4',
    reason: `${name} is a third-party credential (${what}): it is rotated where it is issued and put here by the user, ` +
      'not by a Secrets Manager rotation function.',
  }]);
  return secret;
}
const openAiApiKey = applicationSecret('OpenAiApiKey', 'OPENAI_API_KEY', 'OpenAI API key');
const twilioAuthToken = applicationSecret('TwilioAuthToken', 'TWILIO_AUTH_TOKEN', 'Twilio auth token');

const sales = api.addService('Sales', {
  imageSource: AgentImage.fromDirectoryIntoNewRepository(path.join(__dirname, 'services', 'sales'), {
    maxImageCount: 5,
    removalPolicy: RemovalPolicy.DESTROY,
    buildLogRetention: logs.RetentionDays.ONE_WEEK,
  }),
  pathPrefix: PREFIX,
  containerPort: PORT,
  desiredCount: 1,
  // The seed's web chat and Twilio webhooks cannot sign requests; the health route is the
  // seed's unauthenticated /health. Every other route under /sales keeps the API's IAM.
  routes: [
    { path: `${PREFIX}/chat`, methods: [apigwv2.HttpMethod.POST], authorization: ApiAuthorization.none() },
    { path: `${PREFIX}/health`, methods: [apigwv2.HttpMethod.GET], authorization: ApiAuthorization.none() },
  ],
  // The image has python3 but no curl: its own health check script (it calls /sales/health). It
  // is the task's health in Cloud Map: API Gateway is given healthy tasks only.
  healthCheck: {
    command: ['CMD', 'python3', '/app/healthcheck.py'],
    interval: Duration.seconds(15),
    timeout: Duration.seconds(5),
    retries: 3,
    startPeriod: Duration.seconds(30),
  },
  // The image's CMD, run by the wrapper that sets DATABASE_URL and REDIS_URL.
  command: DataTier.connectionUrlCommand(['python3', '/app/app.py']),
  environment: { PORT: String(PORT), SALES_PATH_PREFIX: PREFIX },
  secrets: {
    OPENAI_API_KEY: ecs.Secret.fromSecretsManager(openAiApiKey),
    TWILIO_AUTH_TOKEN: ecs.Secret.fromSecretsManager(twilioAuthToken),
  },
  logRetention: logs.RetentionDays.ONE_WEEK,
});
data.bindToContainer(sales.taskDefinition.findContainer(sales.containerName)!);
data.allowDefaultPortsFrom(sales);

// The seed's outputs.
api.addOutputs({ outputIdPrefix: 'Api' });
data.addOutputs({ outputIdPrefix: 'Data' });
new CfnOutput(stack, 'SalesRepositoryUri', { value: sales.repository!.repositoryUri, description: 'ECR repository of the sales app (seed 003\'s ecr_repository_url)' });
new CfnOutput(stack, 'OpenAiApiKeySecretArn', { value: openAiApiKey.secretArn, description: 'Fill with the OpenAI API key (seed 003: set the secret values)' });
new CfnOutput(stack, 'TwilioAuthTokenSecretArn', { value: twilioAuthToken.secretArn, description: 'Fill with the Twilio auth token (seed 003: set the secret values)' });
new CfnOutput(stack, 'ClusterName', { value: sales.service.cluster.clusterName, description: 'ECS cluster of the sales app (seed 003\'s ecs_cluster_name)' });
new CfnOutput(stack, 'ServiceName', { value: sales.service.serviceName, description: 'ECS service of the sales app (seed 003\'s ecs_service_name)' });

// The assertions call the API's URL, a token of the test stack: their stack is in the same environment.
const assertions = new Stack(app, 'cdkda-seed-003-assertions', { env: { region: 'us-east-1' } });
const integ = new IntegTest(app, 'Seed003', { testCases: [stack], regions: ['us-east-1'], assertionStack: assertions });

// The seed's "verify health endpoint", through the API, the VPC link and Cloud Map; the
// first task may take minutes to pass its health checks.
const health = integ.assertions.httpApiCall(`${api.url}sales/health`);
health.expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }))
  .waitForAssertions({ totalTimeout: Duration.minutes(20), interval: Duration.seconds(30) });

// The seed's "test chat endpoint", unsigned as a web chat sends it: stored in PostgreSQL, counted in Redis.
const chat = integ.assertions.httpApiCall(`${api.url}sales/chat`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ session_id: SESSION, message_id: `${SESSION}-1`, channel: 'web', message: 'Hola, estoy buscando un auto' }),
});
chat.expect(ExpectedResult.objectLike({
  status: 200,
  body: { session_id: SESSION, messages_stored: 1, messages_counted: 1, reply: Match.stringLikeRegexp('.+') },
})).waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(20) });

// The conversation history is for staff: IAM only, so an unsigned call is refused by the API.
const history = integ.assertions.httpApiCall(`${api.url}sales/conversations/${SESSION}`);
history.expect(ExpectedResult.objectLike({ status: 403 }));

health.next(chat).next(history);

acknowledgeTestScaffolding(app, assertions);
app.synth();
