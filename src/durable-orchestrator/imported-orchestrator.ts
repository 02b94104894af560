import { Stack, Token } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DurableOrchestratorAttributes, DurableOrchestratorBase } from './durable-orchestrator-base';
import { normalizeBasePath } from '../contract/table';
import { checkHttpApiId, checkHttpsUrl } from '../secure-api/routes';
import { checkName } from '../workflow/checks';

const ALIAS_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{1,128}$/;

/**
 * An orchestrator of another stack or app, known by its attributes: it creates nothing but the
 * `IHttpApi` reference its grants are written against. Not exported: the public face is
 * `DurableOrchestrator.fromDurableOrchestratorAttributes`.
 */
export class ImportedDurableOrchestrator extends DurableOrchestratorBase {
  public readonly httpApi: apigwv2.IHttpApi;
  public readonly apiUrl: string;
  public readonly apiBasePath: string;
  public readonly workflowName: string;
  private readonly attrs: DurableOrchestratorAttributes;
  private readonly what: string;

  constructor(scope: Construct, id: string, attrs: DurableOrchestratorAttributes) {
    super(scope, id);
    this.what = `DurableOrchestrator.fromDurableOrchestratorAttributes('${id}')`;
    validateAttributes(this.what, attrs);
    this.attrs = attrs;
    this.workflowName = attrs.workflowName;
    this.apiBasePath = basePathOf(this.what, attrs.apiBasePath);
    const stack = Stack.of(this);
    const endpoint = `https://${attrs.httpApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.httpApi = apigwv2.HttpApi.fromHttpApiAttributes(this, 'HttpApi', { httpApiId: attrs.httpApiId, apiEndpoint: endpoint });
    this.apiUrl = attrs.apiUrl === undefined ? `${endpoint}${this.apiBasePath}` : apiUrlOf(this.what, attrs.apiUrl, this.apiBasePath);
  }

  public get controllerAliasArn(): string {
    return this.known('controllerAliasArn', this.attrs.controllerAliasArn, 'orchestrator.controllerAlias.functionArn');
  }

  public get artifactBucket(): s3.IBucket {
    return this.known('artifactBucket', this.attrs.artifactBucket, 's3.Bucket.fromBucketAttributes(...) (with its encryptionKey if it has one)');
  }

  public get eventBus(): events.IEventBus {
    return this.known('eventBus', this.attrs.eventBus, 'events.EventBus.fromEventBusArn(...)');
  }

  private known<T>(name: string, value: T | undefined, how: string): T {
    if (value === undefined) {
      throw new Error(`${this.what}: ${name} is not known to this import; pass ${name} in the attributes (${how}) to use it`);
    }
    return value;
  }
}

function validateAttributes(what: string, attrs: DurableOrchestratorAttributes): void {
  checkHttpApiId(what, attrs.httpApiId, 'pass the orchestrator\'s httpApi.apiId');
  checkName(what, 'workflowName', attrs.workflowName);
  const arn = attrs.controllerAliasArn;
  if (arn !== undefined && !Token.isUnresolved(arn) && !ALIAS_ARN.test(arn)) {
    throw new Error(`${what}: controllerAliasArn must be the ARN of the controller's alias, ` +
      `'arn:<partition>:lambda:<region>:<account>:function:<name>:<alias>', got '${arn}'; pass the orchestrator's controllerAlias.functionArn`);
  }
}

/** The base path as the orchestrator normalized it ('' or `/a/b`); a token is taken as it is. */
function basePathOf(what: string, basePath: string | undefined): string {
  if (basePath === undefined) return '';
  if (Token.isUnresolved(basePath)) return basePath;
  const normalized = normalizeBasePath(basePath);
  if (normalized === undefined) {
    throw new Error(`${what}: apiBasePath must be '' or plain path segments starting with '/', such as '/research', got '${basePath}'; ` +
      'pass the orchestrator\'s apiBasePath');
  }
  return normalized;
}

/** The URL without a trailing slash, checked to end in the base path. */
function apiUrlOf(what: string, url: string, basePath: string): string {
  if (Token.isUnresolved(url)) return url;
  checkHttpsUrl(what, 'apiUrl', url, 'https://api.example.com/research',
    'pass the orchestrator\'s apiUrl, or leave it unset for the execute-api endpoint');
  const trimmed = url.replace(/\/+$/, '');
  if (!Token.isUnresolved(basePath) && basePath !== '' && !trimmed.endsWith(basePath)) {
    throw new Error(`${what}: apiUrl '${url}' does not end in apiBasePath '${basePath}'; pass the orchestrator's apiUrl ` +
      `(the API's URL followed by the base path, e.g. '${trimmed}${basePath}')`);
  }
  return trimmed;
}
