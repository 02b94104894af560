import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeFindings } from './nag';

/** A grant whose wildcards are deliberate, and the reason for them. */
export interface ScopedGrantProps {
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
  /**
   * Why the wildcards in `resources` are as narrow as they can be. Recorded as the
   * acknowledgement of each cdk-nag AwsSolutions-IAM5 finding the grant causes, on the grantee.
   * Required exactly when an action or a resource holds a wildcard.
   */
  readonly wildcardReason?: string;
}

/**
 * Grants exactly `actions` on `resources` and acknowledges, on the grantee's role, the cdk-nag
 * wildcard findings this grant causes (one finding id per wildcard resource, as cdk-nag renders
 * it), so that a reviewer of the template sees why each one is there.
 */
export function grantScoped(grantee: iam.IGrantable, props: ScopedGrantProps): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: props.actions,
    resourceArns: props.resources,
    conditions: props.conditions,
  });
  const holder = principalConstruct(grantee.grantPrincipal);
  if (holder) {
    const wildcardsOf = () => [
      ...props.actions.filter((a) => a.includes('*')).map((a) => `Action::${a}`),
      ...props.resources.map((r) => `Resource::${flattenReference(Stack.of(holder).resolve(r))}`).filter((r) => r.includes('*')),
    ];
    const wildcards = wildcardsOf();
    if (wildcards.length > 0) {
      if (!props.wildcardReason) {
        throw new Error(`grantScoped: ${wildcards.join(', ')} hold a wildcard; say why in wildcardReason`);
      }
      acknowledgeFindings(holder, wildcards.map((w) => ({ id: `AwsSolutions-IAM5[${w}]`, reason: props.wildcardReason! })));
      // A reference to another stack's resource resolves to an import only once the app is
      // prepared for synthesis, and cdk-nag names the finding after the import: acknowledge it
      // under that name too (validation runs after the preparation).
      holder.node.addValidation({
        validate: () => {
          const late = wildcardsOf().filter((w) => !wildcards.includes(w));
          if (late.length > 0) acknowledgeFindings(holder, late.map((w) => ({ id: `AwsSolutions-IAM5[${w}]`, reason: props.wildcardReason! })));
          return [];
        },
      });
    }
  }
  return grant;
}

/**
 * Grants encrypt and decrypt with a KMS key (what a reader and writer of data the key protects
 * needs: `kms:Encrypt`, `kms:Decrypt`, `kms:ReEncrypt*`, `kms:GenerateDataKey*` on that key), and
 * acknowledges, on the grantee's role, the cdk-nag findings of the two action wildcards, which
 * cover exactly the variants the services call (ReEncryptFrom/To, GenerateDataKey and its
 * WithoutPlaintext form), on this one key.
 *
 * @param what what the key protects, for the reason a reviewer reads (e.g. 'the workflow table')
 */
export function grantKeyEncryptDecrypt(key: kms.IKey, grantee: iam.IGrantable, what: string): iam.Grant {
  const grant = key.grantEncryptDecrypt(grantee);
  const holder = principalConstruct(grantee.grantPrincipal);
  if (holder) {
    const reason = 'kms:ReEncrypt* and kms:GenerateDataKey* are the variants (ReEncryptFrom/To, GenerateDataKey, GenerateDataKeyWithoutPlaintext) ' +
      `that reading and writing ${what} through its customer managed key calls; the statement names that one key and no other.`;
    acknowledgeFindings(holder, ['kms:ReEncrypt*', 'kms:GenerateDataKey*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason })));
  }
  return grant;
}

/** The construct behind a principal (a Role), where acknowledgements of its policies belong. */
function principalConstruct(principal: iam.IPrincipal): IConstruct | undefined {
  return Construct.isConstruct(principal) ? principal : undefined;
}

/**
 * Renders a resolved CloudFormation value as one string, the way cdk-nag names wildcard
 * findings: `Ref` as `<Id>`, `Fn::GetAtt` as `<Id.Attr>`, joins concatenated.
 */
export function flattenReference(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof value === 'object') {
    const v = value as Record<string, any>;
    if (Array.isArray(v['Fn::Join'])) {
      const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (v['Fn::Sub'] !== undefined) return flattenReference(v['Fn::Sub']);
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [id, attr] = v['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(id)}.${flattenReference(attr)}>`;
    }
    if (v['Fn::ImportValue'] !== undefined) return flattenReference(v['Fn::ImportValue']);
    if (v.Ref !== undefined) return `<${flattenReference(v.Ref)}>`;
  }
  return JSON.stringify(value);
}

/**
 * `grantee` as a principal whose grants are written in `scope`'s stack. A role from another stack
 * gets an `iam.Policy` created in `scope`'s stack and attached to it: granting through the role's
 * own default policy would make that stack refer to `scope`'s resources while `scope`'s stack
 * refers to the role's (a cycle). Anything else is returned as it is.
 */
export function stackLocalGrantee(scope: Construct, id: string, grantee: iam.IGrantable): iam.IGrantable {
  const principal = grantee.grantPrincipal;
  const role = principal as Partial<iam.IRole>;
  if (!Construct.isConstruct(principal) || typeof role.roleName !== 'string' || Stack.of(principal) === Stack.of(scope)) {
    return grantee;
  }
  return new AttachedPolicyPrincipal(scope, id, principal as unknown as iam.IRole);
}

/** A role of another stack, granted through a policy of this stack. */
class AttachedPolicyPrincipal extends Construct implements iam.IPrincipal, iam.IGrantable {
  public readonly grantPrincipal: iam.IPrincipal = this;
  public readonly assumeRoleAction: string;
  public readonly principalAccount?: string;
  private readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, private readonly role: iam.IRole) {
    super(scope, id);
    this.assumeRoleAction = role.assumeRoleAction;
    this.principalAccount = role.principalAccount;
    this.policy = new iam.Policy(this, 'Policy', { roles: [role] });
  }

  public get policyFragment(): iam.PrincipalPolicyFragment {
    return this.role.policyFragment;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }

  public addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }
}
