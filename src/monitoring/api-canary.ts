import { ArnFormat, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';
import type { AlarmConfig } from './alarm-config';
import type { AlarmDestination } from './alarm-destination';
import { CANARY_ENV, canaryScript } from './canary-script';
import { ROUTES } from '../contract/routes';
import type { IDurableOrchestrator } from '../durable-orchestrator/durable-orchestrator-base';
import { createAlarms } from '../private/alarms';
import { checkDurationRange, checkRange } from '../private/checks';
import { grantScoped } from '../private/grants';
import { acknowledgeCdkProviders, acknowledgeFindings } from '../private/nag';
import { removalPolicyOf } from '../private/throwaway';
import type { ISecureApi } from '../secure-api/secure-api-base';

/** The alarms of an `ApiCanary`, each an `AlarmConfig` overriding its defaults. */
export interface ApiCanaryAlarms {
  /**
   * The check failed: the canary's `SuccessPercent` below 100 (threshold 100, less than) in 2 of
   * 2 periods, each period as long as the schedule's interval (`schedule`). Periods without a run
   * are treated as missing (the alarm looks back to the last runs), so a canary that does not run
   * leaves the alarm in INSUFFICIENT_DATA rather than OK. On by default.
   *
   * @default - on, threshold 100, 2 of 2 periods of the schedule's interval
   */
  readonly failed?: AlarmConfig;
}

/** The settings an `ApiCanary` shares with its factories (`forHealthRoute`, `forWorkflowStatus`). */
export interface ApiCanaryOptions {
  /**
   * The path (and query) called under the base URL, starting with `/`, e.g. `/health` or
   * `/workflows?limit=1`.
   *
   * @default - '/health' for `new ApiCanary` and `forHealthRoute` (`for_health_route` in Python) (give the SecureApi's
   * `healthCheckPath` (`health_check_path` in Python) if you changed it); '/workflows?limit=1' for `forWorkflowStatus` (`for_workflow_status` in Python)
   */
  readonly path?: string;

  /**
   * The HTTP status code a healthy API answers; any other status (or no answer within 10
   * seconds) fails the run.
   *
   * @default 200
   */
  readonly expectedStatus?: number;

  /**
   * How often the canary runs: a whole number of minutes from 1 to 60.
   *
   * @default Duration.minutes(5)
   */
  readonly schedule?: Duration;

  /**
   * The canary's alarms and their settings.
   *
   * @default - the `failed` alarm with its defaults (see ApiCanaryAlarms)
   */
  readonly alarms?: ApiCanaryAlarms;

  /**
   * Where the canary's alarms notify.
   *
   * @default - alarms notify nobody; see AlarmDestination.notifyAlarmsIn
   */
  readonly alarmActions?: AlarmDestination;

  /**
   * A customer managed key that encrypts the artifacts the canary writes (its logs, results and
   * HTTP archive), and the bucket that holds them. The canary's role is granted encrypt and
   * decrypt with it.
   *
   * @default - SSE-S3 (keys managed by Amazon S3)
   */
  readonly artifactsEncryptionKey?: kms.IKey;

  /**
   * How long the run results and the artifacts of each run are kept: a whole number of days from
   * 1 to 455 (the longest Synthetics keeps run data). The bucket expires objects after it.
   *
   * @default Duration.days(30)
   */
  readonly artifactsRetention?: Duration;

  /**
   * What happens to the artifacts bucket when the canary is removed from the stack. With
   * `RemovalPolicy.DESTROY` the bucket is emptied and deleted.
   *
   * @default - RemovalPolicy.RETAIN (its objects still expire after artifactsRetention), or
   * DESTROY under the throwaway switch (Throwaway.enable)
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The Synthetics runtime: a Node.js Puppeteer runtime (`syn-nodejs-puppeteer-*`), whose
   * `Synthetics` module the script reports through. Pick a newer one when your aws-cdk-lib has
   * it (e.g. `synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_13_0`).
   *
   * @default synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_11_0 (Node.js 20, the newest of the oldest aws-cdk-lib this library supports)
   */
  readonly runtime?: synthetics.Runtime;
}

/** Properties of an `ApiCanary`. */
export interface ApiCanaryProps extends ApiCanaryOptions {
  /**
   * The API's base URL, including any base path (e.g. `secureApi.url` or
   * `orchestrator.apiUrl`): an `https://` URL, or a token. A trailing slash is dropped before
   * `path` is appended.
   */
  readonly url: string;

  /**
   * Whether to sign the request with SigV4 (service `execute-api`) with the credentials of the
   * canary's role, for routes with IAM authorization. Grant the role the route it calls (e.g.
   * `api.grantInvoke(canary, 'GET /items')`).
   *
   * @default false
   */
  readonly signed?: boolean;
}

/** The Synthetics runtime the canary runs on unless told otherwise. */
const DEFAULT_RUNTIME = synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_11_0;
/** Where in the artifacts bucket the canary writes. */
const ARTIFACTS_PREFIX = 'runs';
/** The metric namespace Synthetics publishes to (the only one the role may write). */
const SYNTHETICS_NAMESPACE = 'CloudWatchSynthetics';
const OWNER = 'ApiCanary';

/**
 * A CloudWatch Synthetics canary that calls one route of an API on a schedule and fails unless
 * the API answers the expected status; with an alarm on failures.
 *
 * The request is a plain `GET` (the health route, anonymous) or, with `signed`, a SigV4-signed
 * one made with the canary role's credentials (an IAM-authorized route, which you grant the
 * canary). The canary writes its artifacts to a bucket of its own (encrypted, TLS only, no public
 * access, objects expiring after `artifactsRetention`), under a role that may write only there,
 * publish only Synthetics metrics and write only its own logs.
 *
 * `ApiCanary.forHealthRoute(scope, id, api)` checks a SecureApi's health route;
 * `ApiCanary.forWorkflowStatus(scope, id, orchestrator)` lists workflows of an orchestrator with a
 * signed call and is granted that route.
 */
export class ApiCanary extends Construct implements iam.IGrantable {
  /**
   * A canary of the anonymous health route of a SecureApi (`GET <api.url>health`), expecting 200.
   *
   * @param scope the scope of the canary
   * @param id the id of the canary
   * @param api the API whose health route is checked
   * @param options the route (`path`, if the API's `healthCheckPath` is not `/health`), schedule, alarms and artifacts
   */
  public static forHealthRoute(scope: Construct, id: string, api: ISecureApi, options: ApiCanaryOptions = {}): ApiCanary {
    return new ApiCanary(scope, id, { ...options, url: api.url, path: options.path ?? '/health', signed: false });
  }

  /**
   * A canary of an orchestrator's API that lists one workflow (`GET <apiUrl>/workflows?limit=1`,
   * signed with SigV4), expecting 200: it proves the API, its IAM authorization and the workflow
   * table answer. The canary's role is granted the orchestrator's read routes
   * (`grantReadWorkflows`).
   *
   * @param scope the scope of the canary
   * @param id the id of the canary
   * @param orchestrator the orchestrator whose workflow list is read
   * @param options another read route (`path`), schedule, alarms and artifacts
   */
  public static forWorkflowStatus(scope: Construct, id: string, orchestrator: IDurableOrchestrator, options: ApiCanaryOptions = {}): ApiCanary {
    const canary = new ApiCanary(scope, id, {
      ...options,
      url: orchestrator.apiUrl,
      path: options.path ?? `${LIST_WORKFLOWS_PATH}?limit=1`,
      signed: true,
    });
    orchestrator.grantReadWorkflows(canary);
    return canary;
  }

  /** The Synthetics canary. */
  public readonly canary: synthetics.Canary;
  /** The role the canary runs as (and signs with): grant it the route it calls. */
  public readonly role: iam.Role;
  /** The canary's role, as the principal to grant. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The bucket of the canary's artifacts. */
  public readonly artifactsBucket: s3.Bucket;
  /** The alarms created (see `alarms` in the props). */
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ApiCanaryProps) {
    super(scope, id);
    validate(props);
    const schedule = props.schedule ?? Duration.minutes(5);
    const retention = props.artifactsRetention ?? Duration.days(30);
    const path = props.path ?? '/health';
    const key = props.artifactsEncryptionKey;

    const removalPolicy = removalPolicyOf(this, props.removalPolicy, RemovalPolicy.RETAIN);
    this.artifactsBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: key,
      bucketKeyEnabled: key ? true : undefined,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    acknowledgeCdkProviders(this.artifactsBucket);
    acknowledgeFindings(this.artifactsBucket, [{
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds only the canary\'s own run artifacts (logs, results, HTTP archives), written by the canary\'s role ' +
        'and expiring after the retention; server access logs would record those same writes.',
    }]);

    // The canary's name is fixed here (not left to the L2) so that the role can name the canary's
    // log groups before the canary exists. Synthetics names its function cwsyn-<name>-<uuid>,
    // within Lambda's 64 characters for a name of at most 21.
    const canaryName = Names.uniqueResourceName(this, { maxLength: 21, separator: '-' }).toLowerCase().replace(/[^0-9a-z_-]/g, '');
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the Synthetics canary ${canaryName} (${this.node.path})`,
    });
    this.grantPrincipal = this.role;
    this.grantRunPermissions(canaryName);

    const runtime = props.runtime ?? DEFAULT_RUNTIME;
    this.canary = new synthetics.Canary(this, 'Canary', {
      canaryName,
      runtime,
      test: synthetics.Test.custom({ code: synthetics.Code.fromInline(canaryScript()), handler: 'index.handler' }),
      schedule: synthetics.Schedule.rate(schedule),
      role: this.role,
      artifactsBucketLocation: { bucket: this.artifactsBucket, prefix: ARTIFACTS_PREFIX },
      artifactS3EncryptionMode: key ? synthetics.ArtifactsEncryptionMode.KMS : synthetics.ArtifactsEncryptionMode.S3_MANAGED,
      artifactS3KmsKey: key,
      successRetentionPeriod: retention,
      failureRetentionPeriod: retention,
      provisionedResourceCleanup: true,
      environmentVariables: {
        [CANARY_ENV.url]: props.url,
        [CANARY_ENV.path]: path,
        [CANARY_ENV.signed]: String(props.signed ?? false),
        [CANARY_ENV.expectedStatus]: String(props.expectedStatus ?? 200),
      },
    });
    // The first run must find the role's policies in place (they are a resource of their own).
    this.canary.node.addDependency(this.role);
    if (key) {
      // The L2 grants the role encrypt and decrypt with the key (kms:ReEncrypt*, kms:GenerateDataKey*).
      acknowledgeFindings(this.role, ['kms:ReEncrypt*', 'kms:GenerateDataKey*'].map((a) => ({
        id: `AwsSolutions-IAM5[Action::${a}]`,
        reason: 'The variants (ReEncryptFrom/To, GenerateDataKey, GenerateDataKeyWithoutPlaintext) that writing the canary\'s ' +
          'artifacts through their customer managed key calls; the statement names that one key and no other.',
      })));
    }

    this.alarms = createAlarms(this, {
      owner: OWNER,
      prop: 'alarms',
      specs: [{
        key: 'failed',
        name: 'Failed',
        description: `The canary's GET ${path} did not answer ${props.expectedStatus ?? 200} (SuccessPercent below 100) in consecutive runs`,
        metric: (period) => this.metricSuccessPercent({ period }),
        comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 100,
        enabled: true,
        evaluationPeriods: 2,
        period: schedule,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      }],
      configs: { ...props.alarms },
      destination: props.alarmActions,
    });
  }

  /**
   * The percentage of runs that passed (average per period, 0 to 100).
   *
   * @param props the metric's options (period, statistic, ...)
   */
  public metricSuccessPercent(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.canary.metricSuccessPercent(props);
  }

  /**
   * How long runs took, in milliseconds (average per period unless `statistic` says otherwise).
   *
   * @param props the metric's options (period, statistic, ...)
   */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.canary.metricDuration(props);
  }

  /** What a canary needs to run: write its artifacts, its metrics and its logs, nothing else. */
  private grantRunPermissions(canaryName: string): void {
    const bucket = this.artifactsBucket;
    grantScoped(this.role, {
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`${ARTIFACTS_PREFIX}/*`)],
      wildcardReason: `The canary writes each run's artifacts under ${ARTIFACTS_PREFIX}/ of its own bucket, at keys named by the run.`,
    });
    grantScoped(this.role, { actions: ['s3:GetBucketLocation'], resources: [bucket.bucketArn] });
    // Two actions that take no resource but *: one reason for both (cdk-nag names both findings the same).
    const anyResource = 'Two actions that take no resource but *: s3:ListAllMyBuckets, which the Synthetics runtime calls to find its ' +
      'artifacts bucket (AWS documents it as required for every canary; it lists bucket names and reads no object), and ' +
      `cloudwatch:PutMetricData, limited by its condition to the ${SYNTHETICS_NAMESPACE} namespace the canary reports to.`;
    grantScoped(this.role, { actions: ['s3:ListAllMyBuckets'], resources: ['*'], wildcardReason: anyResource });
    grantScoped(this.role, {
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': SYNTHETICS_NAMESPACE } },
      wildcardReason: anyResource,
    });
    grantScoped(this.role, {
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [Stack.of(this).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `/aws/lambda/cwsyn-${canaryName}-*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })],
      wildcardReason: `Synthetics names the canary's function cwsyn-${canaryName}-<id> with an id it chooses; the log group is that function's, `
        + 'and the wildcard stands for the id (and the log streams in it).',
    });
  }
}

/** `GET /workflows` of the orchestrator's API (the contract's list route). */
const LIST_WORKFLOWS_PATH = (() => {
  const route = ROUTES.find((r) => r.operation === 'listWorkflows');
  if (!route) throw new Error('the contract has no listWorkflows route');
  return route.path;
})();

function validate(props: ApiCanaryProps): void {
  if (!Token.isUnresolved(props.url)) {
    let url: URL | undefined;
    try {
      url = new URL(props.url);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || url.search || url.hash) {
      throw new Error(`${OWNER}: url '${props.url}' must be an https:// base URL without query or fragment, e.g. secureApi.url or ` +
        'orchestrator.apiUrl (put the query in path)');
    }
  }
  if (props.path !== undefined && !Token.isUnresolved(props.path) && (!/^\/[\x21-\x7e]*$/.test(props.path) || props.path.includes('#'))) {
    throw new Error(`${OWNER}: path '${props.path}' must start with '/' and hold no spaces or '#', e.g. '/health' or '/workflows?limit=1'`);
  }
  checkRange(OWNER, 'expectedStatus', props.expectedStatus, { min: 100, max: 599, fix: 'give an HTTP status code, e.g. 200' });
  checkDurationRange(OWNER, 'schedule', props.schedule, {
    min: Duration.minutes(1), max: Duration.minutes(60), subject: 'a canary\'s interval', fix: 'use Duration.minutes(n) with n from 1 to 60',
  });
  if (props.schedule && !props.schedule.isUnresolved() && props.schedule.toSeconds() % 60 !== 0) {
    throw new Error(`${OWNER}: schedule is ${props.schedule.toHumanString()}, not a whole number of minutes: use Duration.minutes(n) with n from 1 to 60`);
  }
  checkDurationRange(OWNER, 'artifactsRetention', props.artifactsRetention, {
    min: Duration.days(1), max: Duration.days(455), whole: 'days', subject: 'the retention of canary runs',
  });
  const runtime = props.runtime;
  if (runtime && !Token.isUnresolved(runtime.name) && !runtime.name.startsWith('syn-nodejs-puppeteer-')) {
    throw new Error(`${OWNER}: runtime ${runtime.name} is not a Node.js Puppeteer runtime; the canary's script reports through its ` +
      'Synthetics module: use one of synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_* (e.g. SYNTHETICS_NODEJS_PUPPETEER_11_0)');
  }
}
