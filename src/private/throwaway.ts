/**
 * The throwaway switch every construct of this library reads for the defaults of what it keeps
 * (tables, buckets, log groups, repositories, databases). Not public: users turn it on with
 * `Throwaway.enable(scope)` (src/throwaway) or the context key on the command line.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The context key of the switch: `cdk deploy -c cdk-durable-agents:throwaway=true`. */
export const THROWAWAY_CONTEXT_KEY = 'cdk-durable-agents:throwaway';

/**
 * Whether the throwaway switch is on for `scope`: the context key set on the scope or one of its
 * ancestors (`Throwaway.enable`), or on the app (`-c`, cdk.json). `true`/`'true'` turn it on,
 * `false`/`'false'` or no value leave it off; anything else is refused, naming the key.
 */
export function isThrowaway(scope: IConstruct): boolean {
  const value: unknown = scope.node.tryGetContext(THROWAWAY_CONTEXT_KEY);
  if (value === undefined || value === null || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`The context value ${THROWAWAY_CONTEXT_KEY} is ${JSON.stringify(value)}, but it must be true or false ` +
    `(e.g. cdk deploy -c ${THROWAWAY_CONTEXT_KEY}=true, or Throwaway.enable(scope) in the app)`);
}

/**
 * The removal policy of a construct's data: the prop when given (an explicit choice always wins),
 * else DESTROY under the throwaway switch, else the construct's own default.
 */
export function removalPolicyOf(scope: IConstruct, explicit: RemovalPolicy | undefined, fallback: RemovalPolicy): RemovalPolicy {
  if (explicit !== undefined) return explicit;
  return isThrowaway(scope) ? RemovalPolicy.DESTROY : fallback;
}
