/**
 * Runtime smoke suite: the BUILT package (dist/) served by Node (node:http with a streaming Request
 * bridge), Bun (Bun.serve), Deno (Deno.serve) and workerd (a real `workerd serve` with an esbuild
 * bundle), each through the Fetch adapter and the Hono middleware in a real Hono app. Every shared vector in test/vectors/*.json is replayed
 * over HTTP on 127.0.0.1 and must be accepted or rejected exactly as the vector says; each runtime
 * must also resolve the crypto backend its export condition selects, answer oversized and slow
 * uploads without waiting for them, and decode compressed deliveries. The Bun, Deno and workerd
 * binaries come from npm, installed on first use by scripts/runtime-bins.mjs (pinned in
 * scripts/runtimes/, cached outside the repository).
 */
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM helper without type declarations
import { ensureBuilt, findBinary, missingBinaryReason, startRuntime } from '../../runtime-tests/runtimes.mjs';
import { upload } from '../adapters/helpers.ts';

interface Vector {
  description: string;
  provider: string;
  options?: Record<string, unknown>;
  secret: string;
  body?: string;
  bodyBase64?: string;
  headers: Record<string, string>;
  now?: number;
  expect: { ok: true } | { ok: false; code?: string; status?: number };
}

const vectorDir = join(import.meta.dirname, '..', 'vectors');
const vectors: { file: string; index: number; v: Vector }[] = readdirSync(vectorDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) =>
    (JSON.parse(readFileSync(join(vectorDir, f), 'utf8')) as Vector[]).map((v, index) => ({ file: f.slice(0, -5), index, v })),
  );

const smartcarSdk = createRequire(import.meta.url)('smartcar') as { hashChallenge(amt: string, challenge: string): string };

type Runtime = 'node' | 'bun' | 'deno' | 'workerd';
const EXPECTED_BACKEND: Record<Runtime, string> = { node: 'node:crypto', bun: 'node:crypto', deno: 'node:crypto', workerd: 'webcrypto' };

/** The binary, if it exists and runs here; otherwise why not. */
function probe(runtime: Runtime): { bin?: string; why?: string } {
  const bin = findBinary(runtime) as string | undefined;
  if (bin === undefined) return { why: `no ${runtime} binary: ${missingBinaryReason(runtime) as string}` };
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) return { why: `${bin} --version failed here: ${r.error?.message ?? r.stderr}` };
  return { bin };
}

beforeAll(() => {
  ensureBuilt();
}, 60_000);

const post = async (url: string, body: string | Uint8Array, headers: Record<string, string>) => {
  const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe.each<Runtime>(['node', 'bun', 'deno', 'workerd'])('%s', (runtime) => {
  const { bin, why } = probe(runtime);
  if (why !== undefined) console.warn(`[runtime-smoke] SKIPPING ${runtime}: ${why}`);

  let server: { url: string; stop: () => Promise<void> } | undefined;
  beforeAll(async () => {
    if (bin !== undefined) server = await startRuntime(runtime);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it.skipIf(bin === undefined)(`resolves the ${EXPECTED_BACKEND[runtime]} backend through the #crypto conditions`, async () => {
    const res = await fetch(`${server!.url}/backend`);
    expect(await res.json()).toEqual({ backend: EXPECTED_BACKEND[runtime], hasSyncHmac: runtime !== 'workerd' });
  });

  it.skipIf(bin === undefined)(`replays all ${vectors.length} shared vectors through the Fetch adapter`, async () => {
    expect(vectors.length).toBeGreaterThan(0);
    const outcomes = await Promise.all(
      vectors.map(async ({ file, index, v }) => {
        const body = v.bodyBase64 !== undefined ? new Uint8Array(Buffer.from(v.bodyBase64, 'base64')) : (v.body ?? '');
        const r = await post(`${server!.url}/vector/${file}/${index}`, body, v.headers);
        return { name: `${file}#${index} ${v.description}`, expect: v.expect, ...r };
      }),
    );
    for (const o of outcomes) {
      if (o.expect.ok) {
        expect({ name: o.name, status: o.status, json: o.json }).toEqual({
          name: o.name,
          status: 200,
          json: { ok: true, keyId: 'vector-key', keyRole: 'active', bodyReadable: true, backend: EXPECTED_BACKEND[runtime] },
        });
      } else {
        const status = o.expect.status ?? (o.status >= 400 ? o.status : 401);
        expect({ name: o.name, status: o.status }).toEqual({ name: o.name, status });
        expect(o.json).toEqual(o.status >= 500 ? { error: 'webhook receiver error' } : { error: 'invalid signature' });
      }
    }
  });

  it.skipIf(bin === undefined)('accepts the published Smartcar vector and answers a signed VERIFY like the smartcar SDK', async () => {
    const ok = await post(`${server!.url}/smartcar`, '{"pizza":"pasta"}', {
      'SC-Signature': '4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70',
    });
    expect(ok).toMatchObject({ status: 200, json: { ok: true, keyId: 'amt', bodyReadable: true } });
    const tampered = await post(`${server!.url}/smartcar`, '{"pizza":"pizza"}', {
      'SC-Signature': '4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70',
    });
    expect(tampered).toEqual({ status: 401, json: { error: 'invalid signature' } });

    const verify = JSON.stringify({ eventId: 'e1', eventType: 'VERIFY', data: { challenge: `c-${runtime}` }, meta: { version: '4.0' } });
    const sig = createHmac('sha256', 'amt').update(verify).digest('hex');
    const answered = await post(`${server!.url}/smartcar`, verify, { 'SC-Signature': sig, 'content-type': 'application/json' });
    expect(answered).toEqual({ status: 200, json: { challenge: smartcarSdk.hashChallenge('amt', `c-${runtime}`) } });
    expect((await post(`${server!.url}/smartcar`, verify, {})).status).toBe(401);
  });

  it.skipIf(bin === undefined)(
    'runs the Hono middleware in a real Hono app: c.get("keyturn"), a readable body, VERIFY answered, forgeries refused',
    async () => {
      const event = JSON.stringify({ eventId: 'e-hono', eventType: 'VEHICLE_STATE', data: { runtime } });
      const sig = createHmac('sha256', 'amt').update(event).digest('hex');
      const ok = await post(`${server!.url}/hono/smartcar`, event, { 'SC-Signature': sig, 'content-type': 'application/json' });
      expect(ok).toEqual({ status: 200, json: { ok: true, keyId: 'amt', event: JSON.parse(event), backend: EXPECTED_BACKEND[runtime] } });
      const forged = await post(`${server!.url}/hono/smartcar`, event, { 'SC-Signature': '00'.repeat(32) });
      expect(forged).toEqual({ status: 401, json: { error: 'invalid signature' } });
      const verify = JSON.stringify({ eventType: 'VERIFY', data: { challenge: `hono-${runtime}` } });
      const answered = await post(`${server!.url}/hono/smartcar`, verify, {
        'SC-Signature': createHmac('sha256', 'amt').update(verify).digest('hex'),
      });
      expect(answered).toEqual({ status: 200, json: { challenge: smartcarSdk.hashChallenge('amt', `hono-${runtime}`) } });
    },
  );

  it.skipIf(bin === undefined)(
    'answers 413 at once to an oversized open upload without Content-Length, and to in-process byte and stream bodies',
    async () => {
      // 4 KiB sent, limit 1 KiB, the upload never ends: the answer must come anyway.
      const open = await upload(`${server!.url}/limited`, new Uint8Array(4096), { 'SC-Signature': '00'.repeat(32) });
      open.destroy();
      expect([open.status, open.text]).toEqual([413, '{"error":"payload too large"}']);
      const inprocess = await fetch(`${server!.url}/inprocess`);
      expect(await inprocess.json()).toMatchObject({ bytes: 413, stream: 413 });
    },
  );

  it.skipIf(bin === undefined)('answers 408 to an upload slower than bodyTimeoutMs', async () => {
    // 10 of a declared 100 bytes, then nothing: answered when the 400 ms deadline passes.
    const slow = await upload(`${server!.url}/limited`, new Uint8Array(10), { 'content-length': '100', 'SC-Signature': '00'.repeat(32) });
    slow.destroy();
    expect([slow.status, slow.text]).toEqual([408, '{"error":"request timeout"}']);
  });

  it.skipIf(bin === undefined)('verifies a gzip delivery on its decoded bytes; a gzip bomb gets 413, brotli 415', async () => {
    const event = JSON.stringify({ eventId: 'e-gz', eventType: 'VEHICLE_STATE', data: { note: 'x'.repeat(500) } });
    const sig = createHmac('sha256', 'amt').update(event).digest('hex');
    const res = await fetch(`${server!.url}/smartcar`, {
      method: 'POST',
      body: gzipSync(event),
      headers: { 'content-encoding': 'gzip', 'content-type': 'application/json', 'SC-Signature': sig },
    });
    expect([res.status, await res.json()]).toEqual([
      200,
      { ok: true, keyId: 'amt', keyRole: 'active', bodyReadable: true, backend: EXPECTED_BACKEND[runtime] },
    ]);

    const bomb = gzipSync(new Uint8Array(8 * 1024 * 1024)); // 8 MiB of zeros in about 8 KiB
    const exploded = await post(`${server!.url}/smartcar`, bomb, { 'content-encoding': 'gzip', 'SC-Signature': sig });
    expect(exploded).toEqual({ status: 413, json: { error: 'payload too large' } });

    const br = await fetch(`${server!.url}/smartcar`, {
      method: 'POST',
      body: brotliCompressSync(event),
      headers: { 'content-encoding': 'br', 'SC-Signature': sig },
    });
    expect([br.status, br.headers.get('accept-encoding'), await br.json()]).toEqual([
      415,
      'gzip, deflate',
      { error: 'unsupported content encoding' },
    ]);
  });
});
