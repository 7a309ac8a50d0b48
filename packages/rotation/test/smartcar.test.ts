import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, providers, sign } from '@keyturn/core';
import { envFileKeyStore } from '@keyturn/store-env/file';
import { describe, expect, it } from 'vitest';
import { addActiveKey, readiness, recommendedQuietMs, retirePreviousKey, usageSnapshot } from '../src/index.ts';

const MIN = 60_000;

describe('Smartcar management-token rotation', () => {
  it('add the new token → answer VERIFY with it → both tokens verify → verdict → retire the old token', async () => {
    let now = Date.parse('2026-11-24T09:00:00Z');
    const clock = (): number => now;
    const dir = await mkdtemp(join(tmpdir(), 'keyturn-smartcar-'));
    const path = join(dir, 'app.env');
    await writeFile(path, 'SMARTCAR_AMT=amt-old-0001\n', { mode: 0o600 });
    const store = envFileKeyStore({ path, now: clock });
    const smartcar = providers.smartcar();
    const verifier = createVerifier({ provider: smartcar, keys: store, secretId: 'SMARTCAR_AMT', now: clock, cache: { ttlMs: 0 } });
    const startedAt = now;
    const delivery = (token: string, eventId: string) => {
      const body = JSON.stringify({ eventId, eventType: 'VEHICLE_STATE', data: {} });
      return { body, headers: sign(smartcar, { body, secret: token }) };
    };
    try {
      expect(await verifier.verify(delivery('amt-old-0001', 'e0'))).toMatchObject({ keyRole: 'active' });

      // 1. The operator generated a new token in the dashboard and adds it as active.
      const added = await addActiveKey({ store, secretId: 'SMARTCAR_AMT', secret: 'amt-new-0002', graceMs: 7 * 24 * 60 * MIN });
      expect(added.previousId).toBeDefined();

      // 2. Smartcar sends VERIFY; the receiver answers with the new (active) token.
      const verify = { eventId: 'v', eventType: 'VERIFY', data: { challenge: 'chal-xyz' }, meta: { version: '4.0' } };
      now += MIN;
      expect(verifier.isChallenge(verify)).toBe(true);
      expect(await verifier.answerChallenge(verify)).toEqual({
        challenge: createHmac('sha256', 'amt-new-0002').update('chal-xyz').digest('hex'),
      });

      // 3. Both tokens verify and are reported by key while Smartcar switches over.
      expect(await verifier.verify(delivery('amt-old-0001', 'e1'))).toMatchObject({ keyRole: 'previous', keyId: added.previousId });
      now += 2 * MIN;
      expect(await verifier.verify(delivery('amt-new-0002', 'e2'))).toMatchObject({ keyRole: 'active', keyId: added.activeId });

      const quietMs = recommendedQuietMs('smartcar');
      const soon = readiness(usageSnapshot(verifier, { since: startedAt, now: clock }), { now, quietMs });
      expect(soon.verdicts[0]).toMatchObject({ safe: false, message: 'previous key safe to retire: no (last matched 2 min ago)' });
      await expect(
        retirePreviousKey({ store, secretId: 'SMARTCAR_AMT', usage: verifier.usage(), readiness: { now, quietMs } }),
      ).rejects.toMatchObject({
        code: 'NOT_SAFE_TO_RETIRE',
      });

      // 4. An hour of new-token-only traffic later, the verdict says safe and the old token is retired.
      now += quietMs;
      expect(await verifier.verify(delivery('amt-new-0002', 'e3'))).toMatchObject({ keyRole: 'active' });
      const later = readiness(usageSnapshot(verifier, { since: startedAt, now: clock }), { now, quietMs });
      expect(later.verdicts[0]).toMatchObject({ safe: true, reason: 'quiet' });
      expect(
        await retirePreviousKey({
          store,
          secretId: 'SMARTCAR_AMT',
          keyId: added.previousId,
          usage: verifier.usage(),
          readiness: { now, quietMs },
        }),
      ).toEqual({
        retiredId: added.previousId,
        warnings: [],
      });
      expect(await readFile(path, 'utf8')).toBe('SMARTCAR_AMT=amt-new-0002\n');
      await expect(verifier.verify(delivery('amt-old-0001', 'e4'))).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    } finally {
      await verifier.dispose();
    }
  });
});
