import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

const ASSET_HASH = /[0-9a-f]{64}/g;
/** A function version's logical id ends in a hash of its code and configuration. */
const VERSION_HASH = /(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g;

/**
 * The stack's template with asset hashes masked, for `toMatchSnapshot()`: a snapshot then
 * changes when the infrastructure changes, not when a bundled handler's bytes do (asset hashes,
 * and the hash in a function version's logical id).
 */
export function maskedTemplate(stack: Stack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(json.replace(ASSET_HASH, '[ASSET HASH]').replace(VERSION_HASH, '$1[VERSION HASH]'));
}
