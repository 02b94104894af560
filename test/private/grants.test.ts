import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { flattenReference, grantScoped } from '../../src/private/grants';

describe('grantScoped', () => {
  test('a wildcard without a reason is a programming error that names the wildcard', () => {
    const stack = new Stack();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    const bucket = new s3.Bucket(stack, 'B');
    expect(() => grantScoped(role, { actions: ['s3:GetObject'], resources: [bucket.arnForObjects('x/*')] }))
      .toThrow(/Resource::<B[0-9A-F]+\.Arn>\/x\/\* hold a wildcard; say why in wildcardReason/);
  });

  test('acknowledges each wildcard on the grantee with cdk-nag\'s finding id, and nothing for exact resources', () => {
    const stack = new Stack();
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    const bucket = new s3.Bucket(stack, 'B');
    grantScoped(role, { actions: ['s3:PutObject'], resources: [bucket.bucketArn] });
    expect(role.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')).toEqual([]);
    grantScoped(role, { actions: ['s3:GetObject'], resources: [bucket.arnForObjects('x/*')], wildcardReason: 'objects under x/ only' });
    const acks = role.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').pop()!.data;
    expect(Object.entries(acks)).toEqual([[expect.stringMatching(/AwsSolutions-IAM5\[Resource::<B[0-9A-F]+\.Arn>\/x\/\*\]$/), 'objects under x/ only']]);
  });
});

describe('flattenReference', () => {
  test.each([
    ['a plain string', 'arn:aws:s3:::b/*', 'arn:aws:s3:::b/*'],
    ['a Ref', { Ref: 'Cluster' }, '<Cluster>'],
    ['a GetAtt', { 'Fn::GetAtt': ['Fn', 'Arn'] }, '<Fn.Arn>'],
    ['a Join with pseudo parameters', { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':task/*']] }, 'arn:<AWS::Partition>:ecs:<AWS::Region>:task/*'],
    ['a Sub', { 'Fn::Sub': 'arn:${AWS::Partition}:x' }, 'arn:<AWS::Partition>:x'],
  ])('%s', (_name, value, expected) => {
    expect(flattenReference(value)).toBe(expected);
  });
});
