/**
 * Provider handshakes (Smartcar's VERIFY challenge): recognising one and answering it with a held key.
 *
 * @internal
 * @module
 */
import type { KeySource } from '../cache/source.ts';
import { hasSyncHmac, hmacAsync, hmacSync } from '../lib/crypto.ts';
import { encodeHex } from '../lib/encoding.ts';
import { inWindow } from '../keys/ring.ts';
import type { ProviderProfile } from '../providers/types.ts';
import type { Fail } from './request.ts';
import type { Verifier } from './types.ts';

/** What the challenge methods need from the verifier. */
export interface ChallengeContext {
  readonly provider: ProviderProfile;
  readonly source: KeySource;
  readonly now: () => number;
  readonly leewayMs: number;
  readonly fail: Fail;
  /** The secret id to answer for: the explicit one, else the verifier's own (or a `TypeError`). */
  readonly secretIdFor: (explicit: string | undefined) => string;
}

/** `verifier.isChallenge` and `verifier.answerChallenge`. */
export function challengeMethods(ctx: ChallengeContext): Pick<Verifier, 'isChallenge' | 'answerChallenge'> {
  const { provider, source, now, leewayMs, fail } = ctx;
  return {
    isChallenge(payload) {
      return provider.challenge?.extract(toPayload(payload)) !== undefined;
    },
    async answerChallenge(payload, opts = {}) {
      const spec = provider.challenge;
      if (spec === undefined) throw new TypeError(`The ${provider.name} profile has no challenge handshake`);
      const challenge = spec.extract(toPayload(payload));
      if (challenge === undefined) throw new TypeError(`The payload is not a ${provider.name} challenge`);
      const secretId = ctx.secretIdFor(opts.secretId);
      const t = now();
      const ring = source.peek(secretId, t) ?? (await source.get(secretId));
      const key =
        opts.keyId === undefined ? ring.activeKey(t, leewayMs) : ring.hmac.find((e) => e.id === opts.keyId && inWindow(e, t, leewayMs));
      if (key === undefined) {
        const what = opts.keyId === undefined ? 'No active key' : `Key ${opts.keyId} is not held`;
        throw fail('NO_KEYS', `${what} in its window for ${secretId}.`, secretId);
      }
      const algorithm = provider.algorithm;
      const digest = hasSyncHmac
        ? hmacSync(algorithm, key.key, undefined, challenge)
        : await hmacAsync(algorithm, key.key, undefined, challenge);
      return spec.respond(encodeHex(digest));
    },
  };
}

/** A handshake payload as parsed JSON: a JSON string or bytes are parsed (`undefined` if not JSON). */
function toPayload(payload: unknown): unknown {
  if (typeof payload === 'string') return safeJson(payload);
  if (payload instanceof Uint8Array) return safeJson(new TextDecoder().decode(payload));
  return payload;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
