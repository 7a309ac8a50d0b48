/**
 * The built `keyturn` executable (dist/bin.js, spawned): `rotate dataspike` with a fleet that cannot
 * hear the rotation fence (`--redis-url` on a closed port, `--dynamodb-table` on an endpoint nobody
 * listens on) refuses before Dataspike's rotate call: exit 39 (`FENCE_UNAVAILABLE`), Dataspike never
 * called, the store file byte for byte unchanged, no recovery file. `--allow-unfenced` rotates anyway,
 * with a warning.
 *
 * Needs the packages built (`pnpm test` builds them first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDataspikeTestServer, type DataspikeTestServer } from '@keyturn/rotation/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit.ts';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const OLD = `whsec_${'0123456789abcdef'.repeat(4)}`;
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';
const ID = 'DATASPIKE_WEBHOOK_SECRET';
const API_KEY = 'ds-bin-api-key-77e0a1';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function keyturn(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { cwd, env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}

/** A port on 127.0.0.1 that was free a moment ago and is closed now (connections are refused). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let ds: DataspikeTestServer;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the packages first (pnpm test does)`);
  ds = await startDataspikeTestServer({ apiKey: API_KEY, webhooks: { [WEBHOOK]: OLD } });
});
afterAll(async () => ds?.close());

async function storeDir(): Promise<{ dir: string; path: string; before: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-bin-fence-'));
  const path = join(dir, 'webhooks.env');
  const before = `${ID}=${OLD}\n`;
  await writeFile(path, before, { mode: 0o600 });
  return { dir, path, before };
}

const rotateArgs = (path: string, dir: string) => [
  'rotate',
  'dataspike',
  '--webhook-id',
  WEBHOOK,
  '--store-file',
  path,
  '--secret-id',
  ID,
  '--base-url',
  ds.url,
  '--recovery-file',
  join(dir, 'r.secret'),
];

describe('the built keyturn: rotate dataspike refuses when the fleet cannot hear the fence', () => {
  it('--redis-url on a closed port: exit 39, Dataspike never called, the store unchanged; --allow-unfenced rotates with a warning', async () => {
    const { dir, path, before } = await storeDir();
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const calls = ds.calls.length;
    const refused = await keyturn([...rotateArgs(path, dir), '--redis-url', url], dir, { DATASPIKE_API_KEY: API_KEY });
    expect(refused.code, refused.stderr).toBe(EXIT.FENCE_UNAVAILABLE);
    expect(EXIT.FENCE_UNAVAILABLE).toBe(39);
    expect(refused.stderr).toContain(`error: FENCE_UNAVAILABLE: --redis-url ${url}: cannot be reached`);
    expect(refused.stderr).toMatch(/nothing was rotated: Dataspike was not called and the store is unchanged[\s\S]*--allow-unfenced/);
    expect(ds.calls.length).toBe(calls);
    expect(ds.currentSecret(WEBHOOK)).toBe(OLD);
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['webhooks.env']);

    const unfenced = await keyturn([...rotateArgs(path, dir), '--redis-url', url, '--allow-unfenced'], dir, { DATASPIKE_API_KEY: API_KEY });
    expect(unfenced.code, unfenced.stderr).toBe(0);
    expect(unfenced.stderr).toContain(`warning: --redis-url ${url}: cannot be reached`);
    expect(ds.calls.filter((c) => c.rotated).length).toBe(1);
    const secret = ds.currentSecret(WEBHOOK);
    expect(secret).not.toBe(OLD);
    expect(await readFile(path, 'utf8')).toContain(secret);
    for (const r of [refused, unfenced]) for (const s of [OLD, secret, API_KEY]) expect(r.stdout + r.stderr).not.toContain(s);
  }, 120_000);

  it('--dynamodb-table on an endpoint nobody listens on: exit 39 through the same fence check, nothing rotated', async () => {
    const { dir, path, before } = await storeDir();
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const calls = ds.calls.length;
    const current = ds.currentSecret(WEBHOOK);
    const refused = await keyturn(
      [...rotateArgs(path, dir), '--dynamodb-table', 'fleet', '--dynamodb-region', 'us-east-1', '--dynamodb-endpoint', endpoint],
      dir,
      {
        DATASPIKE_API_KEY: API_KEY,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'fence-test-not-a-real-key',
        AWS_MAX_ATTEMPTS: '1',
      },
    );
    expect(refused.code, refused.stderr).toBe(EXIT.FENCE_UNAVAILABLE);
    expect(refused.stderr).toContain('error: FENCE_UNAVAILABLE: --dynamodb-table fleet: the fleet could not be told');
    expect(ds.calls.length).toBe(calls);
    expect(ds.currentSecret(WEBHOOK)).toBe(current);
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['webhooks.env']);
  }, 120_000);
});
