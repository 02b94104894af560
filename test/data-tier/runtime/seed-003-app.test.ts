/**
 * A seed-003-shaped Python app (seed_003_app.py: it reads DATABASE_URL and REDIS_URL and nothing
 * else of the data tier; psycopg2 and redis-py) against real PostgreSQL and Redis on loopback,
 * TLS only, with credentials full of URL delimiters, given exactly what the data tier hands an
 * ECS container (the names and literal values of the synthesized task definition, the endpoints
 * pointed at the loopback servers, the secrets as ECS injects them):
 *
 * - through the /bin/sh wrapper of `DataTier.connectionUrlCommand`, run as synthesized;
 * - through the Python helper's launcher (`python3 data_tier_urls.py <command>`);
 * - after a password rotation: a new task (new injected password) connects, a task that still
 *   holds the old URL is refused, and the helper's secret-ARN style picks the new password up by
 *   being called again.
 *
 * Where a server, python3, psycopg2 or redis-py is missing the tests fail under CI=true and are
 * skipped elsewhere, saying what is missing and how CI installs it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findOnPath, describeIfInstalled, PYTHON_REQUIREMENTS, Tool } from '../../helpers/tools';
import { boundContainer, runtimeEnvironment } from '../bound-container';
import {
  asSuperuser, AWKWARD_PASSWORD, AWKWARD_USER, LoopbackServer, POSTGRES_TOOLS, postgresAnswers, REDIS_TOOLS, redisAnswers, startPostgres, startRedis,
} from '../loopback-servers';

const APP = path.join(__dirname, 'seed_003_app.py');
const HELPER = path.join(__dirname, '..', '..', '..', 'agents', 'python-data-tier', 'data_tier_urls.py');
const TOKEN = 'tok@en:with/odd?chars#and%more';
const ROTATED = 'n3w/p@ss:after#rotation%';

/** A Python module the app imports, pinned in the CI requirements. */
function pythonModule(module: string, pkg: string): Tool {
  return {
    name: `python3 module ${module}`,
    lookedIn: 'importable by python3 on PATH',
    install: `pip package ${pkg}, pinned in ${PYTHON_REQUIREMENTS}; .ci/run installs it when missing and so do the GitHub build and release workflows`,
    find: () => {
      const python = findOnPath('python3');
      return python && spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0 ? python : undefined;
    },
  };
}

const TOOLS = [...new Set([...POSTGRES_TOOLS, ...REDIS_TOOLS]), 'python3', pythonModule('psycopg2', 'psycopg2-binary'), pythonModule('redis', 'redis')];

describeIfInstalled(TOOLS, 'a seed-003-shaped Python app on the settings the data tier hands over', () => {
  let pg: LoopbackServer;
  let redis: LoopbackServer;
  let home: string;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(postgresAnswers), startRedis(TOKEN, true, redisAnswers(TOKEN))]);
    // The database the data tier creates at launch ('app' unless databaseName says otherwise).
    await asSuperuser(pg, (c) => c.query('CREATE DATABASE app'));
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-003-home-'));
  }, 90_000);
  afterAll(async () => {
    await Promise.all([pg?.stop(), redis?.stop()]);
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  /**
   * The container's environment for the loopback servers: what bindToContainer synthesizes, the
   * endpoints pointed at loopback, the credentials as ECS injects them. Redis's self-signed
   * certificate is trusted through SSL_CERT_FILE (ElastiCache's certificates are publicly
   * trusted, so a real container needs nothing); libpq's sslmode=require encrypts without
   * verifying, as it does against RDS (a ~/.postgresql/root.crt would make it verify, and fail).
   */
  function containerEnvironment(command: string[], password = AWKWARD_PASSWORD) {
    const bound = boundContainer(command);
    const env = runtimeEnvironment(bound, { username: AWKWARD_USER, password, redisAuthToken: TOKEN }, {
      PGHOST: '127.0.0.1', PGPORT: String(pg.port), REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port),
    });
    // HOME: where pip --user put psycopg2 and redis (and pyenv, where it runs python3).
    return { bound, env: { ...env, PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? home, SSL_CERT_FILE: redis.caFile } };
  }

  function runApp(command: string[], env: Record<string, string>) {
    const result = spawnSync(command[0], command.slice(1), { env, encoding: 'utf-8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** What the app prints when it served the chat message over TLS to both stores. */
  const SERVED = {
    postgres: { ssl: true, tlsVersion: expect.stringMatching(/^TLSv1\.[23]$/), database: 'app', user: AWKWARD_USER, stored: 'Hola' },
    redis: { ping: true, tls: true, first: true, duplicate: false },
  };

  test('through the /bin/sh wrapper of DataTier.connectionUrlCommand, run as synthesized: PostgreSQL and Redis over TLS', () => {
    const { bound, env } = containerEnvironment([findOnPath('python3')!, APP, 'sh-wrapper']);
    expect(Object.keys(env)).not.toContain('DATABASE_URL');
    const out = runApp(bound.command, env);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual(SERVED);
  });

  test('through the Python helper\'s launcher (python3 data_tier_urls.py <command>), for images without a shell', () => {
    const python = findOnPath('python3')!;
    const { env } = containerEnvironment(['unused']);
    const out = runApp([python, HELPER, python, APP, 'py-launcher'], env);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual(SERVED);
  });

  test('the app reads nothing but the URLs: with them missing it fails, and with a URL minus TLS the server refuses it', () => {
    const python = findOnPath('python3')!;
    const { env } = containerEnvironment(['unused']);
    const direct = runApp([python, APP], env); // PG* and REDIS_* alone, no wrapper
    expect(direct.status).not.toBe(0);
    expect(direct.stderr).toMatch(/KeyError: 'DATABASE_URL'/);
    const plaintext = runApp([python, HELPER, python, APP], { ...env, PGSSLMODE: 'disable' });
    expect(plaintext.status).not.toBe(0);
    expect(plaintext.stderr).toMatch(/no encryption|pg_hba/);
  });

  test('rotation: a new task gets the new password and connects; a task still holding the old URL is refused', async () => {
    const python = findOnPath('python3')!;
    await asSuperuser(pg, (c) => c.query(`ALTER ROLE CURRENT_USER PASSWORD '${ROTATED.replace(/'/g, "''")}'`));
    try {
      const after = containerEnvironment([python, APP, 'after-rotation'], ROTATED);
      const fresh = runApp(after.bound.command, after.env);
      expect(fresh.stderr).toBe('');
      expect(JSON.parse(fresh.stdout).postgres.ssl).toBe(true);
      const before = containerEnvironment([python, APP, 'before-rotation']);
      const stale = runApp(before.bound.command, before.env);
      expect(stale.status).not.toBe(0);
      expect(stale.stderr).toMatch(/password authentication failed/);
    } finally {
      await asSuperuser(pg, (c) => c.query(`ALTER ROLE CURRENT_USER PASSWORD '${AWKWARD_PASSWORD.replace(/'/g, "''")}'`), { password: ROTATED });
    }
  });

  test('rotation, secret-ARN style: the helper called again after an authentication failure reads the rotated secret and connects', () => {
    // The database secret as a file the "rotation" rewrites; read_secret reads it, as boto3
    // would read Secrets Manager. The script rotates the password itself, then retries.
    const secretFile = path.join(home, 'database-secret.json');
    fs.writeFileSync(secretFile, JSON.stringify({ username: AWKWARD_USER, password: AWKWARD_PASSWORD, host: '127.0.0.1', port: pg.port }));
    const script = `
import json, sys, psycopg2, data_tier_urls as d
secret_file, rotated, original = sys.argv[1:4]
read = lambda arn: open(secret_file).read()
steps = []
url = d.database_url(read_secret=read)
conn = psycopg2.connect(url, connect_timeout=5)
with conn, conn.cursor() as cur:
    cur.execute("ALTER ROLE CURRENT_USER PASSWORD %s", (rotated,))
conn.close()
secret = json.load(open(secret_file)); secret["password"] = rotated
json.dump(secret, open(secret_file, "w"))
steps.append("rotated")
try:
    psycopg2.connect(url, connect_timeout=5).close()
    steps.append("old url still works")
except psycopg2.OperationalError as e:
    steps.append("old url refused" if "password authentication failed" in str(e) else str(e))
conn = psycopg2.connect(d.database_url(read_secret=read), connect_timeout=5)
with conn, conn.cursor() as cur:
    cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    steps.append("reconnected, ssl=%s" % cur.fetchone()[0])
    cur.execute("ALTER ROLE CURRENT_USER PASSWORD %s", (original,))
conn.close()
print(json.dumps(steps))
`;
    const { env } = containerEnvironment(['unused']);
    const lambdaStyle = { ...env, DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db', PYTHONPATH: path.dirname(HELPER) };
    delete (lambdaStyle as Record<string, string>).PGUSER;
    delete (lambdaStyle as Record<string, string>).PGPASSWORD;
    const out = runApp([findOnPath('python3')!, '-c', script, secretFile, ROTATED, AWKWARD_PASSWORD], lambdaStyle);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual(['rotated', 'old url refused', 'reconnected, ssl=True']);
  });
});
