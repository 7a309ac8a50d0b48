/**
 * `--redis-url` against a real redis-server, with verifiers that are members of the same fleet:
 * `rotate dataspike` fences them before Dataspike's rotate call and tells them after the store write;
 * `status` prints the fleet-wide verdict and the per-minute chart (store flags optional); `keys retire`
 * checks the fleet's ledger and tells every instance; no password on the command line; an unreachable
 * Redis stops `status` (exit 35) and only warns during a rotation.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, providers, type KeyturnEvent, type Verifier } from '@keyturn/core';
import { redisFleet, type RedisFleet } from '@keyturn/redis';
import { startDataspikeTestServer, type DataspikeTestServer } from '@keyturn/rotation/testing';
import { envFileKeyStore } from '@keyturn/store-env/file';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../../redis/test/redis-server.ts';
import { main, type CliIo } from '../src/index.ts';

const OLD = `whsec_${'0123456789abcdef'.repeat(4)}`;
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';
const ID = 'DATASPIKE_WEBHOOK_SECRET';

let server: RedisServer;
let ds: DataspikeTestServer;
beforeAll(async () => {
  server = await startRedis();
  ds = await startDataspikeTestServer({ apiKey: 'ds-key', webhooks: { [WEBHOOK]: OLD } });
});
afterAll(async () => {
  await ds?.close();
  await server?.stop();
});

async function run(
  argv: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => new Uint8Array(),
    env,
    cwd,
    now: Date.now,
  };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

interface Instance {
  verifier: Verifier;
  fleet: RedisFleet;
  events: KeyturnEvent[];
  close(): Promise<void>;
}

async function instance(path: string, prefix: string): Promise<Instance> {
  const client = new Redis({ port: server.port, lazyConnect: true, enableOfflineQueue: false });
  client.on('error', () => undefined);
  await client.connect();
  const fleet = redisFleet({ client, prefix, flushIntervalMs: 100, heartbeatMs: 200, staleAfterMs: 1_000 });
  const events: KeyturnEvent[] = [];
  const verifier = createVerifier({
    provider: providers.dataspike(),
    keys: envFileKeyStore({ path }),
    secretId: ID,
    fleet,
    onEvent: (e) => events.push(e),
  });
  await verifier.warm();
  return {
    verifier,
    fleet,
    events,
    async close() {
      await verifier.dispose();
      await fleet.close();
      client.disconnect();
    },
  };
}

async function until(pred: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('keyturn … --redis-url', () => {
  it('rotate dataspike fences the fleet, tells it after the write; status and keys retire read the fleet-wide ledger', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyturn-cli-fleet-'));
    const path = join(dir, 'webhooks.env');
    await writeFile(path, `${ID}=${OLD}\n`, { mode: 0o600 });
    const prefix = 'cli1:';
    const a = await instance(path, prefix);
    const b = await instance(path, prefix);
    const url = `redis://127.0.0.1:${server.port}`;
    try {
      await until(() => a.fleet.pendingKeys === 0 && b.fleet.pendingKeys === 0);
      const body = '{"id":"evt_1"}';
      await a.verifier.verify({ body, headers: ds.sign(WEBHOOK, body) });

      const rotated = await run(
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
          prefix,
          '--fence-ttl',
          '30s',
          '--recovery-file',
          join(dir, 'r.secret'),
          '--no-progress',
        ],
        dir,
        { DATASPIKE_API_KEY: 'ds-key' },
      );
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout).toContain(
        `next: watch \`keyturn status --redis-url ${url} --redis-prefix ${prefix} --secret-id ${ID} --provider dataspike\``,
      );
      for (const m of [a, b]) {
        await until(() => m.events.some((e) => e.type === 'load-success' && e.reason === 'notice'));
        expect(m.events.filter((e) => e.type === 'rotation-fence').map((e) => (e as { state: string }).state)).toEqual([
          'started',
          'ended',
        ]);
        // The first delivery signed with the new secret: accepted, no refresh-on-miss needed.
        const r = await m.verifier.verify({ body, headers: ds.sign(WEBHOOK, body) });
        expect(r.keyRole).toBe('active');
        expect(m.events.some((e) => e.type === 'refresh-on-miss')).toBe(false);
      }

      // The verdict of the whole fleet, without store flags, with the chart.
      await a.fleet.flush();
      await b.fleet.flush();
      const status = await run(
        ['status', '--redis-url', url, '--redis-prefix', prefix, '--secret-id', ID, '--provider', 'dataspike', '--check', '--no-progress'],
        dir,
      );
      expect(status.code).toBe(3);
      expect(status.stdout).toMatch(/previous key safe to retire: no \(last matched \d+ s ago\)/);
      expect(status.stdout).toContain('matches per key');
      expect(status.stdout).toMatch(/\(active\)\s+[ ▁▂▃▄▅▆▇█]+\s+2/);
      const json = JSON.parse(
        (
          await run(
            [
              'status',
              '--redis-url',
              url,
              '--redis-prefix',
              prefix,
              '--secret-id',
              ID,
              '--store-file',
              path,
              '--quiet',
              '0ms',
              '--json',
              '--no-progress',
            ],
            dir,
          )
        ).stdout,
      ) as {
        verdicts: { safe: boolean }[];
        instances: string[];
        timeline: { keys: { keyId: string; counts: number[] }[] };
      };
      expect(json.instances).toHaveLength(2);
      expect(json.verdicts[0]?.safe).toBe(true);
      expect(json.timeline.keys.map((k) => k.counts.reduce((x, y) => x + y, 0)).sort()).toEqual([1, 2]);

      // keys retire: refused on the fleet's evidence, then done with a short quiet period; both instances drop the key.
      const refused = await run(
        ['keys', 'retire', '--store-file', path, '--secret-id', ID, '--redis-url', url, '--redis-prefix', prefix, '--quiet', '1h'],
        dir,
      );
      expect(refused.code).toBe(3);
      const retired = await run(
        ['keys', 'retire', '--store-file', path, '--secret-id', ID, '--redis-url', url, '--redis-prefix', prefix, '--quiet', '0ms'],
        dir,
      );
      expect(retired.code, retired.stderr).toBe(0);
      for (const m of [a, b]) await until(() => m.events.filter((e) => e.type === 'load-success' && e.reason === 'notice').length === 2);
      const old = await a.verifier.safeVerify({ body, headers: ds.sign(WEBHOOK, body, { secret: OLD }) });
      expect(!old.ok && old.error.code).toBe('NO_MATCHING_KEY');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('no password on the command line; an unreachable Redis stops status (35) and only warns during keys add', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyturn-cli-fleet-'));
    const path = join(dir, 'webhooks.env');
    await writeFile(path, `${ID}=${OLD}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'new.secret'), `whsec_${'ab'.repeat(32)}\n`, { mode: 0o600 });
    const withPassword = await run(['status', '--redis-url', 'redis://user:hunter2@127.0.0.1:1', '--secret-id', ID], dir);
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).toContain('--redis-password-env');
    expect(withPassword.stderr).not.toContain('hunter2');
    expect((await run(['status', '--redis-url', 'http://127.0.0.1:1', '--secret-id', ID], dir)).code).toBe(2);
    expect((await run(['status', '--redis-prefix', 'x:', '--store-file', path, '--secret-id', ID], dir)).code).toBe(2);

    const closed = 'redis://127.0.0.1:9'; // discard port: nothing listens
    const status = await run(['status', '--redis-url', closed, '--secret-id', ID, '--no-progress'], dir);
    expect(status.code).toBe(35);
    expect(status.stderr).toContain('--redis-url redis://127.0.0.1:9: cannot be reached');
    const added = await run(
      ['keys', 'add', '--store-file', path, '--secret-id', ID, '--secret-file', join(dir, 'new.secret'), '--redis-url', closed],
      dir,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain('going on without telling the fleet');
  });
});
