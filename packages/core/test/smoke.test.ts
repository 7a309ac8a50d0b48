import { describe, expect, it } from 'vitest';
import { createVerifier, providers, sign, VerificationError } from '../src/index.ts';

describe('smoke', () => {
  it('smartcar published vector', async () => {
    const v = createVerifier({ provider: providers.smartcar(), keys: [{ id: 'amt', secret: 'amt', role: 'active' }] });
    const r = await v.verify({
      body: JSON.stringify({ pizza: 'pasta' }),
      headers: { 'SC-Signature': '4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70' },
    });
    expect(r).toMatchObject({ keyId: 'amt', keyRole: 'active', provider: 'smartcar' });
    expect(await v.answerChallenge({ eventType: 'VERIFY', data: { challenge: 'challenge' } })).toEqual({
      challenge: '9baf5a7464bd86740ad5a06e439dcf535a075022ed2c92d74efacf646d79328e',
    });
  });
  it('dataspike roundtrip + rotation', async () => {
    const now = 1_700_000_000_000;
    const oldS = 'whsec_' + 'ab'.repeat(32),
      newS = 'whsec_' + 'cd'.repeat(32);
    const v = createVerifier({
      provider: providers.dataspike(),
      now: () => now,
      keys: [
        { id: 'new', secret: newS, role: 'active' },
        { id: 'old', secret: oldS, role: 'previous', notAfter: now + 1000 },
      ],
    });
    const body = '{"id":"e1"}';
    const h = sign(providers.dataspike(), { body, secret: oldS, timestamp: now / 1000 });
    expect((await v.verify({ body, headers: h })).keyRole).toBe('previous');
    expect(v.verifySync({ body: Buffer.from(body), headers: new Headers(h) }).keyId).toBe('old');
    await expect(v.verify({ body: body + ' ', headers: h })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    expect(v.usage().find((u) => u.keyId === 'old')?.matches).toBe(2);
  });
  it('body not raw', async () => {
    const v = createVerifier({ provider: providers.mobway(), keys: [{ id: 'k', secret: 's', role: 'active' }] });
    const e = await v.verify({ body: { a: 1 } as never, headers: {} }).catch((x) => x);
    expect(e).toBeInstanceOf(VerificationError);
    expect(e.code).toBe('BODY_NOT_RAW');
  });
});
