/**
 * `@keyturn/dynamodb`: keyturn on one DynamoDB table, for Lambda users who have no Redis — replay claims
 * shared by every container, the fleet's usage ledger (for one fleet-wide "safe to retire" verdict) and
 * key-change markers every container polls. Nothing of a secret is ever written: ids, counts and times
 * only.
 *
 * @module
 */
export { dynamodbReplayStore, type DynamoDbReplayStore, type DynamoDbReplayStoreOptions } from './replay.ts';
export { DynamoDbError, type DynamoDbTableOptions } from './client.ts';
export { DEFAULT_PREFIX } from './keys.ts';
export { tableDefinition, timeToLiveDefinition } from './table.ts';
export { dynamodbFleet, type DynamoDbFleet, type DynamoDbFleetOptions } from './fleet.ts';
