import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describeWithMoto, motoPython } from './moto';
import { findOnPath } from './tools';

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

describe('the Python that runs moto_server', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-moto-python-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text, { mode: 0o755 });
    return path.join(dir, name);
  };

  test('is the interpreter of its #! line when that is an absolute path to a python (pip, pipx)', () => {
    const python = script('python3.11', '');
    expect(motoPython(script('moto_server', `#!${python}\n# -*- coding: utf-8 -*-\nimport re\n`))).toBe(python);
  });

  test('is python3 on PATH for a wrapper (a pyenv shim, #!/usr/bin/env) or a #! python that is gone', () => {
    const onPath = findOnPath('python3') ?? 'python3';
    expect(motoPython(script('shim', '#!/usr/bin/env bash\nexec pyenv exec moto_server "$@"\n'))).toBe(onPath);
    expect(motoPython(script('env', '#!/usr/bin/env python3\n'))).toBe(onPath);
    expect(motoPython(script('gone', `#!${path.join(dir, 'no', 'python3')}\n`))).toBe(onPath);
  });
});
