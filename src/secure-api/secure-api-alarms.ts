import { AlarmConfig } from '../monitoring/alarm-config';

/**
 * The alarms of a `SecureApi` (`alarms` prop): those of the HTTP API, created with the API, and
 * the one of its load balancer, created with the load balancer (on the first `addService` call).
 * Each member overrides the alarm's defaults; `{ enabled: false }` leaves an alarm out. The alarms
 * created are the API's `alarms`; each service has its own (`alarms` of the service's options).
 */
export interface SecureApiAlarms {
  /**
   * Requests the HTTP API answered with 5xx (`5xx`, sum) `>=` threshold, in 1 period of 5 minutes.
   * On by default, threshold 1.
   *
   * @default - on, threshold 1, 1 period of 5 minutes
   */
  readonly serverErrors?: AlarmConfig;

  /**
   * Requests the HTTP API answered with 4xx (`4xx`, sum) `>=` threshold, in 1 period of
   * 5 minutes: callers that are refused (authorization, throttling) or send bad requests. Off by
   * default, threshold 50.
   *
   * @default - off; when enabled, threshold 50, 1 period of 5 minutes
   */
  readonly clientErrors?: AlarmConfig;

  /**
   * The 99th percentile of the HTTP API's latency (`Latency`, p99, milliseconds) `>=` threshold,
   * in 3 periods of 5 minutes. Off by default, threshold 3000 ms.
   *
   * @default - off; when enabled, threshold 3000 (ms), 3 periods of 5 minutes
   */
  readonly latency?: AlarmConfig;

  /**
   * Responses the load balancer generated itself with 5xx (`HTTPCode_ELB_5XX_Count`, sum: no
   * healthy target, a target that closed the connection or timed out) `>=` threshold, in 1 period
   * of 5 minutes. Created with the load balancer, on the first `addService` call; an API without
   * routed services has none. On by default, threshold 1.
   *
   * @default - on (once the API has a load balancer), threshold 1, 1 period of 5 minutes
   */
  readonly loadBalancer5xx?: AlarmConfig;
}

/**
 * The alarms of a `SecureApi` service (`alarms` of `addService` and `addInternalService`). Each
 * member overrides the alarm's defaults; `{ enabled: false }` leaves an alarm out. The alarms
 * notify the API's `alarmActions` and are the service's `alarms`. The load balancer's alarms
 * (`unhealthyHosts`, `targetResponseTime`, `target5xx`) exist only for services added with
 * `addService`; an internal service refuses them.
 */
export interface ServiceAlarms {
  /**
   * The service's average CPU utilization (`AWS/ECS` `CPUUtilization`, percent of the tasks'
   * CPU) `>=` threshold, in 3 periods of 5 minutes: autoscaling at its maximum cannot keep up, or
   * the service does not scale. On by default, threshold 80 (or 10 points above
   * `targetCpuUtilizationPercent` when that is above 70, at most 100).
   *
   * @default - on, threshold 80 (see above), 3 periods of 5 minutes
   */
  readonly cpuUtilization?: AlarmConfig;

  /**
   * The service's average memory utilization (`AWS/ECS` `MemoryUtilization`, percent of the
   * tasks' memory) `>=` threshold, in 3 periods of 5 minutes. On by default, threshold 80.
   *
   * @default - on, threshold 80, 3 periods of 5 minutes
   */
  readonly memoryUtilization?: AlarmConfig;

  /**
   * The fewest tasks running in each period (Container Insights `RunningTaskCount`, minimum)
   * `<` threshold, in 3 periods of 5 minutes in a row: the service has been below the floor
   * autoscaling keeps for 15 minutes (tasks cannot be placed, Fargate Spot capacity is short,
   * tasks crash as they start). A task replaced after a Spot interruption or a deployment does
   * not fire it, and scaling out does not move it. On by default, threshold the service's
   * `minCapacity`; off by default when `minCapacity` is 0 (nothing is expected to run). Needs
   * Container Insights on the cluster (the cluster the API creates has it; a synth warning says
   * when the given cluster does not or cannot be known to).
   *
   * @default - on, threshold `minCapacity` (1 when it is a token), 3 periods of 5 minutes
   */
  readonly runningTasks?: AlarmConfig;

  /**
   * Tasks the load balancer holds unhealthy (`UnHealthyHostCount` of the service's target group,
   * maximum) `>=` threshold, in 2 periods of 5 minutes in a row. Routed services only. On by
   * default, threshold 1.
   *
   * @default - on (routed services), threshold 1, 2 periods of 5 minutes
   */
  readonly unhealthyHosts?: AlarmConfig;

  /**
   * The 99th percentile of the time the service's tasks take to answer the load balancer
   * (`TargetResponseTime` of the target group, p99, in SECONDS) `>=` threshold, in 3 periods of
   * 5 minutes. Routed services only. Off by default, threshold 2 (seconds).
   *
   * @default - off; when enabled, threshold 2 (seconds), 3 periods of 5 minutes
   */
  readonly targetResponseTime?: AlarmConfig;

  /**
   * Responses with 5xx from the service's tasks (`HTTPCode_Target_5XX_Count` of the target
   * group, sum) `>=` threshold, in 1 period of 5 minutes. Routed services only. On by default,
   * threshold 1.
   *
   * @default - on (routed services), threshold 1, 1 period of 5 minutes
   */
  readonly target5xx?: AlarmConfig;
}
