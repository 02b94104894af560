import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { TABLE } from '../../src/contract/table';

/** The workflow table as the DurableOrchestrator creates it, from `TABLE` (on demand, both sparse GSIs). */
export function workflowTableInput(tableName: string, projection: 'ALL' | 'KEYS_ONLY' = 'ALL'): CreateTableCommandInput {
  const s = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  const gsi = (index: { name: string; partitionKey: string; sortKey: string }) => ({
    IndexName: index.name,
    KeySchema: [{ AttributeName: index.partitionKey, KeyType: 'HASH' as const }, { AttributeName: index.sortKey, KeyType: 'RANGE' as const }],
    Projection: { ProjectionType: projection },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      s(TABLE.partitionKey), s(TABLE.sortKey), s(TABLE.statusIndex.partitionKey), s(TABLE.updatedIndex.partitionKey), s(TABLE.statusIndex.sortKey),
    ],
    KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }, { AttributeName: TABLE.sortKey, KeyType: 'RANGE' }],
    GlobalSecondaryIndexes: [gsi(TABLE.statusIndex), gsi(TABLE.updatedIndex)],
  };
}
