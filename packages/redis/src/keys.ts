/**
 * One prefix scheme for everything a fleet keeps in Redis. Keys of one secret share a hash tag
 * (`{…}`), so on a cluster every script touching them runs on one node; the instance registry and
 * the notice sequence share another.
 *
 * | key | type | what |
 * | --- | --- | --- |
 * | `<p>replay:<claim>` | string | a replay claim (`SET NX PX`) |
 * | `<p>usage:{<secret>}` | hash | the usage ledger of one secret (per key: matches, last match, role, window) |
 * | `<p>usage:{<secret>}:m:<hour>:<key id>` | hash | one key's matches per minute of one hour (field: minute 0–59; expires after 25 h) |
 * | `<p>fence:{<secret>}` | string | a rotation fence (expires with its TTL) |
 * | `<p>{fleet}:instances` | hash | instance id → last report; `~gap` → end of the last evidence gap |
 * | `<p>{fleet}:seq` | string | number of the last notice (missed notices show as a jump) |
 * | `<p>notices` | channel | the notices |
 *
 * @internal
 * @module
 */

/** Default prefix of every key and of the channel. */
export const DEFAULT_PREFIX = 'keyturn:';

/** A secret id as it appears inside a hash tag: `{`, `}` and `%` (and everything URI-unsafe) escaped. */
export function tagOf(secretId: string): string {
  return `{${encodeURIComponent(secretId)}}`;
}

/** The names a fleet uses under `prefix`. */
export interface KeyNames {
  readonly prefix: string;
  readonly replay: string;
  readonly channel: string;
  readonly instances: string;
  readonly seq: string;
  usage(secretId: string): string;
  minutes(secretId: string, hour: number, keyId: string): string;
  fence(secretId: string): string;
}

/** Builds the key names for `prefix`. */
export function keyNames(prefix: string): KeyNames {
  return {
    prefix,
    replay: `${prefix}replay:`,
    channel: `${prefix}notices`,
    instances: `${prefix}{fleet}:instances`,
    seq: `${prefix}{fleet}:seq`,
    usage: (secretId) => `${prefix}usage:${tagOf(secretId)}`,
    minutes: (secretId, hour, keyId) => `${prefix}usage:${tagOf(secretId)}:m:${hour}:${keyId}`,
    fence: (secretId) => `${prefix}fence:${tagOf(secretId)}`,
  };
}

/** Checks a prefix: a string of at most 128 characters without `{` or `}` (they would break the hash tags). */
export function checkPrefix(where: string, prefix: unknown): string {
  if (prefix === undefined) return DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix.length > 128 || /[{}]/.test(prefix)) {
    throw new TypeError(`${where}: \`prefix\` must be a string of at most 128 characters without "{" or "}"`);
  }
  return prefix;
}
