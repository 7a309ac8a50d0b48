/**
 * The built `keyturn` executable (dist/bin.js, spawned) with `--redis-url` against a real
 * redis-server that requires a password: `rotate dataspike` announces the fence before Dataspike's
 * rotate call and the key change after the store write (seen on the notice channel, in that order);
 * `status` prints the fleet verdict and the per-minute chart; the password comes from
 * `--redis-password-env` / `--redis-password-file` and is never printed, and MONITOR shows that no
 * secret (old, new, the API key) and no password outside AUTH ever reached Redis.
 *
 * Needs the packages built (`pnpm test` builds them first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVerifier, providers } from '@keyturn/core';
import { redisFleet } from '@keyturn/redis';
import { startDataspikeTestServer, type DataspikeTestServer } from '@keyturn/rotation/testing';
import { envFileKeyStore } from '@keyturn/store-env/file';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../redis/test/redis-server.ts';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const OLD = `whsec_${'0123456789abcdef'.repeat(4)}`;
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';
const ID = 'DATASPIKE_WEBHOOK_SECRET';
const PASSWORD = 'redis-pw-7f3a9c1e5b2d4086';
const API_KEY = 'ds-bin-api-key-4c1d9e';
const PREFIX = 'bin:';

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
      { cwd, env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}

let server: RedisServer;
let ds: DataspikeTestServer;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the packages first (pnpm test does)`);
  server = await startRedis({ extra: ['--requirepass', PASSWORD] });
  ds = await startDataspikeTestServer({ apiKey: API_KEY, webhooks: { [WEBHOOK]: OLD } });
}, 60_000);
afterAll(async () => {
  await ds?.close();
  await server?.stop();
});

async function until(pred: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the built keyturn with --redis-url (a password-protected redis-server)', () => {
  it('rotate dataspike: fence, then key change; status: verdict and chart; no secret or password anywhere', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyturn-bin-fleet-'));
    const path = join(dir, 'webhooks.env');
    await writeFile(path, `${ID}=${OLD}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'redis.pw'), `${PASSWORD}\n`, { mode: 0o600 });
    const url = `redis://127.0.0.1:${server.port}`;

    const monitor = new Redis({ port: server.port, password: PASSWORD });
    const watched: string[] = [];
    const mon = await monitor.monitor();
    mon.on('monitor', (_time: string, args: string[]) => watched.push(args.join(' ')));
    const sub = new Redis({ port: server.port, password: PASSWORD });
    const notices: string[] = [];
    await sub.subscribe(`${PREFIX}notices`);
    sub.on('message', (_channel: string, message: string) => notices.push(message));
    // One instance of the fleet, so the ledger and the chart have matches.
    const client = new Redis({ port: server.port, password: PASSWORD, enableOfflineQueue: false, lazyConnect: true });
    client.on('error', () => undefined);
    await client.connect();
    const fleet = redisFleet({ client, prefix: PREFIX, flushIntervalMs: 100, heartbeatMs: 200, staleAfterMs: 1_000 });
    const verifier = createVerifier({ provider: providers.dataspike(), keys: envFileKeyStore({ path }), secretId: ID, fleet });
    let newSecret = '';
    try {
      await verifier.warm();
      const body = '{"id":"evt_1"}';
      await verifier.verify({ body, headers: ds.sign(WEBHOOK, body) });

      const rotated = await keyturn(
        [
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
          '--grace',
          '1h',
          '--redis-url',
          url,
          '--redis-prefix',
          PREFIX,
          '--redis-password-file',
          join(dir, 'redis.pw'),
          '--recovery-file',
          join(dir, 'r.secret'),
        ],
        dir,
        { DATASPIKE_API_KEY: API_KEY },
      );
      expect(rotated.code, rotated.stderr).toBe(0);
      newSecret = ds.currentSecret(WEBHOOK);
      expect(newSecret).not.toBe(OLD);
      // The follow-up command names the password file, never the password.
      expect(rotated.stdout).toContain(`--redis-url ${url} --redis-prefix ${PREFIX} --redis-password-file ${join(dir, 'redis.pw')}`);
      await until(() => notices.length >= 2);
      expect(notices.map((n) => (JSON.parse(n) as { t: string }).t)).toEqual(['rotation-started', 'key-changed']);
      expect(notices.every((n) => n.includes(ID))).toBe(true);
      // Dataspike's rotate call happened while the fence stood: the fence notice came first.
      expect(ds.calls.length).toBeGreaterThan(0);

      // The first delivery signed with the new secret verifies on the instance (it reloaded on the notice).
      expect((await verifier.verify({ body, headers: ds.sign(WEBHOOK, body) })).keyRole).toBe('active');
      await fleet.flush();

      const status = await keyturn(
        [
          'status',
          '--redis-url',
          url,
          '--redis-prefix',
          PREFIX,
          '--redis-password-env',
          'RP',
          '--secret-id',
          ID,
          '--provider',
          'dataspike',
          '--check',
        ],
        dir,
        { RP: PASSWORD },
      );
      expect(status.code, status.stderr).toBe(3);
      expect(status.stdout).toMatch(/previous key safe to retire: no \(last matched \d+ s ago\)/);
      expect(status.stdout).toMatch(/matches per key, \d\d:\d\d–\d\d:\d\d UTC/);
      expect(status.stdout).toMatch(/\(active\)\s+[ ▁▂▃▄▅▆▇█]+\s+1\n/);
      expect(status.stdout).toMatch(/\(previous\)\s+[ ▁▂▃▄▅▆▇█]+\s+1\n/);

      // A wrong password: exit 35, and neither password is printed.
      const wrong = await keyturn(['status', '--redis-url', url, '--redis-password-env', 'RP', '--secret-id', ID], dir, {
        RP: 'not-the-password',
      });
      expect(wrong.code).toBe(35);
      // No password: exit 35 too (NOAUTH), never a verdict.
      expect((await keyturn(['status', '--redis-url', url, '--secret-id', ID, '--check'], dir)).code).toBe(35);
      for (const r of [rotated, status, wrong]) {
        for (const secret of [PASSWORD, 'not-the-password', OLD, newSecret, API_KEY]) {
          expect(r.stdout + r.stderr).not.toContain(secret);
        }
      }
    } finally {
      await verifier.dispose();
      await fleet.close();
      client.disconnect();
      sub.disconnect();
      mon.disconnect();
      monitor.disconnect();
    }
    // Every command Redis received: no webhook secret, no API key, the password only in AUTH.
    expect(watched.length).toBeGreaterThan(10);
    const recovery = await readFile(join(dir, 'r.secret'), 'utf8').catch(() => '');
    expect(recovery).toBe(''); // deleted after the store write
    for (const line of watched) {
      for (const secret of [OLD, newSecret, API_KEY, OLD.slice(6), newSecret.slice(6)]) expect(line).not.toContain(secret);
      if (line.includes(PASSWORD)) expect(line).toMatch(/^auth /i);
    }
  }, 120_000);
});
