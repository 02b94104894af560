/**
 * The names of the environment variables through which a DataTier hands its connection
 * settings to a consumer. Shared by the construct (which sets them) and the runtime helper
 * (which reads them); it imports nothing, so runtime code can use it without aws-cdk-lib.
 *
 * The PostgreSQL names are libpq's own, so `psql` and most PostgreSQL clients read them as they are.
 */
export const DATA_TIER_ENV = {
  /** Database host name (plain). */
  pgHost: 'PGHOST',
  /** Database port (plain). */
  pgPort: 'PGPORT',
  /** Database name (plain). */
  pgDatabase: 'PGDATABASE',
  /** Database user name (an ECS secret; from the database secret for Lambda). */
  pgUser: 'PGUSER',
  /** Database password (an ECS secret; from the database secret for Lambda). */
  pgPassword: 'PGPASSWORD',
  /** libpq SSL mode (plain): always `require`, the server forces TLS. */
  pgSslMode: 'PGSSLMODE',
  /**
   * CA bundle to verify the database with (libpq's own name). Not set by the construct; set it
   * where the Amazon RDS CA bundle lives if the platform does not trust it already.
   */
  pgSslRootCert: 'PGSSLROOTCERT',
  /** Redis primary endpoint host name (plain). */
  redisHost: 'REDIS_HOST',
  /** Redis port (plain). */
  redisPort: 'REDIS_PORT',
  /** `true` when Redis requires TLS (plain; always `true` for the data tier). */
  redisTls: 'REDIS_TLS',
  /** The Redis AUTH token (an ECS secret; from the auth secret for Lambda). */
  redisAuthToken: 'REDIS_AUTH_TOKEN',
  /** ARN of the database secret (Lambda style: the function reads it at run time). */
  databaseSecretArn: 'DATABASE_SECRET_ARN',
  /** ARN of the Redis AUTH token secret (Lambda style). */
  redisAuthSecretArn: 'REDIS_AUTH_SECRET_ARN',
  /**
   * `postgresql://user:password@host:port/database?sslmode=require`: never set by the construct
   * (a URL holding the password would be a second secret); built at container start by the
   * wrapper of `DataTier.connectionUrlCommand`, or in the app by a runtime helper.
   */
  databaseUrl: 'DATABASE_URL',
  /** `rediss://:token@host:port`, built where `DATABASE_URL` is. */
  redisUrl: 'REDIS_URL',
} as const;

/** The libpq SSL mode the data tier hands to consumers: the server rejects plaintext. */
export const DATA_TIER_PG_SSL_MODE = 'require';
