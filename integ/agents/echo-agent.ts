/**
 * A test agent for the integration tests: it answers every task at once. It writes one artifact
 * under the prefix of its envelope and reports success through the orchestrator's callback
 * route, signing the request with SigV4 (the route requires IAM) and sending the task's token.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CredentialResolver, signingRegion, signRequest } from '../../agents/kit/src/sigv4';
import type { TaskEnvelope } from '../../src/contract/status';

/** Artifact each step of the reference workflow hands on (see ReferenceWorkflows.researchReport). */
const ARTIFACT: Record<string, string> = { research: 'research', analysis: 'analysis', writing: 'report' };

// Path-style addressing only where an emulator on localhost needs it (the agent's test).
const s3 = new S3Client({ forcePathStyle: process.env.AGENT_S3_FORCE_PATH_STYLE === 'true' });

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
  const credentials = await new CredentialResolver().resolve();
  if (!credentials) throw new Error('no AWS credentials in the environment to sign the report with');
  const headers = await signRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', 'x-callback-token': envelope.callback.token },
    body: payload,
    credentials,
    region: signingRegion(url)!,
  });
  const res = await fetch(url, { method: 'POST', headers, body: payload });
  if (!res.ok) {
    throw new Error(`the orchestrator refused the report: ${res.status} ${await res.text()}`);
  }
}
