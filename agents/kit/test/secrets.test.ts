import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describeWithMoto } from '../../../test/helpers/moto';
import { resolveSecrets, SecretError, secretsManagerReader } from '../src';

/** A reader over a fixed set of secrets, keeping the ARNs it was asked for. */
function reader(secrets: Record<string, string>) {
  const asked: string[] = [];
  const read = async (arn: string) => {
    asked.push(arn);
    if (!(arn in secrets)) throw Object.assign(new Error('Secrets Manager can\'t find the specified secret.'), { name: 'ResourceNotFoundException' });
    return secrets[arn];
  };
  return { read, asked };
}

describe('resolveSecrets', () => {
  test('reads each listed secret into its variable and says which it read', async () => {
    const env: NodeJS.ProcessEnv = {
      AGENT_SECRETS: 'OPENAI_API_KEY, GITHUB_TOKEN',
      OPENAI_API_KEY_SECRET_ARN: 'arn:key',
      GITHUB_TOKEN_SECRET_ARN: 'arn:gh',
    };
    const { read, asked } = reader({ 'arn:key': 'sk-123', 'arn:gh': 'ghp_456' });
    expect(await resolveSecrets(env, read)).toEqual(['OPENAI_API_KEY', 'GITHUB_TOKEN']);
    expect(env).toMatchObject({ OPENAI_API_KEY: 'sk-123', GITHUB_TOKEN: 'ghp_456' });
    expect(asked).toEqual(['arn:key', 'arn:gh']);
  });

  test('reads a secret once: a variable with a value keeps it', async () => {
    const env: NodeJS.ProcessEnv = { AGENT_SECRETS: 'OPENAI_API_KEY', OPENAI_API_KEY_SECRET_ARN: 'arn:key' };
    const { read, asked } = reader({ 'arn:key': 'sk-123' });
    await resolveSecrets(env, read);
    expect(await resolveSecrets(env, read)).toEqual([]);
    expect(asked).toEqual(['arn:key']);
    const preset: NodeJS.ProcessEnv = { AGENT_SECRETS: 'OPENAI_API_KEY', OPENAI_API_KEY: 'mine', OPENAI_API_KEY_SECRET_ARN: 'arn:key' };
    expect(await resolveSecrets(preset, read)).toEqual([]);
    expect(preset.OPENAI_API_KEY).toBe('mine');
  });

  test('reads only what AGENT_SECRETS lists', async () => {
    const env: NodeJS.ProcessEnv = { DATABASE_SECRET_ARN: 'arn:db' };
    const { read, asked } = reader({});
    expect(await resolveSecrets(env, read)).toEqual([]);
    expect(asked).toEqual([]);
    expect(env.DATABASE).toBeUndefined();
  });

  test('names the variable and the secret when one cannot be read', async () => {
    const { read } = reader({});
    await expect(resolveSecrets({ AGENT_SECRETS: 'GITHUB_TOKEN', GITHUB_TOKEN_SECRET_ARN: 'arn:gone' }, read))
      .rejects.toThrow(new SecretError("could not read GITHUB_TOKEN from the secret arn:gone: ResourceNotFoundException: Secrets Manager can't find the specified secret."));
    await expect(resolveSecrets({ AGENT_SECRETS: 'GITHUB_TOKEN' }, read)).rejects.toThrow(/AGENT_SECRETS lists GITHUB_TOKEN, but GITHUB_TOKEN_SECRET_ARN is not set/);
    await expect(resolveSecrets({ AGENT_SECRETS: 'not-a-name' }, read)).rejects.toThrow(/AGENT_SECRETS lists 'not-a-name', which is not an environment variable name/);
  });
});

describeWithMoto('secretsManagerReader against moto_server', (moto) => {
  test('reads a secret\'s string by its ARN, and says so when it is missing', async () => {
    const client = new SecretsManagerClient({ endpoint: moto().endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const created = await client.send(new CreateSecretCommand({ Name: 'llm/api-key', SecretString: 'sk-moto' }));
    const env: NodeJS.ProcessEnv = { AGENT_SECRETS: 'OPENAI_API_KEY', OPENAI_API_KEY_SECRET_ARN: created.ARN };
    expect(await resolveSecrets(env, secretsManagerReader(client))).toEqual(['OPENAI_API_KEY']);
    expect(env.OPENAI_API_KEY).toBe('sk-moto');
    const missing = created.ARN!.replace('llm/api-key', 'llm/none');
    await expect(resolveSecrets({ AGENT_SECRETS: 'X', X_SECRET_ARN: missing }, secretsManagerReader(client)))
      .rejects.toThrow(new RegExp(`could not read X from the secret ${missing.replace(/[/]/g, '\\/')}: ResourceNotFoundException`));
  });
});
