/**
 * The key cache's store call: one load of a secret (single-flight per entry, the hard store
 * timeout, the cold-load token wait), checking what the store returned, building the ring, the
 * error backoff and the `load-*` / `key-invalid` / `previous-key-unbounded` events.
 *
 * @internal
 * @module
 */
import { KeyStoreError, type VerificationError } from '../errors.ts';
import type { KeyturnEvent } from '../events.ts';
import { buildRing, newlyUnboundedPrevious, versionProblem, type KeyRing, type KeyUsage, type UsageBook } from '../keys/ring.ts';
import type { KeyStore, SecretVersion } from '../keys/types.ts';
import type { ProviderProfile } from '../providers/types.ts';
import type { Entry, LoadReason } from './entry.ts';
import type { ResolvedCacheOptions } from './options.ts';

/** Background refreshes start at this fraction of the TTL, minus the jitter. */
const REFRESH_AT = 0.9;

/** What a load needs from the cache around it. */
export interface LoadContext {
  readonly store: KeyStore;
  readonly provider: ProviderProfile;
  readonly usage: UsageBook;
  readonly now: () => number;
  readonly emit: (event: KeyturnEvent) => void;
  readonly o: ResolvedCacheOptions;
  readonly random: () => number;
  /** The cold-load admission's rejection, for a queued load nobody waits for any more. */
  readonly limited: (secretId: string) => VerificationError;
  /** A cold load that held a token found usable keys. */
  readonly giveBackToken: () => void;
  /** A cold load failed terminally (the cache drops the entry and remembers the failure). */
  readonly forgetCold: (e: Entry, error: KeyStoreError, t: number) => void;
}

/** Loads `e` (or joins its load in flight). The promise never rejects unhandled. */
export type Load = (e: Entry, reason: LoadReason) => Promise<KeyRing>;

/** @internal */
export function storeLoader({ store, provider, usage, now, emit, o, random, limited, giveBackToken, forgetCold }: LoadContext): Load {
  const storeName = store.name;
  /** Usage records already reported by a `previous-key-unbounded` event. */
  const unboundedReported = new WeakSet<KeyUsage>();

  function load(e: Entry, reason: LoadReason): Promise<KeyRing> {
    if (e.inflight !== undefined) return e.inflight;
    const controller = new AbortController();
    e.controller = controller;
    const run = async (): Promise<KeyRing> => {
      if (e.queued) {
        // A cold load without a token waits for one (or for everyone waiting on it to give up).
        const admitted = await new Promise<boolean>((resolve) => {
          e.grant = resolve;
        });
        if (!admitted) {
          if (e.controller === controller) {
            e.inflight = undefined;
            e.controller = undefined;
          }
          throw limited(e.secretId);
        }
      }
      const started = now();
      e.lastLoadStartAt = started;
      emit({ type: 'load-start', store: storeName, secretId: e.secretId, reason });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hardTimeout = new Promise<never>((_, rejectTimeout) => {
        timer = setTimeout(() => {
          controller.abort();
          rejectTimeout(
            new KeyStoreError(`${storeName}: loading ${e.secretId} took longer than ${o.storeTimeoutMs} ms`, {
              retryable: true,
              store: storeName,
              secretId: e.secretId,
              reason: 'TIMEOUT',
            }),
          );
        }, o.storeTimeoutMs);
        (timer as { unref?: () => void }).unref?.();
      });
      try {
        await undefined; // settle asynchronously even if the store throws synchronously
        const versions = await Promise.race([store.getVersions(e.secretId, { signal: controller.signal }), hardTimeout]);
        const t = now();
        const ring = accept(e, versions, t);
        emit({
          type: 'load-success',
          store: storeName,
          secretId: e.secretId,
          reason,
          durationMs: t - started,
          versions: ring.entries.length,
        });
        if (e.admitted) {
          e.admitted = false;
          // The id exists: its token goes back, so genuine tenants never drain the bucket.
          if (ring.entries.length > 0) giveBackToken();
        }
        return ring;
      } catch (err) {
        const error = classify(err, e.secretId);
        const t = now();
        e.admitted = false;
        e.lastError = error;
        e.lastErrorAt = t;
        e.failures++;
        const backoff = Math.min(o.errorBackoffMs * 2 ** (e.failures - 1), Math.max(o.ttlMs, o.errorBackoffMs));
        e.retryAt = t + backoff * (1 - o.jitter * random() * 0.5);
        emit({
          type: 'load-failure',
          store: storeName,
          secretId: e.secretId,
          reason,
          durationMs: t - started,
          retryable: error.retryable,
          error,
        });
        if (!error.retryable && e.ring === undefined) forgetCold(e, error, t);
        throw error;
      } finally {
        clearTimeout(timer);
        if (e.controller === controller) {
          e.inflight = undefined;
          e.controller = undefined;
        }
      }
    };
    const p: Promise<KeyRing> = run();
    // Background loads must never surface as unhandled rejections.
    p.catch(() => undefined);
    e.inflight = p;
    return p;
  }

  function accept(e: Entry, versions: unknown, t: number): KeyRing {
    if (!Array.isArray(versions)) {
      throw new KeyStoreError(`${storeName}: getVersions did not return an array`, {
        retryable: false,
        store: storeName,
        secretId: e.secretId,
        reason: 'INVALID_FORMAT',
        code: 'BAD_RESULT',
      });
    }
    for (const v of versions) {
      const problem = versionProblem(v);
      if (problem !== undefined) {
        throw new KeyStoreError(`${storeName}: ${problem}`, {
          retryable: false,
          store: storeName,
          secretId: e.secretId,
          reason: 'INVALID_FORMAT',
          code: 'BAD_RESULT',
        });
      }
    }
    const ring = buildRing(e.secretId, versions as SecretVersion[], provider, e.ring, usage, t);
    for (const bad of ring.invalid) {
      emit({ type: 'key-invalid', store: storeName, secretId: e.secretId, keyId: bad.id, keyRole: bad.role, reason: bad.reason });
    }
    for (const k of newlyUnboundedPrevious(ring, unboundedReported)) {
      emit({ type: 'previous-key-unbounded', store: storeName, secretId: e.secretId, keyId: k.id });
    }
    e.ring = ring;
    e.loadedAt = t;
    e.refreshAt = t + o.ttlMs * (REFRESH_AT - o.jitter * random());
    e.lastError = undefined;
    e.failures = 0;
    e.retryAt = 0;
    e.invalidated = false;
    return ring;
  }

  function classify(err: unknown, secretId: string): KeyStoreError {
    if (err instanceof KeyStoreError) return err;
    return new KeyStoreError(`${storeName}: loading ${secretId} failed${errorLabel(err)}`, {
      retryable: true,
      store: storeName,
      secretId,
      reason: 'UNAVAILABLE',
      code: 'UNKNOWN',
      cause: err,
    });
  }

  return load;
}

/** `" (TypeError ECONNRESET)"` for an error a store did not classify: its name and code, never its message. */
function errorLabel(err: unknown): string {
  if (err === null || typeof err !== 'object') return '';
  const name = (err as { name?: unknown }).name;
  const code = (err as { code?: unknown }).code;
  const parts = [
    typeof name === 'string' && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(name) ? name : undefined,
    typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(code) ? code : undefined,
  ].filter((x): x is string => x !== undefined);
  return parts.length === 0 ? '' : ` (${parts.join(' ')})`;
}
