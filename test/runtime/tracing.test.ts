import * as dgram from 'dgram';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DaemonSender, sampledTrace, subsegment, tracingCapture } from '../../src/runtime/tracing';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const PARENT = '53995c3f42cd8ad8';

describe('sampledTrace', () => {
  test.each([
    [`Root=${ROOT};Parent=${PARENT};Sampled=1`, { traceId: ROOT, parentId: PARENT }],
    [`Root=${ROOT};Parent=${PARENT};Sampled=1;Lineage=a:1`, { traceId: ROOT, parentId: PARENT }],
    [`Root=${ROOT};Parent=${PARENT};Sampled=0`, undefined],
    [`Root=${ROOT};Sampled=1`, undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s', (header, expected) => {
    expect(sampledTrace(header)).toEqual(expected);
  });
});

describe('subsegment', () => {
  const trace = { traceId: ROOT, parentId: PARENT };
  const call = { service: 'DynamoDB', operation: 'GetItem', region: 'eu-west-1', requestId: 'r1', startSeconds: 10, endSeconds: 10.5 };

  test('a successful call: an aws-namespace subsegment of the invocation\'s segment', () => {
    expect(subsegment({ ...call, status: 200 }, trace)).toEqual({
      name: 'DynamoDB',
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      trace_id: ROOT,
      parent_id: PARENT,
      type: 'subsegment',
      namespace: 'aws',
      start_time: 10,
      end_time: 10.5,
      aws: { operation: 'GetItem', region: 'eu-west-1', request_id: 'r1' },
      http: { response: { status: 200 } },
    });
  });

  test.each([
    [400, { error: true }],
    [429, { error: true, throttle: true }],
    [503, { fault: true }],
    [undefined, { fault: true }],
  ])('a call that failed with status %s is marked %j', (status, marks) => {
    const doc = subsegment({ ...call, status, error: 'SomeException' }, trace);
    expect(doc).toMatchObject({ ...marks, cause: { exceptions: [{ type: 'SomeException', remote: true }] } });
    for (const mark of ['error', 'fault', 'throttle'].filter((m) => !(m in marks))) expect(doc[mark]).toBeUndefined();
  });
});

describe('tracingCapture with a real SDK client', () => {
  let server: http.Server;
  let endpoint: string;
  let daemon: dgram.Socket;
  let daemonPort: number;
  const received: string[] = [];

  beforeAll(async () => {
    // S3 answering HeadObject: 200 for 'present', 404 for anything else.
    server = http.createServer((req, res) => {
      res.writeHead(req.url?.includes('present') ? 200 : 404, { 'x-amz-request-id': 'req-42', 'content-length': '0' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    daemon = dgram.createSocket('udp4');
    daemon.on('message', (m) => received.push(m.toString('utf8')));
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    daemonPort = daemon.address().port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    daemon.close();
  });

  const client = () => new S3Client({ endpoint, region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  async function documents(count: number): Promise<Array<Record<string, any>>> {
    const deadline = Date.now() + 10_000;
    while (received.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return received.splice(0, received.length).map((m) => {
      const [header, body] = m.split('\n');
      expect(JSON.parse(header)).toEqual({ format: 'json', version: 1 });
      return JSON.parse(body);
    });
  }

  test('sampled calls are sent to the daemon as subsegments, an unsampled one is not; a failure is marked', async () => {
    const env: Record<string, string | undefined> = { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemonPort}` };
    const s3 = tracingCapture(env)(client());
    env._X_AMZN_TRACE_ID = `Root=${ROOT};Parent=${PARENT};Sampled=0`;
    await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'present-0' }));
    env._X_AMZN_TRACE_ID = `Root=${ROOT};Parent=${PARENT};Sampled=1`;
    await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'present-1' }));
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'missing' }))).rejects.toThrow();
    const [ok, missing, ...more] = await documents(2);
    expect(more).toEqual([]);
    expect(ok).toMatchObject({
      name: 'S3',
      namespace: 'aws',
      type: 'subsegment',
      trace_id: ROOT,
      parent_id: PARENT,
      aws: { operation: 'HeadObject', region: 'eu-west-1', request_id: 'req-42' },
      http: { response: { status: 200 } },
    });
    expect(ok.end_time).toBeGreaterThanOrEqual(ok.start_time);
    expect(missing).toMatchObject({ aws: { operation: 'HeadObject' }, http: { response: { status: 404 } }, error: true });
    expect(missing.fault).toBeUndefined();
  });

  test('with tracing off the client is left as it was', async () => {
    const plain = client();
    const before = plain.middlewareStack.identify().length;
    expect(tracingCapture({ POWERTOOLS_TRACE_ENABLED: 'false' })(plain)).toBe(plain);
    expect(plain.middlewareStack.identify().length).toBe(before);
    const traced = tracingCapture({})(client());
    expect(traced.middlewareStack.identify()).toEqual(expect.arrayContaining([expect.stringMatching(/^cdkDurableAgentsXRaySubsegment/)]));
  });

  test('the daemon address is read as Lambda writes it', () => {
    const sent: Array<{ port: number; host: string }> = [];
    for (const address of ['169.254.79.129:2000', 'udp:169.254.79.129:2000 tcp:127.0.0.1:2000', undefined]) {
      const sender = new DaemonSender(address);
      expect(sender).toBeInstanceOf(DaemonSender);
      sent.push({ host: (sender as any).host, port: (sender as any).port });
    }
    expect(sent).toEqual([{ host: '169.254.79.129', port: 2000 }, { host: '169.254.79.129', port: 2000 }, { host: '127.0.0.1', port: 2000 }]);
  });
});
