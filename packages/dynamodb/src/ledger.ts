/**
 * The write side of `dynamodbFleet()`'s usage ledger: counts wait in memory per key (bounded: past
 * `maxPendingKeys` the oldest are dropped and an evidence gap is recorded), then one key is written with
 * `UpdateItem` (`ADD` for the count, a conditional max for the last match, the role and window reported
 * with the latest last-seen time), and the instance reports itself (live or drained) in the registry.
 *
 * @internal
 * @module
 */
import type { KeyRole, UsageDelta } from '@keyturn/core';
import { N, S, type Commands, type Item } from './client.ts';
import type { ItemKeys } from './keys.ts';

/** Ledger items live this long after their last write, in seconds. */
export const LEDGER_TTL_S = 7 * 86_400;
/** Registry entries of drained instances are dropped after this long. */
export const DRAINED_KEEP_MS = 7 * 86_400_000;
/** A drained instance rewrites its entry at most this often (keeps its TTL fresh). */
const DRAINED_REFRESH_MS = 3_600_000;

/** One key's counts waiting for a flush. */
export interface Pending {
  readonly secretId: string;
  readonly keyId: string;
  keyRole: KeyRole;
  matches: number;
  lastMatchedAt: number | undefined;
  notBefore: number | undefined;
  notAfter: number | undefined;
  lastSeenAt: number;
}

/** What the ledger's write side needs from the fleet. */
export interface LedgerWriterDeps {
  /** The table's commands. */
  readonly db: Commands;
  /** The item keys of the fleet's prefix. */
  readonly keys: ItemKeys;
  /** Clock, epoch ms. */
  readonly now: () => number;
  /** This process's id in the registry. */
  readonly instanceId: string;
  /** How often a live instance reports. */
  readonly heartbeatMs: number;
  /** A live instance silent this long is missing (written into its report). */
  readonly staleAfterMs: number;
  /** A missing instance silent this long is presumed gone (written into its report). */
  readonly instanceTimeoutMs: number;
  /** Most keys whose counts wait. */
  readonly maxPendingKeys: number;
}

/** The ledger's write side of one fleet. */
export interface LedgerWriter {
  /** Keys whose counts wait for a flush, by secret and key id. */
  readonly pending: Map<string, Pending>;
  /** Adds counts (a member's deltas, or a batch that failed to be written). */
  take(deltas: Iterable<UsageDelta | Pending>): void;
  /** Writes one key's counts as of `t`. */
  writeKey(k: Pending, t: number): Promise<void>;
  /** Reports this instance (`l` live, `d` drained) if due, and an evidence gap it caused. */
  report(at: number, mode: 'l' | 'd'): Promise<void>;
  /** The mode of the last report, if any. */
  readonly lastReportMode: 'l' | 'd' | undefined;
}

/** The ledger's write side of a fleet. */
export function ledgerWriter(deps: LedgerWriterDeps): LedgerWriter {
  const { db, keys, now, instanceId, heartbeatMs, staleAfterMs, instanceTimeoutMs, maxPendingKeys } = deps;
  const pending = new Map<string, Pending>();
  /** End of the evidence gap this process caused by dropping counts (0: none), and the last one reported. */
  let gapUntil = 0;
  let reportedGap = 0;
  /** What this process last wrote per key (its role/window update is skipped while nothing changed). */
  const writtenSeen = new Map<string, number>();
  const sinceWritten = new Set<string>();
  let lastReport: { at: number; mode: 'l' | 'd' } | undefined;

  function take(deltas: Iterable<UsageDelta | Pending>): void {
    for (const d of deltas) {
      const id = `${d.secretId}\u0000${d.keyId}`;
      const cur = pending.get(id);
      if (cur === undefined) {
        pending.set(id, { ...d });
        continue;
      }
      cur.matches += d.matches;
      if (d.lastMatchedAt !== undefined && (cur.lastMatchedAt === undefined || d.lastMatchedAt > cur.lastMatchedAt))
        cur.lastMatchedAt = d.lastMatchedAt;
      if (d.lastSeenAt >= cur.lastSeenAt) {
        cur.lastSeenAt = d.lastSeenAt;
        cur.keyRole = d.keyRole;
        cur.notBefore = d.notBefore;
        cur.notAfter = d.notAfter;
      }
    }
    while (pending.size > maxPendingKeys) {
      const [oldest, k] = pending.entries().next().value as [string, Pending];
      pending.delete(oldest);
      gapUntil = Math.max(gapUntil, k.lastMatchedAt ?? 0, now());
    }
  }

  /** Writes one key's counts: one UpdateItem in the usual case (this match is the latest), two when not. */
  async function writeKey(k: Pending, t: number): Promise<void> {
    const key = keys.usageKey(k.secretId, k.keyId);
    const ttl = N(Math.ceil(t / 1000) + LEDGER_TTL_S);
    const base = 'SET #b = if_not_exists(#b, :now), #ttl = :ttl, #kid = :kid';
    const names: Record<string, string> = { '#b': 'b', '#ttl': 'ttl', '#kid': 'kid' };
    const values: Item = { ':now': N(t), ':ttl': ttl, ':kid': S(k.keyId) };
    const add = k.matches > 0 ? ' ADD #m :m' : '';
    const addNames: Record<string, string> = k.matches > 0 ? { '#m': 'm' } : {};
    const addValues: Item = k.matches > 0 ? { ':m': N(k.matches) } : {};
    let done = false;
    if (k.lastMatchedAt !== undefined) {
      // A conditional max: the last-match time only moves forward.
      done = await db.update({
        Key: key,
        UpdateExpression: `${base}, #l = :l${add}`,
        ConditionExpression: 'attribute_not_exists(#l) OR #l <= :l',
        ExpressionAttributeNames: { ...names, ...addNames, '#l': 'l' },
        ExpressionAttributeValues: { ...values, ...addValues, ':l': N(k.lastMatchedAt) },
      });
    }
    if (!done) {
      await db.update({
        Key: key,
        UpdateExpression: `${base}${add}`,
        ExpressionAttributeNames: { ...names, ...addNames },
        ExpressionAttributeValues: { ...values, ...addValues },
      });
    }
    const seenId = `${k.secretId}\u0000${k.keyId}`;
    if ((writtenSeen.get(seenId) ?? -1) < k.lastSeenAt) {
      const roleValues: Item = { ':s': N(k.lastSeenAt), ':r': S(k.keyRole) };
      const sets = ['#s = :s', '#r = :r'];
      const removes: string[] = [];
      for (const [attr, value] of [
        ['nb', k.notBefore],
        ['na', k.notAfter],
      ] as const) {
        if (value !== undefined && Number.isFinite(value)) {
          sets.push(`#${attr} = :${attr}`);
          roleValues[`:${attr}`] = N(value);
        } else removes.push(`#${attr}`);
      }
      // The role and window reported with the latest last-seen time win.
      await db.update({
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_not_exists(#s) OR #s <= :s',
        ExpressionAttributeNames: { '#s': 's', '#r': 'r', '#nb': 'nb', '#na': 'na' },
        ExpressionAttributeValues: roleValues,
      });
      writtenSeen.set(seenId, k.lastSeenAt);
      if (writtenSeen.size > maxPendingKeys) writtenSeen.delete(writtenSeen.keys().next().value as string);
    }
    if (!sinceWritten.has(k.secretId)) {
      await db.update({
        Key: keys.usageMeta(k.secretId),
        UpdateExpression: 'SET #since = if_not_exists(#since, :now), #ttl = :ttl',
        ExpressionAttributeNames: { '#since': 'since', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': N(t), ':ttl': ttl },
      });
      sinceWritten.add(k.secretId);
    }
  }

  async function report(at: number, mode: 'l' | 'd'): Promise<void> {
    const gap = gapUntil > reportedGap ? gapUntil : 0;
    const due =
      lastReport === undefined ||
      lastReport.mode !== mode ||
      gap > 0 ||
      at - lastReport.at >= (mode === 'd' ? DRAINED_REFRESH_MS : heartbeatMs) ||
      at < lastReport.at;
    if (!due) return;
    await db.put({
      Item: {
        ...keys.instance(instanceId),
        at: N(at),
        mode: S(mode),
        stale: N(staleAfterMs),
        timeout: N(instanceTimeoutMs),
        ttl: N(Math.ceil((at + Math.max(DRAINED_KEEP_MS, instanceTimeoutMs)) / 1000)),
      },
    });
    lastReport = { at, mode };
    if (gap > 0) {
      await db.update({
        Key: keys.gap,
        UpdateExpression: 'SET #g = :g',
        ConditionExpression: 'attribute_not_exists(#g) OR #g < :g',
        ExpressionAttributeNames: { '#g': 'g' },
        ExpressionAttributeValues: { ':g': N(gap) },
      });
      reportedGap = gap;
    }
  }

  return {
    pending,
    take,
    writeKey,
    report,
    get lastReportMode() {
      return lastReport?.mode;
    },
  };
}
