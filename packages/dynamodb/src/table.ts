/**
 * The table keyturn uses: one per application (or shared, with a `prefix` each), string keys `pk` and
 * `sk`, on-demand capacity, TTL on `ttl`.
 *
 * @module
 */
import type { CreateTableCommandInput, UpdateTimeToLiveCommandInput } from '@aws-sdk/client-dynamodb';

/** The `CreateTable` input of a keyturn table named `table` (on-demand capacity). */
export function tableDefinition(table: string): CreateTableCommandInput {
  return {
    TableName: table,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** The `UpdateTimeToLive` input that turns on DynamoDB's TTL for `table` (attribute `ttl`). */
export function timeToLiveDefinition(table: string): UpdateTimeToLiveCommandInput {
  return { TableName: table, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } };
}
