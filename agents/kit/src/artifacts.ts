/**
 * Reading and writing artifacts where the envelope says: S3 (`artifacts.bucket`) in the cloud,
 * files under `artifacts.local_dir` in local runs (the key is the path below that folder).
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { S3Client } from '@aws-sdk/client-s3';

/** The S3 client's module, loaded at the first S3 request: a local run never pays for it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadS3 = (): typeof import('@aws-sdk/client-s3') => require('@aws-sdk/client-s3');
import type { TaskEnvelope } from './envelope';

/** Largest input artifact read (prompts are built from them). */
export const MAX_READ_BYTES = 5 * 1024 * 1024;

/** An artifact that cannot be read or written. */
export class ArtifactError extends Error {
  public readonly name = 'ArtifactError';
}

export interface ArtifactStore {
  /** Where the store is, for the logs. */
  readonly description: string;
  read(key: string): Promise<string>;
  write(key: string, body: string, contentType: string): Promise<void>;
}

/** Keys that name one object below the root: no empty, `.` or `..` segment, no backslash or NUL. */
export function checkKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new ArtifactError(`artifact key must be 1 to 1024 characters, got ${key.length}`);
  if (/[\\\0]/.test(key) || key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new ArtifactError(`artifact key '${key}' is not a plain relative path (no leading '/', empty, '.' or '..' segments, backslashes)`);
  }
}

/** The key of a file this task writes: the envelope's prefix plus the file name. */
export function artifactKey(envelope: TaskEnvelope, fileName: string): string {
  const prefix = envelope.artifacts.prefix;
  const key = `${prefix}${prefix.endsWith('/') ? '' : '/'}${fileName}`;
  checkKey(key);
  return key;
}

/** Files below a folder (local runs). Writes are atomic: a temporary file, then a rename. */
export class LocalArtifactStore implements ArtifactStore {
  public readonly description: string;
  private readonly root: string;

  constructor(dir: string) {
    this.root = path.resolve(dir);
    this.description = `local folder ${this.root}`;
  }

  public async read(key: string): Promise<string> {
    const file = this.fileOf(key);
    try {
      const stat = await fsp.stat(file);
      if (stat.size > MAX_READ_BYTES) throw new ArtifactError(`artifact '${key}' is ${stat.size} bytes; at most ${MAX_READ_BYTES} are read`);
      return await fsp.readFile(file, 'utf-8');
    } catch (e) {
      if (e instanceof ArtifactError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ArtifactError(`artifact '${key}' not found (no file ${file})`);
      throw new ArtifactError(`cannot read artifact '${key}' from ${file}: ${(e as Error).message}`);
    }
  }

  public async write(key: string, body: string, _contentType?: string): Promise<void> {
    const file = this.fileOf(key);
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(temp, body, 'utf-8');
      await fsp.rename(temp, file);
    } catch (e) {
      await fsp.rm(temp, { force: true }).catch(() => undefined);
      throw new ArtifactError(`cannot write artifact '${key}' to ${file}: ${(e as Error).message}`);
    }
  }

  private fileOf(key: string): string {
    checkKey(key);
    const file = path.resolve(this.root, ...key.split('/'));
    if (!file.startsWith(this.root + path.sep)) throw new ArtifactError(`artifact key '${key}' leaves ${this.root}`);
    return file;
  }
}

/** One S3 bucket. */
export class S3ArtifactStore implements ArtifactStore {
  public readonly description: string;

  private client?: Pick<S3Client, 'send'>;

  /** @param client @default a client for AWS_REGION with the default credential chain, made at the first request */
  constructor(private readonly bucket: string, client?: Pick<S3Client, 'send'>) {
    this.description = `s3://${bucket}`;
    this.client = client;
  }

  private s3(): Pick<S3Client, 'send'> {
    this.client ??= defaultS3Client();
    return this.client;
  }

  public async read(key: string): Promise<string> {
    checkKey(key);
    try {
      const { GetObjectCommand } = loadS3();
      const res = await this.s3().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (res.ContentLength !== undefined && res.ContentLength > MAX_READ_BYTES) {
        throw new ArtifactError(`artifact '${key}' is ${res.ContentLength} bytes; at most ${MAX_READ_BYTES} are read`);
      }
      return await res.Body!.transformToString('utf-8');
    } catch (e) {
      if (e instanceof ArtifactError) throw e;
      if ((e as Error).name === 'NoSuchKey') throw new ArtifactError(`artifact '${key}' not found in s3://${this.bucket}`);
      throw new ArtifactError(`cannot read artifact s3://${this.bucket}/${key}: ${(e as Error).name}: ${(e as Error).message}`);
    }
  }

  public async write(key: string, body: string, contentType: string): Promise<void> {
    checkKey(key);
    try {
      const { PutObjectCommand } = loadS3();
      await this.s3().send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
    } catch (e) {
      throw new ArtifactError(`cannot write artifact s3://${this.bucket}/${key}: ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
}

function defaultS3Client(): S3Client {
  const { S3Client: Client } = loadS3();
  // Path-style addressing only for emulators on localhost (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).
  return new Client({ forcePathStyle: process.env.AGENT_S3_FORCE_PATH_STYLE === 'true' });
}

/** The store of an envelope: S3 when it names a bucket, else its local folder. */
export function artifactStoreFor(envelope: TaskEnvelope, s3Client?: Pick<S3Client, 'send'>): ArtifactStore {
  const { bucket, local_dir: localDir } = envelope.artifacts;
  if (bucket) return new S3ArtifactStore(bucket, s3Client);
  if (localDir) return new LocalArtifactStore(localDir);
  throw new ArtifactError('the envelope names neither artifacts.bucket nor artifacts.local_dir');
}
