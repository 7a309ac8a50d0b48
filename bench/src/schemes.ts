/**
 * The two signing schemes keyturn is measured on, signed independently of keyturn (plain
 * `node:crypto`), so every keyturn case is also a cross-check against a second implementation.
 *
 * @module
 */
import { createHash, createHmac } from 'node:crypto';
import type { SecretVersion } from '@keyturn/core';

/** `smartcar`: hex HMAC of the body only. `dataspike`: `t=…,v1=<hex>` over `"{t}." + body`. */
export type SchemeName = 'smartcar' | 'dataspike';

/** A signing secret: as stored, and as HMAC key bytes. */
export interface TestSecret {
  readonly id: string;
  readonly stored: string;
  readonly key: Buffer;
}

/** Deterministic secret number `i` of a scheme. */
export function secret(scheme: SchemeName, i: number): TestSecret {
  const seed = createHash('sha256').update(`keyturn-bench-${scheme}-${i}`).digest();
  if (scheme === 'smartcar') {
    // An Application Management Token: a UUID-shaped string, keyed by its UTF-8 bytes.
    const h = seed.toString('hex');
    const stored = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    return { id: `k${i}`, stored, key: Buffer.from(stored, 'utf8') };
  }
  return { id: `k${i}`, stored: `whsec_${seed.toString('hex')}`, key: seed };
}

/** The signed prefix of `scheme` at unix time `t` (`undefined` for body-only schemes). */
export function prefixOf(scheme: SchemeName, t: number): string | undefined {
  return scheme === 'dataspike' ? `${t}.` : undefined;
}

/** Hex HMAC-SHA256 of `prefix || body` with plain node:crypto. */
export function hmacHex(key: Buffer, prefix: string | undefined, body: Buffer): string {
  const h = createHmac('sha256', key);
  if (prefix !== undefined) h.update(prefix);
  return h.update(body).digest('hex');
}

/**
 * A flat, sequential string, as Node's HTTP parser hands header values over (a string built by
 * concatenation is a V8 "cons" string, which every parser would pay to flatten on first access).
 */
export function asReceived(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

/** Headers a sender of `scheme` sends (lowercase names and flat values, as Node's `req.headers`). */
export function signHeaders(scheme: SchemeName, s: TestSecret, body: Buffer, t: number): Record<string, string> {
  const hex = hmacHex(s.key, prefixOf(scheme, t), body);
  return scheme === 'smartcar' ? { 'sc-signature': asReceived(hex) } : { 'x-webhook-signature': asReceived(`t=${t},v1=${hex}`) };
}

/** The signature hex inside `headers` (what the floor decodes). */
export function signatureHex(scheme: SchemeName, headers: Record<string, string>): string {
  if (scheme === 'smartcar') return headers['sc-signature']!;
  const v = headers['x-webhook-signature']!;
  return v.slice(v.indexOf('v1=') + 3);
}

/**
 * `n` versions of one secret during a rotation, newest first: with n = 1 one active key; with
 * n = 2 active (newest) + previous (oldest); with n > 2 a pending key (newest), the active key
 * and n − 2 previous keys (the last is the oldest). Previous keys have an open window.
 */
export function rotation(
  scheme: SchemeName,
  n: number,
  nowMs: number,
): { versions: SecretVersion[]; newest: TestSecret; oldest: TestSecret } {
  const secrets = Array.from({ length: n }, (_, i) => secret(scheme, n - i)); // k{n} … k1
  const versions: SecretVersion[] = secrets.map((s, i) => ({
    id: s.id,
    secret: s.stored,
    role: n > 2 ? (i === 0 ? 'pending' : i === 1 ? 'active' : 'previous') : i === 0 ? 'active' : 'previous',
    notAfter: (n > 2 ? i >= 2 : i >= 1) ? nowMs + 86_400_000 : undefined,
  }));
  return { versions, newest: secrets[0]!, oldest: secrets[n - 1]! };
}

/** Current unix seconds. */
export const unixNow = (): number => Math.floor(Date.now() / 1000);
