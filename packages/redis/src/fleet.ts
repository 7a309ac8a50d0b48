/**
 * `redisFleet()`: a keyturn {@link Fleet} on Redis — notices over pub/sub on a dedicated subscriber
 * connection, rotation fences as keys with a TTL, the usage ledger as hashes written in batches, an
 * instance registry that turns silent instances into "no" verdicts, and replay claims under the same
 * prefix.
 *
 * @module
 */
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
  type UsageTimeline,
} from '@keyturn/core';
import { batchArgs, buildSnapshot, buildTimeline, hashReply, PendingLedger, type SecretBatch } from './ledger.ts';
import { fleetSettings, scriptRunner, type RedisFleetOptions } from './options.ts';
import { redisReplayStore, type IoRedisLike, type NodeRedisLike, type RedisReplayStore, type RedisReplayStoreOptions } from './replay.ts';
import {
  FENCE_DEL_SCRIPT,
  FENCE_SET_SCRIPT,
  FLUSH_SCRIPT,
  LEAVE_SCRIPT,
  READ_HASHES_SCRIPT,
  REGISTRY_SCRIPT,
  REPORT_SCRIPT,
} from './scripts.ts';
import { NoticeSync } from './sync.ts';

/** The fleet returned by {@link redisFleet}. */
export interface RedisFleet extends Fleet {
  /** Always `'redis'`. */
  readonly name: 'redis';
  /** This process's id in the instance registry (`<instance>#<random>`). */
  readonly instanceId: string;
  /** The key and channel prefix. */
  readonly prefix: string;
  /** Keys whose counts wait for a flush. */
  readonly pendingKeys: number;
  /** Matches per key per minute of `secretId` over the last `hours` (1 to 24). */
  timeline(secretId: string, options?: { hours?: number }): Promise<UsageTimeline>;
  /**
   * A replay store on the same client, under `<prefix>replay:` (`createVerifier({ fleet, replay:
   * fleet.replayStore() })`). Needs an ioredis or node-redis client (not an adapter).
   */
  replayStore(options?: Omit<RedisReplayStoreOptions, 'client' | 'prefix'>): RedisReplayStore;
}

/** Keys per flush script call. */
const BATCH_KEYS = 100;
/** Ledger hashes live this long after their last write (a held secret is reported at every reload). */
const LEDGER_TTL_S = 7 * 86_400;
/** Minute hashes (one per hour) live this long: 24 h of chart plus the hour in progress. */
const MINUTE_TTL_S = 25 * 3_600;
/** Registry entries of drained instances (serverless) are dropped after this long. */
const DRAINED_KEEP_MS = 7 * 86_400_000;

/**
 * Creates a fleet on Redis.
 *
 * @example Three receivers and a rotation, ioredis
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createVerifier, providers } from '@keyturn/core';
 * import { redisFleet } from '@keyturn/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false });
 * const fleet = redisFleet({ client: redis });
 * const verifier = createVerifier({
 *   provider: providers.dataspike(),
 *   keys: awsSecretsManagerStore({ client }),
 *   secretId: 'prod/dataspike/webhook',
 *   fleet,
 *   replay: fleet.replayStore(),
 * });
 * // elsewhere: rotateDataspikeSecret({ ..., fleet }) or `keyturn rotate dataspike ... --redis-url URL`
 * // and: readiness(await fleet.usage('prod/dataspike/webhook'), { quietMs: 15 * 60_000 })
 * ```
 */
export function redisFleet(options: RedisFleetOptions): RedisFleet {
  const settings = fleetSettings(options);
  const { names, prefix, instanceId, now, onEvent, flushIntervalMs, heartbeatMs, staleAfterMs, instanceTimeoutMs } = settings;
  const evalScript = scriptRunner(settings.commands, settings.commandTimeoutMs);

  const members = new Set<FleetMember>();
  const pending = new PendingLedger(settings.maxPendingKeys, settings.maxPendingKeys * 4);
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let flushing: Promise<void> | undefined;
  let again = false;
  let failures = 0;
  let closed = false;
  let reportedGap = 0;
  /** Keys of batches being written right now. */
  let inflightKeys = 0;

  function emit(event: KeyturnEvent): void {
    try {
      onEvent?.(event);
    } catch {
      // an observer never breaks the fleet
    }
    for (const m of members) m.emit(event);
  }

  const sync = new NoticeSync({
    commands: settings.commands,
    names,
    members,
    evalScript,
    now,
    emit,
    pendingKeys: () => pending.size,
    onResubscribed: () => scheduleFlush(0),
  });

  // --- ledger ----------------------------------------------------------------------------------

  function scheduleFlush(delayMs: number): void {
    if (closed || flushTimer !== undefined) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flush(false);
    }, delayMs);
    (flushTimer as { unref?: () => void }).unref?.();
  }

  /** Takes every member's counts, writes them, then reports this instance (`drained` after an explicit flush). */
  function flush(explicit: boolean): Promise<void> {
    if (flushing !== undefined) {
      again = true;
      return flushing.then(() => (again ? flush(explicit) : undefined));
    }
    again = false;
    flushing = (async () => {
      const takenAt = now();
      for (const m of members) pending.add(m.takeUsage());
      const batches = pending.take(BATCH_KEYS);
      for (const b of batches) inflightKeys += b.keys.length;
      let failed: unknown;
      await Promise.all(
        batches.map(async (b: SecretBatch) => {
          const { keys, args } = batchArgs(
            b,
            names.usage(b.secretId),
            names.fence(b.secretId),
            (h, k) => names.minutes(b.secretId, h, k),
            takenAt,
            LEDGER_TTL_S,
            MINUTE_TTL_S,
          );
          try {
            // The fence's remaining time comes back: one this instance has not heard of is applied now.
            sync.fenceFromLedger(b.secretId, Number(await evalScript('ledger flush', FLUSH_SCRIPT, keys, args)));
          } catch (error) {
            failed ??= error;
            pending.restore(b);
          } finally {
            inflightKeys -= b.keys.length;
          }
        }),
      );
      if (failed === undefined && members.size > 0) {
        try {
          await report(takenAt, explicit && pending.size === 0 ? 'd' : 'l');
        } catch (error) {
          failed = error;
        }
      }
      if (failed !== undefined) {
        failures++;
        // One event per failure streak, then one a minute.
        if (failures === 1 || failures % Math.max(1, Math.round(60_000 / flushIntervalMs)) === 0) {
          emit({ type: 'fleet-error', fleet: 'redis', operation: 'flush', pending: pending.size, error: failed });
        }
        scheduleFlush(Math.min(heartbeatMs, flushIntervalMs * 2 ** Math.min(failures, 6)));
        if (explicit) throw failed;
      } else failures = 0;
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  async function report(at: number, mode: 'l' | 'd'): Promise<void> {
    const gap = pending.gapUntil > reportedGap ? pending.gapUntil : 0;
    const entry = `${Math.round(at)}|${mode}|${staleAfterMs}|${instanceTimeoutMs}`;
    const seq = Number(
      await evalScript('report', REPORT_SCRIPT, [names.instances, names.seq], [instanceId, entry, gap > 0 ? String(Math.round(gap)) : '']),
    );
    if (gap > 0) reportedGap = gap;
    sync.observeSeq(seq);
  }

  function startHeartbeat(): void {
    if (heartbeat !== undefined || closed) return;
    heartbeat = setInterval(() => {
      if (!sync.subscribed) sync.subscribe();
      void flush(false).catch(() => undefined);
    }, heartbeatMs);
    (heartbeat as { unref?: () => void }).unref?.();
  }

  function stopHeartbeat(): void {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    flushTimer = undefined;
  }

  async function leaveRegistry(): Promise<void> {
    try {
      await flush(false);
      if (pending.size === 0) await evalScript('leave', LEAVE_SCRIPT, [names.instances], [instanceId]);
    } catch {
      // the entry times out; a gap is recorded then
    }
  }

  // --- the fleet ---------------------------------------------------------------------------------

  const fleet: RedisFleet = {
    name: 'redis',
    instanceId,
    prefix,
    get pendingKeys() {
      return pending.size + inflightKeys;
    },

    join(member: FleetMember): FleetMembership {
      if (closed) throw new TypeError('redisFleet(): this fleet was closed');
      members.add(member);
      sync.subscribe();
      startHeartbeat();
      // Report at once: a reader must know this instance exists before it counts anything.
      scheduleFlush(0);
      let left = false;
      return {
        usagePending: () => scheduleFlush(flushIntervalMs),
        async leave() {
          if (left) return;
          left = true;
          pending.add(member.takeUsage());
          members.delete(member);
          if (members.size === 0) {
            stopHeartbeat();
            await leaveRegistry();
            await sync.unsubscribe(false);
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
      // The key serves instances that subscribe (or resync) later; the notice those listening now.
      await evalScript('fence', FENCE_SET_SCRIPT, [names.fence(secretId)], [String(ttl)]);
      sync.applyFence(secretId, ttl);
      await sync.publish({ type: 'rotation-started', secretId, ttlMs: ttl });
    },

    async publishChange(secretId, opts: PublishChangeOptions = {}) {
      checkId('publishChange', secretId);
      if (opts.versionId !== undefined) checkId('publishChange', opts.versionId, 'versionId');
      await evalScript('fence end', FENCE_DEL_SCRIPT, [names.fence(secretId)], []);
      await sync.publish({ type: 'key-changed', secretId, versionId: opts.versionId });
    },

    async endRotation(secretId) {
      checkId('endRotation', secretId);
      await evalScript('fence end', FENCE_DEL_SCRIPT, [names.fence(secretId)], []);
      await sync.publish({ type: 'rotation-ended', secretId });
    },

    async usage(secretId): Promise<UsageSnapshot> {
      checkId('usage', secretId);
      if (members.size > 0) await flush(false).catch(() => undefined);
      const t = now();
      const registry = hashReply(
        await evalScript(
          'registry',
          REGISTRY_SCRIPT,
          [names.instances],
          [String(Math.round(t)), String(instanceTimeoutMs), String(DRAINED_KEEP_MS)],
        ),
      );
      const [ledger] = (await evalScript('ledger read', READ_HASHES_SCRIPT, [names.usage(secretId)], [])) as unknown[];
      return buildSnapshot(secretId, hashReply(ledger), registry, t, staleAfterMs);
    },

    async timeline(secretId, opts = {}) {
      checkId('timeline', secretId);
      const hours = opts.hours ?? 24;
      if (!Number.isInteger(hours) || hours < 1 || hours > 24) throw new TypeError('timeline(): `hours` must be an integer from 1 to 24');
      if (members.size > 0) await flush(false).catch(() => undefined);
      const toMinute = Math.floor(now() / 60_000);
      const fromMinute = toMinute - hours * 60 + 1;
      const fromHour = Math.floor(fromMinute / 60);
      const toHour = Math.floor(toMinute / 60);
      const [ledger] = (await evalScript('ledger read', READ_HASHES_SCRIPT, [names.usage(secretId)], [])) as unknown[];
      const keyIds = buildSnapshot(secretId, hashReply(ledger), new Map(), now(), staleAfterMs).keys.map((k) => k.keyId);
      const hashes: Map<string, string>[][] = [];
      for (const keyId of keyIds) {
        const keys: string[] = [];
        for (let h = fromHour; h <= toHour; h++) keys.push(names.minutes(secretId, h, keyId));
        const replies = (await evalScript('timeline read', READ_HASHES_SCRIPT, keys, [])) as unknown[];
        hashes.push(replies.map(hashReply));
      }
      return buildTimeline(secretId, keyIds, hashes, fromHour, fromMinute, toMinute);
    },

    async flush() {
      await flush(true);
    },

    async close() {
      if (closed) return;
      const wasMember = members.size > 0;
      for (const m of members) pending.add(m.takeUsage());
      members.clear();
      stopHeartbeat();
      if (wasMember || pending.size > 0) await leaveRegistry();
      closed = true;
      await sync.unsubscribe(true);
    },

    replayStore(opts = {}) {
      return redisReplayStore({ ...opts, client: options.client as IoRedisLike | NodeRedisLike, prefix: names.replay });
    },
  };
  return fleet;

  function checkId(method: string, id: unknown, what = 'secretId'): asserts id is string {
    if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
      throw new TypeError(`${method}(): \`${what}\` must be a non-empty string of at most 1024 characters`);
    }
  }
}
