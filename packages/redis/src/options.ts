/**
 * `redisFleet()`'s options: their type, their validation (every duration in range), and the one way
 * the fleet runs a Redis command (with a timeout, failures as {@link RedisFleetError}).
 *
 * @module
 */
import { hostname } from 'node:os';
import type { KeyturnEvent } from '@keyturn/core';
import { toFleetCommands, type RedisFleetCommands } from './client.ts';
import { checkPrefix, keyNames, type KeyNames } from './keys.ts';
import type { IoRedisLike, NodeRedisLike } from './replay.ts';

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

/** The options once checked, with their defaults. */
export interface FleetSettings {
  readonly commands: RedisFleetCommands;
  readonly prefix: string;
  readonly names: KeyNames;
  readonly flushIntervalMs: number;
  readonly heartbeatMs: number;
  readonly staleAfterMs: number;
  readonly instanceTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly maxPendingKeys: number;
  readonly now: () => number;
  readonly onEvent: ((event: KeyturnEvent) => void) | undefined;
  readonly instanceId: string;
}

/** Checks every option (a clear `TypeError` naming the bad one) and fills in the defaults. */
export function fleetSettings(options: RedisFleetOptions): FleetSettings {
  const where = 'redisFleet()';
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: pass { client }`);
  const commands = toFleetCommands(options.client, where);
  const prefix = checkPrefix(where, options.prefix);
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
  const commandTimeoutMs = ms(where, 'commandTimeoutMs', options.commandTimeoutMs, 1_000, 1, 60_000);
  const maxPendingKeys = options.maxPendingKeys ?? 50_000;
  if (!Number.isSafeInteger(maxPendingKeys) || maxPendingKeys < 1) {
    throw new TypeError(`${where}: \`maxPendingKeys\` must be a positive integer`);
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError(`${where}: \`now\` must be a function returning epoch ms`);
  const name = options.instance ?? defaultInstanceName();
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || /[|\s]/.test(name)) {
    throw new TypeError(`${where}: \`instance\` must be a non-empty name of at most 200 characters without "|" or whitespace`);
  }
  return {
    commands,
    prefix,
    names: keyNames(prefix),
    flushIntervalMs,
    heartbeatMs,
    staleAfterMs,
    instanceTimeoutMs,
    commandTimeoutMs,
    maxPendingKeys,
    now,
    onEvent: options.onEvent,
    instanceId: `${name}#${globalThis.crypto.randomUUID().slice(0, 8)}`,
  };
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

/** Runs one script: `commandTimeoutMs` at most, any failure as a {@link RedisFleetError}. */
export type EvalScript = (what: string, script: string, keys: string[], args: string[]) => Promise<unknown>;

/** The fleet's {@link EvalScript} on its commands. */
export function scriptRunner(commands: RedisFleetCommands, commandTimeoutMs: number): EvalScript {
  return (what, script, keys, args) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisFleetError(`Redis ${what} timed out after ${commandTimeoutMs} ms`, 'timeout')),
        commandTimeoutMs,
      );
      (timer as { unref?: () => void }).unref?.();
    });
    let call: Promise<unknown>;
    try {
      call = Promise.resolve(commands.eval(script, keys, args));
    } catch (error) {
      call = Promise.reject(error);
    }
    const wrapped = call.then(undefined, (error: unknown) => {
      throw new RedisFleetError(`Redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`, 'command-failed', error);
    });
    wrapped.catch(() => undefined);
    return Promise.race([wrapped, timeout]).finally(() => clearTimeout(timer));
  };
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
