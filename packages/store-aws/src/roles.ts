/**
 * Secrets Manager's model → key roles and windows, pure (tested from tables): staging labels on
 * versions become `active` / `previous` / `pending`, the previous window comes from the grace
 * `rotate()` recorded (or the store's), and a key-set document's keys keep their own roles and windows
 * but never rise above their version's role.
 *
 * @module
 */
import type { KeyRole, SecretVersion } from '@keyturn/core';
import { compareRoles, sameSecret, weakerRole } from '@keyturn/core/store-kit';
import { awsError } from './client.ts';
import { FormatProblem, parseValue, type AwsSecretFormat, type ParsedKey } from './formats.ts';

/** The three staging labels the store reads. */
export interface Labels {
  readonly active: string;
  readonly previous: string;
  readonly pending: string;
}

/** Which version holds which label, and the graces `rotate()` recorded. */
export interface LabelMap {
  readonly arn: string;
  readonly active: string | undefined;
  readonly previous: string | undefined;
  readonly pending: string | undefined;
  /** Graces recorded by `rotate()`, by the VersionId that became current. */
  readonly graces: ReadonlyMap<string, number>;
}

/** A version's value and its creation time (epoch ms). */
export interface VersionValue {
  readonly value: string | Uint8Array;
  readonly createdAt: number | undefined;
}

/** `DescribeSecret`'s answer, the part the store reads. */
export interface Described {
  readonly ARN?: string | undefined;
  readonly VersionIdsToStages?: Record<string, string[] | undefined> | undefined;
  readonly Tags?: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined;
}

/** Reads the label map out of a `DescribeSecret` answer. */
export function labelMapOf(out: Described, secretId: string, labels: Labels, graceTag: string): LabelMap {
  const holders: Record<string, string> = {};
  for (const [versionId, stages] of Object.entries(out.VersionIdsToStages ?? {})) {
    for (const stage of stages ?? []) holders[stage] = versionId;
  }
  return {
    arn: out.ARN ?? secretId,
    active: holders[labels.active],
    previous: holders[labels.previous],
    pending: holders[labels.pending],
    graces: parseGraces(out.Tags?.find((t) => t.Key === graceTag)?.Value),
  };
}

/** Reads the grace tag: `<VersionId>=<ms>` entries separated by spaces; malformed entries are ignored. */
export function parseGraces(tag: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of (tag ?? '').split(' ')) {
    const m = /^([A-Za-z0-9-]{1,64})=(\d{1,16}|Infinity)$/.exec(entry);
    if (m !== null) out.set(m[1] as string, m[2] === 'Infinity' ? Infinity : Number(m[2]));
  }
  return out;
}

/** The grace readers give the previous version while `activeId` is current. */
export function graceFor(map: LabelMap, activeId: string | undefined, fallback: number): number {
  return (activeId === undefined ? undefined : map.graces.get(activeId)) ?? fallback;
}

/** Which versions a load reads: the active one always, previous and pending when they are other versions. */
export function versionsToRead(map: LabelMap, acceptPending: boolean): { previousId: string | undefined; pendingId: string | undefined } {
  return {
    previousId: map.previous !== undefined && map.previous !== map.active ? map.previous : undefined,
    pendingId: acceptPending && map.pending !== undefined && map.pending !== map.active ? map.pending : undefined,
  };
}

/** The keys of one version's value, or a terminal `INVALID_FORMAT` naming the version. */
export function keysOf(format: AwsSecretFormat, secretId: string, versionId: string, v: VersionValue): ParsedKey[] {
  try {
    return parseValue(format, v.value);
  } catch (err) {
    if (err instanceof FormatProblem) {
      throw awsError(
        `AWS secret ${secretId} version ${versionId} does not fit the store's format: ${err.message}.`,
        secretId,
        'INVALID_FORMAT',
      );
    }
    throw err;
  }
}

/** What {@link assignRoles} reads. */
export interface RoleInput {
  readonly secretId: string;
  readonly format: AwsSecretFormat;
  readonly map: LabelMap;
  readonly current: VersionValue;
  readonly previous?: { readonly id: string; readonly value: VersionValue } | undefined;
  readonly pending?: { readonly id: string; readonly value: VersionValue } | undefined;
  /** The store's grace for a previous version no `rotate()` recorded one for, in ms. */
  readonly previousGraceMs: number;
}

const SOURCE = Symbol('source-version');

/**
 * The key set of one load. The previous version verifies until the current version's creation +
 * grace; a key-set key keeps its own window, and its role is capped by its version's.
 */
export function assignRoles(input: RoleInput): SecretVersion[] {
  const { secretId, format, map, current } = input;
  const grace = graceFor(map, map.active, input.previousGraceMs);
  const graceEnd = grace === Infinity || current.createdAt === undefined ? undefined : current.createdAt + grace;
  const out: SecretVersion[] = [];
  const add = (versionId: string, v: VersionValue, cap: KeyRole, defaultNotAfter: number | undefined): void => {
    for (const k of keysOf(format, secretId, versionId, v)) {
      const role = weakerRole(k.role ?? 'active', cap);
      out.push({
        id: k.keyId ?? versionId,
        // Bytes are copied: the cached value must not change if a caller writes into the array.
        secret: typeof k.secret === 'string' ? k.secret : new Uint8Array(k.secret),
        role,
        notBefore: k.notBefore,
        notAfter: k.notAfter ?? (role === 'previous' && cap === 'previous' ? defaultNotAfter : undefined),
        // Remember where a key-set key came from, to disambiguate clashing ids below.
        ...(k.keyId !== undefined ? { [SOURCE]: versionId } : {}),
      });
    }
  };
  add(map.active as string, current, 'active', undefined);
  if (input.pending !== undefined) add(input.pending.id, input.pending.value, 'pending', undefined);
  if (input.previous !== undefined) add(input.previous.id, input.previous.value, 'previous', graceEnd);
  return dedupe(out);
}

/** Keeps one entry per id; a clashing key-set id from another version gets `<VersionId>:<id>`. */
function dedupe(versions: SecretVersion[]): SecretVersion[] {
  versions.sort(compareRoles);
  const byId = new Map<string, SecretVersion>();
  const out: SecretVersion[] = [];
  for (const v of versions) {
    const seen = byId.get(v.id);
    const clean: SecretVersion = { id: v.id, secret: v.secret, role: v.role, notBefore: v.notBefore, notAfter: v.notAfter };
    if (seen === undefined) {
      byId.set(v.id, clean);
      out.push(clean);
      continue;
    }
    if (sameSecret(seen.secret, v.secret)) continue; // the same key carried into the next version: keep the stronger role
    const source = (v as unknown as Record<symbol, string | undefined>)[SOURCE];
    const id = `${source ?? 'version'}:${v.id}`;
    if (byId.has(id)) continue;
    const renamed = { ...clean, id };
    byId.set(id, renamed);
    out.push(renamed);
  }
  return out;
}

/** The end of the last window; `undefined` when there is none or one is open-ended. */
export function latest(windows: readonly (number | undefined)[]): number | undefined {
  if (windows.length === 0 || windows.some((w) => w === undefined)) return undefined;
  return Math.max(...(windows as number[]));
}
