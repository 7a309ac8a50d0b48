import { describe, expect, it } from 'vitest';
import { crc32c } from '../src/crc32c.ts';

/** Independent bit-at-a-time CRC32C, no table. */
function bitwise(data: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('matches the check value and the RFC 3720 (iSCSI) vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array())).toBe(0);
  });

  it('agrees with a bitwise implementation on random inputs', () => {
    for (let i = 0; i < 200; i++) {
      const data = crypto.getRandomValues(new Uint8Array(i * 7));
      expect(crc32c(data)).toBe(bitwise(data));
    }
  });
});
