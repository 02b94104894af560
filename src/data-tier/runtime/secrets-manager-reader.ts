/**
 * The default secret reader for `connectionSettingsFromEnvironment`: AWS Secrets Manager through
 * the AWS SDK for JavaScript v3 (`@aws-sdk/client-secrets-manager`, which the Lambda Node.js
 * runtime provides; install it elsewhere). Kept apart so the URL helpers carry no SDK import.
 */
// Runtime code, like src/runtime: the SDK comes from the Lambda runtime or the consumer's own
// dependencies, never from this library's (a dev dependency here, allowed by the .eslintrc override).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretReader } from './connection-urls';

/** A reader that fetches a secret's string value, with the default credential chain and region. */
export function secretsManagerReader(client: SecretsManagerClient = new SecretsManagerClient({})): SecretReader {
  return async (secretId: string) => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString === undefined) {
      throw new Error(`Secret ${secretId} has no string value (binary secrets are not data tier secrets)`);
    }
    return out.SecretString;
  };
}
