/**
 * The size check of issue 18 (item 4), deterministic, so it runs in the test command: a Workers
 * bundle (esbuild, minified, `--platform=neutral --conditions=workerd,worker,browser`, over the
 * BUILT package, as a user's bundler sees it) of core + one profile (Smartcar, from
 * `@keyturn/core/providers`) + the Fetch adapter, gzip-compressed (zlib level 9).
 *
 * - Only that profile rides along (profiles tree-shake; `sideEffects: false`), and no `lru-cache`.
 * - The gzip size stays under {@link BUDGET}: a regression guard at the size measured when the
 *   check was added. The issue's target is 8 KB; it is not met yet (the static-key verifier still
 *   links the store key cache, the replay guard and the fleet member; see docs/benchmarks.md).
 *   Lower the budget when a change shrinks the bundle, never raise it silently.
 * - The bundle works: it verifies a signed delivery with WebCrypto and rejects a forged one.
 *
 * `pnpm --filter @keyturn/bench bench:bundle` prints the same number next to the peers'.
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Gzip bytes allowed for core + Smartcar + Fetch adapter (measured 19 765 B when added). Raised, not
 * silently, by issue 17: the typed event (the result's lazy `event`, `EventParseError`), the
 * one-line setup's checks and the Standard Webhooks `v1a` matching measured 21 317 B here (main
 * before it: 20 175 B, same esbuild options over the sources).
 */
const BUDGET = 21_400;
/** The target, reported by the test name so a run shows whether it is met. */
const TARGET = 8 * 1024;

const pkg = join(import.meta.dirname, '..');
let dir: string;

beforeAll(async () => {
  // The README test command builds every package first; a bare `vitest run` needs `pnpm build` before.
  const dist = join(pkg, 'dist', 'index.js');
  if (!existsSync(dist)) throw new Error(`${dist} is missing: build the packages first (npx --yes pnpm@10.34.9 build)`);
  // Inside the package, so `@keyturn/core` resolves to itself through its `exports` (as for a user).
  await mkdir(join(pkg, 'node_modules'), { recursive: true });
  dir = await mkdtemp(join(pkg, 'node_modules', '.keyturn-size-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENTRY = `
import { createVerifier } from '@keyturn/core';
import { smartcar } from '@keyturn/core/providers';
import { withVerification } from '@keyturn/core/adapters/fetch';
export default {
  fetch(request, env) {
    const verifier = createVerifier({ provider: smartcar(), keys: [{ id: 'amt', secret: env.SMARTCAR_AMT, role: 'active' }] });
    return withVerification(verifier, async (_req, { result }) => new Response(result.keyId))(request);
  },
};
`;

describe('Workers bundle size (core + one profile + Fetch adapter)', () => {
  it(`is minified under the gzip budget (${BUDGET} B; target ${TARGET} B), one profile, no lru-cache, and it verifies`, async () => {
    const file = join(dir, 'entry.mjs');
    await writeFile(file, ENTRY);
    const outfile = join(dir, 'out.mjs');
    const result = await build({
      entryPoints: [file],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'neutral',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['module', 'main'],
      outfile,
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(result.metafile.inputs).filter((i) => i.startsWith('node:'))).toEqual([]);
    // What ends up in the output (an input that tree-shakes away contributes 0 bytes).
    const output = Object.values(result.metafile.outputs)[0]!;
    const inputs = Object.entries(output.inputs)
      .filter(([, v]) => v.bytesInOutput > 0)
      .map(([k]) => k);
    expect(inputs.filter((i) => i.includes('lru-cache'))).toEqual([]);
    const profiles = inputs.filter((i) => /dist\/providers\/(?!index|shared|hmac|types|timestamped)[^/]+\.js$/.test(i));
    expect(profiles.map((p) => p.replace(/.*\/providers\//, ''))).toEqual(['smartcar.js']);

    const gzip = gzipSync(await readFile(outfile), { level: 9 }).length;
    expect(gzip).toBeLessThanOrEqual(BUDGET);

    const mod = (await import(pathToFileURL(outfile).href)) as { default: { fetch: (r: Request, env: object) => Promise<Response> } };
    const secret = 'amt-secret-0123456789abcdef0123456789';
    const body = '{"eventId":"e1","eventType":"VEHICLE_STATE"}';
    const post = (signature: string) =>
      new Request('https://example.test/hook', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'sc-signature': signature },
      });
    const ok = await mod.default.fetch(post(createHmac('sha256', secret).update(body).digest('hex')), { SMARTCAR_AMT: secret });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('amt');
    const forged = await mod.default.fetch(post('00'.repeat(32)), { SMARTCAR_AMT: secret });
    expect(forged.status).toBeGreaterThanOrEqual(400);
  });
});
