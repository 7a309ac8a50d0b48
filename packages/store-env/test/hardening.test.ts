/**
 * The env stores against issue 12: key ids that do not confirm guessed secrets (item 9), `*_FILE`
 * secrets ending with a newline (item 15), a previous key without an end (item 8), and store errors
 * that reach the sender and the logs with their reason (item 16).
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, KeyStoreError, providers, type KeyturnEvent, type VerificationError } from '@keyturn/core';
import { describe, expect, it, vi } from 'vitest';
import { envKeyStore, type EnvSecretWarning } from '../src/index.ts';
import { envFileKeyStore } from '../src/file/index.ts';

const signal = new AbortController().signal;
const body = '{"eventId":"e1","eventType":"VEHICLE_STATE"}';
const scHeaders = (secret: string | Uint8Array) => ({ 'sc-signature': createHmac('sha256', secret).update(body).digest('hex') });
const RANDOM = 'f3a9c1e07b5d4286a1c9e3f5b7d90246e8a0c2b4d6f81357';
const quiet = () => undefined;

async function dirWith(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-env-hardening-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

describe('key ids do not confirm guessed secrets (item 9)', () => {
  it('a derived id is PBKDF2-HMAC-SHA256 (10 000 iterations, salted with the secret id), not an unkeyed SHA-256 prefix', async () => {
    const secret = 'smartcar-prod-2024';
    const [v] = await envKeyStore({ env: { SC: secret }, onWarning: quiet }).getVersions('SC', { signal });
    // Independent computation with node:crypto.
    expect(v!.id).toBe(`SC@${pbkdf2Sync(secret, 'keyturn/key-id/v2\u0000SC', 10_000, 4, 'sha256').toString('hex')}`);
    // The old id: one SHA-256 over a public salt — one hash per guess to confirm a guessed secret.
    const salted = Buffer.concat([Buffer.from('keyturn-key-id\0\0'), Buffer.from(secret)]);
    expect(v!.id).not.toBe(`SC@${createHash('sha256').update(salted).digest('hex').slice(0, 8)}`);
  });

  it('the same secret under two secret ids gets two unrelated ids (no cross-tenant linking)', async () => {
    const a = await envKeyStore({ env: { A: RANDOM } }).getVersions('A', { signal });
    const b = await envKeyStore({ env: { B: RANDOM } }).getVersions('B', { signal });
    expect(a[0]!.id.slice(2)).not.toBe(b[0]!.id.slice(2));
  });

  it('ids can be named: X_KEY_ID, X_PREVIOUS_KEY_ID, X_PENDING_KEY_ID, and they follow the secret through a rotation', async () => {
    const before = await envKeyStore({ env: { SC: RANDOM, SC_KEY_ID: '2026-05' } }).getVersions('SC', { signal });
    expect(before.map((v) => v.id)).toEqual(['SC@2026-05']);
    const after = await envKeyStore({
      env: {
        SC: RANDOM.split('').reverse().join(''),
        SC_KEY_ID: '2026-11',
        SC_PREVIOUS: RANDOM,
        SC_PREVIOUS_KEY_ID: '2026-05',
        SC_PENDING: `${RANDOM}x`,
        SC_PENDING_KEY_ID: 'next',
      },
    }).getVersions('SC', { signal });
    expect(after.map((v) => [v.role, v.id])).toEqual([
      ['active', 'SC@2026-11'],
      ['pending', 'SC@next'],
      ['previous', 'SC@2026-05'],
    ]);
  });

  it.each([
    [{ SC: RANDOM, SC_KEY_ID: 'v1', SC_PREVIOUS: `${RANDOM}0` }, /SC_PREVIOUS has no SC_PREVIOUS_KEY_ID/],
    [{ SC: RANDOM, SC_PREVIOUS: `${RANDOM}0`, SC_PREVIOUS_KEY_ID: 'v1' }, /SC has no SC_KEY_ID/],
    [{ SC: RANDOM, SC_KEY_ID: 'v1', SC_PREVIOUS: `${RANDOM}0`, SC_PREVIOUS_KEY_ID: 'v1' }, /two keys of SC are named SC@v1/],
    [{ SC: RANDOM, SC_KEY_ID: 'has space' }, /SC_KEY_ID must be 1 to 64/],
    [{ SC: RANDOM, SC_KEY_ID: '' }, /SC_KEY_ID must be 1 to 64/],
    [{ SC: RANDOM, SC_PENDING_KEY_ID: 'x' }, /SC_PENDING_KEY_ID is set but SC_PENDING is not/],
  ])('refuses %j with a terminal INVALID_CONFIG error', async (env, message) => {
    const err = await envKeyStore({ env })
      .getVersions('SC', { signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyStoreError);
    expect(err).toMatchObject({ reason: 'INVALID_CONFIG', retryable: false });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain(RANDOM);
  });

  it('an env-file rotation that cannot move a named id fails before writing anything', async () => {
    const dir = await dirWith({ 'webhooks.env': `SC=${RANDOM}\nSC_KEY_ID=v1\n` });
    const path = join(dir, 'webhooks.env');
    const store = envFileKeyStore({ path });
    const err = await store.rotate('SC', `${RANDOM}new`).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'INVALID_CONFIG', store: 'env-file' });
    expect(await readFile(path, 'utf8')).toBe(`SC=${RANDOM}\nSC_KEY_ID=v1\n`);
  });

  it('warns once per key when a secret looks guessable, naming the variable and the key but never the secret', async () => {
    const warnings: EnvSecretWarning[] = [];
    const store = envKeyStore({
      env: { SC: 'password123', SC_PREVIOUS: RANDOM, OTHER: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', HUMAN: 'smartcar-prod-2024' },
      onWarning: (w) => warnings.push(w),
    });
    for (let i = 0; i < 3; i++) await store.getVersions('SC', { signal });
    await store.getVersions('OTHER', { signal });
    await store.getVersions('HUMAN', { signal });
    expect(warnings.map((w) => [w.code, w.variable, w.keyId.split('@')[0]])).toEqual([
      ['LOW_ENTROPY_SECRET', 'SC', 'SC'],
      ['LOW_ENTROPY_SECRET', 'OTHER', 'OTHER'],
      ['LOW_ENTROPY_SECRET', 'HUMAN', 'HUMAN'],
    ]);
    expect(warnings[0]!.estimatedBits).toBeLessThan(72);
    for (const w of warnings) {
      expect(JSON.stringify(w)).not.toContain('password123');
      expect(JSON.stringify(w)).not.toContain('aaaaaaaa');
    }
  });

  it('random secrets of 128 bits or more are never reported, in any usual encoding', async () => {
    const warnings: EnvSecretWarning[] = [];
    const onWarning = (w: EnvSecretWarning) => warnings.push(w);
    for (let i = 0; i < 1_000; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      const env = {
        HEX: Buffer.from(bytes).toString('hex'),
        B64: Buffer.from(bytes).toString('base64'),
        B64URL: Buffer.from(bytes).toString('base64url'),
        UUID: crypto.randomUUID(),
        DS: `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`,
      };
      // Named ids: no PBKDF2 per load, so the estimate runs over a thousand random secrets quickly.
      const named = Object.fromEntries(Object.keys(env).map((k) => [`${k}_KEY_ID`, `k${i}`]));
      for (const id of Object.keys(env)) await envKeyStore({ env: { ...env, ...named }, onWarning }).getVersions(id, { signal });
    }
    expect(warnings).toEqual([]);
  });

  it('the default receiver is a process warning (once per key)', async () => {
    const seen: Error[] = [];
    const listener = (w: Error) => seen.push(w);
    process.on('warning', listener);
    try {
      const store = envKeyStore({ env: { WEAK_DEFAULT: 'changeme' } });
      await store.getVersions('WEAK_DEFAULT', { signal });
      await store.getVersions('WEAK_DEFAULT', { signal });
      await new Promise((r) => setImmediate(r));
      const ours = seen.filter((w) => (w as { code?: string }).code === 'KEYTURN_LOW_ENTROPY_SECRET');
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).toContain('WEAK_DEFAULT');
      expect(ours[0]!.message).not.toContain('changeme');
    } finally {
      process.off('warning', listener);
    }
  });
});

describe('*_FILE secrets ending with a newline (item 15)', () => {
  const cases: [string, string | Uint8Array, string | undefined][] = [
    ['echo tok > file', 'tok-1a2b3c\n', 'tok-1a2b3c'],
    ['a Windows editor', 'tok-1a2b3c\r\n', 'tok-1a2b3c'],
    ['printf without a newline', 'tok-1a2b3c', 'tok-1a2b3c'],
    ['two newlines', 'tok-1a2b3c\n\n', undefined],
    ['a space before the newline', 'tok-1a2b3c \n', undefined],
    ['leading whitespace', ' tok-1a2b3c\n', undefined],
    ['a lone carriage return', 'tok-1a2b3c\r', undefined],
    ['a tab', 'tok-1a2b3c\t', undefined],
  ];

  for (const make of [
    (dir: string) => envKeyStore({ env: { SC_FILE: join(dir, 'secret') }, onWarning: quiet }),
    (dir: string) => envFileKeyStore({ path: join(dir, 'webhooks.env') }),
  ]) {
    it.each(cases)(
      `${make.toString().includes('envFileKeyStore') ? 'envFileKeyStore' : 'envKeyStore'}: %s`,
      async (_what, content, expected) => {
        const dir = await dirWith({ secret: content, 'webhooks.env': 'SC_FILE=secret\n' });
        const result = await make(dir)
          .getVersions('SC', { signal })
          .catch((e: unknown) => e);
        if (expected === undefined) {
          expect(result).toMatchObject({ code: 'WHITESPACE', retryable: false });
        } else {
          expect((result as { secret: unknown }[])[0]!.secret).toBe(expected);
        }
      },
    );
  }

  it('a Kubernetes-style secret file (final newline) verifies instead of failing every request with a 5xx', async () => {
    const dir = await dirWith({ amt: 'amt-7f3e9a1c5b2d4e6f8a0b1c2d3e4f5a6b\n' });
    const v = createVerifier({
      provider: providers.smartcar(),
      keys: envKeyStore({ env: { SMARTCAR_AMT_FILE: join(dir, 'amt') } }),
      secretId: 'SMARTCAR_AMT',
    });
    expect((await v.verify({ body, headers: scHeaders('amt-7f3e9a1c5b2d4e6f8a0b1c2d3e4f5a6b') })).keyRole).toBe('active');
  });

  it('a binary (non-UTF-8) key file is used byte for byte, even when its last byte is 0x0a', async () => {
    const key = Uint8Array.from([0xff, 0xfe, ...crypto.getRandomValues(new Uint8Array(29)), 0x0a]);
    const dir = await dirWith({ key });
    const [v] = await envKeyStore({ env: { BIN_FILE: join(dir, 'key') } }).getVersions('BIN', { signal });
    expect(Buffer.from(v!.secret as Uint8Array).equals(Buffer.from(key))).toBe(true);
  });

  it('fileTrailingNewline must be "strip" or "error"', () => {
    expect(() => envKeyStore({ fileTrailingNewline: 'trim' as never })).toThrow(TypeError);
  });
});

describe('a previous key without an end (item 8)', () => {
  it('X_PREVIOUS without X_PREVIOUS_NOT_AFTER: the verifier reports it once, and accepts it', async () => {
    const events: KeyturnEvent[] = [];
    const env: Record<string, string> = { SC: RANDOM, SC_PREVIOUS: `${RANDOM}old` };
    const v = createVerifier({
      provider: providers.smartcar(),
      keys: envKeyStore({ env }),
      secretId: 'SC',
      cache: { ttlMs: 0 },
      onEvent: (e) => events.push(e),
    });
    for (let i = 0; i < 3; i++) expect((await v.verify({ body, headers: scHeaders(`${RANDOM}old`) })).keyRole).toBe('previous');
    const unbounded = events.filter((e) => e.type === 'previous-key-unbounded');
    expect(unbounded).toHaveLength(1);
    expect(unbounded[0]).toMatchObject({ store: 'env', secretId: 'SC', keyId: expect.stringMatching(/^SC@/) });
    // With an end, no event.
    const events2: KeyturnEvent[] = [];
    const bounded = createVerifier({
      provider: providers.smartcar(),
      keys: envKeyStore({ env: { ...env, SC_PREVIOUS_NOT_AFTER: '2099-01-01T00:00:00Z' } }),
      secretId: 'SC',
      onEvent: (e) => events2.push(e),
    });
    await bounded.verify({ body, headers: scHeaders(`${RANDOM}old`) });
    expect(events2.filter((e) => e.type === 'previous-key-unbounded')).toEqual([]);
  });
});

describe('store errors reach the sender and the logs with their reason (item 16)', () => {
  it('a missing variable is KEYSTORE_MISCONFIGURED (500) and says which variable, in the message and in toJSON()', async () => {
    const v = createVerifier({ provider: providers.smartcar(), keys: envKeyStore({ env: {} }), secretId: 'SMARTCAR_AMT' });
    const err = (await v.verify({ body, headers: scHeaders('x') }).catch((e: unknown) => e)) as VerificationError;
    expect(err).toMatchObject({ code: 'KEYSTORE_MISCONFIGURED', status: 500 });
    expect(err.message).toBe('Key store env failed to load SMARTCAR_AMT: env: SMARTCAR_AMT (or SMARTCAR_AMT_FILE) is not set');
    expect(JSON.stringify(err)).toContain('"reason":"NOT_FOUND"');
  });

  it('a secret with whitespace is a misconfiguration that names the variable, never the value', async () => {
    const v = createVerifier({ provider: providers.smartcar(), keys: envKeyStore({ env: { SC: ` ${RANDOM}` } }), secretId: 'SC' });
    const err = (await v.verify({ body, headers: scHeaders('x') }).catch((e: unknown) => e)) as VerificationError;
    expect(err).toMatchObject({ code: 'KEYSTORE_MISCONFIGURED' });
    expect(err.message).toContain('env: SC has leading or trailing whitespace');
    expect(JSON.stringify(err)).not.toContain(RANDOM);
  });

  it('an unreadable secret file (I/O error) is an outage: KEYSTORE_UNAVAILABLE (503), with the errno code', async () => {
    const readFileFails = vi.fn(async () => {
      throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    });
    const v = createVerifier({
      provider: providers.smartcar(),
      keys: envKeyStore({ env: { SC_FILE: '/secrets/sc' }, readFile: readFileFails }),
      secretId: 'SC',
    });
    const err = (await v.verify({ body, headers: scHeaders('x') }).catch((e: unknown) => e)) as VerificationError;
    expect(err).toMatchObject({ code: 'KEYSTORE_UNAVAILABLE', status: 503 });
    expect(err.message).toContain('cannot read the file named by SC_FILE (EIO)');
  });
});
