// A Dataspike webhook receiver on AWS Lambda. Everything outside the handler runs once per container
// (the init phase): the DynamoDB client, the fleet, the verifier, and the key load (`warm()`).
//
// Environment:
//   DATASPIKE_WEBHOOK_SECRET   the signing secret (`whsec_…`); DATASPIKE_WEBHOOK_SECRET_PREVIOUS during a rotation
//   KEYTURN_TABLE              the DynamoDB table (docs/lambda.md: pk/sk strings, TTL on `ttl`, on-demand)
//   DYNAMODB_ENDPOINT          only for local runs (dynalite, DynamoDB Local)
//   KEYTURN_DYNAMODB_TIMEOUT_MS  longest wait for one DynamoDB call (default 1000; raised for slow local emulators)
import { createHash } from 'node:crypto';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createVerifier, providers } from '@keyturn/core';
import { createLambdaHandler } from '@keyturn/core/adapters/lambda';
import { dynamodbFleet } from '@keyturn/dynamodb';
import { envKeyStore } from '@keyturn/store-env';

const table = process.env.KEYTURN_TABLE;
if (!table) throw new Error('KEYTURN_TABLE is not set');

const client = new DynamoDBClient(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {});
export const fleet = dynamodbFleet({
  client,
  table,
  ...(process.env.KEYTURN_DYNAMODB_TIMEOUT_MS ? { commandTimeoutMs: Number(process.env.KEYTURN_DYNAMODB_TIMEOUT_MS) } : {}),
});

export const verifier = createVerifier({
  provider: providers.dataspike(),
  keys: envKeyStore(),
  secretId: 'DATASPIKE_WEBHOOK_SECRET',
  fleet, // usage ledger + key-change markers
  replay: fleet.replayStore(), // one claim per delivery, shared by every container
});
// Keys load once per container, before the first delivery. A store that is slow or down at init must not
// fail the container: the first delivery loads again (and is answered 503 if the store is still down).
await verifier.warm().catch((error) => console.error('[keyturn] warm-up failed; the first delivery loads the keys again:', error.message));

/** Your processing. Here: count the event in the table, so a test can see how often it ran. */
async function processEvent(id) {
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: `app#processed#${id}` }, sk: { S: 'event' } },
      UpdateExpression: 'ADD #n :one',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':one': { N: '1' } },
    }),
  );
}

export const handler = createLambdaHandler(
  verifier,
  async ({ body, headers, result, kind }) => {
    const json = (headers['content-type'] ?? '').startsWith('application/json');
    const id = json ? JSON.parse(new TextDecoder().decode(body)).id : createHash('sha256').update(body).digest('hex');
    await processEvent(id);
    return { received: id, key: result.keyId, kind, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
  },
  { fleet }, // the ledger is flushed before every answer is returned
);
