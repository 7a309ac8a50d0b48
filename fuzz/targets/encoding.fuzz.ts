/**
 * Fuzz target: the strict hex and base64 codecs (packages/core/src/lib/encoding.ts, internal),
 * against Node's `Buffer`. `Buffer`'s decoders are lenient (they skip junk), its encoders are
 * canonical, so "decode then encode gives the input back" is the strictness oracle:
 *
 * 1. `decodeHex(s)` succeeds exactly when `s` is a non-empty, even-length run of hex digits (either
 *    case), and then equals `Buffer.from(s, 'hex')`; `encodeHex` of it is `s` in lowercase.
 * 2. `decodeBase64(s)` (standard) succeeds exactly when `s` is canonical padded base64 —
 *    `Buffer.from(s, 'base64').toString('base64') === s` — and then equals Buffer's bytes.
 * 3. `decodeBase64(s, true)` (URL-safe) succeeds exactly when `s` is canonical base64url, unpadded
 *    or correctly padded, and then equals Buffer's bytes.
 * 4. Decoding a slice (`start`, `end`) equals decoding the sliced string.
 * 5. `encodeHex` / `encodeBase64` (both alphabets) equal Buffer's for any bytes.
 * 6. `hasSurroundingWhitespace` is `/^\s|\s$/`.
 */
import { decodeBase64, decodeHex, encodeBase64, encodeHex, hasSurroundingWhitespace } from '../../packages/core/src/lib/encoding.ts';
import { check } from '../lib/checks.ts';
import { Input, latin1 } from '../lib/input.ts';

const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

function canonicalUrl(s: string): boolean {
  const unpadded = s.replace(/=+$/, '');
  if (Buffer.from(unpadded, 'base64url').toString('base64url') !== unpadded) return false;
  if (unpadded.length === s.length) return true;
  // Padded: exactly to a multiple of 4.
  return s.length % 4 === 0 && s.length - unpadded.length === (4 - (unpadded.length % 4)) % 4 && unpadded.length > 0;
}

export function fuzz(data: Buffer): void {
  const input = new Input(data);
  const flags = input.byte();
  const raw = input.field();
  const text = (flags & 1) !== 0 ? new TextDecoder().decode(raw) : latin1(raw);

  // 1. hex
  const hex = decodeHex(text);
  const isHex = text.length > 0 && text.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(text);
  check((hex !== undefined) === isHex, () => `decodeHex ${hex ? 'accepted' : 'rejected'} ${JSON.stringify(text)}`);
  if (hex !== undefined) {
    check(same(hex, Buffer.from(text, 'hex')), 'decodeHex disagrees with Buffer');
    check(encodeHex(hex) === text.toLowerCase(), 'encodeHex(decodeHex(s)) is not lowercase s');
  }

  // 2. standard base64
  const b64 = decodeBase64(text);
  const isB64 = Buffer.from(text, 'base64').toString('base64') === text;
  check((b64 !== undefined) === isB64, () => `decodeBase64 ${b64 ? 'accepted' : 'rejected'} ${JSON.stringify(text)}`);
  if (b64 !== undefined) {
    check(same(b64, Buffer.from(text, 'base64')), 'decodeBase64 disagrees with Buffer');
    check(encodeBase64(b64) === text, 'encodeBase64(decodeBase64(s)) is not s');
  }

  // 3. URL-safe base64
  const url = decodeBase64(text, true);
  const isUrl = canonicalUrl(text);
  check((url !== undefined) === isUrl, () => `decodeBase64(url) ${url ? 'accepted' : 'rejected'} ${JSON.stringify(text)}`);
  if (url !== undefined) {
    check(same(url, Buffer.from(text.replace(/=+$/, ''), 'base64url')), 'decodeBase64(url) disagrees with Buffer');
    check(encodeBase64(url, true) === text.replace(/=+$/, ''), 'encodeBase64(url) does not give the unpadded input back');
  }

  // 4. slices
  const start = input.int(text.length + 1);
  const end = start + input.int(text.length - start + 1);
  const slice = text.slice(start, end);
  const eq = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
    a === undefined ? b === undefined : b !== undefined && same(a, b);
  check(eq(decodeHex(text, start, end), decodeHex(slice)), 'decodeHex(s, start, end) ≠ decodeHex(s.slice(start, end))');
  check(eq(decodeBase64(text, false, start, end), decodeBase64(slice)), 'decodeBase64(s, false, start, end) ≠ decodeBase64(slice)');
  check(
    eq(decodeBase64(text, true, start, end), decodeBase64(slice, true)),
    'decodeBase64(s, true, start, end) ≠ decodeBase64(slice, true)',
  );

  // 5. encoders
  const bytes = input.rest();
  check(encodeHex(bytes) === Buffer.from(bytes).toString('hex'), 'encodeHex disagrees with Buffer');
  check(encodeBase64(bytes) === Buffer.from(bytes).toString('base64'), 'encodeBase64 disagrees with Buffer');
  check(encodeBase64(bytes, true) === Buffer.from(bytes).toString('base64url'), 'encodeBase64(url) disagrees with Buffer');

  // 6. whitespace
  check(hasSurroundingWhitespace(text) === /^\s|\s$/.test(text), 'hasSurroundingWhitespace disagrees with /^\\s|\\s$/');
}
