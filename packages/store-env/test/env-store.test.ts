import { pbkdf2Sync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createVerifier, KeyStoreError, providers, sign } from '@keyturn/core';
import { runKeyStoreConformance } from '@keyturn/core/testing';
import { describe, expect, it } from 'vitest';
import { envKeyStore } from '../src/index.ts';

const signal = new AbortController().signal;

runKeyStoreConformance({
  name: 'envKeyStore',
  capabilities: { pending: true, binary: true },
  async setup({ active, previous, pending, binary }) {
    const env: Record<string, string> = { HOOK: active, HOOK_PREVIOUS: previous };
    if (pending !== undefined) env['HOOK_PENDING'] = pending;
    if (binary !== undefined) {
      const dir = await mkdtemp(join(tmpdir(), 'keyturn-env-'));
      await writeFile(join(dir, 'hook'), binary);
      delete env['HOOK'];
      env['HOOK_FILE'] = join(dir, 'hook');
    }
    return { store: envKeyStore({ env }), secretId: 'HOOK' };
  },
  terminalFailure: async () => ({ store: envKeyStore({ env: {} }), secretId: 'HOOK' }),
  retryableFailure: async () => ({
    store: envKeyStore({
      env: { HOOK_FILE: '/secrets/hook' },
      readFile: async () => {
        throw Object.assign(new Error('I/O error'), { code: 'EIO' });
      },
    }),
    secretId: 'HOOK',
  }),
  hanging: async () => ({
    store: envKeyStore({
      env: { HOOK_FILE: '/secrets/hook' },
      readFile: (_path, { signal: s }) => new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason), { once: true })),
    }),
    secretId: 'HOOK',
  }),
});

describe('envKeyStore', () => {
  it('maps X, X_PREVIOUS with its window and opt-in X_PENDING to roles', async () => {
    const store = envKeyStore({
      env: {
        SC: 'new-token',
        SC_PREVIOUS: 'old-token',
        SC_PREVIOUS_NOT_AFTER: '2026-12-01T00:00:00Z',
        SC_PENDING: 'next-token',
        SC_PENDING_NOT_BEFORE: '1764547200000',
      },
    });
    const versions = await store.getVersions('SC', { signal });
    expect(versions.map((v) => [v.role, v.secret])).toEqual([
      ['active', 'new-token'],
      ['pending', 'next-token'],
      ['previous', 'old-token'],
    ]);
    expect(versions.find((v) => v.role === 'previous')?.notAfter).toBe(Date.UTC(2026, 11, 1));
    expect(versions.find((v) => v.role === 'pending')?.notBefore).toBe(1764547200000);
  });

  it('gives a key a new id when the secret behind a variable changes', async () => {
    const a = await envKeyStore({ env: { SC: 'one' } }).getVersions('SC', { signal });
    const b = await envKeyStore({ env: { SC: 'two' } }).getVersions('SC', { signal });
    expect(a[0]!.id).toMatch(/^SC@[0-9a-f]{8}$/);
    expect(a[0]!.id).toBe(`SC@${pbkdf2Sync('one', 'keyturn/key-id/v2\u0000SC', 10_000, 4, 'sha256').toString('hex')}`);
    expect(a[0]!.id).not.toBe(b[0]!.id);
    // ...and keeps it when a rotation moves the value from SC to SC_PREVIOUS (usage counts follow the key).
    const c = await envKeyStore({ env: { SC: 'three', SC_PREVIOUS: 'one' } }).getVersions('SC', { signal });
    expect(c.find((v) => v.role === 'previous')!.id).toBe(a[0]!.id);
  });

  it.each([
    [{ SC: '' }, 'EMPTY_VALUE'],
    [{ SC: ' token' }, 'WHITESPACE'],
    [{ SC: 'token\n' }, 'WHITESPACE'],
    [{ SC: 'a', SC_PREVIOUS: 'b', SC_PREVIOUS_NOT_AFTER: 'next tuesday' }, 'INVALID_DATE'],
    [{ SC: 'a', SC_PREVIOUS: 'b', SC_PREVIOUS_NOT_AFTER: '2026-12-01' }, 'INVALID_DATE'],
    [{ SC: 'a', SC_FILE: '/x' }, 'AMBIGUOUS'],
    [{ SC: 'a', SC_PREVIOUS_NOT_AFTER: '1' }, 'ORPHAN_WINDOW'],
    [{ SC_PREVIOUS: 'b' }, 'NOT_FOUND'],
    [{ SC: 'a', SC_PREVIOUS: 'b', SC_PREVIOUS_NOT_BEFORE: '2000', SC_PREVIOUS_NOT_AFTER: '1000' }, 'INVALID_WINDOW'],
  ])('rejects %j with a terminal %s error that names no secret', async (env, reason) => {
    const err = await envKeyStore({ env })
      .getVersions('SC', { signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyStoreError);
    expect((err as KeyStoreError).code).toBe(reason);
    expect((err as KeyStoreError).reason).toBe(
      reason === 'NOT_FOUND' ? 'NOT_FOUND' : /VALUE|WHITESPACE|DATE/.test(reason) ? 'INVALID_FORMAT' : 'INVALID_CONFIG',
    );
    expect((err as KeyStoreError).retryable).toBe(false);
    for (const [name, value] of Object.entries(env)) {
      // secret values (not dates, not paths) never appear in the error
      if (/^SC(_PREVIOUS)?$/.test(name) && value.trim().length > 1) expect(inspect(err)).not.toContain(value.trim());
    }
  });

  it('rejects secret ids that are not variable names', async () => {
    const err = await envKeyStore({ env: {} })
      .getVersions('webhooks/acme', { signal })
      .catch((e: unknown) => e);
    expect((err as KeyStoreError).code).toBe('INVALID_NAME');
  });

  it('reads *_FILE secrets, dropping one final newline by default and refusing it with fileTrailingNewline: "error"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyturn-env-'));
    await writeFile(join(dir, 'amt'), 'file-token\n');
    const env = { SC_FILE: join(dir, 'amt') };
    const versions = await envKeyStore({ env }).getVersions('SC', { signal });
    expect(versions[0]!.secret).toBe('file-token');
    const err = await envKeyStore({ env, fileTrailingNewline: 'error' })
      .getVersions('SC', { signal })
      .catch((e: unknown) => e);
    expect((err as KeyStoreError).code).toBe('WHITESPACE');
    const missing = await envKeyStore({ env: { SC_FILE: join(dir, 'nope') } })
      .getVersions('SC', { signal })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'ENOENT', retryable: false });
  });

  it('collapses identical active and previous values into the active key', async () => {
    const versions = await envKeyStore({ env: { SC: 'same', SC_PREVIOUS: 'same' } }).getVersions('SC', { signal });
    expect(versions.map((v) => v.role)).toEqual(['active']);
  });

  it('drives a verifier through a rotation with a fake clock', async () => {
    let now = Date.UTC(2026, 10, 24, 12);
    const env: Record<string, string> = { DS: 'whsec_' + '11'.repeat(32) };
    const verifier = createVerifier({
      provider: providers.dataspike(),
      keys: envKeyStore({ env }),
      secretId: 'DS',
      now: () => now,
      windowLeewayMs: 0,
      cache: { ttlMs: 60_000, jitter: 0 },
    });
    const body = JSON.stringify({ id: 'evt_1', status: 'verified', name: 'Zoë' });
    const signed = (secret: string) => sign(providers.dataspike(), { body, secret, timestamp: Math.floor(now / 1000) });
    expect((await verifier.verify({ body, headers: signed(env['DS']!) })).keyRole).toBe('active');

    // Rotate: new secret active, old one previous for one hour.
    const old = env['DS']!;
    env['DS'] = 'whsec_' + '22'.repeat(32);
    env['DS_PREVIOUS'] = old;
    env['DS_PREVIOUS_NOT_AFTER'] = new Date(now + 3_600_000).toISOString();
    verifier.invalidate('DS');
    now += 1_000;
    expect(await verifier.verify({ body, headers: signed(env['DS']) })).toMatchObject({ keyRole: 'active' });
    expect(await verifier.verify({ body, headers: signed(old) })).toMatchObject({ keyRole: 'previous' });

    now += 3_600_000 + 1;
    await expect(verifier.verify({ body, headers: signed(old) })).rejects.toMatchObject({ code: 'KEY_EXPIRED' });
    const usage = verifier.usage('DS');
    // The old key kept its id through the rotation: one match as active, one as previous.
    expect(usage.find((u) => u.keyRole === 'previous')?.matches).toBe(2);
    expect(usage.find((u) => u.keyRole === 'active')?.matches).toBe(1);
  });
});
