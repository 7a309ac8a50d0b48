/**
 * How a rotation workflow tells the verifiers: the ones in this process (`verifier`) and every instance
 * of a fleet (`fleet`, e.g. `redisFleet()` from `@keyturn/redis`). A fence is announced before a sender's
 * rotate call and a key-change notice follows every store write. A fence that cannot be announced to
 * the fleet stops the rotation before the sender's rotate call (`FENCE_UNAVAILABLE`, unless
 * `requireFence: false`); any other failure to tell anyone never fails the rotation: it becomes a
 * warning (the verifiers still pick the change up on their own, later).
 *
 * @module
 */
import { DEFAULT_FENCE_TTL_MS, MAX_FENCE_TTL_MS, type Fleet, type Verifier } from '@keyturn/core';
import { RotationError } from './errors.ts';

/** A verifier in this process that a workflow refreshes (`createVerifier()`'s result). */
export type RefreshableVerifier = Pick<Verifier, 'reload' | 'fence'>;

/** The publishing side of a fleet a workflow uses. */
export type NotifiableFleet = Pick<Fleet, 'announceRotation' | 'publishChange' | 'endRotation'>;

/** Who a workflow tells about a rotation. */
export interface RotationAudience {
  /**
   * Verifiers in this process: fenced before the sender's rotate call, reloaded as soon as the store
   * write lands (the workflow waits for their reload).
   */
  verifier?: RefreshableVerifier | readonly RefreshableVerifier[];
  /** A fleet: every instance hears the fence and the key change (`redisFleet({ client })`). */
  fleet?: NotifiableFleet;
  /**
   * How long the fence stands unless the key-change notice ends it, ms (1 to 3 600 000). The deliveries
   * that race the store write are answered 503 `KEY_ROTATION_IN_PROGRESS` meanwhile. @default 120_000
   */
  fenceTtlMs?: number;
}

/** What the helpers report progress with (the workflows' `ProgressEvent`). */
type Progress = (event: { readonly step: string; readonly message: string }) => void;

/** @internal The audience, checked. */
export interface Audience {
  readonly verifiers: readonly RefreshableVerifier[];
  readonly fleet: NotifiableFleet | undefined;
  readonly fenceTtlMs: number;
}

/** @internal Checks a workflow's `verifier` / `fleet` / `fenceTtlMs`. */
export function audienceOf(where: string, options: RotationAudience): Audience {
  const list =
    options.verifier === undefined ? [] : Array.isArray(options.verifier) ? options.verifier : [options.verifier as RefreshableVerifier];
  for (const v of list) {
    if (v === null || typeof v !== 'object' || typeof v.reload !== 'function' || typeof v.fence !== 'function') {
      throw new TypeError(`${where}: \`verifier\` must be a verifier (createVerifier()) or a list of them`);
    }
  }
  const fleet = options.fleet;
  if (
    fleet !== undefined &&
    (fleet === null ||
      typeof fleet !== 'object' ||
      typeof fleet.publishChange !== 'function' ||
      typeof fleet.announceRotation !== 'function')
  ) {
    throw new TypeError(`${where}: \`fleet\` must be a fleet such as redisFleet({ client })`);
  }
  const ttl = options.fenceTtlMs ?? DEFAULT_FENCE_TTL_MS;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 1 || ttl > MAX_FENCE_TTL_MS) {
    throw new TypeError(`${where}: \`fenceTtlMs\` must be a finite number of ms from 1 to ${MAX_FENCE_TTL_MS}`);
  }
  return { verifiers: list, fleet, fenceTtlMs: ttl };
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * @internal Announces the fence (before the sender's rotate call). Returns warnings. A fleet that cannot
 * be told is `RotationError('FENCE_UNAVAILABLE')` when `required` (the local fences are lifted again,
 * nothing else has changed), a warning otherwise.
 */
export async function announceFence(
  a: Audience,
  secretId: string,
  progress: Progress,
  required: boolean,
  provider: { id: string; name: string },
): Promise<string[]> {
  const warnings: string[] = [];
  for (const v of a.verifiers) v.fence(secretId, a.fenceTtlMs);
  if (a.fleet !== undefined) {
    progress({
      step: 'fence',
      message: `announcing the rotation of ${secretId} to the fleet (fence for ${Math.round(a.fenceTtlMs / 1000)} s)`,
    });
    try {
      await a.fleet.announceRotation(secretId, { ttlMs: a.fenceTtlMs });
    } catch (err) {
      if (required) {
        // Part of the announcement may have landed (the fence key set, the notice lost): end it, best effort.
        await endFence(a, secretId);
        throw new RotationError(
          'FENCE_UNAVAILABLE',
          `Could not announce the rotation of ${secretId} to the fleet (${describe(err)}), so the rotation was stopped before the rotate call: ` +
            `nothing was changed at ${provider.name} or in the store. Without the fence, instances that have not reloaded would answer the deliveries ` +
            `signed with the new secret 401 NO_MATCHING_KEY (recorded as forgeries). Fix the fleet's reachability (Redis / DynamoDB) and run the ` +
            `rotation again (safe to retry as is), or pass requireFence: false to rotate without the fence.`,
          { secretId, provider: provider.id, cause: err },
        );
      }
      warnings.push(
        `could not announce the rotation to the fleet (${describe(err)}): deliveries signed with the new secret before the store write may be answered 401`,
      );
    }
  }
  return warnings;
}

/** @internal Tells everyone the store changed (after every store write) and waits for local reloads. */
export async function announceChange(a: Audience, secretId: string, versionId: string | undefined, progress: Progress): Promise<string[]> {
  const warnings: string[] = [];
  if (a.fleet !== undefined) {
    progress({ step: 'notice', message: `telling the fleet that ${secretId} changed` });
    try {
      await a.fleet.publishChange(secretId, versionId === undefined ? {} : { versionId });
    } catch (err) {
      warnings.push(
        `could not tell the fleet that ${secretId} changed (${describe(err)}): instances pick it up on a miss or at their next refresh`,
      );
    }
  }
  await Promise.all(a.verifiers.map((v) => v.reload(secretId)));
  return warnings;
}

/** @internal Ends the fence without a change (the sender's rotate call failed). */
export async function endFence(a: Audience, secretId: string): Promise<void> {
  for (const v of a.verifiers) v.fence(secretId, 0);
  if (a.fleet !== undefined) await a.fleet.endRotation(secretId).catch(() => undefined);
}
