/**
 * The process side of the usage ledger: deltas taken from the verifiers wait here (merged per key, and
 * per key and minute for the chart) until a flush writes them; a failed flush puts them back. Bounded:
 * past `maxKeys` the oldest keys are dropped and the drop is remembered as an evidence gap, so missing
 * counts are never read as silence.
 *
 * @internal
 * @module
 */
import type { KeyRole, UsageDelta, UsageSnapshot, UsageSnapshotKey, UsageTimeline } from '@keyturn/core';

/** One key's counts waiting to be written. */
export interface PendingKey {
  readonly secretId: string;
  readonly keyId: string;
  keyRole: KeyRole;
  matches: number;
  lastMatchedAt: number | undefined;
  notBefore: number | undefined;
  notAfter: number | undefined;
  lastSeenAt: number;
}

/** One secret's share of a flush. */
export interface SecretBatch {
  readonly secretId: string;
  readonly keys: PendingKey[];
  /** [keyId, epoch minute, count] */
  readonly minutes: [string, number, number][];
}

const MINUTE_MS = 60_000;
const HOUR_MINUTES = 60;

const sep = '\u0000';

/** Counts waiting for a flush. */
export class PendingLedger {
  #keys = new Map<string, PendingKey>();
  #minutes = new Map<string, number>();
  /** End of the evidence gap this process caused by dropping counts (0: none). */
  gapUntil = 0;

  constructor(
    readonly maxKeys: number,
    readonly maxMinutes: number,
  ) {}

  /** Keys waiting. */
  get size(): number {
    return this.#keys.size;
  }

  /** Adds deltas (a take from a verifier, or a failed batch put back). */
  add(deltas: Iterable<UsageDelta | PendingKey>, minutes?: Iterable<[string, string, number, number]>): void {
    for (const d of deltas) {
      const id = d.secretId + sep + d.keyId;
      const cur = this.#keys.get(id);
      if (cur === undefined) {
        this.#keys.set(id, { ...d });
        if (d.matches > 0 && minutes === undefined && d.lastMatchedAt !== undefined)
          this.#minute(d.secretId, d.keyId, Math.floor(d.lastMatchedAt / MINUTE_MS), d.matches);
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
      if (d.matches > 0 && minutes === undefined && d.lastMatchedAt !== undefined)
        this.#minute(d.secretId, d.keyId, Math.floor(d.lastMatchedAt / MINUTE_MS), d.matches);
    }
    if (minutes !== undefined) for (const [secretId, keyId, minute, count] of minutes) this.#minute(secretId, keyId, minute, count);
    this.#bound();
  }

  #minute(secretId: string, keyId: string, minute: number, count: number): void {
    const id = secretId + sep + keyId + sep + minute;
    this.#minutes.set(id, (this.#minutes.get(id) ?? 0) + count);
  }

  #bound(): void {
    while (this.#keys.size > this.maxKeys) {
      const [oldest, k] = this.#keys.entries().next().value as [string, PendingKey];
      this.#keys.delete(oldest);
      // Counts lost: silence up to now (at least up to this key's last match) is no evidence any more.
      this.gapUntil = Math.max(this.gapUntil, k.lastMatchedAt ?? 0, Date.now());
    }
    // Minute counts only feed the chart: the oldest go first, nothing else is lost.
    while (this.#minutes.size > this.maxMinutes) {
      const oldest = this.#minutes.keys().next().value as string;
      this.#minutes.delete(oldest);
    }
  }

  /** Takes everything, grouped by secret (and split so no batch has more than `perBatch` keys). */
  take(perBatch: number): SecretBatch[] {
    const keys = this.#keys;
    const minutes = this.#minutes;
    this.#keys = new Map();
    this.#minutes = new Map();
    const bySecret = new Map<string, SecretBatch>();
    const batchOf = (secretId: string): SecretBatch => {
      let b = bySecret.get(secretId);
      if (b === undefined) bySecret.set(secretId, (b = { secretId, keys: [], minutes: [] }));
      return b;
    };
    for (const k of keys.values()) batchOf(k.secretId).keys.push(k);
    for (const [id, count] of minutes) {
      const [secretId, keyId, minute] = id.split(sep) as [string, string, string];
      batchOf(secretId).minutes.push([keyId, Number(minute), count]);
    }
    const out: SecretBatch[] = [];
    for (const b of bySecret.values()) {
      if (b.keys.length <= perBatch && b.minutes.length <= perBatch * 4) {
        out.push(b);
        continue;
      }
      for (let i = 0; i < Math.max(b.keys.length, 1); i += perBatch) {
        out.push({ secretId: b.secretId, keys: b.keys.slice(i, i + perBatch), minutes: i === 0 ? b.minutes : [] });
      }
    }
    return out;
  }

  /** Puts a batch whose write failed back. */
  restore(batch: SecretBatch): void {
    this.add(
      batch.keys,
      batch.minutes.map(([keyId, minute, count]) => [batch.secretId, keyId, minute, count] as [string, string, number, number]),
    );
  }
}

/** The script arguments of one batch: KEYS and ARGV for {@link FLUSH_SCRIPT}. */
export function batchArgs(
  batch: SecretBatch,
  usageKey: string,
  fenceKey: string,
  minutesKey: (hour: number, keyId: string) => string,
  now: number,
  ledgerTtlS: number,
  minuteTtlS: number,
): { keys: string[]; args: string[] } {
  const keys = [usageKey, fenceKey];
  const keyIndex = new Map<string, number>();
  const args = [String(now), String(ledgerTtlS), String(minuteTtlS), String(batch.keys.length)];
  for (const k of batch.keys) {
    args.push(k.keyId, k.keyRole, String(k.matches), num(k.lastMatchedAt), num(k.notBefore), num(k.notAfter), String(k.lastSeenAt));
  }
  args.push(String(batch.minutes.length));
  for (const [keyId, minute, count] of batch.minutes) {
    // One small hash per key and hour (fields 0–59 stay a compact listpack).
    const hour = Math.floor(minute / HOUR_MINUTES);
    const name = minutesKey(hour, keyId);
    let index = keyIndex.get(name);
    if (index === undefined) {
      keys.push(name);
      index = keys.length;
      keyIndex.set(name, index);
    }
    args.push(String(index), String(minute - hour * HOUR_MINUTES), String(count));
  }
  return { keys, args };
}

function num(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '' : String(Math.round(n));
}

/** `[f1, v1, f2, v2, …]` (or a node-redis object) as a map. */
export function hashReply(reply: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), String(reply[i + 1]));
  } else if (reply !== null && typeof reply === 'object') {
    for (const [k, v] of Object.entries(reply as Record<string, unknown>)) out.set(k, String(v));
  }
  return out;
}

const ROLES: readonly string[] = ['active', 'pending', 'previous'];
const optNum = (s: string | undefined): number | undefined => {
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

/** The keys of a ledger hash as snapshot rows. */
export function ledgerKeys(secretId: string, hash: Map<string, string>): UsageSnapshotKey[] {
  const ids = new Set<string>();
  for (const f of hash.keys()) {
    const m = /^(?:m|l|b|s|r|nb|na):/.exec(f);
    if (m !== null) ids.add(f.slice(m[0].length));
  }
  const out: UsageSnapshotKey[] = [];
  for (const keyId of ids) {
    const role = hash.get(`r:${keyId}`);
    out.push({
      secretId,
      keyId,
      keyRole: (ROLES.includes(role ?? '') ? role : 'previous') as KeyRole,
      matches: optNum(hash.get(`m:${keyId}`)) ?? 0,
      lastMatchedAt: optNum(hash.get(`l:${keyId}`)),
      notBefore: optNum(hash.get(`nb:${keyId}`)),
      notAfter: optNum(hash.get(`na:${keyId}`)),
      lastSeenAt: optNum(hash.get(`s:${keyId}`)) ?? 0,
      countingSince: optNum(hash.get(`b:${keyId}`)),
    });
  }
  return out.sort((a, b) => ROLES.indexOf(a.keyRole) - ROLES.indexOf(b.keyRole) || (a.keyId < b.keyId ? -1 : 1));
}

/** One registry entry. */
export interface RegistryEntry {
  readonly instance: string;
  readonly lastReportAt: number;
  readonly mode: 'live' | 'drained';
  /** The instance's own "missing after" (ms), when it said. */
  readonly staleAfterMs: number | undefined;
}

/** Parses the registry hash (`~` fields are the fleet's own). */
export function registryEntries(hash: Map<string, string>): { entries: RegistryEntry[]; gapUntil: number | undefined } {
  const entries: RegistryEntry[] = [];
  for (const [f, v] of hash) {
    if (f.startsWith('~')) continue;
    const [t, mode, stale] = v.split('|');
    const at = Number(t);
    if (!Number.isFinite(at)) continue;
    entries.push({ instance: f, lastReportAt: at, mode: mode === 'd' ? 'drained' : 'live', staleAfterMs: optNum(stale) });
  }
  return { entries, gapUntil: optNum(hash.get('~gap')) };
}

/** Builds the snapshot of one secret from the ledger hash and the registry. */
export function buildSnapshot(
  secretId: string,
  ledger: Map<string, string>,
  registry: Map<string, string>,
  now: number,
  staleAfterMs: number,
): UsageSnapshot {
  const { entries, gapUntil } = registryEntries(registry);
  let takenAt = now;
  const missing: { instance: string; lastReportAt: number }[] = [];
  for (const e of entries) {
    if (e.mode === 'drained') continue;
    if (now - e.lastReportAt > (e.staleAfterMs ?? staleAfterMs)) missing.push({ instance: e.instance, lastReportAt: e.lastReportAt });
    // Evidence reaches as far as the oldest report of a live instance (each report covers its counts so far).
    else takenAt = Math.min(takenAt, e.lastReportAt);
  }
  return {
    version: 1,
    instances: entries.map((e) => e.instance).sort(),
    since: optNum(ledger.get('since')),
    takenAt,
    keys: ledgerKeys(secretId, ledger),
    gapUntil,
    missing,
  };
}

/** Builds a per-minute timeline from the minute hashes of each key (`hashes[k][h]`: key `k`, hour `fromHour + h`). */
export function buildTimeline(
  secretId: string,
  keyIds: readonly string[],
  hashes: readonly (readonly Map<string, string>[])[],
  fromHour: number,
  fromMinute: number,
  toMinute: number,
): UsageTimeline {
  const width = Math.max(0, toMinute - fromMinute + 1);
  return {
    secretId,
    from: fromMinute * MINUTE_MS,
    stepMs: MINUTE_MS,
    keys: keyIds.map((keyId, k) => {
      const counts = new Array<number>(width).fill(0);
      (hashes[k] ?? []).forEach((h, i) => {
        for (const [field, value] of h) {
          const minute = (fromHour + i) * HOUR_MINUTES + Number(field);
          if (!Number.isSafeInteger(minute) || minute < fromMinute || minute > toMinute) continue;
          counts[minute - fromMinute] = (counts[minute - fromMinute] ?? 0) + (Number(value) || 0);
        }
      });
      return { keyId, counts };
    }),
  };
}
