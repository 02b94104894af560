/**
 * The AWS side of the command line: credentials from the AWS SDK's default chain, SigV4 for
 * `execute-api`, and the API URL from a stack's outputs. Loaded only by `openApi` in `./target`
 * (a dynamic import), so commands against the local server never load the SDK.
 */
// Bundled into the command (devDependencies, pinned in .projenrc.ts, as for the agents' signer).
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { Output } from '@aws-sdk/client-cloudformation';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { CliError } from './errors';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Where the SDK's default chain looks, in its order (for the message when it finds nothing). */
const CHAIN = 'the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), SSO, the shared files ~/.aws/config and '
  + '~/.aws/credentials (profile from --profile or AWS_PROFILE, else default), a credential_process, a web identity token file '
  + '(AWS_WEB_IDENTITY_TOKEN_FILE), the container credentials endpoint and the EC2 instance metadata service';
const FIX = 'run `aws configure` (or `aws configure sso`), set AWS_PROFILE or give --profile <name> for a configured profile, '
  + 'or run `aws sso login --profile <name>` when its SSO session has expired';

/**
 * The credentials of the SDK's default chain (`defaultProvider` of
 * `@aws-sdk/credential-provider-node`), for `profile` when given (otherwise AWS_PROFILE or the
 * environment's keys); cached, and refreshed before temporary ones expire. Failures are
 * `CliError`s that say what was tried and how to fix it.
 */
export function credentialSource(profile?: string): () => Promise<AwsCredentials> {
  const provider = defaultProvider(profile !== undefined ? { profile } : {});
  return async () => {
    try {
      return await provider();
    } catch (e) {
      throw credentialsError(e, profile);
    }
  };
}

function credentialsError(e: unknown, profile: string | undefined): CliError {
  const message = e instanceof Error ? e.message : String(e);
  const named = profile ?? process.env.AWS_PROFILE;
  if (/Could not load credentials from any providers/.test(message)) {
    const which = named === undefined ? ''
      : ` for profile '${named}' (${profile !== undefined ? '--profile' : 'AWS_PROFILE'}; is it in ${process.env.AWS_CONFIG_FILE ?? '~/.aws/config'} `
        + `or ${process.env.AWS_SHARED_CREDENTIALS_FILE ?? '~/.aws/credentials'}?)`;
    return new CliError(`no AWS credentials${which} to sign the request with: the AWS SDK's default chain looked in ${CHAIN}, and found none. To fix: ${FIX}`);
  }
  return new CliError(`cannot get AWS credentials${named ? ` of profile '${named}'` : ''} to sign the request with: ${message}. To fix: ${FIX}`);
}

export interface SignRequestOptions {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly credentials: AwsCredentials;
  readonly region: string;
}

/** The headers of a request signed with SigV4 for `execute-api` (the given ones plus host, x-amz-date, x-amz-content-sha256, authorization, ...). */
export async function signRequest(options: SignRequestOptions): Promise<Record<string, string>> {
  const { url } = options;
  const signer = new SignatureV4({ service: 'execute-api', region: options.region, credentials: options.credentials, sha256: Sha256 });
  const query: Record<string, string | string[]> = {};
  url.searchParams.forEach((value, key) => {
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  });
  const signed = await signer.sign({
    method: options.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { ...options.headers, host: url.host },
    body: options.body,
  });
  return signed.headers as Record<string, string>;
}

export interface StackApiUrlOptions {
  readonly stack: string;
  /** The output key to use. @default - the only output whose key ends with `ApiUrl` */
  readonly output?: string;
  /** @default - the SDK's region (AWS_REGION, the profile's region) */
  readonly region?: string;
  readonly profile?: string;
}

/** A stack output that names an API URL. */
export interface StackApiUrl {
  readonly url: string;
  readonly outputKey: string;
  /** The region of the stack (to sign for when the URL does not name one). */
  readonly region: string;
}

/**
 * The API URL of a deployed stack: its output whose key ends with `ApiUrl`
 * (`DurableOrchestrator.addOutputs()`), through CloudFormation `DescribeStacks`. The SDK honours
 * `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_CLOUDFORMATION`.
 */
export async function stackApiUrl(options: StackApiUrlOptions): Promise<StackApiUrl> {
  const client = new CloudFormationClient({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    credentials: credentialSource(options.profile),
  });
  let region: string;
  try {
    region = await client.config.region();
  } catch {
    throw new CliError(`--stack ${options.stack}: no AWS region to look the stack up in: give --region <region> or set AWS_REGION `
      + '(or a region in the profile of ~/.aws/config)');
  }
  let outputs: Output[];
  try {
    const res = await client.send(new DescribeStacksCommand({ StackName: options.stack }));
    outputs = res.Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    if (e instanceof CliError) throw e;
    const error = e as { name?: string; message?: string };
    if (error.name === 'ValidationError' && /does not exist/.test(error.message ?? '')) {
      throw new CliError(`--stack ${options.stack}: no such stack in region ${region} of the account of your credentials: check the stack name `
        + 'and --region (the stack name is the one `cdk deploy` printed)');
    }
    if (/AccessDenied|not authorized/i.test(`${error.name} ${error.message}`)) {
      throw new CliError(`--stack ${options.stack}: your AWS credentials may not read the stack (cloudformation:DescribeStacks): ${error.message}. `
        + 'Grant it, or pass the URL with --api-url');
    }
    throw new CliError(`--stack ${options.stack}: CloudFormation DescribeStacks in ${region} failed: ${error.name ?? 'Error'}: ${error.message ?? String(e)}`);
  } finally {
    client.destroy();
  }
  const apiUrls = outputs.filter((o) => o.OutputKey?.endsWith('ApiUrl') && o.OutputValue);
  if (options.output !== undefined) {
    const chosen = outputs.find((o) => o.OutputKey === options.output);
    if (!chosen?.OutputValue) {
      throw new CliError(`--output ${options.output}: stack ${options.stack} has no such output; its outputs ending with ApiUrl are `
        + `${apiUrls.length ? apiUrls.map((o) => o.OutputKey).join(', ') : 'none'}`);
    }
    return { url: chosen.OutputValue, outputKey: options.output, region };
  }
  if (apiUrls.length === 0) {
    const others = outputs.map((o) => o.OutputKey).filter(Boolean);
    throw new CliError(`stack ${options.stack} has no output whose key ends with ApiUrl${others.length ? ` (its outputs: ${others.join(', ')})` : ' (it has no outputs)'}: `
      + 'call orchestrator.addOutputs() in the app and deploy again, or pass the API URL with --api-url <url>');
  }
  if (apiUrls.length > 1) {
    throw new CliError(`stack ${options.stack} has ${apiUrls.length} outputs whose key ends with ApiUrl: `
      + `${apiUrls.map((o) => `${o.OutputKey} (${o.OutputValue})`).join(', ')}; choose one with --output <OutputKey>`);
  }
  return { url: apiUrls[0].OutputValue!, outputKey: apiUrls[0].OutputKey!, region };
}
