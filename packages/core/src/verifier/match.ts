/**
 * Key matching: which keys a signature is tried against and in which order, then one synchronous and
 * one asynchronous loop over them. The request path of `verify`/`verifySync`: no allocation in the
 * steady state.
 *
 * @internal
 * @module
 */
import { ed25519VerifyAsync, ed25519VerifySync, equalBytes, hmacAsync, hmacSync } from '../lib/crypto.ts';
import { inWindow, type KeyEntry, type KeyRing } from '../keys/ring.ts';
import type { ParsedSignature, ProviderProfile } from '../providers/types.ts';

/** The HMAC algorithm of a profile. */
type Algorithm = ProviderProfile['algorithm'];

/**
 * The HMAC keys of `ring` in the order a signature is tried against them: the key that verified last,
 * then the ring's order (active, pending, previous; store order within a role). The array is kept on
 * the ring and rebuilt only when the last-matched key changes, so the steady state allocates nothing.
 * Public keys (Standard Webhooks `v1a`) are never among them: see {@link matchPublicSync}.
 */
export function candidates(ring: KeyRing): readonly KeyEntry[] {
  const first = ring.lastMatched;
  if (first !== ring.orderedFor) {
    ring.ordered = first === undefined || first.scheme !== 'hmac' ? ring.hmac : [first, ...ring.hmac.filter((e) => e !== first)];
    ring.orderedFor = first;
  }
  return ring.ordered ?? ring.hmac;
}

/** The public keys of `ring` in the order they are tried: the last-matched one first, if it is one. */
function publicCandidates(ring: KeyRing): readonly KeyEntry[] {
  const first = ring.lastMatched;
  const keys = ring.publicKeys;
  return first === undefined || first.scheme === 'hmac' || keys[0] === first ? keys : [first, ...keys.filter((e) => e !== first)];
}

/** Compares `digest` with every candidate signature, without an early exit. */
function anyEqual(digest: Uint8Array, signatures: readonly Uint8Array[]): boolean {
  if (signatures.length === 1) return equalBytes(digest, signatures[0] as Uint8Array);
  let ok = false;
  for (let i = 0; i < signatures.length; i++) ok = equalBytes(digest, signatures[i] as Uint8Array) || ok;
  return ok;
}

/**
 * The first candidate whose HMAC matches the signature, with `node:crypto`. Only keys inside their
 * window (± `leewayMs`) at `t` are tried, or, with `expired`, only the keys outside it (to report
 * `KEY_EXPIRED` for a signature no usable key matches).
 */
export function matchSync(
  algorithm: Algorithm,
  leewayMs: number,
  ring: KeyRing,
  parsed: ParsedSignature,
  body: string | Uint8Array,
  t: number,
  expired: boolean,
): KeyEntry | undefined {
  const order = candidates(ring);
  const prefix = parsed.prefix;
  const sigs = parsed.signatures;
  for (let i = 0; i < order.length; i++) {
    const e = order[i] as KeyEntry;
    if (inWindow(e, t, leewayMs) === expired) continue;
    if (anyEqual(hmacSync(algorithm, e.key, prefix, body), sigs)) return e;
  }
  return undefined;
}

/** {@link matchSync} with the asynchronous HMAC (WebCrypto runtimes). */
export async function matchAsync(
  algorithm: Algorithm,
  leewayMs: number,
  ring: KeyRing,
  parsed: ParsedSignature,
  body: string | Uint8Array,
  t: number,
  expired: boolean,
): Promise<KeyEntry | undefined> {
  const order = candidates(ring);
  for (let i = 0; i < order.length; i++) {
    const e = order[i] as KeyEntry;
    if (inWindow(e, t, leewayMs) === expired) continue;
    if (anyEqual(await hmacAsync(algorithm, e.key, parsed.prefix, body), parsed.signatures)) return e;
  }
  return undefined;
}

/**
 * The first public key (Standard Webhooks `v1a`, Ed25519) that verifies one of the request's
 * asymmetric signatures over the signed content, with `node:crypto`; the same window rule as
 * {@link matchSync}. Runs only for a request that carries such signatures and a ring that holds
 * public keys: the HMAC path never comes here.
 */
export function matchPublicSync(
  leewayMs: number,
  ring: KeyRing,
  parsed: ParsedSignature,
  body: string | Uint8Array,
  t: number,
  expired: boolean,
): KeyEntry | undefined {
  const sigs = parsed.asymmetricSignatures;
  if (sigs === undefined || ring.publicKeys.length === 0) return undefined;
  for (const e of publicCandidates(ring)) {
    if (inWindow(e, t, leewayMs) === expired) continue;
    // A public-key check leaks nothing worth a constant-time loop: stop at the first valid signature.
    if (sigs.some((sig) => ed25519VerifySync(e.key, parsed.prefix, body, sig))) return e;
  }
  return undefined;
}

/** {@link matchPublicSync} with WebCrypto's asynchronous Ed25519. */
export async function matchPublicAsync(
  leewayMs: number,
  ring: KeyRing,
  parsed: ParsedSignature,
  body: string | Uint8Array,
  t: number,
  expired: boolean,
): Promise<KeyEntry | undefined> {
  const sigs = parsed.asymmetricSignatures;
  if (sigs === undefined || ring.publicKeys.length === 0) return undefined;
  for (const e of publicCandidates(ring)) {
    if (inWindow(e, t, leewayMs) === expired) continue;
    const results = await Promise.all(sigs.map((sig) => ed25519VerifyAsync(e.key, parsed.prefix, body, sig)));
    if (results.includes(true)) return e;
  }
  return undefined;
}
