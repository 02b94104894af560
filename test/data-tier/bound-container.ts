/**
 * A container bound to a DataTier the way a user does it for an app that reads DATABASE_URL and
 * REDIS_URL (`command: DataTier.connectionUrlCommand(appCommand)`, then `bindToContainer`), as
 * the synthesized task definition has it. Not a test itself.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DataTier } from '../../src/data-tier';

/** The container definition of the template, reduced to what the container's process sees. */
export interface BoundContainer {
  /** `Command` as synthesized. */
  readonly command: string[];
  /** `Environment`: name to value (a literal, or a CloudFormation intrinsic for the endpoints). */
  readonly environment: Record<string, unknown>;
  /** `Secrets`: name to `ValueFrom` (which secret, and which JSON field of it). */
  readonly secrets: Record<string, unknown>;
}

/** Synthesizes a DataTier and a Fargate container running `appCommand` through the URL wrapper. */
export function boundContainer(appCommand: string[]): BoundContainer {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const data = new DataTier(stack, 'Data');
  const task = new ecs.FargateTaskDefinition(stack, 'Task');
  const container = task.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/python:3.12-slim'),
    command: DataTier.connectionUrlCommand(appCommand),
  });
  data.bindToContainer(container);
  const def = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions[0];
  return {
    command: def.Command,
    environment: Object.fromEntries(def.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value])),
    secrets: Object.fromEntries(def.Secrets.map((e: { Name: string; ValueFrom: unknown }) => [e.Name, e.ValueFrom])),
  };
}

/** What ECS injects for each secret of a bound container: the JSON field named in ValueFrom, or the whole secret. */
export interface InjectedCredentials {
  readonly username: string;
  readonly password: string;
  readonly redisAuthToken: string;
}

/**
 * The environment of the container's process at run time: the literal settings as synthesized,
 * the endpoints replaced by `endpoints` (the servers a test runs), the secrets as ECS injects them.
 * Throws on a variable it cannot account for, so a new setting cannot slip past the tests.
 */
export function runtimeEnvironment(
  bound: BoundContainer, credentials: InjectedCredentials, endpoints: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(bound.environment)) {
    if (name in endpoints) env[name] = endpoints[name];
    else if (typeof value === 'string') env[name] = value;
    else throw new Error(`${name} is a deploy-time value (${JSON.stringify(value)}); give it in endpoints`);
  }
  for (const [name, valueFrom] of Object.entries(bound.secrets)) {
    const text = JSON.stringify(valueFrom);
    if (text.includes(':password::')) env[name] = credentials.password;
    else if (text.includes(':username::')) env[name] = credentials.username;
    else if (/CacheAuthToken/.test(text)) env[name] = credentials.redisAuthToken;
    else throw new Error(`secret ${name} (${text}) is not one the data tier hands over`);
  }
  return env;
}
