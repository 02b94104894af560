/**
 * A test agent for the integration tests: it answers every task at once. It writes one artifact
 * under the prefix of its envelope and reports success through the orchestrator's callback
 * route, signing the request with SigV4 (the route requires IAM) and sending the task's token.
 */
import { createHash, createHmac, Hash, Hmac } from 'crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import type { TaskEnvelope } from '../../src/contract/status';

/** Artifact each step of the reference workflow hands on (see ReferenceWorkflows.researchReport). */
const ARTIFACT: Record<string, string> = { research: 'research', analysis: 'analysis', writing: 'report' };

// Path-style addressing only where an emulator on localhost needs it (the agent's test).
const s3 = new S3Client({ forcePathStyle: process.env.AGENT_S3_FORCE_PATH_STYLE === 'true' });

/** SHA-256 (or HMAC-SHA-256 with a secret) for the signer, on Node's crypto. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

export async function handler(envelope: TaskEnvelope): Promise<void> {
  const name = ARTIFACT[envelope.step_name] ?? 'output';
  const key = `${envelope.artifacts.prefix}${name}.md`;
  await s3.send(new PutObjectCommand({
    Bucket: envelope.artifacts.bucket,
    Key: key,
    Body: `# ${name}\n\nStep ${envelope.step_name} of ${envelope.workflow_id}, attempt ${envelope.attempt}.\n\n` +
      `Input: ${JSON.stringify(envelope.input)}\n`,
    ContentType: 'text/markdown',
  }));
  await report(envelope, { status: 'succeeded', artifacts: { [name]: key }, output: { echo: true } });
}

async function report(envelope: TaskEnvelope, body: unknown): Promise<void> {
  const url = new URL(envelope.callback.url);
  const payload = JSON.stringify(body);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: process.env.AWS_REGION!,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID!,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY!,
      sessionToken: process.env.AWS_SESSION_TOKEN,
    },
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    query: {},
    headers: { 'host': url.hostname, 'content-type': 'application/json', 'x-callback-token': envelope.callback.token },
    body: payload,
  });
  const res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body: payload });
  if (!res.ok) {
    throw new Error(`the orchestrator refused the report: ${res.status} ${await res.text()}`);
  }
}
