import { checkBuiltByFactory } from '../private/closed-class';

/** How the routing is done (internal). */
enum RoutingKind {
  LOAD_BALANCER = 'loadBalancer',
  CLOUD_MAP = 'cloudMap',
}

/**
 * How a `SecureApi` reaches the Fargate services added with `addService`, from its VPC link.
 *
 * | | `ServiceRouting.loadBalancer()` (default) | `ServiceRouting.cloudMap()` |
 * |---|---|---|
 * | path | VPC link, internal ALB (listener rule per prefix), target group, tasks | VPC link, the service's Cloud Map SRV records, tasks |
 * | WAF | a web ACL on the load balancer | none: WAF cannot be attached to an HTTP API or to Cloud Map (the API needs `waf: false` to say so) |
 * | health | the load balancer checks `healthCheckPath`, plus the container health check if given | the container health check (required), which ECS reports to Cloud Map; API Gateway is given healthy tasks only |
 * | autoscaling | CPU and request count per target | CPU |
 * | alarms | the load balancer's 5xx, each service's unhealthy hosts, target response time and target 5xx | none of those (no target group): the API's `serverErrors` alarm counts 5xx answers, including failed integrations |
 * | fixed cost (us-east-1) | the load balancer's hours ($16.43/month), the WAF web ACL and its 4 rules ($9/month) | a Route 53 private hosted zone for the namespace ($0.50/month) and $0.10 per registered task per month |
 *
 * Either way the tasks admit only their peer (the load balancer, or the VPC link) on the
 * container port, and every route keeps its authorization and the stage's throttling.
 */
export class ServiceRouting {
  /** Through an internal Application Load Balancer (with its WAF web ACL), as before this choice existed. */
  public static loadBalancer(): ServiceRouting {
    return new ServiceRouting(RoutingKind.LOAD_BALANCER);
  }

  /**
   * Straight to the tasks through their Cloud Map SRV records (`HttpServiceDiscoveryIntegration`),
   * without a load balancer and without a WAF: for throwaway or low-traffic environments where
   * the load balancer's and the web ACL's fixed cost is not worth it. Each routed service needs a
   * container `healthCheck` (Cloud Map's view of its health) and takes no `healthCheckPath`,
   * `healthCheckGracePeriod` or `requestsPerTarget`; the API needs `waf: false`.
   */
  public static cloudMap(): ServiceRouting {
    return new ServiceRouting(RoutingKind.CLOUD_MAP);
  }

  /** `loadBalancer` or `cloudMap`. */
  public readonly kind: string;

  private constructor(kind: RoutingKind) {
    checkBuiltByFactory('ServiceRouting', kind, 'ServiceRouting.loadBalancer() or ServiceRouting.cloudMap()');
    this.kind = kind;
  }

  /**
   * Whether services are reached through Cloud Map rather than a load balancer.
   * @internal
   */
  public get _cloudMap(): boolean {
    return this.kind === RoutingKind.CLOUD_MAP;
  }
}
