/**
 * The verifier: one provider profile + one key source (static keys or a store behind the cache).
 *
 * @module
 */
import { cachedSource, resolveCacheOptions, type CacheOptions } from './cache/key-cache.ts';
import type { KeySource, SecretStatus } from './cache/source.ts';
import { staticSource } from './cache/static-source.ts';
import { Tiers } from './cache/tiers.ts';
import { requestRejection, SERVER_SIDE_STATUS, VerificationError, type VerificationErrorCode, type VerificationErrorOptions } from './errors.ts';
import type { KeyturnEvent, RejectedInfo, VerifiedInfo } from './events.ts';
import { equalBytes, hasSyncHmac, hmacAsync, hmacSync } from './lib/crypto.ts';
import { encodeHex } from './lib/encoding.ts';
import type { HeadersInput } from './lib/headers.ts';
import { booleanOption, describeValue, durationOption, HOUR_MS, isEpochMs, MAX_EPOCH_MS, rejectStatusOption, toleranceOptions } from './lib/validate.ts';
import { inWindow, usageKey, type KeyEntry, type KeyRing, type KeyUsage } from './keys/ring.ts';
import type { KeyRole, KeyStore, SecretVersion } from './keys/types.ts';
import type { ParsedSignature, ProviderProfile } from './providers/types.ts';
import { attachClaim, createReplayGuard, type ReplayGuard } from './replay/guard.ts';
import type { ReplayOptions, ReplayStore } from './replay/types.ts';

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

/** What an accepted webhook resolves to. */
export interface VerifyResult {
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
  /** With replay defence on: the claimed key (non-enumerable). */
  readonly replayKey?: string;
  /**
   * With replay defence on: releases the claim so the sender's retry is accepted. Call it when the
   * handler failed (threw or answered 5xx); the adapters do. Non-enumerable; never rejects.
   */
  readonly release?: () => Promise<void>;
}

/** An accepted webhook, as `safeVerify` reports it. */
export interface SafeVerifySuccess extends VerifyResult {
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
export type SafeVerifyResult = SafeVerifySuccess | SafeVerifyFailure;

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** How the sender signs (`providers.smartcar()`, `providers.dataspike()`, ...). */
  provider: ProviderProfile;
  /** A key store (cached), or a static list of versions. */
  keys: KeyStore | readonly SecretVersion[];
  /**
   * Which secret to verify against: a name, or a function of the request (one secret per tenant).
   *
   * A per-request secret id is chosen by whoever sends the request, before any signature is checked.
   * Map it only to tenants you know (look the tenant up in your own table first and refuse unknown
   * ones before verifying): every unknown id that reaches the verifier costs a store call. The cache
   * bounds that damage — a short negative cache of ids the store does not have (`cache.negativeTtlMs`),
   * an admission limit on cold loads (`cache.coldLoadBurst`), and secrets that have verified a request
   * are never evicted by ones that have not — but it cannot tell a new tenant from a made-up one.
   * @default 'default' for static keys
   */
  secretId?: string | ((request: VerifyRequest) => string);
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

/** A webhook verifier. */
export interface Verifier {
  /** Provider profile in use. */
  readonly provider: ProviderProfile;
  /** Verifies one request; resolves to the key that matched or throws {@link VerificationError}. */
  verify(request: VerifyRequest): Promise<VerifyResult>;
  /** Like `verify`, but resolves to `{ ok: false, error }` instead of throwing on a rejection. */
  safeVerify(request: VerifyRequest): Promise<SafeVerifyResult>;
  /**
   * Synchronous verification for static keys and warm caches (on `node:crypto` runtimes). On a
   * cold cache it throws `KEYSTORE_UNAVAILABLE`: call `verify` once first (or `warm()`).
   */
  verifySync(request: VerifyRequest): VerifyResult;
  /**
   * Releases the replay claim of an accepted `result` (same as `result.release()`), so the sender's
   * retry is accepted. A no-op without replay defence.
   */
  release(result: VerifyResult): Promise<void>;
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
  /** Cache state of one secret: age, versions, last error, next refresh. */
  status(secretId?: string): SecretStatus;
  /** Secret ids currently held. */
  secretIds(): string[];
  /** Aborts loads and releases the store. */
  dispose(): Promise<void>;
}

const PARSED_OBJECT_HINT =
  'Pass the raw request body (a string or Buffer) exactly as received: use express.raw({ type: "*/*" }) ' +
  'or the framework\'s raw-body option before any JSON parser, or request.text() / arrayBuffer() on Fetch runtimes.';

/**
 * Creates a verifier.
 *
 * @example Smartcar through a rotation, keys from the environment
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * import { envKeyStore } from '@keyturn/store-env';
 *
 * const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });
 * const { keyId, keyRole } = await verifier.verify({ body: rawBody, headers: req.headers });
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (options === null || typeof options !== 'object') throw new TypeError('createVerifier(): pass an options object');
  const provider = options.provider;
  if (provider === null || typeof provider !== 'object' || typeof provider.parse !== 'function') {
    throw new TypeError('createVerifier(): `provider` must be a provider profile such as providers.smartcar()');
  }
  checkProfile(provider);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('createVerifier(): `now` must be a function returning epoch ms');
  const firstNow: unknown = now();
  if (!isEpochMs(firstNow)) {
    throw new TypeError(`createVerifier(): \`now()\` must return epoch ms, a finite number from 0 to ${MAX_EPOCH_MS} (got ${describeValue(firstNow)})`);
  }
  const leeway = durationOption('createVerifier()', 'windowLeewayMs', options.windowLeewayMs, 5_000, 0, HOUR_MS);
  const reportExpired = booleanOption('createVerifier()', 'reportExpiredKeys', options.reportExpiredKeys, true);
  const { onVerified, onRejected, onEvent } = options;
  for (const [name, hook] of [['onVerified', onVerified], ['onRejected', onRejected], ['onEvent', onEvent]] as const) {
    if (hook !== undefined && typeof hook !== 'function') throw new TypeError(`createVerifier(): \`${name}\` must be a function`);
  }
  const cacheOptions = resolveCacheOptions(options.cache);
  const algorithm = provider.algorithm;
  const tolerance = provider.timestampTolerance;
  // Usage records of secrets that verified a request are never evicted by records of ones that did not.
  const usageMax = Math.max(1_000, cacheOptions.maxSecrets * 8);
  const usageTiers = new Tiers<KeyUsage>(usageMax, usageMax);
  const usageBook = {
    get: (key: string) => usageTiers.get(key),
    set: (key: string, value: KeyUsage, proven: boolean) => usageTiers.set(key, value, proven),
    promote: (key: string) => usageTiers.promote(key),
  };

  const emit = (event: KeyturnEvent): void => {
    if (onEvent === undefined) return;
    try {
      onEvent(event);
    } catch {
      // An observer must never break verification.
    }
  };
  const replayGuard: ReplayGuard | undefined =
    options.replay === undefined ? undefined : createReplayGuard(options.replay, provider, now, emit);
  const replayOn = replayGuard !== undefined;

  const configured = options.secretId;
  if (configured !== undefined && typeof configured !== 'function' && !validSecretId(configured)) {
    throw new TypeError(`createVerifier(): \`secretId\` must be a non-empty string of at most ${MAX_SECRET_ID_LENGTH} characters, or a function of the request`);
  }
  let source: KeySource;
  let defaultSecretId: string | ((request: VerifyRequest) => string);
  if (Array.isArray(options.keys)) {
    source = staticSource(options.keys as readonly SecretVersion[], provider, usageBook, firstNow, cacheOptions.maxSecrets, emit);
    defaultSecretId = configured ?? 'default';
  } else {
    const store = options.keys as KeyStore;
    if (store === null || typeof store !== 'object' || typeof store.getVersions !== 'function') {
      throw new TypeError('createVerifier(): `keys` must be a KeyStore or an array of key versions');
    }
    if (configured === undefined) {
      throw new TypeError('createVerifier(): `secretId` is required with a key store');
    }
    source = cachedSource(store, provider, usageBook, now, emit, cacheOptions);
    defaultSecretId = configured;
  }

  const resolveSecretId = (request: VerifyRequest): string => {
    const id = request.secretId !== undefined ? request.secretId : typeof defaultSecretId === 'string' ? defaultSecretId : defaultSecretId(request);
    if (!validSecretId(id)) {
      throw fail('INVALID_INPUT', `The secretId of this request is not a non-empty string of at most ${MAX_SECRET_ID_LENGTH} characters (got ${describeValue(id)}).`, undefined, {
        hint: 'Check the secretId passed to verify() or returned by the secretId function.',
      });
    }
    return id;
  };

  /** The clock and `receivedAt` must be epoch ms: a `NaN` would turn the timestamp check off. */
  function checkTimes(t: number, at: unknown): void {
    if (isEpochMs(t) && isEpochMs(at)) return;
    const what = isEpochMs(t) ? `receivedAt (${describeValue(at)})` : `the verifier's clock (now() returned ${describeValue(t)})`;
    throw fail('INVALID_INPUT', `${what} is not epoch ms, a finite number from 0 to ${MAX_EPOCH_MS}.`, undefined, {
      hint: 'Pass receivedAt as epoch milliseconds (Date.now() when the request arrived), or leave it out.',
    });
  }

  function fail(code: VerificationErrorCode, message: string, secretId: string | undefined, extra: { hint?: string; keyId?: string; cause?: unknown } = {}): VerificationError {
    const serverSide = SERVER_SIDE_STATUS[code] !== undefined;
    return (serverSide ? construct : requestRejection)(code, message, {
      provider: provider.name,
      secretId,
      status: serverSide ? undefined : provider.rejectStatus,
      ...extra,
    });
  }

  function rawBody(body: unknown): string | Uint8Array {
    if (typeof body === 'string' || body instanceof Uint8Array) return body;
    if (body instanceof ArrayBuffer) return new Uint8Array(body);
    if (body === undefined || body === null) {
      throw fail('BODY_NOT_RAW', 'No request body was captured.', undefined, { hint: PARSED_OBJECT_HINT });
    }
    throw fail('BODY_NOT_RAW', 'The body is a parsed object, not the raw bytes that were signed.', undefined, {
      hint: PARSED_OBJECT_HINT,
    });
  }

  function checkTimestamp(parsed: ParsedSignature, at: number): void {
    if (tolerance === undefined || parsed.timestamp === undefined) return;
    const age = at - parsed.timestamp * 1000;
    if (age > tolerance.pastMs) {
      throw fail('TIMESTAMP_TOO_OLD', `The signed timestamp is older than ${tolerance.pastMs / 1000} s.`, undefined);
    }
    if (-age > tolerance.futureMs) {
      throw fail('TIMESTAMP_IN_FUTURE', `The signed timestamp is more than ${tolerance.futureMs / 1000} s in the future.`, undefined);
    }
  }

  /** Compares `digest` with every candidate, without an early exit. */
  function anyEqual(digest: Uint8Array, signatures: readonly Uint8Array[]): boolean {
    if (signatures.length === 1) return equalBytes(digest, signatures[0] as Uint8Array);
    let ok = false;
    for (let i = 0; i < signatures.length; i++) ok = equalBytes(digest, signatures[i] as Uint8Array) || ok;
    return ok;
  }

  /** Sync match: the last-matched key, then active, pending, previous, in window. */
  function matchSync(ring: KeyRing, parsed: ParsedSignature, body: string | Uint8Array, t: number): KeyEntry | undefined {
    const prefix = parsed.prefix;
    const sigs = parsed.signatures;
    const first = ring.lastMatched;
    if (first !== undefined && inWindow(first, t, leeway) && anyEqual(hmacSync(algorithm, first.key, prefix, body), sigs)) {
      return first;
    }
    const entries = ring.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as KeyEntry;
      if (e === first || !inWindow(e, t, leeway)) continue;
      if (anyEqual(hmacSync(algorithm, e.key, prefix, body), sigs)) return e;
    }
    return undefined;
  }

  async function matchAsync(ring: KeyRing, parsed: ParsedSignature, body: string | Uint8Array, t: number): Promise<KeyEntry | undefined> {
    const order = ring.lastMatched === undefined ? ring.entries : [ring.lastMatched, ...ring.entries.filter((e) => e !== ring.lastMatched)];
    for (const e of order) {
      if (!inWindow(e, t, leeway)) continue;
      if (anyEqual(await hmacAsync(algorithm, e.key, parsed.prefix, body), parsed.signatures)) return e;
    }
    return undefined;
  }

  function expiredMatch(ring: KeyRing, parsed: ParsedSignature, body: string | Uint8Array, t: number): KeyEntry | undefined {
    if (!reportExpired) return undefined;
    for (const e of ring.entries) {
      if (inWindow(e, t, leeway)) continue;
      if (anyEqual(hmacSync(algorithm, e.key, parsed.prefix, body), parsed.signatures)) return e;
    }
    return undefined;
  }

  async function expiredMatchAsync(ring: KeyRing, parsed: ParsedSignature, body: string | Uint8Array, t: number): Promise<KeyEntry | undefined> {
    if (!reportExpired) return undefined;
    if (hasSyncHmac) return expiredMatch(ring, parsed, body, t);
    for (const e of ring.entries) {
      if (inWindow(e, t, leeway)) continue;
      if (anyEqual(await hmacAsync(algorithm, e.key, parsed.prefix, body), parsed.signatures)) return e;
    }
    return undefined;
  }

  function accept(ring: KeyRing, entry: KeyEntry, parsed: ParsedSignature, secretId: string, t: number): VerifyResult {
    ring.lastMatched = entry;
    if (!ring.verified) source.verified(secretId, ring);
    const usage = entry.usage;
    usage.matches++;
    usage.lastMatchedAt = t;
    if (onVerified !== undefined) {
      try {
        onVerified({ provider: provider.name, secretId, keyId: entry.id, keyRole: entry.role });
      } catch (error) {
        emit({ type: 'hook-error', hook: 'onVerified', error });
      }
    }
    return {
      provider: provider.name,
      secretId,
      keyId: entry.id,
      keyRole: entry.role,
      timestamp: parsed.timestamp,
      eventId: parsed.eventId,
    };
  }

  /** Replay defence: claims the verified request, then accepts it (the claim comes only after the signature matched). */
  async function acceptOnce(ring: KeyRing, entry: KeyEntry, parsed: ParsedSignature, body: string | Uint8Array, secretId: string, t: number): Promise<VerifyResult> {
    const guard = replayGuard as ReplayGuard;
    const key = await guard.key(parsed, body, secretId);
    const claim = await guard.claim(key, secretId);
    const result = accept(ring, entry, parsed, secretId, t);
    if (result.eventId === undefined && key.eventId !== undefined) (result as { eventId?: string }).eventId = key.eventId;
    return attachClaim(result, claim);
  }

  function acceptOnceSync(ring: KeyRing, entry: KeyEntry, parsed: ParsedSignature, body: string | Uint8Array, secretId: string, t: number): VerifyResult {
    const guard = replayGuard as ReplayGuard;
    const key = guard.keySync(parsed, body, secretId);
    const claim = guard.claimSync(key, secretId);
    const result = accept(ring, entry, parsed, secretId, t);
    if (result.eventId === undefined && key.eventId !== undefined) (result as { eventId?: string }).eventId = key.eventId;
    return attachClaim(result, claim);
  }

  function noMatch(ring: KeyRing, expired: KeyEntry | undefined, secretId: string): VerificationError {
    if (expired !== undefined) {
      return fail('KEY_EXPIRED', `The signature matches key ${expired.id} (${expired.role}), which is outside its rotation window.`, secretId, {
        keyId: expired.id,
        hint: 'The sender still signs with a retired key; finish the rotation on the sender side or widen the window.',
      });
    }
    if (ring.entries.length === 0) {
      const bad = ring.invalid[0];
      if (bad !== undefined) {
        return new VerificationError('INVALID_SECRET', `No usable key for ${secretId}: ${bad.error.message}`, {
          provider: provider.name,
          secretId,
          keyId: bad.id,
        });
      }
      return fail('NO_KEYS', `No key versions are configured for ${secretId}.`, secretId);
    }
    return fail('NO_MATCHING_KEY', 'No key matched the signature.', secretId);
  }

  function rejected(err: unknown, secretId: string | undefined): never {
    if (err instanceof VerificationError && onRejected !== undefined) {
      try {
        onRejected({
          provider: provider.name,
          secretId: err.secretId ?? secretId,
          code: err.code,
          keyId: err.keyId,
          keyRole: err.code === 'KEY_EXPIRED' ? findRole(err.secretId ?? secretId, err.keyId) : undefined,
        });
      } catch (error) {
        emit({ type: 'hook-error', hook: 'onRejected', error });
      }
    }
    throw err;
  }

  function findRole(secretId: string | undefined, keyId: string | undefined): KeyRole | undefined {
    if (secretId === undefined || keyId === undefined) return undefined;
    return usageBook.get(usageKey(secretId, keyId))?.keyRole;
  }

  function verifySync(request: VerifyRequest): VerifyResult {
    if (replayOn) (replayGuard as ReplayGuard).assertSync();
    let secretId: string | undefined;
    try {
      const body = rawBody(request.body);
      const parsed = provider.parse(request.headers);
      const t = now();
      const at = request.receivedAt === undefined ? t : request.receivedAt;
      checkTimes(t, at);
      checkTimestamp(parsed, at);
      secretId = resolveSecretId(request);
      if (!hasSyncHmac) {
        throw fail('KEYSTORE_UNAVAILABLE', 'Synchronous verification needs node:crypto; use `await verifier.verify()` on this runtime.', secretId);
      }
      const ring = source.peek(secretId, t);
      if (ring === undefined) {
        throw fail('KEYSTORE_UNAVAILABLE', `Keys for ${secretId} are not loaded yet: call \`await verifier.verify()\` (or \`warm()\`) first; verifySync never waits on the store.`, secretId);
      }
      const entry = matchSync(ring, parsed, body, t);
      if (entry !== undefined) return replayOn ? acceptOnceSync(ring, entry, parsed, body, secretId, t) : accept(ring, entry, parsed, secretId, t);
      const expired = expiredMatch(ring, parsed, body, t);
      if (expired === undefined) source.refreshOnMissInBackground(secretId, ring);
      throw noMatch(ring, expired, secretId);
    } catch (err) {
      return rejected(err, secretId);
    }
  }

  function verify(request: VerifyRequest): Promise<VerifyResult> {
    let secretId: string | undefined;
    try {
      const body = rawBody(request.body);
      const parsed = provider.parse(request.headers);
      const t = now();
      const at = request.receivedAt === undefined ? t : request.receivedAt;
      checkTimes(t, at);
      checkTimestamp(parsed, at);
      secretId = resolveSecretId(request);
      const peeked = source.peek(secretId, t);
      if (peeked !== undefined && hasSyncHmac && !replayOn) {
        // Keys at hand, synchronous HMAC, no replay claim: an accepted request settles without an
        // async frame (which would cost about as much as the verifier's own work on a 1 KiB body).
        const entry = matchSync(peeked, parsed, body, t);
        if (entry !== undefined) return Promise.resolve(accept(peeked, entry, parsed, secretId, t));
        return verifyRest(body, parsed, t, secretId, peeked, true);
      }
      return verifyRest(body, parsed, t, secretId, peeked, false);
    } catch (err) {
      try {
        return rejected(err, secretId);
      } catch (thrown) {
        return Promise.reject(thrown);
      }
    }
  }

  /** The rest of `verify`: a cold key set, WebCrypto, replay claims, expired keys, refresh on miss. */
  async function verifyRest(
    body: string | Uint8Array,
    parsed: ParsedSignature,
    t: number,
    secretId: string,
    peeked: KeyRing | undefined,
    peekedTried: boolean,
  ): Promise<VerifyResult> {
    try {
      let ring = peeked ?? (await source.get(secretId));
      let entry = peekedTried ? undefined : hasSyncHmac ? matchSync(ring, parsed, body, t) : await matchAsync(ring, parsed, body, t);
      if (entry !== undefined) return replayOn ? await acceptOnce(ring, entry, parsed, body, secretId, t) : accept(ring, entry, parsed, secretId, t);
      let expired = await expiredMatchAsync(ring, parsed, body, t);
      if (expired === undefined) {
        // Refresh on unknown key: a just-rotated secret is picked up on the first request signed with it.
        const reloaded = await source.refreshOnMiss(secretId, ring);
        if (reloaded !== undefined && reloaded !== ring) {
          ring = reloaded;
          const t2 = now();
          entry = hasSyncHmac ? matchSync(ring, parsed, body, t2) : await matchAsync(ring, parsed, body, t2);
          if (entry !== undefined) return replayOn ? await acceptOnce(ring, entry, parsed, body, secretId, t2) : accept(ring, entry, parsed, secretId, t2);
          expired = await expiredMatchAsync(ring, parsed, body, t2);
        }
      }
      throw noMatch(ring, expired, secretId);
    } catch (err) {
      return rejected(err, secretId);
    }
  }

  function toPayload(payload: unknown): unknown {
    if (typeof payload === 'string') return safeJson(payload);
    if (payload instanceof Uint8Array) return safeJson(new TextDecoder().decode(payload));
    return payload;
  }

  const configuredSecretId = (explicit: string | undefined): string => {
    if (explicit !== undefined) {
      if (!validSecretId(explicit)) throw new TypeError(`secretId must be a non-empty string of at most ${MAX_SECRET_ID_LENGTH} characters`);
      return explicit;
    }
    if (typeof defaultSecretId === 'string') return defaultSecretId;
    throw new TypeError('This verifier resolves secretId per request; pass { secretId }');
  };

  return {
    provider,
    verify,
    verifySync,
    async safeVerify(request) {
      try {
        const result = await verify(request);
        const safe = { ok: true as const, ...result };
        return replayOn ? attachClaim(safe, result as Parameters<typeof attachClaim>[1]) : safe;
      } catch (err) {
        if (err instanceof VerificationError) return { ok: false, error: err };
        throw err;
      }
    },
    release: (result) => (typeof result?.release === 'function' ? result.release() : Promise.resolve()),
    async warm(secretId) {
      // The operator's own call: not subject to the admission limit on cold loads.
      await source.get(configuredSecretId(secretId), true);
    },
    isChallenge(payload) {
      return provider.challenge?.extract(toPayload(payload)) !== undefined;
    },
    async answerChallenge(payload, opts = {}) {
      const spec = provider.challenge;
      if (spec === undefined) throw new TypeError(`The ${provider.name} profile has no challenge handshake`);
      const challenge = spec.extract(toPayload(payload));
      if (challenge === undefined) throw new TypeError(`The payload is not a ${provider.name} challenge`);
      const secretId = configuredSecretId(opts.secretId);
      const t = now();
      const ring = source.peek(secretId, t) ?? (await source.get(secretId));
      const key =
        opts.keyId === undefined
          ? ring.activeKey(t, leeway)
          : ring.entries.find((e) => e.id === opts.keyId && inWindow(e, t, leeway));
      if (key === undefined) {
        const what = opts.keyId === undefined ? 'No active key' : `Key ${opts.keyId} is not held`;
        throw fail('NO_KEYS', `${what} in its window for ${secretId}.`, secretId);
      }
      const digest = hasSyncHmac ? hmacSync(algorithm, key.key, undefined, challenge) : await hmacAsync(algorithm, key.key, undefined, challenge);
      return spec.respond(encodeHex(digest));
    },
    usage(secretId) {
      const out: KeyUsageReport[] = [];
      for (const u of usageTiers.values()) {
        if (secretId !== undefined && u.secretId !== secretId) continue;
        out.push({ ...u });
      }
      return out.sort((a, b) => (a.secretId < b.secretId ? -1 : a.secretId > b.secretId ? 1 : ROLE_ORDER[a.keyRole] - ROLE_ORDER[b.keyRole]));
    },
    invalidate: (secretId) => source.invalidate(secretId),
    status: (secretId) => source.status(configuredSecretId(secretId)),
    secretIds: () => source.secretIds(),
    dispose: () => source.dispose(),
  };
}

const construct = (code: VerificationErrorCode, message: string, options: VerificationErrorOptions) =>
  new VerificationError(code, message, options);
const ROLE_ORDER: Record<KeyRole, number> = { active: 0, pending: 1, previous: 2 };
/** Longest secret id accepted (store names are far shorter: AWS 512, GCP 255). */
const MAX_SECRET_ID_LENGTH = 1024;

function validSecretId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_SECRET_ID_LENGTH;
}

/** Checks the numbers a provider profile brings (a hand-written one too): reject status and tolerances. */
function checkProfile(provider: ProviderProfile): void {
  const where = `createVerifier(): the ${String(provider.name)} profile`;
  rejectStatusOption(where, provider.rejectStatus, 401);
  const tolerance = provider.timestampTolerance as { pastMs?: unknown; futureMs?: unknown } | undefined;
  if (tolerance !== undefined) {
    if (tolerance === null || typeof tolerance !== 'object') throw new TypeError(`${where}: \`timestampTolerance\` must be an object`);
    if (tolerance.pastMs === undefined || tolerance.futureMs === undefined) {
      throw new TypeError(`${where}: \`timestampTolerance\` needs pastMs and futureMs`);
    }
    toleranceOptions(where, tolerance.pastMs, tolerance.futureMs, 0, 0);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
