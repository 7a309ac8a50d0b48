import { afterAll, afterEach, beforeAll } from 'vitest';
import { KeyStoreError } from '@keyturn/core';
import type { SecretVersion } from '@keyturn/core';
import { awsSecretsManagerStore, type AwsSecretsManagerStoreOptions } from '../src/index.ts';
import { startSecretsManagerServer, type SecretsManagerServer } from '../src/testing/index.ts';

export const signal = () => new AbortController().signal;

/** Resolves to the rejection of `p` (or fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<KeyStoreError> {
  const out = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (out.ok) throw new Error('expected a rejection');
  if (!(out.e instanceof KeyStoreError)) throw out.e;
  return out.e;
}

/** A compact view of versions for assertions. */
export const view = (versions: SecretVersion[]) =>
  versions.map((v) => ({ id: v.id, role: v.role, secret: v.secret, notBefore: v.notBefore, notAfter: v.notAfter }));

/**
 * Starts one Secrets Manager test server for the file, hands it to `started`, and returns a
 * `makeStore` whose stores are disposed after each test (faults cleared too) and a `fresh` id maker.
 */
export function useSecretsManagerServer(
  prefix: string,
  options: {
    now: () => number;
    started: (server: SecretsManagerServer) => void;
    storeDefaults?: AwsSecretsManagerStoreOptions;
  },
) {
  let server: SecretsManagerServer | undefined;
  let n = 0;
  const stores: { dispose?: () => unknown }[] = [];
  beforeAll(async () => {
    server = await startSecretsManagerServer({ now: options.now });
    options.started(server);
  });
  afterEach(async () => {
    server?.clearFaults();
    for (const s of stores.splice(0)) await s.dispose?.();
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    /** A new secret name. */
    fresh: () => `${prefix}/${++n}`,
    /** A store whose client the store builds itself, pointed at the local server. */
    makeStore(storeOptions: AwsSecretsManagerStoreOptions = {}) {
      const store = awsSecretsManagerStore({ clientConfig: server!.clientConfig(), ...options.storeDefaults, ...storeOptions });
      stores.push(store);
      return store;
    },
  };
}
