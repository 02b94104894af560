/**
 * Runtime helper for consumers of a DataTier: turns the settings the construct hands
 * over (environment variables and, for Lambda, secrets read at run time) into connection URLs.
 *
 * Plain TypeScript: it never imports aws-cdk-lib nor an AWS SDK. Reading a secret is injected
 * (`readSecret`); `./secrets-manager-reader` holds a default reader on the AWS SDK.
 *
 * @example
 * import { connectionSettingsFromEnvironment } from 'cdk-durable-agents/lib/data-tier/runtime/connection-urls';
 * import { secretsManagerReader } from 'cdk-durable-agents/lib/data-tier/runtime/secrets-manager-reader';
 * const settings = await connectionSettingsFromEnvironment(process.env, secretsManagerReader());
 * const pool = new pg.Pool({ connectionString: settings.databaseUrl });
 */
import { DATA_TIER_ENV, DATA_TIER_PG_SSL_MODE } from '../../contract/data-tier';

/** What a PostgreSQL connection URL is built from. */
export interface DatabaseConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  /**
   * libpq `sslmode` (`disable`, `require`, `verify-ca`, `verify-full`, ...); left out of the URL
   * when undefined. node-postgres treats `require` as `verify-full` (it verifies the server's
   * certificate), so a Node.js client must trust the Amazon RDS CA: on Lambda set
   * `NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem`, elsewhere give `sslRootCertPath`.
   */
  readonly sslMode?: string;
  /** Path of a CA bundle file to verify the server with (libpq `sslrootcert`). */
  readonly sslRootCertPath?: string;
}

/** What a Redis connection URL is built from. */
export interface RedisConnectionSettings {
  readonly host: string;
  readonly port: number;
  /** The AUTH token (password of the default user); none when the server asks for none. */
  readonly authToken?: string;
  /** Whether the server speaks TLS (`rediss://`). */
  readonly tls: boolean;
}

/** Everything a consumer needs to connect to both stores. */
export interface DataTierConnectionSettings {
  readonly database: DatabaseConnectionSettings;
  readonly redis: RedisConnectionSettings;
  /** `postgresql://user:password@host:port/database?sslmode=...`, percent-encoded. */
  readonly databaseUrl: string;
  /** `rediss://:token@host:port` (or `redis://` without TLS), percent-encoded. */
  readonly redisUrl: string;
}

/** Reads a secret's string value by ARN (or name). */
export type SecretReader = (secretId: string) => Promise<string>;

/** A setting is missing or malformed; the message says which one and how to fix it. */
export class DataTierSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataTierSettingsError';
  }
}

/** Builds a PostgreSQL connection URL; user, password and database name are percent-encoded. */
export function databaseUrl(settings: DatabaseConnectionSettings): string {
  requireText('host', settings.host);
  requireText('database', settings.database);
  requireText('username', settings.username);
  const query: string[] = [];
  // With a CA bundle, 'require' becomes 'verify-full': libpq checks the certificate and host name only then.
  const sslMode = settings.sslRootCertPath && settings.sslMode === 'require' ? 'verify-full' : settings.sslMode;
  if (sslMode) query.push(`sslmode=${encodeURIComponent(sslMode)}`);
  if (settings.sslRootCertPath) query.push(`sslrootcert=${encodeURIComponent(settings.sslRootCertPath)}`);
  const auth = `${encodeURIComponent(settings.username)}:${encodeURIComponent(settings.password)}`;
  return `postgresql://${auth}@${hostPort(settings.host, settings.port)}/${encodeURIComponent(settings.database)}` +
    (query.length > 0 ? `?${query.join('&')}` : '');
}

/** Builds a Redis connection URL (`rediss://` with TLS); the AUTH token is percent-encoded. */
export function redisUrl(settings: RedisConnectionSettings): string {
  requireText('host', settings.host);
  const auth = settings.authToken ? `:${encodeURIComponent(settings.authToken)}@` : '';
  return `${settings.tls ? 'rediss' : 'redis'}://${auth}${hostPort(settings.host, settings.port)}`;
}

/**
 * Resolves the data tier's connection settings from the environment a consumer was given:
 *
 * - ECS style (`dataTier.bindToContainer(container)`): `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`,
 *   `PGPASSWORD`, `PGSSLMODE`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_TLS`, `REDIS_AUTH_TOKEN`, the
 *   secret ones injected by ECS from Secrets Manager.
 * - Lambda style (`dataTier.bindToFunction(fn)`): the same plain settings, and instead of the
 *   secret ones `DATABASE_SECRET_ARN` and `REDIS_AUTH_SECRET_ARN`, read with `readSecret`.
 *
 * `PGSSLROOTCERT`, when set, names the CA bundle to verify the database with.
 *
 * A value given directly wins over the one in a secret.
 *
 * @param env the environment, e.g. `process.env`
 * @param readSecret reads a secret by ARN; needed only in the Lambda style
 */
export async function connectionSettingsFromEnvironment(
  env: Record<string, string | undefined>,
  readSecret?: SecretReader,
): Promise<DataTierConnectionSettings> {
  const E = DATA_TIER_ENV;
  let dbSecret: Record<string, unknown> = {};
  if (!(env[E.pgUser] && env[E.pgPassword] !== undefined) && env[E.databaseSecretArn]) {
    dbSecret = parseDatabaseSecret(await read(readSecret, E.databaseSecretArn, env[E.databaseSecretArn]!));
  }
  const fromSecret = (key: string): string | undefined => {
    const v = dbSecret[key];
    return v === undefined || v === null ? undefined : String(v);
  };
  const database: DatabaseConnectionSettings = {
    host: required(env[E.pgHost] ?? fromSecret('host'), E.pgHost),
    port: port(env[E.pgPort] ?? fromSecret('port') ?? '5432', E.pgPort),
    database: required(env[E.pgDatabase] ?? fromSecret('dbname'), E.pgDatabase),
    username: required(env[E.pgUser] ?? fromSecret('username'), `${E.pgUser} (or ${E.databaseSecretArn})`),
    password: required(env[E.pgPassword] ?? fromSecret('password'), `${E.pgPassword} (or ${E.databaseSecretArn})`),
    sslMode: env[E.pgSslMode] ?? DATA_TIER_PG_SSL_MODE,
    sslRootCertPath: env[E.pgSslRootCert] || undefined,
  };

  let authToken = env[E.redisAuthToken];
  if (authToken === undefined && env[E.redisAuthSecretArn]) {
    authToken = await read(readSecret, E.redisAuthSecretArn, env[E.redisAuthSecretArn]!);
  }
  const tlsText = (env[E.redisTls] ?? 'true').toLowerCase();
  if (tlsText !== 'true' && tlsText !== 'false') {
    throw new DataTierSettingsError(`${E.redisTls} must be 'true' or 'false', got '${env[E.redisTls]}'`);
  }
  const redis: RedisConnectionSettings = {
    host: required(env[E.redisHost], E.redisHost),
    port: port(env[E.redisPort] ?? '6379', E.redisPort),
    authToken: authToken === '' ? undefined : authToken,
    tls: tlsText === 'true',
  };
  return { database, redis, databaseUrl: databaseUrl(database), redisUrl: redisUrl(redis) };
}

/** The JSON of an RDS-generated secret (`username`, `password`, `host`, `port`, ...). */
function parseDatabaseSecret(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DataTierSettingsError(`The secret named by ${DATA_TIER_ENV.databaseSecretArn} is not JSON; ` +
      'it must be the database secret the data tier created (username, password, host, port)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DataTierSettingsError(`The secret named by ${DATA_TIER_ENV.databaseSecretArn} must be a JSON object with username and password`);
  }
  return parsed as Record<string, unknown>;
}

async function read(readSecret: SecretReader | undefined, variable: string, secretId: string): Promise<string> {
  if (!readSecret) {
    throw new DataTierSettingsError(`${variable} is set, so a secret must be read: pass a readSecret function ` +
      '(e.g. secretsManagerReader() from cdk-durable-agents/lib/data-tier/runtime/secrets-manager-reader)');
  }
  return readSecret(secretId);
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') {
    throw new DataTierSettingsError(`${name} is not set. Give the consumer the data tier's settings: ` +
      'dataTier.bindToFunction(fn) for a Lambda function, dataTier.bindToContainer(container) for an ECS container');
  }
  return value;
}

function port(text: string, name: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 65535) {
    throw new DataTierSettingsError(`${name} must be a port number (1-65535), got '${text}'`);
  }
  return n;
}

function requireText(name: string, value: string): void {
  if (typeof value !== 'string' || value === '') throw new DataTierSettingsError(`${name} must not be empty`);
}

function hostPort(host: string, p: number): string {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new DataTierSettingsError(`port must be 1-65535, got ${p}`);
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${p}`;
}
