import { IConstruct } from 'constructs';
import { isThrowaway, THROWAWAY_CONTEXT_KEY } from '../private/throwaway';

/**
 * One switch for throwaway stacks (tests, previews, apply-test-destroy environments): every
 * construct of this library under the scope destroys its data with the stack instead of
 * keeping it.
 *
 * | construct | what it keeps by default | under the switch |
 * |---|---|---|
 * | `DurableOrchestrator` | workflow table, artifact and access-log buckets (RETAIN) | deleted; buckets emptied first |
 * | `SecureApi` | access log group, load balancer log bucket (RETAIN) | deleted; bucket emptied first |
 * | `ContainerAgent` | repositories of `AgentImage.fromNewRepository` / `fromDirectoryIntoNewRepository` (RETAIN) | deleted with their images |
 * | `DataTier` | the ephemeral profile already destroys; the production profile snapshots and retains its secrets | destroyed, no final snapshot, secrets deleted |
 *
 * A `removalPolicy` given as a prop always wins over the switch. A setting that contradicts it is
 * refused at synth: a `DataTier` with `deletionProtection` (the production profile's default)
 * whose removal policy comes from the switch, since deleting the stack would fail on it.
 *
 * The switch is the context key `cdk-durable-agents:throwaway` (`THROWAWAY_CONTEXT_KEY`), set by
 * `Throwaway.enable(stack)`, or for the whole app on the command line
 * (`cdk deploy -c cdk-durable-agents:throwaway=true`), in cdk.json, or with `new App({ context })`.
 */
export class Throwaway {
  /** The context key the constructs read: `true` or `'true'` turns the switch on. */
  public static readonly CONTEXT_KEY: string = THROWAWAY_CONTEXT_KEY;

  /**
   * Turns the switch on for every construct of this library created under `scope` (a stack or a
   * stage). Call it right after creating the scope, before adding constructs to it: context
   * cannot be set on a scope that already has children (an `App` always has one; give the app
   * the context key instead).
   *
   * @param scope the scope whose constructs destroy their data with the stack
   */
  public static enable(scope: IConstruct): void {
    if (scope.node.children.length > 0) {
      const where = scope.node.scope ? `'${scope.node.path}'` : 'the app';
      throw new Error(`Throwaway.enable: ${where} already has children (${scope.node.children.map((c) => c.node.id).join(', ')}), ` +
        'and context cannot be set on a scope after children were added; call Throwaway.enable(stack) right after creating the stack, ' +
        `or turn it on for the whole app with new App({ context: { '${THROWAWAY_CONTEXT_KEY}': true } }) or cdk deploy -c ${THROWAWAY_CONTEXT_KEY}=true`);
    }
    scope.node.setContext(THROWAWAY_CONTEXT_KEY, true);
  }

  /**
   * Whether the switch is on for `scope` (set on it, an ancestor, or the app).
   *
   * @param scope any construct
   */
  public static isEnabled(scope: IConstruct): boolean {
    return isThrowaway(scope);
  }

  private constructor() {}
}
