/**
 * `@keyturn/core/testing`: the conformance suite every key store runs (ours and third-party ones).
 * It registers vitest `describe`/`it` blocks; vitest is an optional peer dependency.
 *
 * @example
 * ```ts
 * import { runKeyStoreConformance } from '@keyturn/core/testing';
 * runKeyStoreConformance({
 *   name: 'my vault store',
 *   async setup({ active, previous }) {
 *     await vault.write('webhooks/acme', { current: active, previous });
 *     return { store: vaultKeyStore({ client: vault }), secretId: 'webhooks/acme' };
 *   },
 * });
 * ```
 *
 * @module
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeyStoreError } from '../errors.ts';
import { durationOption } from '../lib/validate.ts';
import type { KeyStore, SecretVersion } from '../keys/types.ts';

/** The secrets a conformance fixture must hold. */
export interface ConformanceFixture {
  /** The active secret (a string). */
  readonly active: string;
  /** The previous secret (a string); the store may give it a `notAfter`. */
  readonly previous: string;
  /** A pending secret, when the store declares `capabilities.pending`. */
  readonly pending?: string;
  /** Bytes to hold as the active secret instead, when testing `capabilities.binary`. */
  readonly binary?: Uint8Array;
}

/** A store prepared by a conformance hook. */
export interface ConformanceSubject {
  /** The store under test. */
  readonly store: KeyStore;
  /** The secret id to read. */
  readonly secretId: string;
  /** Called after the test. */
  readonly cleanup?: () => Promise<void>;
}

/** Optional store capabilities the suite also checks. */
export interface ConformanceCapabilities {
  /** The store can hold a pending version. */
  readonly pending?: boolean;
  /** The store can hold binary secrets (returned as bytes). */
  readonly binary?: boolean;
}

/** Options of {@link runKeyStoreConformance}. */
export interface KeyStoreConformanceOptions {
  /** Title of the `describe` block. */
  readonly name: string;
  /** Creates a store whose secret holds exactly the fixture's versions. */
  setup(fixture: ConformanceFixture): Promise<ConformanceSubject>;
  /** What the store supports beyond active + previous. */
  readonly capabilities?: ConformanceCapabilities;
  /** A subject whose `getVersions` fails terminally (not found, access denied). */
  readonly terminalFailure?: () => Promise<ConformanceSubject>;
  /** A subject whose `getVersions` fails retryably (throttling, 5xx, network). */
  readonly retryableFailure?: () => Promise<ConformanceSubject>;
  /** A subject whose `getVersions` hangs until its signal aborts. */
  readonly hanging?: () => Promise<ConformanceSubject>;
  /** Longest time a hanging load may take to reject after its signal aborts, in ms. @default 2_000 */
  readonly abortDeadlineMs?: number;
}

function randomSecret(label: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return `${label}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function sameBytes(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === 'string' ? new TextEncoder().encode(a) : a;
  const y = typeof b === 'string' ? new TextEncoder().encode(b) : b;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function leaks(err: unknown, secrets: readonly string[]): string | undefined {
  const views: string[] = [];
  if (err instanceof Error) views.push(err.message, String(err.stack ?? ''), String(err));
  views.push(inspect(err, { depth: 2 }));
  try {
    views.push(JSON.stringify(err) ?? '');
  } catch {
    // not serialisable: nothing leaks through JSON
  }
  for (const s of secrets) if (views.some((v) => v.includes(s))) return s;
  return undefined;
}

async function withSubject<T>(make: () => Promise<ConformanceSubject>, fn: (s: ConformanceSubject) => Promise<T>): Promise<T> {
  const subject = await make();
  try {
    return await fn(subject);
  } finally {
    await subject.cleanup?.();
    await subject.store.dispose?.();
  }
}

/** Registers the key-store conformance tests. */
export function runKeyStoreConformance(options: KeyStoreConformanceOptions): void {
  const deadline = durationOption('runKeyStoreConformance()', 'abortDeadlineMs', options.abortDeadlineMs, 2_000, 1, 600_000);
  describe(`KeyStore conformance: ${options.name}`, () => {
    it('has a non-empty name', async () => {
      await withSubject(
        () => options.setup({ active: randomSecret('a'), previous: randomSecret('p') }),
        async ({ store }) => {
          expect(typeof store.name).toBe('string');
          expect(store.name.length).toBeGreaterThan(0);
        },
      );
    });

    it('returns the active and previous versions with roles, exactly as stored', async () => {
      const fixture = { active: randomSecret('active'), previous: randomSecret('previous') };
      await withSubject(
        () => options.setup(fixture),
        async ({ store, secretId }) => {
          const versions = await store.getVersions(secretId, { signal: new AbortController().signal });
          expect(Array.isArray(versions)).toBe(true);
          const active = versions.filter((v) => v.role === 'active');
          const previous = versions.filter((v) => v.role === 'previous');
          expect(active).toHaveLength(1);
          expect(previous).toHaveLength(1);
          expect(sameBytes(active[0]!.secret, fixture.active)).toBe(true);
          expect(sameBytes(previous[0]!.secret, fixture.previous)).toBe(true);
          checkShapes(versions, [fixture.active, fixture.previous]);
        },
      );
    });

    it('reports a window only as epoch-ms numbers with notBefore <= notAfter', async () => {
      await withSubject(
        () => options.setup({ active: randomSecret('a'), previous: randomSecret('p') }),
        async ({ store, secretId }) => {
          const versions = await store.getVersions(secretId, { signal: new AbortController().signal });
          for (const v of versions) {
            for (const edge of [v.notBefore, v.notAfter]) {
              if (edge !== undefined) expect(Number.isFinite(edge)).toBe(true);
            }
            if (v.notBefore !== undefined && v.notAfter !== undefined) expect(v.notBefore).toBeLessThanOrEqual(v.notAfter);
          }
        },
      );
    });

    it.runIf(options.capabilities?.pending === true)('returns a pending version when one is held', async () => {
      const fixture = { active: randomSecret('a'), previous: randomSecret('p'), pending: randomSecret('n') };
      await withSubject(
        () => options.setup(fixture),
        async ({ store, secretId }) => {
          const versions = await store.getVersions(secretId, { signal: new AbortController().signal });
          const pending = versions.filter((v) => v.role === 'pending');
          expect(pending).toHaveLength(1);
          expect(sameBytes(pending[0]!.secret, fixture.pending)).toBe(true);
        },
      );
    });

    it.runIf(options.capabilities?.binary === true)('returns binary secrets as bytes, unchanged', async () => {
      const binary = crypto.getRandomValues(new Uint8Array(32));
      binary[0] = 0xff; // not valid UTF-8 as a leading byte
      await withSubject(
        () => options.setup({ active: randomSecret('a'), previous: randomSecret('p'), binary }),
        async ({ store, secretId }) => {
          const versions = await store.getVersions(secretId, { signal: new AbortController().signal });
          const active = versions.find((v) => v.role === 'active');
          expect(active?.secret).toBeInstanceOf(Uint8Array);
          expect(sameBytes(active!.secret, binary)).toBe(true);
        },
      );
    });

    it('returns version ids that are stable across loads', async () => {
      await withSubject(
        () => options.setup({ active: randomSecret('a'), previous: randomSecret('p') }),
        async ({ store, secretId }) => {
          const signal = new AbortController().signal;
          const a = (await store.getVersions(secretId, { signal })).map((v) => v.id).sort();
          const b = (await store.getVersions(secretId, { signal })).map((v) => v.id).sort();
          expect(b).toEqual(a);
        },
      );
    });

    it.runIf(options.terminalFailure !== undefined)('throws a terminal KeyStoreError, never "no keys"', async () => {
      await withSubject(options.terminalFailure!, async ({ store, secretId }) => {
        const err = await store.getVersions(secretId, { signal: new AbortController().signal }).then(
          (v) => v,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(KeyStoreError);
        expect((err as KeyStoreError).retryable).toBe(false);
        expect((err as KeyStoreError).store).toBe(store.name);
      });
    });

    it.runIf(options.retryableFailure !== undefined)('throws a retryable KeyStoreError for transient faults', async () => {
      await withSubject(options.retryableFailure!, async ({ store, secretId }) => {
        const err = await store.getVersions(secretId, { signal: new AbortController().signal }).then(
          (v) => v,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(KeyStoreError);
        expect((err as KeyStoreError).retryable).toBe(true);
      });
    });

    it.runIf(options.hanging !== undefined)('honours the abort signal', async () => {
      await withSubject(options.hanging!, async ({ store, secretId }) => {
        const controller = new AbortController();
        const pending = store.getVersions(secretId, { signal: controller.signal }).then(
          () => 'resolved' as const,
          (e: unknown) => e,
        );
        const started = performance.now();
        controller.abort(new Error('test abort'));
        const outcome = await pending;
        expect(outcome).not.toBe('resolved');
        expect(performance.now() - started).toBeLessThan(deadline);
      });
    });

    it('rejects a load whose signal is already aborted', async () => {
      await withSubject(
        () => options.setup({ active: randomSecret('a'), previous: randomSecret('p') }),
        async ({ store, secretId }) => {
          const controller = new AbortController();
          controller.abort(new Error('aborted before start'));
          const outcome = await store.getVersions(secretId, { signal: controller.signal }).then(
            () => 'resolved' as const,
            (e: unknown) => e,
          );
          expect(outcome).not.toBe('resolved');
        },
      );
    });

    it('puts no secret into any error, id, inspect or JSON output', async () => {
      const fixture = { active: randomSecret('leak-active'), previous: randomSecret('leak-previous') };
      await withSubject(
        () => options.setup(fixture),
        async ({ store, secretId }) => {
          const versions = await store.getVersions(secretId, { signal: new AbortController().signal });
          for (const v of versions) {
            expect(v.id.includes(fixture.active) || v.id.includes(fixture.previous)).toBe(false);
          }
          const controller = new AbortController();
          controller.abort(new Error('x'));
          const err = await store.getVersions(secretId, { signal: controller.signal }).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (err !== undefined) expect(leaks(err, [fixture.active, fixture.previous])).toBeUndefined();
          expect(inspect(store, { depth: 4 }).includes(fixture.active)).toBe(false);
        },
      );
      for (const make of [options.terminalFailure, options.retryableFailure]) {
        if (make === undefined) continue;
        await withSubject(make, async ({ store, secretId }) => {
          const err = await store.getVersions(secretId, { signal: new AbortController().signal }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(leaks(err, [fixture.active, fixture.previous])).toBeUndefined();
        });
      }
    });
  });
}

function checkShapes(versions: readonly SecretVersion[], secrets: readonly string[]): void {
  const ids = new Set<string>();
  for (const v of versions) {
    expect(typeof v.id).toBe('string');
    expect(v.id.length).toBeGreaterThan(0);
    expect(ids.has(v.id)).toBe(false);
    ids.add(v.id);
    expect(['active', 'pending', 'previous']).toContain(v.role);
    expect(typeof v.secret === 'string' || v.secret instanceof Uint8Array).toBe(true);
    for (const s of secrets) expect(v.id.includes(s)).toBe(false);
  }
}
