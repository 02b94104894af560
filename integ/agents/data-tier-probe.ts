/**
 * The integration test's probe of an EphemeralDataTier: a Lambda function in the data tier's VPC
 * that builds its connection URLs with the library's runtime helper from the settings
 * `bindToFunction` handed over (plain settings and secret ARNs), then runs `SELECT 1` on
 * PostgreSQL (over TLS, verifying the server) and `PING` on Redis (over TLS, with the AUTH token).
 */
import { Client } from 'pg';
import { createClient } from 'redis';
import { connectionSettingsFromEnvironment } from '../../src/data-tier/runtime/connection-urls';
import { secretsManagerReader } from '../../src/data-tier/runtime/secrets-manager-reader';

export interface ProbeResult {
  readonly postgres: number;
  readonly redis: string;
}

export async function handler(): Promise<ProbeResult> {
  const settings = await connectionSettingsFromEnvironment(process.env, secretsManagerReader());

  const pg = new Client({ connectionString: settings.databaseUrl, connectionTimeoutMillis: 10_000 });
  await pg.connect();
  let postgres: number;
  try {
    const res = await pg.query<{ one: number }>('SELECT 1 AS one');
    postgres = res.rows[0].one;
  } finally {
    await pg.end();
  }

  const redis = createClient({ url: settings.redisUrl, socket: { connectTimeout: 10_000, reconnectStrategy: false } });
  redis.on('error', () => undefined); // surfaced by the awaited commands below
  await redis.connect();
  let pong: string;
  try {
    pong = await redis.ping();
  } finally {
    redis.destroy();
  }
  return { postgres, redis: pong };
}
