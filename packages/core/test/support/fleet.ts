/**
 * An in-process fleet for the core suites: every verifier that joins hears every notice at once, and
 * `takeUsage()` is drained into a ledger map by `flush()`. It implements the real `Fleet` contract (the
 * Redis fleet's own suite runs against a real redis-server).
 */
import type { Fleet, FleetMember, UsageDelta, UsageSnapshot } from '../../src/index.ts';

export interface BusFleet extends Fleet {
  readonly members: Set<FleetMember>;
  /** Every delta taken so far. */
  readonly deltas: UsageDelta[];
  /** How often a verifier said it has counts to flush. */
  pendingCalls: number;
}

export function busFleet(): BusFleet {
  const members = new Set<FleetMember>();
  const deltas: UsageDelta[] = [];
  const fleet: BusFleet = {
    name: 'bus',
    members,
    deltas,
    pendingCalls: 0,
    join(member) {
      members.add(member);
      return {
        usagePending: () => {
          fleet.pendingCalls++;
        },
        async leave() {
          deltas.push(...member.takeUsage());
          members.delete(member);
        },
      };
    },
    async announceRotation(secretId, options = {}) {
      for (const m of members) m.fence(secretId, options.ttlMs ?? 120_000);
    },
    async publishChange(secretId, options = {}) {
      await Promise.all([...members].map((m) => m.changed(secretId, options.versionId)));
    },
    async endRotation(secretId) {
      for (const m of members) m.fence(secretId, 0);
    },
    async usage(secretId): Promise<UsageSnapshot> {
      await fleet.flush();
      const byKey = new Map<string, { matches: number; last: number | undefined; d: UsageDelta }>();
      for (const d of deltas) {
        if (d.secretId !== secretId) continue;
        const cur = byKey.get(d.keyId);
        byKey.set(d.keyId, {
          matches: (cur?.matches ?? 0) + d.matches,
          last: Math.max(cur?.last ?? -Infinity, d.lastMatchedAt ?? -Infinity),
          d,
        });
      }
      return {
        version: 1,
        instances: [],
        since: 0,
        takenAt: Date.now(),
        keys: [...byKey.values()].map(({ matches, last, d }) => ({
          ...d,
          matches,
          lastMatchedAt: Number.isFinite(last) ? last : undefined,
        })),
      };
    },
    async flush() {
      for (const m of members) deltas.push(...m.takeUsage());
    },
    async close() {
      members.clear();
    },
  };
  return fleet;
}
