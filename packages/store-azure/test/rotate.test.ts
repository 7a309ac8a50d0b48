import { afterEach, describe, expect, it, vi } from 'vitest';
import { REPLACES_TAG, ROTATION_TOKEN_TAG } from '../src/index.ts';
import { DAY, fakeClock, HOUR, rejection, signal, useHarness } from './helpers.ts';

const clock = fakeClock();
const h = useHarness({ now: clock.now }, clock.now);
let n = 0;
const fresh = (label: string) => `${label}-${++n}`;
afterEach(() => h().vault.model.clearFaults()); // a fault a test did not consume never leaks into the next
const versionsOf = (name: string) => h().vault.model.secrets.get(name)?.versions ?? [];

describe('rotate()', () => {
  it("adds the new version (active at once) and sets the old one's expires to now + grace, as readers then see it", async () => {
    const name = fresh('rot');
    const old = h().vault.model.addVersion(name, 'whsec_old', { tags: { team: 'payments' }, contentType: 'text/plain' });
    const store = h().store();
    await store.getVersions(name, { signal: signal() });
    clock.advance(HOUR);
    const result = await store.rotate(name, 'whsec_new', { previousGraceMs: 2 * HOUR });
    const created = versionsOf(name)[1]!;
    expect(result).toEqual({
      activeId: created.version,
      previousId: old.version,
      previousNotAfter: clock.now() + 2 * HOUR,
      previousUnbounded: false,
      warnings: [],
    });
    expect(created.tags).toEqual({ team: 'payments', [REPLACES_TAG]: old.version });
    expect(created.contentType).toBe('text/plain');
    expect(old.exp).toBe((clock.now() + 2 * HOUR) / 1000);
    expect(await store.getVersions(name, { signal: signal() })).toEqual([
      { id: created.version, secret: 'whsec_new', role: 'active', notBefore: undefined, notAfter: undefined },
      { id: old.version, secret: 'whsec_old', role: 'previous', notBefore: undefined, notAfter: result.previousNotAfter },
    ]);
  });

  it('rotations within one second are ordered by the replaces tag, not by chance', async () => {
    const name = fresh('same-second');
    h().vault.model.addVersion(name, 's0');
    const store = h().store();
    let last = '';
    for (let i = 1; i <= 6; i++) {
      last = (await store.rotate(name, `s${i}`, { previousGraceMs: HOUR })).activeId;
      const versions = await store.getVersions(name, { signal: signal() });
      expect(versions[0]).toMatchObject({ id: last, secret: `s${i}`, role: 'active' });
      expect(versions[1]).toMatchObject({ secret: `s${i - 1}`, role: 'previous' });
    }
  });

  it('a retried call with the same idempotency token writes no second version and finishes the expiry', async () => {
    const name = fresh('retry');
    const old = h().vault.model.addVersion(name, 'a');
    const store = h().store();
    h().vault.model.injectFault({ op: 'updateSecret', status: 503 });
    const err = await rejection(store.rotate(name, 'b', { previousGraceMs: HOUR, idempotencyToken: 'dataspike-2026-11' }));
    expect(err).toMatchObject({ reason: 'UNAVAILABLE', retryable: true });
    expect(versionsOf(name)).toHaveLength(2);
    expect(old.exp).toBeUndefined(); // the first attempt left the old key without an end: nothing is rejected meanwhile
    const again = await store.rotate(name, 'b', { previousGraceMs: HOUR, idempotencyToken: 'dataspike-2026-11' });
    expect(versionsOf(name)).toHaveLength(2);
    expect(again).toMatchObject({
      activeId: versionsOf(name)[1]!.version,
      previousId: old.version,
      previousNotAfter: clock.now() + HOUR,
      previousUnbounded: false,
    });
    expect(versionsOf(name)[1]!.tags?.[ROTATION_TOKEN_TAG]).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(versionsOf(name)[1]!.tags)).not.toContain('dataspike-2026-11');
  });

  it('rotating to the value that is already active writes nothing', async () => {
    const name = fresh('same-value');
    const a = h().vault.model.addVersion(name, 'a', { created: clock.now() - 2000 });
    const b = h().vault.model.addVersion(name, 'b', { created: clock.now() - 1000 });
    const store = h().store();
    await store.getVersions(name, { signal: signal() });
    expect(await store.rotate(name, 'b')).toMatchObject({
      activeId: b.version,
      previousId: a.version,
      previousNotAfter: undefined,
      previousUnbounded: true,
    });
    expect(versionsOf(name)).toHaveLength(2);
  });

  it('previousGraceMs: Infinity sets no expires: the previous version has no window end (said in the result)', async () => {
    const name = fresh('forever');
    const old = h().vault.model.addVersion(name, 'a');
    const store = h().store();
    const result = await store.rotate(name, 'b', { previousGraceMs: Infinity });
    expect(result.previousNotAfter).toBeUndefined();
    expect(result.previousUnbounded).toBe(true);
    expect(result.warnings).toEqual([expect.stringContaining(`the previous version ${old.version} of ${name} has no expires`)]);
    expect(old.exp).toBeUndefined();
    clock.advance(365 * DAY);
    expect((await store.getVersions(name, { signal: signal() }))[1]).toMatchObject({
      id: old.version,
      role: 'previous',
      notAfter: undefined,
    });
  });

  it('never extends an expires the old version already had', async () => {
    const name = fresh('earlier');
    const old = h().vault.model.addVersion(name, 'a', { expires: clock.now() + 10 * 60_000 });
    const result = await h().store().rotate(name, 'b', { previousGraceMs: DAY });
    expect(result.previousNotAfter).toBe(clock.now() + 10 * 60_000);
    expect(old.exp).toBe((clock.now() + 10 * 60_000) / 1000);
  });

  it('creates a secret that does not exist yet (no previous); takes UTF-8 bytes; refuses other bytes and bad input', async () => {
    const name = fresh('new');
    const store = h().store();
    expect(await store.rotate(name, new TextEncoder().encode('whsec_bytes'))).toMatchObject({
      previousId: undefined,
      previousNotAfter: undefined,
      previousUnbounded: false,
      warnings: [],
    });
    expect(versionsOf(name)[0]!.value).toBe('whsec_bytes');
    await expect(store.rotate(name, new Uint8Array([0xff, 0xfe]))).rejects.toThrow(TypeError);
    await expect(store.rotate(name, '')).rejects.toThrow(TypeError);
    await expect(store.rotate(name, 'x', { previousGraceMs: -1 })).rejects.toThrow(TypeError);
    await expect(store.rotate(name, 'x', { idempotencyToken: '' })).rejects.toThrow(TypeError);
    expect(await rejection(store.rotate('bad/name', 'x'))).toMatchObject({ reason: 'INVALID_CONFIG' });
  });

  it('a soft-deleted name is a terminal CONFLICT (recover or purge it first)', async () => {
    const name = fresh('gone');
    h().vault.model.addVersion(name, 'a');
    h().vault.model.deleteSecret(name);
    const err = await rejection(h().store().rotate(name, 'b'));
    expect(err).toMatchObject({ reason: 'CONFLICT', retryable: false, status: 409, code: 'Conflict/ObjectIsDeletedButRecoverable' });
    expect(err.message).toContain('soft-deleted');
  });

  it('the write honours its abort signal', async () => {
    const name = fresh('abort-write');
    h().vault.model.addVersion(name, 'a');
    const store = h().store({ callTimeoutMs: 60_000 });
    await store.getVersions(name, { signal: signal() });
    h().vault.model.injectFault({ op: 'setSecret', hang: true });
    const c = new AbortController();
    const pending = rejection(store.rotate(name, 'b', { signal: c.signal }));
    await vi.waitFor(() => expect(h().vault.model.calls.some((x) => x.op === 'setSecret' && x.name === name && x.status === 0)).toBe(true));
    c.abort();
    expect(await pending).toMatchObject({ reason: 'ABORTED' });
  });
});

describe('retirePrevious()', () => {
  it('disables the newest previous version; the old key stops verifying at the next load', async () => {
    const name = fresh('retire');
    const store = h().store();
    const v1 = h().vault.model.addVersion(name, 'one');
    const r = await store.rotate(name, 'two', { previousGraceMs: HOUR });
    expect(await store.retirePrevious(name)).toEqual({ retiredId: v1.version });
    expect(v1.enabled).toBe(false);
    expect((await store.getVersions(name, { signal: signal() })).map((v) => v.id)).toEqual([r.activeId]);
    expect(await store.retirePrevious(name)).toEqual({ retiredId: undefined });
  });

  it('with keyId: retires only that previous version, is idempotent, and never touches the active one', async () => {
    const name = fresh('retire-id');
    const store = h().store();
    const v1 = h().vault.model.addVersion(name, 'one');
    const r = await store.rotate(name, 'two', { previousGraceMs: HOUR });
    expect(await rejection(store.retirePrevious(name, { keyId: r.activeId }))).toMatchObject({ reason: 'CONFLICT', retryable: false });
    expect(await rejection(store.retirePrevious(name, { keyId: '0123456789abcdef0123456789abcdef' }))).toMatchObject({
      reason: 'CONFLICT',
    });
    expect(await store.retirePrevious(name, { keyId: v1.version })).toEqual({ retiredId: v1.version });
    expect(await store.retirePrevious(name, { keyId: v1.version })).toEqual({ retiredId: v1.version });
    expect(versionsOf(name).map((v) => v.enabled)).toEqual([false, true]);
  });
});
