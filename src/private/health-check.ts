import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BundledFunction } from './bundled-function';
import { acknowledgeFindings } from './nag';

/** Properties of a `HealthCheck`. */
export interface HealthCheckProps {
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default - the log group is encrypted by CloudWatch Logs' own key */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * The function behind every unauthenticated `/health` route of the library: it answers
 * `{"status":"ok"}` and touches nothing else, so its role holds only its own log stream.
 */
export class HealthCheck extends BundledFunction {
  constructor(scope: Construct, id: string, props: HealthCheckProps = {}) {
    super(scope, id, {
      bundle: 'private/handlers/health.lambda',
      description: 'Answers {"status":"ok"} for health checks; reads and writes nothing',
      memorySize: 128,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
    });
    acknowledgeFindings(this, [
      {
        id: 'Serverless-LambdaDefaultMemorySize',
        reason: 'The health check returns a constant; 128 MB is all it uses.',
      },
      {
        id: 'Serverless-LambdaDLQ',
        reason: 'The health check is invoked synchronously by API Gateway and has no event to retry or keep.',
      },
    ]);
  }
}
