import * as ecs from 'aws-cdk-lib/aws-ecs';
import { checkRange } from '../private/checks';
import { checkBuiltByFactory } from '../private/closed-class';

/** Options of `ServiceCapacity.spot`. */
export interface SpotCapacityOptions {
  /**
   * Tasks that always run on regular (on-demand) Fargate, before the weights share out the rest:
   * the part of the service that an interruption of Spot capacity never takes away.
   * @default 1
   */
  readonly onDemandBase?: number;

  /**
   * Relative share of the tasks above `onDemandBase` (`on_demand_base` in Python) that run on regular Fargate.
   * @default 0
   */
  readonly onDemandWeight?: number;

  /**
   * Relative share of the tasks above `onDemandBase` (`on_demand_base` in Python) that run on Fargate Spot (at least 1).
   * @default 1
   */
  readonly spotWeight?: number;
}

const OWNER = 'ServiceCapacity.spot';

/**
 * Where the tasks of a `SecureApi` service run: regular (on-demand) Fargate, or Fargate Spot
 * with an on-demand base.
 *
 * Fargate Spot runs tasks on spare capacity at a discount; AWS may stop a Spot task with a
 * two-minute warning (the container gets `SIGTERM`, then `SIGKILL` after its stop timeout), and
 * ECS starts a replacement. Choose it for services that tolerate losing a task: several tasks,
 * idempotent requests, state kept outside the task.
 */
export class ServiceCapacity {
  /** Regular Fargate: every task on demand (the default). */
  public static onDemand(): ServiceCapacity {
    return new ServiceCapacity(false, undefined);
  }

  /**
   * Fargate Spot with an on-demand base: the first `onDemandBase` tasks run on regular Fargate,
   * the rest are shared between regular Fargate and Fargate Spot by `onDemandWeight` and
   * `spotWeight` (by default: one on-demand task, every other task on Spot). The service's
   * cluster gets the `FARGATE` and `FARGATE_SPOT` capacity providers.
   */
  public static spot(options: SpotCapacityOptions = {}): ServiceCapacity {
    const onDemandBase = options.onDemandBase ?? 1;
    const onDemandWeight = options.onDemandWeight ?? 0;
    const spotWeight = options.spotWeight ?? 1;
    checkRange(OWNER, 'onDemandBase', onDemandBase, { min: 0, max: 100_000, fix: 'ECS takes a base of 0 to 100000 tasks' });
    checkRange(OWNER, 'onDemandWeight', onDemandWeight, { min: 0, max: 1000, fix: 'ECS takes weights of 0 to 1000' });
    checkRange(OWNER, 'spotWeight', spotWeight, {
      min: 1, max: 1000, fix: 'a weight of 0 would put no task on Spot (use ServiceCapacity.onDemand() for that); ECS takes weights up to 1000',
    });
    return new ServiceCapacity(true, [
      { capacityProvider: 'FARGATE', base: onDemandBase, weight: onDemandWeight },
      { capacityProvider: 'FARGATE_SPOT', weight: spotWeight },
    ]);
  }

  private constructor(
    /** Whether some of the tasks run on Fargate Spot. */
    public readonly usesSpot: boolean,
    /**
     * The capacity provider strategy of the service; absent for regular Fargate (launch type `FARGATE`).
     * @internal
     */
    public readonly _strategies: ecs.CapacityProviderStrategy[] | undefined,
  ) {
    checkBuiltByFactory('ServiceCapacity', usesSpot, 'ServiceCapacity.onDemand() or ServiceCapacity.spot()');
  }
}
