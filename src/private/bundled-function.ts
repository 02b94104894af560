import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { logsKey } from './log-encryption';
import { acknowledgeFindings, NagFinding } from './nag';

/** Folder that holds the handlers bundled at library build time (`npx projen bundle`). */
const ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');

/**
 * Returns the directory of a handler bundled at library build time.
 *
 * @param bundle the handler's path under `src/` without the extension, e.g. `private/handlers/health.lambda`
 */
export function bundledHandlerDir(bundle: string): string {
  const dir = path.join(ASSETS_DIR, bundle);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(
      `The bundled Lambda handler '${bundle}' is missing (looked in ${dir}). ` +
      'It is produced when the library is built: run `npx projen bundle` in a source checkout, ' +
      'or reinstall cdk-durable-agents if this is an installed copy.',
    );
  }
  return dir;
}

/** Properties of a `BundledFunction`. */
export interface BundledFunctionProps {
  /** The handler's path under `src/` without the extension, e.g. `private/handlers/health.lambda`. */
  readonly bundle: string;
  /** What the function is for (shown in the console). */
  readonly description: string;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default - none */
  readonly environment?: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * A customer managed key for the function's log group (its key policy is given the statement
   * that lets CloudWatch Logs use it, see `logsKey`).
   * @default - the log group is encrypted by CloudWatch Logs' own keys
   */
  readonly logEncryptionKey?: kms.IKey;
  /** @default lambda.Tracing.ACTIVE */
  readonly tracing?: lambda.Tracing;
  /** Extra properties for the function (e.g. `durableConfig`). @default - none */
  readonly functionProps?: Partial<lambda.FunctionProps>;
}

/**
 * A Lambda function running one of the library's pre-bundled handlers, with the library's
 * defaults: Node.js 22 on ARM64, its own log group with a retention, JSON logs, and a role
 * that starts empty (no managed policies) and is granted exactly what the construct needs.
 */
export class BundledFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: logsKey(props.logEncryptionKey),
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}`,
    });
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(bundledHandlerDir(props.bundle)),
      description: props.description,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      // No --enable-source-maps: it reads and parses the source map with the bundle at every cold
      // start (about 6-8 ms measured, a third of the module load). The bundles keep their function
      // names, and the map ships beside each one: turn it on with addEnvironment('NODE_OPTIONS', ...).
      environment: { ...props.environment },
      tracing: props.tracing ?? lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: this.logGroup,
      role: this.role,
      ...props.functionProps,
    });
    // Only this function's own log group (its ARN attribute ends in `:*`, which covers its
    // streams); no AWSLambdaBasicExecutionRole, which allows every log group in the account.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));

    const findings: NagFinding[] = [{
      id: 'AwsSolutions-L1',
      reason: 'The library pins nodejs22.x on purpose: its handlers are bundled for node22 and the durable ' +
        'execution SDK is tested on it. The runtime moves with the library, not per deployment.',
    }, {
      id: 'Serverless-LambdaLatestVersion',
      reason: 'The library pins nodejs22.x on purpose: its handlers are bundled for node22 and the durable ' +
        'execution SDK is tested on it. The runtime moves with the library, not per deployment.',
    }];
    if ((props.tracing ?? lambda.Tracing.ACTIVE) === lambda.Tracing.ACTIVE) {
      findings.push({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support ' +
          'no resource-level permissions; nothing else in this role uses a wildcard.',
      });
    }
    acknowledgeFindings(this, findings);
  }
}
