/**
 * `createVerifier`: one provider profile + one key source (static keys or a store behind the cache),
 * and the request path that ties them together (read the request, match a key, accept or reject).
 *
 * @module
 */
import { resolveCacheOptions } from '../cache/key-cache.ts';
import { VerificationError } from '../errors.ts';
import type { KeyturnEvent } from '../events.ts';
import { fenceTtl, joinFleet, type FleetHooks } from '../fleet/member.ts';
import { hasSyncEd25519, hasSyncHmac } from '../lib/crypto.ts';
import { booleanOption, describeValue, durationOption, HOUR_MS, isEpochMs, MAX_EPOCH_MS } from '../lib/validate.ts';
import type { KeyEntry, KeyRing } from '../keys/ring.ts';
import type { ParsedSignature, ProviderProfile } from '../providers/types.ts';
import { attachClaim, createReplayGuard, type ReplayGuard } from '../replay/guard.ts';
import { challengeMethods } from './challenge.ts';
import { resolveKeys } from './key-source.ts';
import { matchAsync, matchPublicAsync, matchPublicSync, matchSync } from './match.ts';
import { checkProfile, checkTimes, checkTimestamp, MAX_SECRET_ID_LENGTH, rawBody, rejections, validSecretId } from './request.ts';
import { AcceptedWebhook } from './result.ts';
import type { EventOf, SafeVerifyResult, SafeVerifySuccess, Verifier, VerifierOptions, VerifyRequest, VerifyResult } from './types.ts';
import { createUsage } from './usage.ts';

/**
 * Creates a verifier.
 *
 * @example Smartcar through a rotation, keys from the environment
 * ```ts
 * import { createVerifier, providers } from '@keyturn/core';
 * import { envKeyStore } from '@keyturn/store-env';
 *
 * const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });
 * const { keyId, keyRole, event } = await verifier.verify({ body: rawBody, headers: req.headers });
 * ```
 *
 * @example One secret, in one line
 * ```ts
 * const verifier = createVerifier({ provider: providers.smartcar(), keys: process.env.SMARTCAR_AMT! });
 * ```
 */
export function createVerifier<P extends ProviderProfile<unknown>>(
  options: VerifierOptions<EventOf<P>> & { readonly provider: P },
): Verifier<EventOf<P>> {
  type TEvent = EventOf<P>;
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
    throw new TypeError(
      `createVerifier(): \`now()\` must return epoch ms, a finite number from 0 to ${MAX_EPOCH_MS} (got ${describeValue(firstNow)})`,
    );
  }
  const leeway = durationOption('createVerifier()', 'windowLeewayMs', options.windowLeewayMs, 5_000, 0, HOUR_MS);
  const reportExpired = booleanOption('createVerifier()', 'reportExpiredKeys', options.reportExpiredKeys, true);
  const { onVerified, onRejected, onEvent } = options;
  for (const [name, hook] of [
    ['onVerified', onVerified],
    ['onRejected', onRejected],
    ['onEvent', onEvent],
  ] as const) {
    if (hook !== undefined && typeof hook !== 'function') throw new TypeError(`createVerifier(): \`${name}\` must be a function`);
  }
  const cacheOptions = resolveCacheOptions(options.cache);
  const algorithm = provider.algorithm;
  const tolerance = provider.timestampTolerance;
  const usage = createUsage(cacheOptions.maxSecrets);
  const fail = rejections(provider);

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
  if (
    options.fleet !== undefined &&
    (options.fleet === null || typeof options.fleet !== 'object' || typeof options.fleet.join !== 'function')
  ) {
    throw new TypeError('createVerifier(): `fleet` must be a fleet such as redisFleet({ client }) from @keyturn/redis');
  }
  /** Rotation fences: secret id -> end (epoch ms, the verifier's clock). Read only when no key matched. */
  const fences = new Map<string, number>();
  let hooks: FleetHooks | undefined;

  const configured = options.secretId;
  if (configured !== undefined && typeof configured !== 'function' && !validSecretId(configured)) {
    throw new TypeError(
      `createVerifier(): \`secretId\` must be a non-empty string of at most ${MAX_SECRET_ID_LENGTH} characters, or a function of the request`,
    );
  }
  const { source, defaultSecretId } = resolveKeys(options.keys, {
    provider,
    usage: usage.book,
    now,
    firstNow: firstNow as number,
    emit,
    cache: cacheOptions,
    configured,
  });

  if (options.fleet !== undefined) {
    hooks = joinFleet(options.fleet, { provider: provider.name, now, emit, source, setFence });
    usage.feed((record) => (hooks as FleetHooks).queue(record));
  }

  /** Starts (`ttlMs` > 0) or ends a fence. */
  function setFence(secretId: string, ttlMs: number): void {
    if (ttlMs > 0) {
      if (!fences.has(secretId) && fences.size >= MAX_FENCES) {
        const oldest = fences.keys().next().value;
        if (oldest !== undefined) fences.delete(oldest);
      }
      fences.set(secretId, now() + ttlMs);
      emit({ type: 'rotation-fence', secretId, state: 'started', ttlMs });
    } else if (fences.delete(secretId)) {
      emit({ type: 'rotation-fence', secretId, state: 'ended' });
    }
  }

  /** Whether a rotation fence stands for `secretId` at `t` (an expired one is dropped). */
  function fenced(secretId: string, t: number): boolean {
    if (fences.size === 0) return false;
    const until = fences.get(secretId);
    if (until === undefined) return false;
    if (t < until) return true;
    fences.delete(secretId);
    emit({ type: 'rotation-fence', secretId, state: 'expired' });
    return false;
  }

  const resolveSecretId = (request: VerifyRequest): string => {
    const id =
      request.secretId !== undefined ? request.secretId : typeof defaultSecretId === 'string' ? defaultSecretId : defaultSecretId(request);
    if (!validSecretId(id)) {
      throw fail(
        'INVALID_INPUT',
        `The secretId of this request is not a non-empty string of at most ${MAX_SECRET_ID_LENGTH} characters (got ${describeValue(id)}).`,
        undefined,
        {
          hint: 'Check the secretId passed to verify() or returned by the secretId function.',
        },
      );
    }
    return id;
  };

  /** The secret id of an operator call (`warm`, `status`, a challenge): explicit, else the configured one. */
  const configuredSecretId = (explicit: string | undefined): string => {
    if (explicit !== undefined) {
      if (!validSecretId(explicit))
        throw new TypeError(`secretId must be a non-empty string of at most ${MAX_SECRET_ID_LENGTH} characters`);
      return explicit;
    }
    if (typeof defaultSecretId === 'string') return defaultSecretId;
    throw new TypeError('This verifier resolves secretId per request; pass { secretId }');
  };

  /** With `reportExpiredKeys`: the key outside its window that made the signature, for `KEY_EXPIRED`. */
  const matchExpired = async (
    ring: KeyRing,
    parsed: ParsedSignature,
    body: string | Uint8Array,
    t: number,
  ): Promise<KeyEntry | undefined> => {
    if (!reportExpired) return undefined;
    const hmacKey = hasSyncHmac
      ? matchSync(algorithm, leeway, ring, parsed, body, t, true)
      : await matchAsync(algorithm, leeway, ring, parsed, body, t, true);
    return hmacKey ?? (parsed.asymmetricSignatures === undefined ? undefined : await matchPublic(ring, parsed, body, t, true));
  };

  /** Standard Webhooks `v1a`: the public key that verifies an asymmetric signature (never on the HMAC path). */
  const matchPublic = (
    ring: KeyRing,
    parsed: ParsedSignature,
    body: string | Uint8Array,
    t: number,
    expired: boolean,
  ): KeyEntry | undefined | Promise<KeyEntry | undefined> =>
    hasSyncEd25519 ? matchPublicSync(leeway, ring, parsed, body, t, expired) : matchPublicAsync(leeway, ring, parsed, body, t, expired);

  function accept(
    ring: KeyRing,
    entry: KeyEntry,
    parsed: ParsedSignature,
    secretId: string,
    t: number,
    body: string | Uint8Array,
  ): VerifyResult {
    ring.lastMatched = entry;
    if (!ring.verified) source.verified(secretId, ring);
    const record = entry.usage;
    record.matches++;
    record.lastMatchedAt = t;
    // With a fleet: the first match since the last flush queues the record for the ledger.
    if (record.clean) (hooks as FleetHooks).queue(record);
    if (onVerified !== undefined) {
      try {
        onVerified({ provider: provider.name, secretId, keyId: entry.id, keyRole: entry.role });
      } catch (error) {
        emit({ type: 'hook-error', hook: 'onVerified', error });
      }
    }
    return new AcceptedWebhook(provider.name, secretId, entry.id, entry.role, parsed.timestamp, parsed.eventId, body);
  }

  /** Replay defence: claims the verified request, then accepts it (the claim comes only after the signature matched). */
  async function acceptOnce(
    ring: KeyRing,
    entry: KeyEntry,
    parsed: ParsedSignature,
    body: string | Uint8Array,
    secretId: string,
    t: number,
  ): Promise<VerifyResult> {
    const guard = replayGuard as ReplayGuard;
    const key = await guard.key(parsed, body, secretId);
    const claim = await guard.claim(key, secretId);
    const result = accept(ring, entry, parsed, secretId, t, body);
    if (result.eventId === undefined && key.eventId !== undefined) (result as { eventId?: string }).eventId = key.eventId;
    return attachClaim(result, claim);
  }

  function acceptOnceSync(
    ring: KeyRing,
    entry: KeyEntry,
    parsed: ParsedSignature,
    body: string | Uint8Array,
    secretId: string,
    t: number,
  ): VerifyResult {
    const guard = replayGuard as ReplayGuard;
    const key = guard.keySync(parsed, body, secretId);
    const claim = guard.claimSync(key, secretId);
    const result = accept(ring, entry, parsed, secretId, t, body);
    if (result.eventId === undefined && key.eventId !== undefined) (result as { eventId?: string }).eventId = key.eventId;
    return attachClaim(result, claim);
  }

  function noMatch(ring: KeyRing, expired: KeyEntry | undefined, secretId: string, fencedNow = false): VerificationError {
    if (expired !== undefined) {
      return fail(
        'KEY_EXPIRED',
        `The signature matches key ${expired.id} (${expired.role}), which is outside its rotation window.`,
        secretId,
        {
          keyId: expired.id,
          hint: 'The sender still signs with a retired key; finish the rotation on the sender side or widen the window.',
        },
      );
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
    if (fencedNow) {
      return fail('KEY_ROTATION_IN_PROGRESS', `No key matched while a rotation of ${secretId} is in progress; retry shortly.`, secretId, {
        hint: 'The sender may already sign with a key the store write has not delivered yet: it retries a 503.',
      });
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
          keyRole: err.code === 'KEY_EXPIRED' ? usage.role(err.secretId ?? secretId, err.keyId) : undefined,
        });
      } catch (error) {
        emit({ type: 'hook-error', hook: 'onRejected', error });
      }
    }
    throw err;
  }

  function verifySync(request: VerifyRequest): VerifyResult {
    if (replayOn) (replayGuard as ReplayGuard).assertSync();
    let secretId: string | undefined;
    try {
      const body = rawBody(request.body, fail);
      const parsed = provider.parse(request.headers);
      const t = now();
      const at = request.receivedAt === undefined ? t : request.receivedAt;
      checkTimes(t, at, fail);
      checkTimestamp(tolerance, parsed, at, fail);
      secretId = resolveSecretId(request);
      if (!hasSyncHmac) {
        throw fail(
          'KEYSTORE_UNAVAILABLE',
          'Synchronous verification needs node:crypto; use `await verifier.verify()` on this runtime.',
          secretId,
        );
      }
      const ring = source.peek(secretId, t);
      if (ring === undefined) {
        throw fail(
          'KEYSTORE_UNAVAILABLE',
          `Keys for ${secretId} are not loaded yet: call \`await verifier.verify()\` (or \`warm()\`) first; verifySync never waits on the store.`,
          secretId,
        );
      }
      const entry = matchSync(algorithm, leeway, ring, parsed, body, t, false) ?? matchPublicSync(leeway, ring, parsed, body, t, false);
      if (entry !== undefined)
        return replayOn ? acceptOnceSync(ring, entry, parsed, body, secretId, t) : accept(ring, entry, parsed, secretId, t, body);
      const expired = reportExpired
        ? (matchSync(algorithm, leeway, ring, parsed, body, t, true) ?? matchPublicSync(leeway, ring, parsed, body, t, true))
        : undefined;
      let fence = false;
      if (expired === undefined) {
        fence = fenced(secretId, t);
        source.refreshOnMissInBackground(secretId, ring, fence);
      }
      throw noMatch(ring, expired, secretId, fence);
    } catch (err) {
      return rejected(err, secretId);
    }
  }

  function verify(request: VerifyRequest): Promise<VerifyResult> {
    let secretId: string | undefined;
    try {
      const body = rawBody(request.body, fail);
      const parsed = provider.parse(request.headers);
      const t = now();
      const at = request.receivedAt === undefined ? t : request.receivedAt;
      checkTimes(t, at, fail);
      checkTimestamp(tolerance, parsed, at, fail);
      secretId = resolveSecretId(request);
      const peeked = source.peek(secretId, t);
      if (peeked !== undefined && hasSyncHmac && !replayOn) {
        // Keys at hand, synchronous HMAC, no replay claim: an accepted request settles without an
        // async frame (which would cost about as much as the verifier's own work on a 1 KiB body).
        const entry = matchSync(algorithm, leeway, peeked, parsed, body, t, false);
        if (entry !== undefined) return Promise.resolve(accept(peeked, entry, parsed, secretId, t, body));
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
      // Synchronous HMAC: no await (the cold path and replay claims pay no extra tick).
      let entry = peekedTried
        ? undefined
        : hasSyncHmac
          ? matchSync(algorithm, leeway, ring, parsed, body, t, false)
          : await matchAsync(algorithm, leeway, ring, parsed, body, t, false);
      if (entry === undefined && parsed.asymmetricSignatures !== undefined) entry = await matchPublic(ring, parsed, body, t, false);
      if (entry !== undefined)
        return replayOn ? await acceptOnce(ring, entry, parsed, body, secretId, t) : accept(ring, entry, parsed, secretId, t, body);
      let expired = await matchExpired(ring, parsed, body, t);
      let fence = false;
      if (expired === undefined) {
        // Refresh on unknown key: a just-rotated secret is picked up on the first request signed with it
        // (during a rotation fence: at once, at most one store call per 250 ms).
        fence = fenced(secretId, t);
        const reloaded = await source.refreshOnMiss(secretId, ring, fence);
        if (reloaded !== undefined && reloaded !== ring) {
          ring = reloaded;
          const t2 = now();
          entry = hasSyncHmac
            ? matchSync(algorithm, leeway, ring, parsed, body, t2, false)
            : await matchAsync(algorithm, leeway, ring, parsed, body, t2, false);
          if (entry === undefined && parsed.asymmetricSignatures !== undefined) entry = await matchPublic(ring, parsed, body, t2, false);
          if (entry !== undefined)
            return replayOn ? await acceptOnce(ring, entry, parsed, body, secretId, t2) : accept(ring, entry, parsed, secretId, t2, body);
          expired = await matchExpired(ring, parsed, body, t2);
        }
      }
      throw noMatch(ring, expired, secretId, fence && fenced(secretId, now()));
    } catch (err) {
      return rejected(err, secretId);
    }
  }

  // The event type is the caller's to name (`verify<MyEvent>()`): at run time `event` is the body's JSON.
  return {
    provider,
    verify: verify as Verifier<TEvent>['verify'],
    verifySync: verifySync as Verifier<TEvent>['verifySync'],
    async safeVerify<E>(request: VerifyRequest): Promise<SafeVerifyResult<E>> {
      try {
        // The result itself, marked ok: a copy would lose `event` (a getter) and the replay release.
        const result = await verify(request);
        (result as { ok?: true }).ok = true;
        return result as SafeVerifySuccess<E>;
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
    ...challengeMethods({ provider, source, now, leewayMs: leeway, fail, secretIdFor: configuredSecretId }),
    usage: (secretId) => usage.report(secretId),
    invalidate: (secretId) => source.invalidate(secretId),
    async reload(secretId) {
      const ids = secretId === undefined ? source.secretIds() : [configuredSecretId(secretId)];
      await Promise.all(
        ids.map(async (id) => {
          const outcome = await source.reload(id, 'notice');
          if (outcome === 'reloaded') setFence(id, 0);
        }),
      );
    },
    fence(secretId, ttlMs) {
      setFence(configuredSecretId(secretId), fenceTtl('verifier.fence()', ttlMs, true));
    },
    status: (secretId) => source.status(configuredSecretId(secretId)),
    secretIds: () => source.secretIds(),
    async dispose() {
      try {
        await hooks?.leave();
      } finally {
        await source.dispose();
      }
    },
  };
}

/** Most fences one verifier remembers (a notice flood about made-up ids cannot grow memory). */
const MAX_FENCES = 10_000;
