import { DATA_TIER_ENV } from '../../../src/contract/data-tier';
import {
  connectionSettingsFromEnvironment, databaseUrl, DataTierSettingsError, redisUrl,
} from '../../../src/data-tier/runtime/connection-urls';

const AWKWARD = 'p@ss:w/rd?#%&+ x';

describe('databaseUrl', () => {
  test('builds a libpq URL with the SSL mode', () => {
    expect(databaseUrl({ host: 'db.example', port: 5432, database: 'app', username: 'app_admin', password: 'secret', sslMode: 'require' }))
      .toBe('postgresql://app_admin:secret@db.example:5432/app?sslmode=require');
  });

  test('percent-encodes @ : / ? # % in user, password and database name, and a URL parser gets them back', () => {
    // (The loopback tests show node-postgres logging in with such a user and password.)
    const url = databaseUrl({ host: 'db.example', port: 6543, database: 'my db', username: 'u:s@r', password: AWKWARD });
    expect(url).toBe('postgresql://u%3As%40r:p%40ss%3Aw%2Frd%3F%23%25%26%2B%20x@db.example:6543/my%20db');
    const parsed = new URL(url);
    const decoded = [parsed.username, parsed.password, parsed.hostname, parsed.port, parsed.pathname].map(decodeURIComponent);
    expect(decoded)
      .toEqual(['u:s@r', AWKWARD, 'db.example', '6543', '/my db']);
  });

  test('adds sslrootcert, and brackets an IPv6 host', () => {
    expect(databaseUrl({ host: '::1', port: 5432, database: 'd', username: 'u', password: 'p', sslMode: 'verify-full', sslRootCertPath: '/etc/ssl/rds bundle.pem' }))
      .toBe('postgresql://u:p@[::1]:5432/d?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Frds%20bundle.pem');
  });

  test('rejects an empty host, user or database and a bad port', () => {
    const base = { host: 'h', port: 5432, database: 'd', username: 'u', password: 'p' };
    expect(() => databaseUrl({ ...base, host: '' })).toThrow(/host must not be empty/);
    expect(() => databaseUrl({ ...base, username: '' })).toThrow(/username must not be empty/);
    expect(() => databaseUrl({ ...base, database: '' })).toThrow(/database must not be empty/);
    expect(() => databaseUrl({ ...base, port: 70000 })).toThrow(/port must be 1-65535, got 70000/);
  });
});

describe('redisUrl', () => {
  test('rediss:// with an empty user and the percent-encoded AUTH token', () => {
    expect(redisUrl({ host: 'cache.example', port: 6379, authToken: AWKWARD, tls: true }))
      .toBe('rediss://:p%40ss%3Aw%2Frd%3F%23%25%26%2B%20x@cache.example:6379');
    const u = new URL(redisUrl({ host: 'cache.example', port: 6379, authToken: AWKWARD, tls: true }));
    expect(decodeURIComponent(u.password)).toBe(AWKWARD);
  });

  test('redis:// without TLS, and no credentials without a token', () => {
    expect(redisUrl({ host: '127.0.0.1', port: 6380, tls: false })).toBe('redis://127.0.0.1:6380');
  });
});

const ECS_ENV = {
  PGHOST: 'db.example',
  PGPORT: '5432',
  PGDATABASE: 'app',
  PGUSER: 'app_admin',
  PGPASSWORD: AWKWARD,
  PGSSLMODE: 'require',
  REDIS_HOST: 'cache.example',
  REDIS_PORT: '6379',
  REDIS_TLS: 'true',
  REDIS_AUTH_TOKEN: 'tok',
};
const LAMBDA_ENV = {
  PGHOST: 'db.example',
  PGPORT: '5432',
  PGDATABASE: 'app',
  PGSSLMODE: 'require',
  REDIS_HOST: 'cache.example',
  REDIS_PORT: '6379',
  REDIS_TLS: 'true',
  DATABASE_SECRET_ARN: 'arn:db',
  REDIS_AUTH_SECRET_ARN: 'arn:redis',
};
const RDS_SECRET = JSON.stringify({ username: 'app_admin', password: AWKWARD, host: 'db.example', port: 5432, engine: 'postgres' });

describe('connectionSettingsFromEnvironment', () => {
  test('ECS style: everything is in the environment, no secret is read', async () => {
    const readSecret = jest.fn();
    const s = await connectionSettingsFromEnvironment(ECS_ENV, readSecret);
    expect(readSecret).not.toHaveBeenCalled();
    expect(s.databaseUrl).toBe(`postgresql://app_admin:${encodeURIComponent(AWKWARD)}@db.example:5432/app?sslmode=require`);
    expect(s.redisUrl).toBe('rediss://:tok@cache.example:6379');
    expect(s.database.password).toBe(AWKWARD);
    expect(s.redis).toEqual({ host: 'cache.example', port: 6379, authToken: 'tok', tls: true });
  });

  test('Lambda style: credentials come from the two secrets', async () => {
    const secrets: Record<string, string> = { 'arn:db': RDS_SECRET, 'arn:redis': 'redis-token' };
    const readSecret = jest.fn(async (arn: string) => secrets[arn]);
    const s = await connectionSettingsFromEnvironment(LAMBDA_ENV, readSecret);
    expect(readSecret.mock.calls.map((c) => c[0]).sort()).toEqual(['arn:db', 'arn:redis']);
    expect(s.database).toMatchObject({ username: 'app_admin', password: AWKWARD, host: 'db.example', port: 5432, database: 'app' });
    expect(s.redis.authToken).toBe('redis-token');
  });

  test('the secret fills in host and port when the environment lacks them', async () => {
    const { PGHOST: _h, PGPORT: _p, ...env } = LAMBDA_ENV;
    const s = await connectionSettingsFromEnvironment(env, async (arn) => (arn === 'arn:db' ? RDS_SECRET : 't'));
    expect(s.database.host).toBe('db.example');
    expect(s.database.port).toBe(5432);
  });

  test('PGSSLROOTCERT goes into the URL and makes sslmode require verify-full; defaults: ports 5432 and 6379, TLS on', async () => {
    const s = await connectionSettingsFromEnvironment({
      PGHOST: 'h', PGDATABASE: 'd', PGUSER: 'u', PGPASSWORD: 'p', REDIS_HOST: 'r', PGSSLROOTCERT: '/ca.pem',
    });
    expect(s.databaseUrl).toBe('postgresql://u:p@h:5432/d?sslmode=verify-full&sslrootcert=%2Fca.pem');
    expect(s.redisUrl).toBe('rediss://r:6379');
  });

  test('a missing setting is named, with the way to fix it', async () => {
    const { PGHOST: _h, ...noHost } = ECS_ENV;
    await expect(connectionSettingsFromEnvironment(noHost)).rejects.toThrow(/PGHOST is not set.*bindToFunction\(fn\).*bindToContainer\(container\)/);
    const { REDIS_HOST: _r, ...noRedis } = ECS_ENV;
    await expect(connectionSettingsFromEnvironment(noRedis)).rejects.toThrow(/REDIS_HOST is not set/);
    const { PGPASSWORD: _pw, ...noPassword } = ECS_ENV;
    await expect(connectionSettingsFromEnvironment(noPassword)).rejects.toThrow(/PGPASSWORD \(or DATABASE_SECRET_ARN\) is not set/);
    await expect(connectionSettingsFromEnvironment({})).rejects.toBeInstanceOf(DataTierSettingsError);
  });

  test('secret ARNs without a reader', async () => {
    await expect(connectionSettingsFromEnvironment(LAMBDA_ENV)).rejects.toThrow(/DATABASE_SECRET_ARN is set, so a secret must be read: pass a readSecret function/);
  });

  test('a malformed database secret', async () => {
    await expect(connectionSettingsFromEnvironment(LAMBDA_ENV, async () => 'not json')).rejects.toThrow(/secret named by DATABASE_SECRET_ARN is not JSON/);
    await expect(connectionSettingsFromEnvironment(LAMBDA_ENV, async () => '["a"]')).rejects.toThrow(/must be a JSON object with username and password/);
    await expect(connectionSettingsFromEnvironment(LAMBDA_ENV, async (arn) => (arn === 'arn:db' ? '{"username":"u"}' : 't')))
      .rejects.toThrow(/PGPASSWORD \(or DATABASE_SECRET_ARN\) is not set/);
  });

  test('bad ports and TLS flags are named with the value received', async () => {
    await expect(connectionSettingsFromEnvironment({ ...ECS_ENV, PGPORT: 'abc' })).rejects.toThrow(/PGPORT must be a port number \(1-65535\), got 'abc'/);
    await expect(connectionSettingsFromEnvironment({ ...ECS_ENV, REDIS_PORT: '0' })).rejects.toThrow(/REDIS_PORT must be a port number/);
    await expect(connectionSettingsFromEnvironment({ ...ECS_ENV, REDIS_TLS: 'yes' })).rejects.toThrow(/REDIS_TLS must be 'true' or 'false', got 'yes'/);
  });

  test('the variable names are the documented ones (libpq\'s for PostgreSQL; the README table)', () => {
    expect(Object.values(DATA_TIER_ENV).sort()).toEqual([
      'DATABASE_SECRET_ARN', 'DATABASE_URL', 'PGDATABASE', 'PGHOST', 'PGPASSWORD', 'PGPORT', 'PGSSLMODE', 'PGSSLROOTCERT', 'PGUSER',
      'REDIS_AUTH_SECRET_ARN', 'REDIS_AUTH_TOKEN', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_TLS', 'REDIS_URL',
    ]);
  });
});
