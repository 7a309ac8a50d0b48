import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hasSyncDigest, sha256Hex, sha256HexSubtle, sha256HexSync } from '../../src/replay/digest.ts';

const reference = (prefix: string | undefined, body: string | Uint8Array) => {
  const h = createHash('sha256');
  if (prefix !== undefined) h.update(prefix);
  return h.update(body).digest('hex');
};

describe('replay digest', () => {
  const cases: [string | undefined, string | Uint8Array][] = [
    [undefined, ''],
    [undefined, '{"a":1}'],
    ['1700000000.', '{"id":"évènement ✓"}'],
    ['msg_1.1700000000.', new Uint8Array([0, 255, 128, 10, 13])],
    [undefined, new Uint8Array(70_000).fill(7)],
  ];
  it('node:crypto and crypto.subtle paths agree with an independent SHA-256', async () => {
    expect(hasSyncDigest).toBe(true);
    for (const [prefix, body] of cases) {
      const want = reference(prefix, body);
      expect(sha256HexSync(prefix, body)).toBe(want);
      expect(await sha256Hex(prefix, body)).toBe(want);
      expect(await sha256HexSubtle(prefix, body)).toBe(want);
    }
  });
});
