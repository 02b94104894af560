import type { SSMClient } from '@aws-sdk/client-ssm';
import { once, type AgentTargetLookup } from './agent-dispatcher';
import type { AgentTarget } from '../../../contract/agents';

export interface SsmAgentTargetsOptions {
  /** Parameter path under which each agent's target is `<prefix>/<agent name>`. */
  readonly prefix: string;
  /** The agents the workflow's definition names; any other name is unknown without a lookup. */
  readonly agentNames: readonly string[];
  /** The SSM client, or a function that makes it on first use. */
  readonly client: SSMClient | (() => Promise<SSMClient>);
  /**
   * How long a target read is reused (milliseconds). Targets change only when a deploy replaces an
   * agent's function or cluster (ECS targets name a task definition family, whose latest revision
   * runs), so a warm controller reads each at most once per period. @default 60000
   */
  readonly maxAgeMs?: number;
}

/**
 * Agent targets read from SSM parameters that the DurableOrchestrator construct writes at deploy
 * time (one String parameter per agent, holding the target as JSON with its ARNs resolved). The
 * lookup happens when a task is dispatched, not when the function loads.
 */
export class SsmAgentTargets implements AgentTargetLookup {
  public readonly agentNames: readonly string[];
  private readonly prefix: string;
  private readonly client: () => Promise<SSMClient>;
  private readonly maxAgeMs: number;
  private readonly cache = new Map<string, { readonly target: AgentTarget; readonly readAt: number }>();

  constructor(options: SsmAgentTargetsOptions) {
    this.agentNames = [...options.agentNames];
    this.prefix = options.prefix.replace(/\/+$/, '');
    this.client = once(options.client);
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
  }

  public async target(agent: string): Promise<AgentTarget | undefined> {
    if (!this.agentNames.includes(agent)) return undefined;
    const cached = this.cache.get(agent);
    if (cached && Date.now() - cached.readAt < this.maxAgeMs) return cached.target;
    const name = `${this.prefix}/${agent}`;
    // Loaded by the first lookup, not when the handler loads.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GetParameterCommand } = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
    const client = await this.client();
    let value: string | undefined;
    try {
      value = (await client.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (e) {
      if ((e as { name?: string }).name === 'ParameterNotFound') {
        throw new Error(`agent '${agent}': its dispatch target, SSM parameter ${name}, does not exist. The DurableOrchestrator ` +
          'writes one per agent at deploy time; an agent removed from the orchestrator while workflows still used it has none. ' +
          'Add the agent back, or let those workflows end first');
      }
      throw e;
    }
    const target = parseTarget(agent, name, value);
    this.cache.set(agent, { target, readAt: Date.now() });
    return target;
  }
}

/** Checks the JSON of a target parameter; every problem names the parameter. */
export function parseTarget(agent: string, parameter: string, value: string | undefined): AgentTarget {
  const fail = (why: string): never => {
    throw new Error(`agent '${agent}': SSM parameter ${parameter} is not a dispatch target (${why}); it is written by the DurableOrchestrator ` +
      'construct: redeploy the stack rather than editing it');
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value ?? '');
  } catch (e) {
    return fail(`not JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('not a JSON object');
  const t = parsed as Record<string, unknown>;
  const text = (key: string) => {
    if (typeof t[key] !== 'string' || t[key] === '') fail(`'${key}' is not a non-empty string`);
    return t[key] as string;
  };
  const texts = (key: string) => {
    const v = t[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) fail(`'${key}' is not a list of strings`);
    return v as string[];
  };
  switch (t.type) {
    case 'lambda':
      return { type: 'lambda', functionArn: text('functionArn') };
    case 'ecs': {
      const subnets = texts('subnets');
      if (subnets.length === 0) fail('\'subnets\' is empty');
      if (typeof t.assignPublicIp !== 'boolean') fail('\'assignPublicIp\' is not a boolean');
      return {
        type: 'ecs',
        clusterArn: text('clusterArn'),
        taskDefinition: text('taskDefinition'),
        containerName: text('containerName'),
        subnets,
        securityGroups: texts('securityGroups'),
        assignPublicIp: t.assignPublicIp as boolean,
      };
    }
    default:
      return fail(`'type' is ${JSON.stringify(t.type)}, expected 'lambda' or 'ecs'`);
  }
}
