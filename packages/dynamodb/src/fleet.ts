/**
 * `dynamodbFleet()`: a keyturn {@link Fleet} on one DynamoDB table, for Lambda and other deployments
 * without Redis. Instead of pub/sub, every container polls one small marker item per held secret at
 * most once per `pollIntervalMs` (default 10 s); the rotation workflows and the CLI bump it. The usage
 * ledger is written with `UpdateItem` (`ADD` for counts, a conditional max for the last match), batched
 * in memory and flushed at the end of each invocation (the Lambda adapter calls `flush()`), with the
 * same evidence-gap rules as the Redis ledger. Replay claims live in the same table.
 *
 * @module
 */
import { hostname } from 'node:os';
import {
  DEFAULT_FENCE_TTL_MS,
  MAX_FENCE_TTL_MS,
  type AnnounceRotationOptions,
  type Fleet,
  type FleetMember,
  type FleetMembership,
  type KeyturnEvent,
  type PublishChangeOptions,
  type UsageSnapshot,
} from '@keyturn/core';
import { commands, N, S, type DynamoDbTableOptions } from './client.ts';
import { checkPrefix, itemKeys } from './keys.ts';
import { ledgerWriter, type Pending } from './ledger.ts';
import { ledgerReader } from './ledger-read.ts';
import { markers } from './markers.ts';
import { dynamodbReplayStore, type DynamoDbReplayStore, type DynamoDbReplayStoreOptions } from './replay.ts';

/** Options of {@link dynamodbFleet}. Every duration is in ms. */
export interface DynamoDbFleetOptions extends DynamoDbTableOptions {
  /** Prefix of every partition key (one per application sharing the table). @default 'keyturn#' */
  prefix?: string;
  /** This process's name in the instance registry, for humans. @default the Lambda function name (or host name) and the pid */
  instance?: string;
  /**
   * A verifier reads the key-change markers of the secrets it holds at most once per this long per
   * container (1 000 to 300 000); a change is picked up within it (in Lambda: by the first invocation after
   * it, since a frozen container runs no timer). @default 10_000
   */
  pollIntervalMs?: number;
  /** Longest time counts wait in memory before they are written, outside of `flush()` (100 to 60 000). @default 1_000 */
  flushIntervalMs?: number;
  /** How often a long-running (not serverless) instance reports that it is alive. @default 5_000 */
  heartbeatMs?: number;
  /** A live instance silent this long is missing: no key is called quiet while it is. @default 15_000 */
  staleAfterMs?: number;
  /** A missing instance silent this long is presumed gone; silence before its last report + this is no evidence. @default 300_000 */
  instanceTimeoutMs?: number;
  /** Most keys whose counts wait for a flush (past it the oldest are dropped and an evidence gap is recorded). @default 50_000 */
  maxPendingKeys?: number;
  /** Clock, epoch ms. @default Date.now */
  now?: () => number;
  /** Events of the fleet itself (also sent to every joined verifier's `onEvent`). */
  onEvent?: (event: KeyturnEvent) => void;
}

/** The fleet returned by {@link dynamodbFleet}. */
export interface DynamoDbFleet extends Fleet {
  /** Always `'dynamodb'`. */
  readonly name: 'dynamodb';
  /** This process's id in the instance registry (`<instance>#<random>`). */
  readonly instanceId: string;
  /** The partition-key prefix. */
  readonly prefix: string;
  /** The table. */
  readonly table: string;
  /** Keys whose counts wait for a flush. */
  readonly pendingKeys: number;
  /** Reads the markers of every held secret now (what the poll timer does), and applies what changed. */
  poll(): Promise<void>;
  /** A replay store on the same table and prefix (`createVerifier({ fleet, replay: fleet.replayStore() })`). */
  replayStore(options?: Omit<DynamoDbReplayStoreOptions, 'client' | 'clientConfig' | 'table' | 'prefix'>): DynamoDbReplayStore;
}

/** Ledger items live this long after their last write, in seconds. */

/** UpdateItem calls in flight per flush. */
const CONCURRENCY = 16;

/**
 * Creates a fleet on DynamoDB.
 *
 * @example Lambda: one table for the fleet and the replay claims
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { createVerifier, providers } from '@keyturn/core';
 * import { createLambdaHandler } from '@keyturn/core/adapters/lambda';
 * import { dynamodbFleet } from '@keyturn/dynamodb';
 *
 * const fleet = dynamodbFleet({ client: new DynamoDBClient({}), table: process.env.KEYTURN_TABLE! });
 * const verifier = createVerifier({ provider: providers.dataspike(), keys, secretId: 'prod/dataspike', fleet, replay: fleet.replayStore() });
 * await verifier.warm();
 * export const handler = createLambdaHandler(verifier, ({ json }) => process(json()), { fleet });
 * ```
 */
export function dynamodbFleet(options: DynamoDbFleetOptions): DynamoDbFleet {
  const where = 'dynamodbFleet()';
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: pass { table, client? }`);
  const db = commands(options, where);
  const prefix = checkPrefix(where, options.prefix);
  const keys = itemKeys(prefix);
  const pollIntervalMs = ms(where, 'pollIntervalMs', options.pollIntervalMs, 10_000, 1_000, 300_000);
  const flushIntervalMs = ms(where, 'flushIntervalMs', options.flushIntervalMs, 1_000, 100, 60_000);
  const heartbeatMs = ms(where, 'heartbeatMs', options.heartbeatMs, Math.max(5_000, flushIntervalMs), flushIntervalMs, 60_000);
  const staleAfterMs = ms(where, 'staleAfterMs', options.staleAfterMs, Math.max(15_000, 3 * heartbeatMs), 2 * heartbeatMs, 86_400_000);
  const instanceTimeoutMs = ms(
    where,
    'instanceTimeoutMs',
    options.instanceTimeoutMs,
    Math.max(300_000, staleAfterMs),
    staleAfterMs,
    30 * 86_400_000,
  );
  const maxPendingKeys = options.maxPendingKeys ?? 50_000;
  if (!Number.isSafeInteger(maxPendingKeys) || maxPendingKeys < 1)
    throw new TypeError(`${where}: \`maxPendingKeys\` must be a positive integer`);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError(`${where}: \`now\` must be a function returning epoch ms`);
  const onEvent = options.onEvent;
  const name = options.instance ?? defaultInstanceName();
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || /[#\s]/.test(name)) {
    throw new TypeError(`${where}: \`instance\` must be a non-empty name of at most 200 characters without "#" or whitespace`);
  }
  const instanceId = `${name}#${globalThis.crypto.randomUUID().slice(0, 8)}`;

  const members = new Set<FleetMember>();
  const ledger = ledgerWriter({ db, keys, now, instanceId, heartbeatMs, staleAfterMs, instanceTimeoutMs, maxPendingKeys });
  const { pending, take } = ledger;
  const readUsage = ledgerReader({ db, keys, now, staleAfterMs, instanceTimeoutMs });
  const marks = markers({
    db,
    keys,
    now,
    members,
    onPollError: (error) => emit({ type: 'fleet-error', fleet: 'dynamodb', operation: 'poll', pending: pending.size, error }),
  });
  const { poll, bump } = marks;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let pollTimer: ReturnType<typeof setInterval> | undefined;
  let flushing: Promise<void> | undefined;
  let again = false;
  let failures = 0;
  let inflight = 0;
  let closed = false;

  function emit(event: KeyturnEvent): void {
    try {
      onEvent?.(event);
    } catch {
      // an observer never breaks the fleet
    }
    for (const m of members) m.emit(event);
  }

  // --- flushing the ledger -------------------------------------------------------------------------

  function scheduleFlush(delayMs: number): void {
    if (closed || flushTimer !== undefined) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flush(false).catch(() => undefined);
    }, delayMs);
    (flushTimer as { unref?: () => void }).unref?.();
  }

  /** Takes every member's counts and writes them, then reports this instance (`drained` after an explicit flush). */
  function flush(explicit: boolean): Promise<void> {
    if (flushing !== undefined) {
      again = true;
      return flushing.then(() => (again ? flush(explicit) : undefined));
    }
    again = false;
    flushing = (async () => {
      const t = now();
      for (const m of members) take(m.takeUsage());
      const batch = [...pending.values()];
      pending.clear();
      inflight += batch.length;
      let failed: unknown;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batch.length) {
          const k = batch[next++] as Pending;
          try {
            await ledger.writeKey(k, t);
          } catch (error) {
            failed ??= error;
            take([k]);
          } finally {
            inflight--;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
      if (failed === undefined && (members.size > 0 || explicit)) {
        try {
          const drained = pending.size === 0 && (explicit || (batch.length === 0 && ledger.lastReportMode === 'd'));
          await ledger.report(t, drained ? 'd' : 'l');
        } catch (error) {
          failed = error;
        }
      }
      // A serverless container polls when it runs: at the end of an invocation, if a poll is due.
      if (members.size > 0 && now() - marks.lastPollAt >= pollIntervalMs) await poll();
      if (failed !== undefined) {
        failures++;
        if (failures === 1 || failures % Math.max(1, Math.round(60_000 / flushIntervalMs)) === 0) {
          emit({ type: 'fleet-error', fleet: 'dynamodb', operation: 'flush', pending: pending.size, error: failed });
        }
        scheduleFlush(Math.min(heartbeatMs, flushIntervalMs * 2 ** Math.min(failures, 6)));
        if (explicit) throw failed;
      } else failures = 0;
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  function startTimers(): void {
    if (closed) return;
    if (heartbeat === undefined) {
      heartbeat = setInterval(() => void flush(false).catch(() => undefined), heartbeatMs);
      (heartbeat as { unref?: () => void }).unref?.();
    }
    if (pollTimer === undefined) {
      pollTimer = setInterval(() => void poll(), pollIntervalMs);
      (pollTimer as { unref?: () => void }).unref?.();
    }
  }

  function stopTimers(): void {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    if (pollTimer !== undefined) clearInterval(pollTimer);
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    heartbeat = pollTimer = flushTimer = undefined;
  }

  async function leaveRegistry(): Promise<void> {
    try {
      await flush(false);
      if (pending.size === 0) await db.delete({ Key: keys.instance(instanceId) });
    } catch {
      // the entry times out; a gap is recorded then
    }
  }

  /** One secret's fleet-wide snapshot (this process's own counts are written first). */
  async function usage(secretId: string): Promise<UsageSnapshot> {
    checkId('usage', secretId);
    if (members.size > 0) await flush(false).catch(() => undefined);
    return readUsage(secretId);
  }

  // --- the fleet -----------------------------------------------------------------------------------

  const fleet: DynamoDbFleet = {
    name: 'dynamodb',
    instanceId,
    prefix,
    table: db.table,
    get pendingKeys() {
      return pending.size + inflight;
    },

    join(member: FleetMember): FleetMembership {
      if (closed) throw new TypeError('dynamodbFleet(): this fleet was closed');
      members.add(member);
      startTimers();
      // Report at once (a reader must know this instance exists before it counts anything), and read the markers.
      scheduleFlush(0);
      let left = false;
      return {
        usagePending: () => scheduleFlush(flushIntervalMs),
        async leave() {
          if (left) return;
          left = true;
          take(member.takeUsage());
          members.delete(member);
          if (members.size === 0) {
            stopTimers();
            await leaveRegistry();
          } else await flush(false).catch(() => undefined);
        },
      };
    },

    async announceRotation(secretId, opts: AnnounceRotationOptions = {}) {
      checkId('announceRotation', secretId);
      const ttlMs = opts.ttlMs ?? DEFAULT_FENCE_TTL_MS;
      if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 1 || ttlMs > MAX_FENCE_TTL_MS) {
        throw new TypeError(`announceRotation(): \`ttlMs\` must be a finite number of ms from 1 to ${MAX_FENCE_TTL_MS}`);
      }
      const ttl = Math.ceil(ttlMs);
      await bump(
        secretId,
        'SET #fence = :end, #at = :now, #last = :last ADD #seq :one',
        { ':end': N(now() + ttl), ':last': S('rotation-started') },
        { '#fence': 'fence', '#at': 'at', '#last': 'last', '#seq': 'seq' },
      );
      for (const m of members) m.fence(secretId, ttl);
    },

    async publishChange(secretId, opts: PublishChangeOptions = {}) {
      checkId('publishChange', secretId);
      if (opts.versionId !== undefined) checkId('publishChange', opts.versionId, 'versionId');
      const names = { '#fence': 'fence', '#at': 'at', '#last': 'last', '#seq': 'seq', '#chg': 'chg', '#v': 'v' };
      if (opts.versionId === undefined)
        await bump(
          secretId,
          'SET #at = :now, #last = :last REMOVE #fence, #v ADD #seq :one, #chg :one',
          { ':last': S('key-changed') },
          names,
        );
      else
        await bump(
          secretId,
          'SET #at = :now, #last = :last, #v = :v REMOVE #fence ADD #seq :one, #chg :one',
          { ':last': S('key-changed'), ':v': S(opts.versionId) },
          names,
        );
      for (const m of members) void m.changed(secretId, opts.versionId);
    },

    async endRotation(secretId) {
      checkId('endRotation', secretId);
      await bump(
        secretId,
        'SET #at = :now, #last = :last REMOVE #fence ADD #seq :one',
        { ':last': S('rotation-ended') },
        { '#fence': 'fence', '#at': 'at', '#last': 'last', '#seq': 'seq' },
      );
      for (const m of members) m.fence(secretId, 0);
    },

    usage,

    async flush() {
      await flush(true);
    },

    poll,

    async close() {
      if (closed) return;
      const wasMember = members.size > 0;
      for (const m of members) take(m.takeUsage());
      members.clear();
      stopTimers();
      if (wasMember || pending.size > 0) await leaveRegistry();
      closed = true;
      db.close();
    },

    replayStore(opts = {}) {
      return dynamodbReplayStore({
        ...opts,
        table: db.table,
        prefix,
        ...(options.client === undefined ? {} : { client: options.client }),
        ...(options.clientConfig === undefined ? {} : { clientConfig: options.clientConfig }),
        ...(options.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: options.commandTimeoutMs }),
      });
    },
  };
  return fleet;

  function checkId(method: string, id: unknown, what = 'secretId'): asserts id is string {
    if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
      throw new TypeError(`${method}(): \`${what}\` must be a non-empty string of at most 1024 characters`);
    }
  }
}

function ms(where: string, name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(`${where}: \`${name}\` must be a finite number of ms from ${min} to ${max}`);
  }
  return value;
}

function defaultInstanceName(): string {
  const fn = typeof process === 'object' ? process.env['AWS_LAMBDA_FUNCTION_NAME'] : undefined;
  let host = fn ?? 'host';
  if (fn === undefined) {
    try {
      host = hostname() || host;
    } catch {
      // keep the default
    }
  }
  return `${host.replace(/[#\s]/g, '_')}:${typeof process === 'object' ? process.pid : 0}`;
}
