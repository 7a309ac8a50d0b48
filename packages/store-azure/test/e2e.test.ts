import { createVerifier, isVerificationError, providers, sign } from '@keyturn/core';
import { describe, expect, it } from 'vitest';
import { fakeClock, HOUR, useHarness } from './helpers.ts';

const clock = fakeClock();
const h = useHarness({ now: clock.now }, clock.now);
const dataspike = providers.dataspike();
const OLD = `whsec_${'a1'.repeat(32)}`;
const NEW = `whsec_${'b2'.repeat(32)}`;
const webhook = (secret: string, id: string) => {
  const body = JSON.stringify({ id, event_type: 'DOCVER_CHECKED', payload: { status: 'verified' } });
  return { body, headers: sign(dataspike, { body, secret, timestamp: Math.floor(clock.now() / 1000) }) };
};

describe('end to end: Dataspike webhooks verified from Azure Key Vault through store.rotate', () => {
  it('accepts old and new during the window, says which key matched, then KEY_EXPIRED, then NO_MATCHING_KEY once retired', async () => {
    const secretId = 'dataspike-webhook';
    const v1 = h().vault.model.addVersion(secretId, OLD).version;
    const store = h().store({ previousGraceMs: 24 * HOUR });
    const verifier = createVerifier({ provider: dataspike, keys: store, secretId, now: clock.now });
    expect(await verifier.verify(webhook(OLD, 'e1'))).toMatchObject({ keyId: v1, keyRole: 'active' });

    clock.advance(HOUR);
    const rotation = await store.rotate(secretId, NEW, { previousGraceMs: 2 * HOUR, idempotencyToken: 'dataspike-2026-11' });
    expect(rotation).toMatchObject({ previousId: v1, previousNotAfter: clock.now() + 2 * HOUR });
    verifier.invalidate(secretId); // what the Event Grid handler in docs/store-azure.md does
    await verifier.warm();

    clock.advance(60_000);
    expect(await verifier.verify(webhook(NEW, 'e2'))).toMatchObject({ keyId: rotation.activeId, keyRole: 'active' });
    expect(await verifier.verify(webhook(OLD, 'e3'))).toMatchObject({ keyId: v1, keyRole: 'previous' });

    clock.advance(2 * HOUR); // past the expires rotate() set (not the store's 24 h default)
    verifier.invalidate(secretId);
    await verifier.warm();
    const late = await verifier.safeVerify(webhook(OLD, 'e4'));
    expect(late.ok).toBe(false);
    expect(!late.ok && isVerificationError(late.error, 'KEY_EXPIRED') && late.error.keyId).toBe(v1);
    expect(await verifier.verify(webhook(NEW, 'e5'))).toMatchObject({ keyRole: 'active' });

    expect(await store.retirePrevious(secretId, { keyId: v1 })).toEqual({ retiredId: v1 });
    verifier.invalidate(secretId);
    await verifier.warm();
    const retired = await verifier.safeVerify(webhook(OLD, 'e6'));
    expect(!retired.ok && retired.error.code).toBe('NO_MATCHING_KEY');
    expect(await verifier.verify(webhook(NEW, 'e7'))).toMatchObject({ keyId: rotation.activeId, keyRole: 'active' });
    expect(verifier.status(secretId).versions.map((v) => v.id)).toEqual([rotation.activeId]);
    await verifier.dispose();
  });

  it('a scheduled version (notBefore ahead) is pending, then verifies from its notBefore without a reload', async () => {
    const secretId = 'scheduled-webhook';
    h().vault.model.addVersion(secretId, OLD, { created: clock.now() - HOUR });
    const next = h().vault.model.addVersion(secretId, NEW, { notBefore: clock.now() + HOUR }).version;
    const verifier = createVerifier({ provider: dataspike, keys: h().store(), secretId, now: clock.now, cache: { ttlMs: 24 * HOUR } });
    expect(await verifier.verify(webhook(OLD, 's1'))).toMatchObject({ keyRole: 'active' });
    expect((await verifier.safeVerify(webhook(NEW, 's2'))).ok).toBe(false);
    clock.advance(HOUR + 1000);
    expect(await verifier.verify(webhook(NEW, 's3'))).toMatchObject({ keyId: next, keyRole: 'pending' });
    await verifier.dispose();
  });
});
