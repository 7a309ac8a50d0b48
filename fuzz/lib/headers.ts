/**
 * The header-parser fuzz target, shared by every provider profile.
 *
 * Each input is one request: either headers made up from scratch (mode "raw"), or a request
 * really signed by `sign()` whose headers are then mutated (mode "mutate": replaced, inserted,
 * deleted or case-flipped characters, truncation, repetition, dropped, added or swapped headers).
 * The headers reach the profile as a plain record, a record with other letter case, a Fetch
 * `Headers` object or a record with array values (repeated headers), as runtimes hand them over.
 *
 * Properties:
 * 1. `parse` throws only `VerificationError` `MISSING_SIGNATURE` / `MALFORMED_SIGNATURE` with the
 *    profile's status and name, and no header value in anything the error exposes.
 * 2. What `parse` accepts is well formed (1..8 signatures of exactly the digest length, a safe
 *    integer timestamp exactly when the scheme has one) and survives parse → formatHeaders → parse
 *    unchanged (same signatures in the same order, timestamp, event id; the prefix is the one
 *    `signedPrefix` builds).
 * 3. `verifySync` agrees with `parse` (a parse rejection is the verify rejection), rejects only with
 *    the request-side codes, and accepts only when a parsed signature equals an HMAC computed here,
 *    independently (node:crypto, keys decoded here), over the parsed prefix + body with a key in its
 *    window. For a mutated request: only when the prefix is the one really signed and the matching
 *    signature is the real one, from a key that really signed. An unmutated request always verifies.
 * 4. No rejection exposes a secret or an expected signature (hex either case, base64, base64url).
 */
import { createHmac } from 'node:crypto';
import { createVerifier, sign, type ProviderProfile, type SecretVersion, type Verifier, type VerifyResult } from '@keyturn/core';
import { check, describe, expectNoLeak, expectVerificationError } from './checks.ts';
import { type Input, latin1 } from './input.ts';

/** Unix seconds every request is signed at (the verifier's clock). */
export const T = 1_764_000_000;

/** One profile under test with its keys. */
export interface HeaderSpec {
  readonly profile: ProviderProfile;
  /** Four stored secrets: active, previous, pending, and an expired previous one. */
  readonly secrets: readonly [string, string, string, string];
  /** Key bytes of a stored secret, decoded here independently of the profile's codec. */
  readonly keyBytes: (secret: string) => Uint8Array;
  /** Event id for schemes that sign one (`sign({ id })`). */
  readonly id?: string;
  /** More header names worth making up in raw mode. */
  readonly extraHeaders?: readonly string[];
}

interface Prepared extends HeaderSpec {
  readonly verifier: Verifier;
  readonly keys: readonly SecretVersion[];
  readonly names: readonly string[];
  readonly digestLength: number;
}

const KEY_IDS = ['k-active', 'k-previous', 'k-pending', 'k-expired'] as const;
const PARSE_CODES = ['MISSING_SIGNATURE', 'MALFORMED_SIGNATURE'] as const;
const VERIFY_CODES = [...PARSE_CODES, 'TIMESTAMP_TOO_OLD', 'TIMESTAMP_IN_FUTURE', 'NO_MATCHING_KEY', 'KEY_EXPIRED'] as const;

/** Builds the verifier and tables for a spec (once per profile). */
export function prepare(spec: HeaderSpec): Prepared {
  const now = T * 1000;
  const keys: SecretVersion[] = [
    { id: KEY_IDS[0], secret: spec.secrets[0], role: 'active' },
    { id: KEY_IDS[1], secret: spec.secrets[1], role: 'previous', notAfter: now + 86_400_000 },
    { id: KEY_IDS[2], secret: spec.secrets[2], role: 'pending' },
    { id: KEY_IDS[3], secret: spec.secrets[3], role: 'previous', notAfter: now - 86_400_000 },
  ];
  const verifier = createVerifier({ provider: spec.profile, keys, now: () => now });
  const digestLength = createHmac(spec.profile.algorithm, 'k').digest().length;
  const names = [...spec.profile.headerNames, ...(spec.extraHeaders ?? []), 'content-type'];
  return { ...spec, verifier, keys, names, digestLength };
}

type Pairs = [name: string, value: string][];

/** Runs one input against a prepared profile. */
export function runHeaderCase(p: Prepared, input: Input): void {
  const flags = input.byte();
  const mode = flags & 3; // 0: raw, 1-3: mutate a signed request
  const container = (flags >> 2) & 3;
  const utf8 = (flags & 0x10) !== 0;

  let pairs: Pairs;
  let body: Uint8Array;
  let signed: { prefix: string | undefined; signers: number[]; digests: Map<string, Buffer>; pristine: boolean } | undefined;
  if (mode === 0) {
    body = input.field();
    pairs = [];
    while (input.remaining > 0 && pairs.length < 12) {
      const f = input.field();
      const sel = f[0] ?? 0;
      pairs.push([p.names[sel % p.names.length] as string, utf8 ? new TextDecoder().decode(f.subarray(1)) : latin1(f.subarray(1))]);
    }
  } else {
    body = input.field();
    const who = input.byte();
    let signers = [0, 1, 2, 3].filter((i) => (who & (1 << i)) !== 0);
    if (signers.length === 0) signers = [who % 4 === 3 ? 1 : (who >> 4) % 3];
    if (!p.profile.multiSignature) signers = signers.slice(0, 1);
    // Mostly now; sometimes out of tolerance either way.
    const d = input.byte();
    const delta = d < 200 ? 0 : (d - 228) * 30;
    const timestamp = T + delta;
    const headers = sign(p.profile, { body, secret: signers.map((i) => p.secrets[i] as string), timestamp, id: p.id });
    const prefix = p.profile.signedPrefix({ timestamp, id: p.id });
    const digests = new Map<string, Buffer>();
    for (const i of signers) digests.set(KEY_IDS[i] as string, hmac(p, p.secrets[i] as string, prefix, body));
    pairs = Object.entries(headers);
    const ops = mutate(pairs, input, p.names);
    signed = { prefix, signers, digests, pristine: ops === 0 && delta === 0 };
  }

  const headers = toContainer(pairs, container);
  if (headers === undefined) return; // a Fetch Headers object refuses these bytes: no runtime delivers them
  checkRequest(p, headers, body, pairs, signed);
}

function hmac(p: Prepared, secret: string, prefix: string | undefined, body: Uint8Array): Buffer {
  const h = createHmac(p.profile.algorithm, p.keyBytes(secret));
  if (prefix !== undefined) h.update(prefix, 'utf8');
  return h.update(body).digest();
}

/** Applies the mutation program in `input` to `pairs`; returns how many operations changed something. */
function mutate(pairs: Pairs, input: Input, names: readonly string[]): number {
  let changed = 0;
  for (let n = 0; n < 16 && input.remaining > 0; n++) {
    const op = input.byte() % 10;
    if (pairs.length === 0 && op !== 7) continue;
    const i = input.int(Math.max(pairs.length, 1));
    const pair = pairs[i] as [string, string] | undefined;
    const v = pair?.[1] ?? '';
    const pos = input.int(v.length + 1);
    const arg = input.byte();
    const before = JSON.stringify(pairs);
    switch (op) {
      case 0:
        if (pair && pos < v.length) pair[1] = v.slice(0, pos) + String.fromCharCode(arg) + v.slice(pos + 1);
        break;
      case 1:
        if (pair) pair[1] = v.slice(0, pos) + String.fromCharCode(arg) + v.slice(pos);
        break;
      case 2:
        if (pair) pair[1] = v.slice(0, pos) + v.slice(pos + 1);
        break;
      case 3:
        if (pair && pos < v.length) {
          const c = v[pos] as string;
          const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
          pair[1] = v.slice(0, pos) + flipped + v.slice(pos + 1);
        }
        break;
      case 4:
        if (pair) pair[1] = v.slice(0, pos);
        break;
      case 5:
        if (pair) pairs.push([pair[0], arg & 1 ? v : latin1(input.field())]);
        break;
      case 6:
        pairs.splice(i, 1);
        break;
      case 7:
        pairs.push([names[arg % names.length] as string, latin1(input.field())]);
        break;
      case 8:
        if (pair) pair[1] = (pairs[arg % pairs.length] as [string, string])[1];
        break;
      case 9:
        if (pair) pair[1] = v.slice(0, pos) + latin1(input.field()) + v.slice(pos);
        break;
    }
    if (JSON.stringify(pairs) !== before) changed++;
  }
  return changed;
}

/** The header container a runtime would hand over; `undefined` when `Headers` refuses the bytes. */
function toContainer(pairs: Pairs, kind: number): Parameters<ProviderProfile['parse']>[0] | undefined {
  if (kind === 2) {
    const h = new Headers();
    try {
      for (const [k, v] of pairs) h.append(k, v);
    } catch {
      return undefined;
    }
    return h;
  }
  const record: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const name = kind === 1 ? k.toUpperCase() : k;
    const prev = record[name];
    if (prev === undefined) record[name] = kind === 3 ? [v] : v;
    else if (Array.isArray(prev)) prev.push(v);
    else record[name] = `${prev}, ${v}`;
  }
  return record;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.length === b.length &&
    Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0
  );
}

function checkRequest(
  p: Prepared,
  headers: Parameters<ProviderProfile['parse']>[0],
  body: Uint8Array,
  pairs: Pairs,
  signed: { prefix: string | undefined; signers: number[]; digests: Map<string, Buffer>; pristine: boolean } | undefined,
): void {
  const { profile } = p;
  // 1. parse: typed rejections only, nothing of the request in them.
  let parsed: ReturnType<ProviderProfile['parse']> | undefined;
  let parseError: unknown;
  try {
    parsed = profile.parse(headers);
  } catch (err) {
    parseError = err;
    expectVerificationError(err, PARSE_CODES, { status: profile.rejectStatus, provider: profile.name });
    expectNoLeak(
      err,
      pairs.map(([, v]) => v),
      'header value',
      24,
    );
  }

  // 2. What parse accepts is well formed and round-trips through formatHeaders.
  if (parsed !== undefined) {
    const { signatures, timestamp, eventId, prefix } = parsed;
    check(signatures.length >= 1 && signatures.length <= 8, () => `${signatures.length} signatures parsed`);
    for (const s of signatures)
      check(
        s instanceof Uint8Array && s.length === p.digestLength,
        () => `a parsed signature has ${s.length} bytes, not ${p.digestLength}`,
      );
    check(
      (timestamp !== undefined) === (profile.timestampTolerance !== undefined),
      'a timestamp was parsed exactly when the scheme has none, or none when it has one',
    );
    if (timestamp !== undefined) check(Number.isSafeInteger(timestamp) && timestamp >= 0, () => `parsed timestamp ${timestamp}`);
    const ctx = { timestamp, id: eventId };
    check(
      (prefix === undefined) === (profile.signedPrefix(ctx) === undefined),
      'parse and signedPrefix disagree on whether a prefix is signed',
    );
    let again: Record<string, string>;
    try {
      again = profile.formatHeaders(signatures, ctx);
    } catch (err) {
      throw new Error(`PROPERTY: formatHeaders cannot re-serialise what parse accepted: ${describe(err)}`);
    }
    let reparsed: ReturnType<ProviderProfile['parse']>;
    try {
      reparsed = profile.parse(again);
    } catch (err) {
      throw new Error(`PROPERTY: parse rejects formatHeaders(parse(h)): ${describe(err)} (${JSON.stringify(again)})`);
    }
    check(reparsed.signatures.length === signatures.length, 'the signature count changed in a round trip');
    for (const [i, s] of signatures.entries())
      check(sameBytes(s, reparsed.signatures[i] as Uint8Array), `signature ${i} changed in a round trip`);
    check(reparsed.timestamp === timestamp, 'the timestamp changed in a round trip');
    check(reparsed.eventId === eventId, () => `the event id changed in a round trip (${String(eventId)} → ${String(reparsed.eventId)})`);
    check(reparsed.prefix === profile.signedPrefix(ctx), 'a re-serialised header does not sign the prefix signedPrefix builds');
  }

  // 3. verifySync agrees with parse and accepts only the real signature.
  let result: VerifyResult | undefined;
  let verifyError: unknown;
  try {
    result = p.verifier.verifySync({ body, headers });
  } catch (err) {
    verifyError = err;
  }
  if (result !== undefined) {
    check(parsed !== undefined, 'verifySync accepted a request whose headers parse rejects');
    const key = p.keys.find((k) => k.id === result.keyId);
    check(key !== undefined, () => `verifySync reports unknown key ${result.keyId}`);
    check(key.id !== 'k-expired', 'a key outside its window verified');
    check(result.provider === profile.name, 'the result names another provider');
    check(result.timestamp === parsed.timestamp, 'the result timestamp is not the parsed one');
    const expected = hmac(p, key.secret as string, parsed.prefix, body);
    check(
      parsed.signatures.some((s) => sameBytes(s, expected)),
      'accepted, but no parsed signature is the HMAC of the parsed prefix + body',
    );
    if (signed !== undefined) {
      check(
        parsed.prefix === signed.prefix,
        () => `a mutated header verified with another signed prefix (${JSON.stringify(parsed.prefix)} vs ${JSON.stringify(signed.prefix)})`,
      );
      const real = signed.digests.get(key.id);
      check(real !== undefined, () => `a mutated header verified with ${key.id}, which did not sign it`);
      check(
        parsed.signatures.some((s) => sameBytes(s, real)),
        'a mutated signature verified without being the real one',
      );
    }
  } else {
    const err = expectVerificationError(verifyError, VERIFY_CODES, { provider: profile.name });
    if (parseError !== undefined) {
      check(
        err.code === (parseError as { code?: string }).code,
        () => `parse said ${(parseError as { code?: string }).code}, verifySync said ${err.code}`,
      );
    }
    // 4. Nothing secret in a rejection.
    expectNoLeak(err, p.secrets, 'secret');
    const expected: string[] = [];
    for (const s of p.secrets) {
      for (const prefix of new Set([parsed?.prefix, signed?.prefix])) {
        const d = hmac(p, s, prefix, body);
        expected.push(d.toString('hex'), d.toString('hex').toUpperCase(), d.toString('base64'), d.toString('base64url'));
      }
    }
    expectNoLeak(err, expected, 'expected signature');
    if (signed?.pristine) {
      const onlyExpired = signed.signers.every((i) => i === 3);
      check(onlyExpired && err.code === 'KEY_EXPIRED', () => `an unmutated signed request was rejected: ${err.code} ${err.message}`);
    }
  }
}
