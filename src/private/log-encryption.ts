/**
 * Customer managed keys on the log groups the constructs create. Not public.
 *
 * CloudWatch Logs encrypts with the key as itself (`logs.<region>.amazonaws.com`), so the key
 * policy must allow it; for a key created in the app the policy statement is added here, once per
 * key, limited to log groups of the key's account and region. An imported key cannot be changed:
 * its policy must already allow the service (the construct's docs say so).
 */
import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

const keysAllowingLogs = new WeakSet<kms.IKey>();

/**
 * Lets CloudWatch Logs of the key's account and region use `key` for log groups, and returns the
 * key (for `new logs.LogGroup(..., { encryptionKey: logsKey(key) })`); `undefined` passes through.
 */
export function logsKey(key: kms.IKey | undefined): kms.IKey | undefined {
  if (!key || keysAllowingLogs.has(key)) return key;
  keysAllowingLogs.add(key);
  const stack = Stack.of(key);
  if (!(key instanceof kms.Key)) {
    // An imported key cannot be given the statement: say so at synth, not as a KMS error at deploy.
    Annotations.of(key).addWarningV2('cdk-durable-agents:logsKeyImported',
      `${key.node.path} is an imported key: its key policy must already let logs.${stack.region}.amazonaws.com use it `
      + '(kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* for this account\'s log groups), '
      + 'or creating the encrypted log groups fails; see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html');
  }
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    },
  }), /* allowNoOp */ true);
  return key;
}
