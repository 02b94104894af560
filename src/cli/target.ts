/**
 * Where the workflow commands (`start`, `status`, `list`, `approve`, `reject`, `cancel`) send
 * their requests: the local server on 127.0.0.1 (`--port`), or a deployed orchestrator's HTTP
 * API (`--api-url`, or `--stack` whose `...ApiUrl` output names it), signed with SigV4.
 *
 * Nothing here loads the AWS SDK: the signer, the credential chain and the CloudFormation client
 * live in `./aws`, imported only when a command talks to a deployed orchestrator, so `dev`,
 * `demo` and the local commands start without them.
 */
import type * as AwsModule from './aws';
import { ClientResponse, LocalClient } from './client';
import { CliError } from './errors';
import { DEFAULT_PORT } from './progress';

/** The environment variable that gives `--api-url` when no target option is given. */
export const API_URL_ENV = 'CDK_DURABLE_AGENTS_API_URL';

/** A workflow API the commands talk to: the local server or a deployed one. */
export interface WorkflowApi {
  /** The base URL requests go to (`<url>/workflows`). */
  readonly url: string;
  /** Whether it is a deployed orchestrator (requests are signed; IAM decides who may call). */
  readonly remote: boolean;
  /** The options that name this target again, e.g. ` --port 8080`, ` --stack research` ('' for the default port). */
  readonly targetArgs: string;
  /** Sends a request; a server that does not answer is a `CliError`. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ClientResponse>;
}

/** The target options every workflow command takes, as parsed from the command line. */
export interface TargetOptions {
  readonly 'port'?: string;
  readonly 'api-url'?: string;
  readonly 'stack'?: string;
  readonly 'output'?: string;
  readonly 'region'?: string;
  readonly 'profile'?: string;
}

/** The `parseArgs` specification of the target options. */
export const TARGET_OPTIONS = {
  'port': { type: 'string' },
  'api-url': { type: 'string' },
  'stack': { type: 'string' },
  'output': { type: 'string' },
  'region': { type: 'string' },
  'profile': { type: 'string' },
} as const;

/** How a person names the target in the usage text. */
export const TARGET_USAGE = `Where the workflow commands send their requests (one of):
  --port <n>               the local server on 127.0.0.1 (default ${DEFAULT_PORT})
  --api-url <url>          a deployed orchestrator's API URL (the stack output <prefix>ApiUrl);
                           default: $${API_URL_ENV}
  --stack <name>           a deployed stack: its output whose key ends with ApiUrl
    --output <OutputKey>   which output, when the stack has several ApiUrl outputs
With --api-url or --stack, requests are signed with SigV4 (service execute-api) with credentials
from the AWS SDK's default chain (environment, AWS_PROFILE, SSO, ~/.aws, container, instance):
  --profile <name>         a profile of ~/.aws/config (default: $AWS_PROFILE, else 'default')
  --region <region>        region of a custom domain's API and of --stack (default: the region in
                           the execute-api URL, else $AWS_REGION)`;

/** The region of an `https://<api-id>.execute-api.<region>.amazonaws.com[.cn]/...` URL, else undefined. */
export function regionOfApiUrl(url: URL): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname.toLowerCase())?.[1];
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** A target resolved from the options, before anything is looked up or loaded. */
export type Target =
  | { readonly kind: 'local'; readonly port: number }
  | { readonly kind: 'url'; readonly url: URL; readonly region: string; readonly profile?: string }
  | { readonly kind: 'stack'; readonly stack: string; readonly output?: string; readonly region?: string; readonly profile?: string };

/**
 * Checks the target options (without any network or AWS call) and says which target they name.
 * `env` gives `CDK_DURABLE_AGENTS_API_URL`, `AWS_REGION` and `AWS_DEFAULT_REGION`.
 */
export function resolveTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): Target {
  const given = (['port', 'api-url', 'stack'] as const).filter((o) => options[o] !== undefined);
  if (given.length > 1) {
    throw new CliError(`${given.map((o) => `--${o}`).join(' and ')} name different targets: give --port for the local server, `
      + 'or --api-url (or --stack) for a deployed orchestrator, not both');
  }
  if (options.output !== undefined && options.stack === undefined) {
    throw new CliError(`--output ${options.output} chooses among the ApiUrl outputs of --stack <name>; give --stack too`);
  }
  if (options.region !== undefined && !REGION_PATTERN.test(options.region)) {
    throw new CliError(`--region ${options.region}: expected an AWS region name such as us-east-1`);
  }
  if (options.profile !== undefined && options.profile.trim() === '') {
    throw new CliError('--profile is empty: give the name of a profile of ~/.aws/config, or leave it out');
  }
  const envUrl = env[API_URL_ENV]?.trim() || undefined;
  if (options.port !== undefined || (options['api-url'] === undefined && options.stack === undefined && envUrl === undefined)) {
    const awsOnly = (['region', 'profile'] as const).filter((o) => options[o] !== undefined);
    if (awsOnly.length > 0) {
      throw new CliError(`${awsOnly.map((o) => `--${o}`).join(' and ')} ${awsOnly.length > 1 ? 'are' : 'is'} for a deployed orchestrator `
        + '(--api-url or --stack); the local server needs no credentials');
    }
    return { kind: 'local', port: localPort(options.port) };
  }
  const profile = options.profile !== undefined ? { profile: options.profile } : {};
  if (options.stack !== undefined) {
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(options.stack) && !options.stack.startsWith('arn:')) {
      throw new CliError(`--stack ${options.stack}: expected a CloudFormation stack name (letters, digits and -, starting with a letter) or a stack ARN`);
    }
    return {
      kind: 'stack',
      stack: options.stack,
      ...(options.output !== undefined ? { output: options.output } : {}),
      ...(options.region !== undefined ? { region: options.region } : {}),
      ...profile,
    };
  }
  const from = options['api-url'] !== undefined ? '--api-url' : `${API_URL_ENV}`;
  const url = apiUrl(options['api-url'] ?? envUrl!, from);
  return { kind: 'url', url, region: signingRegion(url, from, options.region, env), ...profile };
}

/** The API URL given by `--api-url` (or the environment variable), checked. */
export function apiUrl(text: string, from = '--api-url'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`${from} ${text}: not a URL; give the API URL of the orchestrator, e.g. https://abc123.execute-api.us-east-1.amazonaws.com/research `
      + '(the stack output <prefix>ApiUrl of DurableOrchestrator.addOutputs())');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname))) {
    throw new CliError(`${from} ${text}: expected an https:// URL (plain http only on 127.0.0.1 or localhost)`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new CliError(`${from} ${text}: give the base URL only, without query, fragment or user info`);
  }
  return url;
}

/**
 * The region to sign for: the one in an execute-api host name; for any other host (a custom
 * domain, a local endpoint) `--region`, else `AWS_REGION` or `AWS_DEFAULT_REGION`.
 */
export function signingRegion(url: URL, from: string, region: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const inUrl = regionOfApiUrl(url);
  if (inUrl !== undefined) {
    if (region !== undefined && region !== inUrl) {
      throw new CliError(`--region ${region} does not match the region of ${from} ${url.href} (${inUrl}): leave --region out, or fix the URL`);
    }
    return inUrl;
  }
  const chosen = region ?? (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined);
  if (chosen === undefined) {
    throw new CliError(`${from} ${url.href} is not an execute-api URL (https://<api-id>.execute-api.<region>.amazonaws.com/...), so its region `
      + 'cannot be read from it: give --region <region> or set AWS_REGION');
  }
  if (!REGION_PATTERN.test(chosen)) throw new CliError(`AWS_REGION ${chosen}: expected an AWS region name such as us-east-1`);
  return chosen;
}

function localPort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new CliError(`--port ${value}: expected a port number from 1 to 65535`);
  return n;
}

/** The API a target names; for `--stack`, after looking up its output. */
export async function openApi(target: Target): Promise<WorkflowApi> {
  if (target.kind === 'local') return localApi(target.port);
  // The AWS SDK is loaded only here (esbuild keeps a required module unevaluated until then).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const aws = require('./aws') as typeof AwsModule;
  const profileArgs = target.profile !== undefined ? ` --profile ${target.profile}` : '';
  if (target.kind === 'url') {
    return new SignedApi(target.url, target.region, aws.credentialSource(target.profile), aws.signRequest, ` --api-url ${target.url.href.replace(/\/+$/, '')}${profileArgs}`);
  }
  const found = await aws.stackApiUrl({ stack: target.stack, output: target.output, region: target.region, profile: target.profile });
  const url = apiUrl(found.url, `the output ${found.outputKey} of stack ${target.stack}`);
  const args = ` --stack ${target.stack}${target.output !== undefined ? ` --output ${target.output}` : ''}`
    + `${target.region !== undefined ? ` --region ${target.region}` : ''}${profileArgs}`;
  return new SignedApi(url, regionOfApiUrl(url) ?? found.region, aws.credentialSource(target.profile), aws.signRequest, args);
}

function localApi(port: number): WorkflowApi {
  const url = `http://127.0.0.1:${port}`;
  const client = new LocalClient(url);
  return {
    url,
    remote: false,
    targetArgs: port === DEFAULT_PORT ? '' : ` --port ${port}`,
    call: (method, path, body, headers) => client.call(method, path, body, headers),
  };
}

/** Signs one request: the headers to send. */
export type Signer = (request: AwsModule.SignRequestOptions) => Promise<Record<string, string>>;

/** A deployed orchestrator's API: every request signed with SigV4 for `execute-api`. */
export class SignedApi implements WorkflowApi {
  public readonly remote = true;
  public readonly url: string;

  constructor(
    base: URL,
    public readonly region: string,
    private readonly credentials: () => Promise<AwsModule.AwsCredentials>,
    private readonly sign: Signer,
    public readonly targetArgs: string = ` --api-url ${base.href.replace(/\/+$/, '')}`,
  ) {
    this.url = base.href.replace(/\/+$/, '');
  }

  public async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ClientResponse> {
    const url = new URL(`${this.url}${path}`);
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const signed = await this.sign({
      method,
      url,
      headers: { ...(text ? { 'content-type': 'application/json' } : {}), ...lowerCase(headers) },
      body: text,
      credentials: await this.credentials(),
      region: this.region,
    });
    // fetch sets Host itself, to the value signed (the URL's host).
    const { host: _host, ...send } = signed;
    let res: Response;
    try {
      res = await fetch(url, { method, headers: send, ...(text ? { body: text } : {}) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the API at ${this.url}: ${cause?.message ?? (e as Error).message}; check --api-url (or the stack output) and your network`);
    }
    const raw = await res.text();
    let parsed: unknown = raw;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** What each command needs granted, by the orchestrator's grant method. */
export const GRANT_OF: Readonly<Record<string, string>> = {
  'start': 'grantStartWorkflow',
  'status': 'grantReadWorkflows',
  'list': 'grantReadWorkflows',
  'approve': 'grantApprove',
  'reject': 'grantApprove',
  'cancel': 'grantApprove',
  'kill-switch': 'grantKillSwitch',
};

/**
 * A hint for an answer API Gateway gives before the API handler runs (the handler's own errors
 * carry an `error` code): IAM refused the signer, or the URL names no route.
 */
export function gatewayHint(api: WorkflowApi, command: string, res: ClientResponse): string {
  if (!api.remote) return '';
  const own = typeof res.body === 'object' && res.body !== null && typeof (res.body as { error?: unknown }).error === 'string';
  if (own) return '';
  const message = typeof res.body === 'object' && res.body !== null ? String((res.body as { message?: unknown }).message ?? '') : String(res.body ?? '');
  if (res.status === 403 && /signature|credential|security token|expired/i.test(message)) {
    const region = api instanceof SignedApi ? ` (signed for region ${api.region})` : '';
    return `\n  the API refused the signature${region}: check the region (--region), that your credentials are current `
      + '(aws sts get-caller-identity; aws sso login when they come from SSO), and the clock of this machine';
  }
  if (res.status === 401 || res.status === 403) {
    return '\n  the identity of your AWS credentials (aws sts get-caller-identity shows it) needs execute-api:Invoke on the route: '
      + `in the app, orchestrator.${GRANT_OF[command] ?? 'grantReadWorkflows'}(<its role or user>) grants it `
      + '(grantStartWorkflow: start; grantReadWorkflows: status, list; grantApprove: approve, reject, cancel)';
  }
  if (res.status === 404) {
    return `\n  no route at ${api.url}: check the URL against the stack output <prefix>ApiUrl (it ends in the API's base path, if any)`;
  }
  return '';
}
