import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { describeIfInstalled, findOnPath } from './tools';

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

/** moto's server handling one request at a time, on a port it picks (see the file for why). */
const SERIAL_SERVER = path.join(__dirname, 'moto_serial_server.py');

/**
 * The Python that runs moto_server: the interpreter named by its script's `#!` line (pip and
 * pipx write an absolute one), or python3 on PATH where the script is a wrapper (pyenv shims).
 */
export function motoPython(motoServer: string): string {
  const fd = fs.openSync(motoServer, 'r');
  const head = Buffer.alloc(256);
  const read = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const interpreter = /^#!\s*(\/\S*python[\w.]*)\s*$/.exec(head.subarray(0, read).toString('utf-8').split('\n')[0])?.[1];
  return interpreter && fs.existsSync(interpreter) ? interpreter : findOnPath('python3') ?? 'python3';
}

/**
 * Starts moto's server on a loopback port of its own choosing and resolves once it answers. The
 * endpoint uses the name `localhost`, which is the only host name moto resolves template URLs for.
 *
 * It is moto_server's application run by `moto_serial_server.py`, which handles one request at a
 * time (moto_server's threads let two concurrent conditional writes both win) and binds port 0
 * itself (a port chosen here and bound later by a slow-starting Python could be taken meanwhile,
 * e.g. by another test file's server).
 */
export async function startMoto(timeoutMs = 30_000): Promise<MotoServer> {
  const bin = findOnPath('moto_server');
  if (!bin) {
    throw new Error('moto_server is not installed on PATH (pip install -r .ci/requirements-ci.txt)');
  }
  const child: ChildProcess = spawn(motoPython(bin), [SERIAL_SERVER, '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout = (stdout + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + timeoutMs;
  let port: number | undefined;
  for (;;) {
    port ??= Number(/^port (\d+)$/m.exec(stdout)?.[1]) || undefined;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`moto_server exited with ${child.exitCode ?? child.signalCode} before answering: ${stderr}`);
    }
    if (port !== undefined) {
      try {
        const res = await fetch(`http://localhost:${port}/moto-api/reset`, { method: 'POST' });
        if (res.ok) break;
      } catch {
        // not answering yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer${port ? ` on port ${port}` : ''} within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const listening = port!;
  const endpoint = `http://localhost:${listening}`;
  return {
    endpoint,
    port: listening,
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
 * stopped after them. Where moto_server is absent the suite fails under CI=true and is skipped
 * elsewhere, saying why (test/helpers/tools.ts).
 */
export function describeWithMoto(name: string, fn: (moto: () => MotoServer) => void): void {
  describeIfInstalled('moto_server', name, () => {
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
