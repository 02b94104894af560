import { App, Aspects, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks, WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';

/** One unacknowledged cdk-nag finding, flattened for a readable assertion failure. */
export interface NagFindingReport {
  readonly rule: string;
  readonly path: string;
  readonly description: string;
}

/**
 * Runs the cdk-nag AwsSolutions and Serverless packs over an app and returns every finding
 * that the constructs did not acknowledge (with a reason). With aws-cdk-lib 2.257 the packs
 * are run directly (`validateScope`) rather than registered as validation plugins.
 *
 * It also writes each acknowledgement into the templates (`cdk_nag.rules_to_suppress`), so
 * call it before `Template.fromStack` when a test wants to see them.
 */
export function unacknowledgedNagFindings(app: App): NagFindingReport[] {
  Aspects.of(app).add(new WriteNagSuppressionsToCloudFormationAspect());
  const reports: PolicyValidationPluginReport[] = [
    new AwsSolutionsChecks().validateScope(app),
    new ServerlessChecks().validateScope(app),
  ];
  return reports.flatMap((r) => r.violations.flatMap((v) => v.violatingResources.map((res) => ({
    rule: v.ruleName,
    path: res.constructPath ?? '?',
    description: v.description,
  }))));
}
