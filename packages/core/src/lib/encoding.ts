/**
 * Strict, runtime-independent hex and base64 codecs (no `Buffer`, no regex on the hot path).
 * Decoders return `undefined` on any deviation: wrong alphabet, odd length, bad padding,
 * non-canonical trailing bits.
 *
 * @internal
 * @module
 */

const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUES[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUES[65 + i] = 10 + i;
  HEX_VALUES[97 + i] = 10 + i;
}

/** Decodes hex (either case). Returns `undefined` unless every character is hex and the length is even. */
export function decodeHex(text: string, start = 0, end = text.length): Uint8Array | undefined {
  const len = end - start;
  if (len <= 0 || (len & 1) === 1) return undefined;
  const out = new Uint8Array(len >> 1);
  for (let i = start, j = 0; i < end; i += 2, j++) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const hi = a < 128 ? (HEX_VALUES[a] as number) : -1;
    const lo = b < 128 ? (HEX_VALUES[b] as number) : -1;
    if ((hi | lo) < 0) return undefined;
    out[j] = (hi << 4) | lo;
  }
  return out;
}

const HEX_CHARS = '0123456789abcdef';
const BYTE_TO_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_TO_HEX.push((HEX_CHARS[i >> 4] as string) + (HEX_CHARS[i & 15] as string));

/** Lowercase hex of `bytes`. */
export function encodeHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i] as number];
  return out;
}

const B64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_VALUES = new Int8Array(128).fill(-1);
const B64URL_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  B64_VALUES[B64_CHARS.charCodeAt(i)] = i;
  B64URL_VALUES[B64URL_CHARS.charCodeAt(i)] = i;
}

/**
 * Decodes base64. `url` selects the URL-safe alphabet; padding is required for the standard
 * alphabet and optional for the URL-safe one. Non-canonical input (non-zero trailing bits) is rejected.
 */
export function decodeBase64(text: string, url = false, start = 0, end = text.length): Uint8Array | undefined {
  const table = url ? B64URL_VALUES : B64_VALUES;
  let stop = end;
  let pad = 0;
  while (stop > start && text.charCodeAt(stop - 1) === 61 /* = */) {
    stop--;
    pad++;
  }
  if (pad > 2) return undefined;
  const dataLen = stop - start;
  if (!url || pad > 0) {
    if ((dataLen + pad) % 4 !== 0) return undefined;
  }
  const rem = dataLen % 4;
  if (rem === 1) return undefined;
  if (dataLen === 0) return pad === 0 ? new Uint8Array(0) : undefined;
  const outLen = (dataLen >> 2) * 3 + (rem === 0 ? 0 : rem - 1);
  const out = new Uint8Array(outLen);
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = start; i < stop; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (table[c] as number) : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  // Canonical form: the leftover bits must be zero.
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** Standard base64 with padding (or URL-safe without padding when `url`). */
export function encodeBase64(bytes: Uint8Array, url = false): string {
  const chars = url ? B64URL_CHARS : B64_CHARS;
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += chars[n >> 18]! + chars[(n >> 12) & 63]! + chars[(n >> 6) & 63]! + chars[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += chars[n >> 18]! + chars[(n >> 12) & 63]! + (url ? '' : '==');
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += chars[n >> 18]! + chars[(n >> 12) & 63]! + chars[(n >> 6) & 63]! + (url ? '' : '=');
  }
  return out;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** True if `text` has leading or trailing whitespace (a classic copy-paste error in secrets). */
export function hasSurroundingWhitespace(text: string): boolean {
  return text.length > 0 && (/^\s/.test(text) || /\s$/.test(text));
}
