import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describeWithMoto } from './moto';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

describeWithMoto('moto_server helper', (moto) => {
  test('listens on loopback under the name localhost', () => {
    expect(moto().endpoint).toMatch(/^http:\/\/localhost:\d+$/);
    expect(moto().env.AWS_ENDPOINT_URL).toBe(moto().endpoint);
  });

  test('a CloudFormation template deploys to it and its resources are usable', async () => {
    const cfg = { endpoint: moto().endpoint, region: 'us-east-1', credentials, forcePathStyle: true };
    const cfn = new CloudFormationClient(cfg);
    await cfn.send(new CreateStackCommand({
      StackName: 'helper-smoke',
      TemplateBody: JSON.stringify({
        Resources: {
          Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'helper-smoke-bucket' } },
          Table: {
            Type: 'AWS::DynamoDB::Table',
            Properties: {
              TableName: 'helper-smoke-table',
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
              KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            },
          },
        },
      }),
    }));
    const stacks = await cfn.send(new DescribeStacksCommand({ StackName: 'helper-smoke' }));
    expect(stacks.Stacks?.[0].StackStatus).toBe('CREATE_COMPLETE');

    const s3 = new S3Client(cfg);
    await s3.send(new PutObjectCommand({ Bucket: 'helper-smoke-bucket', Key: 'a.txt', Body: 'hello' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'helper-smoke-bucket', Key: 'a.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello');

    const ddb = new DynamoDBClient(cfg);
    const table = await ddb.send(new DescribeTableCommand({ TableName: 'helper-smoke-table' }));
    expect(table.Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
  });
});
