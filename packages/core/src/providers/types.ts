/**
 * The provider-profile contract: how one sender signs.
 *
 * @module
 */
import type { HmacAlgorithm } from '../lib/crypto-types.ts';
import type { HeadersInput } from '../lib/headers.ts';

export type { HeadersInput } from '../lib/headers.ts';
export type { HmacAlgorithm } from '../lib/crypto-types.ts';

/** What a profile reads from the request headers (cheap; no HMAC yet). */
export interface ParsedSignature {
  /**
   * Decoded candidate HMAC signatures, each exactly the digest length. At least one, unless
   * `asymmetricSignatures` has some.
   */
  readonly signatures: readonly Uint8Array[];
  /**
   * Decoded candidate signatures of the profile's {@link AsymmetricScheme} (Standard Webhooks `v1a`:
   * 64-byte Ed25519 signatures), over the same signed content. Absent for HMAC-only headers.
   */
  readonly asymmetricSignatures?: readonly Uint8Array[] | undefined;
  /** Text hashed before the raw body (for example `"{t}."`), exactly as the sender signed it. */
  readonly prefix: string | undefined;
  /** Signed timestamp, unix seconds, when the scheme has one. */
  readonly timestamp: number | undefined;
  /** Event or delivery id from the headers, when the scheme has one. */
  readonly eventId: string | undefined;
  /**
   * Whether `eventId` is covered by the signature. Replay defence keys on the id only when it is
   * (Standard Webhooks' `webhook-id`); an unsigned id (GitHub's `X-GitHub-Delivery`) could be changed
   * by whoever replays a captured delivery, so the signed content's digest is used instead.
   * @default false
   */
  readonly eventIdSigned?: boolean | undefined;
}

/** Timestamp tolerance of a scheme, in ms. */
export interface TimestampTolerance {
  /** How old a signed timestamp may be. */
  readonly pastMs: number;
  /** How far in the future a signed timestamp may be (sender clock skew). */
  readonly futureMs: number;
}

/** What the sender side needs to sign. */
export interface SignContext {
  /** Unix seconds. */
  readonly timestamp?: number | undefined;
  /** Event / message id, for schemes that sign one. */
  readonly id?: string | undefined;
}

/** A challenge/handshake a provider sends to prove the receiver holds the key (Smartcar VERIFY). */
export interface ChallengeSpec {
  /** Returns the challenge string if `payload` (parsed JSON) is a challenge request, else `undefined`. */
  extract(payload: unknown): string | undefined;
  /** Builds the response body from the hex HMAC of the challenge. */
  respond(hexDigest: string): Record<string, unknown>;
}

/**
 * An asymmetric signature scheme a profile verifies besides HMAC (Standard Webhooks `v1a`:
 * Ed25519 over the same signed content). Its public keys are key versions like secrets, with the
 * same roles and windows; which stored value is a public key is the profile's call.
 */
export interface AsymmetricScheme {
  /** The signature algorithm. */
  readonly algorithm: 'ed25519';
  /**
   * The raw public-key bytes when `secret` is a public key of this scheme (`whpk_…`), `undefined`
   * when it is an HMAC secret. Throws `VerificationError('INVALID_SECRET')` for a malformed public
   * key, or for a private key given to a verifier.
   */
  publicKey(secret: string | Uint8Array): Uint8Array | undefined;
  /**
   * The 32-byte private-key seed when `secret` is a signing key of this scheme (`whsk_…`), for
   * `sign()`; `undefined` otherwise. Throws a `TypeError` for a malformed one. The bytes must be a
   * fresh copy: `sign()` wipes them (fills them with zeros) once the signature is made.
   */
  signingKey(secret: string | Uint8Array): Uint8Array | undefined;
}

/**
 * Type-level only: the key under which a {@link ProviderProfile} carries the type of its verified
 * body (what `result.event` is). Never present at run time.
 */
export declare const eventType: unique symbol;

/**
 * A provider profile: header names, signed content, signature encoding, key codec and the HTTP
 * status for a rejection. Build your own with `hmac()` or implement this interface. `TEvent` is the
 * type of the verified body as JSON (`result.event`): `SmartcarEvent` for `smartcar()`, and so on.
 */
export interface ProviderProfile<TEvent = unknown> {
  /** Type-level only (never set): the type of `result.event` for this profile. */
  readonly [eventType]?: TEvent;
  /** Profile name, reported in results, errors and events (`smartcar`, `dataspike`, ...). */
  readonly name: string;
  /** HTTP status to answer a rejected signature with. */
  readonly rejectStatus: number;
  /** HMAC hash function. */
  readonly algorithm: HmacAlgorithm;
  /** Headers the scheme reads, lowercase (for hints and adapters). */
  readonly headerNames: readonly string[];
  /** Timestamp tolerance, when the scheme signs a timestamp. */
  readonly timestampTolerance: TimestampTolerance | undefined;
  /** Whether one header can carry several signatures (rotation on the sender side). */
  readonly multiSignature: boolean;
  /** Turns a stored secret into HMAC key bytes; throws `VerificationError('INVALID_SECRET')`. */
  decodeSecret(secret: string | Uint8Array): Uint8Array;
  /** Reads and strictly decodes the signature headers; throws `MISSING_SIGNATURE` / `MALFORMED_SIGNATURE`. */
  parse(headers: HeadersInput): ParsedSignature;
  /** The signed prefix for a sender (same rule `parse` applies). */
  signedPrefix(context: SignContext): string | undefined;
  /** The headers a sender sends for these digests (and signatures of the {@link AsymmetricScheme}, if any). */
  formatHeaders(digests: readonly Uint8Array[], context: SignContext, asymmetricSignatures?: readonly Uint8Array[]): Record<string, string>;
  /** Present for providers with a handshake. */
  readonly challenge?: ChallengeSpec | undefined;
  /** Where the event id lives in the body, for replay defence (parsed only when replay is on). */
  eventIdFromBody?(body: string | Uint8Array): string | undefined;
  /** An asymmetric scheme verified besides HMAC (Standard Webhooks `v1a`). */
  readonly asymmetric?: AsymmetricScheme | undefined;
}
