/**
 * The readiness verdict: per secret and key — role, window, matches, last match — and whether the
 * previous key is safe to retire. Works on one process's `verifier.usage()` or on usage merged
 * from many instances.
 *
 * @module
 */
import type {
  KeyRole,
  KeyUsageReport,
  MissingInstance,
  UsageSnapshot as CoreUsageSnapshot,
  UsageSnapshotKey,
  Verifier,
} from '@keyturn/core';

/** Default quiet period: 24 h without a match of the previous key (see the rotation playbook). */
export const DEFAULT_QUIET_MS = 24 * 3_600_000;

/**
 * Quiet periods that suit a provider's delivery behaviour (see the rotation playbook for the
 * reasoning): Dataspike signs a timestamp that the verifier only accepts for 5 min, so an old-key
 * signature cannot verify much later than that; Smartcar signs no timestamp and documents 4
 * delivery attempts within about 3 min.
 */
export const RECOMMENDED_QUIET_MS: Readonly<Record<string, number>> = {
  dataspike: 15 * 60_000,
  smartcar: 60 * 60_000,
};

/** The quiet period to use for `provider` ({@link RECOMMENDED_QUIET_MS}, else {@link DEFAULT_QUIET_MS}). */
export function recommendedQuietMs(provider: string | undefined): number {
  return (provider === undefined ? undefined : RECOMMENDED_QUIET_MS[provider]) ?? DEFAULT_QUIET_MS;
}

/**
 * A serialisable usage report of one instance (or a merge of several, or a whole fleet's ledger from
 * `fleet.usage(secretId)`): what an instance exposes on an admin endpoint or writes to a file, and what
 * `keyturn status --usage` reads. Defined in `@keyturn/core` (fleets return it); `gapUntil` and `missing`
 * are set by fleet ledgers.
 */
export type UsageSnapshot = CoreUsageSnapshot;

/** Options of {@link usageSnapshot}. */
export interface UsageSnapshotOptions {
  /** Instance name (host name, pod name). */
  instance?: string;
  /** When counting started (the verifier's creation), epoch ms. Needed to call a never-matched key "quiet". */
  since?: number;
  /** Only this secret. */
  secretId?: string;
  /** Clock. @default Date.now */
  now?: () => number;
}

/**
 * Takes a serialisable snapshot of a verifier's usage counters.
 *
 * @example An admin endpoint for keyturn status --usage-url
 * ```ts
 * const startedAt = Date.now();
 * app.get('/internal/keyturn/usage', (_req, res) => res.json(usageSnapshot(verifier, { instance: os.hostname(), since: startedAt })));
 * ```
 */
export function usageSnapshot(verifier: Pick<Verifier, 'usage'>, options: UsageSnapshotOptions = {}): UsageSnapshot {
  return {
    version: 1,
    instances: options.instance === undefined ? [] : [options.instance],
    since: options.since,
    takenAt: (options.now ?? Date.now)(),
    keys: verifier.usage(options.secretId),
  };
}

/**
 * Merges usage from many instances: matches are summed, the last match is the latest one, and
 * role and window come from the instance that saw the key most recently. `since` becomes the
 * latest start and `takenAt` the earliest snapshot, so silence is only claimed where every
 * instance was watching.
 */
export function mergeUsage(reports: readonly (UsageSnapshot | readonly KeyUsageReport[])[]): UsageSnapshot {
  const byKey = new Map<string, UsageSnapshotKey>();
  let gapUntil: number | undefined;
  const missing: MissingInstance[] = [];
  const instances: string[] = [];
  let since: number | undefined;
  let sinceUnknown = false;
  let takenAt = Infinity;
  for (const report of reports) {
    const snapshot = isSnapshot(report) ? report : undefined;
    const keys: readonly UsageSnapshotKey[] = snapshot?.keys ?? (report as readonly KeyUsageReport[]);
    if (snapshot !== undefined) {
      instances.push(...snapshot.instances);
      if (snapshot.gapUntil !== undefined) gapUntil = Math.max(gapUntil ?? -Infinity, snapshot.gapUntil);
      if (snapshot.missing !== undefined) missing.push(...snapshot.missing);
      takenAt = Math.min(takenAt, snapshot.takenAt);
      if (snapshot.since === undefined) sinceUnknown = true;
      else since = since === undefined ? snapshot.since : Math.max(since, snapshot.since);
    } else sinceUnknown = true;
    for (const k of keys) {
      const id = `${k.secretId}\u0000${k.keyId}`;
      const prev = byKey.get(id);
      if (prev === undefined) {
        byKey.set(id, { ...k });
        continue;
      }
      const newer = k.lastSeenAt >= prev.lastSeenAt ? k : prev;
      byKey.set(id, {
        ...newer,
        matches: prev.matches + k.matches,
        lastMatchedAt: maxDefined(prev.lastMatchedAt, k.lastMatchedAt),
        lastSeenAt: Math.max(prev.lastSeenAt, k.lastSeenAt),
      });
    }
  }
  return {
    version: 1,
    instances,
    since: sinceUnknown ? undefined : since,
    takenAt: Number.isFinite(takenAt) ? takenAt : Date.now(),
    keys: [...byKey.values()].sort(compareKeys),
    ...(gapUntil === undefined ? {} : { gapUntil }),
    ...(missing.length === 0 ? {} : { missing }),
  };
}

/** A key version as the store reports it now (ids, roles and windows; no secrets). */
export interface CurrentKey {
  /** Secret id. */
  readonly secretId: string;
  /** Key version id. */
  readonly keyId: string;
  /** Role now. */
  readonly keyRole: KeyRole;
  /** Window start, epoch ms. */
  readonly notBefore?: number | undefined;
  /** Window end, epoch ms. */
  readonly notAfter?: number | undefined;
}

/** Options of {@link readiness}. */
export interface ReadinessOptions {
  /** Epoch ms to judge at. @default Date.now() */
  now?: number;
  /** How long the previous key must have gone without a match, in ms. @default {@link DEFAULT_QUIET_MS} */
  quietMs?: number;
  /** When counting started, epoch ms (a snapshot's `since` wins when given a snapshot). */
  observingSince?: number;
  /**
   * The keys the store holds now (from `store.getVersions`). Authoritative for roles and windows;
   * usage rows for other keys are reported as `retired`. Without it, a key counts as current when
   * it was seen within `currentWithinMs` of the newest load of its secret.
   */
  current?: readonly CurrentKey[];
  /** See `current`. @default 600_000 (two default cache TTLs) */
  currentWithinMs?: number;
}

/** One row of the readiness table. */
export interface ReadinessRow {
  /** Secret id. */
  readonly secretId: string;
  /** Key version id. */
  readonly keyId: string;
  /** Role now (`retired` when the store no longer holds the key). */
  readonly keyRole: KeyRole | 'retired';
  /** Window start, epoch ms. */
  readonly notBefore: number | undefined;
  /** Window end, epoch ms. */
  readonly notAfter: number | undefined;
  /** Whether the key verifies at `now` (its window includes now and the store holds it). */
  readonly inWindow: boolean;
  /** Successful verifications. */
  readonly matches: number;
  /** Epoch ms of the last match. */
  readonly lastMatchedAt: number | undefined;
  /** `now - lastMatchedAt`, in ms. */
  readonly lastMatchedAgoMs: number | undefined;
}

/** Why a verdict is what it is. */
export type ReadinessReason =
  | 'no-previous'
  | 'window-ended'
  | 'quiet'
  | 'recent-match'
  | 'observing'
  | 'no-evidence'
  | 'active-not-matched'
  | 'instances-missing'
  | 'evidence-gap';

/** The verdict for one secret. */
export interface ReadinessVerdict {
  /** Secret id. */
  readonly secretId: string;
  /** Whether the previous key can be retired now. */
  readonly safe: boolean;
  /** Why. */
  readonly reason: ReadinessReason;
  /** The previous key judged (the one that decided a "no", else the first). */
  readonly previousKeyId: string | undefined;
  /** How long ago the previous key last matched, in ms. */
  readonly lastMatchedAgoMs: number | undefined;
  /** `previous key safe to retire: yes` / `no (last matched 12 min ago)`. */
  readonly message: string;
}

/** What {@link readiness} returns. */
export interface ReadinessReport {
  /** Judged at, epoch ms. */
  readonly now: number;
  /** Quiet period used, ms. */
  readonly quietMs: number;
  /** Per secret and key. */
  readonly rows: readonly ReadinessRow[];
  /** Per secret. */
  readonly verdicts: readonly ReadinessVerdict[];
}

/**
 * Judges whether each secret's previous key is safe to retire.
 *
 * A previous key is safe to retire when its window has ended (the verifier already refuses it), or
 * when it has not matched for `quietMs` **and** the active key has matched since (evidence that the
 * sender switched). A never-matched previous key counts as quiet only after `quietMs` of observation
 * (`observingSince` / a snapshot's `since`).
 *
 * @example
 * ```ts
 * const report = readiness(verifier.usage(), { quietMs: 15 * 60_000, observingSince: startedAt });
 * for (const v of report.verdicts) console.log(v.secretId, v.message);
 * ```
 */
export function readiness(usage: UsageSnapshot | readonly KeyUsageReport[], options: ReadinessOptions = {}): ReadinessReport {
  const now = options.now ?? Date.now();
  const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
  if (!(quietMs >= 0)) throw new TypeError('readiness(): quietMs must be a non-negative number of ms');
  const snapshot = isSnapshot(usage) ? usage : undefined;
  const keys: readonly UsageSnapshotKey[] = snapshot?.keys ?? (usage as readonly KeyUsageReport[]);
  const since = snapshot !== undefined ? (snapshot.since ?? options.observingSince) : options.observingSince;
  // A fleet ledger: matches before `gapUntil` may be missing; instances in `missing` have not reported lately.
  const gapUntil = snapshot?.gapUntil;
  const missing = snapshot?.missing ?? [];
  // Silence is only known up to the moment the counts were taken.
  const evidenceUntil = Math.min(now, snapshot?.takenAt ?? now);
  const currentWithinMs = options.currentWithinMs ?? 600_000;

  const secretIds = new Set<string>([...keys.map((k) => k.secretId), ...(options.current ?? []).map((k) => k.secretId)]);
  const rows: ReadinessRow[] = [];
  const verdicts: ReadinessVerdict[] = [];
  for (const secretId of [...secretIds].sort()) {
    const used = keys.filter((k) => k.secretId === secretId);
    const secretRows: ReadinessRow[] = [];
    const current = options.current?.filter((k) => k.secretId === secretId);
    if (current !== undefined) {
      for (const c of current) {
        const u = used.find((k) => k.keyId === c.keyId);
        secretRows.push(row(secretId, c.keyId, c.keyRole, c.notBefore, c.notAfter, true, u, now));
      }
      for (const u of used) {
        if (!current.some((c) => c.keyId === u.keyId))
          secretRows.push(row(secretId, u.keyId, 'retired', u.notBefore, u.notAfter, false, u, now));
      }
    } else {
      const newest = Math.max(...used.map((k) => k.lastSeenAt));
      for (const u of used) {
        const isCurrent = u.lastSeenAt >= newest - currentWithinMs;
        secretRows.push(row(secretId, u.keyId, isCurrent ? u.keyRole : 'retired', u.notBefore, u.notAfter, isCurrent, u, now));
      }
    }
    secretRows.sort(compareRows);
    rows.push(...secretRows);
    verdicts.push(judge(secretId, secretRows, now, evidenceUntil, quietMs, since, gapUntil, missing));
  }
  return { now, quietMs, rows, verdicts };
}

function row(
  secretId: string,
  keyId: string,
  keyRole: KeyRole | 'retired',
  notBefore: number | undefined,
  notAfter: number | undefined,
  held: boolean,
  usage: KeyUsageReport | undefined,
  now: number,
): ReadinessRow {
  const lastMatchedAt = usage?.lastMatchedAt;
  return {
    secretId,
    keyId,
    keyRole,
    notBefore,
    notAfter,
    inWindow: held && (notBefore === undefined || notBefore <= now) && (notAfter === undefined || now <= notAfter),
    matches: usage?.matches ?? 0,
    lastMatchedAt,
    lastMatchedAgoMs: lastMatchedAt === undefined ? undefined : Math.max(0, now - lastMatchedAt),
  };
}

function judge(
  secretId: string,
  rows: readonly ReadinessRow[],
  now: number,
  evidenceUntil: number,
  quietMs: number,
  since: number | undefined,
  gapUntil: number | undefined,
  missing: readonly MissingInstance[],
): ReadinessVerdict {
  const previous = rows.filter((r) => r.keyRole === 'previous');
  const active = rows.filter((r) => r.keyRole === 'active');
  const verdict = (safe: boolean, reason: ReadinessReason, prev: ReadinessRow | undefined, detail?: string): ReadinessVerdict => ({
    secretId,
    safe,
    reason,
    previousKeyId: prev?.keyId,
    lastMatchedAgoMs: prev?.lastMatchedAgoMs,
    message: `previous key safe to retire: ${safe ? 'yes' : 'no'}${detail === undefined ? '' : ` (${detail})`}`,
  });
  if (previous.length === 0) return verdict(true, 'no-previous', undefined, 'there is no previous key');
  const yes: ReadinessVerdict[] = [];
  for (const prev of previous) {
    if (prev.notAfter !== undefined && prev.notAfter <= now) {
      yes.push(verdict(true, 'window-ended', prev, `its window ended ${formatDuration(now - prev.notAfter)} ago`));
      continue;
    }
    if (prev.lastMatchedAt !== undefined && evidenceUntil - prev.lastMatchedAt < quietMs) {
      return verdict(false, 'recent-match', prev, `last matched ${formatDuration(now - prev.lastMatchedAt)} ago`);
    }
    if (missing.length > 0) {
      // An instance that stopped reporting may hold matches nobody has seen: silence is not known.
      const m = missing[0] as MissingInstance;
      return verdict(
        false,
        'instances-missing',
        prev,
        `${missing.length} instance${missing.length === 1 ? '' : 's'} not reporting (${m.instance}, last report ${formatDuration(now - m.lastReportAt)} ago)`,
      );
    }
    const lastOrSince = prev.lastMatchedAt ?? since;
    // Matches before the end of an evidence gap may be missing: silence counts from after it.
    const quietFrom = gapUntil !== undefined && lastOrSince !== undefined && gapUntil > lastOrSince ? gapUntil : lastOrSince;
    if (quietFrom !== undefined && quietFrom === gapUntil && evidenceUntil - quietFrom < quietMs) {
      return verdict(
        false,
        'evidence-gap',
        prev,
        `counts may be missing until ${formatDuration(now - gapUntil)} ago; waiting for ${formatDuration(quietMs)} of silence after that, ${formatDuration(quietMs - (evidenceUntil - gapUntil))} to go`,
      );
    }
    if (quietFrom === undefined) {
      return verdict(false, 'no-evidence', prev, 'never matched, but when counting started is unknown');
    }
    if (evidenceUntil - quietFrom < quietMs) {
      const what = prev.lastMatchedAt === undefined ? 'no match yet' : `last matched ${formatDuration(now - prev.lastMatchedAt)} ago`;
      return verdict(
        false,
        'observing',
        prev,
        `${what}; waiting for ${formatDuration(quietMs)} of silence, ${formatDuration(quietMs - (evidenceUntil - quietFrom))} to go`,
      );
    }
    const switched = active.some(
      (a) => a.lastMatchedAt !== undefined && (prev.lastMatchedAt === undefined || a.lastMatchedAt > prev.lastMatchedAt),
    );
    if (!switched) {
      return verdict(false, 'active-not-matched', prev, 'the active key has not matched since: is the sender using the new secret?');
    }
    yes.push(
      verdict(
        true,
        'quiet',
        prev,
        prev.lastMatchedAt === undefined
          ? `never matched in ${formatDuration(evidenceUntil - quietFrom)}`
          : `last matched ${formatDuration(now - prev.lastMatchedAt)} ago`,
      ),
    );
  }
  return yes[0] as ReadinessVerdict;
}

/** `1 h 5 min`, `12 min`, `40 s`, `3 d 2 h`: durations for humans. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

function isSnapshot(x: unknown): x is UsageSnapshot {
  return (
    x !== null &&
    typeof x === 'object' &&
    !Array.isArray(x) &&
    (x as UsageSnapshot).version === 1 &&
    Array.isArray((x as UsageSnapshot).keys)
  );
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

const ROLE_ORDER: Record<string, number> = { active: 0, pending: 1, previous: 2, retired: 3 };

function compareKeys(a: KeyUsageReport, b: KeyUsageReport): number {
  return a.secretId < b.secretId
    ? -1
    : a.secretId > b.secretId
      ? 1
      : (ROLE_ORDER[a.keyRole] ?? 9) - (ROLE_ORDER[b.keyRole] ?? 9) || (a.keyId < b.keyId ? -1 : 1);
}

function compareRows(a: ReadinessRow, b: ReadinessRow): number {
  return (ROLE_ORDER[a.keyRole] ?? 9) - (ROLE_ORDER[b.keyRole] ?? 9) || (b.lastMatchedAt ?? 0) - (a.lastMatchedAt ?? 0);
}
