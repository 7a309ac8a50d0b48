/**
 * `redisFleet()`: a keyturn {@link Fleet} on Redis — notices over pub/sub on a dedicated subscriber
 * connection, rotation fences as keys with a TTL, the usage ledger as hashes written in batches, an
 * instance registry that turns silent instances into "no" verdicts, and replay claims under the same
 * prefix.
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
  type FleetNotice,
  type KeyturnEvent,
  type PublishChangeOptions,
  type UsageSnapshot,
  type UsageTimeline,
} from '@keyturn/core';
import { toFleetCommands, type RedisFleetCommands, type RedisSubscription } from './client.ts';
import { checkPrefix, keyNames, type KeyNames } from './keys.ts';
import { batchArgs, buildSnapshot, buildTimeline, hashReply, PendingLedger, type SecretBatch } from './ledger.ts';
import { decodeNotice, noticeTemplate } from './notices.ts';
import { redisReplayStore, type IoRedisLike, type NodeRedisLike, type RedisReplayStore, type RedisReplayStoreOptions } from './replay.ts';
import {
  FENCE_DEL_SCRIPT,
  FENCE_SET_SCRIPT,
  FENCE_TTL_SCRIPT,
  FLUSH_SCRIPT,
  LEAVE_SCRIPT,
  PUBLISH_SCRIPT,
  READ_HASHES_SCRIPT,
  REGISTRY_SCRIPT,
  REPORT_SCRIPT,
} from './scripts.ts';

/** Options of {@link redisFleet}. Every duration is in ms. */
export interface RedisFleetOptions {
  /**
   * A connected ioredis or node-redis client or cluster (or a {@link RedisFleetCommands} adapter). The
   * fleet runs its scripts on it and creates one subscriber connection with `client.duplicate()` when
   * the first verifier joins. Its lifecycle stays yours: `close()` never quits it.
   */
  client: IoRedisLike | NodeRedisLike | RedisFleetCommands | object;
  /** Prefix of every key and of the notice channel (one per application sharing the Redis). @default 'keyturn:' */
  prefix?: string;
  /** This process's name in the instance registry, for humans. @default `<hostname>:<pid>` */
  instance?: string;
  /** Longest time counts wait in memory before they are written (100 to 60 000). @default 1_000 */
  flushIntervalMs?: number;
  /**
   * How often an idle instance reports that it is alive (and flushes), from `flushIntervalMs` to 60 000.
   * An instance that has not reported for `staleAfterMs` holds every "safe to retire" verdict at "no".
   * @default 5_000
   */
  heartbeatMs?: number;
  /** An instance silent this long is missing: no key is called quiet while it is (at least 2 × `heartbeatMs`). @default 15_000 */
  staleAfterMs?: number;
  /**
   * A missing instance silent this long is presumed gone: it leaves the registry, and silence before its
   * last report + this timeout is no evidence (it may have lost up to one flush of counts).
   * At least `staleAfterMs`. @default 300_000
   */
  instanceTimeoutMs?: number;
  /** Longest wait for one Redis command (a slower one counts as failed; the counts are kept). @default 1_000 */
  commandTimeoutMs?: number;
  /** Most keys whose counts wait for a flush (past it the oldest are dropped and an evidence gap is recorded). @default 50_000 */
  maxPendingKeys?: number;
  /** Clock for reports and snapshots, epoch ms. @default Date.now */
  now?: () => number;
  /** Events of the fleet itself (also sent to every joined verifier's `onEvent`). */
  onEvent?: (event: KeyturnEvent) => void;
}

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
/** A notice number ahead of the last one received for this long means notices were missed. */
const SEQ_GRACE_MS = 1_000;

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
  const where = 'redisFleet()';
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: pass { client }`);
  const commands = toFleetCommands(options.client, where);
  const prefix = checkPrefix(where, options.prefix);
  const names = keyNames(prefix);
  const flushIntervalMs = ms(where, 'flushIntervalMs', options.flushIntervalMs, 1_000, 100, 60_000);
  const heartbeatMs = ms(where, 'heartbeatMs', options.heartbeatMs, Math.max(5_000, flushIntervalMs), flushIntervalMs, 60_000);
  const staleAfterMs = ms(where, 'staleAfterMs', options.staleAfterMs, Math.max(15_000, 3 * heartbeatMs), 2 * heartbeatMs, 86_400_000);
  const instanceTimeoutMs = ms(where, 'instanceTimeoutMs', options.instanceTimeoutMs, Math.max(300_000, staleAfterMs), staleAfterMs, 30 * 86_400_000);
  const commandTimeoutMs = ms(where, 'commandTimeoutMs', options.commandTimeoutMs, 1_000, 1, 60_000);
  const maxPendingKeys = options.maxPendingKeys ?? 50_000;
  if (!Number.isSafeInteger(maxPendingKeys) || maxPendingKeys < 1) throw new TypeError(`${where}: \`maxPendingKeys\` must be a positive integer`);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError(`${where}: \`now\` must be a function returning epoch ms`);
  const onEvent = options.onEvent;
  const name = options.instance ?? defaultInstanceName();
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || /[|\s]/.test(name)) {
    throw new TypeError(`${where}: \`instance\` must be a non-empty name of at most 200 characters without "|" or whitespace`);
  }
  const instanceId = `${name}#${globalThis.crypto.randomUUID().slice(0, 8)}`;

  const members = new Set<FleetMember>();
  const pending = new PendingLedger(maxPendingKeys, maxPendingKeys * 4);
  let subscription: RedisSubscription | undefined;
  let subscribing: Promise<void> | undefined;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let flushing: Promise<void> | undefined;
  let again = false;
  let failures = 0;
  let closed = false;
  /** Number of the last notice received (or read); `undefined` until known. */
  let lastSeq: number | undefined;
  /** Since when the sequence read from Redis is ahead of the last notice received. */
  let behindSince: number | undefined;
  let reportedGap = 0;
  /** Keys of batches being written right now. */
  let inflightKeys = 0;
  /** Secrets whose current fence this process has applied (from a notice or a flush), bounded. */
  const fencesSeen = new Set<string>();
  function rememberFence(secretId: string): void {
    if (fencesSeen.size >= 10_000) fencesSeen.clear();
    fencesSeen.add(secretId);
  }

  function emit(event: KeyturnEvent): void {
    try {
      onEvent?.(event);
    } catch {
      // an observer never breaks the fleet
    }
    for (const m of members) m.emit(event);
  }

  function run<T>(what: string, command: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisFleetError(`Redis ${what} timed out after ${commandTimeoutMs} ms`, 'timeout')), commandTimeoutMs);
      (timer as { unref?: () => void }).unref?.();
    });
    let call: Promise<T>;
    try {
      call = Promise.resolve(command());
    } catch (error) {
      call = Promise.reject(error);
    }
    const wrapped = call.then(undefined, (error: unknown) => {
      throw new RedisFleetError(`Redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`, 'command-failed', error);
    });
    wrapped.catch(() => undefined);
    return Promise.race([wrapped, timeout]).finally(() => clearTimeout(timer));
  }

  const evalScript = (what: string, script: string, keys: string[], args: string[]): Promise<unknown> =>
    run(what, () => commands.eval(script, keys, args));

  // --- notices ---------------------------------------------------------------------------------

  async function publish(notice: FleetNotice): Promise<void> {
    await evalScript('PUBLISH', PUBLISH_SCRIPT, [names.seq], [names.channel, noticeTemplate(notice)]);
  }

  function onMessage(message: string): void {
    const decoded = decodeNotice(message);
    if (typeof decoded === 'string') {
      emit({ type: 'fleet-notice-ignored', fleet: 'redis', reason: decoded, length: message.length });
      return;
    }
    const { notice, seq } = decoded;
    if (lastSeq !== undefined && seq > lastSeq + 1) void resync();
    if (lastSeq === undefined || seq > lastSeq) lastSeq = seq;
    behindSince = undefined;
    if (notice.type === 'rotation-started') rememberFence(notice.secretId);
    else fencesSeen.delete(notice.secretId);
    for (const m of members) {
      if (notice.type === 'key-changed') void m.changed(notice.secretId, notice.versionId);
      else m.fence(notice.secretId, notice.type === 'rotation-started' ? notice.ttlMs : 0);
    }
  }

  async function fenceState(): Promise<void> {
    const ids = new Set<string>();
    for (const m of members) for (const id of m.secretIds()) ids.add(id);
    await Promise.all(
      [...ids].map(async (id) => {
        const ttl = Number(await evalScript('PTTL', FENCE_TTL_SCRIPT, [names.fence(id)], []));
        if (ttl > 0) {
          rememberFence(id);
          for (const m of members) m.fence(id, ttl);
        }
      }),
    );
  }

  let resyncing: Promise<void> | undefined;
  function resync(): Promise<void> {
    if (resyncing !== undefined) return resyncing;
    resyncing = (async () => {
      try {
        // Fences that stand now (their notices may be among the missed ones), then every held secret.
        await fenceState().catch((error: unknown) => emit({ type: 'fleet-error', fleet: 'redis', operation: 'resync', pending: pending.size, error }));
        await Promise.all([...members].map((m) => m.resync()));
      } finally {
        resyncing = undefined;
      }
    })();
    return resyncing;
  }

  function subscribe(): void {
    if (subscribing !== undefined || closed) return;
    subscribing = (async () => {
      try {
        subscription = await commands.subscribe(names.channel, {
          onMessage,
          onResubscribed: () => {
            void resync();
            scheduleFlush(0);
          },
          onError: () => undefined, // the subscriber reconnects by itself; `onResubscribed` follows
        });
        if (closed) await subscription.close();
      } catch (error) {
        emit({ type: 'fleet-error', fleet: 'redis', operation: 'subscribe', pending: pending.size, error });
        subscribing = undefined;
        // Retried by the next heartbeat.
      }
    })();
  }

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
          const { keys, args } = batchArgs(b, names.usage(b.secretId), names.fence(b.secretId), (h, k) => names.minutes(b.secretId, h, k), takenAt, LEDGER_TTL_S, MINUTE_TTL_S);
          try {
            const fenceTtl = Number(await evalScript('ledger flush', FLUSH_SCRIPT, keys, args));
            // A fence this instance has not heard of (it started during it, or missed the notice).
            if (fenceTtl > 0 && !fencesSeen.has(b.secretId)) {
              rememberFence(b.secretId);
              for (const m of members) m.fence(b.secretId, fenceTtl);
            } else if (fenceTtl <= 0) fencesSeen.delete(b.secretId);
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
    const seq = Number(await evalScript('report', REPORT_SCRIPT, [names.instances, names.seq], [instanceId, entry, gap > 0 ? String(Math.round(gap)) : '']));
    if (gap > 0) reportedGap = gap;
    if (!Number.isFinite(seq) || members.size === 0) return;
    // Missed notices show as a sequence ahead of the last notice received (or behind it: Redis was reset).
    if (lastSeq === undefined) lastSeq = seq;
    else if (seq < lastSeq) {
      lastSeq = seq;
      void resync();
    } else if (seq > lastSeq) {
      const t = now();
      if (behindSince === undefined) behindSince = t;
      else if (t - behindSince >= SEQ_GRACE_MS) {
        lastSeq = seq;
        behindSince = undefined;
        void resync();
      }
    }
  }

  function startHeartbeat(): void {
    if (heartbeat !== undefined || closed) return;
    heartbeat = setInterval(() => {
      if (subscription === undefined) subscribe();
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

  async function unsubscribe(): Promise<void> {
    await subscribing?.catch(() => undefined);
    const s = subscription;
    subscription = undefined;
    subscribing = undefined;
    await s?.close().catch(() => undefined);
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
      subscribe();
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
            await unsubscribe();
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
      rememberFence(secretId);
      for (const m of members) m.fence(secretId, ttl);
      await publish({ type: 'rotation-started', secretId, ttlMs: ttl });
    },

    async publishChange(secretId, opts: PublishChangeOptions = {}) {
      checkId('publishChange', secretId);
      if (opts.versionId !== undefined) checkId('publishChange', opts.versionId, 'versionId');
      await evalScript('fence end', FENCE_DEL_SCRIPT, [names.fence(secretId)], []);
      await publish({ type: 'key-changed', secretId, versionId: opts.versionId });
    },

    async endRotation(secretId) {
      checkId('endRotation', secretId);
      await evalScript('fence end', FENCE_DEL_SCRIPT, [names.fence(secretId)], []);
      await publish({ type: 'rotation-ended', secretId });
    },

    async usage(secretId): Promise<UsageSnapshot> {
      checkId('usage', secretId);
      if (members.size > 0) await flush(false).catch(() => undefined);
      const t = now();
      const registry = hashReply(await evalScript('registry', REGISTRY_SCRIPT, [names.instances], [String(Math.round(t)), String(instanceTimeoutMs), String(DRAINED_KEEP_MS)]));
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
      await unsubscribe();
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

/** What a failed fleet command is reported as (in `fleet-error` events and rejected publishes). */
export class RedisFleetError extends Error {
  /** `'timeout'` when the command exceeded `commandTimeoutMs`, else `'command-failed'`. */
  readonly reason: 'timeout' | 'command-failed';

  constructor(message: string, reason: 'timeout' | 'command-failed', cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RedisFleetError';
    this.reason = reason;
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
  let host = 'host';
  try {
    host = hostname().replace(/[|\s]/g, '_') || host;
  } catch {
    // keep the default
  }
  return `${host}:${typeof process === 'object' ? process.pid : 0}`;
}
