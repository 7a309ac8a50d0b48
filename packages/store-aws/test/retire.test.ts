/**
 * `retirePrevious()`: the previous label comes off the previous version through the store's own
 * client, deadlines and error mapping — the store's label names, and the key-set format (the key leaves
 * the document) — never the active version, and a `keyId` that is no longer previous is a CONFLICT.
 */
import { describe, expect, it } from 'vitest';
import type { SecretsManagerServer } from '../src/testing/index.ts';
import { rejection, signal, useSecretsManagerServer } from './helpers.ts';

let server: SecretsManagerServer;
const clock = Date.UTC(2026, 10, 1);
const { fresh, makeStore } = useSecretsManagerServer('retire-test', { now: () => clock, started: (s) => (server = s) });
const ids = async (store: ReturnType<typeof makeStore>, id: string) =>
  (await store.getVersions(id, { signal: signal() })).map((v) => `${v.role}:${v.id}`);

describe('retirePrevious (raw format)', () => {
  it('removes AWSPREVIOUS from the previous version; the active key keeps verifying; a second call finds nothing', async () => {
    const id = fresh();
    const { versionId: v1 } = server.createSecret(id, 'one');
    const v2 = server.putSecretValue(id, 'two');
    const store = makeStore();
    expect(await ids(store, id)).toEqual([`active:${v2}`, `previous:${v1}`]);
    expect(await store.retirePrevious(id, { keyId: v1 })).toEqual({ retiredId: v1 });
    expect(server.stages(id)).toEqual({ [v2]: ['AWSCURRENT'] });
    expect(await ids(store, id)).toEqual([`active:${v2}`]);
    expect(await store.retirePrevious(id)).toEqual({ retiredId: undefined });
    // A retried call with the same keyId (the first one went through) reports it again.
    expect(await store.retirePrevious(id, { keyId: v1 })).toEqual({ retiredId: v1 });
  });

  it('refuses the active version and a keyId that is no longer the previous one (CONFLICT, nothing changed)', async () => {
    const id = fresh();
    const { versionId: v1 } = server.createSecret(id, 'one');
    const v2 = server.putSecretValue(id, 'two');
    const v3 = server.putSecretValue(id, 'three');
    const store = makeStore();
    for (const keyId of [v3, v1]) {
      const err = await rejection(store.retirePrevious(id, { keyId }));
      expect([err.reason, err.retryable]).toEqual(['CONFLICT', false]);
    }
    expect(server.stages(id)).toEqual({ [v3]: ['AWSCURRENT'], [v2]: ['AWSPREVIOUS'] });
  });

  it("uses the store's own label names", async () => {
    const id = fresh();
    server.createSecret(id);
    const v1 = server.putSecretValue(id, 'one', { stages: ['LIVE'] });
    const store = makeStore({ labels: { active: 'LIVE', previous: 'OLD', pending: 'NEXT' } });
    const { activeId: v2 } = await store.rotate(id, 'two');
    expect(await ids(store, id)).toEqual([`active:${v2}`, `previous:${v1}`]);
    expect(await store.retirePrevious(id)).toEqual({ retiredId: v1 });
    expect(server.stages(id)[v1] ?? []).not.toContain('OLD');
    expect(await ids(store, id)).toEqual([`active:${v2}`]);
  });

  it("maps service errors like every other call (the store's deadline and error table)", async () => {
    const id = fresh();
    server.createSecret(id, 'one');
    server.putSecretValue(id, 'two');
    server.inject({ kind: 'error', type: 'AccessDeniedException' }, { operation: 'UpdateSecretVersionStage' });
    const err = await rejection(makeStore().retirePrevious(id));
    expect([err.reason, err.code, err.retryable]).toEqual(['ACCESS_DENIED', 'AccessDeniedException', false]);
  });
});

describe('retirePrevious (key-set format)', () => {
  it('drops the previous key from the document and the previous label from the replaced version', async () => {
    const id = fresh();
    const doc = JSON.stringify({ keys: [{ id: 'k1', secret: 'one', role: 'active' }] });
    server.createSecret(id, doc);
    const store = makeStore({ format: 'keyset' });
    await store.rotate(id, 'two', { previousGraceMs: 3_600_000 });
    const before = await ids(store, id);
    expect(before).toContain('previous:k1');
    const newId = before[0]!.slice('active:'.length);
    expect(await store.retirePrevious(id, { keyId: 'k1' })).toEqual({ retiredId: 'k1' });
    expect(await ids(store, id)).toEqual([`active:${newId}`]);
    expect(Object.values(server.stages(id)).flat()).not.toContain('AWSPREVIOUS');
    const err = await rejection(store.retirePrevious(id, { keyId: newId }));
    expect(err.reason).toBe('CONFLICT');
  });
});
