/**
 * The whole Dataspike rotation story against one store, registered as vitest tests. Each store
 * (env-file here; AWS and GCP through their test servers) calls it with a setup function.
 */
import { createVerifier, providers, type KeyStore } from '@keyturn/core';
import { expect, it } from 'vitest';
import { readiness, rotateDataspikeSecret } from '../src/index.ts';
import { startDataspikeTestServer } from '../src/testing/index.ts';

/** A store holding `initial` as the only (active) version of `secretId`. */
export interface StorySubject {
  store: KeyStore;
  secretId: string;
  cleanup?: () => Promise<void>;
}

const API_KEY = 'ds-test-api-key-1234';
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';
export const INITIAL = `whsec_${'0123456789abcdef'.repeat(4)}`;
/** The grace every story rotation asks for (stores that fix the window in their configuration use it there). */
export const STORY_GRACE_MS = 3_600_000;
const instant = async (): Promise<void> => undefined;

/** Registers the end-to-end story for a store. */
export function dataspikeRotationStory(name: string, setup: (initial: string, clock: () => number) => Promise<StorySubject>): void {
  it(`${name}: rotate → old and new both verify, reported by key → after the grace only the new one → verdict says safe`, async () => {
    let now = Date.now();
    const clock = (): number => now;
    const ds = await startDataspikeTestServer({ apiKey: API_KEY, webhooks: { [WEBHOOK]: INITIAL } });
    const { store, secretId, cleanup } = await setup(INITIAL, clock);
    const startedAt = now;
    const verifier = createVerifier({ provider: providers.dataspike(), keys: store, secretId, now: clock });
    try {
      const body = (n: number): string => JSON.stringify({ id: `evt-${n}`, event_type: 'AML_SCREENING', payload: {} });
      const ts = (): number => Math.floor(now / 1000);

      expect((await verifier.verify({ body: body(0), headers: ds.sign(WEBHOOK, body(0), { timestamp: ts() }) })).keyRole).toBe('active');

      const graceMs = STORY_GRACE_MS;
      const result = await rotateDataspikeSecret({
        apiKey: API_KEY,
        baseUrl: ds.url,
        webhookId: WEBHOOK,
        store,
        secretId,
        graceMs,
        sleep: instant,
      });
      expect(result).toMatchObject({ secretId, confirmed: true, alreadyActive: false });
      expect(result.previousId).toBeDefined();
      expect(ds.calls.filter((c) => c.rotated)).toHaveLength(1);
      // What rotate reported is what readers enforce.
      const stored = await store.getVersions(secretId, { signal: new AbortController().signal });
      expect(stored.find((v) => v.role === 'previous')).toMatchObject({ id: result.previousId, notAfter: result.previousNotAfter });
      expect(result.previousNotAfter).toBeGreaterThanOrEqual(now + graceMs - 5_000);
      expect(result.previousNotAfter).toBeLessThanOrEqual(now + graceMs + 5_000);

      // Half a minute later (past the verifier's refresh-on-miss cooldown, 30 s after its last load):
      // Dataspike signs with the new secret; an in-flight delivery still carries the old one.
      now += 31_000;
      const fresh = await verifier.verify({ body: body(1), headers: ds.sign(WEBHOOK, body(1), { timestamp: ts() }) });
      expect(fresh).toMatchObject({ keyRole: 'active', keyId: result.activeId });
      const inFlight = await verifier.verify({ body: body(2), headers: ds.sign(WEBHOOK, body(2), { timestamp: ts(), secret: INITIAL }) });
      expect(inFlight).toMatchObject({ keyRole: 'previous', keyId: result.previousId });

      const early = readiness(verifier.usage(secretId), { now, quietMs: 15 * 60_000, observingSince: startedAt });
      expect(early.verdicts[0]).toMatchObject({ safe: false, reason: 'recent-match', previousKeyId: result.previousId });
      expect(early.rows.find((r) => r.keyId === result.previousId)).toMatchObject({ keyRole: 'previous', matches: 2 });
      expect(early.rows.find((r) => r.keyId === result.activeId)).toMatchObject({ keyRole: 'active', matches: 1 });

      // After the grace: only the new secret verifies, and the verdict is "safe".
      now += graceMs + 60_000;
      verifier.invalidate(secretId);
      await expect(
        verifier.verify({ body: body(3), headers: ds.sign(WEBHOOK, body(3), { timestamp: ts(), secret: INITIAL }) }),
      ).rejects.toMatchObject({
        code: 'KEY_EXPIRED',
      });
      expect(await verifier.verify({ body: body(4), headers: ds.sign(WEBHOOK, body(4), { timestamp: ts() }) })).toMatchObject({
        keyId: result.activeId,
      });
      const late = readiness(verifier.usage(secretId), { now, quietMs: 15 * 60_000, observingSince: startedAt });
      expect(late.verdicts[0]).toMatchObject({ safe: true });
      expect(late.verdicts[0]?.message).toMatch(/^previous key safe to retire: yes/);
    } finally {
      await verifier.dispose();
      await ds.close();
      await cleanup?.();
    }
  });

  it(`${name}: rotating twice by mistake keeps the newest active and the one just before as previous`, async () => {
    let now = Date.now();
    const clock = (): number => now;
    const ds = await startDataspikeTestServer({ apiKey: API_KEY, webhooks: { [WEBHOOK]: INITIAL } });
    const { store, secretId, cleanup } = await setup(INITIAL, clock);
    const verifier = createVerifier({ provider: providers.dataspike(), keys: store, secretId, now: clock });
    try {
      const opts = { apiKey: API_KEY, baseUrl: ds.url, webhookId: WEBHOOK, store, secretId, graceMs: 3_600_000, sleep: instant };
      const first = await rotateDataspikeSecret(opts);
      expect(first.warnings).toEqual([]);
      now += 1_000;
      const second = await rotateDataspikeSecret(opts);
      expect(second.previousId).toBe(first.activeId);
      // The operator is told that the first rotation's previous key (still in its window) was dropped.
      expect(second.warnings).toEqual([expect.stringContaining(`previous key ${first.previousId} (window`)]);
      const [, s1, s2] = ds.history(WEBHOOK);
      const body = '{"id":"evt"}';
      const ts = Math.floor(now / 1000);
      expect(await verifier.verify({ body, headers: ds.sign(WEBHOOK, body, { timestamp: ts }) })).toMatchObject({
        keyRole: 'active',
        keyId: second.activeId,
      });
      expect(await verifier.verify({ body, headers: ds.sign(WEBHOOK, body, { timestamp: ts, secret: s1 }) })).toMatchObject({
        keyRole: 'previous',
      });
      expect(s2).toBe(ds.currentSecret(WEBHOOK));
      // The very first secret is gone from the store: Dataspike never signs with it again.
      const versions = await store.getVersions(secretId, { signal: new AbortController().signal });
      expect(versions.map((v) => v.role).sort()).toEqual(['active', 'previous']);
      expect(versions.some((v) => (typeof v.secret === 'string' ? v.secret : new TextDecoder().decode(v.secret)) === INITIAL)).toBe(false);
    } finally {
      await verifier.dispose();
      await ds.close();
      await cleanup?.();
    }
  });
}
