/**
 * Where an agent runs, as the runtime's AgentDispatcher sees it. The ContainerAgent construct
 * renders one of these per agent (with deploy-time tokens resolved by CloudFormation); the local
 * server builds `local` ones from each agent's local command.
 */
export type AgentTarget =
  /** A Lambda function (container image): invoked asynchronously with the envelope as its event. */
  | { readonly type: 'lambda'; readonly functionArn: string }
  /** An ECS task: run with the envelope in the `TASK_ENVELOPE` environment variable of `containerName`. */
  | {
    readonly type: 'ecs';
    readonly clusterArn: string;
    /**
     * The task definition to run: a family (its latest ACTIVE revision runs, so a dispatch after a
     * deploy starts the new revision: ECS refuses to run the replaced, INACTIVE one), or a
     * `family:revision` / ARN to run exactly that revision.
     */
    readonly taskDefinition: string;
    readonly containerName: string;
    readonly subnets: readonly string[];
    readonly securityGroups: readonly string[];
    readonly assignPublicIp: boolean;
  }
  /** A local process: `command[0]` run with `command.slice(1)`, envelope in `TASK_ENVELOPE`. */
  | {
    readonly type: 'local';
    readonly command: readonly string[];
    readonly cwd?: string;
    readonly env?: Readonly<Record<string, string>>;
  };

/** Name of the environment variable that carries the task envelope (JSON) to a container or process. */
export const ENVELOPE_ENV = 'TASK_ENVELOPE';

/**
 * The variable that lists (comma-separated) the secrets an agent reads at start: for each name
 * `<name>`, the secret whose ARN is in `<name>_SECRET_ARN` (see `secretArnEnv`) becomes
 * `<name>`. The agent kit keeps its own copy of these names (agents/kit/src/secrets.ts: an image
 * build sees only agents/); a test checks that they agree.
 */
export const AGENT_SECRETS_ENV = 'AGENT_SECRETS';

/** The variable that carries the ARN of the secret an agent reads into `name` at start. */
export function secretArnEnv(name: string): string {
  return `${name}_SECRET_ARN`;
}
