/**
 * `--dynamodb-table`: the CLI on a DynamoDB fleet (`@keyturn/dynamodb`, for Lambda deployments without
 * Redis). `status` and `keys retire` read the fleet-wide usage ledger from the table; `rotate dataspike`
 * sets the rotation fence on the secret's key-change marker before the rotate call, and `rotate
 * dataspike`, `keys add` and `keys retire` bump the marker after the store write, so every container
 * reloads at its next poll (at most `pollIntervalMs` later). The CLI never joins the fleet: it is not
 * an instance in the registry and writes no counts. One flag group, shared by those commands.
 *
 * @module
 */
import type { UsageSnapshot } from '@keyturn/core';
import type { DynamoDbFleet } from '@keyturn/dynamodb';
import { shellQuote, type CliIo } from './common.ts';
import { CliError, EXIT, UsageError } from './exit.ts';
import type { FlagTable } from './flags.ts';

/** The `--dynamodb-*` flags (a command's `[title, flags]` group is {@link DYNAMODB_GROUP}). */
export const DYNAMODB_FLAGS: FlagTable = {
  'dynamodb-table': {
    type: 'string',
    arg: 'TABLE',
    help: "The fleet's DynamoDB table (@keyturn/dynamodb): its usage ledger and key-change markers",
  },
  'dynamodb-region': { type: 'string', arg: 'REGION', help: "Its AWS region (default: the SDK's, e.g. AWS_REGION)" },
  'dynamodb-endpoint': { type: 'string', arg: 'URL', help: 'A DynamoDB endpoint other than AWS (DynamoDB Local, a VPC endpoint)' },
  'dynamodb-prefix': {
    type: 'string',
    arg: 'PREFIX',
    help: "The fleet's key prefix (default keyturn#; the receivers' dynamodbFleet({ prefix }))",
  },
};

/** The flag group, as a command lists it: its help title and its table. */
export const DYNAMODB_GROUP: [title: string, flags: FlagTable] = [
  "Fleet on DynamoDB (AWS credentials from the SDK's usual chain):",
  DYNAMODB_FLAGS,
];

/** An open DynamoDB fleet (the publishing and reading side only). */
export interface OpenedDynamoDbFleet {
  /** The fleet. */
  readonly fleet: DynamoDbFleet;
  /** The table. */
  readonly table: string;
  /** The flags that open it again, for printed follow-up commands. */
  readonly flags: string;
  /** Closes the fleet and its client. */
  close(): Promise<void>;
}

type Values = Readonly<Record<string, unknown>>;

const INSTALL = '@keyturn/dynamodb @aws-sdk/client-dynamodb';

/** Whether `--dynamodb-table` was given. */
export function hasDynamoDbTable(values: Values): boolean {
  return values['dynamodb-table'] !== undefined;
}

/**
 * Opens the fleet named by `--dynamodb-table`, or returns `undefined` without it (the other
 * `--dynamodb-*` flags alone are a usage error). Nothing is sent to DynamoDB until the first call.
 */
export async function openDynamoDbFleet(io: CliIo, values: Values): Promise<OpenedDynamoDbFleet | undefined> {
  const table = values['dynamodb-table'] as string | undefined;
  if (table === undefined) {
    for (const f of Object.keys(DYNAMODB_FLAGS)) {
      if (values[f] !== undefined) throw new UsageError(`--${f} goes with --dynamodb-table TABLE`);
    }
    return undefined;
  }
  if (table === '') throw new UsageError('--dynamodb-table: pass the table name');
  const region = values['dynamodb-region'] as string | undefined;
  const endpoint = values['dynamodb-endpoint'] as string | undefined;
  const prefix = values['dynamodb-prefix'] as string | undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint))
    throw new UsageError(`--dynamodb-endpoint: "${endpoint}" is not an http(s) URL`);
  let mod: typeof import('@keyturn/dynamodb');
  try {
    mod = await import('@keyturn/dynamodb');
    await import('@aws-sdk/client-dynamodb');
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND')
      throw new UsageError(`--dynamodb-table needs ${INSTALL}: npm install ${INSTALL}`);
    throw err;
  }
  let fleet: DynamoDbFleet;
  try {
    fleet = mod.dynamodbFleet({
      table,
      instance: 'keyturn-cli',
      commandTimeoutMs: 10_000,
      now: () => io.now(),
      clientConfig: { ...(region === undefined ? {} : { region }), ...(endpoint === undefined ? {} : { endpoint }) },
      ...(prefix === undefined ? {} : { prefix }),
    });
  } catch (err) {
    throw new UsageError(`--dynamodb-table: ${(err as Error).message}`);
  }
  const flags = [
    `--dynamodb-table ${shellQuote(table)}`,
    ...(region === undefined ? [] : [`--dynamodb-region ${shellQuote(region)}`]),
    ...(endpoint === undefined ? [] : [`--dynamodb-endpoint ${shellQuote(endpoint)}`]),
    ...(prefix === undefined ? [] : [`--dynamodb-prefix ${shellQuote(prefix)}`]),
  ].join(' ');
  return { fleet, table, flags, close: () => fleet.close().catch(() => undefined) };
}

/** Runs `fn` with the fleet of `--dynamodb-table` (or `undefined` without it), and closes it after. */
export async function withDynamoDbFleet<T>(
  io: CliIo,
  values: Values,
  fn: (opened: OpenedDynamoDbFleet | undefined) => Promise<T>,
): Promise<T> {
  const opened = await openDynamoDbFleet(io, values);
  try {
    return await fn(opened);
  } finally {
    await opened?.close();
  }
}

/**
 * The fleet-wide usage snapshot of `secretId` from the table. A table that cannot be read (missing,
 * access denied, unreachable, throttled past the SDK's retries) is a {@link CliError} with exit 35.
 */
export async function dynamodbUsage(opened: OpenedDynamoDbFleet, secretId: string, progress: (m: string) => void): Promise<UsageSnapshot> {
  progress(`reading the usage ledger of ${secretId} from DynamoDB table ${opened.table}`);
  try {
    return await opened.fleet.usage(secretId);
  } catch (err) {
    throw new CliError(
      `--dynamodb-table ${opened.table}: cannot be read (${err instanceof Error ? err.message : 'error'})`,
      EXIT.USAGE_UNREACHABLE,
    );
  }
}
