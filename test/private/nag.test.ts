import * as cdk from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
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
    expect(cfn.getMetadata('cdk_nag')).toEqual({ rules_to_suppress: FINDINGS });
  });

  test('on an aws-cdk-lib without Validations (the peer minimum 2.232), only the cdk_nag metadata is written, and nothing throws', () => {
    const { queue } = queueStack();
    const withoutValidations = { ...cdk, Validations: undefined };
    acknowledgeFindings(queue, FINDINGS, withoutValidations);
    expect(queue.node.metadata.filter((m) => m.type === cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY)).toEqual([]);
    expect((queue.node.defaultChild as cdk.CfnResource).getMetadata('cdk_nag')).toEqual({ rules_to_suppress: FINDINGS });
  });

  test('a reason too short to mean anything is refused', () => {
    const { queue } = queueStack();
    expect(() => acknowledgeFindings(queue, [{ id: 'AwsSolutions-SQS3', reason: 'ok' }])).toThrow(/needs a real reason, got 'ok'/);
  });
});
