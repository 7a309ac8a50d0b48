import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AWS_PREVIOUS_GRACE_TAG } from '../src/index.ts';
import type { SecretsManagerServer } from '../src/testing/index.ts';
import { rejection, signal, useSecretsManagerServer, view } from './helpers.ts';

const DAY = 86_400_000;
let server: SecretsManagerServer;
let clock = Date.UTC(2026, 10, 1);
const { fresh, makeStore } = useSecretsManagerServer('formats-test', {
  now: () => clock,
  storeDefaults: { now: () => clock },
  started: (s) => (server = s),
});

describe('formats', () => {
  it("'raw': SecretString as a string, SecretBinary as bytes, whsec_ left alone", async () => {
    const id = fresh();
    server.createSecret(id, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const bytes = new Uint8Array([0xff, 0x00, 0x10, 0x20]);
    server.putSecretValue(id, bytes);
    const versions = await makeStore().getVersions(id, { signal: signal() });
    expect(versions[0]?.secret).toEqual(bytes);
    expect(versions[0]?.secret).toBeInstanceOf(Uint8Array);
    expect(versions[1]?.secret).toBe('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  });

  it('{ jsonField }: one field of a JSON document, also by path', async () => {
    const id = fresh();
    server.createSecret(id, JSON.stringify({ token: 'amt-1', other: 'x' }));
    server.putSecretValue(id, JSON.stringify({ token: 'amt-2', smartcar: { amt: 'nested-2' } }));
    expect((await makeStore({ format: { jsonField: 'token' } }).getVersions(id, { signal: signal() })).map((v) => v.secret)).toEqual([
      'amt-2',
      'amt-1',
    ]);
    const nested = await rejection(makeStore({ format: { jsonField: ['smartcar', 'amt'] } }).getVersions(id, { signal: signal() }));
    // The previous version has no smartcar.amt: the whole load fails, clearly and without the value.
    expect([nested.retryable, nested.reason]).toEqual([false, 'INVALID_FORMAT']);
    expect(nested.message).toContain('smartcar.amt');
    expect(nested.message).not.toContain('amt-1');
  });

  it('JSON formats fail clearly on SecretBinary and on invalid JSON, never quoting the value', async () => {
    const id = fresh();
    server.createSecret(id, 'not-json-sk-live-123');
    const err = await rejection(makeStore({ format: { jsonField: 'token' } }).getVersions(id, { signal: signal() }));
    expect([err.retryable, err.reason]).toEqual([false, 'INVALID_FORMAT']);
    expect(inspect(err, { depth: 5 }) + JSON.stringify(err)).not.toContain('sk-live-123');
    const bin = fresh();
    server.createSecret(bin, new Uint8Array([1, 2, 3]));
    const binErr = await rejection(makeStore({ format: 'keyset' }).getVersions(bin, { signal: signal() }));
    expect(binErr.message).toMatch(/SecretBinary/);
  });

  it("'keyset': several keys with ids, roles and windows in one version", async () => {
    const id = fresh();
    const current = server.createSecret(
      id,
      JSON.stringify({
        keys: [
          { id: 'amt-2026-11', secret: 'amt-new', role: 'active', notBefore: '2026-11-01T00:00:00Z' },
          { id: 'amt-2026-05', secret: 'amt-old', role: 'previous', notAfter: Date.UTC(2026, 10, 8) },
          { id: 'amt-next', secret: 'amt-next', role: 'pending' },
        ],
      }),
    ).versionId!;
    const versions = await makeStore({ format: 'keyset' }).getVersions(id, { signal: signal() });
    expect(view(versions)).toEqual([
      { id: 'amt-2026-11', role: 'active', secret: 'amt-new', notBefore: Date.UTC(2026, 10, 1), notAfter: undefined },
      { id: 'amt-next', role: 'pending', secret: 'amt-next', notBefore: undefined, notAfter: undefined },
      { id: 'amt-2026-05', role: 'previous', secret: 'amt-old', notBefore: undefined, notAfter: Date.UTC(2026, 10, 8) },
    ]);
    expect(versions.every((v) => !v.id.includes(current) || v.id === current)).toBe(true);
  });

  it("'keyset' across AWSCURRENT and AWSPREVIOUS: keys from the previous version are at most previous, deduped, windowed", async () => {
    const id = fresh();
    const old = server.createSecret(
      id,
      JSON.stringify({
        keys: [
          { id: 'k1', secret: 's1' },
          { id: 'k0', secret: 's0' },
        ],
      }),
    ).versionId!;
    clock += 1_000;
    const createdCurrent = clock;
    server.putSecretValue(
      id,
      JSON.stringify({
        keys: [
          { id: 'k2', secret: 's2' },
          { id: 'k1', secret: 's1', role: 'previous' },
          { id: 'k0', secret: 'other' },
        ],
      }),
    );
    const versions = await makeStore({ format: 'keyset', previousGraceMs: DAY }).getVersions(id, { signal: signal() });
    expect(versions.map((v) => [v.id, v.role, v.secret, v.notAfter])).toEqual([
      ['k2', 'active', 's2', undefined],
      ['k0', 'active', 'other', undefined],
      ['k1', 'previous', 's1', undefined], // the current document's own (window-less) entry wins
      [`${old}:k0`, 'previous', 's0', createdCurrent + DAY], // same id, other secret: qualified by VersionId
    ]);
  });

  it("'keyset' rejects malformed documents with a clear reason", async () => {
    const docs = [
      '{"keys":[]}',
      '{"keys":[{"id":"a","secret":""}]}',
      '{"keys":[{"id":"a","secret":"x"},{"id":"a","secret":"y"}]}',
      '{"keys":[{"id":"a","secret":"x","role":"primary"}]}',
      '{"keys":[{"id":"a","secret":"x","notAfter":"tomorrow"}]}',
      '{"keys":[{"id":"a","secret":"x","notBefore":20,"notAfter":10}]}',
      '{"nokeys":true}',
    ];
    for (const doc of docs) {
      const id = fresh();
      server.createSecret(id, doc);
      const err = await rejection(makeStore({ format: 'keyset' }).getVersions(id, { signal: signal() }));
      expect([err.retryable, err.reason], doc).toEqual([false, 'INVALID_FORMAT']);
    }
  });
});

describe('rotate', () => {
  it('puts a new AWSCURRENT; the old one becomes previous with the window readers compute', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'amt-1').versionId!;
    clock += 60_000;
    const store = makeStore({ previousGraceMs: 3 * DAY });
    const result = await store.rotate(id, 'amt-2');
    expect(result.previousId).toBe(v1);
    expect(result.previousNotAfter).toBe(clock + 3 * DAY);
    expect(server.stages(id)).toEqual({ [v1]: ['AWSPREVIOUS'], [result.activeId]: ['AWSCURRENT'] });
    const put = server.calls.filter((c) => c.operation === 'PutSecretValue').at(-1)!;
    expect(put.input['ClientRequestToken']).toBe(result.activeId);
    const versions = await store.getVersions(id, { signal: signal() });
    expect(versions.map((v) => [v.id, v.role, v.secret, v.notAfter])).toEqual([
      [result.activeId, 'active', 'amt-2', undefined],
      [v1, 'previous', 'amt-1', result.previousNotAfter],
    ]);
  });

  it('a per-call previousGraceMs is what every reader enforces, whatever their own previousGraceMs', async () => {
    const HOUR = 3_600_000;
    const id = fresh();
    const v1 = server.createSecret(id, 'amt-1').versionId!;
    clock += 60_000;
    const writer = makeStore(); // store grace: the 24 h default
    const result = await writer.rotate(id, 'amt-2', { previousGraceMs: HOUR });
    const created = server.model.find(id).versions.get(result.activeId)!.createdDate;
    expect(result.previousNotAfter).toBe(created + HOUR);
    // The same store, a store with another grace and one with an open-ended grace all agree.
    for (const reader of [writer, makeStore({ previousGraceMs: 7 * DAY }), makeStore({ previousGraceMs: Infinity })]) {
      const previous = (await reader.getVersions(id, { signal: signal() })).find((v) => v.role === 'previous');
      expect([previous?.id, previous?.notAfter]).toEqual([v1, result.previousNotAfter]);
    }
    expect(server.model.find(id).tags.get(AWS_PREVIOUS_GRACE_TAG)).toBe(`${result.activeId}=${HOUR}`);
    // The tag is written before the version, so PutSecretValue runs with it already in place.
    const ops = server.calls.map((c) => c.operation);
    expect(ops.lastIndexOf('TagResource')).toBeLessThan(ops.lastIndexOf('PutSecretValue'));
    // A retry reports the recorded window, even if it asks for another grace.
    const again = await writer.rotate(id, 'amt-2', { idempotencyToken: result.activeId, previousGraceMs: 5 * HOUR });
    expect(again).toEqual(result);
  });

  it('a rotation whose write fails leaves the current window alone; the next one keeps only two tag entries', async () => {
    const HOUR = 3_600_000;
    const id = fresh();
    server.createSecret(id, 'amt-1');
    const store = makeStore();
    const first = await store.rotate(id, 'amt-2', { previousGraceMs: HOUR });
    clock += 60_000;
    server.inject({ kind: 'error', type: 'InternalServiceError', status: 500 }, { operation: 'PutSecretValue' });
    await rejection(store.rotate(id, 'amt-3', { previousGraceMs: 2 * HOUR }));
    const previous = (await makeStore().getVersions(id, { signal: signal() })).find((v) => v.role === 'previous');
    expect(previous?.notAfter).toBe(first.previousNotAfter);
    const second = await store.rotate(id, 'amt-3', { previousGraceMs: 2 * HOUR });
    expect(second.previousId).toBe(first.activeId);
    expect(second.previousNotAfter).toBe(clock + 2 * HOUR);
    expect(server.model.find(id).tags.get(AWS_PREVIOUS_GRACE_TAG)).toBe(`${second.activeId}=${2 * HOUR} ${first.activeId}=${HOUR}`);
    const versions = await makeStore({ previousGraceMs: 0 }).getVersions(id, { signal: signal() });
    expect(versions.map((v) => [v.secret, v.role, v.notAfter])).toEqual([
      ['amt-3', 'active', undefined],
      ['amt-2', 'previous', second.previousNotAfter],
    ]);
  });

  it("versions made current by something else (a rotation Lambda) get the reader's previousGraceMs", async () => {
    const id = fresh();
    server.createSecret(id, 'amt-1');
    await makeStore().rotate(id, 'amt-2', { previousGraceMs: 1_000 });
    clock += 60_000;
    server.putSecretValue(id, 'amt-3'); // not through rotate(): no tag entry names it
    const previous = (await makeStore({ previousGraceMs: 3 * DAY }).getVersions(id, { signal: signal() })).find(
      (v) => v.role === 'previous',
    );
    expect([previous?.secret, previous?.notAfter]).toEqual(['amt-2', clock + 3 * DAY]);
  });

  it('{ jsonField } rotation records its window like raw', async () => {
    const id = fresh();
    server.createSecret(id, JSON.stringify({ token: 'amt-1' }));
    const result = await makeStore({ format: { jsonField: 'token' } }).rotate(id, 'amt-2', { previousGraceMs: 90_000 });
    expect(result.previousNotAfter).toBe(clock + 90_000);
    const previous = (await makeStore({ format: { jsonField: 'token' } }).getVersions(id, { signal: signal() })).find(
      (v) => v.role === 'previous',
    );
    expect(previous?.notAfter).toBe(result.previousNotAfter);
  });

  it('a retried rotate() with the same idempotencyToken never creates a second version', async () => {
    const id = fresh();
    server.createSecret(id, 'amt-1');
    const store = makeStore();
    const a = await store.rotate(id, 'amt-2', { idempotencyToken: 'rotation-2026-11-24' });
    const b = await store.rotate(id, 'amt-2', { idempotencyToken: 'rotation-2026-11-24' });
    expect(b).toEqual(a);
    expect(server.model.find(id).versions.size).toBe(2);
    expect(a.activeId).toMatch(/^[0-9a-f]{64}$/); // a free-form token is hashed into AWS's token shape
  });

  it('a reused idempotencyToken after a rollback: AWS ignores the repeated put, so rotate() reports the truth (CONFLICT) instead of success', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'amt-1').versionId!;
    const store = makeStore();
    const token = 'rotation-2026-11-rollback';
    const first = await store.rotate(id, 'amt-2', { idempotencyToken: token });
    // An operator rolls back: AWSCURRENT returns to v1, AWSPREVIOUS lands on the rotated version.
    server.updateSecretVersionStage(id, 'AWSCURRENT', { moveTo: v1, removeFrom: first.activeId });
    const err = await rejection(store.rotate(id, 'amt-2', { idempotencyToken: token }));
    expect(err).toMatchObject({ reason: 'CONFLICT', retryable: false, store: 'aws-secrets-manager', secretId: id });
    expect(err.message).toContain(`AWSCURRENT is on version ${v1}, not on ${first.activeId}`);
    expect(err.message).toContain('new idempotency token');
    expect(err.message).not.toContain('amt-2');
    // Nothing moved: the rolled-back state stands, and readers see v1 active.
    expect(server.stages(id)).toEqual({ [v1]: ['AWSCURRENT'], [first.activeId]: ['AWSPREVIOUS'] });
    expect((await store.getVersions(id, { signal: signal() })).map((v) => [v.id, v.role])).toEqual([
      [v1, 'active'],
      [first.activeId, 'previous'],
    ]);
    // A new token rotates for real.
    const again = await store.rotate(id, 'amt-2', { idempotencyToken: 'rotation-2026-11-second-try' });
    expect(server.stages(id)[again.activeId]).toEqual(['AWSCURRENT']);
  });

  it('says when the previous version has no window end (previousGraceMs: Infinity), and not otherwise', async () => {
    const id = fresh();
    const v1 = server.createSecret(id, 'amt-1').versionId!;
    const open = await makeStore().rotate(id, 'amt-2', { previousGraceMs: Infinity });
    expect(open).toMatchObject({ previousId: v1, previousNotAfter: undefined, previousUnbounded: true });
    expect(open.warnings).toEqual([expect.stringContaining(`the previous version ${v1} has no window end`)]);
    expect((await makeStore().getVersions(id, { signal: signal() })).find((v) => v.role === 'previous')?.notAfter).toBeUndefined();
    const bounded = await makeStore().rotate(id, 'amt-3', { previousGraceMs: DAY });
    expect(bounded).toMatchObject({ previousId: open.activeId, previousUnbounded: false, warnings: [] });
    const keyset = fresh();
    server.createSecret(keyset, JSON.stringify({ keys: [{ id: 'k1', secret: 'amt-1' }] }));
    expect(await makeStore({ format: 'keyset' }).rotate(keyset, 'amt-2', { previousGraceMs: Infinity })).toMatchObject({
      previousUnbounded: true,
    });
  });

  it('a lost PutSecretValue response is retried by the SDK with the same ClientRequestToken: one version', async () => {
    const id = fresh();
    server.createSecret(id, 'amt-1');
    const store = makeStore({ clientConfig: { ...server.clientConfig(), maxAttempts: undefined }, now: undefined });
    server.resetCalls();
    server.inject({ kind: 'dropResponse' }, { operation: 'PutSecretValue' });
    const result = await store.rotate(id, 'amt-2');
    const puts = server.calls.filter((c) => c.operation === 'PutSecretValue');
    expect(puts).toHaveLength(2);
    expect(puts[0]?.input['ClientRequestToken']).toBe(puts[1]?.input['ClientRequestToken']);
    expect(server.model.find(id).versions.size).toBe(2);
    expect(server.stages(id)[result.activeId]).toEqual(['AWSCURRENT']);
  });

  it('{ jsonField } rotation replaces the field and keeps the rest of the document', async () => {
    const id = fresh();
    server.createSecret(id, JSON.stringify({ token: 'amt-1', clientId: 'abc' }));
    const store = makeStore({ format: { jsonField: 'token' } });
    const { activeId } = await store.rotate(id, 'amt-2');
    const stored = server.model.find(id).versions.get(activeId)!.secretString!;
    expect(JSON.parse(stored)).toEqual({ token: 'amt-2', clientId: 'abc' });
    expect((await store.getVersions(id, { signal: signal() })).map((v) => v.secret)).toEqual(['amt-2', 'amt-1']);
  });

  it("'keyset' rotation writes the new key active and the old one previous with its window in the document", async () => {
    const id = fresh();
    server.createSecret(id, JSON.stringify({ keys: [{ id: 'amt-a', secret: 'amt-1' }] }));
    const store = makeStore({ format: 'keyset' });
    const result = await store.rotate(id, 'amt-2', { previousGraceMs: 2 * DAY, idempotencyToken: '0123456789abcdef0123456789abcdef' });
    const versions = await store.getVersions(id, { signal: signal() });
    const fresh2 = versions.find((v) => v.secret === 'amt-2')!;
    expect(fresh2.role).toBe('active');
    const old = versions.filter((v) => v.secret === 'amt-1');
    expect(old.map((v) => [v.id, v.role, v.notAfter])).toEqual([['amt-a', 'previous', clock + 2 * DAY]]);
    expect(result.previousNotAfter).toBe(clock + 2 * DAY);
    expect(server.model.find(id).tags.size).toBe(0); // the window lives in the document
  });

  it("'keyset': the reported window is the document's, also on a retry and when the server's clock differs", async () => {
    const id = fresh();
    server.createSecret(id, JSON.stringify({ keys: [{ id: 'amt-a', secret: 'amt-1' }] }));
    // The store's clock runs 5 s behind the server's: the document's window follows the store's clock.
    const store = makeStore({ format: 'keyset', now: () => clock - 5_000 });
    const token = 'fedcba9876543210fedcba9876543210';
    const result = await store.rotate(id, 'amt-2', { previousGraceMs: DAY, idempotencyToken: token });
    expect(result.previousNotAfter).toBe(clock - 5_000 + DAY);
    const reader = makeStore({ format: 'keyset', previousGraceMs: 7 * DAY });
    expect((await reader.getVersions(id, { signal: signal() })).find((v) => v.id === 'amt-a')?.notAfter).toBe(result.previousNotAfter);
    clock += 1_000;
    expect(await makeStore({ format: 'keyset' }).rotate(id, 'amt-2', { idempotencyToken: token, previousGraceMs: 3 * DAY })).toEqual(
      result,
    );
  });

  it('custom labels: moves our previous label by hand (the service only does that for AWSCURRENT)', async () => {
    const id = fresh();
    server.createSecret(id, 'aws-current');
    const live = server.putSecretValue(id, 'live-1', { stages: ['LIVE'] });
    const store = makeStore({ labels: { active: 'LIVE', previous: 'OLD' } });
    const { activeId, previousId } = await store.rotate(id, 'live-2');
    expect(previousId).toBe(live);
    const stages = server.stages(id);
    expect(stages[activeId]).toEqual(['LIVE']);
    expect(stages[live]).toEqual(['OLD']);
    expect((await store.getVersions(id, { signal: signal() })).map((v) => [v.secret, v.role])).toEqual([
      ['live-2', 'active'],
      ['live-1', 'previous'],
    ]);
  });

  it('rejects a bad newSecret with a TypeError and fails terminally on a missing secret', async () => {
    const store = makeStore();
    await expect(store.rotate('x', '')).rejects.toThrow(TypeError);
    const err = await rejection(store.rotate('formats-test/none', 'v'));
    expect([err.retryable, err.reason, err.code]).toEqual([false, 'NOT_FOUND', 'ResourceNotFoundException']);
  });
});
