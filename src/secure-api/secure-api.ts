import { Annotations, Aspects, CfnOutput, Duration, IAspect, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpAlbIntegration, HttpLambdaIntegration, HttpServiceDiscoveryIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, IConstruct } from 'constructs';
import { ApiAuthorization, ApiAuthorizationType } from './api-authorization';
import { ImportedSecureApi } from './imported-secure-api';
import { PATH } from './routes';
import { SecureApiAlarms, ServiceAlarms } from './secure-api-alarms';
import { ISecureApi, SecureApiAttributes, SecureApiBase } from './secure-api-base';
import { SecureApiInternalServiceOptions, SecureApiService, SecureApiServiceOptions, SecureApiServiceRouteOptions } from './secure-api-service';
import { ServiceCapacity } from './service-capacity';
import { SecureApiServiceParts } from './service-parts';
import { ServiceRouting } from './service-routing';
import { AgentArchitecture } from '../container-agent/agent-image';
import { AlarmDestination } from '../monitoring/alarm-destination';
import { ApiCanary } from '../monitoring/api-canary';
import { AlarmSpec, createAlarms } from '../private/alarms';
import { checkDurationRange, checkRange } from '../private/checks';
import { HealthCheck } from '../private/health-check';
import { acknowledgeImagePullToken } from '../private/image-pull';
import { logsKey } from '../private/log-encryption';
import { acknowledgeCdkProviders, acknowledgeFindings } from '../private/nag';
import { addStackOutputs } from '../private/outputs';
import { removalPolicyOf } from '../private/throwaway';
import { flowLoggedVpc, publicAndPrivateSubnets } from '../private/vpc';

// The interface, the attributes of an import and the base class that holds the grants and metrics.
export * from './secure-api-base';
// The alarms of the API and of its services.
export * from './secure-api-alarms';

/** A custom domain of a `SecureApi`. */
export interface SecureApiDomainProps {
  /** The domain name, e.g. `api.example.com`. */
  readonly domainName: string;
  /** A certificate for `domainName` (`domain_name` in Python), in the API's region. */
  readonly certificate: acm.ICertificate;
  /**
   * A hosted zone to create an alias A record for `domainName` (`domain_name` in Python) in.
   * @default - no record: point the name at the API's regional domain name yourself
   */
  readonly hostedZone?: route53.IHostedZone;
}

/** TLS between API Gateway and the internal load balancer. */
export interface SecureApiLoadBalancerTlsProps {
  /** The load balancer's certificate (HTTPS listener on 443; port 80 redirects to it). */
  readonly certificate: acm.ICertificate;
  /**
   * The name API Gateway verifies the certificate against (a name the certificate covers;
   * it need not resolve in DNS).
   */
  readonly serverName: string;
}

/** Properties of a `SecureApi`. */
export interface SecureApiProps {
  /**
   * How every route authorizes callers, unless the route says otherwise. `ApiAuthorization.none()`
   * is refused here: anonymous routes are declared one by one.
   * @default ApiAuthorization.iam()
   */
  readonly authorization?: ApiAuthorization;

  /**
   * Steady-state requests per second the stage accepts (all routes together).
   * @default 100
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of requests the stage accepts above the steady rate.
   * @default 200
   */
  readonly throttlingBurstLimit?: number;

  /**
   * The log group for the JSON access logs.
   * @default - a new log group with `logRetention` (`log_retention` in Python)
   */
  readonly accessLogGroup?: logs.ILogGroup;

  /**
   * Retention of the logs the construct creates (access logs, health function, services).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * CORS of the API (API Gateway answers preflight requests itself, without authorization).
   * @default - no CORS: browsers on other origins cannot call the API
   */
  readonly cors?: apigwv2.CorsPreflightOptions;

  /**
   * A custom domain, with its certificate and optionally a Route 53 alias record.
   * @default - only the execute-api endpoint
   */
  readonly domain?: SecureApiDomainProps;

  /**
   * Whether to turn off the default `execute-api` endpoint, so that clients must use `domain`.
   * @default false
   */
  readonly disableExecuteApiEndpoint?: boolean;

  /**
   * Path of the unauthenticated health route (`GET`), answered with `{"status":"ok"}`.
   * @default '/health'
   */
  readonly healthCheckPath?: string;

  /**
   * The VPC of the services, the load balancer and the VPC link. Only used once a service is added.
   * @default - the cluster's VPC, or a new VPC (two AZs, one NAT gateway, flow logs) on the first service
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets of the services, the load balancer and the VPC link.
   * @default - the private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The ECS cluster of the services.
   * @default - a new cluster (Container Insights on) on the first service
   */
  readonly cluster?: ecs.ICluster;

  /**
   * How services added with `addService` are reached from the VPC link: through an internal
   * Application Load Balancer with a WAF web ACL (`ServiceRouting.loadBalancer()`), or straight
   * to their tasks through Cloud Map SRV records, with no load balancer and no WAF
   * (`ServiceRouting.cloudMap()`: give `waf: false` with it, and a container `healthCheck` to
   * each service). See `ServiceRouting` for what each costs and checks.
   * @default ServiceRouting.loadBalancer()
   */
  readonly serviceRouting?: ServiceRouting;

  /**
   * TLS on the load balancer. Without it the listener speaks HTTP on port 80: traffic from API
   * Gateway then travels unencrypted from the VPC link to the load balancer inside the VPC
   * (clients always reach API Gateway over HTTPS).
   * @default - HTTP listener on port 80
   */
  readonly loadBalancerTls?: SecureApiLoadBalancerTlsProps;

  /**
   * Whether a WAF web ACL (AWS managed common, known-bad-inputs and IP-reputation rules, and a
   * rate rule per caller) protects the load balancer. WAF cannot be attached to an HTTP API, so
   * Lambda routes are protected by authorization and throttling only. Behind the VPC link the
   * load balancer's peer is API Gateway: the rate rule counts by `CLIENT_IP_HEADER`, and the
   * IP-reputation rules see only the VPC link's addresses.
   * @default true
   */
  readonly waf?: boolean;

  /**
   * Requests per 5 minutes from one client address above which the WAF rate rule blocks
   * (10 to 2,000,000,000; some regions accept no less than 100).
   * @default 2000
   */
  readonly wafRateLimit?: number;

  /**
   * Whether the load balancer writes access logs to a new encrypted bucket. Needs the stack's
   * region to be known at synth.
   * @default true
   */
  readonly loadBalancerAccessLogs?: boolean;

  /**
   * Name of the Cloud Map private DNS namespace of internal services. Two `SecureApi`s in one
   * VPC need different names.
   * @default - the cluster's default namespace if it has one, else a new namespace 'internal'
   */
  readonly cloudMapNamespaceName?: string;

  /**
   * What happens to the access log group, the load balancer's log bucket and the health canary's
   * artifacts bucket when the stack deletes them. With `DESTROY` the buckets' objects are deleted too.
   * @default - RemovalPolicy.RETAIN; DESTROY under the throwaway switch (`Throwaway.enable(scope)`)
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The alarms of the API: 5xx answers (on), 4xx answers and p99 latency (off), and once the
   * first service is added the load balancer's own 5xx answers (on). Each member overrides one
   * alarm's defaults (see `SecureApiAlarms`). The alarms of each service are set with the
   * service's own `alarms` option.
   * @default - the defaults of each alarm in `SecureApiAlarms`
   */
  readonly alarms?: SecureApiAlarms;

  /**
   * Where the alarms of the API and of its services notify: `AlarmDestination.topic(topic)` or
   * `AlarmDestination.email(address)`.
   * @default - alarms notify nobody; see AlarmDestination.notifyAlarmsIn
   */
  readonly alarmActions?: AlarmDestination;

  /**
   * A customer managed key that encrypts the log groups the API creates: the access log group
   * (not a given `accessLogGroup` (`access_log_group` in Python)), the health function's, each service's and the flow logs of a
   * VPC the API creates. A key of this app gets a key policy statement letting CloudWatch Logs of
   * its account and region use it; the policy of an imported key must already allow
   * `logs.<region>.amazonaws.com` to use it.
   * @default - the log groups are encrypted with keys CloudWatch Logs owns
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Whether to add a CloudWatch Synthetics canary that calls the API's health route
   * (`GET <url><healthCheckPath>`, unsigned) every 5 minutes, with an alarm when it fails that
   * notifies `alarmActions` (`alarm_actions` in Python). For other settings use `ApiCanary.forHealthRoute(scope, id, api, options)`.
   * @default false
   */
  readonly healthCanary?: boolean;
}

/** Options of `SecureApi.addOutputs` (`SecureApi.add_outputs` in Python). */
export interface SecureApiOutputsOptions {
  /**
   * The start of every output's logical id (letters and digits, starting with a letter): the
   * outputs are `<prefix>Url`, `<prefix>HttpApiId`, `<prefix>AccessLogGroupName`.
   * @default - the API's path in its stack, letters and digits only (`Api` for a `SecureApi` with the id `Api` at the top of its stack)
   */
  readonly outputIdPrefix?: string;

  /**
   * Exports the outputs as `<exportNamePrefix>-<name>` (e.g. `front-door-Url`), for other stacks
   * of the account and region to read with `Fn.importValue`.
   * @default - the outputs are not exported
   */
  readonly exportNamePrefix?: string;
}

/** Options of `SecureApi.addLambdaRoute` (`SecureApi.add_lambda_route` in Python). */
export interface SecureApiLambdaRouteOptions {
  /**
   * The route's path, e.g. `/items/{id}` or `/files/{proxy+}`. Compose a prefix yourself:
   * `${prefix}/items`.
   */
  readonly path: string;
  /** The function answering the route (payload format 2.0). */
  readonly handler: lambda.IFunction;
  /**
   * The methods of the route (one route each).
   * @default [apigwv2.HttpMethod.ANY]
   */
  readonly methods?: apigwv2.HttpMethod[];
  /**
   * How the route authorizes callers.
   * @default - the API's authorization
   */
  readonly authorization?: ApiAuthorization;
  /**
   * OAuth scopes a JWT must hold (JWT authorization only).
   * @default - none
   */
  readonly authorizationScopes?: string[];
}

/** One route as the API knows it. */
interface RouteRecord {
  readonly method: string;
  readonly path: string;
  readonly authorizationType: ApiAuthorizationType;
}

/** How `addRoute` treats a route. */
interface AddRouteOptions {
  /** Whether to refuse a path under a service's prefix (false for the service's own routes). Default true. */
  readonly checkOverlap?: boolean;
  /** Whether this is the API's own health route (anonymous by design, acknowledged where it is added). Default false. */
  readonly health?: boolean;
}

/** Everything behind the VPC link, created with the first routed service (load balancer routing). */
interface Edge {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly vpcLink: apigwv2.VpcLink;
  readonly webAcl?: wafv2.CfnWebACL;
  readonly accessLogBucket?: s3.Bucket;
}

/** The VPC link and its security group, created with the first routed service. */
interface Link {
  readonly vpcLink: apigwv2.VpcLink;
  readonly securityGroup: ec2.SecurityGroup;
}

const PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const FARGATE_CPU = [256, 512, 1024, 2048, 4096, 8192, 16384];
/** See `SecureApi.CLIENT_IP_HEADER`. */
const CLIENT_IP_HEADER = 'x-client-source-ip';

/**
 * One front door for Lambda routes and Fargate services: an API Gateway HTTP API with
 * authorization on every route (IAM by default, or a JWT authorizer), stage throttling, JSON
 * access logs, optional CORS and custom domain, and a single anonymous `GET /health` route.
 *
 * Lambda functions are added with `addLambdaRoute`. Fargate services added with `addService`
 * sit behind an internal Application Load Balancer reached through a VPC link; the load
 * balancer admits only the VPC link, logs to an encrypted bucket, and is protected by a WAF web
 * ACL (WAF cannot be attached to an HTTP API). Services added with `addInternalService` are
 * registered in Cloud Map and never routed from the API. The VPC, cluster, load balancer and
 * WAF are created only when a service needs them.
 */
export class SecureApi extends SecureApiBase {
  /**
   * The header in which services receive the caller's IP address: API Gateway writes it on
   * every request it forwards to the load balancer, overwriting any value the caller sent (the
   * load balancer's own peer is the VPC link). The WAF rate rule counts requests by it.
   */
  public static readonly CLIENT_IP_HEADER: string = CLIENT_IP_HEADER;

  /**
   * A `SecureApi` created in another stack or app, to grant callers its IAM-authorized routes
   * with `grantInvoke` and to read its metrics. The import creates no resource and takes no
   * routes: it knows neither the API's routes nor their authorization, so `grantInvoke` checks
   * only the form of the route (add routes in the stack that created the API). The API must be
   * in the importing stack's account and region.
   *
   * @param scope the scope of the import
   * @param id the id of the import
   * @param attrs the API's id (and its URL when it has a custom domain)
   */
  public static fromSecureApiAttributes(scope: Construct, id: string, attrs: SecureApiAttributes): ISecureApi {
    return new ImportedSecureApi(scope, id, attrs);
  }

  /** The HTTP API. */
  public readonly httpApi: apigwv2.HttpApi;
  /** The `$default` stage (throttling, access logs). */
  public readonly stage: apigwv2.HttpStage;
  /** The log group of the access logs. */
  public readonly accessLogGroup: logs.ILogGroup;
  /** The function behind the health route. */
  public readonly healthFunction: lambda.IFunction;
  /** The default authorization of the routes. */
  public readonly authorization: ApiAuthorization;
  /** The custom domain; absent without `domain`. */
  public readonly domainName?: apigwv2.DomainName;
  /**
   * The alarms of the API that were created (see `alarms` and `SecureApiAlarms`): those of the
   * HTTP API, and the load balancer's once the first service is added. Each service's alarms are
   * the service's `alarms`.
   */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The canary that calls the health route; absent unless `healthCanary` is true. */
  public readonly healthCanary?: ApiCanary;

  private readonly props: SecureApiProps;
  private readonly logRetention: logs.RetentionDays;
  private readonly removalPolicy: RemovalPolicy;
  private readonly healthPath: string;
  private readonly routes = new Map<string, RouteRecord>();
  private readonly authorizers = new Map<ApiAuthorization, apigwv2.IHttpRouteAuthorizer>();
  private readonly integrations = new Map<lambda.IFunction, HttpLambdaIntegration>();
  private readonly _services: SecureApiService[] = [];
  private _vpc?: ec2.IVpc;
  private _cluster?: ecs.ICluster;
  private _namespace?: servicediscovery.INamespace;
  private _edge?: Edge;
  private _link?: Link;
  private readonly routing: ServiceRouting;
  private rulePriority = 0;

  constructor(scope: Construct, id: string, props: SecureApiProps = {}) {
    super(scope, id);
    validateProps(props);
    this.props = props;
    this.routing = props.serviceRouting ?? ServiceRouting.loadBalancer();
    this.authorization = props.authorization ?? ApiAuthorization.iam();
    this.logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.removalPolicy = removalPolicyOf(this, props.removalPolicy, RemovalPolicy.RETAIN);
    this.healthPath = props.healthCheckPath ?? '/health';
    this._vpc = props.vpc ?? props.cluster?.vpc;
    this._cluster = props.cluster;

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: `${this.node.path}: every route but GET ${this.healthPath} requires ${this.authorization.description} authorization`,
      createDefaultStage: false,
      corsPreflight: props.cors,
      disableExecuteApiEndpoint: props.disableExecuteApiEndpoint,
    });
    this.accessLogGroup = props.accessLogGroup ?? new logs.LogGroup(this, 'AccessLogs', {
      retention: this.logRetention,
      removalPolicy: this.removalPolicy,
      encryptionKey: logsKey(props.logEncryptionKey),
    });
    if (props.domain) {
      this.domainName = new apigwv2.DomainName(this, 'DomainName', {
        domainName: props.domain.domainName,
        certificate: props.domain.certificate,
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      });
    }
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttlingRateLimit ?? 100, burstLimit: props.throttlingBurstLimit ?? 200 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: apigw.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      domainMapping: this.domainName ? { domainName: this.domainName } : undefined,
    });
    if (props.domain?.hostedZone && this.domainName) {
      new route53.ARecord(this, 'AliasRecord', {
        zone: props.domain.hostedZone,
        recordName: props.domain.domainName,
        target: route53.RecordTarget.fromAlias(new route53targets.ApiGatewayv2DomainProperties(
          this.domainName.regionalDomainName, this.domainName.regionalHostedZoneId)),
      });
    }

    // The only anonymous route of the API, unless a route asks for ApiAuthorization.none().
    const health = new HealthCheck(this, 'Health', { logRetention: this.logRetention, logEncryptionKey: props.logEncryptionKey });
    this.healthFunction = health.function;
    const [healthRoute] = this.addRoute('AnonymousHealth', this.healthPath, [apigwv2.HttpMethod.GET],
      new HttpLambdaIntegration('HealthIntegration', this.healthFunction), ApiAuthorization.none(), undefined, { health: true });
    acknowledgeFindings(healthRoute, [{
      id: 'AwsSolutions-APIG4',
      reason: `GET ${this.healthPath} is the API's health check: it is anonymous on purpose, answers a constant {"status":"ok"} ` +
        'from a function that reads and writes nothing, and is throttled with the stage.',
    }]);

    this.alarms.push(...createAlarms(this, {
      owner: 'SecureApi',
      prop: 'alarms',
      specs: this.apiAlarmSpecs(),
      // The load balancer's alarm is created with the load balancer (edge()); every key is checked here.
      configs: { ...props.alarms, loadBalancer5xx: undefined },
      laterKeys: ['loadBalancer5xx'],
      destination: props.alarmActions,
    }));

    if (props.healthCanary) {
      this.healthCanary = ApiCanary.forHealthRoute(this, 'HealthCanary', this, {
        path: this.healthPath,
        alarmActions: props.alarmActions,
        removalPolicy: props.removalPolicy,
      });
      this.alarms.push(...this.healthCanary.alarms);
    }

    Aspects.of(this).add(new UnusedEdgeSettings(this, props));
  }

  /** The base URL of the API, ending in `/`: the custom domain's when `domain` is set, else the stage's. */
  public get url(): string {
    return this.props.domain ? `https://${this.props.domain.domainName}/` : this.stage.url;
  }

  /** The VPC of the services; absent until a service is added (unless given). */
  public get vpc(): ec2.IVpc | undefined {
    return this._vpc;
  }

  /** The ECS cluster of the services; absent until a service is added (unless given). */
  public get cluster(): ecs.ICluster | undefined {
    return this._cluster;
  }

  /** The internal load balancer; absent until `addService` is called, and with `ServiceRouting.cloudMap()`. */
  public get loadBalancer(): elbv2.ApplicationLoadBalancer | undefined {
    return this._edge?.loadBalancer;
  }

  /** The listener the API reaches through the VPC link; absent until `addService` is called, and with `ServiceRouting.cloudMap()`. */
  public get listener(): elbv2.ApplicationListener | undefined {
    return this._edge?.listener;
  }

  /** The VPC link; absent until `addService` is called. */
  public get vpcLink(): apigwv2.VpcLink | undefined {
    return this._link?.vpcLink;
  }

  /** The WAF web ACL on the load balancer; absent until `addService` is called, with `waf: false` (always so with `ServiceRouting.cloudMap()`). */
  public get webAcl(): wafv2.CfnWebACL | undefined {
    return this._edge?.webAcl;
  }

  /** The bucket of the load balancer's access logs; absent until `addService`, with `loadBalancerAccessLogs: false`, and with `ServiceRouting.cloudMap()`. */
  public get loadBalancerAccessLogBucket(): s3.Bucket | undefined {
    return this._edge?.accessLogBucket;
  }

  /** The Cloud Map namespace of internal services (and of routed ones with `ServiceRouting.cloudMap()`); absent until such a service is added. */
  public get cloudMapNamespace(): servicediscovery.INamespace | undefined {
    return this._namespace;
  }

  /** The services added so far (routed and internal), in the order they were added. */
  public get services(): SecureApiService[] {
    return [...this._services];
  }

  /**
   * Responses the load balancer generated itself with 5xx (`HTTPCode_ELB_5XX_Count`: no healthy
   * target, a target that closed the connection or timed out; sum unless `statistic` says
   * otherwise). The load balancer exists once `addService` is called: before that, and with
   * `ServiceRouting.cloudMap()` (no load balancer at all), the call throws.
   */
  public metricLoadBalancer5xx(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (this.routing._cloudMap) {
      throw new Error(`SecureApi.metricLoadBalancer5xx: ${this.node.path} routes its services through Cloud Map (ServiceRouting.cloudMap()), ` +
        'so it has no load balancer to measure; use metricServerErrors (5xx answers of the API, failed integrations included), or ServiceRouting.loadBalancer()');
    }
    if (!this._edge) {
      throw new Error(`SecureApi.metricLoadBalancer5xx: ${this.node.path} has no load balancer yet; it is created by the first ` +
        'addService() call (internal services have none). Call addService() before asking for the load balancer\'s metrics');
    }
    return this._edge.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, props);
  }

  /**
   * Adds stack outputs a person or a script reads after deploy: `<prefix>Url` (the API's base
   * URL), `<prefix>HttpApiId` (for `SecureApi.fromSecureApiAttributes`) and
   * `<prefix>AccessLogGroupName`. The API creates no output unless this is called. Call it once.
   *
   * @param options the logical id prefix and, to export them, the export name prefix
   * @returns the outputs, in the order above
   */
  public addOutputs(options: SecureApiOutputsOptions = {}): CfnOutput[] {
    const path = this.node.path;
    return addStackOutputs(this, 'SecureApi.addOutputs', [
      { name: 'Url', value: this.url, description: `Base URL of the SecureApi ${path} (ends in /)` },
      { name: 'HttpApiId', value: this.httpApi.apiId, description: `Id of the HTTP API of ${path} (httpApiId of SecureApi.fromSecureApiAttributes)` },
      { name: 'AccessLogGroupName', value: this.accessLogGroup.logGroupName, description: `Access log group of the SecureApi ${path}` },
    ], options);
  }

  /**
   * Routes `path` (one route per method) to a Lambda function. Calls with the same function
   * share one integration, so one function can answer several routes.
   *
   * @param id the prefix of the routes' ids (`<id><METHOD>Route`, one per method), unique per call
   * @param options the path, methods, function and authorization of the routes
   * @returns the routes created, one per method
   */
  public addLambdaRoute(id: string, options: SecureApiLambdaRouteOptions): apigwv2.HttpRoute[] {
    let integration = this.integrations.get(options.handler);
    if (!integration) {
      integration = new HttpLambdaIntegration(`${id}Integration`, options.handler);
      this.integrations.set(options.handler, integration);
    }
    return this.addRoute(id, options.path, options.methods ?? [apigwv2.HttpMethod.ANY], integration,
      options.authorization ?? this.authorization, options.authorizationScopes);
  }

  /**
   * A Fargate service routed from the API under `pathPrefix`: behind the internal load balancer
   * (the first call creates the VPC (unless given), cluster, load balancer, VPC link and WAF web
   * ACL), or with `ServiceRouting.cloudMap()` reached through the VPC link at its Cloud Map SRV
   * records (the first call creates the VPC, cluster, namespace and VPC link).
   */
  public addService(id: string, options: SecureApiServiceOptions): SecureApiService {
    const what = `SecureApi.addService('${id}')`;
    checkServiceOptions(what, options);
    if (this.routing._cloudMap) checkCloudMapServiceOptions(what, options);
    checkDurationRange(what, 'healthCheckGracePeriod', options.healthCheckGracePeriod, {
      min: Duration.seconds(0), max: Duration.seconds(2_147_483_647), subject: 'ECS\'s grace period',
    });
    const prefix = options.pathPrefix;
    if (!Token.isUnresolved(prefix)) {
      if (!PREFIX.test(prefix)) {
        throw new Error(`SecureApi.addService('${id}'): pathPrefix '${prefix}' must start with '/', hold segments of letters, ` +
          'digits, - _ . ~ and no parameters, and not end with \'/\' (e.g. \'/web\')');
      }
      this.checkPathFree(`addService('${id}')`, prefix, true);
    }
    const healthCheckPath = options.healthCheckPath ?? '/health';
    if (!Token.isUnresolved(healthCheckPath) && !/^\/[\x21-\x7e]*$/.test(healthCheckPath)) {
      throw new Error(`SecureApi.addService('${id}'): healthCheckPath '${healthCheckPath}' must start with '/' and hold no spaces`);
    }
    checkRange(what, 'requestsPerTarget', options.requestsPerTarget, { min: 1, max: 1_000_000 });
    const authorization = options.authorization ?? this.authorization;
    const routes = serviceRoutes(what, id, prefix, authorization, options);
    if (this.routing._cloudMap) return this.addCloudMapService(id, what, prefix, routes, options);
    const edge = this.edge();
    const scope = new Construct(this, id);
    const parts = this.createFargateService(scope, id, options, undefined, options.healthCheckGracePeriod ?? Duration.seconds(60));

    this.rulePriority += 10;
    const targetGroup = edge.listener.addTargets(`${id}Targets`, {
      priority: this.rulePriority,
      conditions: [elbv2.ListenerCondition.pathPatterns([prefix, `${prefix}/*`])],
      port: parts.containerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [parts.service.loadBalancerTarget({ containerName: parts.containerName, containerPort: parts.containerPort })],
      healthCheck: {
        path: healthCheckPath,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      deregistrationDelay: Duration.seconds(30),
    });
    parts.scaling?.scaleOnRequestCount('RequestScaling', {
      requestsPerTarget: options.requestsPerTarget ?? 1000,
      targetGroup,
    });

    const integration = new HttpAlbIntegration(`${id}Integration`, edge.listener, {
      vpcLink: edge.vpcLink,
      secureServerName: this.props.loadBalancerTls?.serverName,
      // The load balancer's peer is the VPC link; tell it (and the WAF) who the caller is, in a
      // header the caller cannot set (API Gateway overwrites it).
      parameterMapping: new apigwv2.ParameterMapping()
        .overwriteHeader(CLIENT_IP_HEADER, apigwv2.MappingValue.contextVariable('identity.sourceIp')),
    });
    // The prefix and the paths of `routes` (all under it) were checked above: these routes are the service's own.
    for (const r of routes) {
      this.addRoute(r.id, r.path, r.methods, integration, r.authorization, r.authorizationScopes, { checkOverlap: false });
    }

    const service = SecureApiService._create({ ...parts, serviceId: id, targetGroup, pathPrefix: prefix });
    this.addServiceAlarms(scope, what, service, options, parts.minCapacity);
    this._services.push(service);
    return service;
  }

  /** `addService` with `ServiceRouting.cloudMap()`: the VPC link reaches the tasks at their SRV records. */
  private addCloudMapService(id: string, what: string, prefix: string, routes: ServiceRoute[], options: SecureApiServiceOptions): SecureApiService {
    const name = this.discoveryNameOf(what, id, options.discoveryName);
    const namespace = this.namespace();
    const link = this.link();
    const scope = new Construct(this, id);
    const parts = this.createFargateService(scope, id, options, {
      cloudMapNamespace: namespace,
      name,
      // SRV records carry the port: API Gateway's private integration needs it.
      dnsRecordType: servicediscovery.DnsRecordType.SRV,
      dnsTtl: Duration.seconds(10),
      containerPort: options.containerPort ?? 8080,
    }, undefined, 'addService');
    // The tasks admit the VPC link only, on the container port (and the link reaches only them).
    parts.service.connections.allowFrom(link.securityGroup, ec2.Port.tcp(parts.containerPort), 'From the API Gateway VPC link only');
    const integration = new HttpServiceDiscoveryIntegration(`${id}Integration`, parts.service.cloudMapService!, {
      vpcLink: link.vpcLink,
      // The tasks' peer is the VPC link; tell them who the caller is, in a header the caller cannot set.
      parameterMapping: new apigwv2.ParameterMapping()
        .overwriteHeader(CLIENT_IP_HEADER, apigwv2.MappingValue.contextVariable('identity.sourceIp')),
    });
    for (const r of routes) {
      this.addRoute(r.id, r.path, r.methods, integration, r.authorization, r.authorizationScopes, { checkOverlap: false });
    }
    const service = SecureApiService._create({ ...parts, serviceId: id, pathPrefix: prefix, discoveryName: `${name}.${namespace.namespaceName}` });
    this.addServiceAlarms(scope, what, service, options, parts.minCapacity);
    this._services.push(service);
    return service;
  }

  /** The Cloud Map name of a service: `discoveryName`, or the id lower-cased; unique among the API's services. */
  private discoveryNameOf(what: string, id: string, discoveryName: string | undefined): string {
    const name = discoveryName ?? id.toLowerCase().replace(/[^a-z0-9-]/g, '');
    if (!Token.isUnresolved(name) && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
      throw new Error(`${what}: discoveryName '${name}' must be a DNS label ` +
        '(lower-case letters, digits and -, at most 63 characters); set discoveryName');
    }
    if (this._services.some((s) => s.discoveryName?.split('.')[0] === name)) {
      throw new Error(`${what}: another service is named '${name}' in Cloud Map; set discoveryName`);
    }
    return name;
  }

  /**
   * A Fargate service registered in the Cloud Map namespace (`<discoveryName>.<namespace>`),
   * reachable only from inside the VPC and never routed from the API (for example a gRPC
   * engine). Its tasks admit nothing until you allow it: `service.connections.allowFrom(...)`.
   */
  public addInternalService(id: string, options: SecureApiInternalServiceOptions): SecureApiService {
    checkServiceOptions(`SecureApi.addInternalService('${id}')`, options);
    for (const key of LOAD_BALANCER_SERVICE_ALARMS) {
      if (options.alarms?.[key] !== undefined) {
        throw new Error(`SecureApi.addInternalService('${id}'): alarms.${key} watches the service's target group on the load balancer, ` +
          'and an internal service has none; remove it (or add the service with addService to route it through the load balancer)');
      }
    }
    const name = this.discoveryNameOf(`SecureApi.addInternalService('${id}')`, id, options.discoveryName);
    const namespace = this.namespace();
    const scope = new Construct(this, id);
    const parts = this.createFargateService(scope, id, options, {
      cloudMapNamespace: namespace,
      name,
      dnsRecordType: servicediscovery.DnsRecordType.A,
      dnsTtl: Duration.seconds(10),
    });
    if (!options.healthCheck) {
      Annotations.of(scope).addWarningV2('cdk-durable-agents:secureApiInternalServiceWithoutHealthCheck',
        `Internal service '${id}' has no healthCheck: it has no load balancer, so nothing checks that its tasks answer; ECS replaces a ` +
        'task only when its process exits, and a deployment that starts but never serves is not rolled back. Give healthCheck: ' +
        '{ command: [...] } with a command the image can run (e.g. [\'CMD\', \'/app/healthcheck\'] or [\'CMD-SHELL\', \'grpc_health_probe ' +
        '-addr=localhost:50051\']), or acknowledge this warning where the process exiting is check enough.');
    }
    const service = SecureApiService._create({ ...parts, serviceId: id, discoveryName: `${name}.${namespace.namespaceName}` });
    this.addServiceAlarms(scope, `SecureApi.addInternalService('${id}')`, service, options, parts.minCapacity);
    this._services.push(service);
    return service;
  }

  /**
   * A grant of every route lets someone in only when the API authorizes with IAM.
   * @internal
   */
  protected _checkInvokeAll(): void {
    if (this.authorization.authorizationType !== ApiAuthorizationType.IAM) {
      throw new Error(`SecureApi.grantInvoke: the API authorizes with ${this.authorization.description}, not IAM; an IAM grant ` +
        'would let no one in. Give callers tokens from your issuer, or grant one IAM-authorized route by name');
    }
  }

  /**
   * The route must be added, now or before synth, and authorize with IAM.
   * @internal
   */
  protected _checkInvokeRoute(route: string, method: string, path: string): void {
    const check = (): string | undefined => {
      const record = this.routes.get(`${method} ${path}`) ?? this.routes.get(`ANY ${path}`);
      if (!record) return `SecureApi.grantInvoke: no route '${route}' was added to ${this.node.path}; add it, or fix the grant`;
      if (record.authorizationType !== ApiAuthorizationType.IAM) {
        return `SecureApi.grantInvoke: route '${record.method} ${record.path}' authorizes with ${record.authorizationType}, not IAM; ` +
          'an IAM grant does nothing there';
      }
      return undefined;
    };
    // The route may be added after the grant; then it is checked at synth.
    if (this.routes.has(`${method} ${path}`) || this.routes.has(`ANY ${path}`)) {
      const problem = check();
      if (problem) throw new Error(problem);
    } else {
      this.node.addValidation({ validate: () => { const p = check(); return p ? [p] : []; } });
    }
  }

  private addRoute(id: string, path: string, methods: apigwv2.HttpMethod[], integration: apigwv2.HttpRouteIntegration,
    authorization: ApiAuthorization, authorizationScopes: string[] | undefined, opts: AddRouteOptions = {}): apigwv2.HttpRoute[] {
    const what = `route '${id}'`;
    if (!Token.isUnresolved(path)) {
      if (!PATH.test(path)) {
        throw new Error(`SecureApi: ${what} has path '${path}'; a path starts with '/', has segments of letters, digits, - _ . ~ ` +
          'or parameters like {id}, and does not end with \'/\' (e.g. \'/items/{id}\')');
      }
      const greedy = path.indexOf('+}');
      if (greedy >= 0 && greedy !== path.length - 2) {
        throw new Error(`SecureApi: ${what} has path '${path}'; a greedy parameter {name+} may only be the last segment`);
      }
      if (!opts.health && path === this.healthPath) {
        throw new Error(`SecureApi: ${what} has path '${path}', which is the API's anonymous health route; choose another path ` +
          'or set healthCheckPath');
      }
      if (opts.checkOverlap !== false) this.checkPathFree(what, path, false);
    }
    if (methods.length === 0) throw new Error(`SecureApi: ${what} has no methods; leave methods unset for ANY`);
    if (authorizationScopes && authorization.authorizationType !== ApiAuthorizationType.JWT) {
      throw new Error(`SecureApi: ${what} sets authorizationScopes, which only JWT authorization checks; its authorization is ` +
        `${authorization.description}`);
    }
    // The method is always in the id: adding a method to a call later must not rename (and so
    // replace) the routes it already made, as a new route with an existing key fails to deploy.
    const constructId = (method: apigwv2.HttpMethod) => `${id}${method}Route`;
    for (const method of methods) {
      const key = `${method} ${path}`;
      if (this.routes.has(key)) throw new Error(`SecureApi: ${what}: the route '${key}' was already added`);
      if (this.node.tryFindChild(constructId(method))) {
        throw new Error(`SecureApi: ${what}: the id '${id}' was already used for other routes; give each addLambdaRoute call its own id`);
      }
    }
    let authorizer = this.authorizers.get(authorization);
    if (!authorizer) {
      authorizer = authorization._createAuthorizer(`Authorizer${this.authorizers.size || ''}`);
      this.authorizers.set(authorization, authorizer);
    }
    const routes = methods.map((method) => {
      this.routes.set(`${method} ${path}`, { method, path, authorizationType: authorization.authorizationType });
      return new apigwv2.HttpRoute(this, constructId(method), {
        httpApi: this.httpApi,
        routeKey: apigwv2.HttpRouteKey.with(path, method),
        integration,
        authorizer,
        authorizationScopes,
      });
    });
    if (authorization.authorizationType === ApiAuthorizationType.NONE && !opts.health) {
      Annotations.of(this).addInfo(`Route(s) ${methods.map((m) => `${m} ${path}`).join(', ')} of ${this.node.path} allow anonymous callers ` +
        '(ApiAuthorization.none())');
      for (const route of routes) {
        acknowledgeFindings(route, [{
          id: 'AwsSolutions-APIG4',
          reason: `The app declared ${route.path ?? path} anonymous by name with ApiAuthorization.none(); the API's default stays ` +
            `${this.authorization.description}.`,
        }]);
      }
    }
    return routes;
  }

  /** Refuses a path that a service prefix covers, or a prefix that covers a route or another prefix. */
  private checkPathFree(what: string, path: string, isPrefix: boolean): void {
    const under = (p: string, prefix: string) => p === prefix || p.startsWith(`${prefix}/`);
    for (const service of this._services) {
      const other = service.pathPrefix;
      if (other && (under(path, other) || (isPrefix && under(other, path)))) {
        throw new Error(`SecureApi.${what}: path '${path}' overlaps the path prefix '${other}' of service '${service.serviceId}'; ` +
          'give each service its own prefix and keep Lambda routes outside it');
      }
    }
    if (isPrefix) {
      if (under(this.healthPath, path)) {
        throw new Error(`SecureApi.${what}: pathPrefix '${path}' covers the health route '${this.healthPath}'; choose another prefix`);
      }
      for (const r of this.routes.values()) {
        if (under(r.path, path)) {
          throw new Error(`SecureApi.${what}: pathPrefix '${path}' covers the route '${r.method} ${r.path}'; choose another prefix`);
        }
      }
    }
  }

  /** The alarms of the HTTP API (the load balancer's is created with it, in edge()). */
  private apiAlarmSpecs(): AlarmSpec[] {
    const ge = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const api = this.node.path;
    return [
      {
        key: 'serverErrors',
        name: 'ServerErrors',
        description: `The HTTP API of ${api} answered 5xx (a route's integration failed or timed out)`,
        metric: (period) => this.metricServerErrors({ period }),
        comparison: ge,
        threshold: 1,
        enabled: true,
      },
      {
        key: 'clientErrors',
        name: 'ClientErrors',
        description: `The HTTP API of ${api} answered many 4xx (refused callers, throttling or bad requests)`,
        metric: (period) => this.metricClientErrors({ period }),
        comparison: ge,
        threshold: 50,
        enabled: false,
      },
      {
        key: 'latency',
        name: 'Latency',
        description: `The 99th percentile of the latency of the HTTP API of ${api} is high (milliseconds)`,
        metric: (period) => this.metricLatency({ period, statistic: cloudwatch.Stats.p(99) }),
        comparison: ge,
        threshold: 3000,
        enabled: false,
        evaluationPeriods: 3,
      },
    ];
  }

  /** Creates the alarms of a service (under its scope), notifying the API's alarmActions. */
  private addServiceAlarms(scope: Construct, what: string, service: SecureApiService, options: SecureApiInternalServiceOptions,
    minCapacity: number): void {
    const ge = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const target = options.targetCpuUtilizationPercent;
    const cpuThreshold = target === undefined || Token.isUnresolved(target) ? 80 : Math.max(80, Math.min(target + 10, 100));
    // Below the floor autoscaling keeps; with no floor (minCapacity 0) nothing is expected to run.
    const floorKnown = !Token.isUnresolved(minCapacity);
    const specs: AlarmSpec[] = [
      {
        key: 'cpuUtilization',
        name: 'CpuUtilization',
        description: `The tasks of service ${scope.node.path} use most of their CPU (percent, average)`,
        metric: (period) => service.metricCpuUtilization({ period }),
        comparison: ge,
        threshold: cpuThreshold,
        enabled: true,
        evaluationPeriods: 3,
      },
      {
        key: 'memoryUtilization',
        name: 'MemoryUtilization',
        description: `The tasks of service ${scope.node.path} use most of their memory (percent, average)`,
        metric: (period) => service.metricMemoryUtilization({ period }),
        comparison: ge,
        threshold: 80,
        enabled: true,
        evaluationPeriods: 3,
      },
      {
        key: 'runningTasks',
        name: 'RunningTasks',
        description: `Service ${scope.node.path} ran fewer tasks than the fewest autoscaling keeps, for every period evaluated ` +
          '(tasks cannot be placed, Spot capacity is short, or tasks stop as they start)',
        metric: (period) => service.metricRunningTasks({ period, statistic: cloudwatch.Stats.MINIMUM }),
        comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: floorKnown ? minCapacity : 1,
        enabled: !floorKnown || minCapacity > 0,
        evaluationPeriods: 3,
      },
    ];
    if (service.targetGroup) {
      specs.push(
        {
          key: 'unhealthyHosts',
          name: 'UnhealthyHosts',
          description: `The load balancer holds tasks of service ${scope.node.path} unhealthy (they fail its health check)`,
          metric: (period) => service.metricUnhealthyHosts({ period }),
          comparison: ge,
          threshold: 1,
          enabled: true,
          evaluationPeriods: 2,
        },
        {
          key: 'targetResponseTime',
          name: 'TargetResponseTime',
          description: `The 99th percentile of the time the tasks of service ${scope.node.path} take to answer the load balancer is high (seconds)`,
          metric: (period) => service.metricTargetResponseTime({ period, statistic: cloudwatch.Stats.p(99) }),
          comparison: ge,
          threshold: 2,
          enabled: false,
          evaluationPeriods: 3,
        },
        {
          key: 'target5xx',
          name: 'Target5xx',
          description: `The tasks of service ${scope.node.path} answered 5xx`,
          metric: (period) => service.metricTarget5xx({ period }),
          comparison: ge,
          threshold: 1,
          enabled: true,
        },
      );
    }
    const alarms = createAlarms(scope, { owner: what, prop: 'alarms', specs, configs: { ...options.alarms }, destination: this.props.alarmActions });
    service.alarms.push(...alarms);
    if (alarms.some((a) => a.node.id === 'RunningTasksAlarm')) this.checkContainerInsights(scope, what);
  }

  /** Warns when the runningTasks alarm watches a cluster without (or not known to have) Container Insights. */
  private checkContainerInsights(scope: Construct, what: string): void {
    const cluster = this._cluster!;
    const cfn = ecs.Cluster.isCluster(cluster) ? cluster.node.defaultChild as ecs.CfnCluster : undefined;
    const settings = cfn?.clusterSettings;
    const insights = Array.isArray(settings)
      ? settings.find((x): x is ecs.CfnCluster.ClusterSettingsProperty => !Token.isUnresolved(x) && (x as ecs.CfnCluster.ClusterSettingsProperty).name === 'containerInsights')?.value
      : undefined;
    if (insights === ecs.ContainerInsights.ENABLED || insights === ecs.ContainerInsights.ENHANCED) return;
    const known = cfn ? 'does not have Container Insights on' : 'is not defined in this app, so whether it has Container Insights on cannot be known';
    Annotations.of(scope).addWarningV2('cdk-durable-agents:secureApiRunningTasksWithoutContainerInsights',
      `${what}: the cluster ${known}. The runningTasks alarm watches ECS/ContainerInsights RunningTaskCount, which only Container ` +
      'Insights publishes: without it the alarm gets no data and never fires. Turn Container Insights on for the cluster ' +
      '(containerInsightsV2: ecs.ContainerInsights.ENABLED), or set alarms: { runningTasks: { enabled: false } }');
  }

  private network(): { vpc: ec2.IVpc; cluster: ecs.ICluster } {
    // Two AZs, public subnets for the NAT gateway, private subnets for the services, flow logs.
    if (!this._vpc) {
      this._vpc = flowLoggedVpc(this, {
        subnetConfiguration: publicAndPrivateSubnets('services'),
        natGateways: 1,
        flowLogRetention: this.logRetention,
        flowLogKey: this.props.logEncryptionKey,
      });
    }
    if (!this._cluster) {
      this._cluster = new ecs.Cluster(this, 'Cluster', { vpc: this._vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    }
    return { vpc: this._vpc, cluster: this._cluster };
  }

  private subnets(): ec2.SubnetSelection {
    return this.props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }

  private namespace(): servicediscovery.INamespace {
    if (!this._namespace) {
      const { vpc, cluster } = this.network();
      this._namespace = (this.props.cloudMapNamespaceName === undefined ? cluster.defaultCloudMapNamespace : undefined) ??
        new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
          name: this.props.cloudMapNamespaceName ?? 'internal',
          vpc,
          description: `Internal services of ${this.node.path}`,
        });
    }
    return this._namespace;
  }

  /** The VPC link and its security group (no egress but to what it is allowed to reach), created once. */
  private link(): Link {
    if (this._link) return this._link;
    const { vpc } = this.network();
    const securityGroup = new ec2.SecurityGroup(this, 'VpcLinkSecurityGroup', {
      vpc,
      description: this.routing._cloudMap
        ? `VPC link of ${this.node.path}: reaches only the tasks of its services`
        : `VPC link of ${this.node.path}: reaches only its load balancer`,
      allowAllOutbound: false,
    });
    const vpcLink = new apigwv2.VpcLink(this, 'VpcLink', { vpc, subnets: this.subnets(), securityGroups: [securityGroup] });
    this._link = { vpcLink, securityGroup };
    return this._link;
  }

  /** The load balancer, its listener, the VPC link and the WAF web ACL, created once. */
  private edge(): Edge {
    if (this._edge) return this._edge;
    const { vpc } = this.network();
    const tls = this.props.loadBalancerTls;
    const port = tls ? 443 : 80;
    const { vpcLink, securityGroup: linkSecurityGroup } = this.link();
    const lbSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: `Internal load balancer of ${this.node.path}: admits only the VPC link of the API`,
      allowAllOutbound: false,
    });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: false,
      vpcSubnets: this.subnets(),
      securityGroup: lbSecurityGroup,
      dropInvalidHeaderFields: true,
    });
    loadBalancer.connections.allowFrom(linkSecurityGroup, ec2.Port.tcp(port), 'From the API Gateway VPC link only');
    const notFound = elbv2.ListenerAction.fixedResponse(404, { contentType: 'application/json', messageBody: '{"message":"Not Found"}' });
    const listener = tls
      ? loadBalancer.addListener('HttpsListener', {
        port,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromCertificateManager(tls.certificate)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultAction: notFound,
      })
      : loadBalancer.addListener('HttpListener', { port, protocol: elbv2.ApplicationProtocol.HTTP, open: false, defaultAction: notFound });
    if (tls) loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });

    let accessLogBucket: s3.Bucket | undefined;
    if (this.props.loadBalancerAccessLogs !== false) {
      if (Token.isUnresolved(Stack.of(this).region)) {
        throw new Error(`SecureApi '${this.node.path}': load balancer access logs need the stack's region at synth (the log delivery ` +
          'principal depends on it); give the stack env.region, or set loadBalancerAccessLogs: false');
      }
      accessLogBucket = new s3.Bucket(this, 'LoadBalancerAccessLogs', {
        // ALB access logs support SSE-S3 only, not SSE-KMS.
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(7) }],
        removalPolicy: this.removalPolicy,
        autoDeleteObjects: this.removalPolicy === RemovalPolicy.DESTROY,
      });
      loadBalancer.logAccessLogs(accessLogBucket, 'alb');
      acknowledgeCdkProviders(accessLogBucket);
      acknowledgeFindings(accessLogBucket, [{
        id: 'AwsSolutions-S1',
        reason: 'This bucket only receives the load balancer\'s access logs from the ELB log delivery service; its own server access ' +
          'logs would record that service\'s writes, and logging them to another bucket would only move the question.',
      }]);
    }

    let webAcl: wafv2.CfnWebACL | undefined;
    if (this.props.waf !== false) {
      webAcl = this.createWebAcl();
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: loadBalancer.loadBalancerArn,
        webAclArn: webAcl.attrArn,
      });
    }
    this._edge = { loadBalancer, listener, vpcLink, webAcl, accessLogBucket };
    this.alarms.push(...createAlarms(this, {
      owner: 'SecureApi',
      prop: 'alarms',
      specs: [{
        key: 'loadBalancer5xx',
        name: 'LoadBalancer5xx',
        description: `The internal load balancer of ${this.node.path} answered 5xx itself (no healthy target, or a target that failed or timed out)`,
        metric: (period) => this.metricLoadBalancer5xx({ period }),
        comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        enabled: true,
      }],
      configs: { loadBalancer5xx: this.props.alarms?.loadBalancer5xx },
      destination: this.props.alarmActions,
    }));
    return this._edge;
  }

  private createWebAcl(): wafv2.CfnWebACL {
    const base = Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    const visibility = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${base}-${name}`,
    });
    const managed = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name: `AWS-${name}`,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: `Protects the internal load balancer of ${this.node.path}`,
      visibilityConfig: visibility('WebAcl'),
      rules: [
        managed('AWSManagedRulesAmazonIpReputationList', 0),
        managed('AWSManagedRulesCommonRuleSet', 1),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
        {
          name: 'RateLimitPerClient',
          priority: 3,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: this.props.wafRateLimit ?? 2000,
              // Behind the VPC link, the load balancer's peer is API Gateway: count by the
              // caller's address, which API Gateway writes into CLIENT_IP_HEADER.
              aggregateKeyType: 'FORWARDED_IP',
              forwardedIpConfig: { headerName: CLIENT_IP_HEADER, fallbackBehavior: 'NO_MATCH' },
            },
          },
          visibilityConfig: visibility('RateLimitPerClient'),
        },
      ],
    });
  }

  private createFargateService(scope: Construct, id: string, options: SecureApiInternalServiceOptions,
    cloudMapOptions?: ecs.CloudMapOptions, healthCheckGracePeriod?: Duration, methodName?: string): FargateParts {
    const method = `${methodName ?? (cloudMapOptions ? 'addInternalService' : 'addService')}('${id}')`;
    const what = `SecureApi.${method}`;
    const desiredCount = options.desiredCount ?? 2;
    const minCapacity = options.minCapacity ?? desiredCount;
    const maxCapacity = options.maxCapacity ?? Math.max(desiredCount * 2, 1);
    const containerPort = options.containerPort ?? 8080;
    const cpu = options.cpu ?? 256;
    const memory = options.memoryLimitMiB ?? 512;
    if (!Token.isUnresolved(cpu) && !FARGATE_CPU.includes(cpu)) {
      throw new Error(`${what}: cpu must be one of ${FARGATE_CPU.join(', ')}, got ${cpu}`);
    }
    checkRange(what, 'memoryLimitMiB', memory, { min: 512, max: 122_880, fix: 'Fargate takes 512 to 122880 MiB (and a cpu to match)' });
    checkRange(what, 'containerPort', containerPort, { min: 1, max: 65_535 });
    checkRange(what, 'desiredCount', desiredCount, { min: 0, max: 1000 });
    checkRange(what, 'minCapacity', minCapacity, { min: 0, max: 1000 });
    checkRange(what, 'maxCapacity', maxCapacity, { min: 1, max: 1000 });
    checkRange(what, 'targetCpuUtilizationPercent', options.targetCpuUtilizationPercent, { min: 1, max: 100 });
    if (!Token.isUnresolved(minCapacity) && !Token.isUnresolved(maxCapacity) && minCapacity > maxCapacity) {
      throw new Error(`${what}: minCapacity (${minCapacity}) is above maxCapacity (${maxCapacity}); raise maxCapacity or lower minCapacity`);
    }
    if (!Token.isUnresolved(desiredCount) && (desiredCount > maxCapacity || desiredCount < minCapacity)) {
      throw new Error(`${what}: desiredCount (${desiredCount}) is outside minCapacity..maxCapacity (${minCapacity}..${maxCapacity}); ` +
        'autoscaling would move it at once. Set them so that minCapacity <= desiredCount <= maxCapacity');
    }
    const { cluster } = this.network();
    const arch = options.cpuArchitecture ?? ecs.CpuArchitecture.ARM64;
    // An image source builds (or pulls) for the service's architecture, as it does for an agent's.
    const source = options.imageSource?._bind(scope, agentArchitectureOf(what, arch), { logEncryptionKey: this.props.logEncryptionKey });
    const capacity = options.capacity ?? ServiceCapacity.onDemand();
    if (capacity._strategies) this.useFargateSpot(scope, what, cluster);
    const containerName = 'app';
    const logGroup = new logs.LogGroup(scope, 'Logs', {
      retention: options.logRetention ?? this.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: logsKey(this.props.logEncryptionKey),
    });
    const taskDefinition = new ecs.FargateTaskDefinition(scope, 'TaskDefinition', {
      cpu,
      memoryLimitMiB: memory,
      runtimePlatform: { cpuArchitecture: arch, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const readonlyRoot = options.readonlyRootFilesystem ?? true;
    // The image is built during the deployment: the task definition waits for it, not its roles (a key
    // policy naming the execution role must not wait on a build whose logs the key encrypts).
    if (source?.dependable) taskDefinition.node.defaultChild!.node.addDependency(source.dependable);
    const container = taskDefinition.addContainer(containerName, {
      image: source?.ecs ?? options.image!,
      command: options.command,
      environment: options.environment,
      secrets: options.secrets,
      portMappings: [{ containerPort, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: id }),
      readonlyRootFilesystem: readonlyRoot,
      essential: true,
      healthCheck: options.healthCheck,
    });
    if (readonlyRoot) {
      taskDefinition.addVolume({ name: 'tmp' });
      container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
    }
    const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
      vpc: cluster.vpc,
      description: `Tasks of ${scope.node.path}: inbound only as allowed (the load balancer for routed services)`,
      allowAllOutbound: true,
    });
    const service = new ecs.FargateService(scope, 'Service', {
      cluster,
      taskDefinition,
      desiredCount,
      vpcSubnets: this.subnets(),
      assignPublicIp: false,
      securityGroups: [securityGroup],
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      enableExecuteCommand: false,
      cloudMapOptions,
      capacityProviderStrategies: capacity._strategies,
      healthCheckGracePeriod,
    });
    // The capacity providers are associated with the cluster at synth; the service must wait for that association.
    if (capacity._strategies && ecs.Cluster.isCluster(cluster)) service.node.addDependency(cluster);
    let scaling: ecs.ScalableTaskCount | undefined;
    if (Token.isUnresolved(maxCapacity) || Token.isUnresolved(minCapacity) || maxCapacity > minCapacity) {
      scaling = service.autoScaleTaskCount({ minCapacity, maxCapacity });
      scaling.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: options.targetCpuUtilizationPercent ?? 70 });
    }
    acknowledgeImagePullToken(taskDefinition);
    if (options.environment && Object.keys(options.environment).length > 0) {
      acknowledgeFindings(taskDefinition, [{
        id: 'AwsSolutions-ECS2',
        reason: 'The environment holds only the plain settings the app passed as `environment`; secrets go through `secrets` ' +
          '(Secrets Manager or SSM), which the container reads at start.',
      }]);
    }
    return {
      service,
      taskDefinition,
      containerName,
      containerPort,
      logGroup,
      scaling,
      repository: source?.repository,
      imageUri: container.imageName,
      minCapacity,
    };
  }

  /** Gives the cluster the Fargate capacity providers (or says it cannot, for an imported cluster). */
  private useFargateSpot(scope: Construct, what: string, cluster: ecs.ICluster): void {
    if (ecs.Cluster.isCluster(cluster)) {
      cluster.enableFargateCapacityProviders();
      return;
    }
    Annotations.of(scope).addWarningV2('cdk-durable-agents:secureApiSpotOnImportedCluster',
      `${what} runs on Fargate Spot in a cluster that is not defined in this app, whose capacity providers it cannot set: the cluster ` +
      'must have the FARGATE and FARGATE_SPOT capacity providers (aws ecs put-cluster-capacity-providers), or the service fails to deploy.');
  }

}

/** What `createFargateService` built: the parts of a service, and its autoscaling when it scales. */
interface FargateParts extends Omit<SecureApiServiceParts, 'serviceId' | 'targetGroup' | 'pathPrefix' | 'discoveryName'> {
  readonly scaling?: ecs.ScalableTaskCount;
  /** The fewest tasks autoscaling keeps (the desired count when the service does not scale). */
  readonly minCapacity: number;
}

/** The alarms of a service that watch its target group: routed services only. */
const LOAD_BALANCER_SERVICE_ALARMS: (keyof ServiceAlarms)[] = ['unhealthyHosts', 'targetResponseTime', 'target5xx'];

/** HTTP API access log fields (JSON, one object per request). */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  userArn: '$context.identity.userArn',
  userAgent: '$context.identity.userAgent',
};

/** Warns at synth about load balancer settings that no routed service ever used. */
class UnusedEdgeSettings implements IAspect {
  constructor(private readonly api: SecureApi, private readonly props: SecureApiProps) {}

  public visit(node: IConstruct): void {
    // With ServiceRouting.cloudMap() the load balancer settings are refused up front.
    if (node !== this.api || this.api.loadBalancer || this.props.serviceRouting?._cloudMap) return;
    const unused: string[] = (['loadBalancerTls', 'waf', 'wafRateLimit', 'loadBalancerAccessLogs'] as const).filter((k) => this.props[k] !== undefined);
    if (this.props.alarms?.loadBalancer5xx !== undefined) unused.push('alarms.loadBalancer5xx');
    if (unused.length > 0) {
      Annotations.of(this.api).addWarningV2('cdk-durable-agents:secureApiUnusedEdgeSettings',
        `${unused.join(', ')} configure the load balancer, which exists only once addService() is called; addService() was never called ` +
        '(internal services have no load balancer), so they do nothing');
    }
  }
}

function validateProps(props: SecureApiProps): void {
  if (props.authorization?.authorizationType === ApiAuthorizationType.NONE) {
    throw new Error('SecureApi: authorization cannot be ApiAuthorization.none(); an API is never anonymous as a whole. Keep the default ' +
      '(IAM) or give a JWT authorizer, and pass authorization: ApiAuthorization.none() on the routes that must be public');
  }
  checkRange('SecureApi', 'throttlingRateLimit', props.throttlingRateLimit, {
    min: 0,
    minExclusive: true,
    max: 10_000,
    integer: false,
    unit: 'requests per second',
    fix: 'the account default is 10000; set throttlingRateLimit in that range',
  });
  checkRange('SecureApi', 'throttlingBurstLimit', props.throttlingBurstLimit, { min: 1, max: 5000, unit: 'requests' });
  checkRange('SecureApi', 'wafRateLimit', props.wafRateLimit, { min: 10, max: 2_000_000_000, fix: 'it counts requests per 5 minutes from one address; set wafRateLimit in that range' });
  const health = props.healthCheckPath;
  if (health !== undefined && !Token.isUnresolved(health) && (!PREFIX.test(health))) {
    throw new Error(`SecureApi: healthCheckPath '${health}' must start with '/' and hold segments of letters, digits, - _ . ~ ` +
      '(no parameters, no trailing \'/\')');
  }
  const domain = props.domain?.domainName;
  if (domain !== undefined && !Token.isUnresolved(domain) && !DOMAIN.test(domain)) {
    throw new Error(`SecureApi: domain.domainName '${domain}' is not a lower-case DNS name like 'api.example.com'`);
  }
  if (props.disableExecuteApiEndpoint && !props.domain) {
    throw new Error('SecureApi: disableExecuteApiEndpoint without domain would leave the API without any endpoint; give domain too');
  }
  const cors = props.cors;
  if (cors?.allowCredentials && (cors.allowOrigins ?? []).includes('*')) {
    throw new Error('SecureApi: cors.allowCredentials cannot be combined with allowOrigins [\'*\'] (browsers and API Gateway refuse it); ' +
      'list the origins');
  }
  if (props.vpc && props.cluster && props.vpc !== props.cluster.vpc) {
    throw new Error('SecureApi: vpc and cluster are both given, and the cluster is in another VPC; give only cluster (it brings its VPC)');
  }
  if (props.serviceRouting?._cloudMap) {
    const conflicting: string[] = [];
    if (props.loadBalancerTls) conflicting.push('loadBalancerTls');
    if (props.wafRateLimit !== undefined) conflicting.push('wafRateLimit');
    if (props.loadBalancerAccessLogs === true) conflicting.push('loadBalancerAccessLogs: true');
    if (props.alarms?.loadBalancer5xx !== undefined) conflicting.push('alarms.loadBalancer5xx');
    if (conflicting.length > 0) {
      throw new Error(`SecureApi: serviceRouting is ServiceRouting.cloudMap(), which creates no load balancer, but ${conflicting.join(', ')} ` +
        'configure the load balancer; remove them, or use ServiceRouting.loadBalancer()');
    }
    if (props.waf !== false) {
      throw new Error('SecureApi: serviceRouting is ServiceRouting.cloudMap(), so the services have no load balancer to put the WAF web ACL on ' +
        `(WAF cannot be attached to an HTTP API), but waf is ${props.waf === undefined ? 'unset (default true)' : 'true'}. Give waf: false to accept ` +
        'services without WAF (every route keeps its authorization and the stage throttling; the tasks admit only the VPC link), ' +
        'or use ServiceRouting.loadBalancer() to keep the WAF');
    }
  }
  const tls = props.loadBalancerTls?.serverName;
  if (tls !== undefined && !Token.isUnresolved(tls) && !/^(\*\.)?[a-z0-9.-]+$/.test(tls)) {
    throw new Error(`SecureApi: loadBalancerTls.serverName '${tls}' must be a DNS name the certificate covers`);
  }
}

/** Throws unless a service's options name its image once, and its health check can work. Run before anything is created. */
function checkServiceOptions(what: string, options: SecureApiInternalServiceOptions): void {
  if ((options.image === undefined) === (options.imageSource === undefined)) {
    throw new Error(`${what}: give exactly one of image (an ecs.ContainerImage) and imageSource (an AgentImage: from a directory, ` +
      `a new repository, or built by CodeBuild into the service's own repository); got ${options.image ? 'both' : 'neither'}`);
  }
  const hc = options.healthCheck;
  if (!hc) return;
  const command = hc.command ?? [];
  const example = 'e.g. [\'CMD\', \'/app/healthcheck\'] or [\'CMD-SHELL\', \'curl -fsS http://localhost:8080/health || exit 1\']';
  if (command.length === 0) {
    throw new Error(`${what}: healthCheck.command is empty; give the command ECS runs in the container, ${example}`);
  }
  if (command.length === 1 && (command[0] === 'CMD' || command[0] === 'CMD-SHELL')) {
    throw new Error(`${what}: healthCheck.command is ['${command[0]}'] with nothing to run; put the command after it, ${example}`);
  }
  const interval = hc.interval ?? Duration.seconds(30);
  const timeout = hc.timeout ?? Duration.seconds(5);
  checkDurationRange(what, 'healthCheck.interval', hc.interval, { min: Duration.seconds(5), max: Duration.seconds(300), subject: 'ECS\'s interval' });
  checkDurationRange(what, 'healthCheck.timeout', hc.timeout, { min: Duration.seconds(2), max: Duration.seconds(120), subject: 'ECS\'s timeout' });
  checkDurationRange(what, 'healthCheck.startPeriod', hc.startPeriod, { min: Duration.seconds(0), max: Duration.seconds(300), subject: 'ECS\'s start period' });
  checkRange(what, 'healthCheck.retries', hc.retries, { min: 1, max: 10 });
  if (!interval.isUnresolved() && !timeout.isUnresolved() && timeout.toSeconds() > interval.toSeconds()) {
    throw new Error(`${what}: healthCheck.timeout (${timeout.toHumanString()}) is longer than healthCheck.interval ` +
      `(${interval.toHumanString()}${hc.interval ? '' : ', the default'}); a check must end before the next starts: shorten the timeout or lengthen the interval`);
  }
}

/**
 * Throws for the options of a routed service that only a load balancer uses, or for a service
 * without the container health check that Cloud Map's health comes from (`ServiceRouting.cloudMap()`).
 */
function checkCloudMapServiceOptions(what: string, options: SecureApiServiceOptions): void {
  const lbOnly: Array<[keyof SecureApiServiceOptions, string]> = [
    ['healthCheckPath', 'the load balancer\'s health check path; the container healthCheck is what decides health'],
    ['healthCheckGracePeriod', 'how long ECS ignores the load balancer\'s health checks; give healthCheck.startPeriod instead'],
    ['requestsPerTarget', 'scaling on the load balancer\'s request count per target; the service scales on CPU'],
  ];
  for (const [key, why] of lbOnly) {
    if (options[key] !== undefined) {
      throw new Error(`${what}: ${key} is set, but the API routes through Cloud Map (ServiceRouting.cloudMap()) and has no load balancer ` +
        `(${key} is ${why}); remove it, or use ServiceRouting.loadBalancer()`);
    }
  }
  for (const key of LOAD_BALANCER_SERVICE_ALARMS) {
    if (options.alarms?.[key] !== undefined) {
      throw new Error(`${what}: alarms.${key} watches the service's target group on the load balancer, and with ServiceRouting.cloudMap() ` +
        'there is none; remove it (the API\'s serverErrors alarm counts 5xx answers, failed integrations included)');
    }
  }
  if (!options.healthCheck) {
    throw new Error(`${what}: the API routes through Cloud Map (ServiceRouting.cloudMap()), where a task's health is its container health ` +
      'check (ECS reports it to Cloud Map, and API Gateway is given healthy tasks only); give healthCheck: { command: [...] }, e.g. ' +
      '[\'CMD\', \'/app/healthcheck\'] or [\'CMD-SHELL\', \'curl -fsS http://localhost:8080/health || exit 1\']');
  }
}

/** The architecture an image source builds for, from the service's CPU architecture. */
function agentArchitectureOf(what: string, arch: ecs.CpuArchitecture): AgentArchitecture {
  switch (arch._cpuArchitecture) {
    case ecs.CpuArchitecture.ARM64._cpuArchitecture: return AgentArchitecture.ARM64;
    case ecs.CpuArchitecture.X86_64._cpuArchitecture: return AgentArchitecture.X86_64;
    default:
      throw new Error(`${what}: cpuArchitecture is ${arch._cpuArchitecture}; an imageSource builds for ecs.CpuArchitecture.ARM64 or X86_64: ` +
        'use one of them');
  }
}

/** One route of a routed service, as `addRoute` takes it. */
interface ServiceRoute {
  readonly id: string;
  readonly path: string;
  readonly methods: apigwv2.HttpMethod[];
  readonly authorization: ApiAuthorization;
  readonly authorizationScopes?: string[];
}

/**
 * The routes of a routed service: `ANY <prefix>` and `ANY <prefix>/{proxy+}` (which a route of
 * `routes` for `ANY` on the same path changes), then each other method and path of `routes`.
 * Throws, naming the route, for a path outside the prefix, a repeated method and path, or scopes
 * without JWT.
 */
function serviceRoutes(what: string, id: string, prefix: string, serviceAuthorization: ApiAuthorization,
  options: SecureApiServiceOptions): ServiceRoute[] {
  const given = options.routes ?? [];
  if (given.length > 0 && Token.isUnresolved(prefix)) {
    throw new Error(`${what}: routes need a pathPrefix known at synth, to check that each route is under it`);
  }
  const seen = new Map<string, number>();
  const chosen = new Map<string, { route: SecureApiServiceRouteOptions; index: number }>();
  given.forEach((route, index) => {
    const at = `routes[${index}]`;
    const path = route.path;
    if (Token.isUnresolved(path)) throw new Error(`${what}: ${at}.path is a token; give the path at synth`);
    if (!PATH.test(path) || (path.includes('+}') && path.indexOf('+}') !== path.length - 2)) {
      throw new Error(`${what}: ${at}.path '${path}' is not a route path: segments of letters, digits, - _ . ~ or parameters like ` +
        '{id}, a greedy {name+} only last, no trailing \'/\'');
    }
    if (path !== prefix && !path.startsWith(`${prefix}/`)) {
      throw new Error(`${what}: ${at}.path '${path}' is not under pathPrefix '${prefix}'; the load balancer forwards only the ` +
        `prefix's paths to the service: give '${prefix}' or a path under it`);
    }
    const methods = route.methods ?? [apigwv2.HttpMethod.ANY];
    if (methods.length === 0) throw new Error(`${what}: ${at} has no methods; leave methods unset for ANY`);
    const authorization = route.authorization ?? serviceAuthorization;
    const scopes = route.authorization ? route.authorizationScopes : route.authorizationScopes ?? options.authorizationScopes;
    if (route.authorizationScopes && authorization.authorizationType !== ApiAuthorizationType.JWT) {
      throw new Error(`${what}: ${at} sets authorizationScopes, which only JWT authorization checks; its authorization is ${authorization.description}`);
    }
    for (const method of methods) {
      const key = `${method} ${path}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        throw new Error(`${what}: ${at} repeats '${key}' of routes[${earlier}]; give each method and path once`);
      }
      seen.set(key, index);
      chosen.set(key, { route: { ...route, authorization, authorizationScopes: scopes }, index });
    }
  });
  const own = (routeId: string, path: string): ServiceRoute => {
    const r = chosen.get(`ANY ${path}`)?.route;
    chosen.delete(`ANY ${path}`);
    return {
      id: routeId,
      path,
      methods: [apigwv2.HttpMethod.ANY],
      authorization: r?.authorization ?? serviceAuthorization,
      authorizationScopes: r ? r.authorizationScopes : options.authorizationScopes,
    };
  };
  // The ids of the service's own two routes stay as they were: a route whose authorization changes is updated in place.
  const result = [own(id, prefix), own(`${id}Proxy`, `${prefix}/{proxy+}`)];
  // One call per route of `routes`, with the methods no other route took; its id is the path's (a path holds no ':').
  const byRoute = new Map<number, { route: SecureApiServiceRouteOptions; methods: apigwv2.HttpMethod[] }>();
  for (const [key, { route, index }] of chosen) {
    const entry = byRoute.get(index) ?? { route, methods: [] };
    entry.methods.push(key.split(' ')[0] as apigwv2.HttpMethod);
    byRoute.set(index, entry);
  }
  for (const { route, methods } of byRoute.values()) {
    result.push({
      id: `${id}Route${route.path.replace(/\//g, ':')}`,
      path: route.path,
      methods,
      authorization: route.authorization!,
      authorizationScopes: route.authorizationScopes,
    });
  }
  return result;
}
