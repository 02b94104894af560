import { createHash } from 'crypto';
import { ECSClient, RunTaskCommand, TaskOverride } from '@aws-sdk/client-ecs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AgentTarget, ENVELOPE_ENV } from '../../../contract/agents';
import type { TaskEnvelope } from '../../../contract/status';
import { AgentDispatcher, UnknownAgentError } from '../../ports';

export interface AwsAgentDispatcherOptions {
  /** Agent name -> where it runs (`ecs` or `lambda`). */
  readonly targets: Record<string, AgentTarget>;
  readonly ecs: ECSClient;
  readonly lambda: LambdaClient;
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
  private readonly targets: Readonly<Record<string, AgentTarget>>;
  private readonly ecs: ECSClient;
  private readonly lambda: LambdaClient;

  constructor(options: AwsAgentDispatcherOptions) {
    this.targets = { ...options.targets };
    this.ecs = options.ecs;
    this.lambda = options.lambda;
  }

  public async dispatch(agent: string, envelope: TaskEnvelope): Promise<{ handle: string }> {
    const target = Object.prototype.hasOwnProperty.call(this.targets, agent) ? this.targets[agent] : undefined;
    if (!target) throw new UnknownAgentError(agent, Object.keys(this.targets));
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
    const out = await this.ecs.send(new RunTaskCommand({
      cluster: target.clusterArn,
      taskDefinition: target.taskDefinitionArn,
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
      throw new Error(`agent '${agent}': ECS did not start a task of ${target.taskDefinitionArn} on ${target.clusterArn}: ${reasons || 'no task and no failure returned'}`);
    }
    return { handle: taskArn };
  }

  private async invoke(agent: string, target: Extract<AgentTarget, { type: 'lambda' }>, envelope: TaskEnvelope, json: string) {
    const payload = Buffer.from(json, 'utf8');
    if (payload.byteLength > MAX_LAMBDA_EVENT_BYTES) {
      throw new Error(`agent '${agent}': the task envelope of step '${envelope.step_name}' is ${payload.byteLength} bytes, `
        + `over Lambda's asynchronous limit of ${MAX_LAMBDA_EVENT_BYTES}: pass large inputs as artifact keys, not values`);
    }
    const out = await this.lambda.send(new InvokeCommand({
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
