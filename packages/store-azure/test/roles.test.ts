import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignRoles, REPLACES_TAG, type VersionInfo } from '../src/index.ts';
import vectors from './vectors/roles.json' with { type: 'json' };

const NOW = Date.UTC(2026, 10, 24, 9);
const LEEWAY = 5_000;
const at = (s: number | null | undefined) => (s === null || s === undefined ? undefined : NOW + s * 1000);

interface VectorVersion {
  v: string;
  created?: number;
  nbf?: number;
  exp?: number;
  enabled?: boolean;
  replaces?: string;
}
interface Vector {
  name: string;
  versions: VectorVersion[];
  expect: {
    active?: string;
    pending?: (string | number | null)[][];
    previous?: (string | number | null)[][];
    problem?: string;
    nextStart?: number;
  };
}

const toInfo = (x: VectorVersion): VersionInfo => ({
  version: x.v,
  enabled: x.enabled ?? true,
  createdOn: at(x.created),
  notBefore: at(x.nbf),
  expires: at(x.exp),
  tags: x.replaces === undefined ? undefined : { [REPLACES_TAG]: x.replaces },
});

describe('Key Vault versions → roles (test/vectors/roles.json)', () => {
  it.each((vectors.cases as Vector[]).map((c) => [c.name, c] as const))('%s', (_, c) => {
    const roles = assignRoles(c.versions.map(toInfo), NOW, LEEWAY);
    if (c.expect.problem !== undefined) {
      expect(roles.active).toBeUndefined();
      expect(roles.problem).toBe(c.expect.problem);
      if (c.expect.nextStart !== undefined) expect(roles.nextStart).toBe(at(c.expect.nextStart));
      return;
    }
    expect(roles.problem).toBeUndefined();
    expect(roles.active?.version).toBe(c.expect.active);
    expect(roles.previous.map((p) => [p.version, p.notAfter])).toEqual(
      (c.expect.previous ?? []).map(([v, end]) => [v, at(end as number | null)]),
    );
    expect(roles.pending.map((p) => [p.version, p.notAfter, p.notBefore])).toEqual(
      (c.expect.pending ?? []).map(([v, end, start]) => [v, at(end as number | null), at(start as number | null)]),
    );
  });
});

describe('role invariants (property-based)', () => {
  const version = fc.record({
    v: fc.stringMatching(/^[0-9a-f]{4}$/),
    created: fc.integer({ min: -100_000, max: 0 }),
    nbf: fc.option(fc.integer({ min: -100_000, max: 100_000 }), { nil: undefined }),
    exp: fc.option(fc.integer({ min: -100_000, max: 100_000 }), { nil: undefined }),
    enabled: fc.boolean(),
  });
  it('one active at most, inside its window; nothing disabled; ids unique; previous older than active', () => {
    fc.assert(
      fc.property(fc.uniqueArray(version, { selector: (x) => x.v, maxLength: 12 }), (vs) => {
        const infos = vs.map(toInfo);
        const roles = assignRoles(infos, NOW, LEEWAY);
        const all = [roles.active, ...roles.pending, ...roles.previous].filter((r) => r !== undefined);
        expect(new Set(all.map((r) => r.version)).size).toBe(all.length);
        const byId = new Map(infos.map((i) => [i.version, i]));
        for (const r of all) expect(byId.get(r.version)?.enabled).toBe(true);
        if (roles.active === undefined) {
          expect(infos.some((i) => i.enabled && (i.notBefore ?? -Infinity) <= NOW + LEEWAY && (i.expires ?? Infinity) > NOW - LEEWAY)).toBe(
            false,
          );
          return;
        }
        const a = byId.get(roles.active.version) as VersionInfo;
        expect((a.notBefore ?? -Infinity) <= NOW + LEEWAY && (a.expires ?? Infinity) > NOW - LEEWAY).toBe(true);
        for (const p of roles.previous) expect((byId.get(p.version)?.createdOn ?? 0) <= (a.createdOn ?? 0)).toBe(true);
        for (const p of roles.pending) expect((byId.get(p.version)?.notBefore ?? 0) > NOW + LEEWAY).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
