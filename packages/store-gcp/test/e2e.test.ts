import { createVerifier, isVerificationError, providers, sign } from '@keyturn/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcpSecretManagerStore } from '../src/index.ts';
import { harness, type Harness } from './helpers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NAME = 'projects/test-project/secrets/dataspike-webhook';
let clock = Date.UTC(2026, 10, 24, 9);
const now = () => clock;

const dataspike = providers.dataspike();
const OLD = `whsec_${'a1'.repeat(32)}`;
const NEW = `whsec_${'b2'.repeat(32)}`;
const webhook = (secret: string, id: string) => {
  const body = JSON.stringify({ id, event_type: 'DOCVER_CHECKED', payload: { status: 'verified' } });
  return { body, headers: sign(dataspike, { body, secret, timestamp: Math.floor(clock / 1000) }) };
};

let grpc: Harness;
let rest: Harness;
beforeAll(async () => {
  grpc = await harness('grpc', { now });
  rest = await harness('rest', { now });
});
afterAll(async () => {
  await grpc.close();
  await rest.close();
});

describe.each([
  ['aliases', 'grpc'],
  ['versions', 'grpc'],
  ['aliases', 'rest'],
] as const)('end to end: Dataspike webhooks through store.rotate (mode %s, %s)', (mode, transport) => {
  it('verifies old and new secrets during the window, then reports the old one as KEY_EXPIRED', async () => {
    const h = transport === 'grpc' ? grpc : rest;
    const secretId = `${NAME}-${mode}`;
    h.fake.model.createSecret(secretId, mode === 'aliases' ? { versionAliases: { current: 1 } } : {});
    h.fake.model.addVersion(secretId, OLD);
    const store = gcpSecretManagerStore({ client: h.client, mode, previousGraceMs: DAY, now });
    const verifier = createVerifier({ provider: dataspike, keys: store, secretId, now });
    const v1 = `${secretId}/versions/1`;
    expect(await verifier.verify(webhook(OLD, 'e1'))).toMatchObject({ keyId: v1, keyRole: 'active' });

    clock += HOUR;
    const rotation = await store.rotate(secretId, NEW, { previousGraceMs: 2 * HOUR, idempotencyToken: `dataspike-${mode}-${transport}` });
    expect(rotation).toEqual({
      activeId: `${secretId}/versions/2`,
      previousId: v1,
      previousNotAfter: clock + 2 * HOUR,
      previousUnbounded: false,
      warnings: [],
    });
    verifier.invalidate(secretId);
    await verifier.warm();

    clock += 60_000;
    expect(await verifier.verify(webhook(NEW, 'e2'))).toMatchObject({ keyId: rotation.activeId, keyRole: 'active' });
    expect(await verifier.verify(webhook(OLD, 'e3'))).toMatchObject({ keyId: v1, keyRole: 'previous' });

    clock += 2 * HOUR; // past the window recorded by rotate (not the store's 24 h default)
    verifier.invalidate(secretId);
    await verifier.warm();
    const late = await verifier.safeVerify(webhook(OLD, 'e4'));
    expect(late.ok).toBe(false);
    expect(!late.ok && isVerificationError(late.error, 'KEY_EXPIRED') && late.error.keyId).toBe(v1);
    expect(await verifier.verify(webhook(NEW, 'e5'))).toMatchObject({ keyRole: 'active' });
    expect((await verifier.safeVerify(webhook(`whsec_${'c3'.repeat(32)}`, 'e6'))).ok).toBe(false);

    // Housekeeping after the window: the old version is disabled, the verifier keeps working.
    expect((await store.disableRetiredVersions(secretId)).disabled).toEqual([v1]);
    verifier.invalidate(secretId);
    await verifier.warm();
    expect(await verifier.verify(webhook(NEW, 'e7'))).toMatchObject({ keyRole: 'active' });
    expect(verifier.status(secretId).versions.map((v) => v.id)).toEqual([rotation.activeId]);
    await verifier.dispose();
  });
});
