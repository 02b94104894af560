'use strict';
/**
 * The team API of integ/integ.seed-002-agent-team.ts (seed 002's API service), routed by the
 * SecureApi under /team. Node built-ins, node-postgres and node-redis:
 *
 * - `GET /team/health`: `{"status":"ok"}` (the load balancer's and the container's health check);
 * - `GET /team/probe`: writes a row to PostgreSQL and reads it back (`DATABASE_URL`), sets a key in
 *   Redis and gets it back (`REDIS_URL`), calls the engine's `/health` through Cloud Map
 *   (`ENGINE_URL`), and answers `{"postgres":"ok","redis":"ok","engine":"ok"}` with 200, or with
 *   503 and the error in place of `ok` for each part that failed.
 *
 * `DATABASE_URL` and `REDIS_URL` are built at container start by the wrapper of
 * `DataTier.connectionUrlCommand`: `postgresql://...?sslmode=require&sslrootcert=<PGSSLROOTCERT>`
 * (node-postgres then verifies the server against that CA bundle, the Amazon RDS one in the
 * image) and `rediss://:<token>@<host>:6379` (ElastiCache's certificates are publicly trusted).
 * Each probe opens its own connections, so each answer is a fresh proof.
 */
const { randomUUID } = require('crypto');
const http = require('http');
const { Client } = require('pg');
const { createClient } = require('redis');

const PORT = Number(process.env.PORT || 8000);
/** How long each part of the probe may take (API Gateway gives up after 30 seconds). */
const TIMEOUT_MS = Number(process.env.PROBE_TIMEOUT_MS || 5000);

/** Writes a row and reads it back. */
async function probePostgres() {
  const client = new Client({
    connectionString: required('DATABASE_URL'),
    connectionTimeoutMillis: TIMEOUT_MS,
    query_timeout: TIMEOUT_MS,
  });
  await client.connect();
  try {
    await client.query('CREATE TABLE IF NOT EXISTS team_probe (id uuid PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now())');
    const id = randomUUID();
    await client.query('INSERT INTO team_probe (id) VALUES ($1)', [id]);
    const { rows } = await client.query('SELECT id FROM team_probe WHERE id = $1', [id]);
    if (rows.length !== 1 || rows[0].id !== id) throw new Error(`wrote row ${id}, read back ${JSON.stringify(rows)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Sets a key and gets it back. */
async function probeRedis() {
  const client = createClient({ url: required('REDIS_URL'), socket: { connectTimeout: TIMEOUT_MS, reconnectStrategy: false } });
  let lastError;
  client.on('error', (e) => { lastError = e; }); // the awaited calls reject; keep the cause
  try {
    await client.connect();
    const key = `team-probe:${randomUUID()}`;
    const value = randomUUID();
    await client.set(key, value, { expiration: { type: 'EX', value: 300 } });
    const read = await client.get(key);
    if (read !== value) throw new Error(`set ${key} to ${value}, got back ${JSON.stringify(read)}`);
  } catch (e) {
    throw lastError && lastError !== e ? new Error(`${describe(e)} (${describe(lastError)})`) : e;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Calls the engine's health route through Cloud Map. */
async function probeEngine() {
  const url = required('ENGINE_URL');
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 200)}`);
}

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** An error as one line: node's connection errors often have an empty message and a code or a cause. */
function describe(e) {
  if (!(e instanceof Error)) return String(e);
  const parts = [e.message || e.code || e.name];
  if (e instanceof AggregateError && e.errors.length > 0) parts.push(e.errors.map(describe).join('; '));
  if (e.cause) parts.push(describe(e.cause));
  return parts.filter(Boolean).join(': ');
}

async function probe() {
  const parts = { postgres: probePostgres, redis: probeRedis, engine: probeEngine };
  const settled = await Promise.allSettled(Object.values(parts).map((p) => p()));
  const body = Object.fromEntries(Object.keys(parts).map((name, i) =>
    [name, settled[i].status === 'fulfilled' ? 'ok' : `error: ${describe(settled[i].reason)}`]));
  return { status: settled.every((s) => s.status === 'fulfilled') ? 200 : 503, body };
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://team-api');
  const route = { '/team/health': 'health', '/team/probe': 'probe' }[pathname];
  if (!route) return send(res, 404, { error: 'not_found', message: `no route ${pathname}; try GET /team/health or GET /team/probe` });
  if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed', message: `${pathname} answers GET only, not ${req.method}` });
  if (route === 'health') return send(res, 200, { status: 'ok' });
  probe().then(
    ({ status, body }) => {
      if (status !== 200) console.error(`probe failed: ${JSON.stringify(body)}`);
      send(res, status, body);
    },
    (e) => send(res, 500, { error: 'internal', message: describe(e) }),
  );
});

server.listen(PORT, () => console.log(`team API listening on port ${PORT}`));

// ECS stops a task with SIGTERM; PID 1 has no default handler.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
