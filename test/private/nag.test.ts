import * as cdk from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeFindings } from '../../src/private/nag';

const FINDINGS = [
  { id: 'AwsSolutions-SQS3', reason: 'The queue is its own dead-letter queue in this test fixture.' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::b/*]', reason: 'A wildcard id with two :: separators.' },
];

function queueStack() {
  const stack = new cdk.Stack(new cdk.App(), 'Test');
  const queue = new sqs.Queue(stack, 'Queue');
  return { stack, queue };
}

describe('acknowledgeFindings', () => {
  test('records each finding as a validation acknowledgement and as cdk_nag metadata on the resources', () => {
    const { queue } = queueStack();
    acknowledgeFindings(queue, FINDINGS);
    const types = queue.node.metadata.map((m) => m.type);
    expect(types.filter((t) => t === cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY).length).toBeGreaterThan(0);
    const cfn = queue.node.defaultChild as cdk.CfnResource;
    // The IAM5 finding cannot be raised on a queue: it is written on IAM resources only.
    expect(cfn.getMetadata('cdk_nag')).toEqual({ rules_to_suppress: [FINDINGS[0]] });
  });

  test('a finding is written on the resources its rule can flag, a rule it does not know on all of them', () => {
    const { stack, queue } = queueStack();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    queue.grantSendMessages(role);
    acknowledgeFindings(stack, [...FINDINGS, { id: 'Example-Unknown1', reason: 'A rule this library has no resource types for.' }]);
    const rules = (c: Construct) => ((c.node.defaultChild as cdk.CfnResource).getMetadata('cdk_nag') as { rules_to_suppress: Array<{ id: string }> })
      .rules_to_suppress.map((r) => r.id);
    expect(rules(queue)).toEqual(['AwsSolutions-SQS3', 'Example-Unknown1']);
    expect(rules(role)).toEqual(['AwsSolutions-SQS3', FINDINGS[1].id, 'Example-Unknown1']);
    const policy = role.node.findChild('DefaultPolicy').node.defaultChild as cdk.CfnResource;
    expect((policy.getMetadata('cdk_nag') as { rules_to_suppress: Array<{ id: string }> }).rules_to_suppress.map((r) => r.id))
      .toEqual(['AwsSolutions-SQS3', FINDINGS[1].id, 'Example-Unknown1']);
  });

  test('on an aws-cdk-lib without Validations (the peer minimum 2.232), only the cdk_nag metadata is written, and nothing throws', () => {
    const { queue } = queueStack();
    const withoutValidations = { ...cdk, Validations: undefined };
    acknowledgeFindings(queue, FINDINGS, withoutValidations);
    expect(queue.node.metadata.filter((m) => m.type === cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY)).toEqual([]);
    expect((queue.node.defaultChild as cdk.CfnResource).getMetadata('cdk_nag')).toEqual({ rules_to_suppress: [FINDINGS[0]] });
  });

  test('a reason too short to mean anything is refused', () => {
    const { queue } = queueStack();
    expect(() => acknowledgeFindings(queue, [{ id: 'AwsSolutions-SQS3', reason: 'ok' }])).toThrow(/needs a real reason, got 'ok'/);
  });
});
