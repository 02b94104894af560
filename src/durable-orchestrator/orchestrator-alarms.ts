import type { AlarmConfig } from '../monitoring/alarm-config';

/**
 * The named alarms of a `DurableOrchestrator` (its `alarms` prop). Each member overrides one
 * alarm's settings, or turns it on or off; what is left out keeps the defaults below. Every alarm
 * created is in the orchestrator's `alarms`, is named `<unique name of the orchestrator>-<Name>`
 * unless its `alarmName` says otherwise, treats missing data as not breaching, and notifies the
 * orchestrator's `alarmActions`.
 *
 * Six are on by default, each firing on the first occurrence (threshold 1, one period of 5
 * minutes); two more are off until turned on.
 */
export interface OrchestratorAlarms {
  /**
   * Workflows that ended FAILED or TIMED_OUT (`metricWorkflowsFailed`, sum), greater than or
   * equal to the threshold. Construct id `WorkflowsFailedAlarm`.
   *
   * @default - on; threshold 1, 1 period of 5 minutes
   */
  readonly workflowsFailed?: AlarmConfig;

  /**
   * Errors of the controller function (AWS/Lambda `Errors` of `controllerFunction`, sum), greater
   * than or equal to the threshold. Construct id `ControllerErrorsAlarm`.
   *
   * @default - on; threshold 1, 1 period of 5 minutes
   */
  readonly controllerErrors?: AlarmConfig;

  /**
   * Throttled invocations of the controller function (AWS/Lambda `Throttles`, sum), greater than
   * or equal to the threshold. Construct id `ControllerThrottlesAlarm`.
   *
   * @default - on; threshold 1, 1 period of 5 minutes
   */
  readonly controllerThrottles?: AlarmConfig;

  /**
   * Errors of the API function, which serves every route and the agents' callbacks (AWS/Lambda
   * `Errors` of `apiFunction`, sum), greater than or equal to the threshold. Construct id
   * `ApiErrorsAlarm`.
   *
   * @default - on; threshold 1, 1 period of 5 minutes
   */
  readonly apiErrors?: AlarmConfig;

  /**
   * Throttled invocations of the API function (AWS/Lambda `Throttles`, sum), greater than or
   * equal to the threshold. Construct id `ApiThrottlesAlarm`.
   *
   * @default - on; threshold 1, 1 period of 5 minutes
   */
  readonly apiThrottles?: AlarmConfig;

  /**
   * 5xx answers of the HTTP API (AWS/ApiGateway `5xx`, sum), greater than or equal to the
   * threshold. With `api` this is the shared `SecureApi`'s count, every route's (HTTP API
   * metrics do not tell the routes apart), which the SecureApi's own `serverErrors` alarm
   * already watches: so with `api` it is off unless `enabled: true`. Construct id `Api5xxAlarm`.
   *
   * @default - on with the orchestrator's own HTTP API, off with `api`; threshold 1, 1 period of 5 minutes
   */
  readonly api5xx?: AlarmConfig;

  /**
   * Attempts of agent steps that failed or timed out (`metricAgentTasksFailed`, sum), greater
   * than or equal to the threshold: every attempt counts, also one the step's retry policy then
   * retries successfully. It watches the agents of every compute, Fargate agents included.
   * Construct id `AgentTasksFailedAlarm`.
   *
   * @default - off; when enabled, threshold 1, 1 period of 5 minutes
   */
  readonly agentTasksFailed?: AlarmConfig;

  /**
   * The 99th percentile of step duration in milliseconds (`metricStepDuration` with statistic
   * p99), greater than the threshold. Every step type is measured, approval steps (which wait for
   * a person) included: set the threshold above the approvals' usual wait. Construct id
   * `StepDurationAlarm`.
   *
   * @default - off; when enabled, threshold 900000 (15 minutes), 1 period of 5 minutes
   */
  readonly stepDuration?: AlarmConfig;
}
