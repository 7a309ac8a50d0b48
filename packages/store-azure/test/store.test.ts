import { ClientSecretCredential } from '@azure/identity';
import { Agent } from 'node:https';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AzureKeyVaultError } from '../src/index.ts';
import { DAY, fakeClock, harness, HOUR, rejection, signal, useHarness } from './helpers.ts';

const clock = fakeClock();
const h = useHarness({ now: clock.now }, clock.now);
afterEach(() => h().vault.model.clearFaults()); // a fault a test did not consume never leaks into the next
let n = 0;
const fresh = (label: string) => `${label}-${++n}`;

describe('reading versions with the real SecretClient over HTTPS', () => {
  it('maps a rotation-shaped secret onto active + previous with Key Vault windows', async () => {
    const name = fresh('webhook');
    const m = h().vault.model;
    const old = m.addVersion(name, 'whsec_old', { created: clock.now() - DAY, expires: clock.now() + 2 * HOUR });
    const cur = m.addVersion(name, 'whsec_new', { created: clock.now() - HOUR });
    const store = h().store();
    const versions = await store.getVersions(name, { signal: signal() });
    expect(versions).toEqual([
      { id: cur.version, secret: 'whsec_new', role: 'active', notBefore: undefined, notAfter: undefined },
      { id: old.version, secret: 'whsec_old', role: 'previous', notBefore: undefined, notAfter: clock.now() + 2 * HOUR },
    ]);
  });

  it('runs the challenge round trip once: 401 + WWW-Authenticate, one token request, then bearer calls', async () => {
    const name = fresh('challenge');
    h().vault.model.addVersion(name, 'v1');
    const before = { challenges: h().vault.challenges, tokens: h().vault.tokenRequests.length };
    const v = h().vault;
    const store = h().store({ credential: new ClientSecretCredential(v.tenantId, v.clientId, v.clientSecret, v.credentialOptions()) });
    await store.getVersions(name, { signal: signal() });
    await store.getVersions(name, { signal: signal() });
    expect(h().vault.challenges - before.challenges).toBe(1);
    expect(h().vault.tokenRequests.slice(before.tokens)).toEqual([
      { scope: 'https://vault.localhost/.default', clientId: h().vault.clientId, issued: true },
    ]);
  });

  it('a warm load is one list call: values are read once per version', async () => {
    const name = fresh('warm');
    h().vault.model.addVersion(name, 'a', { created: clock.now() - 2000 });
    h().vault.model.addVersion(name, 'b', { created: clock.now() - 1000 });
    const store = h().store();
    await store.getVersions(name, { signal: signal() });
    const from = h().vault.model.calls.length;
    await store.getVersions(name, { signal: signal() });
    expect(
      h()
        .vault.model.calls.slice(from)
        .map((c) => c.op),
    ).toEqual(['getSecretVersions']);
  });

  it('follows nextLink across pages (another api-version in the link) and picks the newest by created, not list order', async () => {
    const name = fresh('paged');
    const m = h().vault.model;
    const records = Array.from({ length: 30 }, (_, i) => m.addVersion(name, `value-${i}`, { created: clock.now() - (30 - i) * 60_000 }));
    const vault2 = await import('./helpers.ts').then((x) =>
      x.harness({ now: clock.now, pageSize: 2, nextLinkApiVersion: '7.2', model: m }, clock.now),
    );
    try {
      const versions = await vault2.store().getVersions(name, { signal: signal() });
      expect(versions.map((v) => [v.id, v.role])).toEqual([
        [records[29]!.version, 'active'],
        [records[28]!.version, 'previous'],
      ]);
      const lists = m.calls.filter((c) => c.op === 'getSecretVersions' && c.name === name).slice(-15);
      expect(lists).toHaveLength(15);
      expect(lists[0]).toMatchObject({ continuation: false });
      expect(lists[0]!.apiVersion).not.toBe('7.2'); // the SDK's own version on the first page, the link's after
      expect(lists.slice(1).every((c) => c.continuation && c.apiVersion === '7.2')).toBe(true);
    } finally {
      await vault2.close();
    }
  });
});

describe('errors', () => {
  it("429 with Retry-After is THROTTLED, retryable, with the wait and Key Vault's code", async () => {
    const name = fresh('throttled');
    h().vault.model.addVersion(name, 'x');
    h().vault.model.injectFault({ op: 'getSecretVersions', status: 429, retryAfterSeconds: 7 });
    const err = await rejection(h().store().getVersions(name, { signal: signal() }));
    expect(err).toBeInstanceOf(AzureKeyVaultError);
    expect(err).toMatchObject({
      reason: 'THROTTLED',
      retryable: true,
      code: 'Throttled',
      status: 429,
      retryAfterMs: 7000,
      store: 'azure-key-vault',
    });
  });

  it.each([
    [500, 'InternalServerError', 'UNAVAILABLE', true],
    [503, 'ServiceUnavailable', 'UNAVAILABLE', true],
    [403, 'Forbidden', 'ACCESS_DENIED', false],
    [400, 'BadParameter', 'INVALID_CONFIG', false],
    [408, 'RequestTimeout', 'TIMEOUT', true],
    [409, 'Conflict', 'CONFLICT', true],
  ] as const)('HTTP %i %s → %s (retryable: %s)', async (status, code, reason, retryable) => {
    const name = fresh('status');
    h().vault.model.addVersion(name, 'x');
    h().vault.model.injectFault({ op: 'getSecretVersions', status, code });
    const err = await rejection(h().store().getVersions(name, { signal: signal() }));
    expect(err).toMatchObject({ reason, retryable, code, status });
    expect(err.cause).toBeInstanceOf(Error);
    expect(Object.keys(err.cause)).not.toContain('request');
  });

  it('a dropped connection is UNAVAILABLE (retryable); an unparsable 200 body too', async () => {
    const name = fresh('reset');
    h().vault.model.addVersion(name, 'x');
    const store = h().store();
    h().vault.model.injectFault({ op: 'getSecretVersions', reset: true });
    expect(await rejection(store.getVersions(name, { signal: signal() }))).toMatchObject({ reason: 'UNAVAILABLE', retryable: true });
    h().vault.model.injectFault({ op: 'getSecret', rawBody: '{"value": "whsec_leak-me-not' });
    const garbled = await rejection(store.getVersions(name, { signal: signal() }));
    expect(garbled).toMatchObject({ reason: 'UNAVAILABLE', retryable: true, code: 'PARSE_ERROR', status: 200 });
    // The SDK's parse error quotes the body (here, a secret): none of it is kept.
    expect(`${garbled.message} ${garbled.cause.message} ${JSON.stringify(garbled)} ${inspect(garbled, { depth: 5 })}`).not.toContain(
      'leak-me-not',
    );
  });

  it('a missing secret is NOT_FOUND (terminal) whether the list is empty or answers 404', async () => {
    const store = h().store();
    const empty = await rejection(store.getVersions('never-created', { signal: signal() }));
    expect(empty).toMatchObject({ reason: 'NOT_FOUND', retryable: false, code: 'NO_VERSIONS' });
    expect(empty.message).toContain('does not exist');
    h().vault.model.injectFault({ op: 'getSecretVersions', status: 404, code: 'SecretNotFound' });
    expect(await rejection(store.getVersions('never-created', { signal: signal() }))).toMatchObject({
      reason: 'NOT_FOUND',
      retryable: false,
    });
  });

  it('a soft-deleted secret is NOT_FOUND with how long it can be recovered; recovered, it verifies again', async () => {
    const name = fresh('deleted');
    const m = h().vault.model;
    m.addVersion(name, 'still-here');
    const store = h().store();
    await h()
      .client.beginDeleteSecret(name)
      .then((p) => p.pollUntilDone({ intervalInMs: 1 } as never));
    const err = await rejection(store.getVersions(name, { signal: signal() }));
    expect(err).toMatchObject({ reason: 'NOT_FOUND', retryable: false });
    const purge = new Date(Math.floor(clock.now() / 1000) * 1000 + 90 * DAY).toISOString();
    expect(err.message).toContain(`soft-deleted (it can be recovered until ${purge})`);
    await h()
      .client.beginRecoverDeletedSecret(name)
      .then((p) => p.pollUntilDone({ intervalInMs: 1 } as never));
    expect((await store.getVersions(name, { signal: signal() }))[0]).toMatchObject({ secret: 'still-here', role: 'active' });
  });

  it('a bad client secret is ACCESS_DENIED (terminal) from the token endpoint, with no secret in the error', async () => {
    const v = h().vault;
    const store = h().store({ credential: new ClientSecretCredential(v.tenantId, v.clientId, 'wrong-secret', v.credentialOptions()) });
    const name = fresh('denied');
    v.model.addVersion(name, 'x');
    const err = await rejection(store.getVersions(name, { signal: signal() }));
    expect(err).toMatchObject({ reason: 'ACCESS_DENIED', retryable: false, code: 'AuthenticationRequiredError' });
    expect(err.cause.message).toContain('invalid_client');
    expect(JSON.stringify(err) + String(err.stack) + String(err.cause?.message)).not.toContain(v.clientSecret);
  });

  it('an outage of the token endpoint is UNAVAILABLE (retryable)', async () => {
    const v = h().vault;
    const credential = new ClientSecretCredential(v.tenantId, v.clientId, v.clientSecret, {
      ...v.credentialOptions(),
      retryOptions: { maxRetries: 0 },
    });
    const name = fresh('sts-down');
    v.model.addVersion(name, 'x');
    v.model.injectFault({ op: 'token', status: 503 });
    const err = await rejection(h().store({ credential }).getVersions(name, { signal: signal() }));
    expect(err).toMatchObject({ reason: 'UNAVAILABLE', retryable: true, code: 'AuthenticationRequiredError' });
  });

  it('a challenge whose resource does not match the vault domain is INVALID_CONFIG (the SDK refuses to send a token)', async () => {
    const other = await harness({ resource: 'https://vault.azure.net' });
    try {
      other.vault.model.addVersion('x', 'y');
      const err = await rejection(other.store().getVersions('x', { signal: signal() }));
      expect(err).toMatchObject({ reason: 'INVALID_CONFIG', retryable: false, code: 'ChallengeMismatch' });
      expect(other.vault.tokenRequests).toEqual([]);
      // What the SDK offers for sovereign/private domains: the check can be turned off.
      const relaxed = other.store({ clientOptions: { ...other.vault.clientOptions(), disableChallengeResourceVerification: true } });
      expect(await relaxed.getVersions('x', { signal: signal() })).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('an untrusted certificate is INVALID_CONFIG (terminal), not an outage', async () => {
    const name = fresh('tls');
    h().vault.model.addVersion(name, 'x');
    const agent = new Agent({
      lookup: ((host: string, o: unknown, cb: (e: null, a: unknown, f?: number) => void) =>
        typeof o === 'object' && (o as { all?: boolean }).all
          ? cb(null, [{ address: '127.0.0.1', family: 4 }])
          : cb(null, '127.0.0.1', 4)) as never,
    });
    try {
      const err = await rejection(h().store({ clientOptions: { agent } }).getVersions(name, { signal: signal() }));
      expect(err).toMatchObject({ reason: 'INVALID_CONFIG', retryable: false });
      expect(String(err.code)).toMatch(/CERT|SIGNATURE|ISSUER/);
    } finally {
      agent.destroy();
    }
  });

  it('rejects bad secret ids without a call', async () => {
    const from = h().vault.model.calls.length;
    for (const id of [
      '',
      'a/b',
      'name/0123456789abcdef0123456789abcdef',
      'https://x.vault.azure.net/secrets/a',
      'x'.repeat(128),
      'naïve',
    ]) {
      expect(await rejection(h().store().getVersions(id, { signal: signal() }))).toMatchObject({
        reason: 'INVALID_CONFIG',
        retryable: false,
      });
    }
    expect(h().vault.model.calls.length).toBe(from);
  });
});

describe('deadlines and cancellation', () => {
  it('a call that hangs past callTimeoutMs is TIMEOUT (retryable)', async () => {
    const name = fresh('slow');
    h().vault.model.addVersion(name, 'x');
    const store = h().store({ callTimeoutMs: 200 });
    await store.getVersions(name, { signal: signal() }); // token and challenge out of the way
    h().vault.model.injectFault({ op: 'getSecretVersions', hang: true });
    expect(await rejection(store.getVersions(name, { signal: signal() }))).toMatchObject({ reason: 'TIMEOUT', retryable: true });
  });

  it('an abort ends a hanging list page at once, also after the first page (the SDK does not pass the signal on)', async () => {
    const m = h().vault.model;
    const name = fresh('abort');
    for (let i = 0; i < 5; i++) m.addVersion(name, `v${i}`, { created: clock.now() - (5 - i) * 1000 });
    const paged = await harness({ now: clock.now, pageSize: 2, model: m }, clock.now);
    try {
      const store = paged.store({ callTimeoutMs: 60_000 });
      await store.getVersions(name, { signal: signal() });
      for (const continuationOnly of [false, true]) {
        m.injectFault({ op: 'getSecretVersions', hang: true, continuationOnly });
        const controller = new AbortController();
        const pending = rejection(store.getVersions(name, { signal: controller.signal }));
        await vi.waitFor(() => expect(m.calls.some((c) => c.name === name && c.status === 0)).toBe(true));
        const started = performance.now();
        controller.abort(new Error('verifier gave up'));
        expect(await pending).toMatchObject({ reason: 'ABORTED', retryable: true });
        expect(performance.now() - started).toBeLessThan(500);
        for (const c of m.calls) if (c.status === 0) c.status = -1;
      }
    } finally {
      await paged.close();
    }
  });

  it('an already-aborted signal makes no call', async () => {
    const from = h().vault.model.calls.length;
    const c = new AbortController();
    c.abort();
    expect(await rejection(h().store().getVersions('anything', { signal: c.signal }))).toMatchObject({ reason: 'ABORTED' });
    expect(h().vault.model.calls.length).toBe(from);
  });
});

describe('options', () => {
  it('validates every option at creation and never touches the network', async () => {
    const { azureKeyVaultStore } = await import('../src/index.ts');
    const bad: Record<string, unknown>[] = [
      {},
      { vaultUrl: 'http://x.vault.azure.net' },
      { vaultUrl: 'https://x.vault.azure.net/secrets/a' },
      { vaultUrl: 'https://x.vault.azure.net', callTimeoutMs: 0 },
      { vaultUrl: 'https://x.vault.azure.net', callTimeoutMs: Infinity },
      { vaultUrl: 'https://x.vault.azure.net', clockLeewayMs: -1 },
      { vaultUrl: 'https://x.vault.azure.net', clockLeewayMs: Number.NaN },
      { vaultUrl: 'https://x.vault.azure.net', previousGraceMs: -5 },
      { vaultUrl: 'https://x.vault.azure.net', previousGraceMs: '1h' },
      { vaultUrl: 'https://x.vault.azure.net', now: 5 },
      { client: {} },
      { client: h().client, vaultUrl: 'https://x.vault.azure.net' },
    ];
    for (const o of bad) expect(() => azureKeyVaultStore(o as never)).toThrow(TypeError);
    expect(azureKeyVaultStore({ vaultUrl: 'https://x.vault.azure.net', previousGraceMs: Infinity }).name).toBe('azure-key-vault');
  });

  it('uses an injected SecretClient as is', async () => {
    const name = fresh('injected');
    h().vault.model.addVersion(name, 'x');
    const store = h().store({ client: h().client });
    expect(await store.getVersions(name, { signal: signal() })).toMatchObject([{ secret: 'x', role: 'active' }]);
  });

  it('after dispose() every call fails terminally', async () => {
    const store = h().store();
    store.dispose();
    expect(await rejection(store.getVersions('x', { signal: signal() }))).toMatchObject({ reason: 'INVALID_CONFIG', retryable: false });
  });
});
