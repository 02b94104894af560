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
    const findingsHere = findings.filter((f) => canFlag(f.id, child.cfnResourceType));
    if (findingsHere.length === 0) {
      continue;
    }
    const existing = child.getMetadata('cdk_nag') as { rules_to_suppress?: NagFinding[] } | undefined;
    const rules = [...(existing?.rules_to_suppress ?? [])];
    for (const f of findingsHere) {
      if (!rules.some((r) => r.id === f.id)) {
        rules.push({ id: f.id, reason: f.reason });
      }
    }
    child.addMetadata('cdk_nag', { rules_to_suppress: rules });
  }
}

/**
 * The resource types each acknowledged rule can flag (cdk-nag checks a rule against these types
 * only). An acknowledgement is written into the template on those resources of the scope, not on
 * every one: the same reason repeated on each resource made up more than half of a 50-agent
 * template and of its synthesis time. A rule not listed here is written on every resource.
 */
const RULE_RESOURCE_TYPES: ReadonlyArray<readonly [RegExp, readonly string[]]> = [
  [/^AwsSolutions-IAM[45]\b/, ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group']],
  [/^Serverless-LambdaAsyncFailureDestination$/, ['AWS::Lambda::Function', 'AWS::Lambda::EventInvokeConfig']],
  [/^Serverless-LambdaStarPermissions$/, ['AWS::IAM::Role']],
  [/^Serverless-LambdaFunctionUrlAuth$/, ['AWS::Lambda::Url']],
  [/^Serverless-LambdaFunctionPublicAccessProhibited$/, ['AWS::Lambda::Permission']],
  [/^(AwsSolutions-L1|Serverless-Lambda|HIPAA\.Security-Lambda|NIST\.800-53\.R[45]-Lambda|PCI\.DSS\.321-Lambda)/, ['AWS::Lambda::Function']],
  [/^AwsSolutions-ECS2$/, ['AWS::ECS::TaskDefinition']],
  [/^AwsSolutions-EC2[689]$/, ['AWS::EC2::Instance', 'AWS::AutoScaling::AutoScalingGroup']],
  [/^AwsSolutions-S1$/, ['AWS::S3::Bucket']],
  [/^AwsSolutions-SMG4$/, ['AWS::SecretsManager::Secret']],
  [/^AwsSolutions-RDS\d+$/, ['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster']],
  [/^AwsSolutions-AEC\d+$/, ['AWS::ElastiCache::ReplicationGroup', 'AWS::ElastiCache::CacheCluster']],
  [/^AwsSolutions-APIG4$/, ['AWS::ApiGatewayV2::Route', 'AWS::ApiGateway::Method']],
];

function canFlag(ruleId: string, resourceType: string): boolean {
  const entry = RULE_RESOURCE_TYPES.find(([pattern]) => pattern.test(ruleId));
  return entry === undefined || entry[1].includes(resourceType);
}

/**
 * The AWS CDK's own deploy-time custom-resource providers, by their id in the stack (each is
 * created once per stack, the first time a construct needs it), and what each does.
 */
const CDK_PROVIDERS: ReadonlyArray<readonly [string, string]> = [
  ['Custom::S3AutoDeleteObjectsCustomResourceProvider', 'empties a bucket when the stack deletes it (removalPolicy DESTROY)'],
  ['Custom::VpcRestrictDefaultSGCustomResourceProvider', 'removes the rules of a VPC\'s default security group'],
];

/**
 * Acknowledges, in the template, what cdk-nag finds on the AWS CDK's own custom-resource
 * providers in `scope`'s stack (an in-app cdk-nag run does not see them, being plain
 * `CfnResource`s; a run over the synthesized template does). Call it after the construct that
 * pulls a provider in; a provider the stack does not have is skipped.
 */
export function acknowledgeCdkProviders(scope: IConstruct): void {
  const stack = cdk.Stack.of(scope);
  for (const [id, what] of CDK_PROVIDERS) {
    const provider = stack.node.tryFindChild(id);
    if (!provider) continue;
    const reason = `The AWS CDK's own custom-resource provider (${id.replace(/^Custom::|CustomResourceProvider$/g, '')}: it ${what}). ` +
      'CloudFormation invokes it only while deploying; its runtime, role and settings are set by aws-cdk-lib and move with it.';
    acknowledgeFindings(provider, [
      { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason },
      { id: 'AwsSolutions-L1', reason },
      { id: 'Serverless-LambdaDLQ', reason },
      { id: 'Serverless-LambdaLatestVersion', reason },
      { id: 'Serverless-LambdaTracing', reason },
      { id: 'Serverless-LambdaDefaultMemorySize', reason },
      { id: 'Serverless-LambdaDefaultTimeout', reason },
    ]);
  }
}
