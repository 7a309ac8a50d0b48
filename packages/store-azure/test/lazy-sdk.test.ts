import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

// A loader hook that makes every @azure/* package unresolvable, as on a machine where the peer
// dependencies are not installed. Importing the store and creating it must still work; the first call
// must fail with a typed, friendly error.
const hook = (blocked: string) => `
export async function resolve(specifier, context, next) {
  if (specifier.startsWith(${JSON.stringify(blocked)})) {
    const err = new Error("Cannot find package '" + specifier + "'");
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;
const register = (blocked: string) =>
  `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook(blocked))}`)});`;
const script = `
const { azureKeyVaultStore } = await import(${JSON.stringify(dist)});
const store = azureKeyVaultStore({ vaultUrl: 'https://never-contacted.vault.azure.net' });
console.log('created:' + store.name);
try {
  await store.getVersions('webhook', { signal: new AbortController().signal });
  console.log('unexpected: loaded');
} catch (err) {
  console.log(JSON.stringify({ name: err.name, reason: err.reason, retryable: err.retryable, message: err.message }));
}`;

it.each([
  ['@azure/', 'The Azure Key Vault store needs the peer dependency @azure/keyvault-secrets: npm install @azure/keyvault-secrets.'],
  [
    '@azure/identity',
    'The Azure Key Vault store needs the peer dependency @azure/identity: npm install @azure/identity (or pass `credential`).',
  ],
])(
  'loads no Azure SDK before the first call; with %s missing, the first call is a typed INVALID_CONFIG error naming the package',
  async (blocked, message) => {
    expect(existsSync(dist), 'build the package first (the README test command does)').toBe(true);
    const { stdout } = await run(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register(blocked))}`, '--input-type=module', '-e', script],
      { timeout: 30_000 },
    );
    const [created, result] = stdout.trim().split('\n');
    expect(created).toBe('created:azure-key-vault');
    expect(JSON.parse(result as string)).toEqual({ name: 'AzureKeyVaultError', reason: 'INVALID_CONFIG', retryable: false, message });
  },
);
