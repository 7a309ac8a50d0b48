/**
 * `retirePrevious()`: the previous version is disabled through the store's own RPCs (deadline,
 * cancellation, etag, error mapping), in both modes; the active version never; a `keyId` that is no
 * longer the previous version is a CONFLICT; a retried call reports the same id.
 */
import { KeyStoreError } from '@keyturn/core';
import { afterEach, describe, expect, it } from 'vitest';
import { gcpSecretManagerStore } from '../src/index.ts';
import { harness, signal, type Harness } from './helpers.ts';

const NAME = 'projects/test-project/secrets/webhook';
const T0 = Date.UTC(2026, 10, 24, 9);
const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function seeded(aliases?: Record<string, number>): Promise<Harness> {
  const h = await harness('grpc', { now: () => T0 });
  open.push(h);
  h.fake.model.createSecret(NAME, { versionAliases: aliases });
  for (const [i, value] of ['whsec_01', 'whsec_02', 'whsec_03'].entries())
    h.fake.model.addVersion(NAME, value, { createTime: T0 - (3 - i) * 3_600_000 });
  return h;
}
const v = (n: number) => `${NAME}/versions/${n}`;
const roles = async (s: ReturnType<typeof gcpSecretManagerStore>) =>
  (await s.getVersions(NAME, { signal: signal() })).map((x) => `${x.role}:${x.id.slice(-1)}`);

describe('retirePrevious', () => {
  for (const mode of ['aliases', 'versions'] as const) {
    it(`disables the previous version (${mode}); the active one keeps verifying; a retried call reports the same id`, async () => {
      const h = await seeded(mode === 'aliases' ? { current: 3, previous: 2 } : undefined);
      const s = gcpSecretManagerStore({ client: h.client, mode, now: () => T0 });
      expect(await roles(s)).toEqual(['active:3', 'previous:2']);
      expect(await s.retirePrevious(NAME, { keyId: v(2) })).toEqual({ retiredId: v(2) });
      expect(h.fake.model.getVersion(v(2)).state).toBe('DISABLED');
      expect((await roles(s))[0]).toBe('active:3');
      expect(await roles(s)).not.toContain('previous:2');
      expect(await s.retirePrevious(NAME, { keyId: v(2) })).toEqual({ retiredId: v(2) });
    });
  }

  it('refuses the active version and a version that is not the previous one (CONFLICT, nothing disabled)', async () => {
    const h = await seeded({ current: 3, previous: 2 });
    const s = gcpSecretManagerStore({ client: h.client, now: () => T0 });
    for (const keyId of [v(3), v(1)]) {
      const err = await s.retirePrevious(NAME, { keyId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect(err).toMatchObject({ reason: 'CONFLICT', retryable: false });
    }
    expect([1, 2, 3].map((n) => h.fake.model.getVersion(v(n)).state)).toEqual(['ENABLED', 'ENABLED', 'ENABLED']);
  });

  it('without a previous version: nothing to retire', async () => {
    const h = await seeded({ current: 3 });
    const s = gcpSecretManagerStore({ client: h.client, now: () => T0 });
    expect(await s.retirePrevious(NAME)).toEqual({ retiredId: undefined });
  });

  it('maps a refused disable like every other call (PERMISSION_DENIED: terminal ACCESS_DENIED)', async () => {
    const h = await seeded({ current: 3, previous: 2 });
    h.fake.model.injectFault({ method: 'DisableSecretVersion', status: 'PERMISSION_DENIED', message: 'denied' });
    const s = gcpSecretManagerStore({ client: h.client, now: () => T0 });
    const err = await s.retirePrevious(NAME).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'ACCESS_DENIED', code: 'PERMISSION_DENIED', retryable: false });
  });
});
