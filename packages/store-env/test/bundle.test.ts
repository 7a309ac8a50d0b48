/**
 * `import { envKeyStore } from '@keyturn/store-env'` bundles for Workers: esbuild with
 * `--platform=neutral --conditions=workerd,worker,browser` over the BUILT packages (what a user's
 * bundler sees) resolves no `node:` module, and the bundle runs: it loads keys from a plain `env`
 * object and verifies a signed webhook with WebCrypto. The env-file store (`@keyturn/store-env/file`)
 * is Node-only and must stay out of that entry point.
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkg = join(import.meta.dirname, '..');
const coreDist = join(pkg, '..', 'core', 'dist', 'index.js');
let dir: string;

beforeAll(async () => {
  // The README test command builds every package first; a bare `vitest run` needs `pnpm build` before.
  for (const file of [join(pkg, 'dist', 'index.js'), coreDist]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: build the packages first (npx --yes pnpm@10.34.9 build)`);
  }
  // Inside the package, so `@keyturn/store-env` resolves to itself through its `exports` (as for a user).
  await mkdir(join(pkg, 'node_modules'), { recursive: true });
  dir = await mkdtemp(join(pkg, 'node_modules', '.keyturn-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENTRY = `
import { createVerifier, providers } from '@keyturn/core';
import { envKeyStore } from '@keyturn/store-env';
export async function run(env, body, signature) {
  const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore({ env }), secretId: 'SC' });
  const result = await verifier.verify({ body, headers: { 'sc-signature': signature } });
  const sync = (() => { try { verifier.verifySync({ body, headers: { 'sc-signature': signature } }); return 'sync'; } catch (e) { return e.code; } })();
  return { keyId: result.keyId, keyRole: result.keyRole, sync };
}
`;

async function bundle(entry: string): Promise<{ outfile: string; inputs: string[] }> {
  const file = join(dir, `entry-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(file, entry);
  const outfile = `${file}.out.mjs`;
  const result = await build({
    entryPoints: [file],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  return { outfile, inputs: Object.keys(result.metafile.inputs) };
}

describe('@keyturn/store-env on Workers', () => {
  it('bundles with --platform=neutral --conditions=workerd,worker,browser and runs: env keys, WebCrypto verify', async () => {
    const { outfile, inputs } = await bundle(ENTRY);
    expect(inputs.filter((i) => i.startsWith('node:'))).toEqual([]);
    expect(inputs.some((i) => i.includes('crypto-web'))).toBe(true);
    expect(inputs.some((i) => /store-env\/dist\/file\//.test(i))).toBe(false);
    const mod = (await import(pathToFileURL(outfile).href)) as {
      run: (env: object, body: string, sig: string) => Promise<Record<string, unknown>>;
    };
    const body = '{"eventId":"e1"}';
    const sig = createHmac('sha256', 'new-secret-value-0123456789abcdef').update(body).digest('hex');
    const oldSig = createHmac('sha256', 'old-secret-value-0123456789abcdef').update(body).digest('hex');
    const env = {
      SC: 'new-secret-value-0123456789abcdef',
      SC_PREVIOUS: 'old-secret-value-0123456789abcdef',
      SC_KEY_ID: 'k2',
      SC_PREVIOUS_KEY_ID: 'k1',
    };
    expect(await mod.run(env, body, sig)).toEqual({ keyId: 'SC@k2', keyRole: 'active', sync: 'KEYSTORE_UNAVAILABLE' });
    expect(await mod.run(env, body, oldSig)).toMatchObject({ keyId: 'SC@k1', keyRole: 'previous' });
  });

  it('the env-file store is another entry point: importing it for Workers fails on node: modules (it must not ride along)', async () => {
    await expect(bundle(`import { envFileKeyStore } from '@keyturn/store-env/file'; export { envFileKeyStore };`)).rejects.toThrow(/node:/);
  });
});
