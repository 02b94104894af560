/**
 * Throwaway PostgreSQL and Redis servers on loopback, for testing the data tier's runtime helper
 * against the real thing (Debian's `postgresql` and `redis-server` packages). Not a test itself.
 *
 * Both servers speak TLS only, like the data tier's stores (`rds.force_ssl`, Redis in-transit
 * encryption `required`), with a self-signed certificate for 127.0.0.1, and demand a password
 * full of characters that must be percent-encoded in a URL.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { createClient } from 'redis';
import { freePort } from '../helpers/moto';
import { findOnPath, postgresBinary } from '../helpers/tools';

/** A user name and password that exercise URL percent-encoding (`@ : / ? # %` and a space). */
export const AWKWARD_USER = 'tier:user@x';
export const AWKWARD_PASSWORD = 'p@ss:w/rd?#%&+ 20%';

/** A running server and how to stop it. */
export interface LoopbackServer {
  readonly port: number;
  /** PEM of the CA (the self-signed certificate) to verify the server with. */
  readonly caFile: string;
  stop(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 in `dir` (cert.pem, key.pem). */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

/**
 * initdb refuses to run as root; as root (this project's machines and CI containers) the server
 * runs as the `postgres` user of Debian's package, or `nobody` without it.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf-8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf-8' }).trim());
      return { uid, gid };
    } catch {
      // no such user
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

function chownTree(dir: string, user: { uid: number; gid: number }): void {
  fs.chownSync(dir, user.uid, user.gid);
  for (const entry of fs.readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (fs.statSync(p).isDirectory()) chownTree(p, user);
    else fs.chownSync(p, user.uid, user.gid);
  }
}

async function waitFor(what: string, child: ChildProcess, output: () => string, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}: ${output()}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs} ms: ${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Starts a server (`spawnAt` a free port) and waits until `isReady`; `stop` stops it and removes
 * `dir`. A server that could not bind its port is started again on another one (three tries in
 * all): the port is free when chosen, but another process (another test file's server, or a
 * client connection's ephemeral port) can take it before the server binds it.
 */
async function serve(
  what: string, dir: string, signal: NodeJS.Signals, caFile: string,
  spawnAt: (port: number) => ChildProcess, isReady: (port: number, caFile: string) => Promise<boolean>,
): Promise<LoopbackServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawnAt(port);
    let output = '';
    const collect = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    try {
      await waitFor(what, child, () => output, () => isReady(port, caFile));
    } catch (e) {
      await stopChild(child, signal);
      if (attempt < 3 && /address already in use/i.test(output)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return {
      port,
      caFile,
      stop: async () => {
        await stopChild(child, signal);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** The servers' requirements, for `describeIfInstalled` (test/helpers/tools.ts). */
export const POSTGRES_TOOLS = ['initdb', 'postgres', 'openssl'];
export const REDIS_TOOLS = ['redis-server', 'openssl'];

/**
 * Starts a PostgreSQL cluster in a temporary folder: superuser `AWKWARD_USER` with password
 * `AWKWARD_PASSWORD` (SCRAM-SHA-256), listening on 127.0.0.1 only, and accepting TLS connections
 * only (`hostssl` in pg_hba.conf, as `rds.force_ssl=1` does).
 */
export async function startPostgres(isReady: (port: number, caFile: string) => Promise<boolean>): Promise<LoopbackServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'data-tier-pg-'));
  const user = serverUser();
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'password');
  fs.writeFileSync(pwfile, AWKWARD_PASSWORD, { mode: 0o600 });
  const { cert, key } = selfSignedCertificate(dir);
  fs.chmodSync(key, 0o600);
  if (user) chownTree(dir, user);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(postgresBinary('initdb')!, ['-D', data, '-U', AWKWARD_USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-instructions'],
    { ...as, stdio: 'pipe', cwd: dir });
  // TLS only, from loopback only.
  fs.writeFileSync(path.join(data, 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 scram-sha-256\n');
  if (user) fs.chownSync(path.join(data, 'pg_hba.conf'), user.uid, user.gid);
  // SIGINT: PostgreSQL's fast shutdown
  return serve('postgres', dir, 'SIGINT', cert, (port) => spawn(postgresBinary('postgres')!, [
    '-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'ssl=on', '-c', `ssl_cert_file=${cert}`, '-c', `ssl_key_file=${key}`,
    '-c', 'fsync=off', '-c', 'shared_buffers=16MB',
  ], { ...as, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }), isReady);
}

/**
 * Starts redis-server on 127.0.0.1, TLS only when `tls` (no plaintext port), with `requirepass`
 * set to `authToken`, keeping nothing on disk.
 */
export async function startRedis(
  authToken: string, tls: boolean, isReady: (port: number, caFile: string) => Promise<boolean>,
): Promise<LoopbackServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'data-tier-redis-'));
  const { cert, key } = selfSignedCertificate(dir);
  return serve('redis-server', dir, 'SIGTERM', cert, (port) => {
    const args = ['--bind', '127.0.0.1', '--requirepass', authToken, '--save', '', '--appendonly', 'no', '--dir', dir];
    if (tls) {
      args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-auth-clients', 'no');
    } else {
      args.push('--port', String(port));
    }
    return spawn(findOnPath('redis-server')!, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  }, isReady);
}

/**
 * Runs `fn` with a node-postgres client of the loopback cluster's superuser (TLS, verified
 * against the cluster's CA), in `database` and with `password` (the cluster's own unless a test
 * rotated it), and closes the client.
 */
export async function asSuperuser<T>(
  server: Pick<LoopbackServer, 'port' | 'caFile'>, fn: (c: Client) => Promise<T>,
  options: { readonly database?: string; readonly password?: string } = {},
): Promise<T> {
  const client = new Client({
    host: '127.0.0.1',
    port: server.port,
    user: AWKWARD_USER,
    password: options.password ?? AWKWARD_PASSWORD,
    database: options.database ?? 'postgres',
    ssl: { ca: fs.readFileSync(server.caFile, 'utf-8') },
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A readiness probe for `startPostgres`: the superuser can log in over TLS. */
export function postgresAnswers(port: number, caFile: string): Promise<boolean> {
  return asSuperuser({ port, caFile }, async () => true).catch(() => false);
}

/** A readiness probe for `startRedis(authToken, true, ...)`: PING over TLS with the token answers PONG. */
export function redisAnswers(authToken: string): (port: number, caFile: string) => Promise<boolean> {
  return async (port, caFile) => {
    const client = createClient({
      url: `rediss://:${encodeURIComponent(authToken)}@127.0.0.1:${port}`,
      socket: { connectTimeout: 5000, reconnectStrategy: false, tls: true, ca: fs.readFileSync(caFile, 'utf-8') },
    });
    client.on('error', () => undefined); // the awaited calls reject with it
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      if (client.isOpen) client.destroy();
    }
  };
}
