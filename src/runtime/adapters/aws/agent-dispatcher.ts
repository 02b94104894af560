import { createHash } from 'crypto';
import type { ECSClient, TaskOverride } from '@aws-sdk/client-ecs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AgentTarget, ENVELOPE_ENV } from '../../../contract/agents';
import type { TaskEnvelope } from '../../../contract/status';
import { AgentDispatcher, UnknownAgentError } from '../../ports';

/** Where the dispatcher finds an agent's target when it dispatches to it. */
export interface AgentTargetLookup {
  /** The agents there are (for messages). */
  readonly agentNames: readonly string[];
  /** The agent's current target, or undefined for an agent it does not know. */
  target(agent: string): Promise<AgentTarget | undefined>;
}

export interface AwsAgentDispatcherOptions {
  /** Agent name -> where it runs (`ecs` or `lambda`), or a lookup of the current target at each dispatch. */
  readonly targets: Record<string, AgentTarget> | AgentTargetLookup;
  /** The ECS client, or a function that makes it on first use (only dispatches to `ecs` targets need it). */
  readonly ecs: ECSClient | (() => Promise<ECSClient>);
  /** The Lambda client, or a function that makes it on first use. */
  readonly lambda: LambdaClient | (() => Promise<LambdaClient>);
}

/** ECS's limit on a task's overrides, JSON formatting included (characters). */
export const MAX_ECS_OVERRIDES_CHARS = 8192;
/** Lambda's limit on the payload of an asynchronous invocation (bytes). */
export const MAX_LAMBDA_EVENT_BYTES = 1024 * 1024;

/**
 * `startedBy` of an agent's ECS task: the workflow id in at most 36 characters that ECS
 * accepts (letters, digits, `-`, `_`, `/`); a longer id is cut and suffixed with a hash.
 * `ListTasks` with this value finds the workflow's tasks.
 */
export function startedByOf(workflowId: string): string {
  const safe = workflowId.replace(/[^A-Za-z0-9_/-]/g, '-');
  if (safe.length <= 36 && safe === workflowId) return safe;
  const hash = createHash('sha256').update(workflowId, 'utf8').digest('hex').slice(0, 8);
  return `${safe.slice(0, 27)}-${hash}`;
}

/** A tag value ECS accepts as it is, or undefined (then the tag is left out). */
function tagValue(value: string): string | undefined {
  return /^[A-Za-z0-9 +\-=._:/@]{1,256}$/.test(value) ? value : undefined;
}

/**
 * AgentDispatcher on AWS. An `ecs` target is started with RunTask on Fargate in the
 * target's subnets and security groups, the envelope in the container's `TASK_ENVELOPE`
 * (a client token derived from the envelope makes a repeated dispatch of the same envelope
 * start one task; handle: the task ARN). A `lambda` target is invoked asynchronously with
 * the envelope as its event (handle: the invocation's request id).
 */
export class AwsAgentDispatcher implements AgentDispatcher {
  private readonly targets: AgentTargetLookup;
  private readonly ecs: () => Promise<ECSClient>;
  private readonly lambda: () => Promise<LambdaClient>;

  constructor(options: AwsAgentDispatcherOptions) {
    this.targets = isLookup(options.targets) ? options.targets : staticTargets(options.targets);
    this.ecs = once(options.ecs);
    this.lambda = once(options.lambda);
  }

  public async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    const target = await this.targets.target(agent);
    if (!target) throw new UnknownAgentError(agent, [...this.targets.agentNames]);
    const json = JSON.stringify(envelope);
    switch (target.type) {
      case 'ecs':
        return this.runTask(agent, target, envelope, json);
      case 'lambda':
        return this.invoke(agent, target, envelope, json);
      default:
        throw new Error(`agent '${agent}' is a '${target.type}' target; AwsAgentDispatcher starts 'ecs' and 'lambda' targets (use ProcessAgentDispatcher for local ones)`);
    }
  }

  /**
   * Stops an ECS task with StopTask (its container gets SIGTERM, then SIGKILL after its stop
   * timeout). A Lambda agent's asynchronous invocation cannot be stopped: its heartbeats and report
   * are refused from now on, and its own timeout ends it.
   */
  public async stop(agent: string, handle: string, reason: string): Promise<void> {
    const target = await this.targets.target(agent);
    if (target?.type !== 'ecs') return;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { StopTaskCommand } = require('@aws-sdk/client-ecs') as typeof import('@aws-sdk/client-ecs');
    const ecs = await this.ecs();
    // ECS keeps a stop reason of at most 255 characters.
    await ecs.send(new StopTaskCommand({ cluster: target.clusterArn, task: handle, reason: reason.slice(0, 255) }));
  }

  private async runTask(agent: string, target: Extract<AgentTarget, { type: 'ecs' }>, envelope: TaskEnvelope, json: string) {
    const overrides: TaskOverride = {
      containerOverrides: [{ name: target.containerName, environment: [{ name: ENVELOPE_ENV, value: json }] }],
    };
    const size = JSON.stringify(overrides).length;
    if (size > MAX_ECS_OVERRIDES_CHARS) {
      throw new Error(`agent '${agent}': the task envelope of step '${envelope.step_name}' makes the ECS overrides ${size} characters, `
        + `over ECS's limit of ${MAX_ECS_OVERRIDES_CHARS}: pass large inputs as artifact keys, not values`);
    }
    const tags = [
      { key: 'workflow_id', value: tagValue(envelope.workflow_id) },
      { key: 'step_name', value: tagValue(envelope.step_name) },
    ].filter((t): t is { key: string; value: string } => t.value !== undefined);
    // The ECS client is loaded by the first ECS dispatch: a controller without ECS agents never loads it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RunTaskCommand } = require('@aws-sdk/client-ecs') as typeof import('@aws-sdk/client-ecs');
    const ecs = await this.ecs();
    const out = await ecs.send(new RunTaskCommand({
      cluster: target.clusterArn,
      taskDefinition: target.taskDefinition,
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...target.subnets],
          securityGroups: [...target.securityGroups],
          assignPublicIp: target.assignPublicIp ? 'ENABLED' : 'DISABLED',
        },
      },
      overrides,
      startedBy: startedByOf(envelope.workflow_id),
      tags: tags.length ? tags : undefined,
      clientToken: createHash('sha256').update(json, 'utf8').digest('hex'),
    }));
    const failures = out.failures ?? [];
    const taskArn = out.tasks?.[0]?.taskArn;
    if (failures.length > 0 || !taskArn) {
      const reasons = failures.map((f) => [f.arn, f.reason, f.detail].filter(Boolean).join(': ')).join('; ');
      throw new Error(`agent '${agent}': ECS did not start a task of ${target.taskDefinition} on ${target.clusterArn}: ${reasons || 'no task and no failure returned'}`);
    }
    return { handle: taskArn };
  }

  private async invoke(agent: string, target: Extract<AgentTarget, { type: 'lambda' }>, envelope: TaskEnvelope, json: string) {
    const payload = Buffer.from(json, 'utf8');
    if (payload.byteLength > MAX_LAMBDA_EVENT_BYTES) {
      throw new Error(`agent '${agent}': the task envelope of step '${envelope.step_name}' is ${payload.byteLength} bytes, `
        + `over Lambda's asynchronous limit of ${MAX_LAMBDA_EVENT_BYTES}: pass large inputs as artifact keys, not values`);
    }
    const lambda = await this.lambda();
    const out = await lambda.send(new InvokeCommand({
      FunctionName: target.functionArn,
      InvocationType: 'Event',
      Payload: payload,
    }));
    if (out.FunctionError !== undefined || out.StatusCode !== 202) {
      throw new Error(`agent '${agent}': asynchronous invoke of ${target.functionArn} was not accepted `
        + `(status ${out.StatusCode ?? 'none'}${out.FunctionError === undefined ? '' : `, function error ${out.FunctionError}`})`);
    }
    return { handle: out.$metadata.requestId ?? target.functionArn };
  }
}

function isLookup(targets: Record<string, AgentTarget> | AgentTargetLookup): targets is AgentTargetLookup {
  return typeof (targets as AgentTargetLookup).target === 'function' && Array.isArray((targets as AgentTargetLookup).agentNames);
}

/** A fixed map of targets as a lookup. */
function staticTargets(targets: Record<string, AgentTarget>): AgentTargetLookup {
  const copy: Record<string, AgentTarget> = { ...targets };
  return {
    agentNames: Object.keys(copy),
    target: async (agent) => (Object.prototype.hasOwnProperty.call(copy, agent) ? copy[agent] : undefined),
  };
}

/** A client, or the one a factory makes on the first call (and keeps). */
export function once<T extends object>(client: T | (() => Promise<T>)): () => Promise<T> {
  if (typeof client !== 'function') return async () => client;
  let made: Promise<T> | undefined;
  return () => {
    made ??= (client as () => Promise<T>)().catch((e: unknown) => {
      made = undefined;
      throw e;
    });
    return made;
  };
}
