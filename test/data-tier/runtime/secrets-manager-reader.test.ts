import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsManagerReader } from '../../../src/data-tier/runtime/secrets-manager-reader';

test('reads a secret string by ARN', async () => {
  const send = jest.fn(async (_: GetSecretValueCommand) => ({ SecretString: '{"username":"u"}' }));
  const read = secretsManagerReader({ send } as unknown as SecretsManagerClient);
  await expect(read('arn:aws:secretsmanager:us-east-1:123456789012:secret:db')).resolves.toBe('{"username":"u"}');
  expect(send.mock.calls[0][0].input).toEqual({ SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db' });
});

test('a binary secret is not a data tier secret', async () => {
  const read = secretsManagerReader({ send: async () => ({ SecretBinary: new Uint8Array([1]) }) } as unknown as SecretsManagerClient);
  await expect(read('arn:x')).rejects.toThrow(/Secret arn:x has no string value/);
});
