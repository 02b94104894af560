/**
 * Secrets an agent reads when it starts. A `ContainerAgent` lists their names in
 * `AGENT_SECRETS` (comma-separated) and passes each one's ARN in `<name>_SECRET_ARN`: a Lambda
 * agent's `secrets` (Lambda has no secret injection), and the API key of an OpenAI-compatible
 * model (`OPENAI_API_KEY`). {@link resolveSecrets} reads each secret's string from AWS Secrets
 * Manager into `<name>`. Only the names listed are read, so another `..._SECRET_ARN` variable
 * (e.g. a data tier's) is left alone; a name that already has a value keeps it (a warm Lambda
 * environment reads each secret once).
 */
/** The Secrets Manager client's module, loaded at the first read: an agent without secrets never pays for it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadSecretsManager = (): typeof import('@aws-sdk/client-secrets-manager') => require('@aws-sdk/client-secrets-manager');

/** The variable that lists the names of the secrets to read. */
export const SECRETS_ENV = 'AGENT_SECRETS';

/** Reads a secret's string by its ARN. */
export type SecretReader = (secretArn: string) => Promise<string>;

/** A secret that is listed but cannot be read. Reported with code `AgentError`. */
export class SecretError extends Error {
  public readonly name = 'SecretError';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads the secrets `AGENT_SECRETS` lists into `env` (each `<name>` from `<name>_SECRET_ARN`), and
 * returns the names it read (not their values). Throws {@link SecretError} naming the variable
 * when one cannot be read.
 *
 * @param read @default GetSecretValue of AWS Secrets Manager, with the default credential chain
 */
export async function resolveSecrets(env: NodeJS.ProcessEnv, read: SecretReader = readFromSecretsManager): Promise<string[]> {
  const names = (env[SECRETS_ENV] ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  const resolved: string[] = [];
  for (const name of names) {
    if (!NAME.test(name)) throw new SecretError(`${SECRETS_ENV} lists '${name}', which is not an environment variable name`);
    if (env[name]) continue;
    const arn = env[`${name}_SECRET_ARN`];
    if (!arn) throw new SecretError(`${SECRETS_ENV} lists ${name}, but ${name}_SECRET_ARN is not set: give the ARN of the secret to read into ${name}`);
    let value: string;
    try {
      value = await read(arn);
    } catch (e) {
      const err = e as Error;
      throw new SecretError(`could not read ${name} from the secret ${arn}: ${err.name}: ${err.message}`);
    }
    env[name] = value;
    resolved.push(name);
  }
  return resolved;
}

/** The part of a Secrets Manager client the reader uses. */
export interface SecretsManagerLike {
  send(command: unknown, options?: unknown): Promise<{ SecretString?: string }>;
}

/**
 * A {@link SecretReader} over AWS Secrets Manager (GetSecretValue; the secret's string).
 * @param client @default a client for AWS_REGION with the default credential chain, made at the first read
 */
export function secretsManagerReader(client?: SecretsManagerLike): SecretReader {
  let made = client;
  return async (secretArn) => {
    const { GetSecretValueCommand, SecretsManagerClient } = loadSecretsManager();
    made ??= new SecretsManagerClient({}) as SecretsManagerLike;
    const out = await made.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (typeof out.SecretString !== 'string') throw new Error('the secret has no string value (a binary secret cannot be an environment variable)');
    return out.SecretString;
  };
}

const readFromSecretsManager = secretsManagerReader();
