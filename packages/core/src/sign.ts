/**
 * The sender side: the headers a provider would send for a body. For tests, demos and the CLI.
 *
 * @module
 */
import { hmacSync, hmacAsync, hasSyncHmac } from './lib/crypto.ts';
import { numberOption } from './lib/validate.ts';
import type { ProviderProfile } from './providers/types.ts';

/** Input of {@link sign}. */
export interface SignInput {
  /** The raw body to sign. */
  body: string | Uint8Array;
  /** The secret as stored, or several (a multi-signature rotation header, where the scheme allows it). */
  secret: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Unix seconds, for timestamped schemes: an integer from 0 to 999 999 999 999 (what the parsers accept). @default now */
  timestamp?: number;
  /** Event / message id, for schemes that sign one. */
  id?: string;
}

/**
 * Returns the headers a sender would send (lowercase names).
 *
 * @example
 * ```ts
 * const headers = sign(providers.dataspike(), { body, secret: ['whsec_new…', 'whsec_old…'] });
 * // { 'x-webhook-signature': 't=1700000000,v1=…,v1=…' }
 * ```
 */
export function sign(provider: ProviderProfile, input: SignInput): Record<string, string> {
  if (!hasSyncHmac) throw new TypeError('sign() needs node:crypto on this runtime; use signAsync()');
  const { secrets, ctx } = prepare(provider, input);
  const prefix = provider.signedPrefix(ctx);
  const digests = secrets.map((s) => hmacSync(provider.algorithm, keyBytes(provider, s), prefix, input.body));
  return provider.formatHeaders(digests, ctx);
}

/** {@link sign} for runtimes with WebCrypto only. */
export async function signAsync(provider: ProviderProfile, input: SignInput): Promise<Record<string, string>> {
  const { secrets, ctx } = prepare(provider, input);
  const prefix = provider.signedPrefix(ctx);
  const digests = await Promise.all(secrets.map((s) => hmacAsync(provider.algorithm, keyBytes(provider, s), prefix, input.body)));
  return provider.formatHeaders(digests, ctx);
}

/**
 * The key bytes of `secret`, in a copy nobody else holds: both crypto backends cache per key-bytes
 * object (pads, imported `CryptoKey`), and a codec may hand back the caller's own buffer, which the
 * caller may change before the next call.
 */
function keyBytes(provider: ProviderProfile, secret: string | Uint8Array): Uint8Array {
  return new Uint8Array(provider.decodeSecret(secret));
}

function prepare(provider: ProviderProfile, input: SignInput) {
  const secrets = Array.isArray(input.secret) ? (input.secret as (string | Uint8Array)[]) : [input.secret as string | Uint8Array];
  if (secrets.length === 0) throw new TypeError('sign(): at least one secret is required');
  if (secrets.length > 1 && !provider.multiSignature) {
    throw new TypeError(`sign(): the ${provider.name} scheme carries one signature; pass one secret`);
  }
  const needsTs = provider.timestampTolerance !== undefined;
  const timestamp = input.timestamp === undefined ? undefined : numberOption('sign()', 'timestamp', input.timestamp, 0, 0, 999_999_999_999, true);
  const ctx = { timestamp: timestamp ?? (needsTs ? Math.floor(Date.now() / 1000) : undefined), id: input.id };
  return { secrets, ctx };
}
