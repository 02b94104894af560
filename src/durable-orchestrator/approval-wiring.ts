import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { LINK_ROUTES } from './api-routes';
import { ApprovalLinks, ApprovalNotification } from './approval-links';
import { ENV } from '../contract/table';
import { acknowledgeFindings } from '../private/nag';
import { ApiAuthorization, SecureApi } from '../secure-api';

// How the DurableOrchestrator wires approval links and the notification of a waiting approval.
// Not part of the public API.

/** Steady requests per second the approval link routes accept (people clicking links), and their burst. */
export const LINK_ROUTE_RATE_LIMIT = 5;
export const LINK_ROUTE_BURST_LIMIT = 10;

export interface ApprovalLinkWiring {
  readonly scope: Construct;
  readonly links: ApprovalLinks;
  readonly encryptionKey?: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
  readonly controllerFunction: lambda.Function;
  readonly apiFunction: lambda.Function;
  /** The orchestrator's base URL (`apiUrl`). */
  readonly apiUrl: string;
  readonly apiBasePath: string;
  /** The HTTP API of its own (with its `$default` stage), or the shared `SecureApi`. */
  readonly ownApi?: { readonly httpApi: apigwv2.HttpApi; readonly stage: apigwv2.HttpStage };
  readonly sharedApi?: SecureApi;
}

/**
 * Approval links: the key in Secrets Manager, read by the two functions only, the settings in
 * their environment, and the two routes without AWS authorization (throttled on an API of its
 * own). Returns the secret.
 */
export function wireApprovalLinks(w: ApprovalLinkWiring): secretsmanager.Secret {
  const path = w.scope.node.path;
  const secret = new secretsmanager.Secret(w.scope, 'ApprovalLinkKey', {
    description: `HMAC-SHA256 key that signs and verifies the approval links of ${path}`,
    encryptionKey: w.encryptionKey,
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    removalPolicy: w.removalPolicy,
  });
  acknowledgeFindings(secret, [{
    id: 'AwsSolutions-SMG4',
    reason: 'The approval link key signs links that live at most 30 days; rotating it would only invalidate the links in flight. ' +
      'Replace the secret value to revoke every outstanding link at once.',
  }]);
  secret.grantRead(w.controllerFunction);
  secret.grantRead(w.apiFunction);
  for (const fn of [w.controllerFunction, w.apiFunction]) fn.addEnvironment(ENV.approvalLinkSecretArn, secret.secretArn);
  w.controllerFunction.addEnvironment(ENV.approvalLinkBaseUrl, w.links._baseUrl ?? w.apiUrl);
  w.controllerFunction.addEnvironment(ENV.approvalLinkExpirySeconds, String((w.links._expiry ?? Duration.days(1)).toSeconds()));

  const reason = 'An approval link is opened by a person without AWS credentials (from a mail or a chat): the route verifies the ' +
    'HMAC-SHA256 signature, expiry and single use of the token in the path instead, and a GET never decides. Enabled by name with ' +
    'DurableOrchestrator approvalLinks; every other route of the orchestrator requires IAM authorization.';
  if (w.ownApi) {
    const integration = new HttpLambdaIntegration('ApprovalLinkIntegration', w.apiFunction);
    const routeKeys: string[] = [];
    for (const route of LINK_ROUTES) {
      const authorizer = new apigwv2.HttpNoneAuthorizer();
      const added = w.ownApi.httpApi.addRoutes({ path: route.path, methods: [route.method], integration, authorizer });
      for (const r of added) acknowledgeFindings(r, [{ id: 'AwsSolutions-APIG4', reason }]);
      routeKeys.push(`${route.method} ${route.path}`);
    }
    // Route-level throttling: people click links; a flood of forged tokens must not use the stage's budget.
    const stage = w.ownApi.stage.node.defaultChild as apigwv2.CfnStage;
    const settings: Record<string, unknown> = {};
    for (const key of routeKeys) settings[key] = { ThrottlingRateLimit: LINK_ROUTE_RATE_LIMIT, ThrottlingBurstLimit: LINK_ROUTE_BURST_LIMIT };
    stage.addPropertyOverride('RouteSettings', settings);
  } else if (w.sharedApi) {
    for (const route of LINK_ROUTES) {
      const fullPath = `${w.apiBasePath}${route.path}`;
      const routes = w.sharedApi.addLambdaRoute(`${Names.uniqueId(w.scope)}${fullPath.replace(/[^A-Za-z0-9]/g, '')}`, {
        path: fullPath,
        methods: [route.method],
        handler: w.apiFunction,
        authorization: ApiAuthorization.none(),
      });
      for (const r of routes) acknowledgeFindings(r, [{ id: 'AwsSolutions-APIG4', reason }]);
    }
  }
  return secret;
}

export interface ApprovalNotificationWiring {
  readonly scope: Construct;
  readonly notification: ApprovalNotification;
  /** Whether the events carry approval links (the message shows them then). */
  readonly links: boolean;
  readonly encryptionKey?: kms.IKey;
  /** The rule on approval requests (`onApprovalRequested`). */
  readonly onApprovalRequested: (id: string, options: events.OnEventOptions) => events.Rule;
}

/**
 * The notification of a waiting approval: a rule on `approval_requested` whose target is the
 * topic (with an email subscription for `toEmail`). Returns the topic.
 */
export function wireApprovalNotification(w: ApprovalNotificationWiring): sns.ITopic {
  let topic = w.notification._topic;
  if (!topic) {
    // EventBridge publishes to an encrypted topic only with a customer managed key it may use.
    const key = w.encryptionKey ?? new kms.Key(w.scope, 'ApprovalTopicKey', {
      description: `Encrypts the approval notifications of ${w.scope.node.path}`,
      enableKeyRotation: true,
    });
    const created = new sns.Topic(w.scope, 'ApprovalTopic', {
      displayName: 'Approval requested',
      masterKey: key,
      enforceSSL: true,
    });
    const subscription = created.addSubscription(new subscriptions.EmailSubscription(w.notification._email!));
    acknowledgeFindings(subscription, [{
      id: 'Serverless-SNSRedrivePolicy',
      reason: 'An email notification SNS cannot deliver is retried by SNS and then dropped; the approval still waits and its ' +
        'approval_requested event stays in the orchestrator\'s event archive, so a redrive queue would hold mails nobody reads.',
    }]);
    topic = created;
  }
  if (topic.masterKey) {
    topic.masterKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EventBridgePublishesApprovalNotifications',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }), true);
  }
  const field = (p: string) => events.EventField.fromPath(`$.detail.${p}`);
  const rule = w.onApprovalRequested('ApprovalNotification', {
    description: `Announces the waiting approvals of ${w.scope.node.path} on ${topic.node.path}`,
    target: new targets.SnsTopic(topic, {
      message: events.RuleTargetInput.fromText([
        `Workflow ${events.EventField.fromPath('$.detail.workflow_id')} waits for approval of step ${field('step_name')} until ${field('deadline')}.`,
        '',
        `${field('prompt')}`,
        '',
        `What is approved: ${field('summary.artifact_key')}`,
        `${field('summary.excerpt')}`,
        ...(w.links ? [
          '',
          `Approve: ${field('links.approve')}`,
          `Reject: ${field('links.reject')}`,
          `(Each link opens a confirmation page, works once, and expires at ${field('links.expires_at')}.)`,
        ] : [
          '',
          'Decide with POST /workflows/{id}/approval (IAM authorization), or turn on approval links (approvalLinks).',
        ]),
      ].join('\n')),
    }),
  });
  acknowledgeFindings(rule, [{
    id: 'Serverless-EventBusDLQ',
    reason: 'EventBridge retries a notification it cannot publish for 24 hours; one still lost leaves the approval waiting and its ' +
      'approval_requested event in the orchestrator\'s event archive (replayable), so a DLQ would add a queue to watch and no record.',
  }]);
  return topic;
}
