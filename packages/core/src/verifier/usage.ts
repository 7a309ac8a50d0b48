/**
 * Per-key match counters (`verifier.usage()`): what tells an operator when an old key is safe to retire.
 *
 * @internal
 * @module
 */
import { Tiers } from '../cache/tiers.ts';
import { usageKey, type KeyUsage, type UsageBook } from '../keys/ring.ts';
import { ROLE_RANK, type KeyRole } from '../keys/types.ts';
import type { KeyUsageReport } from './types.ts';

/** The usage records of one verifier. */
export interface Usage {
  /** What key rings record matches in (the cache promotes records of secrets that verified a request). */
  readonly book: UsageBook & { promote(key: string): void };
  /** With a fleet: new records, and records a (re)load reported again, go to `queue` (the ledger). */
  feed(queue: (record: KeyUsage) => void): void;
  /** The role `keyId` of `secretId` had when last seen, if recorded. */
  role(secretId: string | undefined, keyId: string | undefined): KeyRole | undefined;
  /** Copies of the records (of one secret), by secret id then role. */
  report(secretId?: string): KeyUsageReport[];
}

/**
 * Usage records for up to `maxSecrets` × 8 keys (at least 1 000). Records of secrets that verified a
 * request are never evicted by records of ones that did not.
 */
export function createUsage(maxSecrets: number): Usage {
  const max = Math.max(1_000, maxSecrets * 8);
  const tiers = new Tiers<KeyUsage>(max, max);
  let ledger: ((record: KeyUsage) => void) | undefined;
  return {
    book: {
      get: (key) => tiers.get(key),
      set: (key, value, proven) => {
        tiers.set(key, value, proven);
        ledger?.(value);
      },
      touched: (value) => {
        if (value.clean) ledger?.(value);
      },
      promote: (key) => tiers.promote(key),
    },
    feed(queue) {
      ledger = queue;
    },
    role(secretId, keyId) {
      if (secretId === undefined || keyId === undefined) return undefined;
      return tiers.get(usageKey(secretId, keyId))?.keyRole;
    },
    report(secretId) {
      const out: KeyUsageReport[] = [];
      for (const u of tiers.values()) {
        if (secretId !== undefined && u.secretId !== secretId) continue;
        out.push({
          secretId: u.secretId,
          keyId: u.keyId,
          keyRole: u.keyRole,
          matches: u.matches,
          lastMatchedAt: u.lastMatchedAt,
          notBefore: u.notBefore,
          notAfter: u.notAfter,
          lastSeenAt: u.lastSeenAt,
        });
      }
      return out.sort((a, b) => (a.secretId < b.secretId ? -1 : a.secretId > b.secretId ? 1 : ROLE_RANK[a.keyRole] - ROLE_RANK[b.keyRole]));
    },
  };
}
