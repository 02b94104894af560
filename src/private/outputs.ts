import { CfnOutput, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

// The `addOutputs()` methods of the constructs: stack outputs with logical ids a person can read
// (`<prefix><Name>`, the keys `cdk deploy --outputs-file` and `describe-stacks` show), created
// only when the app asks for them. Not public.

/** One output: its name (the end of its logical id and export name), value and description. */
export interface OutputSpec {
  readonly name: string;
  readonly value: string;
  readonly description: string;
}

/** The options every construct's `addOutputs()` takes (each construct has its own public copy). */
export interface OutputsOptionsLike {
  readonly outputIdPrefix?: string;
  readonly exportNamePrefix?: string;
}

/** The id of the construct that holds the outputs of its parent. */
const OUTPUTS_ID = 'Outputs';
const ID_PREFIX = /^[A-Za-z][A-Za-z0-9]{0,199}$/;
const EXPORT_PREFIX = /^[A-Za-z0-9:-]{1,200}$/;

/**
 * Creates one `CfnOutput` per spec under `<owner>/Outputs`, with the logical id
 * `<prefix><name>` and, with `exportNamePrefix`, the export name `<exportNamePrefix>-<name>`.
 *
 * @param owner the construct whose outputs these are
 * @param what the method, for errors (`DurableOrchestrator.addOutputs`)
 */
export function addStackOutputs(owner: Construct, what: string, specs: OutputSpec[], options: OutputsOptionsLike = {}): CfnOutput[] {
  if (owner.node.tryFindChild(OUTPUTS_ID)) {
    throw new Error(`${what}: the outputs of ${owner.node.path} were already added; call addOutputs() once per construct`);
  }
  const prefix = options.outputIdPrefix ?? defaultOutputIdPrefix(owner);
  if (Token.isUnresolved(prefix) || !ID_PREFIX.test(prefix)) {
    throw new Error(`${what}: outputIdPrefix '${prefix}' must be a literal of letters and digits starting with a letter ` +
      '(CloudFormation logical ids are alphanumeric), e.g. \'Research\'');
  }
  const exportPrefix = options.exportNamePrefix;
  if (exportPrefix !== undefined && !Token.isUnresolved(exportPrefix) && !EXPORT_PREFIX.test(exportPrefix)) {
    throw new Error(`${what}: exportNamePrefix '${exportPrefix}' may hold only letters, digits, '-' and ':' ` +
      '(what CloudFormation export names take), e.g. \'research-prod\'');
  }
  const scope = new Construct(owner, OUTPUTS_ID);
  return specs.map((spec) => {
    const output = new CfnOutput(scope, spec.name, {
      value: spec.value,
      description: spec.description.slice(0, 1024),
      exportName: exportPrefix === undefined ? undefined : `${exportPrefix}-${spec.name}`,
    });
    output.overrideLogicalId(`${prefix}${spec.name}`);
    return output;
  });
}

/**
 * The construct's path inside its stack, letters and digits only (`Research` for a construct
 * `Research` at the top of its stack, `PlatformResearch` for `Platform/Research`).
 */
function defaultOutputIdPrefix(owner: Construct): string {
  const stackDepth = Stack.of(owner).node.scopes.length;
  const path = owner.node.scopes.slice(stackDepth).map((c) => c.node.id).join('');
  const cleaned = path.replace(/[^A-Za-z0-9]/g, '');
  return /^[A-Za-z]/.test(cleaned) ? cleaned : `Out${cleaned}`;
}
