import { Duration, Token } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { checkBuiltByFactory } from '../private/closed-class';

/** Options of `ApprovalLinks.enabled()`. */
export interface ApprovalLinksOptions {
  /**
   * How long an approval link stays valid (1 minute to 30 days). A link never outlives its
   * approval's own timeout.
   * @default Duration.days(1)
   */
  readonly expiry?: Duration;

  /**
   * Base URL the links point to, e.g. the orchestrator's API on a custom domain
   * (`https://approvals.example.com`): a link is `<baseUrl>/approvals/<token>`.
   * @default - the orchestrator's `apiUrl`
   */
  readonly baseUrl?: string;
}

/**
 * Whether an approval step issues signed approve and reject links (`DurableOrchestrator` prop
 * `approvalLinks`). A link needs no AWS credentials: the orchestrator's API gets two routes without
 * authorization (`GET` and `POST /approvals/{token}`) that verify the token instead. Off unless
 * asked for.
 */
export class ApprovalLinks {
  /**
   * Approval links on: a generated HMAC key in Secrets Manager (encrypted with the orchestrator's
   * `encryptionKey` when given), readable by the controller (which signs) and the API function
   * (which verifies) only.
   */
  public static enabled(options: ApprovalLinksOptions = {}): ApprovalLinks {
    const expiry = options.expiry ?? Duration.days(1);
    if (!Token.isUnresolved(expiry.toSeconds())) {
      const seconds = expiry.toSeconds();
      if (seconds < 60 || seconds > 30 * 24 * 3600) {
        throw new Error(`ApprovalLinks.enabled(): expiry ${expiry.toHumanString()} is outside 1 minute to 30 days; ` +
          'give an expiry such as Duration.hours(24)');
      }
    }
    const baseUrl = options.baseUrl;
    if (baseUrl !== undefined && !Token.isUnresolved(baseUrl) && !/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(baseUrl)) {
      throw new Error(`ApprovalLinks.enabled(): baseUrl '${baseUrl}' is not an https:// URL without query or fragment; ` +
        'give the URL the API is reached at, such as https://approvals.example.com');
    }
    return new ApprovalLinks(true, expiry, baseUrl?.replace(/\/+$/, ''));
  }

  /** No approval links (the default): approvals are decided through the IAM-authorized API only. */
  public static disabled(): ApprovalLinks {
    return new ApprovalLinks(false, undefined, undefined);
  }

  private constructor(
    /** @internal */ public readonly _enabled: boolean,
    /** @internal */ public readonly _expiry: Duration | undefined,
    /** @internal */ public readonly _baseUrl: string | undefined,
  ) {
    checkBuiltByFactory('ApprovalLinks', _enabled, 'ApprovalLinks.enabled() or ApprovalLinks.disabled()');
  }
}

/**
 * Where the orchestrator announces a waiting approval (`DurableOrchestrator` prop
 * `approvalNotification`): an SNS message with the workflow id, the prompt, a summary of what is
 * approved (the newest artifact's key and first lines) and, with `approvalLinks`, the approve and
 * reject links. It is an EventBridge rule on the `approval_requested` event (published inside the
 * controller's durable step) with the topic as its target; for any other target use
 * `onApprovalRequested()`.
 */
export class ApprovalNotification {
  /**
   * Publish to a topic of yours. An encrypted topic's key must let EventBridge use it
   * (`kms:Decrypt`, `kms:GenerateDataKey*` for `events.amazonaws.com`): a key of this stack gets
   * that grant here.
   */
  public static toTopic(topic: sns.ITopic): ApprovalNotification {
    return new ApprovalNotification(topic, undefined);
  }

  /**
   * Publish to a new topic (KMS-encrypted, TLS-only publishers) with an email subscription to
   * `address`. The address confirms the subscription once (SNS sends the confirmation mail).
   */
  public static toEmail(address: string): ApprovalNotification {
    if (!Token.isUnresolved(address) && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
      throw new Error(`ApprovalNotification.toEmail(): '${address}' is not an email address; give one such as approvers@example.com`);
    }
    return new ApprovalNotification(undefined, address);
  }

  private constructor(
    /** @internal */ public readonly _topic: sns.ITopic | undefined,
    /** @internal */ public readonly _email: string | undefined,
  ) {
    checkBuiltByFactory('ApprovalNotification', _topic ?? _email, 'ApprovalNotification.toTopic() or ApprovalNotification.toEmail()');
  }
}
