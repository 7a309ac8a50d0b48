/**
 * Store failures as the sender and the logs see them (issue 12, item 16): the store's secret-free
 * reason is carried into the message and `toJSON()`, and a misconfiguration is told from an outage.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVerifier, KeyStoreError, providers, SERVER_SIDE_STATUS, VerificationError, type KeyStore } from '../src/index.ts';
import { controllableStore, fakeClock, mac } from './support/stores.ts';

let clock = fakeClock();
beforeEach(() => {
  clock = fakeClock();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const body = '{"eventId":"e1"}';
const req = { body, headers: { 'sc-signature': mac('token', body) } };
const make = (store: KeyStore, cache = {}) =>
  createVerifier({ provider: providers.smartcar(), keys: store, secretId: 'SMARTCAR_AMT', now: clock.now, cache });

describe('store failures carry their reason and tell a misconfiguration from an outage', () => {
  it('a missing secret (terminal) is KEYSTORE_MISCONFIGURED, 500, with the store message in the message and in toJSON()', async () => {
    const cause = new KeyStoreError('env: SMARTCAR_AMT (or SMARTCAR_AMT_FILE) is not set', {
      retryable: false,
      store: 'env',
      secretId: 'SMARTCAR_AMT',
      reason: 'NOT_FOUND',
    });
    const v = make({ name: 'env', getVersions: async () => Promise.reject(cause) });
    const err = (await v.verify(req).catch((e: unknown) => e)) as VerificationError;
    expect(err).toBeInstanceOf(VerificationError);
    expect(err).toMatchObject({ code: 'KEYSTORE_MISCONFIGURED', status: 500 });
    expect(err.message).toBe('Key store env failed to load SMARTCAR_AMT: env: SMARTCAR_AMT (or SMARTCAR_AMT_FILE) is not set');
    expect(err.cause).toBe(cause);
    const json = JSON.parse(JSON.stringify(err)) as Record<string, unknown>;
    expect(json).toMatchObject({
      code: 'KEYSTORE_MISCONFIGURED',
      status: 500,
      message: err.message,
      cause: { name: 'KeyStoreError', store: 'env', reason: 'NOT_FOUND', retryable: false, message: cause.message },
    });
    expect(err.hint).toMatch(/configuration error \(NOT_FOUND\)/);
  });

  it('an outage (retryable) stays KEYSTORE_UNAVAILABLE, 503, also with the store message', async () => {
    const s = controllableStore('aws-secrets-manager');
    s.answer(
      () =>
        new KeyStoreError('AWS Secrets Manager GetSecretValue for SMARTCAR_AMT failed: ThrottlingException.', {
          retryable: true,
          store: 'aws-secrets-manager',
          reason: 'THROTTLED',
          code: 'ThrottlingException',
        }),
    );
    const v = make(s.store);
    const err = (await v.verify(req).catch((e: unknown) => e)) as VerificationError;
    expect(err).toMatchObject({ code: 'KEYSTORE_UNAVAILABLE', status: 503, hint: undefined });
    expect(err.message).toContain('failed: ThrottlingException');
    // In error backoff the next request is answered without a store call, with the same reason.
    const again = (await v.verify(req).catch((e: unknown) => e)) as VerificationError;
    expect(again.message).toMatch(/retrying later\): AWS Secrets Manager .* ThrottlingException/);
    expect(s.calls).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(err)).cause).toMatchObject({ reason: 'THROTTLED', code: 'ThrottlingException', retryable: true });
  });

  it('a stale set that stops serving reports the last store error too', async () => {
    const s = controllableStore();
    s.answer(() => [{ id: 'k', secret: 'token', role: 'active' }]);
    const v = make(s.store, { ttlMs: 60_000, maxStaleMs: 60_000, jitter: 0 });
    await v.warm();
    s.answer(() => new KeyStoreError('ctl: access denied to SMARTCAR_AMT', { retryable: false, store: 'ctl', reason: 'ACCESS_DENIED' }));
    await clock.advance(60_001);
    expect((await v.verify(req)).keyId).toBe('k'); // stale-if-error
    await clock.advance(120_000);
    await expect(v.verify(req)).rejects.toMatchObject({
      code: 'KEYSTORE_MISCONFIGURED',
      message: expect.stringContaining('access denied to SMARTCAR_AMT'),
    });
  });

  it('an error a store did not classify: retryable, with its name and code only — its message could quote anything', async () => {
    const secretish = 'Unexpected token s in JSON: "super-secret-value"';
    const thrown = Object.assign(new SyntaxError(secretish), { code: 'ERR_BAD_JSON' });
    const v = make({ name: 'custom', getVersions: async () => Promise.reject(thrown) });
    const err = (await v.verify(req).catch((e: unknown) => e)) as VerificationError;
    expect(err).toMatchObject({ code: 'KEYSTORE_UNAVAILABLE' });
    expect(err.message).toBe(
      'Key store custom failed to load SMARTCAR_AMT: custom: loading SMARTCAR_AMT failed (SyntaxError ERR_BAD_JSON)',
    );
    const outputs = [JSON.stringify(err), err.message, String(err), JSON.stringify(v.status())];
    for (const o of outputs) expect(o).not.toContain('super-secret-value');
    expect(inspect(err.toJSON(), { depth: 5 })).not.toContain('super-secret-value');
  });

  it('toJSON() of an error whose cause is not a KeyStoreError shows only the cause name', () => {
    const e = new VerificationError('KEYSTORE_UNAVAILABLE', 'replay store down', { cause: new Error('redis said: secret=abc') });
    expect(e.toJSON()['cause']).toEqual({ name: 'Error' });
    expect(JSON.stringify(e)).not.toContain('secret=abc');
  });

  it('every new code is server-side (5xx), so nothing is lost', () => {
    expect(SERVER_SIDE_STATUS).toMatchObject({
      KEYSTORE_MISCONFIGURED: 500,
      COLD_LOAD_LIMITED: 503,
      INVALID_INPUT: 500,
      KEYSTORE_UNAVAILABLE: 503,
    });
    for (const code of ['KEYSTORE_MISCONFIGURED', 'COLD_LOAD_LIMITED', 'INVALID_INPUT'] as const) {
      expect(new VerificationError(code, 'm').status).toBeGreaterThanOrEqual(500);
    }
  });
});
