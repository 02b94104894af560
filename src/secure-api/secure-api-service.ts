import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ApiAuthorization } from './api-authorization';
import { SecureApiServiceParts } from './service-parts';

/** Options of a Fargate service of a `SecureApi`, routed or internal. */
export interface SecureApiInternalServiceOptions {
  /** The container image, e.g. `ecs.ContainerImage.fromRegistry('public.ecr.aws/...')` or `fromAsset(dir)`. */
  readonly image: ecs.ContainerImage;

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
   * Tasks to run. Autoscaling then keeps the count between `minCapacity` and `maxCapacity`.
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
   * @default - `desiredCount`
   */
  readonly minCapacity?: number;

  /**
   * Most tasks autoscaling starts. When it equals `minCapacity`, no autoscaling is configured.
   * @default - twice `desiredCount` (at least 1)
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
   * @default - the API's `logRetention`
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The name of the service in the Cloud Map namespace (`<name>.<namespace>`). Only internal
   * services are registered.
   * @default - the construct id, lower-cased, with characters other than letters, digits and `-` dropped
   */
  readonly discoveryName?: string;
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
   * The path the load balancer checks each task on (directly, not under `pathPrefix`); a task
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
  /** The target group; absent for internal services. */
  public readonly targetGroup?: elbv2.ApplicationTargetGroup;
  /** The path prefix the API routes to the service; absent for internal services. */
  public readonly pathPrefix?: string;
  /** `<name>.<namespace>` in Cloud Map; absent for routed services. */
  public readonly discoveryName?: string;
  /** The security group connections of the tasks. */
  public readonly connections: ec2.Connections;
  /** The task role (starts empty: grant it what the container calls). */
  public readonly grantPrincipal: iam.IPrincipal;

  private constructor(props: SecureApiServiceParts) {
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
  }

  /** `<name>.<namespace>:<port>`, where other services reach an internal service; absent for routed services. */
  public get endpoint(): string | undefined {
    return this.discoveryName ? `${this.discoveryName}:${this.containerPort}` : undefined;
  }
}
