import type { AlarmConfig } from '../monitoring/alarm-config';

/**
 * The named alarms of a Lambda `ContainerAgent` (its `alarms` prop). Each member overrides one
 * alarm's settings, or turns it off; what is left out keeps the defaults below. Every alarm
 * created is in the agent's `alarms`, is named `<unique name of the agent>-<Name>` unless its
 * `alarmName` says otherwise, treats missing data as not breaching, and notifies the agent's
 * `alarmActions`.
 *
 * A Fargate agent has no alarms of its own: its tasks are started by the orchestrator, which
 * counts each attempt that fails or times out (`DurableOrchestrator` alarm
 * `OrchestratorAlarms.agentTasksFailed`, metric `metricAgentTasksFailed`).
 */
export interface ContainerAgentAlarms {
  /**
   * Invocations of the agent's function that ended in an error (AWS/Lambda `Errors` of the
   * function, or of its `live` alias when it has one; sum), greater than or equal to the
   * threshold. Construct id `ErrorsAlarm`.
   *
   * @default - on; threshold 1, 1 period of 5 minutes
   */
  readonly errors?: AlarmConfig;

  /**
   * Throttled invocations of the agent's function (AWS/Lambda `Throttles` of the function, or of
   * its `live` alias; sum), greater than or equal to the threshold. Construct id
   * `ThrottlesAlarm`.
   *
   * @default - on; threshold 1, 1 period of 5 minutes
   */
  readonly throttles?: AlarmConfig;
}
