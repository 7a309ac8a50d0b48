// The example's environment in tests: dynalite on 127.0.0.1 with a fresh keyturn table.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '@keyturn/dynamodb';
// @ts-expect-error -- dynalite has no type declarations
import dynalite from 'dynalite';

export const SECRET = `whsec_${'5e'.repeat(32)}`;

export async function startTable(): Promise<{
  endpoint: string;
  table: string;
  client: DynamoDBClient;
  processed(id: string): Promise<number>;
  close(): Promise<void>;
}> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const table = `keyturn-example-${process.pid}`;
  await client.send(new CreateTableCommand(tableDefinition(table)));
  return {
    endpoint,
    table,
    client,
    async processed(id) {
      const out = await client.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: `app#processed#${id}` }, sk: { S: 'event' } }, ConsistentRead: true }),
      );
      return Number(out.Item?.['n']?.N ?? 0);
    },
    async close() {
      client.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
