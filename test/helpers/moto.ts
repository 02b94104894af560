import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import { findOnPath } from './tools';

/** A running moto_server on loopback. */
export interface MotoServer {
  /** e.g. `http://localhost:40123`: use it as the AWS SDK endpoint (`endpoint` or `AWS_ENDPOINT_URL`). */
  readonly endpoint: string;
  readonly port: number;
  /** Environment for child processes and SDK clients: endpoint, region and dummy credentials. */
  readonly env: Record<string, string>;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** Whether moto_server is installed. */
export function motoAvailable(): boolean {
  return findOnPath('moto_server') !== undefined;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts moto_server on a free loopback port and resolves once it answers. The endpoint uses
 * the name `localhost`, which is the only host name moto resolves template URLs for.
 */
export async function startMoto(timeoutMs = 30_000): Promise<MotoServer> {
  const bin = findOnPath('moto_server');
  if (!bin) {
    throw new Error('moto_server is not installed on PATH (pip install "moto[server]")');
  }
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const endpoint = `http://localhost:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`moto_server exited with code ${child.exitCode} before answering: ${stderr}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    port,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }),
  };
}

/**
 * Declares a suite that gets its own moto_server: started before the suite's tests and
 * stopped after them. Where moto_server is absent the suite is skipped with that reason.
 */
export function describeWithMoto(name: string, fn: (moto: () => MotoServer) => void): void {
  if (!motoAvailable()) {
    describe.skip(`${name} [skipped: moto_server is not installed on PATH]`, () => fn(() => {
      throw new Error('unreachable');
    }));
    return;
  }
  describe(name, () => {
    let server: MotoServer | undefined;
    beforeAll(async () => {
      server = await startMoto();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });
    fn(() => {
      if (!server) throw new Error('moto_server did not start');
      return server;
    });
  });
}
