import { KeyStoreError } from '@keyturn/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gcpSecretManagerStore, PREVIOUS_WINDOW_ANNOTATION, type GcpSecretManagerStoreOptions } from '../src/index.ts';
import type { StatusName } from '../src/status.ts';
import { harness, signal, text, type Harness, type Transport } from './helpers.ts';

const NAME = 'projects/test-project/secrets/webhook';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 24, 9);

let clock = T0;
const now = () => clock;
const open: Harness[] = [];

async function setup(transport: Transport = 'grpc', options: { maxPageSize?: number } = {}): Promise<Harness> {
  clock = T0;
  const h = await harness(transport, { now, ...options });
  open.push(h);
  return h;
}

function store(h: Harness, options: Omit<GcpSecretManagerStoreOptions, 'client'> = {}) {
  return gcpSecretManagerStore({ client: h.client, now, ...options });
}

async function rejection(p: Promise<unknown>): Promise<KeyStoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyStoreError);
  return err as KeyStoreError;
}

/** v1 at T0, v2 at T0 + 1 h, v3 at T0 + 2 h. */
function seedThree(h: Harness, aliases?: Record<string, number>, expireTime?: number): void {
  const m = h.fake.model;
  m.createSecret(NAME, { versionAliases: aliases, expireTime });
  for (const [i, value] of ['whsec_01', 'whsec_02', 'whsec_03'].entries()) m.addVersion(NAME, value, { createTime: T0 + i * HOUR });
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

describe('mode: aliases', () => {
  it('maps current / previous / next to active / previous / pending, with the previous window from the active create time', async () => {
    const h = await setup();
    seedThree(h, { current: 2, previous: 1, next: 3 });
    const versions = await store(h, { previousGraceMs: 30 * 60_000 }).getVersions(NAME, { signal: signal() });
    expect(versions.map((v) => [v.id, v.role, text(v.secret), v.notAfter])).toEqual([
      [`${NAME}/versions/2`, 'active', 'whsec_02', undefined],
      [`${NAME}/versions/3`, 'pending', 'whsec_03', undefined],
      [`${NAME}/versions/1`, 'previous', 'whsec_01', T0 + HOUR + 30 * 60_000],
    ]);
    expect(versions.every((v) => v.secret instanceof Uint8Array)).toBe(true);
  });

  it('honours custom alias names and pending: false', async () => {
    const h = await setup();
    seedThree(h, { live: 3, old: 2, current: 1, next: 1 });
    const versions = await store(h, { aliases: { active: 'live', previous: 'old', pending: false } }).getVersions(NAME, {
      signal: signal(),
    });
    expect(versions.map((v) => [v.role, text(v.secret)])).toEqual([
      ['active', 'whsec_03'],
      ['previous', 'whsec_02'],
    ]);
  });

  it('drops a DISABLED or DESTROYED previous/pending version; a disabled active version is a terminal error', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2, next: 1 });
    h.fake.model.setState(`${NAME}/versions/2`, 'disable');
    h.fake.model.setState(`${NAME}/versions/1`, 'destroy');
    const s = store(h);
    expect((await s.getVersions(NAME, { signal: signal() })).map((v) => v.role)).toEqual(['active']);
    h.fake.model.setState(`${NAME}/versions/3`, 'disable');
    const err = await rejection(s.getVersions(NAME, { signal: signal() }));
    expect(err).toMatchObject({ retryable: false, reason: 'NOT_FOUND', code: 'FAILED_PRECONDITION' });
    expect(err.message).toContain('DISABLED');
  });

  it('stops serving a cached payload once its version is disabled', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2 });
    const s = store(h);
    expect(await s.getVersions(NAME, { signal: signal() })).toHaveLength(2);
    h.fake.model.setState(`${NAME}/versions/2`, 'disable');
    expect((await s.getVersions(NAME, { signal: signal() })).map((v) => v.id)).toEqual([`${NAME}/versions/3`]);
  });

  it('without the active alias: a terminal NO_ACTIVE_VERSION error that names the alias', async () => {
    const h = await setup();
    seedThree(h, { previous: 1 });
    const err = await rejection(store(h).getVersions(NAME, { signal: signal() }));
    expect(err).toMatchObject({
      retryable: false,
      reason: 'NOT_FOUND',
      code: 'NO_ACTIVE_VERSION',
      store: 'gcp-secret-manager',
      secretId: NAME,
    });
    expect(err.message).toContain('"current"');
  });

  it('uses the window rotate() recorded only for the version it names', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2 });
    h.fake.model.updateSecret({ name: NAME, annotations: { [PREVIOUS_WINDOW_ANNOTATION]: `2@${new Date(T0 + 5 * HOUR).toISOString()}` } }, [
      'annotations',
    ]);
    const s = store(h, { previousGraceMs: HOUR });
    expect((await s.getVersions(NAME, { signal: signal() }))[1]).toMatchObject({ role: 'previous', notAfter: T0 + 5 * HOUR });
    // Someone moved the alias by hand: the annotation no longer applies; the grace rule does.
    h.fake.model.updateSecret({ name: NAME, versionAliases: { current: 3, previous: 1 } }, ['version_aliases']);
    expect((await s.getVersions(NAME, { signal: signal() }))[1]).toMatchObject({
      id: `${NAME}/versions/1`,
      notAfter: T0 + 2 * HOUR + HOUR,
    });
  });
});

describe('mode: versions', () => {
  it('newest ENABLED is active, the one before is previous until newer create time + previousGraceMs', async () => {
    const h = await setup();
    seedThree(h);
    const versions = await store(h, { mode: 'versions', previousGraceMs: 10 * 60_000 }).getVersions(NAME, { signal: signal() });
    expect(versions.map((v) => [v.id, v.role, text(v.secret), v.notAfter])).toEqual([
      [`${NAME}/versions/3`, 'active', 'whsec_03', undefined],
      [`${NAME}/versions/2`, 'previous', 'whsec_02', T0 + 2 * HOUR + 10 * 60_000],
    ]);
  });

  it('works when the newest version is disabled (where versions/latest fails) and never reads latest', async () => {
    const h = await setup();
    seedThree(h);
    h.fake.model.setState(`${NAME}/versions/3`, 'disable');
    h.fake.model.setState(`${NAME}/versions/1`, 'destroy');
    // The real service's `latest` is the newest version whatever its state:
    expect(() => h.fake.model.access(`${NAME}/versions/latest`)).toThrow(/DISABLED/);
    const versions = await store(h, { mode: 'versions' }).getVersions(NAME, { signal: signal() });
    expect(versions.map((v) => [v.role, text(v.secret)])).toEqual([['active', 'whsec_02']]);
    expect(h.fake.model.calls.some((c) => c.name.includes('latest'))).toBe(false);
  });

  it('follows short pages (page tokens) until two ENABLED versions are known', async () => {
    const h = await setup('grpc', { maxPageSize: 1 });
    seedThree(h);
    const versions = await store(h, { mode: 'versions' }).getVersions(NAME, { signal: signal() });
    expect(versions.map((v) => v.id)).toEqual([`${NAME}/versions/3`, `${NAME}/versions/2`]);
    expect(h.fake.model.callsOf('ListSecretVersions')).toHaveLength(2);
  });

  it('a secret with no ENABLED version is a terminal error, not "no keys"', async () => {
    const h = await setup();
    seedThree(h);
    for (const n of [1, 2, 3]) h.fake.model.setState(`${NAME}/versions/${n}`, 'disable');
    expect(await rejection(store(h, { mode: 'versions' }).getVersions(NAME, { signal: signal() }))).toMatchObject({
      retryable: false,
      reason: 'NOT_FOUND',
      code: 'NO_ACTIVE_VERSION',
    });
  });
});

describe.each(['aliases', 'versions'] as const)('both modes (%s)', (mode) => {
  it('caps every window at the secret expire_time', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2 }, T0 + 2 * HOUR + 60_000);
    const versions = await store(h, { mode, previousGraceMs: DAY }).getVersions(NAME, { signal: signal() });
    expect(versions.map((v) => [v.role, v.notAfter])).toEqual([
      ['active', T0 + 2 * HOUR + 60_000],
      ['previous', T0 + 2 * HOUR + 60_000],
    ]);
  });

  it('fetches each version once and caches it by number', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2 });
    const s = store(h, { mode });
    await s.getVersions(NAME, { signal: signal() });
    await s.getVersions(NAME, { signal: signal() });
    await s.getVersions(NAME, { signal: signal() });
    expect(
      h.fake.model
        .callsOf('AccessSecretVersion')
        .map((c) => c.name)
        .sort(),
    ).toEqual([`${NAME}/versions/2`, `${NAME}/versions/3`]);
    expect(h.fake.model.callsOf('GetSecret')).toHaveLength(3);
  });

  it('a CRC32C mismatch is a retryable integrity error and is never cached', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2 });
    const s = store(h, { mode });
    h.fake.model.injectFault({ method: 'AccessSecretVersion', nameIncludes: 'versions/3', corruptCrc32c: true });
    const err = await rejection(s.getVersions(NAME, { signal: signal() }));
    expect(err).toMatchObject({ retryable: true, reason: 'INTEGRITY', code: 'CRC32C_MISMATCH' });
    const versions = await s.getVersions(NAME, { signal: signal() });
    expect(text(versions[0]!.secret)).toBe('whsec_03');
    expect(h.fake.model.callsOf('AccessSecretVersion').filter((c) => c.name.endsWith('/3'))).toHaveLength(2);
  });

  it('sends the routing header on every call', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2 });
    await store(h, { mode }).getVersions(NAME, { signal: signal() });
    for (const c of h.fake.model.calls) expect(c.routing).toMatch(/^(name|parent)=projects%2Ftest-project%2Fsecrets%2Fwebhook/);
  });
});

describe('errors, deadlines and cancellation', () => {
  const table: Array<[StatusName, boolean]> = [
    ['NOT_FOUND', false],
    ['PERMISSION_DENIED', false],
    ['FAILED_PRECONDITION', false],
    ['INVALID_ARGUMENT', false],
    ['UNAUTHENTICATED', false],
    ['UNAVAILABLE', true],
    ['RESOURCE_EXHAUSTED', true],
    ['DEADLINE_EXCEEDED', true],
    ['INTERNAL', true],
    ['ABORTED', true],
  ];

  it('maps status codes identically over gRPC and REST', async () => {
    const seen: Record<Transport, unknown[]> = { grpc: [], rest: [] };
    for (const transport of ['grpc', 'rest'] as const) {
      const h = await setup(transport);
      seedThree(h, { current: 3 });
      const s = store(h);
      for (const [status, retryable] of table) {
        for (const method of ['GetSecret', 'GetSecretVersion', 'AccessSecretVersion'] as const) {
          h.fake.model.injectFault({ method, status, message: 'injected' });
          const err = await rejection(s.getVersions(`${NAME}`, { signal: signal() }));
          expect(err, `${transport} ${method} ${status}`).toMatchObject({
            code: status,
            retryable,
            store: 'gcp-secret-manager',
            secretId: NAME,
          });
          seen[transport].push([method, err.code, err.retryable, err.message]);
        }
      }
    }
    expect(seen.rest).toEqual(seen.grpc);
  });

  it('the real NOT_FOUND for a missing secret is terminal, over both transports', async () => {
    for (const transport of ['grpc', 'rest'] as const) {
      const h = await setup(transport);
      const err = await rejection(store(h).getVersions('projects/test-project/secrets/nope', { signal: signal() }));
      expect(err).toMatchObject({ reason: 'NOT_FOUND', retryable: false });
    }
  });

  it('passes its own deadline: a hanging server fails fast with DEADLINE_EXCEEDED', async () => {
    const h = await setup();
    seedThree(h, { current: 3 });
    h.fake.model.injectFault({ method: 'GetSecret', hang: true });
    const started = performance.now();
    const err = await rejection(store(h, { callTimeoutMs: 150 }).getVersions(NAME, { signal: signal() }));
    expect(err).toMatchObject({ reason: 'TIMEOUT', code: 'DEADLINE_EXCEEDED', retryable: true });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('turns off client retries: one RESOURCE_EXHAUSTED access is one call (the default would retry for up to 600 s)', async () => {
    const h = await setup();
    seedThree(h, { current: 3 });
    h.fake.model.injectFault({ method: 'AccessSecretVersion', status: 'RESOURCE_EXHAUSTED', times: 5 });
    const err = await rejection(store(h).getVersions(NAME, { signal: signal() }));
    expect([err.reason, err.code]).toEqual(['THROTTLED', 'RESOURCE_EXHAUSTED']);
    expect(h.fake.model.callsOf('AccessSecretVersion')).toHaveLength(1);
  });

  it.each(['grpc', 'rest'] as const)('an aborted signal cancels the RPC itself (%s)', async (transport) => {
    const h = await setup(transport);
    seedThree(h, { current: 3 });
    h.fake.model.injectFault({ method: 'GetSecret', hang: true });
    const controller = new AbortController();
    const pending = store(h, { callTimeoutMs: 60_000 }).getVersions(NAME, { signal: controller.signal });
    await vi.waitFor(() => expect(h.fake.model.callsOf('GetSecret')).toHaveLength(1));
    controller.abort(new Error('verifier gave up'));
    expect(await rejection(pending)).toMatchObject({ reason: 'ABORTED', retryable: true });
    await vi.waitFor(() => expect(h.fake.model.callsOf('GetSecret')[0]!.cancelled).toBe(true));
  });

  it('rejects bad secret ids with a typed terminal error before any call', async () => {
    const h = await setup();
    const s = store(h);
    for (const id of ['webhook', 'projects/p/secrets/s/versions/2', 'projects/p/secrets/../../x']) {
      const err = await rejection(s.getVersions(id, { signal: signal() }));
      expect(err).toMatchObject({ reason: 'INVALID_CONFIG', code: 'INVALID_ARGUMENT', retryable: false });
    }
    expect(h.fake.model.calls).toHaveLength(0);
  });

  it('validates options up front', () => {
    expect(() => gcpSecretManagerStore({ mode: 'latest' as never })).toThrow(TypeError);
    expect(() => gcpSecretManagerStore({ previousGraceMs: -1 })).toThrow(/previousGraceMs/);
    expect(() => gcpSecretManagerStore({ callTimeoutMs: 0 })).toThrow(/callTimeoutMs/);
    expect(() => gcpSecretManagerStore({ aliases: { active: 'latest' } })).toThrow(/alias/);
  });
});

describe('names and clients', () => {
  it('resolves short names with projectId and reads regional secrets', async () => {
    const h = await setup();
    seedThree(h, { current: 3 });
    const regional = 'projects/test-project/locations/europe-west1/secrets/webhook';
    h.fake.model.createSecret(regional, { versionAliases: { current: 1 } });
    h.fake.model.addVersion(regional, 'whsec_eu');
    const s = store(h, { projectId: 'test-project' });
    expect(text((await s.getVersions('webhook', { signal: signal() }))[0]!.secret)).toBe('whsec_03');
    const [eu] = await s.getVersions(regional, { signal: signal() });
    expect(eu).toMatchObject({ id: `${regional}/versions/1`, role: 'active' });
    expect(text(eu!.secret)).toBe('whsec_eu');
  });

  it('builds its own client lazily from clientOptions and closes it on dispose', async () => {
    const h = await setup();
    seedThree(h, { current: 3 });
    const s = gcpSecretManagerStore({ clientOptions: h.fake.grpcClientOptions() as never });
    expect(h.fake.model.calls).toHaveLength(0);
    expect(await s.getVersions(NAME, { signal: signal() })).toHaveLength(1);
    await s.dispose();
    expect(await rejection(s.getVersions(NAME, { signal: signal() }))).toMatchObject({ reason: 'INVALID_CONFIG', code: 'DISPOSED' });
  });

  it('never closes an injected client', async () => {
    const h = await setup();
    seedThree(h, { current: 3 });
    const s = store(h);
    await s.dispose();
    const again = store(h);
    expect(await again.getVersions(NAME, { signal: signal() })).toHaveLength(1);
  });
});

describe('rotate', () => {
  it('adds a CRC32C-checked version and moves the aliases with the etag; the previous window is recorded', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2, next: 1 });
    const s = store(h, { previousGraceMs: DAY });
    clock = T0 + 5 * HOUR;
    const result = await s.rotate(NAME, 'whsec_04', { previousGraceMs: 2 * HOUR });
    expect(result).toEqual({
      activeId: `${NAME}/versions/4`,
      previousId: `${NAME}/versions/3`,
      previousNotAfter: clock + 2 * HOUR,
      previousUnbounded: false,
      warnings: [],
    });
    const v4 = h.fake.model.getVersion(`${NAME}/versions/4`);
    expect(v4.clientSpecifiedPayloadChecksum).toBe(true);
    const secret = h.fake.model.getSecret(NAME);
    expect(secret.versionAliases).toEqual({ current: 4, previous: 3 });
    expect(secret.annotations[PREVIOUS_WINDOW_ANNOTATION]).toBe(`3@${new Date(clock + 2 * HOUR).toISOString()}`);
    const update = h.fake.model.callsOf('UpdateSecret');
    expect(update).toHaveLength(1);
    const versions = await s.getVersions(NAME, { signal: signal() });
    expect(versions.map((v) => [v.role, text(v.secret), v.notAfter])).toEqual([
      ['active', 'whsec_04', undefined],
      ['previous', 'whsec_03', clock + 2 * HOUR],
    ]);
  });

  it.each(['grpc', 'rest'] as const)(
    'a concurrent change during rotate() (stale etag: FAILED_PRECONDITION) is re-read and re-applied, not terminal (%s)',
    async (transport) => {
      const h = await setup(transport);
      seedThree(h, { current: 3, previous: 2 });
      // Someone else edits the secret between the store's read and its guarded update.
      h.fake.model.injectFault({
        method: 'UpdateSecret',
        onCall: () =>
          h.fake.model.updateSecret({ name: NAME, versionAliases: { current: 3, previous: 2 }, annotations: { owner: 'ops' } }, [
            'version_aliases',
            'annotations',
          ]),
      });
      const result = await store(h).rotate(NAME, 'whsec_04', { previousGraceMs: HOUR });
      expect(result).toMatchObject({
        activeId: `${NAME}/versions/4`,
        previousId: `${NAME}/versions/3`,
        previousNotAfter: clock + HOUR,
        previousUnbounded: false,
      });
      const secret = h.fake.model.getSecret(NAME);
      expect(secret.versionAliases).toEqual({ current: 4, previous: 3 });
      expect(secret.annotations['owner']).toBe('ops'); // the concurrent change is kept, ours applied on top
      expect(h.fake.model.callsOf('UpdateSecret')).toHaveLength(2);
      expect(h.fake.model.callsOf('AddSecretVersion')).toHaveLength(1);
    },
  );

  it.each(['grpc', 'rest'] as const)(
    'a conflict that persists is a retryable CONFLICT; a retry with the same token adds no second version (%s)',
    async (transport) => {
      const h = await setup(transport);
      seedThree(h, { current: 3, previous: 2 });
      let edits = 0;
      h.fake.model.injectFault({
        method: 'UpdateSecret',
        times: 3,
        onCall: () => h.fake.model.updateSecret({ name: NAME, labels: { edit: String(++edits) } }, ['labels']),
      });
      const s = store(h);
      const err = await rejection(s.rotate(NAME, 'whsec_04', { idempotencyToken: 'rot-1' }));
      expect(err).toMatchObject({ reason: 'CONFLICT', retryable: true, store: 'gcp-secret-manager', secretId: NAME });
      expect(err.message).toContain('changed concurrently');
      expect((err.cause as { code?: number }).code).toBe(9); // what the service answered: FAILED_PRECONDITION
      expect(h.fake.model.callsOf('UpdateSecret')).toHaveLength(3);
      expect(h.fake.model.getSecret(NAME).versionAliases).toEqual({ current: 3, previous: 2 });
      const again = await s.rotate(NAME, 'whsec_04', { idempotencyToken: 'rot-1' });
      expect(again).toMatchObject({ activeId: `${NAME}/versions/4`, previousId: `${NAME}/versions/3` });
      expect(h.fake.model.callsOf('AddSecretVersion')).toHaveLength(1);
      expect(h.fake.model.getSecret(NAME).versionAliases).toEqual({ current: 4, previous: 3 });
    },
  );

  it('a FAILED_PRECONDITION with an etag that still matches is a real precondition: terminal', async () => {
    const h = await setup();
    seedThree(h, { current: 3, previous: 2 });
    h.fake.model.injectFault({ method: 'UpdateSecret', status: 'FAILED_PRECONDITION', message: 'Alias points to a destroyed version.' });
    const err = await rejection(store(h).rotate(NAME, 'whsec_04'));
    expect(err).toMatchObject({ reason: 'CONFLICT', code: 'FAILED_PRECONDITION', retryable: false });
    expect(h.fake.model.callsOf('UpdateSecret')).toHaveLength(1);
  });

  it('versions mode: a retry after a failed alias move reuses the added version, so the old key stays previous', async () => {
    const h = await setup();
    seedThree(h);
    const s = store(h, { mode: 'versions', previousGraceMs: HOUR });
    h.fake.model.injectFault({ method: 'UpdateSecret', status: 'UNAVAILABLE' });
    expect(await rejection(s.rotate(NAME, 'whsec_04'))).toMatchObject({ reason: 'UNAVAILABLE', retryable: true });
    const result = await s.rotate(NAME, 'whsec_04');
    expect(result).toMatchObject({ activeId: `${NAME}/versions/4`, previousId: `${NAME}/versions/3` });
    expect(h.fake.model.callsOf('AddSecretVersion')).toHaveLength(1);
    expect((await s.getVersions(NAME, { signal: signal() })).map((v) => [v.role, text(v.secret)])).toEqual([
      ['active', 'whsec_04'],
      ['previous', 'whsec_03'],
    ]);
  });

  it('is idempotent with a token, bootstraps aliases in versions mode, and validates input', async () => {
    const h = await setup();
    seedThree(h);
    const s = store(h, { mode: 'versions', previousGraceMs: HOUR });
    const first = await s.rotate(NAME, new Uint8Array([1, 2, 3]), { idempotencyToken: 'rotation-2026-11' });
    expect(first).toMatchObject({ activeId: `${NAME}/versions/4`, previousId: `${NAME}/versions/3` });
    const second = await s.rotate(NAME, new Uint8Array([1, 2, 3]), { idempotencyToken: 'rotation-2026-11' });
    expect(second).toEqual(first);
    expect(h.fake.model.callsOf('AddSecretVersion')).toHaveLength(1);
    for (const bad of ['', new Uint8Array(65_537)]) {
      expect(await rejection(s.rotate(NAME, bad))).toMatchObject({ reason: 'INVALID_CONFIG', code: 'INVALID_ARGUMENT', retryable: false });
    }
  });

  it('never puts the new secret into an error', async () => {
    const h = await setup();
    seedThree(h, { current: 3 });
    h.fake.model.injectFault({ method: 'AddSecretVersion', status: 'PERMISSION_DENIED' });
    const err = await rejection(store(h).rotate(NAME, 'whsec_topsecret_value'));
    const { inspect } = await import('node:util');
    expect(inspect(err, { depth: 6 }) + JSON.stringify(err) + err.stack).not.toContain('topsecret');
  });
});

describe('disableRetiredVersions', () => {
  it('disables versions older than previous, and previous once its window ended; never on its own', async () => {
    const h = await setup();
    const m = h.fake.model;
    m.createSecret(NAME);
    for (let i = 1; i <= 5; i++) m.addVersion(NAME, `whsec_0${i}`, { createTime: T0 + i * HOUR });
    m.updateSecret({ name: NAME, versionAliases: { current: 4, previous: 3 } }, ['version_aliases']);
    const s = store(h, { previousGraceMs: HOUR });
    await s.getVersions(NAME, { signal: signal() });
    expect(m.callsOf('DisableSecretVersion')).toHaveLength(0);

    clock = T0 + 4 * HOUR + 30 * 60_000; // inside the previous window
    expect(await s.disableRetiredVersions(NAME, { dryRun: true })).toEqual({
      disabled: [`${NAME}/versions/2`, `${NAME}/versions/1`],
      kept: [`${NAME}/versions/4`, `${NAME}/versions/3`],
    });
    expect(m.callsOf('DisableSecretVersion')).toHaveLength(0);
    await s.disableRetiredVersions(NAME);
    expect([1, 2, 3, 4, 5].map((n) => m.getVersion(`${NAME}/versions/${n}`).state)).toEqual([
      'DISABLED',
      'DISABLED',
      'ENABLED',
      'ENABLED',
      'ENABLED',
    ]);

    clock = T0 + 5 * HOUR + 1; // window over: previous retires too; version 5 (newer than active) is left alone
    expect((await s.disableRetiredVersions(NAME)).disabled).toEqual([`${NAME}/versions/3`]);
    expect(m.getVersion(`${NAME}/versions/3`).state).toBe('DISABLED');
    expect(m.getVersion(`${NAME}/versions/5`).state).toBe('ENABLED');
    expect(await s.getVersions(NAME, { signal: signal() })).toHaveLength(1);
  });
});

describe('etags', () => {
  it('disableRetiredVersions: a version changed concurrently (stale etag) is a retryable CONFLICT and stays as the other writer left it', async () => {
    const h = await setup();
    const m = h.fake.model;
    m.createSecret(NAME);
    for (let i = 1; i <= 3; i++) m.addVersion(NAME, `whsec_0${i}`, { createTime: T0 + i * HOUR });
    m.updateSecret({ name: NAME, versionAliases: { current: 3, previous: 2 } }, ['version_aliases']);
    // Another operator re-enables version 1 (a no-op that still renews its etag: their intent wins).
    m.injectFault({ method: 'DisableSecretVersion', onCall: () => m.setState(`${NAME}/versions/1`, 'enable') });
    const err = await rejection(store(h).disableRetiredVersions(NAME));
    expect(err).toMatchObject({ reason: 'CONFLICT', retryable: true });
    expect(m.getVersion(`${NAME}/versions/1`).state).toBe('ENABLED');
  });

  it('the test server answers a stale etag as Google documents: FAILED_PRECONDITION, HTTP 400 over REST', async () => {
    const h = await setup('rest');
    seedThree(h, { current: 3 });
    const stale = h.fake.model.getSecret(NAME).etag;
    h.fake.model.updateSecret({ name: NAME, labels: { a: 'b' } }, ['labels']);
    expect(() => h.fake.model.updateSecret({ name: NAME, etag: stale, labels: {} }, ['labels'])).toThrow(
      expect.objectContaining({ status: 'FAILED_PRECONDITION' }),
    );
    const response = await fetch(`http://127.0.0.1:${h.fake.restPort}/v1/${NAME}?updateMask=labels`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: NAME, etag: stale, labels: {} }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 400, status: 'FAILED_PRECONDITION' } });
    const version = h.fake.model.getVersion(`${NAME}/versions/1`);
    h.fake.model.setState(version.name, 'enable');
    expect(() => h.fake.model.setState(version.name, 'disable', version.etag)).toThrow(
      expect.objectContaining({ status: 'FAILED_PRECONDITION' }),
    );
    // Adding a version leaves the secret's etag alone (only the version gets one).
    const before = h.fake.model.getSecret(NAME).etag;
    h.fake.model.addVersion(NAME, 'whsec_04');
    expect(h.fake.model.getSecret(NAME).etag).toBe(before);
  });
});
