/**
 * Key Vault's version model onto keyturn's roles and windows. Pure: no I/O, no clock of its own.
 *
 * | version (enabled only; ordered newest first by `created`) | role | window |
 * | --- | --- | --- |
 * | the newest one inside its window (`notBefore` ≤ now, `expires` > now, with leeway) | `active` | its `notBefore` / `expires` |
 * | newer than the active one, `notBefore` still ahead | `pending` | its `notBefore` / `expires` |
 * | the one just before the active one | `previous` | ends at its `expires`; **no end** when it has none |
 * | older ones whose `expires` is after the active one was created | `previous` | ends at its `expires` |
 * | disabled, older without `expires`, or expired before the active one existed | — (not returned) | |
 *
 * A previous version whose `expires` has passed is still returned (with that past `notAfter`), so the
 * verifier answers `KEY_EXPIRED` rather than `NO_MATCHING_KEY` to a sender stuck on it.
 *
 * @module
 */
import type { KeyRole } from '@keyturn/core';

/** Tag `rotate()` writes on a new version: the version it replaced (orders versions made in the same second). */
export const REPLACES_TAG = 'keyturn-replaces';

/** What the role mapping reads of one version (times in epoch ms). */
export interface VersionInfo {
  /** The version id. */
  readonly version: string;
  /** Whether the version may be read. */
  readonly enabled: boolean;
  /** `notBefore`, epoch ms. */
  readonly notBefore?: number | undefined;
  /** `expires`, epoch ms. */
  readonly expires?: number | undefined;
  /** `created`, epoch ms (Key Vault keeps whole seconds). */
  readonly createdOn?: number | undefined;
  /** The version's tags. */
  readonly tags?: Readonly<Record<string, string>> | undefined;
  /** The version's content type (carried over by `rotate()`). */
  readonly contentType?: string | undefined;
}

/** One version with its role and window. */
export interface RoleAssignment {
  /** The version id. */
  readonly version: string;
  /** Its role. */
  readonly role: KeyRole;
  /** Epoch ms before which it must not verify. */
  readonly notBefore: number | undefined;
  /** Epoch ms after which it must not verify; `undefined` = no end. */
  readonly notAfter: number | undefined;
}

/** Why there is no active version. */
export type NoActiveReason = 'NO_VERSIONS' | 'NONE_ENABLED' | 'NONE_IN_WINDOW';

/** The outcome of {@link assignRoles}. */
export interface Roles {
  /** The active version, unless there is none. */
  readonly active: RoleAssignment | undefined;
  /** Pending versions, newest first. */
  readonly pending: readonly RoleAssignment[];
  /** Previous versions, newest first. */
  readonly previous: readonly RoleAssignment[];
  /** Set when `active` is undefined. */
  readonly problem: NoActiveReason | undefined;
  /** When the next not-yet-valid version starts (helps an error message), epoch ms. */
  readonly nextStart: number | undefined;
}

/**
 * Newest first: by `created`, then (versions made in the same second) by how many `keyturn-replaces`
 * links lead back from a version, then by version id (deterministic).
 */
export function newestFirst<T extends VersionInfo>(versions: readonly T[]): T[] {
  const byId = new Map(versions.map((v) => [v.version, v]));
  const depth = new Map<string, number>();
  const depthOf = (v: VersionInfo): number => {
    let d = 0;
    const seen = new Set<string>([v.version]);
    for (
      let cur = byId.get(v.tags?.[REPLACES_TAG] ?? '');
      cur !== undefined && !seen.has(cur.version);
      cur = byId.get(cur.tags?.[REPLACES_TAG] ?? '')
    ) {
      seen.add(cur.version);
      d += 1;
    }
    return d;
  };
  for (const v of versions) depth.set(v.version, depthOf(v));
  return [...versions].sort((a, b) => {
    const dc = (b.createdOn ?? 0) - (a.createdOn ?? 0);
    if (dc !== 0) return dc;
    const dd = (depth.get(b.version) as number) - (depth.get(a.version) as number);
    if (dd !== 0) return dd;
    return a.version < b.version ? 1 : a.version > b.version ? -1 : 0;
  });
}

/**
 * Assigns roles at time `now`. `leewayMs` widens "inside the window" for choosing the active version
 * (a version starting within the leeway is already active; one that expired within it still is).
 */
export function assignRoles(versions: readonly VersionInfo[], now: number, leewayMs: number): Roles {
  const enabled = newestFirst(versions).filter((v) => v.enabled);
  const started = (v: VersionInfo) => v.notBefore === undefined || v.notBefore <= now + leewayMs;
  const live = (v: VersionInfo) => v.expires === undefined || v.expires > now - leewayMs;
  const activeIndex = enabled.findIndex((v) => started(v) && live(v));
  const nextStart = min(enabled.filter((v) => !started(v)).map((v) => v.notBefore as number));
  if (activeIndex < 0) {
    const problem: NoActiveReason = versions.length === 0 ? 'NO_VERSIONS' : enabled.length === 0 ? 'NONE_ENABLED' : 'NONE_IN_WINDOW';
    return { active: undefined, pending: [], previous: [], problem, nextStart };
  }
  const activeInfo = enabled[activeIndex] as VersionInfo;
  const assign = (v: VersionInfo, role: KeyRole): RoleAssignment => ({
    version: v.version,
    role,
    notBefore: v.notBefore,
    notAfter: v.expires,
  });
  const pending = enabled
    .slice(0, activeIndex)
    .filter((v) => !started(v))
    .map((v) => assign(v, 'pending'));
  const older = enabled.slice(activeIndex + 1).filter(started);
  const activeCreated = activeInfo.createdOn ?? 0;
  const previous = older
    .filter((v, i) => i === 0 || (v.expires !== undefined && v.expires > activeCreated))
    .map((v) => assign(v, 'previous'));
  return { active: assign(activeInfo, 'active'), pending, previous, problem: undefined, nextStart };
}

/** Why `roles` has no active version, as the end of a sentence about the secret. */
export function describeNoActive(roles: Roles): string {
  if (roles.problem === 'NO_VERSIONS') return 'does not exist in this vault';
  if (roles.problem === 'NONE_ENABLED') return 'has no enabled version';
  const next = roles.nextStart === undefined ? '' : ` (the next one starts at ${new Date(roles.nextStart).toISOString()})`;
  return `has no enabled version inside its validity window${next}`;
}

function min(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : Math.min(...values);
}
