import { createHash } from 'crypto';
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateTableCommand,
  DynamoDBClient,
  TransactionCanceledException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  CreateClusterCommand,
} from '@aws-sdk/client-ecs';
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AgentTarget } from '../../../src/contract/agents';
import { EVENT_SOURCE, TaskEnvelope } from '../../../src/contract/status';
import { keys, TABLE } from '../../../src/contract/table';
import {
  AwsAgentDispatcher,
  DynamoWorkflowStore,
  EventBridgePublisher,
  parseTarget,
  S3ArtifactStore,
  SsmAgentTargets,
  startedByOf,
} from '../../../src/runtime/adapters/aws';
import type { WorkflowEvent, WorkflowRecord } from '../../../src/runtime/ports';
import { describeWithMoto } from '../../helpers/moto';
import { workflowTableInput as tableInput } from '../../helpers/workflow-table';
import { agentDispatcherContract, envelopeFor } from '../contract/agent-dispatcher.contract';
import { artifactStoreContract } from '../contract/artifact-store.contract';
import { eventPublisherContract, ObservedEvent } from '../contract/event-publisher.contract';
import { workflowStoreContract } from '../contract/workflow-store.contract';

const region = 'us-east-1';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const RETENTION_DAYS = 30;

const workflow = (id: string, overrides: Partial<WorkflowRecord> = {}): WorkflowRecord => ({
  workflowId: id,
  definitionName: 'research-report',
  status: 'RUNNING',
  awaiting: null,
  input: { topic: 't' },
  createdAt: '2024-05-01T00:00:00.000Z',
  updatedAt: '2024-05-01T00:00:00.000Z',
  steps: [],
  ...overrides,
});

describeWithMoto('AWS adapters against moto_server', (moto) => {
  const config = () => ({ endpoint: moto().endpoint, region, credentials, forcePathStyle: true });
  let clients: { ddb: DynamoDBClient; doc: DynamoDBDocumentClient; s3: S3Client; events: EventBridgeClient; ecs: ECSClient } | undefined;
  const aws = () => {
    if (!clients) {
      const ddb = new DynamoDBClient(config());
      clients = {
        ddb,
        doc: DynamoDBDocumentClient.from(ddb),
        s3: new S3Client(config()),
        events: new EventBridgeClient(config()),
        ecs: new ECSClient(config()),
      };
    }
    return clients;
  };
  /**
   * A call to a moto service whose SDK client is not installed (CloudWatch Logs, EC2). moto
   * picks the service from the credential scope of the Authorization header and does not
   * check the signature. Returns the body; throws on an HTTP error.
   */
  const rawAws = async (service: string, contentType: string, headers: Record<string, string>, body: string) => {
    const res = await fetch(moto().endpoint, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'authorization': `AWS4-HMAC-SHA256 Credential=testing/20240101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
        ...headers,
      },
      body,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${service}: ${res.status} ${text}`);
    return text;
  };
  let tables = 0;
  const newTable = async (projection: 'ALL' | 'KEYS_ONLY' = 'ALL') => {
    const tableName = `workflows-${++tables}`;
    await aws().ddb.send(new CreateTableCommand(tableInput(tableName, projection)));
    await aws().ddb.send(new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
    }));
    return tableName;
  };

  describe('DynamoWorkflowStore passes the WorkflowStore contract', () => {
    workflowStoreContract(async () => new DynamoWorkflowStore({ client: aws().doc, tableName: await newTable(), retentionDays: RETENTION_DAYS }));
  });

  describe('DynamoWorkflowStore item layout', () => {
    let tableName: string;
    let store: DynamoWorkflowStore;
    const raw = async (key: Record<string, string>) => (await aws().doc.send(new GetCommand({ TableName: tableName, Key: key }))).Item;
    const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

    beforeEach(async () => {
      tableName = await newTable();
      store = new DynamoWorkflowStore({ client: aws().doc, tableName, retentionDays: RETENTION_DAYS });
    });

    test('a workflow item: keys, index attributes, steps map with order, expiresAt; and its idempotency item', async () => {
      await store.createWorkflow(workflow('wf-1', { idempotencyKey: 'client-key-1', steps: [{ name: 'plan', type: 'agent', status: 'SUCCEEDED' }] }));
      await store.putStep('wf-1', { name: 'research', type: 'agent', status: 'RUNNING' });
      const item = await raw(keys.workflow('wf-1'));
      expect(item).toMatchObject({
        pk: 'WF#wf-1',
        sk: 'WF',
        entity: TABLE.workflowEntity,
        status: 'RUNNING',
        steps: { plan: { name: 'plan', type: 'agent', status: 'SUCCEEDED' }, research: { name: 'research', type: 'agent', status: 'RUNNING' } },
        stepOrder: ['plan', 'research'],
      });
      expect(item!.expiresAt).toBe(epoch(item!.updatedAt) + RETENTION_DAYS * 86400);
      const hash = createHash('sha256').update('client-key-1').digest('hex');
      // created with an old updatedAt: kept for the retention from now, not from then
      expect(await raw(keys.idempotency(hash))).toEqual({ pk: `IDEM#${hash}`, sk: 'IDEM', workflowId: 'wf-1', expiresAt: expect.any(Number) });
      const idemExpiry = (await raw(keys.idempotency(hash)))!.expiresAt;
      expect(Math.abs(idemExpiry - (Math.floor(Date.now() / 1000) + RETENTION_DAYS * 86400))).toBeLessThan(60);
    });

    test('an update moves expiresAt with updatedAt', async () => {
      await store.createWorkflow(workflow('wf-1'));
      await store.updateWorkflow('wf-1', { status: 'SUCCEEDED' });
      const item = await raw(keys.workflow('wf-1'));
      expect(item!.updatedAt > '2024-05-01T00:00:00.000Z').toBe(true);
      expect(item!.expiresAt).toBe(epoch(item!.updatedAt) + RETENTION_DAYS * 86400);
    });

    test('both callback items hold the record, stay out of the indexes (no status, entity, updatedAt), and complete together', async () => {
      await store.createWorkflow(workflow('wf-1'));
      const cb = {
        callbackId: 'cb-1',
        durableCallbackId: 'd-1',
        workflowId: 'wf-1',
        stepName: 'research',
        kind: 'agent' as const,
        tokenHash: 'ff'.repeat(32),
        state: 'PENDING' as const,
        createdAt: '2024-05-01T00:00:00.000Z',
        deadline: '2024-05-03T00:00:00.000Z',
      };
      await store.putCallback(cb);
      const byId = await raw(keys.callback('cb-1'));
      const byWorkflow = await raw(keys.callbackByWorkflow('wf-1', 'cb-1'));
      expect(byId).toEqual({ ...cb, ...keys.callback('cb-1'), expiresAt: expect.any(Number) });
      expect(byWorkflow).toEqual({ ...cb, ...keys.callbackByWorkflow('wf-1', 'cb-1'), expiresAt: byId!.expiresAt });
      expect(byId!.expiresAt).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + RETENTION_DAYS * 86400 - 5);
      for (const attribute of [TABLE.statusIndex.partitionKey, TABLE.updatedIndex.partitionKey, TABLE.statusIndex.sortKey]) {
        expect(byId).not.toHaveProperty(attribute);
      }
      expect(await store.completeCallback('cb-1', 'SUCCEEDED')).toBe(true);
      expect(await raw(keys.callback('cb-1'))).toMatchObject({ state: 'COMPLETED', outcome: 'SUCCEEDED' });
      expect(await raw(keys.callbackByWorkflow('wf-1', 'cb-1'))).toMatchObject({ state: 'COMPLETED', outcome: 'SUCCEEDED' });
    });

    test('nextToken is the base64url of the index key of the last item', async () => {
      await store.createWorkflow(workflow('wf-1', { updatedAt: '2024-05-01T00:00:01.000Z' }));
      await store.createWorkflow(workflow('wf-2', { updatedAt: '2024-05-01T00:00:02.000Z' }));
      const page = await store.listWorkflows({ limit: 1 });
      expect(page.items.map((w) => w.workflowId)).toEqual(['wf-2']);
      expect(JSON.parse(Buffer.from(page.nextToken!, 'base64url').toString())).toEqual({ pk: 'WF#wf-2', sk: 'WF', entity: 'WORKFLOW', updatedAt: '2024-05-01T00:00:02.000Z' });
    });

    test('an idempotency item past its expiry (not yet removed by TTL) no longer blocks its key', async () => {
      const hash = createHash('sha256').update('old-key').digest('hex');
      await aws().doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.idempotency(hash), workflowId: 'wf-gone', expiresAt: 1_000 } }));
      const out = await store.createWorkflow(workflow('wf-new', { idempotencyKey: 'old-key' }));
      expect(out.created).toBe(true);
      expect(await raw(keys.idempotency(hash))).toMatchObject({ workflowId: 'wf-new' });
    });

    test('an index that projects only keys still lists whole records', async () => {
      const keysOnly = new DynamoWorkflowStore({ client: aws().doc, tableName: await newTable('KEYS_ONLY'), retentionDays: 1 });
      await keysOnly.createWorkflow(workflow('wf-1', { updatedAt: '2024-05-01T00:00:01.000Z', steps: [{ name: 's', type: 'agent', status: 'RUNNING' }] }));
      await keysOnly.createWorkflow(workflow('wf-2', { updatedAt: '2024-05-01T00:00:02.000Z', status: 'FAILED' }));
      const page = await keysOnly.listWorkflows({ limit: 10 });
      expect(page.items.map((w) => [w.workflowId, w.definitionName, w.steps.length])).toEqual([['wf-2', 'research-report', 0], ['wf-1', 'research-report', 1]]);
      expect((await keysOnly.listWorkflows({ status: 'FAILED', limit: 10 })).items.map((w) => w.input)).toEqual([{ topic: 't' }]);
    });

    test('options are checked', () => {
      expect(() => new DynamoWorkflowStore({ client: aws().doc, tableName: 't', retentionDays: 0 })).toThrow(/retentionDays must be a positive number/);
      expect(() => new DynamoWorkflowStore({ client: aws().doc, tableName: '', retentionDays: 1 })).toThrow(/tableName is required/);
    });
  });

  // moto runs transactions one at a time and never cancels one for a conflicting one; real
  // DynamoDB does (TransactionConflict). A document client whose `send` cancels the first
  // transactions that way, and passes everything else to moto, exercises the retries.
  describe('DynamoWorkflowStore under transaction conflicts', () => {
    const conflicting = (conflicts: number) => {
      const client = DynamoDBDocumentClient.from(new DynamoDBClient(config()));
      const send = client.send.bind(client);
      let left = conflicts;
      let transactions = 0;
      jest.spyOn(client, 'send').mockImplementation((async (command: unknown) => {
        if (command instanceof TransactWriteCommand) {
          transactions++;
          if (left-- > 0) {
            throw new TransactionCanceledException({
              message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]',
              $metadata: {},
              CancellationReasons: (command.input.TransactItems ?? []).map((_, i) => ({ Code: i === 0 ? 'TransactionConflict' : 'None' })),
            });
          }
        }
        return send(command as never);
      }) as never);
      return { client, transactions: () => transactions };
    };

    test('create, putCallback and completeCallback are retried after a conflict and then succeed once', async () => {
      const tableName = await newTable();
      const { client, transactions } = conflicting(2);
      const store = new DynamoWorkflowStore({ client, tableName, retentionDays: 1 });
      expect((await store.createWorkflow(workflow('wf-1', { idempotencyKey: 'k' }))).created).toBe(true);
      expect(transactions()).toBe(3);
      const cb = {
        callbackId: 'cb-1',
        durableCallbackId: 'd',
        workflowId: 'wf-1',
        stepName: 's',
        kind: 'approval' as const,
        state: 'PENDING' as const,
        createdAt: '2024-05-01T00:00:00.000Z',
        deadline: '2024-05-02T00:00:00.000Z',
      };
      const again = conflicting(1);
      const retrying = new DynamoWorkflowStore({ client: again.client, tableName, retentionDays: 1 });
      await retrying.putCallback(cb);
      expect(again.transactions()).toBe(2);
      const third = conflicting(1);
      expect(await new DynamoWorkflowStore({ client: third.client, tableName, retentionDays: 1 }).completeCallback('cb-1', 'SUCCEEDED')).toBe(true);
      expect(third.transactions()).toBe(2);
      expect(await store.getCallback('cb-1')).toMatchObject({ state: 'COMPLETED', outcome: 'SUCCEEDED' });
    });

    test('a transaction that keeps conflicting gives up with a clear error', async () => {
      const tableName = await newTable();
      const { client, transactions } = conflicting(Number.POSITIVE_INFINITY);
      const store = new DynamoWorkflowStore({ client, tableName, retentionDays: 1 });
      await expect(store.createWorkflow(workflow('wf-1'))).rejects.toThrow(/creating workflow 'wf-1': still conflicting with concurrent transactions after 8 attempts/);
      expect(transactions()).toBe(8);
      expect(await new DynamoWorkflowStore({ client: aws().doc, tableName, retentionDays: 1 }).getWorkflow('wf-1')).toBeUndefined();
    });
  });

  describe('S3ArtifactStore passes the ArtifactStore contract', () => {
    let bucket: string | undefined;
    artifactStoreContract(async () => {
      if (!bucket) {
        bucket = 'cda-artifacts';
        await aws().s3.send(new CreateBucketCommand({ Bucket: bucket }));
      }
      return new S3ArtifactStore({ client: aws().s3, bucket });
    });
  });

  describe('S3ArtifactStore', () => {
    test('keeps the content type, says where agents write, and a missing bucket is an error, not a missing artifact', async () => {
      await aws().s3.send(new CreateBucketCommand({ Bucket: 'cda-types' }));
      const store = new S3ArtifactStore({ client: aws().s3, bucket: 'cda-types' });
      expect(store.location).toEqual({ bucket: 'cda-types' });
      await store.put('a.md', '# a', 'text/markdown');
      await store.put('b.txt', 'b');
      const type = async (key: string) => (await aws().s3.send(new HeadObjectCommand({ Bucket: 'cda-types', Key: key }))).ContentType;
      expect(await type('a.md')).toBe('text/markdown');
      expect(await type('b.txt')).toBe('text/plain; charset=utf-8');
      await store.copy('a.md', 'c.md');
      expect(await type('c.md')).toBe('text/markdown');
      const missing = new S3ArtifactStore({ client: aws().s3, bucket: 'cda-no-such-bucket' });
      await expect(missing.get('a.md')).rejects.toThrow(/bucket/i);
    });
  });

  describe('EventBridgePublisher', () => {
    const bus = 'cda-workflow-events';
    const logGroup = '/cda/workflow-events';
    let ready: Promise<void> | undefined;

    /** CloudWatch Logs' JSON API (see {@link rawAws}). */
    const logs = async (action: string, body: Record<string, unknown>) =>
      JSON.parse(await rawAws('logs', 'application/x-amz-json-1.1', { 'x-amz-target': `Logs_20140328.${action}` }, JSON.stringify(body)) || '{}');

    /** A bus with a rule that sends every runtime event to a log group. */
    const setUp = () => {
      ready ??= (async () => {
        await aws().events.send(new CreateEventBusCommand({ Name: bus }));
        await logs('CreateLogGroup', { logGroupName: logGroup });
        await aws().events.send(new PutRuleCommand({ Name: 'all-runtime-events', EventBusName: bus, EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }) }));
        await aws().events.send(new PutTargetsCommand({
          Rule: 'all-runtime-events',
          EventBusName: bus,
          Targets: [{ Id: 'log', Arn: `arn:aws:logs:${region}:123456789012:log-group:${logGroup}` }],
        }));
      })();
      return ready;
    };

    /** Every event the rule delivered, as EventBridge delivered it. */
    const delivered = async () => {
      const messages: Record<string, unknown>[] = [];
      let nextToken: string | undefined;
      do {
        const out = await logs('FilterLogEvents', { logGroupName: logGroup, ...(nextToken ? { nextToken } : {}) });
        messages.push(...(out.events ?? []).map((e: { message: string }) => JSON.parse(e.message)));
        nextToken = out.nextToken;
      } while (nextToken);
      return messages;
    };

    describe('passes the EventPublisher contract (delivery proven through a rule to a log group)', () => {
      eventPublisherContract(async () => {
        await setUp();
        return {
          publisher: new EventBridgePublisher({ client: aws().events, eventBusName: bus }),
          observed: async () => (await delivered()).map((m): ObservedEvent => {
            if (m.source !== EVENT_SOURCE) throw new Error(`unexpected source ${String(m.source)}`);
            const { workflow_id: workflowId, step_name: stepName, ...detail } = m.detail as Record<string, unknown>;
            return { type: m['detail-type'] as string, workflowId: workflowId as string, stepName: stepName as string | undefined, detail, time: m.time as string };
          }),
        };
      });
    });

    test('the delivered event: source, detail-type, and detail with workflow_id and step_name', async () => {
      await setUp();
      const publisher = new EventBridgePublisher({ client: aws().events, eventBusName: bus });
      await publisher.publish({ type: 'Workflow Step Completed', workflowId: 'wf-shape', stepName: 'write', detail: { status: 'SUCCEEDED' }, time: new Date().toISOString() });
      const mine = (await delivered()).filter((m) => (m.detail as { workflow_id?: string }).workflow_id === 'wf-shape');
      expect(mine).toEqual([expect.objectContaining({
        'source': EVENT_SOURCE,
        'detail-type': 'Workflow Step Completed',
        'detail': { workflow_id: 'wf-shape', step_name: 'write', status: 'SUCCEEDED' },
      })]);
    });

    test('a bus that does not exist makes publish reject', async () => {
      const publisher = new EventBridgePublisher({ client: aws().events, eventBusName: 'cda-no-such-bus' });
      await expect(publisher.publish({ type: 'Workflow Started', workflowId: 'wf-1', detail: {}, time: new Date().toISOString() }))
        .rejects.toThrow(/cda-no-such-bus|does not exist|not found/i);
    });

    // moto never fails a single entry of a well-formed PutEvents, so a client whose `send` is a
    // jest mock stands in for EventBridge answering 200 with FailedEntryCount.
    test('an entry EventBridge fails is thrown with its code and message; the request is as specified', async () => {
      const client = new EventBridgeClient({ region, credentials });
      const send = jest.spyOn(client, 'send').mockImplementation((async () => ({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
        $metadata: {},
      })) as never);
      const publisher = new EventBridgePublisher({ client, eventBusName: 'bus-x' });
      const event: WorkflowEvent = { type: 'Workflow Started', workflowId: 'wf-9', detail: { a: 1 }, time: '2024-05-01T10:00:00.000Z' };
      await expect(publisher.publish(event)).rejects.toThrow(/refused event 'Workflow Started' of workflow 'wf-9' on bus 'bus-x': ThrottlingException: Rate exceeded/);
      expect(send).toHaveBeenCalledTimes(1);
      const command = send.mock.calls[0][0] as PutEventsCommand;
      expect(command).toBeInstanceOf(PutEventsCommand);
      expect(command.input).toEqual({
        Entries: [{
          EventBusName: 'bus-x',
          Source: EVENT_SOURCE,
          DetailType: 'Workflow Started',
          Detail: JSON.stringify({ a: 1, workflow_id: 'wf-9' }),
          Time: new Date('2024-05-01T10:00:00.000Z'),
        }],
      });
    });

    test('an event too large for EventBridge is refused before it is sent', async () => {
      const publisher = new EventBridgePublisher({ client: aws().events, eventBusName: bus });
      await expect(publisher.publish({ type: 'Workflow Started', workflowId: 'wf-big', detail: { body: 'x'.repeat(300 * 1024) }, time: new Date().toISOString() }))
        .rejects.toThrow(/over EventBridge's 262144: put large values in an artifact/);
    });
  });

  describe('AwsAgentDispatcher', () => {
    interface Network { subnet: string; securityGroup: string }
    let network: Promise<Network> | undefined;
    const clusterName = 'cda-agents';

    /** A VPC, subnet and security group (through CloudFormation: no EC2 client is installed), a cluster and an awsvpc Fargate task definition. */
    const setUp = () => {
      network ??= (async () => {
        const cfn = new CloudFormationClient(config());
        await cfn.send(new CreateStackCommand({
          StackName: 'cda-agent-network',
          TemplateBody: JSON.stringify({
            Resources: {
              Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.20.0.0/16', EnableDnsSupport: true, EnableDnsHostnames: true } },
              Subnet: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' }, CidrBlock: '10.20.1.0/24' } },
              Group: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'agents', VpcId: { Ref: 'Vpc' } } },
            },
            Outputs: { Vpc: { Value: { Ref: 'Vpc' } }, Subnet: { Value: { Ref: 'Subnet' } }, Group: { Value: { 'Fn::GetAtt': ['Group', 'GroupId'] } } },
          }),
        }));
        const outputs = (await cfn.send(new DescribeStacksCommand({ StackName: 'cda-agent-network' }))).Stacks?.[0].Outputs ?? [];
        const output = (key: string) => outputs.find((o) => o.OutputKey === key)!.OutputValue!;
        // moto 5.2's RunTask fails on a VPC without DNS hostnames, and its CloudFormation ignores
        // EnableDnsHostnames: turn them on through EC2's query API.
        await rawAws('ec2', 'application/x-www-form-urlencoded', {}, new URLSearchParams({
          'Action': 'ModifyVpcAttribute', 'Version': '2016-11-15', 'VpcId': output('Vpc'), 'EnableDnsHostnames.Value': 'true',
        }).toString());
        await aws().ecs.send(new CreateClusterCommand({ clusterName }));
        return { subnet: output('Subnet'), securityGroup: output('Group') };
      })();
      return network;
    };
    const taskDefinition = async (family: string) => (await aws().ecs.send(new RegisterTaskDefinitionCommand({
      family,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      // container-level cpu/memory: moto 5.2's RunTask fails without them (it sums them up)
      containerDefinitions: [{ name: 'agent', image: 'public.ecr.aws/docker/library/busybox:1.36', essential: true, cpu: 256, memory: 512 }],
    }))).taskDefinition!.taskDefinitionArn!;
    const ecsTarget = async (family = 'researcher'): Promise<AgentTarget> => {
      const net = await setUp();
      await taskDefinition(family);
      return {
        type: 'ecs',
        clusterArn: `arn:aws:ecs:${region}:123456789012:cluster/${clusterName}`,
        taskDefinition: family,
        containerName: 'agent',
        subnets: [net.subnet],
        securityGroups: [net.securityGroup],
        assignPublicIp: false,
      };
    };
    const unusedLambda = () => new LambdaClient({ region, credentials });
    const describeTask = async (taskArn: string) => {
      const out = await aws().ecs.send(new DescribeTasksCommand({ cluster: clusterName, tasks: [taskArn], include: ['TAGS'] }));
      expect(out.tasks).toHaveLength(1);
      return out.tasks![0];
    };

    describe('passes the AgentDispatcher contract with ECS targets (RunTask on moto)', () => {
      agentDispatcherContract(async () => {
        const dispatcher = new AwsAgentDispatcher({ targets: { researcher: await ecsTarget(), writer: await ecsTarget('writer') }, ecs: aws().ecs, lambda: unusedLambda() });
        return {
          dispatcher,
          agent: 'researcher',
          received: async (handle) => {
            const task = await describeTask(handle);
            const [override] = task.overrides?.containerOverrides ?? [];
            expect(override.name).toBe('agent');
            const value = override.environment?.find((e) => e.name === 'TASK_ENVELOPE')?.value;
            return JSON.parse(value!) as TaskEnvelope;
          },
        };
      });
    });

    test('the task runs on Fargate in the target network, started by the workflow, tagged with workflow and step', async () => {
      const target = await ecsTarget();
      const net = await setUp();
      // A deploy registers a new revision of the family: the dispatch runs that one, the latest.
      const latest = await taskDefinition('researcher');
      const dispatcher = new AwsAgentDispatcher({ targets: { researcher: target }, ecs: aws().ecs, lambda: unusedLambda() });
      const envelope = envelopeFor('researcher');
      const { handle } = await dispatcher.dispatch('researcher', envelope);
      const task = await describeTask(handle);
      expect(latest).toMatch(/:task-definition\/researcher:\d+$/);
      expect(task).toMatchObject({
        launchType: 'FARGATE',
        startedBy: startedByOf(envelope.workflow_id),
        taskDefinitionArn: latest,
      });
      expect(task.startedBy!.length).toBeLessThanOrEqual(36);
      expect(task.startedBy!.startsWith(envelope.workflow_id.slice(0, 20))).toBe(true);
      expect(task.tags).toEqual(expect.arrayContaining([{ key: 'workflow_id', value: envelope.workflow_id }, { key: 'step_name', value: 'research' }]));
      const details = task.attachments?.[0]?.details ?? [];
      expect(details).toEqual(expect.arrayContaining([{ name: 'subnetId', value: net.subnet }]));
      const listed = await aws().ecs.send(new ListTasksCommand({ cluster: clusterName, startedBy: startedByOf(envelope.workflow_id) }));
      expect(listed.taskArns).toEqual([handle]);
    });

    test('stop: StopTask on the target\'s cluster, with the reason; a Lambda agent is left to its own timeout', async () => {
      const dispatcher = new AwsAgentDispatcher({ targets: { researcher: await ecsTarget() }, ecs: aws().ecs, lambda: unusedLambda() });
      const { handle } = await dispatcher.dispatch('researcher', envelopeFor('researcher'));
      await dispatcher.stop('researcher', handle, 'workflow wf-1 ended FAILED (BUDGET_EXCEEDED)');
      const task = await describeTask(handle);
      expect(task.desiredStatus).toBe('STOPPED');
      expect(task.stoppedReason).toBe('workflow wf-1 ended FAILED (BUDGET_EXCEEDED)');
      // Again: a stopped task is fine.
      await dispatcher.stop('researcher', handle, 'again');
      const lambdaOnly = new AwsAgentDispatcher({
        targets: { writer: { type: 'lambda', functionArn: `arn:aws:lambda:${region}:123456789012:function:writer` } }, ecs: aws().ecs, lambda: unusedLambda(),
      });
      await expect(lambdaOnly.stop('writer', 'request-id', 'ended')).resolves.toBeUndefined();
    });

    test('startedBy is a short form ECS accepts; tags whose value ECS would refuse are left out', async () => {
      expect(startedByOf('wf-123')).toBe('wf-123');
      const odd = 'wf#1?' + 'y'.repeat(60);
      expect(startedByOf(odd)).toMatch(/^[A-Za-z0-9_/-]{1,36}$/);
      expect(startedByOf(odd)).not.toBe(startedByOf(odd.replace('#', '?')));
      const dispatcher = new AwsAgentDispatcher({ targets: { researcher: await ecsTarget() }, ecs: aws().ecs, lambda: unusedLambda() });
      const { handle } = await dispatcher.dispatch('researcher', envelopeFor('researcher', { workflow_id: odd }));
      const task = await describeTask(handle);
      expect(task.startedBy).toBe(startedByOf(odd));
      expect(task.tags).toEqual([{ key: 'step_name', value: 'research' }]);
    });

    test('an envelope that would take the overrides over 8192 characters is refused before RunTask', async () => {
      const dispatcher = new AwsAgentDispatcher({ targets: { researcher: await ecsTarget() }, ecs: aws().ecs, lambda: unusedLambda() });
      const envelope = envelopeFor('researcher', { input: { text: 'x'.repeat(7800) } });
      await expect(dispatcher.dispatch('researcher', envelope)).rejects.toThrow(/overrides \d+ characters, over ECS's limit of 8192: pass large inputs as artifact keys/);
      const listed = await aws().ecs.send(new ListTasksCommand({ cluster: clusterName, startedBy: startedByOf(envelope.workflow_id) }));
      expect(listed.taskArns).toEqual([]);
    });

    // moto's RunTask never reports failures for Fargate, so an ECSClient whose `send` is a jest
    // mock plays ECS answering with `failures` (e.g. capacity), and lets the request be checked.
    test('RunTask failures are thrown with their reasons; the request carries a client token derived from the envelope', async () => {
      const ecs = new ECSClient({ region, credentials });
      const send = jest.spyOn(ecs, 'send').mockImplementation((async () => ({
        tasks: [],
        failures: [{ arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c', reason: 'RESOURCE:ENI', detail: 'no ENI capacity' }],
        $metadata: {},
      })) as never);
      const target: AgentTarget = {
        type: 'ecs', clusterArn: 'arn:c', taskDefinition: 'arn:td', containerName: 'agent', subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], assignPublicIp: true,
      };
      const dispatcher = new AwsAgentDispatcher({ targets: { researcher: target }, ecs, lambda: unusedLambda() });
      const envelope = envelopeFor('researcher', { workflow_id: 'wf-42' });
      await expect(dispatcher.dispatch('researcher', envelope)).rejects.toThrow(/agent 'researcher': ECS did not start a task of arn:td on arn:c: .*RESOURCE:ENI: no ENI capacity/);
      await expect(dispatcher.dispatch('researcher', envelope)).rejects.toThrow(/RESOURCE:ENI/);
      const [first, second] = send.mock.calls.map((c) => c[0] as RunTaskCommand);
      expect(first).toBeInstanceOf(RunTaskCommand);
      expect(first.input).toEqual({
        cluster: 'arn:c',
        taskDefinition: 'arn:td',
        launchType: 'FARGATE',
        count: 1,
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' } },
        overrides: { containerOverrides: [{ name: 'agent', environment: [{ name: 'TASK_ENVELOPE', value: JSON.stringify(envelope) }] }] },
        startedBy: 'wf-42',
        tags: [{ key: 'workflow_id', value: 'wf-42' }, { key: 'step_name', value: 'research' }],
        clientToken: createHash('sha256').update(JSON.stringify(envelope)).digest('hex'),
      });
      // The same envelope dispatched again asks ECS for the same task.
      expect(second.input.clientToken).toBe(first.input.clientToken);
    });

    describe('Lambda targets', () => {
      // moto needs Docker to invoke a Lambda function, and Docker is absent here: the LambdaClient's
      // `send` is a jest mock that checks the exact InvokeCommand and answers as Lambda does (202).
      const functionArn = 'arn:aws:lambda:us-east-1:123456789012:function:cda-writer';
      const mockedLambda = (answer: (payload: Uint8Array) => Record<string, unknown>) => {
        const lambda = new LambdaClient({ region, credentials });
        const send = jest.spyOn(lambda, 'send').mockImplementation((async (command: InvokeCommand) => {
          expect(command).toBeInstanceOf(InvokeCommand);
          expect(command.input).toEqual({ FunctionName: functionArn, InvocationType: 'Event', Payload: expect.any(Uint8Array) });
          return answer(command.input.Payload as Uint8Array);
        }) as never);
        return { lambda, send };
      };

      describe('passes the AgentDispatcher contract with a Lambda target (mocked client)', () => {
        agentDispatcherContract(async () => {
          const payloads = new Map<string, Uint8Array>();
          const { lambda } = mockedLambda((payload) => {
            const requestId = `req-${payloads.size + 1}`;
            payloads.set(requestId, payload);
            return { StatusCode: 202, $metadata: { httpStatusCode: 202, requestId } };
          });
          return {
            dispatcher: new AwsAgentDispatcher({ targets: { writer: { type: 'lambda', functionArn } }, ecs: aws().ecs, lambda }),
            agent: 'writer',
            received: async (handle) => JSON.parse(Buffer.from(payloads.get(handle)!).toString('utf8')) as TaskEnvelope,
          };
        });
      });

      test('a function error or a status other than 202 is thrown', async () => {
        const envelope = envelopeFor('writer');
        for (const answer of [{ StatusCode: 202, FunctionError: 'Unhandled' }, { StatusCode: 200 }]) {
          const { lambda, send } = mockedLambda(() => ({ ...answer, $metadata: {} }));
          const dispatcher = new AwsAgentDispatcher({ targets: { writer: { type: 'lambda', functionArn } }, ecs: aws().ecs, lambda });
          await expect(dispatcher.dispatch('writer', envelope)).rejects.toThrow(new RegExp(`asynchronous invoke of ${functionArn} was not accepted \\(status ${answer.StatusCode}`));
          expect(send).toHaveBeenCalledTimes(1);
        }
      });

      test('an envelope over the asynchronous payload limit is refused before invoking', async () => {
        const { lambda, send } = mockedLambda(() => ({ StatusCode: 202, $metadata: {} }));
        const dispatcher = new AwsAgentDispatcher({ targets: { writer: { type: 'lambda', functionArn } }, ecs: aws().ecs, lambda });
        await expect(dispatcher.dispatch('writer', envelopeFor('writer', { input: { text: 'x'.repeat(1024 * 1024) } })))
          .rejects.toThrow(/over Lambda's asynchronous limit of 1048576/);
        expect(send).not.toHaveBeenCalled();
      });
    });

    describe('targets read from SSM parameters at dispatch (SsmAgentTargets)', () => {
      const ssm = () => new SSMClient(config());
      const prefix = '/cdk-durable-agents/Stack-Orchestrator-1234/agents';
      const functionArn = 'arn:aws:lambda:us-east-1:123456789012:function:cda-writer';

      test('a target is read when it is first needed, reused for maxAgeMs, and read again after', async () => {
        await ssm().send(new PutParameterCommand({ Name: `${prefix}/writer`, Type: 'String', Value: JSON.stringify({ type: 'lambda', functionArn }) }));
        const client = ssm();
        const send = jest.spyOn(client, 'send');
        let now = 1_000_000;
        jest.spyOn(Date, 'now').mockImplementation(() => now);
        try {
          const targets = new SsmAgentTargets({ prefix: `${prefix}/`, agentNames: ['writer', 'analyst'], client, maxAgeMs: 60_000 });
          expect(send).not.toHaveBeenCalled();
          expect(await targets.target('writer')).toEqual({ type: 'lambda', functionArn });
          expect(await targets.target('writer')).toEqual({ type: 'lambda', functionArn });
          expect(send).toHaveBeenCalledTimes(1);
          // A deploy replaced the function: a warm controller sees it once its copy is older than maxAgeMs.
          await ssm().send(new PutParameterCommand({ Name: `${prefix}/writer`, Type: 'String', Overwrite: true, Value: JSON.stringify({ type: 'lambda', functionArn: `${functionArn}-2` }) }));
          now += 60_000;
          expect(await targets.target('writer')).toEqual({ type: 'lambda', functionArn: `${functionArn}-2` });
          expect(send).toHaveBeenCalledTimes(2);
          // An agent the definition does not name is unknown without asking SSM.
          expect(await targets.target('stranger')).toBeUndefined();
          expect(send).toHaveBeenCalledTimes(2);
        } finally {
          jest.restoreAllMocks();
        }
      });

      test('the dispatcher dispatches through the lookup, and names the known agents for an unknown one', async () => {
        await ssm().send(new PutParameterCommand({ Name: `${prefix}/researcher`, Type: 'String', Overwrite: true, Value: JSON.stringify(await ecsTarget()) }));
        const dispatcher = new AwsAgentDispatcher({
          targets: new SsmAgentTargets({ prefix, agentNames: ['researcher', 'writer'], client: async () => ssm() }),
          ecs: async () => aws().ecs,
          lambda: unusedLambda(),
        });
        const { handle } = await dispatcher.dispatch('researcher', envelopeFor('researcher'));
        expect((await describeTask(handle)).taskDefinitionArn).toMatch(/:task-definition\/researcher:\d+$/);
        await expect(dispatcher.dispatch('ghost', envelopeFor('ghost'))).rejects.toThrow(/unknown agent 'ghost'; known agents: researcher, writer/);
      });

      test('a missing parameter says which, and why it can be missing', async () => {
        const targets = new SsmAgentTargets({ prefix, agentNames: ['analyst'], client: ssm() });
        await expect(targets.target('analyst')).rejects.toThrow(
          new RegExp(`agent 'analyst': its dispatch target, SSM parameter ${prefix}/analyst, does not exist.*removed from the orchestrator`));
      });

      test.each([
        ['not json', /not JSON/],
        ['[1]', /not a JSON object/],
        [JSON.stringify({ type: 'lambda' }), /'functionArn' is not a non-empty string/],
        [JSON.stringify({ type: 'ecs', clusterArn: 'c', taskDefinition: 't', containerName: 'a', subnets: [], securityGroups: [], assignPublicIp: false }), /'subnets' is empty/],
        [JSON.stringify({ type: 'ecs', clusterArn: 'c', taskDefinition: 't', containerName: 'a', subnets: ['s'], securityGroups: [1], assignPublicIp: false }), /'securityGroups' is not a list of strings/],
        [JSON.stringify({ type: 'ecs', clusterArn: 'c', taskDefinition: 't', containerName: 'a', subnets: ['s'], securityGroups: [], assignPublicIp: 'no' }), /'assignPublicIp' is not a boolean/],
        [JSON.stringify({ type: 'local', command: ['x'] }), /'type' is "local", expected 'lambda' or 'ecs'/],
      ])('a parameter holding %s is refused, naming the parameter', (value, message) => {
        expect(() => parseTarget('writer', '/p/writer', value)).toThrow(message);
        expect(() => parseTarget('writer', '/p/writer', value)).toThrow(/agent 'writer': SSM parameter \/p\/writer is not a dispatch target.*redeploy/);
      });
    });

    test('a local target is refused with what to use instead', async () => {
      const dispatcher = new AwsAgentDispatcher({ targets: { dev: { type: 'local', command: ['node', 'agent.js'] } }, ecs: aws().ecs, lambda: unusedLambda() });
      await expect(dispatcher.dispatch('dev', envelopeFor('dev'))).rejects.toThrow(/agent 'dev' is a 'local' target; AwsAgentDispatcher starts 'ecs' and 'lambda' targets/);
    });
  });
});
