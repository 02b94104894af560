import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { describeWithMoto } from '../../../test/helpers/moto';
import { ArtifactError, artifactKey, artifactStoreFor, LocalArtifactStore, S3ArtifactStore } from '../src';
import { envelope } from './fixtures';

describe('LocalArtifactStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'artifacts-'));
  });
  afterEach(() => fsp.rm(dir, { recursive: true, force: true }));

  test('writes a key as a file below the folder, creating folders, and reads it back', async () => {
    const store = new LocalArtifactStore(dir);
    await store.write('agents/researcher/wf-1/research/attempt-1/research.md', '# notes\n', 'text/markdown');
    expect(await fsp.readFile(path.join(dir, 'agents', 'researcher', 'wf-1', 'research', 'attempt-1', 'research.md'), 'utf-8')).toBe('# notes\n');
    expect(await store.read('agents/researcher/wf-1/research/attempt-1/research.md')).toBe('# notes\n');
    expect(await fsp.readdir(path.join(dir, 'agents', 'researcher', 'wf-1', 'research', 'attempt-1'))).toEqual(['research.md']);
  });

  test('says which key is missing', async () => {
    await expect(new LocalArtifactStore(dir).read('agents/x/none.md')).rejects.toThrow(new RegExp("^artifact 'agents/x/none.md' not found \\(no file "));
  });

  test.each(['../outside.md', 'agents/../../outside.md', '/etc/passwd', 'agents//x.md', 'agents\\x.md', ''])('refuses the key %j', async (key) => {
    const store = new LocalArtifactStore(dir);
    await expect(store.write(key, 'x', 'text/plain')).rejects.toBeInstanceOf(ArtifactError);
    await expect(store.read(key)).rejects.toBeInstanceOf(ArtifactError);
  });

  test('fails with an ArtifactError when the folder cannot be written', async () => {
    await fsp.writeFile(path.join(dir, 'agents'), 'a file where a folder should be');
    await expect(new LocalArtifactStore(dir).write('agents/x/y.md', 'x', 'text/plain')).rejects.toThrow(/^cannot write artifact 'agents\/x\/y.md'/);
  });
});

describe('artifactKey and artifactStoreFor', () => {
  test('put the file under the envelope prefix', () => {
    const env = envelope('http://127.0.0.1:9');
    expect(artifactKey(env, 'research.md')).toBe(`${env.artifacts.prefix}research.md`);
    expect(artifactKey({ ...env, artifacts: { prefix: 'agents/a/b', local_dir: '/tmp' } }, 'r.md')).toBe('agents/a/b/r.md');
  });

  test('choose S3 when the envelope names a bucket, else the local folder', () => {
    const env = envelope('http://127.0.0.1:9');
    expect(artifactStoreFor({ ...env, artifacts: { prefix: 'agents/a/', bucket: 'b' } }, { send: jest.fn() })).toBeInstanceOf(S3ArtifactStore);
    expect(artifactStoreFor({ ...env, artifacts: { prefix: 'agents/a/', local_dir: '/tmp/x' } })).toBeInstanceOf(LocalArtifactStore);
  });
});

describeWithMoto('S3ArtifactStore against moto_server', (moto) => {
  let client: S3Client;
  beforeAll(async () => {
    client = new S3Client({ endpoint: moto().endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await client.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
  });

  test('writes an object and reads it back', async () => {
    const store = new S3ArtifactStore('artifacts', client);
    await store.write('agents/analyst/wf-1/analysis/attempt-1/analysis.md', '# analysis ✓\n', 'text/markdown; charset=utf-8');
    expect(await store.read('agents/analyst/wf-1/analysis/attempt-1/analysis.md')).toBe('# analysis ✓\n');
  });

  test('says which key is missing, and why a write failed', async () => {
    await expect(new S3ArtifactStore('artifacts', client).read('agents/none.md')).rejects.toThrow("artifact 'agents/none.md' not found in s3://artifacts");
    await expect(new S3ArtifactStore('no-such-bucket', client).write('agents/x.md', 'x', 'text/plain')).rejects.toThrow(/^cannot write artifact s3:\/\/no-such-bucket\/agents\/x.md: NoSuchBucket/);
  });
});
