/**
 * The items keyturn keeps in its one table. Every item has a string partition key `pk` and a string
 * sort key `sk`; items that expire carry `ttl` (epoch seconds, the table's TTL attribute).
 *
 * | item | `pk` | `sk` | attributes |
 * | --- | --- | --- | --- |
 * | replay claim | `<p>replay#<claim key>` | `claim` | `tok` (the claim's token), `exp` (epoch ms), `ttl` |
 * | usage of one key | `<p>usage#<secret id>` | `key#<key id>` | `m` (matches, `ADD`), `l` (last match, a conditional max), `b` (counting began), `s`/`r`/`nb`/`na` (last seen, role, window), `ttl` |
 * | usage of one secret | `<p>usage#<secret id>` | `~meta` | `since` (when counting began), `ttl` |
 * | instance report | `<p>fleet` | `inst#<instance id>` | `at` (last report), `mode` (`l` live, `d` drained), `stale`, `timeout` (ms), `ttl` |
 * | evidence gap | `<p>fleet` | `~gap` | `g` (epoch ms: silence before it is no evidence) |
 * | key-change marker | `<p>marker#<secret id>` | `marker` | `seq` (bumped by every change), `v` (version id), `at`, `fence` (a rotation fence's end, epoch ms) |
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto';
import { S, type Item } from './client.ts';

/** Default prefix of every partition key. */
export const DEFAULT_PREFIX = 'keyturn#';

/** Key parts longer than this (UTF-8 bytes) are hashed: DynamoDB partition keys hold at most 2048 bytes. */
const MAX_PART_BYTES = 1_000;

/** A key part as stored: as is, or `sha256:<hex>` when too long. */
export function part(text: string): string {
  return Buffer.byteLength(text, 'utf8') > MAX_PART_BYTES ? `sha256:${createHash('sha256').update(text).digest('hex')}` : text;
}

/** The key names under `prefix`. */
export interface ItemKeys {
  readonly prefix: string;
  claim(key: string): Item;
  usagePk(secretId: string): string;
  usageKey(secretId: string, keyId: string): Item;
  usageMeta(secretId: string): Item;
  readonly fleetPk: string;
  instance(instanceId: string): Item;
  readonly gap: Item;
  marker(secretId: string): Item;
}

/** Builds the key names for `prefix`. */
export function itemKeys(prefix: string): ItemKeys {
  const fleetPk = `${prefix}fleet`;
  return {
    prefix,
    claim: (key) => ({ pk: S(`${prefix}replay#${part(key)}`), sk: S('claim') }),
    usagePk: (secretId) => `${prefix}usage#${part(secretId)}`,
    usageKey: (secretId, keyId) => ({ pk: S(`${prefix}usage#${part(secretId)}`), sk: S(`key#${part(keyId)}`) }),
    usageMeta: (secretId) => ({ pk: S(`${prefix}usage#${part(secretId)}`), sk: S('~meta') }),
    fleetPk,
    instance: (instanceId) => ({ pk: S(fleetPk), sk: S(`inst#${instanceId}`) }),
    gap: { pk: S(fleetPk), sk: S('~gap') },
    marker: (secretId) => ({ pk: S(`${prefix}marker#${part(secretId)}`), sk: S('marker') }),
  };
}

/** Checks a prefix: at most 128 characters. */
export function checkPrefix(where: string, prefix: unknown): string {
  if (prefix === undefined) return DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || prefix.length > 128)
    throw new TypeError(`${where}: \`prefix\` must be a string of at most 128 characters`);
  return prefix;
}
