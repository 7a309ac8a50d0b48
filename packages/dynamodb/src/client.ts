/**
 * The DynamoDB operations keyturn makes, on the `DynamoDBClient` you pass (or one created from
 * `clientConfig`): every call bounded by `commandTimeoutMs` (an abort signal to the SDK and a timer of
 * our own), failures classified (timeout, throttled, failed), and a condition that does not hold
 * returned as a value, never thrown. `@aws-sdk/client-dynamodb` is imported on the first call only, so
 * importing this package (and creating a store or fleet) loads no AWS SDK module.
 *
 * @module
 */
import type { AttributeValue, DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/** A DynamoDB item in the wire shape (`{ pk: { S: '…' } }`). */
export type Item = Record<string, AttributeValue>;

/** What a failed DynamoDB call is reported as (the `cause` of the verifier's `KEYSTORE_UNAVAILABLE`, `fleet-error` events). */
export class DynamoDbError extends Error {
  /**
   * `timeout`: no answer within `commandTimeoutMs` (the write may still land); `throttled`: DynamoDB
   * refused it for capacity (`ProvisionedThroughputExceededException`, `ThrottlingException`,
   * `RequestLimitExceeded`) after the SDK's own retries; `failed`: anything else.
   */
  readonly reason: 'timeout' | 'throttled' | 'failed';
  /** The DynamoDB operation (`PutItem`, `UpdateItem`, ...). */
  readonly operation: string;

  constructor(message: string, reason: 'timeout' | 'throttled' | 'failed', operation: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'DynamoDbError';
    this.reason = reason;
    this.operation = operation;
  }
}

/** Options shared by the store and the fleet: where the table is. */
export interface DynamoDbTableOptions {
  /** The table (see `docs/lambda.md`: `pk` and `sk` strings, TTL on `ttl`). */
  table: string;
  /**
   * A `DynamoDBClient` from `@aws-sdk/client-dynamodb` (yours: its lifecycle stays yours). Without it,
   * one is created from `clientConfig` on the first call and destroyed by `close()`.
   */
  client?: Pick<DynamoDBClient, 'send'>;
  /** Configuration of the client created when `client` is not given (region, endpoint, credentials...). */
  clientConfig?: DynamoDBClientConfig;
  /**
   * Longest wait for one DynamoDB call, in ms (including the SDK's own retries of throttled calls); a
   * slower one counts as failed. @default 1_000
   */
  commandTimeoutMs?: number;
}

const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

type Sdk = typeof import('@aws-sdk/client-dynamodb');

/** The operations used, as plain inputs. @internal */
export interface Commands {
  readonly table: string;
  /** PutItem; `{ ok: false, item }` when the condition failed (`item`: the existing one, when DynamoDB returned it). */
  put(input: {
    Item: Item;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
  }): Promise<{ ok: boolean; item?: Item }>;
  /** DeleteItem; `false` when the condition failed. */
  delete(input: {
    Key: Item;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
  }): Promise<boolean>;
  /** UpdateItem; `false` when the condition failed. */
  update(input: {
    Key: Item;
    UpdateExpression: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
  }): Promise<boolean>;
  /** GetItem. */
  get(key: Item, consistent: boolean): Promise<Item | undefined>;
  /** Query on a partition key (every page, at most `limit` items). */
  query(pk: string, consistent: boolean, limit?: number): Promise<Item[]>;
  /** BatchGetItem (unprocessed keys retried a few times). */
  batchGet(keys: Item[], consistent: boolean): Promise<Item[]>;
  /** Destroys the client if this module created it. */
  close(): void;
}

/** Checks the shared options and builds the bounded operations. @internal */
export function commands(options: DynamoDbTableOptions, where: string): Commands {
  const table = options.table;
  if (typeof table !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(table)) {
    throw new TypeError(`${where}: \`table\` must be a DynamoDB table name (3 to 255 letters, digits, "_", "-", ".")`);
  }
  if (options.client !== undefined && options.clientConfig !== undefined)
    throw new TypeError(`${where}: pass \`client\` or \`clientConfig\`, not both`);
  if (options.client !== undefined && (options.client === null || typeof (options.client as { send?: unknown }).send !== 'function')) {
    throw new TypeError(`${where}: \`client\` must be a DynamoDBClient from @aws-sdk/client-dynamodb`);
  }
  const timeoutMs = options.commandTimeoutMs ?? 1_000;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new TypeError(`${where}: \`commandTimeoutMs\` must be a finite number of ms from 1 to 60000`);
  }
  let sdk: Promise<Sdk> | undefined;
  let client = options.client;
  let owned: DynamoDBClient | undefined;
  const load = (): Promise<Sdk> => (sdk ??= import('@aws-sdk/client-dynamodb'));

  async function send<T>(operation: string, build: (s: Sdk) => unknown): Promise<T> {
    const s = await load();
    if (client === undefined) client = owned = new s.DynamoDBClient({ maxAttempts: 3, ...(options.clientConfig ?? {}) });
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new DynamoDbError(`DynamoDB ${operation} on ${table} timed out after ${timeoutMs} ms`, 'timeout', operation));
      }, timeoutMs);
      (timer as { unref?: () => void }).unref?.();
    });
    const call = (client.send as (c: unknown, o: unknown) => Promise<T>)(build(s), { abortSignal: controller.signal });
    call.catch(() => undefined);
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function classify(operation: string, error: unknown): never {
    if (error instanceof DynamoDbError) throw error;
    const name = (error as { name?: unknown } | null)?.name;
    const message = error instanceof Error ? error.message : String(error);
    if (typeof name === 'string' && THROTTLED.has(name)) {
      throw new DynamoDbError(`DynamoDB ${operation} on ${table} was throttled (${name})`, 'throttled', operation, error);
    }
    if (name === 'AbortError' || name === 'TimeoutError') {
      throw new DynamoDbError(`DynamoDB ${operation} on ${table} timed out after ${timeoutMs} ms`, 'timeout', operation, error);
    }
    throw new DynamoDbError(
      `DynamoDB ${operation} on ${table} failed: ${typeof name === 'string' ? `${name}: ` : ''}${message}`,
      'failed',
      operation,
      error,
    );
  }

  const conditional = (error: unknown): boolean => (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';

  return {
    table,
    async put(input) {
      try {
        await send(
          'PutItem',
          (s) =>
            new s.PutItemCommand({
              TableName: table,
              ...input,
              ...(input.ConditionExpression === undefined ? {} : { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
            }),
        );
        return { ok: true };
      } catch (error) {
        if (conditional(error)) {
          const item = (error as { Item?: Item }).Item;
          return item === undefined ? { ok: false } : { ok: false, item };
        }
        return classify('PutItem', error);
      }
    },
    async delete(input) {
      try {
        await send('DeleteItem', (s) => new s.DeleteItemCommand({ TableName: table, ...input }));
        return true;
      } catch (error) {
        if (conditional(error)) return false;
        return classify('DeleteItem', error);
      }
    },
    async update(input) {
      try {
        await send('UpdateItem', (s) => new s.UpdateItemCommand({ TableName: table, ...input }));
        return true;
      } catch (error) {
        if (conditional(error)) return false;
        return classify('UpdateItem', error);
      }
    },
    async get(key, consistent) {
      try {
        const out = await send<{ Item?: Item }>(
          'GetItem',
          (s) => new s.GetItemCommand({ TableName: table, Key: key, ConsistentRead: consistent }),
        );
        return out.Item;
      } catch (error) {
        return classify('GetItem', error);
      }
    },
    async query(pk, consistent, limit = 10_000) {
      const items: Item[] = [];
      let start: Item | undefined;
      try {
        do {
          const out: { Items?: Item[]; LastEvaluatedKey?: Item } = await send(
            'Query',
            (s) =>
              new s.QueryCommand({
                TableName: table,
                KeyConditionExpression: 'pk = :pk',
                ExpressionAttributeValues: { ':pk': { S: pk } },
                ConsistentRead: consistent,
                ...(start === undefined ? {} : { ExclusiveStartKey: start }),
              }),
          );
          items.push(...(out.Items ?? []));
          start = out.LastEvaluatedKey;
        } while (start !== undefined && items.length < limit);
      } catch (error) {
        return classify('Query', error);
      }
      return items;
    },
    async batchGet(keys, consistent) {
      const out: Item[] = [];
      for (let i = 0; i < keys.length; i += 100) {
        let request: Item[] | undefined = keys.slice(i, i + 100);
        for (let attempt = 0; request !== undefined && request.length > 0 && attempt < 4; attempt++) {
          const ask: Item[] = request;
          let res: { Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Item[] }> };
          try {
            res = await send(
              'BatchGetItem',
              (s) => new s.BatchGetItemCommand({ RequestItems: { [table]: { Keys: ask, ConsistentRead: consistent } } }),
            );
          } catch (error) {
            return classify('BatchGetItem', error);
          }
          out.push(...(res.Responses?.[table] ?? []));
          request = res.UnprocessedKeys?.[table]?.Keys;
        }
      }
      return out;
    },
    close() {
      owned?.destroy();
      owned = undefined;
    },
  };
}

/** Reads a string attribute. @internal */
export const str = (item: Item | undefined, name: string): string | undefined => {
  const v = item?.[name];
  return v !== undefined && 'S' in v && typeof v.S === 'string' ? v.S : undefined;
};

/** Reads a number attribute. @internal */
export const num = (item: Item | undefined, name: string): number | undefined => {
  const v = item?.[name];
  if (v === undefined || !('N' in v) || typeof v.N !== 'string') return undefined;
  const n = Number(v.N);
  return Number.isFinite(n) ? n : undefined;
};

/** A number attribute value. @internal */
export const N = (n: number): AttributeValue => ({ N: String(Math.round(n)) });
/** A string attribute value. @internal */
export const S = (s: string): AttributeValue => ({ S: s });
