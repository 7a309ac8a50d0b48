/**
 * `--secret-file` and the env stores' `*_FILE` secrets read the same file the same way (issue 12,
 * item 15): one final newline dropped, any other surrounding whitespace refused.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKeyStore } from '@keyturn/store-env';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/index.ts';

const body = '{"eventId":"e1"}';

async function signWithFile(content: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-cli-secret-file-'));
  await writeFile(join(dir, 'secret'), content);
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => new TextEncoder().encode(body),
    env: {},
    cwd: dir,
    now: () => Date.parse('2026-11-24T12:00:00Z'),
  };
  const code = await main(['sign', '--provider', 'smartcar', '--secret-file', 'secret'], io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function storeRead(content: string): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-cli-secret-file-'));
  await writeFile(join(dir, 'secret'), content);
  const store = envKeyStore({ env: { SC_FILE: join(dir, 'secret') }, onWarning: () => undefined });
  const versions = await store.getVersions('SC', { signal: new AbortController().signal }).catch(() => undefined);
  return versions?.[0]?.secret as string | undefined;
}

describe('--secret-file agrees with envKeyStore on *_FILE secrets', () => {
  it.each(['amt-token-1\n', 'amt-token-1\r\n', 'amt-token-1', 'amt-token-1\n\n', 'amt-token-1 \n', ' amt-token-1\n', 'amt-token-1\t'])(
    '%j',
    async (content) => {
      const fromStore = await storeRead(content);
      const signed = await signWithFile(content);
      if (fromStore === undefined) {
        expect(signed.code).toBe(2);
        expect(signed.stderr).toMatch(/whitespace around the secret/);
      } else {
        expect(fromStore).toBe('amt-token-1');
        expect(signed.code).toBe(0);
        expect(signed.stdout.trim()).toBe(`sc-signature: ${createHmac('sha256', fromStore).update(body).digest('hex')}`);
      }
    },
  );
});
