/**
 * The two services of integ/integ.seed-002-agent-team.ts (integ/services/team-api and
 * integ/services/engine), run as processes against real PostgreSQL and Redis on loopback (TLS
 * only, credentials full of URL delimiters), the team API started through the /bin/sh wrapper of
 * `DataTier.connectionUrlCommand` with what the data tier hands an ECS container, as it is in the
 * deployed task. `PGSSLROOTCERT` names the loopback server's CA, as the image's names the Amazon
 * RDS bundle; the loopback Redis's self-signed certificate is trusted through
 * `NODE_EXTRA_CA_CERTS` (ElastiCache's certificates are publicly trusted).
 *
 * Where a server is missing the tests fail under CI=true and are skipped elsewhere, saying what is
 * missing and how CI installs it.
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { boundContainer, runtimeEnvironment } from '../data-tier/bound-container';
import {
  asSuperuser, AWKWARD_PASSWORD, AWKWARD_USER, LoopbackServer, POSTGRES_TOOLS, postgresAnswers, REDIS_TOOLS, redisAnswers, startPostgres, startRedis,
} from '../data-tier/loopback-servers';
import { freePort } from '../helpers/moto';
import { describeIfInstalled } from '../helpers/tools';

const SERVICES = path.join(__dirname, '..', '..', 'integ', 'services');
const TOKEN = 'tok@en:with/odd?chars#and%more';

/** A service process and its output. */
interface Service {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `command` with `env` and PORT set to a free port; resolves once `healthPath` answers 200. */
async function startService(command: string[], env: Record<string, string>, healthPath: string): Promise<Service> {
  const port = await freePort();
  const child: ChildProcess = spawn(command[0], command.slice(1), { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // as ECS stops a task: the servers close and exit 0
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited with code ${child.exitCode}: ${output}`);
    const ok = await fetch(`${url}${healthPath}`).then((r) => r.status === 200, () => false);
    if (ok) return { url, output: () => output, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${command.join(' ')} did not answer ${healthPath} within 20 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describeIfInstalled([...new Set([...POSTGRES_TOOLS, ...REDIS_TOOLS])], 'the seed-002 services against PostgreSQL and Redis on loopback', () => {
  let pg: LoopbackServer;
  let redis: LoopbackServer;
  let engine: Service;
  const started: Service[] = [];

  /** The team API as its task runs it: the wrapper, the data tier's settings, the engine's URL. */
  async function teamApi(overrides: Record<string, string> = {}): Promise<Service> {
    const bound = boundContainer([process.execPath, path.join(SERVICES, 'team-api', 'server.js')]);
    const env = runtimeEnvironment(bound, { username: AWKWARD_USER, password: AWKWARD_PASSWORD, redisAuthToken: TOKEN }, {
      PGHOST: '127.0.0.1', PGPORT: String(pg.port), REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port),
    });
    expect(Object.keys(env)).not.toContain('DATABASE_URL'); // built by the wrapper, never handed over
    const service = await startService(bound.command, {
      ...env,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PGSSLROOTCERT: pg.caFile,
      NODE_EXTRA_CA_CERTS: redis.caFile,
      ENGINE_URL: `${engine.url}/health`,
      ...overrides,
    }, '/team/health');
    started.push(service);
    return service;
  }

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(postgresAnswers), startRedis(TOKEN, true, redisAnswers(TOKEN))]);
    // The database the data tier creates at launch.
    await asSuperuser(pg, (c) => c.query('CREATE DATABASE app'));
    engine = await startService([process.execPath, path.join(SERVICES, 'engine', 'server.js')], { PATH: process.env.PATH ?? '/usr/bin:/bin' }, '/health');
  }, 90_000);
  afterAll(async () => {
    await Promise.all([...started, engine].filter(Boolean).map((s) => s.stop()));
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  test('the engine answers GET /health, and 404 elsewhere', async () => {
    expect(await get(`${engine.url}/health`)).toEqual({ status: 200, body: { status: 'ok', service: 'engine' } });
    expect((await get(`${engine.url}/workflows`)).status).toBe(404);
  });

  test('the team API\'s probe writes and reads PostgreSQL and Redis over TLS and reaches the engine', async () => {
    const api = await teamApi();
    expect(await get(`${api.url}/team/health`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(`${api.url}/team/probe`)).toEqual({ status: 200, body: { postgres: 'ok', redis: 'ok', engine: 'ok' } });
    expect(await get(`${api.url}/team/probe`)).toEqual({ status: 200, body: { postgres: 'ok', redis: 'ok', engine: 'ok' } });
    // The rows are there, written over TLS by the URL's user.
    const rows = await asSuperuser(pg, (c) => c.query('SELECT count(*)::int AS n FROM team_probe'), { database: 'app' });
    expect(rows.rows[0].n).toBe(2);
    expect((await get(`${api.url}/team/elsewhere`)).status).toBe(404);
    const post = await fetch(`${api.url}/team/probe`, { method: 'POST' });
    expect(post.status).toBe(405);
  }, 60_000);

  test('the probe names each failing part: a database whose certificate is not trusted, an engine that is not there', async () => {
    // PGSSLROOTCERT naming another CA (the Redis server's): node-postgres verifies, and refuses.
    const api = await teamApi({ PGSSLROOTCERT: redis.caFile, ENGINE_URL: `http://127.0.0.1:${await freePort()}/health` });
    const { status, body } = await get(`${api.url}/team/probe`);
    expect({ status, body }).toEqual({
      status: 503,
      body: { postgres: expect.stringMatching(/^error: .*(certificate|self.signed)/i), redis: 'ok', engine: expect.stringMatching(/^error: fetch failed.*ECONNREFUSED/) },
    });
  }, 60_000);
});
