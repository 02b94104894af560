/**
 * Customer managed keys on the log groups the constructs create. Not public.
 *
 * CloudWatch Logs encrypts with the key as itself (`logs.<region>.amazonaws.com`), so the key
 * policy must allow it; for a key created in the app the policy statement is added here, once per
 * key, limited to log groups of the key's account and region. An imported key cannot be changed:
 * its policy must already allow the service (the construct's docs say so).
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
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
