/**
 * The verifier's side of a fleet: the {@link FleetMember} a verifier hands to `fleet.join()`, and the
 * ledger queue its request path feeds (one branch per accepted request, a push once per flush).
 *
 * @internal
 * @module
 */
import type { KeySource } from '../cache/source.ts';
import type { KeyturnEvent } from '../events.ts';
import type { KeyUsage } from '../keys/ring.ts';
import { describeValue } from '../lib/validate.ts';
import { MAX_FENCE_TTL_MS, type Fleet, type FleetMember, type FleetMembership, type UsageDelta } from './types.ts';

/** What the verifier keeps of its fleet membership. */
export interface FleetHooks {
  /** Queues a usage record for the next flush (its first match or load since the last one). */
  queue(record: KeyUsage): void;
  /** Leaves the fleet (flushes what is left). */
  leave(): Promise<void>;
}

/** The verifier internals a member needs. */
export interface MemberContext {
  readonly provider: string;
  readonly now: () => number;
  readonly emit: (event: KeyturnEvent) => void;
  readonly source: KeySource;
  readonly setFence: (secretId: string, ttlMs: number) => void;
}

/** Checks a fence TTL: a finite number of ms from 1 (0 too when `allowZero`) to one hour. */
export function fenceTtl(where: string, ttlMs: unknown, allowZero: boolean): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < (allowZero ? 0 : 1) || ttlMs > MAX_FENCE_TTL_MS) {
    throw new TypeError(
      `${where}: \`ttlMs\` must be a finite number of ms from ${allowZero ? 0 : 1} to ${MAX_FENCE_TTL_MS} (got ${describeValue(ttlMs)})`,
    );
  }
  return ttlMs;
}

/** Joins `fleet` and returns the hooks the verifier calls. */
export function joinFleet(fleet: Fleet, ctx: MemberContext): FleetHooks {
  /** Records with something new for the ledger, each once until the next take. */
  let queued: KeyUsage[] = [];

  const member: FleetMember = {
    provider: ctx.provider,
    now: ctx.now,
    secretIds: () => ctx.source.secretIds(),
    async changed(secretId, versionId) {
      const held = ctx.source.holds(secretId);
      ctx.emit({ type: 'fleet-notice', fleet: fleet.name, notice: 'key-changed', secretId, held });
      if (!held) return;
      try {
        const outcome = await ctx.source.reload(secretId, 'notice', versionId);
        // The store write is visible: the deliveries that raced it now match (or are forgeries).
        if (outcome !== 'failed') ctx.setFence(secretId, 0);
      } catch {
        // never rejects
      }
    },
    async resync() {
      const ids = ctx.source.secretIds();
      ctx.emit({ type: 'fleet-resync', fleet: fleet.name, secrets: ids.length });
      await Promise.all(ids.map((id) => ctx.source.reload(id, 'resync').catch(() => 'failed')));
    },
    fence(secretId, ttlMs) {
      if (typeof secretId !== 'string' || secretId.length === 0) return;
      if (!(ttlMs >= 0)) return;
      const held = ctx.source.holds(secretId);
      ctx.emit({ type: 'fleet-notice', fleet: fleet.name, notice: ttlMs > 0 ? 'rotation-started' : 'rotation-ended', secretId, held });
      ctx.setFence(secretId, Math.min(ttlMs, MAX_FENCE_TTL_MS));
    },
    takeUsage() {
      const records = queued;
      queued = [];
      const out: UsageDelta[] = [];
      for (const r of records) {
        const matches = r.matches - r.reported;
        r.reported = r.matches;
        r.clean = true;
        out.push({
          secretId: r.secretId,
          keyId: r.keyId,
          keyRole: r.keyRole,
          matches,
          lastMatchedAt: r.lastMatchedAt,
          notBefore: r.notBefore,
          notAfter: r.notAfter,
          lastSeenAt: r.lastSeenAt,
        });
      }
      return out;
    },
    emit: ctx.emit,
  };

  const membership: FleetMembership | undefined = fleet.join(member);
  if (
    membership === null ||
    typeof membership !== 'object' ||
    typeof membership.leave !== 'function' ||
    typeof membership.usagePending !== 'function'
  ) {
    throw new TypeError('createVerifier(): `fleet.join()` must return { usagePending(), leave() }');
  }
  const joined = membership;
  let left = false;

  return {
    queue(record) {
      if (left) return;
      record.clean = false;
      queued.push(record);
      if (queued.length === 1) {
        try {
          joined.usagePending();
        } catch {
          // a fleet must never break verification
        }
      }
    },
    async leave() {
      if (left) return;
      left = true;
      await joined.leave();
    },
  };
}
