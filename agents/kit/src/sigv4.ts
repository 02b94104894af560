/**
 * SigV4 for the callback route (API Gateway with IAM authorization, service `execute-api`):
 * credentials from the AWS SDK's Node credential chain, and the signature of one request by the
 * SDK's signer with the SDK's SHA-256 (Node's crypto). All three are in the bundle already: the
 * S3 and Bedrock clients carry them.
 */
// Both are what every @aws-sdk/client-* of package.json pulls in, at the same versions (pinned as
// devDependencies in .projenrc.ts).
// The SDK's credential chain and signer are loaded at the first signed request: an agent that
// reports over plain HTTP (local runs) never pays for them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadChain = (): typeof import('@aws-sdk/credential-provider-node') => require('@aws-sdk/credential-provider-node');
const loadSigner = (): [typeof import('@smithy/signature-v4'), typeof import('@smithy/core/checksum')] =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  [require('@smithy/signature-v4'), require('@smithy/core/checksum')];

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When temporary credentials run out. */
  readonly expiration?: Date;
}

/** Where credentials come from: an AWS SDK credential provider, or any function of that shape. */
export type CredentialProvider = () => Promise<AwsCredentials>;

/** A failure of a configured credential source (not its absence). */
export class CredentialsError extends Error {
  public readonly name = 'CredentialsError';
}

export interface CredentialResolverOptions {
  /**
   * An environment read for static keys only (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
   * `AWS_SESSION_TOKEN`), instead of the SDK's chain: for tests, and an agent run in-process
   * with an environment of its own.
   * @default - the SDK's chain over process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * A credential provider used instead of the SDK's default chain (e.g. one from
   * `@aws-sdk/credential-providers`); it does its own caching.
   * @default - `defaultProvider()` of `@aws-sdk/credential-provider-node`
   */
  readonly provider?: CredentialProvider;
}

/** What the SDK's chain says when no source is configured (its last link). */
const NOTHING_FOUND = /^Could not load credentials from any providers/;
/** Settings the SDK's chain reads from process.env that an explicit `env` cannot serve. */
const CHAIN_ONLY_SETTINGS = ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_PROFILE'];

/**
 * Finds credentials the way the AWS SDK for JavaScript does (`defaultProvider`): environment
 * variables, SSO, the shared config and credentials files, a credential process, a web
 * identity token file, the container credentials endpoint (ECS task role, EKS Pod Identity),
 * then EC2 instance metadata. Temporary credentials are cached and refreshed five minutes
 * before they expire, as the SDK's clients do. `undefined` when no source is configured.
 */
export class CredentialResolver {
  private provider?: CredentialProvider;
  private readonly env?: NodeJS.ProcessEnv;

  constructor(options: CredentialResolverOptions = {}) {
    if (options.env && options.provider) throw new Error('CredentialResolver: pass env or provider, not both');
    this.env = options.env;
    // The SDK's chain is made at the first resolve.
    this.provider = options.env ? undefined : options.provider;
  }

  public async resolve(): Promise<AwsCredentials | undefined> {
    if (this.env) return fromStaticKeys(this.env);
    try {
      this.provider ??= loadChain().defaultProvider();
      return await this.provider();
    } catch (e) {
      const error = e as Error;
      if (error.name === 'CredentialsProviderError' && NOTHING_FOUND.test(error.message)) return undefined;
      throw new CredentialsError(`cannot get AWS credentials to sign with: ${error.message}`, { cause: e });
    }
  }
}

function fromStaticKeys(env: NodeJS.ProcessEnv): AwsCredentials | undefined {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined };
  }
  const unserved = CHAIN_ONLY_SETTINGS.filter((name) => env[name]);
  if (unserved.length > 0) {
    throw new CredentialsError(`CredentialResolver({ env }) reads static keys only, but that env sets ${unserved.join(', ')}: ` +
      'leave env out to use the AWS SDK\'s chain over process.env, or pass a provider');
  }
  return undefined;
}

/** The region to sign for: AWS_REGION, AWS_DEFAULT_REGION, or the one in an execute-api host name. */
export function signingRegion(url: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION
    || /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

export interface SignOptions {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly credentials: AwsCredentials;
  readonly region: string;
  /** @default 'execute-api' */
  readonly service?: string;
  /** @default - now */
  readonly signingDate?: Date;
}

/** The headers of a SigV4-signed request (the given ones plus host, x-amz-date, authorization, ...). */
export async function signRequest(options: SignOptions): Promise<Record<string, string>> {
  const { url } = options;
  const [{ SignatureV4 }, { Sha256 }] = loadSigner();
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const signed = await signer.sign({
    method: options.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { ...options.headers, host: url.host },
    body: options.body,
  }, { signingDate: options.signingDate });
  return signed.headers as Record<string, string>;
}
