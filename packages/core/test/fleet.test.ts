/**
 * The verifier's side of a fleet, on one fake clock: rotation fences (503 instead of 401 for the
 * deliveries that race a store write, never an acceptance, at most one store call per 250 ms), reloads
 * from notices (only held secrets, serving the held keys meanwhile), the store's change check while the
 * refresh-on-miss cooldown runs, and the ledger queue the request path feeds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createVerifier,
  FENCE_RELOAD_MS,
  providers,
  SERVER_SIDE_STATUS,
  VERIFICATION_ERROR_CODES,
  VerificationError,
  type KeyStore,
  type KeyturnEvent,
  type SecretVersion,
} from '../src/index.ts';
import { busFleet } from './support/fleet.ts';
import { mac } from './support/stores.ts';

let clock = Date.UTC(2026, 10, 24, 12);
const now = () => clock;
async function advance(ms: number) {
  clock += ms;
  await vi.advanceTimersByTimeAsync(ms);
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const body = '{"eventId":"e1","eventType":"VEHICLE_STATE"}';
const req = (secret: string) => ({ body, headers: { 'sc-signature': mac(secret, body) } });
const OLD: SecretVersion[] = [{ id: 'v1', secret: 'token-old-0123456789abcdef', role: 'active' }];
const NEW: SecretVersion[] = [
  { id: 'v2', secret: 'token-new-0123456789abcdef', role: 'active' },
  { id: 'v1', secret: 'token-old-0123456789abcdef', role: 'previous' },
];

/** A store whose content the test switches (the "store write"), counting calls, answering after `latencyMs`. */
function switchable(latencyMs = 5) {
  const state = { versions: OLD, calls: 0, changed: false, checks: 0 };
  const store: KeyStore & { hasChanged?: KeyStore['hasChanged'] } = {
    name: 'switchable',
    getVersions() {
      state.calls++;
      state.changed = false;
      const snapshot = state.versions.map((v) => ({ ...v }));
      return new Promise((resolve) => setTimeout(() => resolve(snapshot), latencyMs));
    },
  };
  return { store, state };
}

function make(store: KeyStore, events: KeyturnEvent[] = [], extra: Record<string, unknown> = {}) {
  return createVerifier({
    provider: providers.smartcar(),
    keys: store,
    secretId: 'sc',
    now,
    cache: { ttlMs: 300_000, refreshCooldownMs: 30_000, loadTimeoutMs: 3_000, jitter: 0 },
    onEvent: (e) => events.push(e),
    ...extra,
  });
}

async function settle<T>(p: Promise<T>): Promise<T> {
  const done = p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  await advance(FENCE_RELOAD_MS + 50);
  const r = await done;
  if (r.ok) return r.v;
  throw r.e;
}

describe('KEY_ROTATION_IN_PROGRESS', () => {
  it('is a server-side code: 503, so the sender retries', () => {
    expect(VERIFICATION_ERROR_CODES).toContain('KEY_ROTATION_IN_PROGRESS');
    expect(SERVER_SIDE_STATUS['KEY_ROTATION_IN_PROGRESS']).toBe(503);
    expect(new VerificationError('KEY_ROTATION_IN_PROGRESS', 'x').status).toBe(503);
  });
});

describe('rotation fence', () => {
  it('a delivery signed with the new key before the store write is answered 503, and accepted once the write lands', async () => {
    const { store, state } = switchable();
    const events: KeyturnEvent[] = [];
    const v = make(store, events);
    await settle(v.warm());
    v.fence('sc', 120_000);
    expect(events.some((e) => e.type === 'rotation-fence' && e.state === 'started')).toBe(true);

    // The sender switched at once; the store write has not landed.
    const early = await settle(v.safeVerify(req('token-new-0123456789abcdef')));
    expect(early.ok).toBe(false);
    expect(!early.ok && early.error).toMatchObject({ code: 'KEY_ROTATION_IN_PROGRESS', status: 503 });
    expect(state.calls).toBe(2); // the cold load + one immediate reload (not the 30 s cooldown)

    // The write lands; the sender's retry a second later is accepted.
    state.versions = NEW;
    await advance(1_000);
    const retry = await settle(v.verify(req('token-new-0123456789abcdef')));
    expect(retry).toMatchObject({ keyId: 'v2', keyRole: 'active' });
    await v.dispose();
  });

  it('never turns a forgery into an acceptance: 503 while it stands, 401 after', async () => {
    const { store } = switchable();
    const v = make(store);
    await settle(v.warm());
    v.fence('sc', 10_000);
    const during = await settle(v.safeVerify(req('forged-forged-forged-forged')));
    expect(!during.ok && during.error.code).toBe('KEY_ROTATION_IN_PROGRESS');
    expect(() => v.verifySync(req('forged-forged-forged-forged'))).toThrow(expect.objectContaining({ code: 'KEY_ROTATION_IN_PROGRESS' }));
    await advance(10_001); // the fence's TTL runs out
    const after = await settle(v.safeVerify(req('forged-forged-forged-forged')));
    expect(!after.ok && after.error).toMatchObject({ code: 'NO_MATCHING_KEY', status: 401 });
    await v.dispose();
  });

  it('a flood of forgeries during a fence costs at most one store call per 250 ms', async () => {
    const { store, state } = switchable(20);
    const v = make(store);
    await settle(v.warm());
    const before = state.calls;
    v.fence('sc', 120_000);
    const results: Promise<unknown>[] = [];
    // 2 s of forged requests, 50 every 10 ms.
    for (let t = 0; t < 2_000; t += 10) {
      for (let i = 0; i < 50; i++) results.push(v.verify(req(`forged-${t}-${i}-xxxxxxxxxxxxxx`)).catch((e: unknown) => e));
      await advance(10);
    }
    await advance(1_000);
    const codes = new Set(((await Promise.all(results)) as VerificationError[]).map((e) => e.code));
    expect([...codes]).toEqual(['KEY_ROTATION_IN_PROGRESS']);
    const calls = state.calls - before;
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThanOrEqual(Math.ceil(3_000 / FENCE_RELOAD_MS) + 1);
    await v.dispose();
  });

  it('outside a fence nothing changes: a flood of forgeries costs one store call per cooldown', async () => {
    const { store, state } = switchable(20);
    const v = make(store);
    await settle(v.warm());
    await advance(31_000); // past the cooldown that the load itself started
    const before = state.calls;
    const results: Promise<unknown>[] = [];
    for (let t = 0; t < 2_000; t += 10) {
      for (let i = 0; i < 20; i++) results.push(v.verify(req(`forged-${t}-${i}-xxxxxxxxxxxxxx`)).catch((e: unknown) => e));
      await advance(10);
    }
    await advance(1_000);
    const codes = new Set(((await Promise.all(results)) as VerificationError[]).map((e) => e.code));
    expect([...codes]).toEqual(['NO_MATCHING_KEY']);
    expect(state.calls - before).toBe(1);
    await v.dispose();
  });

  it('does not touch valid deliveries: no store call, no wait', async () => {
    const { store, state } = switchable();
    const v = make(store);
    await settle(v.warm());
    v.fence('sc', 120_000);
    const calls = state.calls;
    for (let i = 0; i < 100; i++) expect(v.verifySync(req('token-old-0123456789abcdef')).keyId).toBe('v1');
    // Settles without advancing a timer: nothing waits on the store.
    await expect(v.verify(req('token-old-0123456789abcdef'))).resolves.toMatchObject({ keyId: 'v1' });
    expect(state.calls).toBe(calls);
    await v.dispose();
  });

  it('ends with reload() (the store write landed) and with fence(id, 0)', async () => {
    const { store, state } = switchable();
    const events: KeyturnEvent[] = [];
    const v = make(store, events);
    await settle(v.warm());
    v.fence('sc', 120_000);
    state.versions = NEW;
    await settle(v.reload('sc'));
    expect(events.filter((e) => e.type === 'rotation-fence').map((e) => (e as { state: string }).state)).toEqual(['started', 'ended']);
    expect(v.status('sc').versions.map((k) => k.id)).toEqual(['v2', 'v1']);
    const forged = await settle(v.safeVerify(req('forged-forged-forged-forged')));
    expect(!forged.ok && forged.error.code).toBe('NO_MATCHING_KEY');
    v.fence('sc', 1_000);
    v.fence('sc', 0);
    expect(events.filter((e) => e.type === 'rotation-fence').map((e) => (e as { state: string }).state)).toEqual([
      'started',
      'ended',
      'started',
      'ended',
    ]);
    expect(() => v.fence('sc', Number.NaN)).toThrow(TypeError);
    expect(() => v.fence('sc', 3_600_001)).toThrow(TypeError);
    await v.dispose();
  });
});

describe('reload and notices', () => {
  it('reload() keeps verifying with the held keys while the store answers, then uses the new set', async () => {
    const { store, state } = switchable(500);
    const v = make(store);
    const warming = v.warm();
    await advance(600);
    await warming;
    state.versions = NEW;
    const reloading = v.reload('sc');
    // Meanwhile: the old key verifies without waiting.
    expect(v.verifySync(req('token-old-0123456789abcdef')).keyId).toBe('v1');
    await advance(600);
    await reloading;
    expect(v.verifySync(req('token-new-0123456789abcdef')).keyId).toBe('v2');
    await v.dispose();
  });

  it('a notice about a secret the verifier does not hold loads nothing (no cold load, nothing cached)', async () => {
    const { store, state } = switchable();
    const fleet = busFleet();
    const events: KeyturnEvent[] = [];
    const v = make(store, events, { fleet });
    await settle(v.warm());
    const calls = state.calls;
    await settle(fleet.publishChange('made-up-tenant'));
    expect(state.calls).toBe(calls);
    expect(v.secretIds()).toEqual(['sc']);
    expect(events.find((e) => e.type === 'fleet-notice')).toMatchObject({ notice: 'key-changed', secretId: 'made-up-tenant', held: false });
    await v.dispose();
  });

  it('a flood of notices costs at most one store call per 250 ms, and the last notice is always followed by a load', async () => {
    const { store, state } = switchable(5);
    const fleet = busFleet();
    const v = make(store, [], { fleet });
    await settle(v.warm());
    const before = state.calls;
    const pending: Promise<void>[] = [];
    for (let t = 0; t < 1_000; t += 10) {
      pending.push(fleet.publishChange('sc'));
      await advance(10);
    }
    state.versions = NEW;
    pending.push(fleet.publishChange('sc', { versionId: 'v2' }));
    await advance(2_000);
    await Promise.all(pending);
    expect(state.calls - before).toBeLessThanOrEqual(Math.ceil(1_250 / FENCE_RELOAD_MS) + 1);
    expect(v.verifySync(req('token-new-0123456789abcdef')).keyId).toBe('v2');
    await v.dispose();
  });

  it('a notice whose version the store does not show yet (eventual consistency) is retried', async () => {
    const { store, state } = switchable();
    const fleet = busFleet();
    const v = make(store, [], { fleet });
    await settle(v.warm());
    const before = state.calls;
    const notice = fleet.publishChange('sc', { versionId: 'v2' });
    await advance(20); // the first reload (at once) still sees the old set
    state.versions = NEW;
    await advance(3 * FENCE_RELOAD_MS);
    await notice;
    expect(state.calls - before).toBe(2);
    expect(v.verifySync(req('token-new-0123456789abcdef')).keyId).toBe('v2');
    await v.dispose();
  });

  it('a fleet fence reaches every joined verifier, and its key-change notice ends it', async () => {
    const a = switchable();
    const b = switchable();
    const fleet = busFleet();
    const va = make(a.store, [], { fleet });
    const vb = make(b.store, [], { fleet });
    await settle(Promise.all([va.warm(), vb.warm()]));
    await fleet.announceRotation('sc', { ttlMs: 60_000 });
    for (const v of [va, vb]) {
      const r = await settle(v.safeVerify(req('token-new-0123456789abcdef')));
      expect(!r.ok && r.error.code).toBe('KEY_ROTATION_IN_PROGRESS');
    }
    a.state.versions = NEW;
    b.state.versions = NEW;
    await settle(fleet.publishChange('sc', { versionId: 'v2' }));
    for (const v of [va, vb]) {
      expect(v.verifySync(req('token-new-0123456789abcdef')).keyId).toBe('v2');
      expect(() => v.verifySync(req('forged-forged-forged-forged'))).toThrow(expect.objectContaining({ code: 'NO_MATCHING_KEY' }));
    }
    await va.dispose();
    await vb.dispose();
  });

  it('resync re-validates every held secret: one load each', async () => {
    const { store, state } = switchable();
    const fleet = busFleet();
    const v = createVerifier({
      provider: providers.smartcar(),
      keys: store,
      secretId: (r) => String((r.headers as Record<string, string>)['x-t']),
      now,
      fleet,
    });
    await settle(Promise.all([v.warm('t1'), v.warm('t2'), v.warm('t3')]));
    const before = state.calls;
    const [member] = [...fleet.members];
    await settle(member!.resync());
    expect(state.calls - before).toBe(3);
    await v.dispose();
  });
});

describe('the store change check (hasChanged) while cooling down', () => {
  it('a write by another process is seen on the next delivery, not after the 30 s cooldown', async () => {
    const { store, state } = switchable();
    let checks = 0;
    store.hasChanged = () => {
      checks++;
      return state.versions !== OLD;
    };
    const events: KeyturnEvent[] = [];
    const v = make(store, events);
    await settle(v.warm());
    // Forged deliveries right after the load (the cooldown runs): one change check each, no store call.
    await settle(v.safeVerify(req('forged-forged-forged-forged')));
    await settle(v.safeVerify(req('forged-forged-forged-forged')));
    const calls = state.calls;
    expect(calls).toBe(1);
    expect(checks).toBe(2);
    // Another process rotates; the sender switches.
    state.versions = NEW;
    const r = await settle(v.verify(req('token-new-0123456789abcdef')));
    expect(r.keyId).toBe('v2');
    expect(state.calls).toBe(calls + 1);
    expect(events.filter((e) => e.type === 'load-start').map((e) => (e as { reason: string }).reason)).toContain('changed');
    await v.dispose();
  });

  it('an unchanged store is not reloaded (one cheap check per miss)', async () => {
    const { store, state } = switchable();
    let checks = 0;
    store.hasChanged = async () => {
      checks++;
      return false;
    };
    const v = make(store);
    await settle(v.warm());
    const calls = state.calls;
    for (let i = 0; i < 10; i++) await settle(v.safeVerify(req('forged-forged-forged-forged')));
    expect(state.calls).toBe(calls);
    expect(checks).toBe(10);
    await v.dispose();
  });
});

describe('the ledger queue', () => {
  it('hands every count out exactly once, queues a key on its first match after a take, and reports loads', async () => {
    const { store, state } = switchable();
    const fleet = busFleet();
    const v = make(store, [], { fleet });
    await settle(v.warm());
    const [member] = [...fleet.members];
    // The load reported the key (0 matches) so the ledger knows it exists.
    expect(member!.takeUsage()).toEqual([expect.objectContaining({ keyId: 'v1', keyRole: 'active', matches: 0 })]);
    expect(fleet.pendingCalls).toBe(1);
    for (let i = 0; i < 5; i++) v.verifySync(req('token-old-0123456789abcdef'));
    expect(fleet.pendingCalls).toBe(2); // once per flush cycle, not per request
    const d = member!.takeUsage();
    expect(d).toEqual([expect.objectContaining({ keyId: 'v1', matches: 5, lastMatchedAt: clock })]);
    expect(member!.takeUsage()).toEqual([]);
    // A reload reports the new roles (v1 became previous) even before anything matches.
    state.versions = NEW;
    await settle(v.reload('sc'));
    const roles = Object.fromEntries(member!.takeUsage().map((x) => [x.keyId, [x.keyRole, x.matches]]));
    expect(roles).toEqual({ v2: ['active', 0], v1: ['previous', 0] });
    // usage() is unchanged in shape.
    expect(Object.keys(v.usage()[0]!).sort()).toEqual([
      'keyId',
      'keyRole',
      'lastMatchedAt',
      'lastSeenAt',
      'matches',
      'notAfter',
      'notBefore',
      'secretId',
    ]);
    await v.dispose();
  });

  it('dispose() hands the last counts to the fleet', async () => {
    const { store } = switchable();
    const fleet = busFleet();
    const v = make(store, [], { fleet });
    await settle(v.warm());
    await fleet.flush();
    v.verifySync(req('token-old-0123456789abcdef'));
    await v.dispose();
    expect(fleet.deltas.at(-1)).toMatchObject({ keyId: 'v1', matches: 1 });
    expect(fleet.members.size).toBe(0);
  });

  it('refuses a fleet that is not one', () => {
    expect(() => make(switchable().store, [], { fleet: {} })).toThrow(TypeError);
    expect(() => make(switchable().store, [], { fleet: { join: () => null } })).toThrow(TypeError);
  });
});
