/**
 * The read side of `dynamodbFleet()`'s usage ledger: the instance registry (instances presumed gone are
 * removed and their possible losses become an evidence gap) and one secret's fleet-wide snapshot, with
 * the gap and the missing instances the readiness verdict needs.
 *
 * @internal
 * @module
 */
import type { KeyRole, UsageSnapshot, UsageSnapshotKey } from '@keyturn/core';
import { N, num, str, type Commands } from './client.ts';
import type { ItemKeys } from './keys.ts';
import { DRAINED_KEEP_MS } from './ledger.ts';

const ROLES: readonly string[] = ['active', 'pending', 'previous'];

/** What reading the ledger needs from the fleet. */
export interface LedgerReaderDeps {
  /** The table's commands. */
  readonly db: Commands;
  /** The item keys of the fleet's prefix. */
  readonly keys: ItemKeys;
  /** Clock, epoch ms. */
  readonly now: () => number;
  /** Default staleness of an entry that does not carry its own. */
  readonly staleAfterMs: number;
  /** Default timeout of an entry that does not carry its own. */
  readonly instanceTimeoutMs: number;
}

/** Reads one secret's fleet-wide usage snapshot. */
export function ledgerReader(deps: LedgerReaderDeps): (secretId: string) => Promise<UsageSnapshot> {
  const { db, keys, now, staleAfterMs, instanceTimeoutMs } = deps;

  async function registry(
    t: number,
  ): Promise<{ entries: { instance: string; at: number; mode: string; stale: number | undefined }[]; gap: number | undefined }> {
    const items = await db.query(keys.fleetPk, true);
    let gap: number | undefined;
    const entries: { instance: string; at: number; mode: string; stale: number | undefined }[] = [];
    for (const item of items) {
      const sk = str(item, 'sk') ?? '';
      if (sk === '~gap') {
        gap = num(item, 'g');
        continue;
      }
      if (!sk.startsWith('inst#')) continue;
      const at = num(item, 'at');
      if (at === undefined) continue;
      const mode = str(item, 'mode') ?? 'l';
      const timeout = num(item, 'timeout') ?? instanceTimeoutMs;
      const instance = sk.slice(5);
      if (mode === 'd' ? t - at > DRAINED_KEEP_MS : t - at > timeout) {
        // Presumed gone: removed (only if it did not report meanwhile), and its possible losses become a gap.
        const removed = await db.delete({
          Key: keys.instance(instance),
          ConditionExpression: '#at = :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': N(at) },
        });
        if (removed && mode !== 'd') {
          const end = at + timeout;
          await db.update({
            Key: keys.gap,
            UpdateExpression: 'SET #g = :g',
            ConditionExpression: 'attribute_not_exists(#g) OR #g < :g',
            ExpressionAttributeNames: { '#g': 'g' },
            ExpressionAttributeValues: { ':g': N(end) },
          });
          gap = Math.max(gap ?? 0, end);
        }
        continue;
      }
      entries.push({ instance, at, mode, stale: num(item, 'stale') });
    }
    return { entries, gap };
  }

  async function usage(secretId: string): Promise<UsageSnapshot> {
    const t = now();
    const [{ entries, gap }, items] = await Promise.all([registry(t), db.query(keys.usagePk(secretId), true)]);
    let since: number | undefined;
    const rows: UsageSnapshotKey[] = [];
    for (const item of items) {
      const sk = str(item, 'sk') ?? '';
      if (sk === '~meta') {
        since = num(item, 'since');
        continue;
      }
      if (!sk.startsWith('key#')) continue;
      const role = str(item, 'r');
      rows.push({
        secretId,
        keyId: str(item, 'kid') ?? sk.slice(4),
        keyRole: (ROLES.includes(role ?? '') ? role : 'previous') as KeyRole,
        matches: num(item, 'm') ?? 0,
        lastMatchedAt: num(item, 'l'),
        notBefore: num(item, 'nb'),
        notAfter: num(item, 'na'),
        lastSeenAt: num(item, 's') ?? 0,
        countingSince: num(item, 'b'),
      });
    }
    rows.sort((a, b) => ROLES.indexOf(a.keyRole) - ROLES.indexOf(b.keyRole) || (a.keyId < b.keyId ? -1 : 1));
    let takenAt = t;
    const missing: { instance: string; lastReportAt: number }[] = [];
    for (const e of entries) {
      if (e.mode === 'd') continue;
      if (t - e.at > (e.stale ?? staleAfterMs)) missing.push({ instance: e.instance, lastReportAt: e.at });
      else takenAt = Math.min(takenAt, e.at);
    }
    return { version: 1, instances: entries.map((e) => e.instance).sort(), since, takenAt, keys: rows, gapUntil: gap, missing };
  }

  return usage;
}
