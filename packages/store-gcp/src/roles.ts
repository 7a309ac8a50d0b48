/**
 * Secret Manager's model → key roles and windows, pure (tested from tables): the decoding of secrets
 * and versions as the client returns them, and the two role mappings — version aliases
 * (`current` / `previous` / `next`) or the newest ENABLED versions.
 *
 * @module
 */
import type { KeyRole } from '@keyturn/core';
import { parseInstant } from '@keyturn/core/store-kit';
import { gcpError } from './client.ts';

/** Annotation holding the previous version's window: `<version number>@<ISO 8601 time>`. */
export const PREVIOUS_WINDOW_ANNOTATION = 'keyturn-previous-not-after';

/** A secret's aliases, annotations, etag and expiry. */
export interface SecretMeta {
  aliases: Map<string, number>;
  annotations: Record<string, string>;
  etag: string;
  expireTime: number | undefined;
}

/** One version's number, create time, state and etag. */
export interface VersionMeta {
  number: number;
  createTime: number | undefined;
  state: string;
  etag: string;
}

/** A version chosen for a role, with its window end. */
export interface Plan {
  role: KeyRole;
  meta: VersionMeta;
  notAfter: number | undefined;
}

/** The alias names in use (`pending: undefined`: no pending version). */
export interface AliasNames {
  readonly active: string;
  readonly previous: string;
  readonly pending: string | undefined;
}

/** A number as protobuf JSON gives it (a number, a string, a Long). */
export function numberOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = Number(typeof value === 'object' ? String(value) : value);
  return Number.isFinite(n) ? n : undefined;
}

/** A protobuf `Timestamp` (`{ seconds, nanos }`) or its RFC 3339 JSON form, in epoch ms. */
export function timeOf(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return parseInstant(value);
  if (typeof value !== 'object') return undefined;
  const t = value as { seconds?: unknown; nanos?: unknown };
  return (numberOf(t.seconds) ?? 0) * 1000 + Math.floor((numberOf(t.nanos) ?? 0) / 1_000_000);
}

function stateOf(value: unknown): string {
  if (typeof value === 'number') return (['STATE_UNSPECIFIED', 'ENABLED', 'DISABLED', 'DESTROYED'] as const)[value] ?? 'STATE_UNSPECIFIED';
  return typeof value === 'string' ? value : 'STATE_UNSPECIFIED';
}

/** The version number at the end of a version resource name. */
export function versionNumberOf(name: unknown): number | undefined {
  if (typeof name !== 'string') return undefined;
  const m = /\/versions\/([1-9][0-9]*)$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/** A `Secret` as the client returns it. */
export function secretMetaOf(raw: unknown): SecretMeta {
  const s = (raw ?? {}) as Record<string, unknown>;
  const aliases = new Map<string, number>();
  for (const [alias, value] of Object.entries((s.versionAliases ?? {}) as Record<string, unknown>)) {
    const n = numberOf(value);
    if (n !== undefined && n > 0) aliases.set(alias, n);
  }
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries((s.annotations ?? {}) as Record<string, unknown>)) annotations[k] = String(v);
  return { aliases, annotations, etag: typeof s.etag === 'string' ? s.etag : '', expireTime: timeOf(s.expireTime) };
}

/** A `SecretVersion` as the client returns it (`undefined` without a version name). */
export function versionMetaOf(raw: unknown): VersionMeta | undefined {
  const v = (raw ?? {}) as Record<string, unknown>;
  const number = versionNumberOf(v.name);
  if (number === undefined) return undefined;
  return { number, createTime: timeOf(v.createTime), state: stateOf(v.state), etag: typeof v.etag === 'string' ? v.etag : '' };
}

/** The previous window: the annotation `rotate()` wrote, if it names this version; else active create time + grace. */
export function previousNotAfter(meta: SecretMeta, previous: number, active: VersionMeta, graceMs: number): number | undefined {
  const recorded = /^([1-9][0-9]*)@(.+)$/.exec(meta.annotations[PREVIOUS_WINDOW_ANNOTATION] ?? '');
  if (recorded !== null && Number(recorded[1]) === previous) {
    const at = parseInstant(recorded[2]);
    if (at !== undefined) return at;
  }
  return active.createTime === undefined ? undefined : active.createTime + graceMs;
}

/** A window end capped by the secret's own expiry. */
export function cap(notAfter: number | undefined, expireTime: number | undefined): number | undefined {
  return expireTime === undefined ? notAfter : notAfter === undefined ? expireTime : Math.min(notAfter, expireTime);
}

/** `mode: 'versions'`: the newest ENABLED version is active, the one before it previous until the newer one's create time + grace. */
export function planByVersions(secretId: string, meta: SecretMeta, enabled: readonly VersionMeta[], graceMs: number): Plan[] {
  const [active, previous] = enabled;
  if (active === undefined) throw gcpError(secretId, 'NOT_FOUND', 'the secret has no ENABLED version.', false, 'NO_ACTIVE_VERSION');
  const plans: Plan[] = [{ role: 'active', meta: active, notAfter: cap(undefined, meta.expireTime) }];
  if (previous !== undefined)
    plans.push({
      role: 'previous',
      meta: previous,
      notAfter: cap(previousNotAfter(meta, previous.number, active, graceMs), meta.expireTime),
    });
  return plans;
}

/** `mode: 'aliases'`: which version numbers to read, by role (the active one first). */
export function aliasTargets(secretId: string, meta: SecretMeta, names: AliasNames): Array<[KeyRole, number]> {
  const activeN = meta.aliases.get(names.active);
  if (activeN === undefined)
    throw gcpError(
      secretId,
      'NOT_FOUND',
      `the secret has no "${names.active}" alias (set it, or use mode: 'versions').`,
      false,
      'NO_ACTIVE_VERSION',
    );
  const wanted: Array<[KeyRole, number]> = [['active', activeN]];
  const pendingN = names.pending === undefined ? undefined : meta.aliases.get(names.pending);
  if (pendingN !== undefined && pendingN !== activeN) wanted.push(['pending', pendingN]);
  const previousN = meta.aliases.get(names.previous);
  if (previousN !== undefined && previousN !== activeN && previousN !== pendingN) wanted.push(['previous', previousN]);
  return wanted;
}

/** `mode: 'aliases'`: the plans, from the targets and their metadata (a missing or non-ENABLED version never counts; the active one must be ENABLED). */
export function planByAliases(
  secretId: string,
  meta: SecretMeta,
  names: AliasNames,
  wanted: ReadonlyArray<[KeyRole, number]>,
  metas: ReadonlyArray<VersionMeta | undefined>,
  graceMs: number,
): Plan[] {
  const active = metas[0];
  const activeN = (wanted[0] as [KeyRole, number])[1];
  if (active === undefined || active.state !== 'ENABLED') {
    throw gcpError(
      secretId,
      'NOT_FOUND',
      `the "${names.active}" alias points at version ${activeN}, which is ${active?.state ?? 'missing'}.`,
      false,
      'FAILED_PRECONDITION',
    );
  }
  const plans: Plan[] = [];
  wanted.forEach(([role, n], i) => {
    const m = metas[i];
    if (m === undefined || m.state !== 'ENABLED') return; // DISABLED / DESTROYED never count
    const notAfter = role === 'previous' ? previousNotAfter(meta, n, active, graceMs) : undefined;
    plans.push({ role, meta: m, notAfter: cap(notAfter, meta.expireTime) });
  });
  return plans;
}
