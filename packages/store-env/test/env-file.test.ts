import { mkdtemp, readFile, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, parseEnv } from 'node:util';
import { createVerifier, KeyStoreError, providers, sign } from '@keyturn/core';
import { runKeyStoreConformance } from '@keyturn/core/testing';
import { describe, expect, it } from 'vitest';
import { envKeyStore } from '../src/index.ts';
import { envFileKeyStore } from '../src/file/index.ts';

const signal = new AbortController().signal;
const T0 = Date.parse('2026-11-24T12:00:00Z');

async function tempFile(content?: string, mode = 0o600): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-envfile-'));
  const path = join(dir, 'webhooks.env');
  if (content !== undefined) await writeFile(path, content, { mode });
  return path;
}

runKeyStoreConformance({
  name: 'envFileKeyStore',
  capabilities: { pending: true, binary: true },
  async setup({ active, previous, pending, binary }) {
    const lines = binary === undefined ? [`HOOK=${active}`] : ['HOOK_FILE=hook.bin'];
    lines.push(`HOOK_PREVIOUS=${previous}`);
    if (pending !== undefined) lines.push(`HOOK_PENDING=${pending}`);
    const path = await tempFile(lines.join('\n') + '\n');
    if (binary !== undefined) await writeFile(join(path, '..', 'hook.bin'), binary);
    return { store: envFileKeyStore({ path }), secretId: 'HOOK' };
  },
  terminalFailure: async () => ({ store: envFileKeyStore({ path: await tempFile('OTHER=x\n') }), secretId: 'HOOK' }),
});

describe('envFileKeyStore: reading', () => {
  it('reads the same versions and ids as envKeyStore for the same variables', async () => {
    const text = [
      '# webhook secrets',
      'export HOOK=whsec_00112233445566778899aabbccddeeff',
      "HOOK_PREVIOUS='old-secret'",
      'HOOK_PREVIOUS_NOT_AFTER=2026-12-01T00:00:00Z   # end of the window',
      'UNRELATED="a \\"quoted\\" value"',
      '',
    ].join('\n');
    const path = await tempFile(text);
    const fromFile = await envFileKeyStore({ path }).getVersions('HOOK', { signal });
    // Node's own parser is the independent reading of the same file.
    const env = parseEnv(text);
    const fromEnv = await envKeyStore({ env }).getVersions('HOOK', { signal });
    expect(fromFile).toEqual(fromEnv);
    expect(fromFile.map((v) => [v.role, v.notAfter])).toEqual([
      ['active', undefined],
      ['previous', Date.parse('2026-12-01T00:00:00Z')],
    ]);
  });

  it('rejects ambiguous lines with a line number and never the line itself', async () => {
    for (const [line, reason] of [
      ['HOOK=abc#def', 'PARSE_ERROR'],
      ['HOOK="unterminated', 'PARSE_ERROR'],
      ['not a variable line', 'PARSE_ERROR'],
      ['HOOK=s3cr3t-value  ', 'WHITESPACE'],
    ] as const) {
      const path = await tempFile(`A=1\n${line}\n`);
      const err = await envFileKeyStore({ path })
        .getVersions('HOOK', { signal })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect((err as KeyStoreError).code).toBe(reason);
      expect((err as KeyStoreError).reason).toBe('INVALID_FORMAT');
      expect((err as KeyStoreError).retryable).toBe(false);
      const text = `${String(err)} ${inspect(err)} ${JSON.stringify(err)}`;
      expect(text).not.toContain('s3cr3t');
      expect(text).not.toContain('abc#def');
      if (reason === 'PARSE_ERROR') expect((err as Error).message).toContain('line 2');
    }
  });

  it('rejects a name set twice', async () => {
    const path = await tempFile('HOOK=a\nHOOK=b\n');
    await expect(envFileKeyStore({ path }).getVersions('HOOK', { signal })).rejects.toMatchObject({ code: 'PARSE_ERROR' });
  });

  it('a missing file is a terminal NOT_FOUND', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'keyturn-envfile-')), 'absent.env');
    await expect(envFileKeyStore({ path }).getVersions('HOOK', { signal })).rejects.toMatchObject({
      reason: 'NOT_FOUND',
      retryable: false,
      store: 'env-file',
    });
  });
});

describe('envFileKeyStore: rotate', () => {
  const original = [
    '# Payments service',
    'PORT=8080',
    '',
    '# Dataspike webhook signing secret',
    'export DS=whsec_aaaa',
    'DS_PENDING=whsec_bbbb',
    '',
    'TRAILING="keep me"  # comment',
    '',
  ].join('\n');

  it('moves active to previous with a window, promotes a matching pending, keeps every other line', async () => {
    const path = await tempFile(original, 0o640);
    const store = envFileKeyStore({ path, now: () => T0 });
    const before = await store.getVersions('DS', { signal });
    const oldActiveId = before.find((v) => v.role === 'active')?.id;
    const result = await store.rotate('DS', 'whsec_bbbb', { previousGraceMs: 3_600_000 });
    expect(result.previousId).toBe(oldActiveId);
    expect(result.previousNotAfter).toBe(T0 + 3_600_000);
    const text = await readFile(path, 'utf8');
    expect(text).toBe(
      [
        '# Payments service',
        'PORT=8080',
        '',
        '# Dataspike webhook signing secret',
        'export DS=whsec_bbbb',
        'DS_PREVIOUS=whsec_aaaa',
        'DS_PREVIOUS_NOT_AFTER=2026-11-24T13:00:00.000Z',
        '',
        'TRAILING="keep me"  # comment',
        '',
      ].join('\n'),
    );
    // File mode kept; no temp or lock files left behind.
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(join(path, '..'))).toEqual(['webhooks.env']);
    // Node's parser agrees with what was written.
    expect(parseEnv(text)).toMatchObject({ DS: 'whsec_bbbb', DS_PREVIOUS: 'whsec_aaaa', TRAILING: 'keep me' });
    // Key ids follow the secret: the old active keeps its id as previous.
    const after = await store.getVersions('DS', { signal });
    expect(after.map((v) => [v.role, v.id])).toEqual([
      ['active', result.activeId],
      ['previous', oldActiveId],
    ]);
  });

  it('creates a missing file with mode 0600', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'keyturn-envfile-')), 'new.env');
    const store = envFileKeyStore({ path });
    const result = await store.rotate('HOOK', 'first-secret');
    expect(result.previousId).toBeUndefined();
    expect(await readFile(path, 'utf8')).toBe('HOOK=first-secret\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('is idempotent: writing the active secret again changes nothing and demotes nothing', async () => {
    const path = await tempFile('DS=whsec_aaaa\n');
    const store = envFileKeyStore({ path, now: () => T0 });
    const first = await store.rotate('DS', 'whsec_bbbb', { previousGraceMs: 60_000 });
    const text = await readFile(path, 'utf8');
    const again = await store.rotate('DS', 'whsec_bbbb', { previousGraceMs: 999_999 });
    expect(again).toEqual(first);
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('rotating twice keeps the newest as active and the one just before as previous', async () => {
    const path = await tempFile('DS=s0\n');
    const store = envFileKeyStore({ path, now: () => T0 });
    await store.rotate('DS', 's1', { previousGraceMs: 60_000 });
    await store.rotate('DS', 's2', { previousGraceMs: 60_000 });
    expect(parseEnv(await readFile(path, 'utf8'))).toEqual({
      DS: 's2',
      DS_PREVIOUS: 's1',
      DS_PREVIOUS_NOT_AFTER: new Date(T0 + 60_000).toISOString(),
    });
  });

  it('quotes values that need it, and reads them back exactly', async () => {
    const path = await tempFile('');
    const store = envFileKeyStore({ path });
    for (const secret of ['with#hash', "it's", 'a"b\\c$d', 'plain-Value_1.2/3+4=']) {
      await store.rotate('HOOK', secret);
      const text = await readFile(path, 'utf8');
      expect(parseEnv(text)['HOOK']).toBe(secret);
      const active = (await store.getVersions('HOOK', { signal })).find((v) => v.role === 'active');
      expect(active?.secret).toBe(secret);
    }
  });

  it('refuses values it cannot store faithfully, without echoing them', async () => {
    const path = await tempFile('HOOK=old\n');
    const store = envFileKeyStore({ path });
    for (const bad of [' lead-s3cr3t', 'tail-s3cr3t ', 'multi\ns3cr3t', '']) {
      const err = await store.rotate('HOOK', bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyStoreError);
      expect(`${String(err)} ${inspect(err)} ${JSON.stringify(err)}`).not.toContain('s3cr3t');
    }
    expect(await readFile(path, 'utf8')).toBe('HOOK=old\n');
  });

  it('refuses to rotate a secret that lives in a *_FILE reference', async () => {
    const path = await tempFile('HOOK_FILE=/run/secrets/hook\n');
    await expect(envFileKeyStore({ path }).rotate('HOOK', 'new')).rejects.toMatchObject({ code: 'FILE_REFERENCE' });
  });

  it('serialises concurrent writers with a lock file', async () => {
    const path = await tempFile('HOOK=s0\n');
    const stores = [envFileKeyStore({ path }), envFileKeyStore({ path })];
    await Promise.all(['s1', 's2', 's3', 's4'].map((s, i) => stores[i % 2]!.rotate('HOOK', s)));
    const env = parseEnv(await readFile(path, 'utf8'));
    // Whatever the order, the file is a consistent rotation: active and previous are two distinct written values.
    expect(['s1', 's2', 's3', 's4']).toContain(env['HOOK']);
    expect(['s1', 's2', 's3', 's4']).toContain(env['HOOK_PREVIOUS']);
    expect(env['HOOK']).not.toBe(env['HOOK_PREVIOUS']);
  });

  it('fails retryably when another writer holds the lock', async () => {
    const path = await tempFile('HOOK=s0\n');
    await writeFile(`${path}.lock`, '999999\n');
    const store = envFileKeyStore({ path, lockTimeoutMs: 50 });
    await expect(store.rotate('HOOK', 's1')).rejects.toMatchObject({ code: 'LOCKED', retryable: true });
    expect(await readFile(path, 'utf8')).toBe('HOOK=s0\n');
  });

  it('a verifier on the file picks the rotation up: old and new both verify until the window ends', async () => {
    let now = T0;
    const path = await tempFile('DS=whsec_00112233445566778899aabbccddeeff\n');
    const store = envFileKeyStore({ path, now: () => now });
    const verifier = createVerifier({ provider: providers.dataspike(), keys: store, secretId: 'DS', now: () => now });
    await store.rotate('DS', 'whsec_ffeeddccbbaa99887766554433221100', { previousGraceMs: 60_000 });
    const body = '{"id":"e1"}';
    const ts = Math.floor(now / 1000);
    const oldSig = sign(providers.dataspike(), { body, secret: 'whsec_00112233445566778899aabbccddeeff', timestamp: ts });
    const newSig = sign(providers.dataspike(), { body, secret: 'whsec_ffeeddccbbaa99887766554433221100', timestamp: ts });
    expect((await verifier.verify({ body, headers: newSig })).keyRole).toBe('active');
    expect((await verifier.verify({ body, headers: oldSig })).keyRole).toBe('previous');
    now += 120_000;
    const later = Math.floor(now / 1000);
    const oldLater = sign(providers.dataspike(), { body, secret: 'whsec_00112233445566778899aabbccddeeff', timestamp: later });
    await expect(verifier.verify({ body, headers: oldLater })).rejects.toMatchObject({ code: 'KEY_EXPIRED' });
    await verifier.dispose();
  });
});

describe('envFileKeyStore: retirePrevious', () => {
  it('removes the previous key and its window, and only the one the operator saw', async () => {
    const path = await tempFile('# c\nHOOK=new\nHOOK_PREVIOUS=old\nHOOK_PREVIOUS_NOT_AFTER=2026-12-01T00:00:00Z\nX=1\n');
    const store = envFileKeyStore({ path });
    const prevId = (await store.getVersions('HOOK', { signal })).find((v) => v.role === 'previous')?.id;
    await expect(store.retirePrevious('HOOK', { keyId: 'HOOK@00000000' })).rejects.toMatchObject({ code: 'KEY_CHANGED' });
    expect(await store.retirePrevious('HOOK', { keyId: prevId! })).toEqual({ retiredId: prevId });
    expect(await readFile(path, 'utf8')).toBe('# c\nHOOK=new\nX=1\n');
    expect(await store.retirePrevious('HOOK')).toEqual({ retiredId: undefined });
  });
});
