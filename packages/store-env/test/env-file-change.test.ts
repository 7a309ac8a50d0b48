/**
 * The env-file store's change check: a rotation written by another process (another store object on
 * the same file, as `keyturn rotate dataspike` is) is seen by a verifier on the very next delivery,
 * not after its 30 s refresh-on-miss cooldown — one `stat`, no read, while nothing changed.
 */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, providers, sign, type KeyturnEvent } from '@keyturn/core';
import { describe, expect, it } from 'vitest';
import { envFileKeyStore } from '../src/file/index.ts';

const signal = new AbortController().signal;
const OLD = 'whsec_' + '0f1e2d3c'.repeat(8);
const NEW = 'whsec_' + 'a1b2c3d4'.repeat(8);

async function file(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-envchange-'));
  const path = join(dir, 'webhooks.env');
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

describe('envFileKeyStore: hasChanged', () => {
  it('is false after a read, true after a rotation by another writer, an edit in place, or a removal', async () => {
    const path = await file(`DS=${OLD}\n`);
    const store = envFileKeyStore({ path });
    expect(await store.hasChanged('DS')).toBe(true); // never read: unsure
    await store.getVersions('DS', { signal });
    expect(await store.hasChanged('DS')).toBe(false);
    await envFileKeyStore({ path }).rotate('DS', NEW, { previousGraceMs: 60_000 });
    expect(await store.hasChanged('DS')).toBe(true);
    await store.getVersions('DS', { signal });
    expect(await store.hasChanged('DS')).toBe(false);
    await appendFile(path, '# a comment\n'); // same inode, new size
    expect(await store.hasChanged('DS')).toBe(true);
    await store.getVersions('DS', { signal });
    await rm(path);
    expect(await store.hasChanged('DS')).toBe(true);
  });
});

describe('a verifier on an env file rotated by another process', () => {
  it('accepts the first delivery signed with the new secret at once, inside the refresh-on-miss cooldown', async () => {
    let now = Date.UTC(2026, 10, 24, 12);
    const path = await file(`DS=${OLD}\n`);
    const events: KeyturnEvent[] = [];
    const verifier = createVerifier({
      provider: providers.dataspike(),
      keys: envFileKeyStore({ path }),
      secretId: 'DS',
      now: () => now,
      onEvent: (e) => events.push(e),
    });
    await verifier.warm();
    const body = '{"id":"evt_1"}';
    const at = () => Math.floor(now / 1000);
    // A forged delivery spends the refresh-on-miss: the 30 s cooldown runs from here.
    now += 31_000;
    const forged = await verifier.safeVerify({
      body,
      headers: sign(providers.dataspike(), { body, secret: 'whsec_' + '99'.repeat(32), timestamp: at() }),
    });
    expect(!forged.ok && forged.error.code).toBe('NO_MATCHING_KEY');
    // Another process rotates (the CLI), and Dataspike signs with the new secret at once.
    await envFileKeyStore({ path, now: () => now }).rotate('DS', NEW, { previousGraceMs: 3_600_000 });
    now += 1_000;
    const result = await verifier.verify({ body, headers: sign(providers.dataspike(), { body, secret: NEW, timestamp: at() }) });
    expect(result).toMatchObject({ keyRole: 'active' });
    expect(events.filter((e) => e.type === 'load-start').map((e) => (e as { reason: string }).reason)).toEqual(['cold', 'miss', 'changed']);
    // Nothing changed since: more forgeries cost a stat each, never a read.
    for (let i = 0; i < 5; i++)
      await verifier.safeVerify({
        body,
        headers: sign(providers.dataspike(), { body, secret: 'whsec_' + '98'.repeat(32), timestamp: at() }),
      });
    expect(events.filter((e) => e.type === 'load-start')).toHaveLength(3);
    await verifier.dispose();
  });
});
