/**
 * The verifier side of replay defence: the key of a verified request, its TTL, the claim with the
 * fail-open / fail-closed policy, and the release handle attached to results.
 *
 * @internal
 * @module
 */
import { requestRejection, VerificationError } from '../errors.ts';
import type { KeyturnEvent } from '../events.ts';
import type { ParsedSignature, ProviderProfile } from '../providers/types.ts';
import { booleanOption, durationOption, HOUR_MS, numberOption } from '../lib/validate.ts';
import { hasSyncDigest, sha256Hex, sha256HexSync } from './digest.ts';
import type { ReplayClaim, ReplayOptions, ReplayStore } from './types.ts';

/** Default TTL of claims for profiles without a signed timestamp: 24 h. */
export const UNTIMESTAMPED_TTL_MS = 86_400_000;
/** Default clock skew added to derived TTLs. */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;
/** Longest claim TTL: one year. */
const MAX_REPLAY_TTL_MS = 31_536_000_000;
/** Event ids longer than this are hashed into the key (a body field is unbounded). */
const MAX_ID_LENGTH = 200;

/** What the verifier needs from a guard. */
export interface ReplayGuard {
  /** TTL of every claim, ms. */
  readonly ttlMs: number;
  /** Key of a verified request (async: the digest may need `crypto.subtle`). */
  key(parsed: ParsedSignature, body: string | Uint8Array, secretId: string): Promise<ReplayKey>;
  /** Same, synchronously; throws a `TypeError` on runtimes without a synchronous SHA-256. */
  keySync(parsed: ParsedSignature, body: string | Uint8Array, secretId: string): ReplayKey;
  /** Claims; resolves to the handle to attach, or throws `REPLAYED` / `KEYSTORE_UNAVAILABLE`. */
  claim(key: ReplayKey, secretId: string): Promise<ReplayClaim>;
  /** Synchronous claim for `verifySync` (synchronous stores only). */
  claimSync(key: ReplayKey, secretId: string): ReplayClaim;
  /** Throws a `TypeError` unless `verifySync` can use this guard. */
  assertSync(): void;
}

/** A computed key and the event id it came from (if any). */
export interface ReplayKey {
  readonly key: string;
  readonly eventId: string | undefined;
}

/** Escapes the separator in a key component so `a:b` + `c` and `a` + `b:c` never collide. */
function component(text: string): string {
  return text.includes(':') || text.includes('%') ? text.replaceAll('%', '%25').replaceAll(':', '%3A') : text;
}

/** Builds the guard of one verifier; validates the options (TypeError on misuse). */
export function createReplayGuard(
  options: ReplayOptions | ReplayStore,
  provider: ProviderProfile,
  now: () => number,
  emit: (event: KeyturnEvent) => void,
): ReplayGuard {
  const opts: ReplayOptions = isStore(options) ? { store: options } : options;
  const store = opts.store;
  if (!isStore(store)) {
    throw new TypeError('createVerifier(): `replay.store` must be a replay store such as memoryReplayStore()');
  }
  const storeName = store.name ?? 'custom';
  const skew = durationOption('createVerifier()', 'replay.clockSkewMs', opts.clockSkewMs, DEFAULT_CLOCK_SKEW_MS, 0, HOUR_MS);
  const tolerance = provider.timestampTolerance;
  const minTtl = tolerance === undefined ? 1 : tolerance.pastMs + tolerance.futureMs;
  if (!Number.isFinite(minTtl)) {
    throw new TypeError(
      `createVerifier(): replay defence needs a finite ${provider.name} timestamp tolerance (claims would have to live forever)`,
    );
  }
  const rawTtl: unknown = opts.ttlMs === undefined ? (tolerance === undefined ? UNTIMESTAMPED_TTL_MS : minTtl + skew) : opts.ttlMs;
  if (typeof rawTtl !== 'number' || !Number.isFinite(rawTtl) || rawTtl > MAX_REPLAY_TTL_MS) {
    throw new TypeError(`createVerifier(): \`replay.ttlMs\` must be a finite number of ms, at most ${MAX_REPLAY_TTL_MS} (one year)`);
  }
  const ttlMs: number = rawTtl;
  if (ttlMs < minTtl) {
    throw new TypeError(
      tolerance === undefined
        ? 'createVerifier(): `replay.ttlMs` must be a positive number of ms'
        : `createVerifier(): \`replay.ttlMs\` must be at least ${minTtl} ms (the ${provider.name} timestamp tolerance, past + future); replays would pass once a claim expired`,
    );
  }
  const duplicateStatus = numberOption('createVerifier()', 'replay.duplicateStatus', opts.duplicateStatus, 409, 200, 599, true);
  const failOpen = booleanOption('createVerifier()', 'replay.failOpen', opts.failOpen, false);
  const prefix = `${component(provider.name)}:`;
  const fromBody = provider.eventIdFromBody?.bind(provider);

  function eventIdOf(parsed: ParsedSignature, body: string | Uint8Array): string | undefined {
    // Only a signed id may key the claim: an unsigned one can be changed by whoever replays the request.
    if (parsed.eventId !== undefined && parsed.eventIdSigned === true) return parsed.eventId;
    if (fromBody === undefined) return undefined;
    try {
      return fromBody(body);
    } catch {
      return undefined;
    }
  }

  function build(secretId: string, eventId: string | undefined, tail: string): ReplayKey {
    return { key: `${prefix}${component(secretId)}:${tail}`, eventId };
  }

  function duplicate(secretId: string, key: ReplayKey): VerificationError {
    return requestRejection(
      'REPLAYED',
      key.eventId === undefined
        ? 'This signed request was already accepted (same signed content).'
        : 'This event was already accepted (same event id).',
      {
        provider: provider.name,
        secretId,
        status: duplicateStatus,
        hint: 'A replay, or a duplicate delivery of an event being or already processed. Retries after a failed handler are accepted once the claim is released.',
      },
    );
  }

  /** Emits the failure; throws unless fail-open. */
  function storeFailed(secretId: string, error: unknown): void {
    emit({
      type: 'replay-store-error',
      store: storeName,
      provider: provider.name,
      secretId,
      operation: 'claim',
      outcome: failOpen ? 'accepted-unprotected' : 'rejected',
      error,
    });
    if (failOpen) return;
    throw new VerificationError(
      'KEYSTORE_UNAVAILABLE',
      `The replay store (${storeName}) is unavailable; the request was refused so the sender retries it.`,
      {
        provider: provider.name,
        secretId,
        status: 503,
        cause: error,
        hint: 'Restore the replay store, or set replay.failOpen to accept deliveries without replay protection during an outage.',
      },
    );
  }

  function handle(key: ReplayKey, secretId: string, claimed: boolean): ReplayClaim {
    const claimedAt = now();
    let released = !claimed;
    return {
      replayKey: key.key,
      release() {
        if (released) return Promise.resolve();
        released = true;
        // After the TTL the key may belong to a later delivery: never remove that one.
        if (now() - claimedAt >= ttlMs) return Promise.resolve();
        let pending: void | Promise<void>;
        try {
          pending = store.release(key.key);
        } catch (error) {
          releaseFailed(secretId, error);
          return Promise.resolve();
        }
        return Promise.resolve(pending).then(undefined, (error: unknown) => releaseFailed(secretId, error));
      },
    };
  }

  function releaseFailed(secretId: string, error: unknown): void {
    emit({
      type: 'replay-store-error',
      store: storeName,
      provider: provider.name,
      secretId,
      operation: 'release',
      outcome: 'release-failed',
      error,
    });
  }

  function tailOf(eventId: string): string {
    return eventId.length > MAX_ID_LENGTH ? `id-sha256:${sha256HexSync(undefined, eventId)}` : eventId;
  }

  return {
    ttlMs,
    async key(parsed, body, secretId) {
      const eventId = eventIdOf(parsed, body);
      if (eventId !== undefined) {
        if (eventId.length > MAX_ID_LENGTH && !hasSyncDigest)
          return build(secretId, eventId, `id-sha256:${await sha256Hex(undefined, eventId)}`);
        return build(secretId, eventId, tailOf(eventId));
      }
      return build(secretId, undefined, `sha256:${await sha256Hex(parsed.prefix, body)}`);
    },
    keySync(parsed, body, secretId) {
      const eventId = eventIdOf(parsed, body);
      if (eventId !== undefined && eventId.length <= MAX_ID_LENGTH) return build(secretId, eventId, eventId);
      if (!hasSyncDigest) {
        throw new TypeError(
          'verifySync() with replay defence needs a synchronous SHA-256 (node:crypto); use `await verifier.verify()` on this runtime',
        );
      }
      if (eventId !== undefined) return build(secretId, eventId, tailOf(eventId));
      return build(secretId, undefined, `sha256:${sha256HexSync(parsed.prefix, body)}`);
    },
    async claim(key, secretId) {
      let claimed: boolean;
      try {
        claimed = await store.claim(key.key, ttlMs);
      } catch (error) {
        storeFailed(secretId, error);
        return handle(key, secretId, false);
      }
      if (typeof claimed !== 'boolean') {
        storeFailed(secretId, new TypeError(`The ${storeName} replay store's claim() resolved to a ${typeof claimed}, not a boolean`));
        return handle(key, secretId, false);
      }
      if (!claimed) throw duplicate(secretId, key);
      return handle(key, secretId, true);
    },
    claimSync(key, secretId) {
      let claimed: boolean | Promise<boolean>;
      try {
        claimed = store.claim(key.key, ttlMs);
      } catch (error) {
        storeFailed(secretId, error);
        return handle(key, secretId, false);
      }
      if (typeof claimed !== 'boolean') {
        // A store that said it was synchronous returned a promise: undo whatever it claims, then refuse.
        Promise.resolve(claimed)
          .then(
            (ok) => (ok ? store.release(key.key) : undefined),
            () => undefined,
          )
          .then(undefined, () => undefined);
        throw syncStoreError(storeName);
      }
      if (!claimed) throw duplicate(secretId, key);
      return handle(key, secretId, true);
    },
    assertSync() {
      if (store.synchronous !== true) throw syncStoreError(storeName);
    },
  };
}

function syncStoreError(storeName: string): TypeError {
  return new TypeError(
    `verifySync() cannot use the ${storeName} replay store: its claim is asynchronous. Use \`await verifier.verify()\`, or memoryReplayStore() for a single process.`,
  );
}

function isStore(value: unknown): value is ReplayStore {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as ReplayStore).claim === 'function' &&
    typeof (value as ReplayStore).release === 'function'
  );
}

/** Attaches the claim to a result as non-enumerable `release` and `replayKey` (spreads and logs stay clean). */
export function attachClaim<T extends object>(result: T, claim: ReplayClaim): T {
  Object.defineProperty(result, 'replayKey', { value: claim.replayKey, enumerable: false });
  Object.defineProperty(result, 'release', { value: claim.release, enumerable: false });
  return result;
}
