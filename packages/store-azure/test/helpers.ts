import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll } from 'vitest';
import { azureKeyVaultStore, type AzureKeyVaultStore, type AzureKeyVaultStoreOptions } from '../src/index.ts';
import { startKeyVaultServer, type KeyVaultServer, type KeyVaultServerOptions } from '../src/testing/index.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A settable clock shared by the vault and the store (starts far from 0, on a whole second). */
export function fakeClock(start = Date.UTC(2026, 10, 24, 9)): {
  now: () => number;
  set: (t: number) => void;
  advance: (ms: number) => void;
} {
  let t = start;
  return { now: () => t, set: (v) => void (t = v), advance: (ms) => void (t += ms) };
}

export interface Harness {
  readonly vault: KeyVaultServer;
  readonly credential: ClientSecretCredential;
  /** A real SecretClient (no retries) on the vault, for seeding through the API or injecting. */
  readonly client: SecretClient;
  /** A store that builds its own client from vaultUrl + credential + clientOptions. */
  store(options?: AzureKeyVaultStoreOptions): AzureKeyVaultStore;
  close(): Promise<void>;
}

export async function harness(options: KeyVaultServerOptions = {}, clock?: () => number): Promise<Harness> {
  const vault = await startKeyVaultServer(options);
  const credential = new ClientSecretCredential(vault.tenantId, vault.clientId, vault.clientSecret, vault.credentialOptions());
  const client = new SecretClient(vault.vaultUrl, credential, { ...vault.clientOptions(), retryOptions: { maxRetries: 0 } });
  const stores: AzureKeyVaultStore[] = [];
  return {
    vault,
    credential,
    client,
    store(o = {}) {
      const base: AzureKeyVaultStoreOptions =
        o.client === undefined ? { vaultUrl: vault.vaultUrl, credential, clientOptions: vault.clientOptions() } : {};
      const s = azureKeyVaultStore({ ...base, ...(clock === undefined ? {} : { now: clock }), ...o });
      stores.push(s);
      return s;
    },
    async close() {
      for (const s of stores) s.dispose();
      await vault.close();
    },
  };
}

/** One harness for a whole file. */
export function useHarness(options: KeyVaultServerOptions = {}, clock?: () => number): () => Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await harness(options, clock);
  });
  afterAll(async () => {
    await h?.close();
  });
  return () => h as Harness;
}

export const signal = (): AbortSignal => new AbortController().signal;

/** The rejection of `p` (fails the test if it resolves). */
// biome-ignore lint/suspicious/noExplicitAny: the tests read the rejection's fields (reason, code, cause.message) without narrowing each time
export async function rejection(p: Promise<unknown>): Promise<any> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}
