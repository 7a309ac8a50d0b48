/**
 * The verifier's public types: what `verify` takes and returns, its options, and the `Verifier` itself.
 *
 * @module
 */
import type { Fleet } from '../fleet/types.ts';
import type { CacheOptions } from '../cache/key-cache.ts';
import type { SecretStatus } from '../cache/source.ts';
import type { VerificationError } from '../errors.ts';
import type { KeyturnEvent, RejectedInfo, VerifiedInfo } from '../events.ts';
import type { HeadersInput } from '../lib/headers.ts';
import type { SecretMaterial } from '../keys/secret.ts';
import type { KeyRole, KeyStore, SecretVersion } from '../keys/types.ts';
import type { ProviderProfile } from '../providers/types.ts';
import type { ReplayOptions, ReplayStore } from '../replay/types.ts';

/** A raw request body: exactly the bytes received (a `Buffer` is a `Uint8Array`). */
export type RawBody = string | Uint8Array | ArrayBuffer;

/** What `verify` needs from a request. */
export interface VerifyRequest {
  /** The raw body, exactly as received. A parsed object is rejected with `BODY_NOT_RAW`. */
  readonly body: RawBody;
  /** Request headers: Fetch `Headers`, Node `IncomingHttpHeaders` or a plain record (any case). */
  readonly headers: HeadersInput;
  /**
   * Overrides the verifier's `secretId` for this request (multi-tenant receivers). Map it only to
   * tenants you know (see `VerifierOptions.secretId`). A value that is not a non-empty string of at most
   * 1 024 characters is refused with `INVALID_INPUT` (500).
   */
  readonly secretId?: string | undefined;
  /**
   * Epoch ms the request arrived, for timestamp checks of queued deliveries. Anything but a finite
   * number from 0 to 8.64e15 (`NaN`, a string, a date in seconds is still a number but far in the past)
   * is refused with `INVALID_INPUT` (500), never ignored. @default now()
   */
  readonly receivedAt?: number | undefined;
}

/**
 * What an accepted webhook resolves to: which key matched, and the event. `TEvent` is the type of
 * the verified body as JSON (the profile's: `SmartcarEvent` for `providers.smartcar()`, ...; or
 * yours: `verify<MyEvent>()`).
 */
export interface VerifyResult<TEvent = unknown> {
  /** Provider profile name. */
  readonly provider: string;
  /** Secret id verified against. */
  readonly secretId: string;
  /** Id of the key version that matched. */
  readonly keyId: string;
  /** Role of that key: `'active' | 'pending' | 'previous'`. */
  readonly keyRole: KeyRole;
  /** Signed timestamp (unix seconds), for timestamped schemes. */
  readonly timestamp?: number | undefined;
  /** Event id from the headers, when the scheme has one (or from the body, with replay defence on). */
  readonly eventId?: string | undefined;
  /**
   * The verified body parsed as JSON, on first read (nothing is parsed unless you read it, and never
   * before the signature matched); the same object on every read. Throws `EventParseError`
   * (`EVENT_NOT_JSON`) when the body is not JSON. Not an own property: a spread copy (`{ ...result }`)
   * does not have it.
   */
  readonly event: TEvent;
  /** With replay defence on: the claimed key (non-enumerable). */
  readonly replayKey?: string;
  /**
   * With replay defence on: releases the claim so the sender's retry is accepted. Call it when the
   * handler failed (threw or answered 5xx); the adapters do. Non-enumerable; never rejects.
   */
  readonly release?: () => Promise<void>;
}

/** An accepted webhook, as `safeVerify` reports it. */
export interface SafeVerifySuccess<TEvent = unknown> extends VerifyResult<TEvent> {
  /** Always `true`. */
  readonly ok: true;
}

/** A rejected webhook, as `safeVerify` reports it. */
export interface SafeVerifyFailure {
  /** Always `false`. */
  readonly ok: false;
  /** Why it was rejected. */
  readonly error: VerificationError;
}

/** `safeVerify`'s result: never throws for a rejection. */
export type SafeVerifyResult<TEvent = unknown> = SafeVerifySuccess<TEvent> | SafeVerifyFailure;

/**
 * The event type a profile gives `result.event` (`SmartcarEvent` for `providers.smartcar()`); for a
 * union of profiles, the union of their event types; `unknown` for a profile that names none.
 */
export type EventOf<P> = P extends ProviderProfile<infer E> ? E : unknown;

/**
 * Options of {@link createVerifier}: static keys ({@link StaticKeysVerifierOptions}, `secretId`
 * optional) or a key store ({@link StoreVerifierOptions}, `secretId` required).
 */
export type VerifierOptions<TEvent = unknown> = StaticKeysVerifierOptions<TEvent> | StoreVerifierOptions<TEvent>;

/**
 * Which secret to verify against: a name, or a function of the request (one secret per tenant).
 *
 * A per-request secret id is chosen by whoever sends the request, before any signature is checked.
 * Map it only to tenants you know (look the tenant up in your own table first and refuse unknown
 * ones before verifying): every unknown id that reaches the verifier costs a store call. The cache
 * bounds that damage — a short negative cache of ids the store does not have (`cache.negativeTtlMs`),
 * an admission limit on cold loads (`cache.coldLoadBurst`), and secrets that have verified a request
 * are never evicted by ones that have not — but it cannot tell a new tenant from a made-up one.
 */
export type SecretIdOption = string | ((request: VerifyRequest) => string);

/**
 * Static keys: the signing secret as one string (or `SecretMaterial`) — one active key, id
 * `'default'`: `createVerifier({ provider, keys: process.env.SMARTCAR_AMT! })` — or the versions of a
 * rotation, with ids, roles and windows. For Standard Webhooks `v1a`, a `whpk_` public key.
 */
export type StaticKeys = string | SecretMaterial | readonly SecretVersion[];

/** Options of {@link createVerifier} with static keys, where `secretId` is optional. */
export interface StaticKeysVerifierOptions<TEvent = unknown> extends VerifierOptionsBase<TEvent> {
  /** One secret, or the versions of a rotation. See {@link StaticKeys}. */
  keys: StaticKeys;
  /** The secret id reported in results and usage. See {@link SecretIdOption}. @default 'default' */
  secretId?: SecretIdOption;
}

/**
 * Options of {@link createVerifier} with a key store (cached; or static keys): `secretId` names the
 * secret, and is required whenever `keys` may be a store.
 */
export interface StoreVerifierOptions<TEvent = unknown> extends VerifierOptionsBase<TEvent> {
  /** A key store (`envKeyStore()`, `awsSecretsManagerStore(...)`, ...), behind the key cache; or {@link StaticKeys}. */
  keys: KeyStore | StaticKeys;
  /** Which secret of the store to verify against (required with a store). See {@link SecretIdOption}. */
  secretId: SecretIdOption;
}

/** What every verifier takes, whatever its keys. */
export interface VerifierOptionsBase<TEvent = unknown> {
  /** How the sender signs (`providers.smartcar()`, `providers.dataspike()`, ...). Its event type is `result.event`'s. */
  provider: ProviderProfile<TEvent>;
  /** Clock, epoch ms (a finite number; checked at construction and on every request). Drives windows, timestamps, TTLs, staleness and cooldowns. @default Date.now */
  now?: () => number;
  /**
   * Leeway applied to both ends of every key window, in ms, from 0 to 3 600 000 (one hour: it is for
   * clock skew; widen the window itself to accept a key longer). @default 5_000
   */
  windowLeewayMs?: number;
  /** On no match, also try keys outside their window to report `KEY_EXPIRED` (costs one HMAC per such key). @default true */
  reportExpiredKeys?: boolean;
  /** Key cache settings (stores only). */
  cache?: CacheOptions;
  /** Called after every accepted webhook (feed your metrics here). Never receives a secret. */
  onVerified?: (info: VerifiedInfo) => void;
  /** Called after every rejected webhook. */
  onRejected?: (info: RejectedInfo) => void;
  /** Operational events from the key cache and the replay store. */
  onEvent?: (event: KeyturnEvent) => void;
  /**
   * Replay defence: a store (or `{ store, ttlMs, duplicateStatus, failOpen, ... }`). A verified request
   * whose event id (or signed-content digest) was already claimed is refused with `REPLAYED`.
   * Off by default.
   */
  replay?: ReplayOptions | ReplayStore;
  /**
   * The fleet this verifier belongs to (every instance verifying for the same secrets), such as
   * `redisFleet({ client })` from `@keyturn/redis`: key-change notices reload held secrets at once,
   * rotation fences turn the deliveries that race a store write into retryable 503s, and match counts go
   * to a shared ledger in batches (never on the request path) for one fleet-wide readiness verdict.
   */
  fleet?: Fleet;
}

/** Per-key usage as reported by `verifier.usage()`. */
export interface KeyUsageReport {
  /** Secret id. */
  readonly secretId: string;
  /** Key version id. */
  readonly keyId: string;
  /** Role when last seen. */
  readonly keyRole: KeyRole;
  /** Successful verifications with this key. */
  readonly matches: number;
  /** Epoch ms of the last match. */
  readonly lastMatchedAt: number | undefined;
  /** Window start, epoch ms. */
  readonly notBefore: number | undefined;
  /** Window end, epoch ms. */
  readonly notAfter: number | undefined;
  /** Epoch ms the key was last reported by its store. */
  readonly lastSeenAt: number;
}

/** Options of `verifier.answerChallenge`. */
export interface AnswerChallengeOptions {
  /** Secret to answer for. @default the verifier's `secretId` */
  secretId?: string;
  /**
   * Answer with this key version instead of the active one — the key that verified the signed
   * handshake, so a sender that already signs with a new (pending) key gets an answer it accepts.
   * It must be held and inside its window.
   */
  keyId?: string;
}

/**
 * A webhook verifier. `TEvent` is what `result.event` is (the profile's event type); each
 * `verify<MyEvent>()` call can name its own.
 */
export interface Verifier<TEvent = unknown> {
  /** Provider profile in use. */
  readonly provider: ProviderProfile<TEvent>;
  /** Verifies one request; resolves to the key that matched (and the event) or throws {@link VerificationError}. */
  verify<E = TEvent>(request: VerifyRequest): Promise<VerifyResult<E>>;
  /** Like `verify`, but resolves to `{ ok: false, error }` instead of throwing on a rejection. */
  safeVerify<E = TEvent>(request: VerifyRequest): Promise<SafeVerifyResult<E>>;
  /**
   * Synchronous verification for static keys and warm caches (on `node:crypto` runtimes). On a
   * cold cache it throws `KEYSTORE_UNAVAILABLE`: call `verify` once first (or `warm()`).
   */
  verifySync<E = TEvent>(request: VerifyRequest): VerifyResult<E>;
  /**
   * Releases the replay claim of an accepted `result` (same as `result.release()`), so the sender's
   * retry is accepted. A no-op without replay defence.
   */
  release(result: VerifyResult<unknown>): Promise<void>;
  /** Loads the key set of `secretId` (default: the configured one) so later calls need no network. */
  warm(secretId?: string): Promise<void>;
  /** Answers a provider handshake (Smartcar VERIFY) with the active key. */
  answerChallenge(payload: unknown, options?: AnswerChallengeOptions): Promise<Record<string, unknown>>;
  /** Whether `payload` (parsed JSON, a JSON string or bytes) is the provider's handshake. */
  isChallenge(payload: unknown): boolean;
  /** Match counters per key, to know when an old key is safe to retire. */
  usage(secretId?: string): KeyUsageReport[];
  /** Drops cached key sets (push invalidation from Pub/Sub or EventBridge); reloads in the background. */
  invalidate(secretId?: string): void;
  /**
   * Reloads a held secret now (default: every held one) while it keeps verifying with the keys it holds,
   * and resolves once the store answered: what a rotation workflow calls after its store write (at most
   * one store call per 250 ms per secret). Ends the secret's rotation fence. A secret not held is not
   * loaded. Never rejects (a failed load is reported through `onEvent` and `status()`).
   */
  reload(secretId?: string): Promise<void>;
  /**
   * Starts a rotation fence for `secretId` on this verifier for `ttlMs` (1 to 3 600 000; `0` ends it).
   * While it stands, a delivery no key matches reloads the secret at once (at most one store call per
   * 250 ms) and, if still nothing matches, is refused with `KEY_ROTATION_IN_PROGRESS` (503, retryable)
   * instead of `NO_MATCHING_KEY`. A fence never makes a signature match. The rotation workflows call it
   * (`rotateDataspikeSecret({ verifier })`); with a fleet, fences arrive as notices.
   */
  fence(secretId: string, ttlMs: number): void;
  /** Cache state of one secret: age, versions, last error, next refresh. */
  status(secretId?: string): SecretStatus;
  /** Secret ids currently held. */
  secretIds(): string[];
  /** Aborts loads and releases the store. */
  dispose(): Promise<void>;
}
