/**
 * DataTier.connectionUrlCommand: the /bin/sh wrapper that builds DATABASE_URL and REDIS_URL at
 * container start. The wrapper is run here exactly as synthesized into the task definition, with
 * the environment bindToContainer hands over, under the shells images carry as /bin/sh (dash on
 * Debian and Ubuntu, bash on Amazon Linux and RHEL); its URLs are compared with the Python
 * helper's and the Node helper's. Against real servers: runtime/seed-003-app.test.ts.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { boundContainer, runtimeEnvironment } from './bound-container';
import { DATA_TIER_ENV } from '../../src/contract/data-tier';
import { DataTier } from '../../src/data-tier';
import { CONNECTION_URL_SCRIPT } from '../../src/data-tier/connection-url-command';
import { connectionSettingsFromEnvironment } from '../../src/data-tier/runtime/connection-urls';
import { findOnPath, testIfInstalled } from '../helpers/tools';

const PYTHON_HELPER = path.join(__dirname, '..', '..', 'agents', 'python-data-tier', 'data_tier_urls.py');
const AWKWARD = { username: 'tier:user@x', password: 'p@ss:w/rd?#%&+ 20%', redisAuthToken: 'tok@en:with/odd?chars' };
const ENDPOINTS = { PGHOST: 'db.abc.us-east-1.rds.amazonaws.com', REDIS_HOST: 'master.cache.abc.use1.cache.amazonaws.com' };
/** Prints the two URLs as the app would see them. */
const PRINT_URLS = ['/usr/bin/env', 'sh', '-c', 'printf "%s\\n%s\\n" "$DATABASE_URL" "$REDIS_URL"'];

/** The shells images carry as /bin/sh: each one that is installed here runs the wrapper. */
const SHELLS: Array<[string, string[]]> = [['sh', []], ['bash', ['--posix']]];

/** Runs the synthesized command (its /bin/sh replaced by `shell`) in exactly `env`. */
function run(command: string[], env: Record<string, string>, shell = '/bin/sh', shellArgs: string[] = []) {
  expect(command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
  // stdin closed: bash reads ~/.bashrc when its stdin looks like a network connection (node's socketpair).
  const result = spawnSync(shell, [...shellArgs, ...command.slice(1)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf-8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function pythonUrls(env: Record<string, string>): string[] {
  const code = 'import json, data_tier_urls as d; print(json.dumps([d.database_url(), d.redis_url()]))';
  const result = spawnSync(findOnPath('python3')!, ['-c', code], {
    env: { ...env, PYTHONPATH: path.dirname(PYTHON_HELPER) }, encoding: 'utf-8', timeout: 20_000,
  });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout);
}

describe('the command', () => {
  test('a /bin/sh wrapper, then the app\'s command unchanged', () => {
    const command = DataTier.connectionUrlCommand(['uvicorn', 'app.main:app', '--host', '0.0.0.0', '--port', '8000']);
    expect(command).toEqual(['/bin/sh', '-c', CONNECTION_URL_SCRIPT, 'data-tier-urls', 'uvicorn', 'app.main:app', '--host', '0.0.0.0', '--port', '8000']);
  });

  test('an empty command is refused, saying what to give', () => {
    expect(() => DataTier.connectionUrlCommand([])).toThrow(/DataTier.connectionUrlCommand: command is empty; give the command that starts your app .*uvicorn/);
  });

  test('in the task definition: the command as given, every setting the wrapper needs handed over by bindToContainer, no URL and no secret value', () => {
    const bound = boundContainer(['python3', '/app/main.py']);
    expect(bound.command).toEqual(DataTier.connectionUrlCommand(['python3', '/app/main.py']));
    const needed = [...CONNECTION_URL_SCRIPT.matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]).sort();
    expect(needed).toEqual(['PGDATABASE', 'PGHOST', 'PGPASSWORD', 'PGUSER', 'REDIS_HOST']);
    const handedOver = [...Object.keys(bound.environment), ...Object.keys(bound.secrets)];
    expect(handedOver).toEqual(expect.arrayContaining([...needed, 'PGPORT', 'PGSSLMODE', 'REDIS_PORT', 'REDIS_TLS', 'REDIS_AUTH_TOKEN']));
    // The credentials are ECS secrets, read at task start; nothing in the template holds them.
    expect(Object.keys(bound.secrets).sort()).toEqual(['PGPASSWORD', 'PGUSER', 'REDIS_AUTH_TOKEN']);
    expect(bound.command.every((arg) => typeof arg === 'string' && !/resolve:|\$\{Token/.test(arg))).toBe(true);
    expect(JSON.stringify(bound.environment)).not.toMatch(/resolve:secretsmanager/);
    expect(Object.keys(bound.environment)).not.toEqual(expect.arrayContaining(['DATABASE_URL']));
    expect(Object.keys(bound.environment)).not.toEqual(expect.arrayContaining(['REDIS_URL']));
  });
});

describe('the wrapper, run as synthesized', () => {
  const bound = boundContainer(PRINT_URLS);
  const env = runtimeEnvironment(bound, AWKWARD, ENDPOINTS);
  const expected = [
    'postgresql://tier%3Auser%40x:p%40ss%3Aw%2Frd%3F%23%25%26%2B%2020%25@db.abc.us-east-1.rds.amazonaws.com:5432/app?sslmode=require',
    'rediss://:tok%40en%3Awith%2Fodd%3Fchars@master.cache.abc.use1.cache.amazonaws.com:6379',
  ];

  for (const [shell, args] of SHELLS) {
    testIfInstalled(shell, `${[shell, ...args].join(' ')}: percent-encoded URLs with TLS (sslmode=require, rediss://)`, () => {
      const out = run(bound.command, env, findOnPath(shell)!, args);
      expect(out).toEqual({ status: 0, stdout: `${expected.join('\n')}\n`, stderr: '' });
    });
  }

  test('the same URLs as the Node helper builds from the same settings', async () => {
    const settings = await connectionSettingsFromEnvironment(env);
    expect([settings.databaseUrl, settings.redisUrl]).toEqual(expected);
  });

  testIfInstalled('python3', 'the same URLs as the Python helper, byte for byte, for passwords of every printable ASCII character', () => {
    expect(pythonUrls(env)).toEqual(expected);
    const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    for (const password of [printable, `${printable}'"\\$\`*?[`, 'x', '-._~']) {
      const e = { ...env, PGPASSWORD: password, REDIS_AUTH_TOKEN: password.split('').reverse().join('') };
      const out = run(bound.command, e);
      expect(out.status).toBe(0);
      expect(out.stdout.trimEnd().split('\n')).toEqual(pythonUrls(e));
      expect(decodeURIComponent(new URL(out.stdout.split('\n')[0]).password)).toBe(password);
    }
  });

  testIfInstalled('python3', 'the Python helper reads the variables of the contract the construct writes (DATA_TIER_ENV)', () => {
    const code = 'import json, data_tier_urls as d; print(json.dumps(sorted(v for k, v in vars(d).items() if k.isupper() and not k.startswith("_") and k != "DEFAULT_SSL_MODE")))';
    const result = spawnSync(findOnPath('python3')!, ['-c', code], { env: { PYTHONPATH: path.dirname(PYTHON_HELPER) }, encoding: 'utf-8' });
    expect(JSON.parse(result.stdout)).toEqual(Object.values(DATA_TIER_ENV).sort());
  });

  test('a root certificate, an IPv6 host, other ports and plaintext Redis pass through as the helpers have them', async () => {
    const e = { ...env, PGHOST: '::1', PGPORT: '6543', PGSSLMODE: 'verify-full', PGSSLROOTCERT: '/etc/ssl/rds ca.pem', REDIS_PORT: '7000', REDIS_TLS: 'false' };
    const out = run(bound.command, e);
    expect(out.stdout.split('\n').slice(0, 2)).toEqual([
      'postgresql://tier%3Auser%40x:p%40ss%3Aw%2Frd%3F%23%25%26%2B%2020%25@[::1]:6543/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Frds%20ca.pem',
      'redis://:tok%40en%3Awith%2Fodd%3Fchars@master.cache.abc.use1.cache.amazonaws.com:7000',
    ]);
    const node = await connectionSettingsFromEnvironment(e);
    expect(out.stdout.split('\n').slice(0, 2)).toEqual([node.databaseUrl, node.redisUrl]);
  });

  test('with a CA bundle, sslmode require becomes verify-full (libpq checks the certificate only then), in the wrapper and both helpers', async () => {
    const e = { ...env, PGSSLROOTCERT: '/app/rds-global-bundle.pem' };
    const out = run(bound.command, e);
    const [db] = out.stdout.split('\n');
    expect(db).toMatch(/\?sslmode=verify-full&sslrootcert=%2Fapp%2Frds-global-bundle.pem$/);
    expect((await connectionSettingsFromEnvironment(e)).databaseUrl).toBe(db);
    if (findOnPath('python3')) expect(pythonUrls(e)[0]).toBe(db);
    // Without a bundle there is nothing to verify against: require stays require.
    expect(run(bound.command, env).stdout.split('\n')[0]).toMatch(/\?sslmode=require$/);
  });

  testIfInstalled('bash', 'bash with a UTF-8 locale percent-encodes a non-ASCII password byte by byte, as the helpers do', () => {
    const e = { ...env, PGPASSWORD: 'caf\u00e9\u20ac', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
    const out = run(bound.command, e, findOnPath('bash')!, ['--posix']);
    expect(out.status).toBe(0);
    expect(new URL(out.stdout.split('\n')[0]).password).toBe('caf%C3%A9%E2%82%AC');
    if (findOnPath('python3')) expect(out.stdout.trimEnd().split('\n')).toEqual(pythonUrls(e));
  });

  test('the app gets its arguments unchanged and its process is the wrapper\'s (exec)', () => {
    const probe = boundContainer(['/usr/bin/env', 'sh', '-c', 'printf "%s|" "$@"', 'app', 'a b', '"q"', '$HOME', '*']);
    const out = run(probe.command, env);
    expect(out).toEqual({ status: 0, stdout: 'a b|"q"|$HOME|*|', stderr: '' });
    const pid = run(boundContainer(['/usr/bin/env', 'sh', '-c', 'echo $$ $PPID']).command, env);
    const [self, parent] = pid.stdout.trim().split(' ').map(Number);
    expect(parent).toBe(process.pid); // the wrapper's shell was replaced, not forked
    expect(self).toBeGreaterThan(0);
  });

  test.each(['PGHOST', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'REDIS_HOST'])('without %s the app is not started, and stderr names it and bindToContainer', (name) => {
    const e = { ...env, [name]: '' };
    const out = run(bound.command, e);
    expect(out.status).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(new RegExp(`${name}: is not set: give the container the data tier settings with dataTier.bindToContainer\\(container\\)`));
  });

  test.each([
    ['PGPORT', 'x'], ['PGPORT', '0'], ['PGPORT', '65536'], ['PGPORT', '054'], ['REDIS_PORT', '-1'], ['REDIS_PORT', '99999999999999999999'],
  ])('%s=%s is refused (exit 64) before the app starts', (name, value) => {
    const out = run(bound.command, { ...env, [name]: value });
    expect(out).toEqual({ status: 64, stdout: '', stderr: `data-tier-urls: ${name} must be a port number (1-65535), got '${value}'\n` });
  });

  test('REDIS_TLS other than true or false is refused (exit 64)', () => {
    const out = run(bound.command, { ...env, REDIS_TLS: 'yes' });
    expect(out).toEqual({ status: 64, stdout: '', stderr: 'data-tier-urls: REDIS_TLS must be true or false, got \'yes\'\n' });
  });

  test('the wrapper with no command after it stops (exit 64) and prints no URL', () => {
    const out = run(bound.command.slice(0, 4), env);
    expect(out).toEqual({ status: 64, stdout: '', stderr: 'data-tier-urls: no command to run after building the URLs\n' });
  });
});
