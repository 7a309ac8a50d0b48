/**
 * Cold start (issue 16): importing `@keyturn/store-aws`, building the store and a verifier on it must
 * not load `@aws-sdk/client-secrets-manager`; the first store call does. A fresh Node process imports
 * the built package (dist, what a Lambda bundle or `node_modules` holds) and counts the SDK's modules in
 * Node's CommonJS cache (the SDK resolves to its `dist-cjs` build under Node) before and after the first
 * `getVersions()`, against the Secrets Manager test server on 127.0.0.1.
 *
 * Needs the packages built (`pnpm test` builds them first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretsManagerServer, type SecretsManagerServer } from '../src/testing/index.ts';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const SECRET = `whsec_${'ab'.repeat(32)}`;

const CHILD = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const sdkModules = () => Object.keys(require.cache).filter((k) => k.includes('@aws-sdk')).length;
const { awsSecretsManagerStore } = await import('@keyturn/store-aws');
const { createVerifier, providers } = await import('@keyturn/core');
const store = awsSecretsManagerStore({ clientConfig: JSON.parse(process.env.KEYTURN_TEST_CLIENT_CONFIG) });
const verifier = createVerifier({ provider: providers.dataspike(), keys: store, secretId: 'lazy/dataspike' });
const beforeFirstCall = sdkModules();
await verifier.warm();
const afterFirstCall = sdkModules();
const keys = (await store.getVersions('lazy/dataspike', { signal: new AbortController().signal })).map((v) => v.role);
await verifier.dispose();
store.dispose();
console.log(JSON.stringify({ beforeFirstCall, afterFirstCall, keys }));
`;

let server: SecretsManagerServer;
beforeAll(async () => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url)))
    throw new Error('packages/store-aws/dist is missing: build the packages first (pnpm test does)');
  server = await startSecretsManagerServer();
  server.createSecret('lazy/dataspike', SECRET);
});
afterAll(async () => {
  await server?.close();
});

describe('cold start', () => {
  it('the AWS SDK is not loaded by importing the package or building the store and a verifier, only by the first store call', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', CHILD],
        {
          cwd: PKG,
          env: { PATH: process.env['PATH'] ?? '', KEYTURN_TEST_CLIENT_CONFIG: JSON.stringify(server.clientConfig()) },
          timeout: 30_000,
        },
        (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`))),
      ),
    );
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { beforeFirstCall: number; afterFirstCall: number; keys: string[] };
    expect(result.beforeFirstCall).toBe(0);
    // The count sees the SDK once it is loaded (so 0 above is not a blind spot).
    expect(result.afterFirstCall).toBeGreaterThan(0);
    expect(result.keys).toEqual(['active']);
  }, 60_000);
});
