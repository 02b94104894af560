import * as cdk from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * `Validations` (policy-validation acknowledgements, read by cdk-nag 3) arrived in aws-cdk-lib
 * after the library's peer minimum (2.232, the first with Lambda `durableConfig`). Where it is
 * missing, acknowledgements go only into the `cdk_nag` resource metadata, which cdk-nag 2 reads
 * and which a reviewer of the template sees (cdk-nag 3 needs that newer aws-cdk-lib anyway).
 */
function validationsOf(lib: object): typeof cdk.Validations | undefined {
  return (lib as { Validations?: typeof cdk.Validations }).Validations;
}

/** A cdk-nag rule the library acknowledges on purpose, and why. */
export interface NagFinding {
  /** The rule id, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable: written for the person reviewing the template. */
  readonly reason: string;
}

/**
 * Acknowledges cdk-nag findings on a construct and everything under it.
 *
 * The acknowledgement is recorded twice: as CDK validation metadata (read by cdk-nag 3)
 * and as `cdk_nag.rules_to_suppress` metadata on each CloudFormation resource that
 * exists now (read by cdk-nag 2 and shown to whoever reviews the template), so the reason
 * travels with the resource whichever tool looks at it.
 *
 * @param lib the aws-cdk-lib module to record validation acknowledgements with (tests pass one
 *        without `Validations`, as aws-cdk-lib 2.232 is)
 */
export function acknowledgeFindings(scope: IConstruct, findings: NagFinding[], lib: object = cdk): void {
  for (const f of findings) {
    if (f.reason.trim().length < 20) {
      throw new Error(`Acknowledgement of ${f.id} on ${scope.node.path} needs a real reason, got '${f.reason}'.`);
    }
  }
  // Validations.acknowledge() refuses ids with more than one '::' (cdk-nag renders pseudo
  // parameters as `<AWS::Region>` in wildcard finding ids); those are recorded in the same
  // metadata shape acknowledge() writes, which is what cdk-nag reads.
  const validations = validationsOf(lib);
  const plain = findings.filter((f) => f.id.split('::').length <= 2);
  const rendered = findings.filter((f) => f.id.split('::').length > 2);
  if (validations && plain.length > 0) validations.of(scope).acknowledge(...plain);
  if (validations && rendered.length > 0) {
    const key = validations.ACKNOWLEDGED_RULES_METADATA_KEY;
    const previous = [...scope.node.metadata].reverse().find((m) => m.type === key)?.data as Record<string, string> | undefined;
    const data: Record<string, string> = { ...previous };
    for (const f of rendered) data[`annotation::${f.id}`] = f.reason;
    scope.node.addMetadata(key, data);
  }
  for (const child of scope.node.findAll()) {
    if (!cdk.CfnResource.isCfnResource(child)) {
      continue;
    }
    const existing = child.getMetadata('cdk_nag') as { rules_to_suppress?: NagFinding[] } | undefined;
    const rules = [...(existing?.rules_to_suppress ?? [])];
    for (const f of findings) {
      if (!rules.some((r) => r.id === f.id)) {
        rules.push({ id: f.id, reason: f.reason });
      }
    }
    child.addMetadata('cdk_nag', { rules_to_suppress: rules });
  }
}
