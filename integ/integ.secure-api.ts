/**
 * Integration test: a SecureApi in front of one Lambda route and one Fargate service.
 *
 * The API authorizes with IAM. `GET /hello` is a Lambda route; `/web` routes through the VPC
 * link and the internal load balancer (with its WAF web ACL) to nginx on Fargate. A probe
 * function, granted the API with `grantInvoke`, makes SigV4-signed calls. The assertions: the
 * health route answers `{"status":"ok"}` without auth; an unsigned call to `/hello` is refused
 * with 403; the probe's signed `GET /hello` gets the function's answer; the probe's signed
 * `GET /web/` (route `ANY /web/{proxy+}`, listener rule `/web/*`) gets nginx's index page of
 * `/web/` once the service is healthy.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { acknowledgeFixture, acknowledgeTestScaffolding, bundleTestAgent, notifyOnCall } from './integ-helpers';
import { SecureApi } from '../src/secure-api';

/** What nginx serves under /web/, and what the assertion looks for. */
const PAGE_MARKER = 'secure-api-integ-web';

const app = new App();
// The load balancer's access logs need the region at synth (the log delivery principal).
const stack = new Stack(app, 'cdkda-secure-api', { env: { region: 'us-east-1' } });
notifyOnCall(stack); // every alarm of the stack emails the on-call address

const api = new SecureApi(stack, 'Api', { removalPolicy: RemovalPolicy.DESTROY });

const hello = new lambda.Function(stack, 'Hello', {
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  handler: 'index.handler',
  code: lambda.Code.fromInline(
    'exports.handler = async () => ({ statusCode: 200, headers: { "content-type": "application/json" }, ' +
    'body: JSON.stringify({ message: "hello from lambda" }) });'),
  description: 'SecureApi integ: answers GET /hello',
});
acknowledgeFixture(hello, 'the Lambda route\'s handler, which answers hello');
api.addLambdaRoute('Hello', { path: '/hello', methods: [apigwv2.HttpMethod.GET], handler: hello });

// nginx (multi-arch, ARM64 here) serving /web/ (its index.html, from /usr/share/nginx/html/web/)
// and the /health file the load balancer checks. The service receives the full path, prefix
// included. nginx (as root) writes its cache and pid files under /var, so the root filesystem
// stays writable here.
api.addService('Web', {
  image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'),
  pathPrefix: '/web',
  containerPort: 80,
  healthCheckPath: '/health',
  desiredCount: 1,
  maxCapacity: 2,
  readonlyRootFilesystem: false,
  command: ['sh', '-c', [
    'mkdir -p /usr/share/nginx/html/web',
    `echo '<html><body>${PAGE_MARKER}</body></html>' > /usr/share/nginx/html/web/index.html`,
    'printf \'{"status":"ok"}\' > /usr/share/nginx/html/health',
    'exec nginx -g \'daemon off;\'',
  ].join(' && ')],
});

const probe = new lambda.Function(stack, 'Probe', {
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(bundleTestAgent('secure-api-probe')),
  timeout: Duration.seconds(30),
  environment: { API_URL: api.url },
  description: 'SecureApi integ: makes SigV4-signed calls to the API',
});
acknowledgeFixture(probe, 'a probe that calls the API from inside the VPC with a signed request');
api.grantInvoke(probe);

// The assertions live in a stack of the same environment, so they can name the probe.
const assertions = new Stack(app, 'cdkda-secure-api-assertions', { env: { region: 'us-east-1' } });
const integ = new IntegTest(app, 'SecureApi', { testCases: [stack], regions: ['us-east-1'], assertionStack: assertions });

const health = integ.assertions.httpApiCall(`${api.url}health`);
health.expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }));

const unsigned = integ.assertions.httpApiCall(`${api.url}hello`);
unsigned.expect(ExpectedResult.objectLike({ status: 403 }));

const signedHello = integ.assertions.invokeFunction({
  functionName: probe.functionName,
  payload: JSON.stringify({ path: '/hello' }),
});
// The probe's answer reaches the assertion as the JSON text of the result (a Lambda invoke's Payload).
signedHello.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ status: 200, body: Match.objectLike({ message: 'hello from lambda' }) })),
}));

// Through the VPC link, the load balancer and its WAF to nginx; the first task may take a few
// minutes to pass its health checks.
const signedWeb = integ.assertions.invokeFunction({
  functionName: probe.functionName,
  payload: JSON.stringify({ path: '/web/' }),
});
signedWeb.expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ status: 200, body: Match.stringLikeRegexp(PAGE_MARKER) })),
}))
  .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(20) });

health.next(unsigned).next(signedHello).next(signedWeb);

acknowledgeTestScaffolding(app, assertions);
app.synth();
