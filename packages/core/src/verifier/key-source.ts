/**
 * The `keys` option of `createVerifier`: one secret (the one-line setup), a list of key versions, or a
 * key store behind the cache — turned into the verifier's key source and its default secret id.
 *
 * @module
 */
import { cachedSource, type ResolvedCacheOptions } from '../cache/key-cache.ts';
import type { KeySource } from '../cache/source.ts';
import { staticSource } from '../cache/static-source.ts';
import { VerificationError } from '../errors.ts';
import type { KeyturnEvent } from '../events.ts';
import type { UsageBook } from '../keys/ring.ts';
import { SecretMaterial } from '../keys/secret.ts';
import type { KeyStore, SecretVersion } from '../keys/types.ts';
import type { ProviderProfile } from '../providers/types.ts';
import type { VerifyRequest } from './types.ts';

/** What the verifier needs from its `keys` option. @internal */
export interface ResolvedKeys {
  readonly source: KeySource;
  readonly defaultSecretId: string | ((request: VerifyRequest) => string);
}

/** Context for {@link resolveKeys}. @internal */
export interface KeyContext {
  readonly provider: ProviderProfile;
  readonly usage: UsageBook & { promote(key: string): void };
  readonly now: () => number;
  readonly firstNow: number;
  readonly emit: (event: KeyturnEvent) => void;
  readonly cache: ResolvedCacheOptions;
  /** The validated `secretId` option. */
  readonly configured: string | ((request: VerifyRequest) => string) | undefined;
}

/** Checks `keys` and builds the key source (a bad secret or shape is a `TypeError` at startup). @internal */
export function resolveKeys(keys: unknown, c: KeyContext): ResolvedKeys {
  if (typeof keys === 'string' || keys instanceof SecretMaterial) {
    // The one-line setup: one secret, one active key.
    const source = staticSource([singleKey(keys, c.provider)], c.provider, c.usage, c.firstNow, c.cache.maxSecrets, c.emit);
    return { source, defaultSecretId: c.configured ?? 'default' };
  }
  if (keys === undefined || keys === null) {
    throw new TypeError(
      `createVerifier(): \`keys\` is ${String(keys)}: pass the signing secret (a string, for example process.env.SMARTCAR_AMT — is it set?), a list of key versions, or a key store`,
    );
  }
  if (Array.isArray(keys)) {
    const source = staticSource(keys as readonly SecretVersion[], c.provider, c.usage, c.firstNow, c.cache.maxSecrets, c.emit);
    return { source, defaultSecretId: c.configured ?? 'default' };
  }
  const store = keys as KeyStore;
  if (typeof store !== 'object' || typeof store.getVersions !== 'function') {
    throw new TypeError(
      'createVerifier(): `keys` must be the signing secret (a string or SecretMaterial), an array of key versions, or a KeyStore',
    );
  }
  if (c.configured === undefined) {
    throw new TypeError('createVerifier(): `secretId` is required with a key store');
  }
  return { source: cachedSource(store, c.provider, c.usage, c.now, c.emit, c.cache), defaultSecretId: c.configured };
}

/** The one key of the one-line setup (`keys: secret`), checked now: a bad secret is a `TypeError` at startup. */
function singleKey(secret: string | SecretMaterial, provider: ProviderProfile): SecretVersion {
  const raw = secret instanceof SecretMaterial ? secret.reveal() : secret;
  try {
    if (provider.asymmetric?.publicKey(raw) === undefined) provider.decodeSecret(raw);
  } catch (error) {
    const why = error instanceof VerificationError ? error.message : 'it does not decode';
    throw new TypeError(`createVerifier(): \`keys\` is not a usable ${provider.name} secret: ${why}`);
  }
  return { id: 'default', secret: raw, role: 'active' };
}
