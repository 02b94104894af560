/**
 * The runtime helper against real servers on loopback: a PostgreSQL cluster and Redis servers
 * (Debian's packages), TLS only and with passwords that need percent-encoding, connected to with
 * the URLs the helper builds from the settings the construct hands over. Where a server is not
 * installed its tests fail under CI=true and are skipped elsewhere, saying which binary is missing.
 */
import * as fs from 'fs';
import { Client } from 'pg';
import { createClient } from 'redis';
import { connectionSettingsFromEnvironment, redisUrl } from '../../../src/data-tier/runtime/connection-urls';
import { describeIfInstalled } from '../../helpers/tools';
import { AWKWARD_PASSWORD, AWKWARD_USER, LoopbackServer, POSTGRES_TOOLS, REDIS_TOOLS, startPostgres, startRedis } from '../loopback-servers';

/** Opens a node-postgres client on `url`, runs `fn`, closes it. */
async function withPg<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Opens a node-redis client on `url`, runs `fn`, closes it. */
async function withRedis<T>(url: string, ca: string | undefined, fn: (c: { ping(): Promise<string> }) => Promise<T>): Promise<T> {
  const client = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy: false, ...(ca ? { tls: true as const, ca } : {}) } });
  client.on('error', () => undefined); // the awaited calls reject with it
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.destroy();
  }
}

describeIfInstalled(POSTGRES_TOOLS, 'PostgreSQL on loopback', () => {
  let server: LoopbackServer;
  const pgEnv = () => ({ PGHOST: '127.0.0.1', PGPORT: String(server.port), PGDATABASE: 'postgres', PGSSLMODE: 'verify-full', PGSSLROOTCERT: server.caFile, REDIS_HOST: 'unused' });

  beforeAll(async () => {
    server = await startPostgres(async (port, caFile) => {
      const url = `postgresql://${encodeURIComponent(AWKWARD_USER)}:${encodeURIComponent(AWKWARD_PASSWORD)}@127.0.0.1:${port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`;
      return withPg(url, async () => true).catch(() => false);
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test('ECS style settings as the construct hands them (PGSSLMODE=require): SELECT 1 over TLS, user and password full of URL delimiters', async () => {
    const settings = await connectionSettingsFromEnvironment({ ...pgEnv(), PGSSLMODE: 'require', PGUSER: AWKWARD_USER, PGPASSWORD: AWKWARD_PASSWORD });
    const row = await withPg(settings.databaseUrl, async (c) => (await c.query('SELECT 1 AS one, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]);
    expect(row).toEqual({ one: 1, ssl: true });
  });

  test('node-postgres verifies the server: without the CA the certificate is rejected', async () => {
    const settings = await connectionSettingsFromEnvironment({ ...pgEnv(), PGSSLROOTCERT: '', PGUSER: AWKWARD_USER, PGPASSWORD: AWKWARD_PASSWORD });
    await expect(withPg(settings.databaseUrl, async () => 1)).rejects.toThrow(/self.signed certificate/);
  });

  test('Lambda style settings: the credentials come from the database secret (the JSON RDS writes)', async () => {
    const secret = JSON.stringify({ username: AWKWARD_USER, password: AWKWARD_PASSWORD, host: '127.0.0.1', port: server.port, engine: 'postgres' });
    const settings = await connectionSettingsFromEnvironment({ ...pgEnv(), DATABASE_SECRET_ARN: 'arn:db' }, async () => secret);
    const one = await withPg(settings.databaseUrl, async (c) => (await c.query('SELECT 1 AS one')).rows[0].one);
    expect(one).toBe(1);
  });

  test('the server refuses plaintext, as rds.force_ssl does, and the URL\'s TLS settings are what get through', async () => {
    const settings = await connectionSettingsFromEnvironment({ ...pgEnv(), PGSSLMODE: 'disable', PGSSLROOTCERT: '', PGUSER: AWKWARD_USER, PGPASSWORD: AWKWARD_PASSWORD });
    await expect(withPg(settings.databaseUrl, async () => 1)).rejects.toThrow(/no encryption|pg_hba/);
  });

  test('a wrong password is refused (the encoded password is really checked)', async () => {
    const settings = await connectionSettingsFromEnvironment({ ...pgEnv(), PGUSER: AWKWARD_USER, PGPASSWORD: `${AWKWARD_PASSWORD}x` });
    await expect(withPg(settings.databaseUrl, async () => 1)).rejects.toThrow(/password authentication failed/);
  });
});

describeIfInstalled(REDIS_TOOLS, 'Redis on loopback', () => {
  const TOKEN = 'tok@en:with/odd?chars#and%more';
  let tlsServer: LoopbackServer;
  let plainServer: LoopbackServer;

  beforeAll(async () => {
    const ready = (tls: boolean) => async (port: number, caFile: string) => {
      const url = redisUrl({ host: '127.0.0.1', port, authToken: TOKEN, tls });
      return withRedis(url, tls ? fs.readFileSync(caFile, 'utf-8') : undefined, async (c) => (await c.ping()) === 'PONG').catch(() => false);
    };
    [tlsServer, plainServer] = await Promise.all([startRedis(TOKEN, true, ready(true)), startRedis(TOKEN, false, ready(false))]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([tlsServer?.stop(), plainServer?.stop()]);
  });

  const env = (server: LoopbackServer, tls: boolean) => ({
    PGHOST: 'unused',
    PGDATABASE: 'unused',
    PGUSER: 'u',
    PGPASSWORD: 'p',
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(server.port),
    REDIS_TLS: String(tls),
  });
  const caOf = (server: LoopbackServer) => fs.readFileSync(server.caFile, 'utf-8');

  test('ECS style: PING over TLS with the AUTH token from REDIS_AUTH_TOKEN (rediss://)', async () => {
    const settings = await connectionSettingsFromEnvironment({ ...env(tlsServer, true), REDIS_AUTH_TOKEN: TOKEN });
    expect(settings.redisUrl.startsWith('rediss://:')).toBe(true);
    expect(await withRedis(settings.redisUrl, caOf(tlsServer), (c) => c.ping())).toBe('PONG');
  });

  test('Lambda style: the AUTH token is read from its secret', async () => {
    const settings = await connectionSettingsFromEnvironment({ ...env(tlsServer, true), REDIS_AUTH_SECRET_ARN: 'arn:redis' }, async () => TOKEN);
    expect(await withRedis(settings.redisUrl, caOf(tlsServer), (c) => c.ping())).toBe('PONG');
  });

  test('without TLS (REDIS_TLS=false) against a plaintext server: redis://', async () => {
    const settings = await connectionSettingsFromEnvironment({ ...env(plainServer, false), REDIS_AUTH_TOKEN: TOKEN });
    expect(settings.redisUrl.startsWith('redis://:')).toBe(true);
    expect(await withRedis(settings.redisUrl, undefined, (c) => c.ping())).toBe('PONG');
  });

  test('a wrong token is refused (the encoded token is really checked)', async () => {
    const settings = await connectionSettingsFromEnvironment({ ...env(plainServer, false), REDIS_AUTH_TOKEN: `${TOKEN}x` });
    await expect(withRedis(settings.redisUrl, undefined, (c) => c.ping())).rejects.toThrow(/WRONGPASS|invalid username-password/i);
  });
});
