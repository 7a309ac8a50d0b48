/**
 * The sender side: the headers a provider would send for a body. For tests, demos and the CLI.
 *
 * @module
 */
import { SecretMaterial } from './keys/secret.ts';
import { ed25519SignAsync, ed25519SignSync, hasSyncHmac, hmacAsync, hmacSync } from './lib/crypto.ts';
import { numberOption } from './lib/validate.ts';
import type { ProviderProfile, SignContext } from './providers/types.ts';

/** One secret as stored (or wrapped in a {@link SecretMaterial}). */
export type SignSecret = string | Uint8Array | SecretMaterial;

/** Input of {@link sign} after the provider: what to sign, and with which secret. */
export interface SignInput {
  /** The raw body to sign. */
  body: string | Uint8Array;
  /**
   * The secret as stored, or several (a multi-signature rotation header, where the scheme allows it).
   * For Standard Webhooks, a `whsk_` secret key signs `v1a` (Ed25519); any other secret signs `v1`.
   */
  secret: SignSecret | readonly SignSecret[];
  /** Unix seconds, for timestamped schemes: an integer from 0 to 999 999 999 999 (what the parsers accept). @default now */
  timestamp?: number;
  /** Event / message id, for schemes that sign one. */
  id?: string;
}

/** Input of the one-object form of {@link sign}: `sign({ provider, body, secret })`. */
export interface SignRequest extends SignInput {
  /** How the sender signs (`providers.smartcar()`, ...). */
  provider: ProviderProfile;
}

/**
 * Returns the headers a sender would send (lowercase names): `sign({ provider, body, secret })`, or
 * `sign(provider, { body, secret })`. A call with another shape is a `TypeError` that says what to
 * pass. Needs `node:crypto` (use {@link signAsync} on WebCrypto runtimes).
 *
 * @example
 * ```ts
 * const headers = sign({ provider: providers.dataspike(), body, secret: ['whsec_new…', 'whsec_old…'] });
 * // { 'x-webhook-signature': 't=1700000000,v1=…,v1=…' }
 * ```
 */
export function sign(request: SignRequest): Record<string, string>;
/** The two-argument form: `sign(provider, { body, secret })`. */
export function sign(provider: ProviderProfile, input: SignInput): Record<string, string>;
export function sign(first: ProviderProfile | SignRequest, second?: SignInput): Record<string, string> {
  const { provider, input } = shape('sign', first, second);
  if (!hasSyncHmac) throw new TypeError('sign() needs node:crypto on this runtime; use signAsync()');
  const { secrets, ctx } = prepare(provider, input);
  const prefix = provider.signedPrefix(ctx);
  const digests: Uint8Array[] = [];
  const asymmetric: Uint8Array[] = [];
  for (const s of secrets) {
    const seed = provider.asymmetric?.signingKey(s);
    if (seed !== undefined) asymmetric.push(wipeAfter(seed, () => ed25519SignSync(seed, prefix, input.body)));
    else digests.push(hmacSync(provider.algorithm, keyBytes(provider, s), prefix, input.body));
  }
  return format(provider, digests, ctx, asymmetric);
}

/** {@link sign} for runtimes with WebCrypto only; the same two forms. */
export async function signAsync(request: SignRequest): Promise<Record<string, string>>;
/** The two-argument form: `signAsync(provider, { body, secret })`. */
export async function signAsync(provider: ProviderProfile, input: SignInput): Promise<Record<string, string>>;
export async function signAsync(first: ProviderProfile | SignRequest, second?: SignInput): Promise<Record<string, string>> {
  const { provider, input } = shape('signAsync', first, second);
  const { secrets, ctx } = prepare(provider, input);
  const prefix = provider.signedPrefix(ctx);
  const signed = await Promise.all(
    secrets.map(async (s) => {
      const seed = provider.asymmetric?.signingKey(s);
      if (seed !== undefined) return { asymmetric: true, bytes: await wipeAfter(seed, () => ed25519SignAsync(seed, prefix, input.body)) };
      return { asymmetric: false, bytes: await hmacAsync(provider.algorithm, keyBytes(provider, s), prefix, input.body) };
    }),
  );
  return format(
    provider,
    signed.filter((s) => !s.asymmetric).map((s) => s.bytes),
    ctx,
    signed.filter((s) => s.asymmetric).map((s) => s.bytes),
  );
}

/**
 * Runs `use`, then fills `seed` (a private-key seed, a copy nobody else holds) with zeros, also when
 * `use` throws or its promise rejects: a `whsk_` key is kept no longer than the signature takes.
 */
function wipeAfter<T>(seed: Uint8Array, use: () => T): T {
  let result: T;
  try {
    result = use();
  } catch (error) {
    seed.fill(0);
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => seed.fill(0)) as T;
  seed.fill(0);
  return result;
}

/**
 * The key bytes of `secret`, in a copy nobody else holds: both crypto backends cache per key-bytes
 * object (pads, imported `CryptoKey`), and a codec may hand back the caller's own buffer, which the
 * caller may change before the next call.
 */
function keyBytes(provider: ProviderProfile, secret: string | Uint8Array): Uint8Array {
  return new Uint8Array(provider.decodeSecret(secret));
}

function format(provider: ProviderProfile, digests: Uint8Array[], ctx: SignContext, asymmetric: Uint8Array[]): Record<string, string> {
  return asymmetric.length === 0 ? provider.formatHeaders(digests, ctx) : provider.formatHeaders(digests, ctx, asymmetric);
}

/** A value's kind for an error message: never its content (it could be a secret). */
function what(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a ${t}`;
}

function isProfile(value: unknown): value is ProviderProfile {
  const p = value as ProviderProfile | null;
  return (
    p !== null &&
    typeof p === 'object' &&
    typeof p.parse === 'function' &&
    typeof p.formatHeaders === 'function' &&
    typeof p.signedPrefix === 'function'
  );
}

/** Both call forms to one (provider, input) pair, or a `TypeError` that says what to pass. */
function shape(where: string, first: unknown, second: unknown): { provider: ProviderProfile; input: SignInput } {
  const usage = `${where}(): pass { provider, body, secret } (for example ${where}({ provider: providers.smartcar(), body, secret })), or ${where}(provider, { body, secret })`;
  let provider: unknown;
  let input: unknown;
  if (isProfile(first)) {
    if (second === null || typeof second !== 'object') throw new TypeError(`${usage}: the second argument is ${what(second)}`);
    provider = first;
    input = second;
  } else {
    if (first === null || typeof first !== 'object') throw new TypeError(`${usage}: got ${what(first)}`);
    if (second !== undefined) throw new TypeError(`${usage}: the first argument is not a provider profile`);
    provider = (first as { provider?: unknown }).provider;
    input = first;
    if (!isProfile(provider)) {
      throw new TypeError(`${where}(): \`provider\` must be a provider profile such as providers.smartcar() (got ${what(provider)})`);
    }
  }
  const { body, secret } = input as { body?: unknown; secret?: unknown };
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError(`${where}(): \`body\` must be the raw body, a string or a Uint8Array (got ${what(body)})`);
  }
  const secrets = Array.isArray(secret) ? (secret as unknown[]) : [secret];
  for (const s of secrets) {
    if (typeof s !== 'string' && !(s instanceof Uint8Array) && !(s instanceof SecretMaterial)) {
      throw new TypeError(
        `${where}(): \`secret\` must be the secret as stored (a string, bytes or a SecretMaterial), or a list of them (got ${what(s)})`,
      );
    }
  }
  return { provider: provider as ProviderProfile, input: input as SignInput };
}

function prepare(provider: ProviderProfile, input: SignInput): { secrets: (string | Uint8Array)[]; ctx: SignContext } {
  const list = Array.isArray(input.secret) ? (input.secret as readonly SignSecret[]) : [input.secret as SignSecret];
  const secrets = list.map((s) => (s instanceof SecretMaterial ? s.reveal() : s));
  if (secrets.length === 0) throw new TypeError('sign(): at least one secret is required');
  if (secrets.length > 1 && !provider.multiSignature) {
    throw new TypeError(`sign(): the ${provider.name} scheme carries one signature; pass one secret`);
  }
  const needsTs = provider.timestampTolerance !== undefined;
  const timestamp =
    input.timestamp === undefined ? undefined : numberOption('sign()', 'timestamp', input.timestamp, 0, 0, 999_999_999_999, true);
  const ctx = { timestamp: timestamp ?? (needsTs ? Math.floor(Date.now() / 1000) : undefined), id: input.id };
  return { secrets, ctx };
}
