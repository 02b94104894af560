import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ApiAuthorization } from './api-authorization';
import { ServiceAlarms } from './secure-api-alarms';
import { ServiceCapacity } from './service-capacity';
import { SecureApiServiceParts } from './service-parts';
import { AgentImage } from '../container-agent/agent-image';
import { checkBuiltByFactory } from '../private/closed-class';

/**
 * Options of a Fargate service of a `SecureApi`, routed or internal. Give exactly one of `image`
 * and `imageSource`.
 */
export interface SecureApiInternalServiceOptions {
  /**
   * The container image as ECS takes it, e.g. `ecs.ContainerImage.fromRegistry('public.ecr.aws/...')`
   * or `fromEcrRepository(repo, tag)`. An image built from a directory should come from
   * `imageSource` (`image_source` in Python) instead, which builds it for the service's `cpuArchitecture` (`cpu_architecture` in Python).
   * @default - none: give `image` or `imageSource`
   */
  readonly image?: ecs.ContainerImage;

  /**
   * Where the image comes from, as for a `ContainerAgent` (the same `AgentImage` sources, built
   * for the service's `cpuArchitecture` (`cpu_architecture` in Python)): `AgentImage.fromDirectory(dir)` (built by the CDK at
   * deploy, pushed to the CDK's asset repository); `AgentImage.fromNewRepository(tag, options)` (a
   * repository of the service's own that your pipeline pushes to: scan on push, immutable tags,
   * lifecycle rules, optional KMS key, removal policy); `AgentImage.fromDirectoryIntoNewRepository(dir, options)`
   * (built by AWS CodeBuild during the deployment, no Docker needed, into such a repository of
   * the service's own); or `fromEcrRepository` (`from_ecr_repository` in Python) / `fromRegistry` (`from_registry` in Python). The service's `repository` and
   * `imageUri` (`image_uri` in Python) tell where it is.
   * @default - none: give `image` or `imageSource` (`image_source` in Python)
   */
  readonly imageSource?: AgentImage;

  /**
   * The port the container listens on.
   * @default 8080
   */
  readonly containerPort?: number;

  /**
   * The command of the container (replaces the image's CMD).
   * @default - the image's CMD
   */
  readonly command?: string[];

  /**
   * Tasks to run. Autoscaling then keeps the count between `minCapacity` (`min_capacity` in Python) and `maxCapacity` (`max_capacity` in Python).
   * @default 2
   */
  readonly desiredCount?: number;

  /**
   * vCPU units of a task (256, 512, 1024, 2048, 4096, 8192 or 16384).
   * @default 256
   */
  readonly cpu?: number;

  /**
   * Memory of a task, in MiB (must fit `cpu`, as Fargate requires).
   * @default 512
   */
  readonly memoryLimitMiB?: number;

  /**
   * CPU architecture of the image and the tasks.
   * @default ecs.CpuArchitecture.ARM64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;

  /**
   * Fewest tasks autoscaling keeps.
   * @default - `desiredCount` (`desired_count` in Python)
   */
  readonly minCapacity?: number;

  /**
   * Most tasks autoscaling starts. When it equals `minCapacity` (`min_capacity` in Python), no autoscaling is configured.
   * @default - twice `desiredCount` (`desired_count` in Python) (at least 1)
   */
  readonly maxCapacity?: number;

  /**
   * Average CPU utilization (percent) autoscaling aims at.
   * @default 70
   */
  readonly targetCpuUtilizationPercent?: number;

  /**
   * Plain (non-secret) environment variables of the container.
   * @default - none
   */
  readonly environment?: { [name: string]: string };

  /**
   * Secrets (Secrets Manager or SSM parameters) the container gets as environment variables.
   * @default - none
   */
  readonly secrets?: { [name: string]: ecs.Secret };

  /**
   * Whether the container's root filesystem is read-only. `/tmp` is always a writable volume;
   * set false for images that write elsewhere (for example nginx's cache and pid files).
   * @default true
   */
  readonly readonlyRootFilesystem?: boolean;

  /**
   * Retention of the container's logs.
   * @default - the API's `logRetention` (`log_retention` in Python)
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The name of the service in the Cloud Map namespace (`<name>.<namespace>`). Internal services
   * are registered, and routed ones with `ServiceRouting.cloudMap()`; behind a load balancer it is unused.
   * @default - the construct id, lower-cased, with characters other than letters, digits and `-` dropped
   */
  readonly discoveryName?: string;

  /**
   * A container health check: ECS runs `command` in the container every `interval` and replaces
   * a task whose check fails `retries` times in a row (after `startPeriod`); a deployment whose
   * new tasks never turn healthy is rolled back by the circuit breaker. The command runs inside
   * the image, so it must use what the image has: `['CMD', '/app/healthcheck']` (a program of the
   * image, run directly) or `['CMD-SHELL', 'curl -fsS http://localhost:8080/health || exit 1']`
   * (an image with a shell and curl). Interval 5 to 300 seconds (default 30), timeout 2 to 120
   * seconds and at most the interval (default 5), retries 1 to 10 (default 3), start period 0 to
   * 300 seconds (default none).
   *
   * There is no default command, as what the image can run is not known here. A routed service
   * is still checked by the load balancer on `healthCheckPath` (`health_check_path` in Python); an internal service has no load
   * balancer, so without this nothing checks it but the exit of its process (a synth warning
   * says so).
   * @default - no container health check
   */
  readonly healthCheck?: ecs.HealthCheck;

  /**
   * Where the tasks run: regular Fargate, or Fargate Spot with an on-demand base
   * (`ServiceCapacity.spot({ onDemandBase: 1 })`).
   * @default ServiceCapacity.onDemand()
   */
  readonly capacity?: ServiceCapacity;

  /**
   * The service's alarms: CPU, memory and running tasks for every service, and for a routed
   * service its target group's unhealthy tasks, response time and 5xx. Each member overrides one
   * alarm's defaults (see `ServiceAlarms`); they notify the API's `alarmActions` (`alarm_actions` in Python). An internal
   * service refuses the target group's alarms (it has no load balancer).
   * @default - the defaults of each alarm in `ServiceAlarms`
   */
  readonly alarms?: ServiceAlarms;
}

/**
 * A route of a routed service with methods or authorization of its own (`routes` of
 * `SecureApiServiceOptions`), e.g. one anonymous `POST /chat` in a service that the API
 * otherwise authorizes with IAM.
 */
export interface SecureApiServiceRouteOptions {
  /**
   * The route's path: the service's `pathPrefix` (`path_prefix` in Python) or a path under it (the load balancer forwards
   * only those to the service), e.g. `/chat` or `/chat/{sessionId}`.
   */
  readonly path: string;

  /**
   * The methods of the route (one route each). `ANY` on `pathPrefix` (`path_prefix` in Python) or on
   * `<pathPrefix>/{proxy+}` changes the service's own route there instead of adding one.
   * @default [apigwv2.HttpMethod.ANY]
   */
  readonly methods?: apigwv2.HttpMethod[];

  /**
   * How the route authorizes callers. `ApiAuthorization.none()` makes it anonymous: it is named
   * in the synth output and acknowledged for cdk-nag, as an anonymous Lambda route is; the WAF on
   * the load balancer and the stage's throttling still apply to it.
   * @default - the service's authorization
   */
  readonly authorization?: ApiAuthorization;

  /**
   * OAuth scopes a JWT must hold (JWT authorization only).
   * @default - the service's `authorizationScopes` (`authorization_scopes` in Python) when the route keeps the service's authorization; none when it sets its own
   */
  readonly authorizationScopes?: string[];
}

/** Options of a Fargate service that the `SecureApi` routes to (`addService`). */
export interface SecureApiServiceOptions extends SecureApiInternalServiceOptions {
  /**
   * The path under which the API routes to the service: `ANY <pathPrefix>` and
   * `ANY <pathPrefix>/{proxy+}` go through the VPC link to the load balancer, whose listener
   * forwards the same paths to the service. The service receives the full path, prefix
   * included. Letters, digits, `-`, `_`, `.`, `~` in segments; no trailing `/`.
   */
  readonly pathPrefix: string;

  /**
   * The path the load balancer checks each task on (directly, not under `pathPrefix` (`path_prefix` in Python)); a task
   * must answer it with 200.
   * @default '/health'
   */
  readonly healthCheckPath?: string;

  /**
   * Requests per task per minute above which autoscaling adds tasks (ALB request count per target).
   * @default 1000
   */
  readonly requestsPerTarget?: number;

  /**
   * Authorization of the service's routes.
   * @default - the API's authorization
   */
  readonly authorization?: ApiAuthorization;

  /**
   * OAuth scopes a JWT must hold for the service's routes (JWT authorization only).
   * @default - none
   */
  readonly authorizationScopes?: string[];

  /**
   * Routes of the service with methods or authorization of their own, each under `pathPrefix` (`path_prefix` in Python).
   * API Gateway picks the route that names the request's method before an `ANY` route of the same
   * path, and an exact path before `{proxy+}`: with `pathPrefix: '/chat'` and
   * `routes: [{ path: '/chat', methods: [apigwv2.HttpMethod.POST], authorization: ApiAuthorization.none() }]`,
   * `POST /chat` is anonymous while every other method and path under `/chat` keeps the service's
   * authorization.
   * @default - none: `ANY <pathPrefix>` and `ANY <pathPrefix>/{proxy+}` with the service's authorization
   */
  readonly routes?: SecureApiServiceRouteOptions[];

  /**
   * How long after a task starts ECS ignores failed health checks of the load balancer (and of
   * the container, with `healthCheck` (`health_check` in Python)) before it replaces the task: time for the app to start.
   * @default Duration.seconds(60)
   */
  readonly healthCheckGracePeriod?: Duration;
}

/**
 * A Fargate service of a `SecureApi`: either routed (behind the internal load balancer, reached
 * through the API) or internal (registered in Cloud Map, reached only from inside the VPC).
 *
 * Allow other services to reach an internal one with
 * `engine.connections.allowFrom(api, ec2.Port.tcp(engine.containerPort))`.
 */
export class SecureApiService implements ec2.IConnectable, iam.IGrantable {
  /** @internal */
  public static _create(props: SecureApiServiceParts): SecureApiService {
    return new SecureApiService(props);
  }

  /** The construct id the service was added with. */
  public readonly serviceId: string;
  /** The ECS service. */
  public readonly service: ecs.FargateService;
  /** The task definition. */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The name of the service's container. */
  public readonly containerName: string;
  /** The port the container listens on. */
  public readonly containerPort: number;
  /** The container's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The target group; absent for internal services and with `ServiceRouting.cloudMap()`. */
  public readonly targetGroup?: elbv2.ApplicationTargetGroup;
  /** The path prefix the API routes to the service; absent for internal services. */
  public readonly pathPrefix?: string;
  /** `<name>.<namespace>` in Cloud Map; absent for services behind the load balancer. */
  public readonly discoveryName?: string;
  /** The security group connections of the tasks. */
  public readonly connections: ec2.Connections;
  /** The task role (starts empty: grant it what the container calls). */
  public readonly grantPrincipal: iam.IPrincipal;
  /**
   * The service's own image repository; present only with `imageSource`
   * `AgentImage.fromNewRepository` or `AgentImage.fromDirectoryIntoNewRepository`.
   */
  public readonly repository?: ecr.Repository;
  /**
   * The image the service runs: a token for an image in ECR (its repository or the CDK's asset
   * repository, resolved at deploy), the image name for one in another registry.
   */
  public readonly imageUri: string;
  /**
   * The alarms of the service that were created (see the `alarms` option and `ServiceAlarms`),
   * notifying the API's `alarmActions`.
   */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private constructor(props: SecureApiServiceParts) {
    checkBuiltByFactory('SecureApiService', props, 'SecureApi.addService() or SecureApi.addInternalService()');
    this.serviceId = props.serviceId;
    this.service = props.service;
    this.taskDefinition = props.taskDefinition;
    this.containerName = props.containerName;
    this.containerPort = props.containerPort;
    this.logGroup = props.logGroup;
    this.targetGroup = props.targetGroup;
    this.pathPrefix = props.pathPrefix;
    this.discoveryName = props.discoveryName;
    this.connections = props.service.connections;
    this.grantPrincipal = props.taskDefinition.taskRole;
    this.repository = props.repository;
    this.imageUri = props.imageUri;
  }

  /** `<name>.<namespace>:<port>`, where a service registered in Cloud Map is found; absent for services behind the load balancer. */
  public get endpoint(): string | undefined {
    return this.discoveryName ? `${this.discoveryName}:${this.containerPort}` : undefined;
  }

  /**
   * The service's CPU utilization (`AWS/ECS` `CPUUtilization`, percent of the tasks' CPU;
   * average unless `statistic` says otherwise).
   */
  public metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricCpuUtilization(props);
  }

  /**
   * The service's memory utilization (`AWS/ECS` `MemoryUtilization`, percent of the tasks'
   * memory; average unless `statistic` says otherwise).
   */
  public metricMemoryUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricMemoryUtilization(props);
  }

  /**
   * Tasks of the service in the RUNNING state (`ECS/ContainerInsights` `RunningTaskCount`;
   * average unless `statistic` says otherwise). Container Insights must be on for the cluster:
   * the cluster a `SecureApi` creates has it on.
   */
  public metricRunningTasks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: this.service.cluster.clusterName, ServiceName: this.service.serviceName },
      statistic: cloudwatch.Stats.AVERAGE,
      ...props,
    });
  }

  /**
   * Tasks the load balancer holds unhealthy (`UnHealthyHostCount` of the target group; maximum
   * unless `statistic` says otherwise). Routed services only: an internal service has no load
   * balancer, and the call throws.
   */
  public metricUnhealthyHosts(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroupFor('metricUnhealthyHosts').metrics.unhealthyHostCount({ ...props, statistic: props?.statistic ?? cloudwatch.Stats.MAXIMUM });
  }

  /**
   * Time the tasks take to answer the load balancer, in seconds (`TargetResponseTime` of the
   * target group; average unless `statistic` says otherwise). Routed services only: the call
   * throws for an internal service.
   */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroupFor('metricTargetResponseTime').metrics.targetResponseTime(props);
  }

  /**
   * Responses with 5xx from the service's tasks (`HTTPCode_Target_5XX_Count` of the target
   * group; sum unless `statistic` says otherwise). Routed services only: the call throws for an
   * internal service.
   */
  public metricTarget5xx(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroupFor('metricTarget5xx').metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, props);
  }

  private targetGroupFor(method: string): elbv2.ApplicationTargetGroup {
    if (!this.targetGroup) {
      const why = this.pathPrefix === undefined
        ? 'is internal (addInternalService): it has no load balancer'
        : 'is routed through Cloud Map (ServiceRouting.cloudMap()): it has no load balancer';
      throw new Error(`SecureApiService.${method}: service '${this.serviceId}' ${why} ` +
        'and no target group to measure. Use metricCpuUtilization, metricMemoryUtilization or metricRunningTasks, or add the service ' +
        'with addService to an API with ServiceRouting.loadBalancer() to route it through the load balancer');
    }
    return this.targetGroup;
  }
}
