import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '../../ports';
import { checkArtifactKey } from '../../validation';

export interface S3ArtifactStoreOptions {
  readonly client: S3Client;
  /** The artifact bucket. */
  readonly bucket: string;
}

/**
 * ArtifactStore on S3: one object per key. Keys are checked as the local store checks them
 * (relative, no empty, `.` or `..` segment), so an agent behaves the same in both homes.
 *
 * A missing key is told apart from a refusal only when the caller may list the bucket
 * (`s3:ListBucket`): without it S3 answers 403 for a missing key, and `get`/`exists` throw.
 */
export class S3ArtifactStore implements ArtifactStore {
  public readonly location: { readonly bucket: string };
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3ArtifactStoreOptions) {
    if (!options.bucket) throw new Error('S3ArtifactStore: bucket is required');
    this.client = options.client;
    this.bucket = options.bucket;
    this.location = { bucket: options.bucket };
  }

  public async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    checkArtifactKey(key);
    await this.client.send(new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: body,
      ContentType: contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream'),
    }));
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    checkArtifactKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) return new Uint8Array();
      return await out.Body.transformToByteArray();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  public async exists(key: string): Promise<boolean> {
    checkArtifactKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  public async copy(fromKey: string, toKey: string): Promise<void> {
    checkArtifactKey(fromKey);
    checkArtifactKey(toKey);
    try {
      await this.client.send(new CopyObjectCommand({
        Bucket: this.bucket,
        Key: toKey,
        // CopySource is `bucket/key` with the key URL-encoded ('/' kept).
        CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'COPY',
      }));
    } catch (e) {
      if (isNotFound(e)) {
        throw new Error(`cannot copy artifact '${fromKey}' to '${toKey}': '${fromKey}' not found in bucket ${this.bucket}`);
      }
      throw e;
    }
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (err?.name === 'NoSuchBucket') return false; // a misconfiguration, not a missing artifact
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404;
}
