/**
 * Each profile against its official library (or an independent implementation): random bodies
 * and secrets, both directions, plus tampering.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createVerifier, sign, VerificationError, type SecretVersion } from '../../src/index.ts';
import { BYTE_SIGNERS, CASES, NOW_MS, NOW_S, messageId, type ProviderCase, type SignContext } from './cases.ts';

const RUNS = 40;
/** Text bodies: any code point (astral planes and non-ASCII included). Non-empty: octokit and Shopify refuse "". */
const textBody = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
  fc.json().filter((s) => s.length > 0),
);
/** Arbitrary bytes, invalid UTF-8 and empty included. */
const byteBody = fc.uint8Array({ minLength: 0, maxLength: 200 });

function context(c: ProviderCase): fc.Arbitrary<SignContext> {
  return fc.record({
    ts: c.timestamped ? fc.integer({ min: NOW_S - 290, max: NOW_S + 290 }) : fc.constant(NOW_S),
    id: messageId,
  });
}

/** 1 to 3 distinct secrets; the first is active, the others previous. */
function ring(c: ProviderCase): fc.Arbitrary<string[]> {
  return fc.uniqueArray(c.secret, { minLength: 1, maxLength: 3, selector: (s) => s.replace(/^whsec_/, '') });
}

function keysOf(secrets: readonly string[]): SecretVersion[] {
  return secrets.map((secret, i) => ({ id: `k${i}`, secret, role: i === 0 ? 'active' : 'previous' }));
}

async function rejection(promise: Promise<unknown>): Promise<VerificationError> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome, 'expected a rejection').toBeInstanceOf(VerificationError);
  return outcome as VerificationError;
}

describe.each(CASES)('$name', (c) => {
  it('signed by the reference → keyturn accepts and reports the signing key', async () => {
    await fc.assert(
      fc.asyncProperty(ring(c), fc.nat(), textBody, context(c), async (secrets, pick, body, ctx) => {
        const i = pick % secrets.length;
        const headers = await c.referenceSign(secrets[i]!, body, ctx);
        const verifier = createVerifier({ provider: c.profile(), keys: keysOf(secrets), now: () => NOW_MS });
        const result = await verifier.verify({ body, headers });
        expect(result.keyId).toBe(`k${i}`);
        expect(result.keyRole).toBe(i === 0 ? 'active' : 'previous');
        if (c.timestamped) expect(result.timestamp).toBe(ctx.ts);
        if (c.signsId) expect(result.eventId).toBe(ctx.id);
        // The same request as bytes and through Fetch Headers, on the sync path.
        const again = verifier.verifySync({ body: new TextEncoder().encode(body), headers: new Headers(headers) });
        expect(again.keyId).toBe(`k${i}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('signed by keyturn → the reference accepts', async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, textBody, context(c), async (secret, body, ctx) => {
        const headers = sign(c.profile(), { body, secret, timestamp: ctx.ts, id: ctx.id });
        expect(await c.referenceVerify(secret, body, headers)).toBe(true);
        // ... and the reference is not a yes-machine: a corrupted signature fails there too.
        expect(await c.referenceVerify(secret, body, c.corruptSignature(headers))).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  if (c.profile().multiSignature) {
    it('a rotation header signed by keyturn with several secrets verifies under each of them', async () => {
      await fc.assert(
        fc.asyncProperty(ring(c), textBody, context(c), async (secrets, body, ctx) => {
          const headers = sign(c.profile(), { body, secret: secrets, timestamp: ctx.ts, id: ctx.id });
          for (const secret of secrets) expect(await c.referenceVerify(secret, body, headers)).toBe(true);
        }),
        { numRuns: RUNS / 2 },
      );
    });
  }

  it('arbitrary bytes: keyturn signs exactly what an independent node:crypto signer does, and verifies it', async () => {
    await fc.assert(
      fc.asyncProperty(c.secret, byteBody, context(c), async (secret, body, ctx) => {
        const expected = BYTE_SIGNERS[c.factory]!(secret, body, ctx);
        const ours = sign(c.profile(), { body, secret, timestamp: ctx.ts, id: c.signsId ? ctx.id : undefined });
        expect(ours).toEqual(expected);
        const verifier = createVerifier({ provider: c.profile(), keys: keysOf([secret]), now: () => NOW_MS });
        expect((await verifier.verify({ body, headers: expected })).keyId).toBe('k0');
        expect(
          (await verifier.verify({ body: body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength), headers: expected })).keyId,
        ).toBe('k0');
      }),
      { numRuns: RUNS },
    );
  });

  it('tampered body, signature, timestamp or id is rejected with the right code and status', async () => {
    await fc.assert(
      fc.asyncProperty(
        c.secret,
        textBody,
        context(c),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 10_000 }),
        async (secret, body, ctx, at, xor, beyond) => {
          const profile = c.profile();
          const headers = await c.referenceSign(secret, body, ctx);
          const verifier = createVerifier({ provider: profile, keys: keysOf([secret]), now: () => NOW_MS });

          const bytes = new TextEncoder().encode(body);
          const tampered = bytes.slice();
          const pos = at % tampered.length;
          tampered[pos] = (tampered[pos] as number) ^ xor;
          let e = await rejection(verifier.verify({ body: tampered, headers }));
          expect(e.code).toBe('NO_MATCHING_KEY');
          expect(e.status).toBe(profile.rejectStatus);
          e = await rejection(verifier.verify({ body: new Uint8Array([...bytes, 0x20]), headers }));
          expect(e.code).toBe('NO_MATCHING_KEY');

          e = await rejection(verifier.verify({ body, headers: c.corruptSignature(headers) }));
          expect(e.code).toBe('NO_MATCHING_KEY');

          if (c.withTimestamp !== undefined) {
            const shifted = ctx.ts + (ctx.ts < NOW_S ? 1 : -1);
            e = await rejection(verifier.verify({ body, headers: c.withTimestamp(headers, shifted) }));
            expect(e.code).toBe('NO_MATCHING_KEY');
            e = await rejection(verifier.verify({ body, headers: c.withTimestamp(headers, NOW_S - 300 - beyond) }));
            expect(e.code).toBe('TIMESTAMP_TOO_OLD');
            expect(e.status).toBe(profile.rejectStatus);
            e = await rejection(verifier.verify({ body, headers: c.withTimestamp(headers, NOW_S + 300 + beyond) }));
            expect(e.code).toBe('TIMESTAMP_IN_FUTURE');
            // The original, signed timestamp outside the window: too old by the verifier's clock.
            e = await rejection(verifier.verify({ body, headers, receivedAt: ctx.ts * 1000 + 300_000 + beyond * 1000 }));
            expect(e.code).toBe('TIMESTAMP_TOO_OLD');
          }
          if (c.withId !== undefined) {
            e = await rejection(verifier.verify({ body, headers: c.withId(headers, `${ctx.id}x`) }));
            expect(e.code).toBe('NO_MATCHING_KEY');
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
