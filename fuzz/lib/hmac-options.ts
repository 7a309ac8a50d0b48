/**
 * `hmac({...})` configurations chosen by the fuzzer: encodings, algorithms, signature prefixes,
 * separators, timestamp and id headers, signed-content templates and key codecs.
 */
import { createHash } from 'node:crypto';
import { providers, type ProviderProfile } from '@keyturn/core';
import type { HmacProfileOptions } from '@keyturn/core/providers';
import { check, describe } from './checks.ts';
import type { HeaderSpec } from './headers.ts';
import type { Input } from './input.ts';

const ENCODINGS = ['hex', 'base64'] as const;
const ALGORITHMS = ['sha256', 'sha1', 'sha512'] as const;
const PREFIXES = ['', 'sha256=', 'v1,', 'v1=', 'x'] as const;
const SEPARATORS = [undefined, ' ', ',', ', ', ';'] as const;
const TEMPLATES = ['{body}', '{timestamp}.{body}', '{id}.{timestamp}.{body}', 'v0:{timestamp}:{body}', '{timestamp}{id}{body}'] as const;
const CODECS = ['utf8', 'hex', 'base64', 'whsec-hex', 'whsec-base64'] as const;

const raw = (label: string): Buffer => createHash('sha256').update(label).digest();
const LABELS = ['active', 'previous', 'pending', 'expired'] as const;

/** Stored secrets for a codec, and their key bytes decoded here. */
export function secretsFor(codec: (typeof CODECS)[number]): {
  secrets: [string, string, string, string];
  keyBytes: (s: string) => Uint8Array;
} {
  const enc = (b: Buffer): string =>
    codec === 'utf8' ? `generic-${b.toString('hex').slice(0, 24)}` : codec.endsWith('hex') ? b.toString('hex') : b.toString('base64');
  const pre = codec.startsWith('whsec-') ? 'whsec_' : '';
  const secrets = LABELS.map((l) => pre + enc(raw(`${codec} ${l}`))) as [string, string, string, string];
  const keyBytes = (s: string): Uint8Array => {
    if (codec === 'utf8') return Buffer.from(s, 'utf8');
    const body = s.replace(/^whsec_/, '');
    return Buffer.from(body, codec.endsWith('hex') ? 'hex' : 'base64');
  };
  return { secrets, keyBytes };
}

const cache = new Map<string, HeaderSpec | TypeError>();

/** A configuration picked by four bytes, or the documented `TypeError` `hmac()` refused it with. */
export function pickHmacSpec(input: Input): HeaderSpec | TypeError {
  const a = input.byte();
  const prefix = PREFIXES[input.int(PREFIXES.length)] as string;
  const separator = SEPARATORS[input.int(SEPARATORS.length)];
  const b = input.byte();
  const codec = CODECS[b % CODECS.length] as (typeof CODECS)[number];
  const template = TEMPLATES[(b >> 3) % TEMPLATES.length] as string;
  const options: HmacProfileOptions = {
    name: 'fuzz-hmac',
    header: 'X-Fuzz-Signature',
    encoding: ENCODINGS[a & 1] as 'hex' | 'base64',
    algorithm: ALGORITHMS[(a >> 1) % 3] as 'sha256',
    prefix,
    secretCodec: codec,
    separator,
    signedContent: template,
    ...(template.includes('{timestamp}') || (b & 0x80) !== 0 ? { timestampHeader: 'X-Fuzz-Timestamp' } : {}),
    ...(template.includes('{id}') || (b & 0x40) !== 0 ? { idHeader: 'X-Fuzz-Id' } : {}),
  };
  // One verifier per configuration (createVerifier costs milliseconds: its LRU caches preallocate).
  const key = JSON.stringify(options);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let result: HeaderSpec | TypeError;
  try {
    const profile: ProviderProfile = providers.hmac(options);
    result = { profile, ...secretsFor(codec), id: 'evt_fuzz_0001' };
  } catch (err) {
    check(err instanceof TypeError, () => `hmac() threw something other than a TypeError: ${describe(err)}`);
    result = err;
  }
  cache.set(key, result);
  return result;
}
