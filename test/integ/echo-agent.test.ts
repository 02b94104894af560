/**
 * The integration tests' echo agent, run here as it runs in Lambda (bundled), against moto's S3
 * and a local server standing in for the callback route: it writes its artifact under the
 * envelope's prefix and reports once, SigV4-signed, with the task's token.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { bundleTestAgent } from '../../integ/integ-helpers';
import type { TaskEnvelope } from '../../src/contract/status';
import { describeWithMoto } from '../helpers/moto';

describeWithMoto('integ echo agent', (moto) => {
  let server: http.Server;
  const received: Array<{ url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  let status = 200;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"accepted":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const s3 = new S3Client({ endpoint: moto().endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  function envelope(step: string): TaskEnvelope {
    const port = (server.address() as AddressInfo).port;
    return {
      envelope_version: 1,
      workflow_id: 'wf-1',
      step_name: step,
      attempt: 1,
      agent: 'writer',
      input: { topic: 't' },
      artifacts: { bucket: 'artifacts', prefix: `agents/writer/wf-1/${step}/attempt-1/` },
      callback: { id: 'cb-1', url: `http://127.0.0.1:${port}/callbacks/cb-1`, heartbeat_url: '', token: 'T'.repeat(43) },
      deadline: new Date(Date.now() + 60_000).toISOString(),
    };
  }

  async function run(env: TaskEnvelope): Promise<void> {
    const saved = { ...process.env };
    Object.assign(process.env, moto().env, { AGENT_S3_FORCE_PATH_STYLE: 'true', AWS_SESSION_TOKEN: 'session' });
    try {
      let handler: (e: TaskEnvelope) => Promise<void>;
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        handler = require(path.join(bundleTestAgent('echo-agent'), 'index.js')).handler;
      });
      await handler!(env);
    } finally {
      process.env = saved;
    }
  }

  test('writes its artifact, then reports success once with the token and a SigV4 signature', async () => {
    await run(envelope('writing'));
    expect(received).toHaveLength(1);
    const [call] = received;
    expect(call.url).toBe('/callbacks/cb-1');
    expect(call.headers['x-callback-token']).toBe('T'.repeat(43));
    expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=.*x-callback-token.*, Signature=[0-9a-f]{64}$/);
    expect(call.headers['x-amz-security-token']).toBe('session');
    expect(JSON.parse(call.body)).toEqual({
      status: 'succeeded', artifacts: { report: 'agents/writer/wf-1/writing/attempt-1/report.md' }, output: { echo: true },
    });
    const s3 = new S3Client({ endpoint: moto().endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const object = await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'agents/writer/wf-1/writing/attempt-1/report.md' }));
    expect(await object.Body!.transformToString()).toContain('Step writing of wf-1');
  });

  test('a refused report fails the invocation with the orchestrator\'s answer', async () => {
    status = 409;
    await expect(run(envelope('research'))).rejects.toThrow(/refused the report: 409/);
    status = 200;
  });
});
