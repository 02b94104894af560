import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * The stack's template with asset hashes masked, for `toMatchSnapshot()`: a snapshot then
 * changes when the infrastructure changes, not when a bundled handler's bytes do.
 */
export function maskedTemplate(stack: Stack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(json.replace(ASSET_HASH, '[ASSET HASH]'));
}
