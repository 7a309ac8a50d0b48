/**
 * Parser fuzzing: arbitrary header strings never throw anything but a `VerificationError` with a
 * header-level (or no-match) code, are never accepted, and never echo the header into the message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createVerifier, providers, sign, VerificationError, type ProviderProfile } from '../../src/index.ts';
import { NOW_MS, NOW_S } from './cases.ts';

const PROFILES: Record<string, () => ProviderProfile> = {
  standardWebhooks: () => providers.standardWebhooks(),
  stripe: () => providers.stripe(),
  github: () => providers.github(),
  shopify: () => providers.shopify(),
  slack: () => providers.slack(),
};
const SECRETS: Record<string, string> = {
  standardWebhooks: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  stripe: 'whsec_test_secret',
  github: 'mysecret',
  shopify: 'shpss_0123456789abcdef0123456789abcdef',
  slack: '8f742231b10e8888abcd99yyyzzz85a5',
};
const HEADER_CODES = new Set(['MISSING_SIGNATURE', 'MALFORMED_SIGNATURE', 'NO_MATCHING_KEY', 'TIMESTAMP_TOO_OLD', 'TIMESTAMP_IN_FUTURE']);

/** Characters every scheme's grammar is made of, so the fuzzer reaches deep into the parsers. */
const GRAMMAR = [...'tv01a2=, .;:+/-_sha256whsec0123456789abcdefABCDEF', '\t', '\u00e9', '\u{1F600}'];
const grammarString = fc.oneof(
  fc.string({ unit: fc.constantFrom(...GRAMMAR), maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  // Near-valid shapes with random signatures of the right length.
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `v1,${Buffer.from(b).toString('base64')}`),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `t=${NOW_S},v1=${Buffer.from(b).toString('hex')}`),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `sha256=${Buffer.from(b).toString('hex')}`),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `v0=${Buffer.from(b).toString('hex')}`),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
  fc.constant(String(NOW_S)),
  fc.constant('x'.repeat(5000)),
);

describe.each(Object.keys(PROFILES))('%s parser fuzz', (factory) => {
  const profile = PROFILES[factory]!();
  const verifier = createVerifier({ provider: profile, keys: [{ id: 'k', secret: SECRETS[factory]!, role: 'active' }], now: () => NOW_MS });
  const names = [...profile.headerNames, 'content-type'];
  const headersArb = fc.dictionary(fc.constantFrom(...names, ...names.map((n) => n.toUpperCase())), grammarString, { maxKeys: 8 });

  it('never accepts, never throws anything else, never echoes the header', async () => {
    await fc.assert(
      fc.asyncProperty(headersArb, fc.string({ maxLength: 40 }), async (headers, body) => {
        try {
          profile.parse(headers);
        } catch (e) {
          expect(e).toBeInstanceOf(VerificationError);
        }
        const outcome = await verifier.verify({ body, headers }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(outcome, 'a random header was accepted').toBeInstanceOf(VerificationError);
        const e = outcome as VerificationError;
        expect(HEADER_CODES.has(e.code), e.code).toBe(true);
        expect(e.status).toBe(profile.rejectStatus);
        for (const value of Object.values(headers)) {
          if (value.length >= 16) expect(e.message.includes(value) || JSON.stringify(e).includes(value)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a valid request with one header value mutated is rejected (unless the mutation is a no-op for the scheme)', async () => {
    const body = '{"id":"evt_fuzz","data":{"x":"\u00e9\u{1F600}"}}';
    const valid = sign(profile, { body, secret: SECRETS[factory]!, timestamp: NOW_S, id: 'msg_fuzz' });
    const keys = Object.keys(valid);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.string({ unit: fc.constantFrom(...GRAMMAR), minLength: 1, maxLength: 3 }),
        fc.nat(2),
        async (k, at, insert, op) => {
          const key = keys[k % keys.length]!;
          const value = valid[key]!;
          const pos = at % (value.length + 1);
          const mutated =
            op === 0
              ? value.slice(0, pos) + insert + value.slice(pos)
              : op === 1
                ? value.slice(0, pos) + value.slice(pos + insert.length)
                : value.slice(0, pos) + insert + value.slice(pos + insert.length);
          if (mutated === value) return;
          const outcome = await verifier.verify({ body, headers: { ...valid, [key]: mutated } }).then(
            (r) => r,
            (e: unknown) => e,
          );
          if (!(outcome instanceof VerificationError)) {
            // Accepted: only a change the scheme defines as meaningless may get here — hex case,
            // extra separators, or an ignored token/entry added next to the real signature.
            expect(isBenign(factory, key, value, mutated), `${key}: ${JSON.stringify(value)} → ${JSON.stringify(mutated)}`).toBe(true);
          } else {
            expect(HEADER_CODES.has(outcome.code), outcome.code).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Mutations that a scheme accepts by design. */
function isBenign(factory: string, key: string, before: string, after: string): boolean {
  const lowerHex = (s: string) => s.replace(/[A-F]/g, (c) => c.toLowerCase());
  if (lowerHex(before) === lowerHex(after) && /sha256=|v1=|v0=/.test(before)) return true; // hex case
  if (factory === 'standardWebhooks' && key === 'webhook-signature') {
    // Other tokens are skipped; spaces separate tokens.
    const v1 = (s: string) => s.split(' ').filter((t) => t.startsWith('v1,'));
    return JSON.stringify(v1(after)) === JSON.stringify(v1(before));
  }
  if (factory === 'stripe') {
    // Unknown keys are skipped; spaces after commas are allowed.
    const keep = (s: string) =>
      s
        .split(',')
        .map((i) => i.trim())
        .filter((i) => i.startsWith('t=') || i.startsWith('v1='));
    return JSON.stringify(keep(after).map(lowerHex)) === JSON.stringify(keep(before));
  }
  // Not covered by the signature (reported as the event id only): see docs/providers.md.
  if ((factory === 'github' && key === 'x-github-delivery') || (factory === 'shopify' && key === 'x-shopify-webhook-id')) return true;
  return false;
}
