import { createVerifier, isVerificationError, providers, sign } from '@keyturn/core';
import { PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsSecretsManagerStore } from '../src/index.ts';
import { startSecretsManagerServer, type SecretsManagerServer } from '../src/testing/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let server: SecretsManagerServer;
let clock = Date.UTC(2026, 10, 24, 9);
const now = () => clock;

beforeAll(async () => {
  server = await startSecretsManagerServer({ now });
});
afterAll(async () => {
  await server.close();
});

const smartcar = providers.smartcar();
const webhook = (secret: string, eventId: string) => {
  const body = JSON.stringify({ eventId, eventType: 'VEHICLE_STATE', data: { odometer: 1234 } });
  return { body, headers: sign(smartcar, { body, secret }) };
};

describe('end to end: Smartcar webhooks through a rotation done with store.rotate', () => {
  it('verifies old and new tokens during the window, then reports the old one as expired', async () => {
    const secretId = 'prod/webhooks/smartcar-amt';
    const v1 = server.createSecret(secretId, 'amt-2026-05-aaaaaaaa').versionId!;
    const store = awsSecretsManagerStore({ clientConfig: server.clientConfig(), previousGraceMs: DAY });
    const verifier = createVerifier({ provider: smartcar, keys: store, secretId, now });

    expect(await verifier.verify(webhook('amt-2026-05-aaaaaaaa', 'e1'))).toMatchObject({ keyId: v1, keyRole: 'active' });

    clock += HOUR;
    const rotation = await store.rotate(secretId, 'amt-2026-11-bbbbbbbb', { idempotencyToken: 'smartcar-amt-rotation-2026-11' });
    expect(rotation).toEqual({
      activeId: rotation.activeId,
      previousId: v1,
      previousNotAfter: clock + DAY,
      previousUnbounded: false,
      warnings: [],
    });

    // Smartcar switches to the new token at once: the unknown key triggers one refresh and matches.
    clock += 60_000;
    server.resetCalls();
    expect(await verifier.verify(webhook('amt-2026-11-bbbbbbbb', 'e2'))).toMatchObject({ keyId: rotation.activeId, keyRole: 'active' });
    expect(server.count('DescribeSecret')).toBe(1);
    // Deliveries still in flight with the old token verify as previous.
    expect(await verifier.verify(webhook('amt-2026-05-aaaaaaaa', 'e3'))).toMatchObject({ keyId: v1, keyRole: 'previous' });

    // Past the grace window the old token is rejected as KEY_EXPIRED (not "no match").
    clock += DAY;
    const late = await verifier.safeVerify(webhook('amt-2026-05-aaaaaaaa', 'e4'));
    expect(late.ok).toBe(false);
    expect(!late.ok && isVerificationError(late.error, 'KEY_EXPIRED') && late.error.keyId).toBe(v1);
    expect(await verifier.verify(webhook('amt-2026-11-bbbbbbbb', 'e5'))).toMatchObject({ keyRole: 'active' });
    // A forged signature never verifies.
    expect((await verifier.safeVerify(webhook('amt-forged', 'e6'))).ok).toBe(false);

    const usage = verifier.usage(secretId);
    expect(usage.map((u) => [u.keyId, u.keyRole, u.matches])).toEqual([
      [rotation.activeId, 'active', 2],
      [v1, 'previous', 2],
    ]);
    await verifier.dispose();
  });

  it('with acceptPending, a sender that signs with AWSPENDING before finishSecret is accepted as pending', async () => {
    const secretId = 'prod/webhooks/smartcar-pending';
    const v1 = server.createSecret(secretId, 'amt-current-cccccccc').versionId!;
    const verifier = createVerifier({
      provider: smartcar,
      keys: awsSecretsManagerStore({ clientConfig: server.clientConfig(), acceptPending: true }),
      secretId,
      now,
    });
    await verifier.warm();
    // What RotateSecret does first, then the rotation Lambda's steps, with the real client.
    const token = server.beginRotation(secretId);
    const lambda = new SecretsManagerClient(server.clientConfig());
    await lambda.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        SecretString: 'amt-pending-dddddddd',
        VersionStages: ['AWSPENDING'],
      }),
    ); // createSecret
    // setSecret: the sender is told about the new token and starts signing with it.
    clock += 60_000;
    expect(await verifier.verify(webhook('amt-pending-dddddddd', 'p1'))).toMatchObject({ keyId: token, keyRole: 'pending' });
    expect(await verifier.verify(webhook('amt-current-cccccccc', 'p1b'))).toMatchObject({ keyId: v1, keyRole: 'active' });
    // finishSecret: AWSCURRENT moves, AWSPENDING stays on the same version; it is now simply active.
    await lambda.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: token,
        RemoveFromVersionId: v1,
      }),
    );
    lambda.destroy();
    verifier.invalidate(secretId);
    await verifier.warm();
    expect(await verifier.verify(webhook('amt-pending-dddddddd', 'p2'))).toMatchObject({ keyId: token, keyRole: 'active' });
    expect(await verifier.verify(webhook('amt-current-cccccccc', 'p3'))).toMatchObject({ keyId: v1, keyRole: 'previous' });
    await verifier.dispose();
  });

  it("a 'keyset' secret holding old and new Smartcar tokens verifies both, reporting the key-set ids", async () => {
    const secretId = 'prod/webhooks/smartcar-keyset';
    const rolloverEnds = clock + 7 * DAY;
    server.createSecret(
      secretId,
      JSON.stringify({
        keys: [
          { id: 'amt-2026-11', secret: 'amt-new-eeeeeeee' },
          { id: 'amt-2026-05', secret: 'amt-old-ffffffff', role: 'previous', notAfter: new Date(rolloverEnds).toISOString() },
        ],
      }),
    );
    const verifier = createVerifier({
      provider: smartcar,
      keys: awsSecretsManagerStore({ clientConfig: server.clientConfig(), format: 'keyset' }),
      secretId,
      now,
    });
    expect(await verifier.verify(webhook('amt-new-eeeeeeee', 'k1'))).toMatchObject({ keyId: 'amt-2026-11', keyRole: 'active' });
    expect(await verifier.verify(webhook('amt-old-ffffffff', 'k2'))).toMatchObject({ keyId: 'amt-2026-05', keyRole: 'previous' });
    clock = rolloverEnds + HOUR;
    const late = await verifier.safeVerify(webhook('amt-old-ffffffff', 'k3'));
    expect(!late.ok && late.error.code).toBe('KEY_EXPIRED');
    await verifier.dispose();
  });
});
