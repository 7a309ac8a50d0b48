/**
 * Test stores and a fake clock shared by the cache suites. Real verifier, real cache; only the store
 * is scripted, and one fake clock drives the verifier (windows, TTLs, staleness, cooldowns, the
 * cold-load bucket) together with vitest's fake timers.
 */
import { createHmac } from 'node:crypto';
import { vi } from 'vitest';
import { KeyStoreError, type KeyStore, type SecretVersion } from '../../src/index.ts';

/** A fake clock; `advance` moves it and the fake timers together. */
export function fakeClock(start = Date.UTC(2026, 10, 24, 12)) {
  let t = start;
  return {
    now: () => t,
    async advance(ms: number) {
      t += ms;
      await vi.advanceTimersByTimeAsync(ms);
    },
  };
}

/** One pending store call. */
export interface StoreCall {
  secretId: string;
  signal: AbortSignal;
  resolve(v: SecretVersion[]): void;
  reject(e: unknown): void;
}

/** A store driven by the test: each call waits until the test resolves or rejects it (or `auto` answers). */
export function controllableStore(name = 'ctl') {
  const calls: StoreCall[] = [];
  let auto: ((secretId: string) => SecretVersion[] | Error) | undefined;
  const store: KeyStore = {
    name,
    getVersions(secretId, { signal }) {
      return new Promise<SecretVersion[]>((resolve, reject) => {
        calls.push({ secretId, signal, resolve, reject });
        if (auto) {
          const r = auto(secretId);
          if (r instanceof Error) reject(r);
          else resolve(r);
        }
      });
    },
  };
  return {
    store,
    calls,
    answer(fn: ((secretId: string) => SecretVersion[] | Error) | undefined) {
      auto = fn;
    },
  };
}

/**
 * A store that knows some tenants and answers after `latencyMs` (on the fake timers), like a network
 * store: keys for a known tenant, a terminal NOT_FOUND for anything else.
 */
export function tenantStore(known: (secretId: string) => SecretVersion[] | undefined, latencyMs = 20) {
  const calls: string[] = [];
  const store: KeyStore = {
    name: 'tenants',
    getVersions(secretId) {
      calls.push(secretId);
      return new Promise((resolve, reject) => {
        setTimeout(() => {
          const versions = known(secretId);
          if (versions === undefined) reject(notFound(secretId));
          else resolve(versions);
        }, latencyMs);
      });
    },
  };
  return { store, calls };
}

export const notFound = (secretId = 'x') =>
  new KeyStoreError(`tenants: ${secretId} does not exist`, { retryable: false, store: 'tenants', secretId, reason: 'NOT_FOUND' });

/** Hex HMAC-SHA256, computed independently of keyturn. */
export const mac = (secret: string | Uint8Array, body: string) => createHmac('sha256', secret).update(body).digest('hex');

/** Settles `promise` while advancing the fake clock in `stepMs` steps (at most `maxMs`). */
export async function settle<T>(
  promise: Promise<T>,
  clock: { advance(ms: number): Promise<void> },
  stepMs = 10,
  maxMs = 60_000,
): Promise<T> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let waited = 0; !done && waited < maxMs; waited += stepMs) await clock.advance(stepMs);
  return promise;
}
