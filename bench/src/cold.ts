/**
 * The cold path: the first request for a secretId, through the AWS Secrets Manager and GCP Secret
 * Manager test servers (`@keyturn/store-aws/testing`, `@keyturn/store-gcp/testing`) with the real
 * SDK clients. Each case is paired with one `store.getVersions` call (the store round trip), so
 * "cold path = one store round trip" reads as a ratio near 1.
 *
 * @module
 */
import { createVerifier, providers, type KeyStore } from '@keyturn/core';
import { secret, signHeaders } from './schemes.ts';
import { assert, type CaseDef, type Prepared } from './types.ts';

/** Distinct secretIds cycled through; the verifier keeps only `KEPT`, so every request is cold. */
const POOL = 256;
const KEPT = 8;

interface Backend {
  readonly store: KeyStore;
  readonly names: readonly string[];
  /** Requests the server received so far. */
  requests(): number;
  close(): Promise<void>;
}

async function awsBackend(value: string): Promise<Backend> {
  const { startSecretsManagerServer } = await import('@keyturn/store-aws/testing');
  const { awsSecretsManagerStore } = await import('@keyturn/store-aws');
  const server = await startSecretsManagerServer();
  const names = Array.from({ length: POOL }, (_, i) => `bench/webhook-${i}`);
  for (const name of names) server.createSecret(name, value);
  // Retries absorb the keep-alive race (the server closing an idle socket as the client reuses it).
  const store = awsSecretsManagerStore({ clientConfig: server.clientConfig({ maxAttempts: 3 }) });
  return {
    store,
    names,
    requests: () => server.calls.length,
    async close() {
      await store.dispose?.();
      await server.close();
    },
  };
}

async function gcpBackend(value: string): Promise<Backend> {
  const { startFakeSecretManager } = await import('@keyturn/store-gcp/testing');
  const { gcpSecretManagerStore } = await import('@keyturn/store-gcp');
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  const fake = await startFakeSecretManager();
  const names = Array.from({ length: POOL }, (_, i) => `projects/test-project/secrets/webhook-${i}`);
  for (const name of names) {
    fake.model.createSecret(name);
    fake.model.addVersion(name, value);
  }
  const client = new SecretManagerServiceClient(fake.grpcClientOptions() as never);
  const store = gcpSecretManagerStore({ client: client as never, mode: 'versions' });
  return {
    store,
    names,
    requests: () => fake.model.calls.length,
    async close() {
      await store.dispose?.();
      await client.close();
      await fake.close();
    },
  };
}

/**
 * Both stores cache a version's payload once fetched (versions are immutable), so the first call
 * per secret costs an extra request. Cycling once through the pool puts the floor's store and
 * keyturn's store in the same state; keyturn's own key cache stays cold for every request.
 */
async function warmStore(b: Backend): Promise<Backend> {
  for (const name of b.names) await b.store.getVersions(name, { signal: new AbortController().signal });
  return b;
}

function coldPair(cloud: 'aws' | 'gcp'): CaseDef[] {
  const label =
    cloud === 'aws'
      ? 'AWS Secrets Manager test server, @aws-sdk/client-secrets-manager'
      : 'GCP Secret Manager test server (gRPC), @google-cloud/secret-manager';
  const start = async (value: string) => warmStore(await (cloud === 'aws' ? awsBackend(value) : gcpBackend(value)));
  const floorId = `floor-cold-${cloud}`;
  const floor: CaseDef = {
    id: floorId,
    group: 'cold',
    what: `one \`store.getVersions(secretId)\`: the store round trip (${label})`,
    floor: floorId,
    sizes: [1024],
    async prepare(): Promise<Prepared> {
      const s = secret('smartcar', 1);
      const b = await start(s.stored);
      let i = 0;
      const op = () => b.store.getVersions(b.names[i++ % POOL]!, { signal: new AbortController().signal });
      return {
        fn: op,
        refresh() {},
        async check() {
          const versions = await op();
          const got = versions[0]?.secret;
          const text = typeof got === 'string' ? got : got === undefined ? undefined : Buffer.from(got).toString('utf8');
          assert(versions.length === 1 && text === s.stored, `${floorId}: the stored secret`);
        },
        dispose: () => b.close(),
      };
    },
  };
  const id = `kt-cold-${cloud}-verify`;
  const keyturn: CaseDef = {
    id,
    group: 'cold',
    what: `keyturn \`await verify\` (smartcar), first request for a secretId: cache miss, one store load, ring build, HMAC (${label})`,
    floor: floorId,
    sizes: [1024],
    async prepare(fx): Promise<Prepared> {
      const s = secret('smartcar', 1);
      const b = await start(s.stored);
      let loads = 0;
      const counted: KeyStore = {
        name: b.store.name,
        getVersions: (secretId, options) => {
          loads++;
          return b.store.getVersions(secretId, options);
        },
      };
      const verifier = createVerifier({
        provider: providers.smartcar(),
        keys: counted,
        secretId: b.names[0]!,
        cache: { maxSecrets: KEPT },
      });
      const headers = signHeaders('smartcar', s, fx.bytes, 0);
      let i = 0;
      return {
        fn: () => verifier.verify({ body: fx.bytes, headers, secretId: b.names[i++ % POOL]! }),
        refresh() {},
        async check() {
          const before = loads;
          const requests = b.requests();
          const secretId = b.names[POOL - 1]!;
          assert((await verifier.verify({ body: fx.bytes, headers, secretId })).keyId !== undefined, `${id} valid`);
          assert(loads - before === 1, `${id}: a cold verify made ${loads - before} store loads, expected 1`);
          process.stderr.write(
            `${id}: one cold verify = 1 store load = ${b.requests() - requests} request(s) to the test server (store payload cache warm)\n`,
          );
          await verifier.verify({ body: fx.bytes, headers, secretId });
          assert(loads - before === 1, `${id}: a warm verify must not load`);
          let rejected = false;
          try {
            await verifier.verify({ body: fx.tampered, headers, secretId: b.names[POOL - 2]! });
          } catch {
            rejected = true;
          }
          assert(rejected, `${id}: tampered body accepted`);
        },
        dispose: () => b.close(),
      };
    },
  };
  return [floor, keyturn];
}

/** The cold-path cases (AWS and GCP). */
export function coldCases(): CaseDef[] {
  return [...coldPair('aws'), ...coldPair('gcp')];
}
