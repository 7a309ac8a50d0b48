/**
 * The table keyturn uses: one per application (or shared, with a `prefix` each), string keys `pk` and
 * `sk`, on-demand capacity, TTL on `ttl`.
 *
 * @module
 */

/** The `CreateTable` input of a keyturn table named `table` (on-demand capacity). */
export function tableDefinition(table: string): {
  TableName: string;
  AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  BillingMode: 'PAY_PER_REQUEST';
} {
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
export function timeToLiveDefinition(table: string): { TableName: string; TimeToLiveSpecification: { AttributeName: 'ttl'; Enabled: true } } {
  return { TableName: table, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } };
}
