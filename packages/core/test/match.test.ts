/**
 * The verifier's key matching (src/verifier/match.ts): the candidate order, and the synchronous and
 * asynchronous loops giving the same answer for every case of a table (in-window and expired passes,
 * the last-matched key first, leeway at both window ends, several signatures in one header).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildRing, type KeyRing, type KeyUsage } from '../src/keys/ring.ts';
import type { SecretVersion } from '../src/keys/types.ts';
import { smartcar } from '../src/providers/smartcar.ts';
import type { ParsedSignature } from '../src/providers/types.ts';
import { candidates, matchAsync, matchSync } from '../src/verifier/match.ts';

const T = 1_800_000_000_000;
const LEEWAY = 5_000;
const provider = smartcar();
const body = '{"event":"x"}';

const versions: SecretVersion[] = [
  { id: 'old', secret: 'secret-old', role: 'previous', notAfter: T - 60_000 },
  { id: 'prev', secret: 'secret-prev', role: 'previous', notAfter: T + 60_000 },
  { id: 'act', secret: 'secret-act', role: 'active' },
  { id: 'next', secret: 'secret-next', role: 'pending', notBefore: T + 60_000 },
];

function ring(): KeyRing {
  const book = new Map<string, KeyUsage>();
  const usage = { get: (k: string) => book.get(k), set: (k: string, v: KeyUsage) => book.set(k, v) };
  return buildRing('s', versions, provider, undefined, usage, T);
}

const sig = (secret: string): Uint8Array => new Uint8Array(createHmac('sha256', secret).update(body).digest());
const parsed = (...secrets: string[]): ParsedSignature => ({
  signatures: secrets.map(sig),
  prefix: undefined,
  timestamp: undefined,
  eventId: undefined,
});

describe('candidates', () => {
  it('is the ring order (active, pending, previous) until a key matches, then that key first', () => {
    const r = ring();
    expect(candidates(r).map((e) => e.id)).toEqual(['act', 'next', 'old', 'prev']);
    r.lastMatched = r.entries.find((e) => e.id === 'prev');
    const order = candidates(r);
    expect(order.map((e) => e.id)).toEqual(['prev', 'act', 'next', 'old']);
    expect(candidates(r)).toBe(order); // kept on the ring: no allocation per request
    r.lastMatched = r.entries[0];
    expect(candidates(r).map((e) => e.id)).toEqual(['act', 'next', 'old', 'prev']);
  });
});

describe('matchSync and matchAsync', () => {
  const cases: { what: string; secrets: string[]; t: number; expired: boolean; lastMatched?: string; want: string | undefined }[] = [
    { what: 'active key', secrets: ['secret-act'], t: T, expired: false, want: 'act' },
    { what: 'previous key inside its window', secrets: ['secret-prev'], t: T, expired: false, want: 'prev' },
    { what: 'previous key past its window', secrets: ['secret-old'], t: T, expired: false, want: undefined },
    { what: 'previous key past its window, expired pass', secrets: ['secret-old'], t: T, expired: true, want: 'old' },
    { what: 'an in-window key is never reported by the expired pass', secrets: ['secret-act'], t: T, expired: true, want: undefined },
    { what: 'pending key before its start', secrets: ['secret-next'], t: T, expired: false, want: undefined },
    { what: 'pending key within the leeway of its start', secrets: ['secret-next'], t: T + 60_000 - LEEWAY, expired: false, want: 'next' },
    { what: 'previous key within the leeway of its end', secrets: ['secret-prev'], t: T + 60_000 + LEEWAY, expired: false, want: 'prev' },
    { what: 'previous key just past the leeway', secrets: ['secret-prev'], t: T + 60_000 + LEEWAY + 1, expired: false, want: undefined },
    { what: 'unknown signature', secrets: ['forged'], t: T, expired: false, want: undefined },
    { what: 'unknown signature, expired pass', secrets: ['forged'], t: T, expired: true, want: undefined },
    { what: 'second of two signatures', secrets: ['forged', 'secret-prev'], t: T, expired: false, want: 'prev' },
    { what: 'last-matched key tried first', secrets: ['secret-act'], t: T, expired: false, lastMatched: 'prev', want: 'act' },
    { what: 'last-matched key past its window is skipped', secrets: ['secret-act'], t: T, expired: false, lastMatched: 'old', want: 'act' },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const r = ring();
      if (c.lastMatched !== undefined) r.lastMatched = r.entries.find((e) => e.id === c.lastMatched);
      const p = parsed(...c.secrets);
      expect(matchSync('sha256', LEEWAY, r, p, body, c.t, c.expired)?.id).toBe(c.want);
      expect((await matchAsync('sha256', LEEWAY, r, p, body, c.t, c.expired))?.id).toBe(c.want);
    });
  }
});
