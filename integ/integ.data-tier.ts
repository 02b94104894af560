/**
 * Integration test: an DataTier (the ephemeral profile) and a probe function in its VPC.
 *
 * The probe gets the data tier's settings through `bindToFunction` (plain settings and the
 * secrets' ARNs, read at run time), builds its URLs with the library's runtime helper and answers
 * `SELECT 1` from PostgreSQL and `PING` from Redis, both over TLS. The assertion invokes it and
 * expects the payload `{"postgres":1,"redis":"PONG"}`.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { acknowledgeFixture, acknowledgeTestScaffolding, bundleTestAgent } from './integ-helpers';
import { DataTierProfile, DataTier } from '../src/data-tier';

const app = new App();
const stack = new Stack(app, 'cdkda-data-tier');

const dataTier = new DataTier(stack, 'DataTier', {
  profile: DataTierProfile.ephemeral(),
  removalPolicy: RemovalPolicy.DESTROY,
});

const probe = new lambda.Function(stack, 'Probe', {
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(bundleTestAgent('data-tier-probe')),
  timeout: Duration.seconds(60),
  memorySize: 256,
  description: 'Integration probe: SELECT 1 on PostgreSQL and PING on Redis through the data tier settings',
  vpc: dataTier.vpc,
  // The app subnets reach Secrets Manager through the NAT gateway.
  vpcSubnets: { subnetGroupName: 'app' },
  environment: {
    // node-postgres verifies the server certificate (sslmode=require means verify-full to it):
    // this bundle of the Lambda runtime holds the Amazon RDS certificate authorities.
    NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
  },
});
acknowledgeFixture(probe, 'a probe that connects to PostgreSQL and Redis with the settings the data tier hands over');
dataTier.bindToFunction(probe);

const integ = new IntegTest(app, 'DataTier', { testCases: [stack], regions: ['us-east-1'] });

// The assertion provider hands the function's response over as Lambda returns it: `Payload` is
// the JSON text of the result, not an object, so it is matched as serialized JSON.
integ.assertions.invokeFunction({ functionName: probe.functionName })
  .expect(ExpectedResult.objectLike({ StatusCode: 200, Payload: Match.serializedJson({ postgres: 1, redis: 'PONG' }) }))
  .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(30) });

acknowledgeTestScaffolding(app);
app.synth();
