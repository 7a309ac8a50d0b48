/**
 * The commands' side of a fleet: `--redis-url` (`@keyturn/redis`) or `--dynamodb-table`
 * (`@keyturn/dynamodb`), opened around a command as one {@link CommandFleet}: the fleet the rotation
 * workflows publish to, its fleet-wide usage and (Redis) its per-minute timeline.
 *
 * @module
 */
import type { Fleet, UsageSnapshot, UsageTimeline } from '@keyturn/core';
import type { CliIo } from '../common.ts';
import { dynamodbUsage, openDynamoDbFleet } from '../dynamodb.ts';
import { CliError, EXIT, UsageError } from '../exit.ts';
import { openFleet } from '../fleet.ts';
import type { Values } from './shared.ts';

/** The fleet a command works with. */
export interface CommandFleet {
  /** What the rotation workflows publish to (notices, fences, markers). */
  readonly fleet: Fleet;
  /** The flags that open it again (never a password). */
  readonly flags: string;
  /** The fleet-wide usage of a secret; a fleet that cannot be read is exit 35. */
  usage(secretId: string, progress: (message: string) => void): Promise<UsageSnapshot>;
  /** Per-minute matches per key (Redis only). */
  timeline?(secretId: string, hours: number): Promise<UsageTimeline>;
}

/**
 * Runs `fn` with the fleet of `--redis-url` or `--dynamodb-table` (or none). `required`: a Redis that
 * cannot be reached stops the command (exit 35, or the error the function makes of it); otherwise the
 * command goes on without it, with a warning (the verifiers pick the change up on their own, later).
 */
export async function withCommandFleet<T>(
  io: CliIo,
  values: Values,
  required: boolean | ((unreachable: CliError) => Error),
  fn: (fleet: CommandFleet | undefined) => Promise<T>,
): Promise<T> {
  if (values['redis-url'] !== undefined && values['dynamodb-table'] !== undefined) {
    throw new UsageError('pass --redis-url URL or --dynamodb-table TABLE, not both (one fleet per command)');
  }
  const ddb = await openDynamoDbFleet(io, values);
  if (ddb !== undefined) {
    try {
      return await fn({ fleet: ddb.fleet, flags: ddb.flags, usage: (id, progress) => dynamodbUsage(ddb, id, progress) });
    } finally {
      await ddb.close();
    }
  }
  let redis: Awaited<ReturnType<typeof openFleet>>;
  try {
    redis = await openFleet(io, values);
  } catch (err) {
    if (!(err instanceof CliError) || required === true) throw err;
    if (typeof required === 'function') throw required(err);
    io.stderr(
      `warning: ${err.message}; going on without telling the fleet (instances pick the change up on a miss or at their next refresh)\n`,
    );
  }
  if (redis === undefined) return fn(undefined);
  const opened = redis;
  try {
    return await fn({
      fleet: opened.fleet,
      flags: opened.flags,
      usage: (id, progress) => {
        progress(`reading the fleet's usage of ${id}`);
        return readFleet(opened.flags, () => opened.fleet.usage(id));
      },
      timeline: (id, hours) => readFleet(opened.flags, () => opened.fleet.timeline(id, { hours })),
    });
  } finally {
    await opened.close();
  }
}

/** A fleet read; a Redis that stops answering is exit 35 (unreachable), like an unreachable --usage-url. */
async function readFleet<T>(flags: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw new CliError(
      `${flags}: the fleet's ledger cannot be read (${err instanceof Error ? err.message : String(err)})`,
      EXIT.USAGE_UNREACHABLE,
    );
  }
}

/** The last `spanMs` of a timeline (whole minutes). */
export function trimTimeline(t: UsageTimeline, spanMs: number): UsageTimeline {
  const total = t.keys[0]?.counts.length ?? 0;
  const skip = Math.max(0, total - Math.max(1, Math.round(spanMs / t.stepMs)));
  return { ...t, from: t.from + skip * t.stepMs, keys: t.keys.map((k) => ({ keyId: k.keyId, counts: k.counts.slice(skip) })) };
}
