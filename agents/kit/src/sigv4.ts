/**
 * SigV4 for the callback route (API Gateway with IAM authorization, service `execute-api`):
 * credentials from the environment (Lambda, or keys set by hand) or from the ECS container
 * credentials endpoint, and the signature of one request.
 */
import { createHash, createHmac, Hash, Hmac } from 'crypto';
import { promises as fsp } from 'fs';
import { SignatureV4 } from '@smithy/signature-v4';

/** SHA-256, or HMAC-SHA-256 with a secret, on Node's crypto (what the signer needs). */
export class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  public update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  public async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When temporary credentials run out. */
  readonly expiration?: Date;
}

/** The ECS task metadata host that serves `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. */
export const ECS_CREDENTIALS_HOST = 'http://169.254.170.2';
/** Hosts a plain-http `AWS_CONTAINER_CREDENTIALS_FULL_URI` may name (as the AWS SDKs allow). */
const ALLOWED_HTTP_CREDENTIAL_HOSTS = ['169.254.170.2', '169.254.170.23', '[fd00:ec2::23]', 'localhost'];

/** A refusal or failure of the container credentials endpoint. */
export class CredentialsError extends Error {
  public readonly name = 'CredentialsError';
}

export interface CredentialResolverOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly fetchImpl?: typeof fetch;
  /** Timeout of one request to the container credentials endpoint. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Finds credentials the way the AWS SDKs do for the cases an agent meets: environment
 * variables (Lambda, or set by hand), else the container credentials endpoint (ECS tasks,
 * `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `..._FULL_URI` with
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`). Container credentials are cached until five
 * minutes before they expire. `undefined` when none are configured.
 */
export class CredentialResolver {
  private cached?: AwsCredentials;
  private readonly env: NodeJS.ProcessEnv;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: CredentialResolverOptions = {}) {
    this.env = options.env ?? process.env;
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  public async resolve(): Promise<AwsCredentials | undefined> {
    const env = this.env;
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined };
    }
    const url = this.containerEndpoint();
    if (!url) return undefined;
    if (this.cached && (!this.cached.expiration || this.cached.expiration.getTime() - Date.now() > 5 * 60_000)) {
      return this.cached;
    }
    this.cached = await this.fetchContainerCredentials(url);
    return this.cached;
  }

  private containerEndpoint(): string | undefined {
    const relative = this.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
    if (relative) return `${ECS_CREDENTIALS_HOST}${relative.startsWith('/') ? '' : '/'}${relative}`;
    const full = this.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
    if (!full) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(full);
    } catch {
      throw new CredentialsError(`AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL: '${full}'`);
    }
    const loopback = /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname) || parsed.hostname === '[::1]';
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && (loopback || ALLOWED_HTTP_CREDENTIAL_HOSTS.includes(parsed.hostname)))) {
      throw new CredentialsError(`AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http on loopback or the ECS/EKS credential hosts; got '${full}'`);
    }
    return full;
  }

  private async fetchContainerCredentials(url: string): Promise<AwsCredentials> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const tokenFile = this.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
    const token = tokenFile ? (await fsp.readFile(tokenFile, 'utf-8')).trim() : this.env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
    if (token) headers.authorization = token;
    const res = await this.fetchImpl(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    if (!res.ok) throw new CredentialsError(`the container credentials endpoint answered ${res.status}: ${text.slice(0, 300)}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new CredentialsError('the container credentials endpoint did not answer JSON');
    }
    if (typeof body.AccessKeyId !== 'string' || typeof body.SecretAccessKey !== 'string') {
      throw new CredentialsError('the container credentials endpoint answered without AccessKeyId and SecretAccessKey');
    }
    return {
      accessKeyId: body.AccessKeyId,
      secretAccessKey: body.SecretAccessKey,
      sessionToken: typeof body.Token === 'string' ? body.Token : undefined,
      expiration: typeof body.Expiration === 'string' ? new Date(body.Expiration) : undefined,
    };
  }
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
}

/** The headers of a SigV4-signed request (the given ones plus host, x-amz-date, authorization, ...). */
export async function signRequest(options: SignOptions): Promise<Record<string, string>> {
  const { url } = options;
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
  });
  return signed.headers as Record<string, string>;
}
