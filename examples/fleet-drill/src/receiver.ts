/**
 * One receiver of the drill, as its own process: a node:http server with keyturn's node adapter, a
 * Dataspike verifier on the configured store (env-file, AWS or GCP through their test servers), a
 * Redis fleet (notices, fences, ledger) and replay claims on the same client. It reports on stdout,
 * one JSON line each: `ready`, every processed delivery, and the verifier's load and fleet events
 * (ids and reasons only — never a secret).
 *
 * Run by the drill: `DRILL_RECEIVER='<json>' node --import tsx src/receiver.ts`.
 */
import { createServer } from 'node:http';
import { createVerifier, providers, type KeyStore, type KeyturnEvent } from '@keyturn/core';
import { createNodeHandler } from '@keyturn/core/adapters/node';
import { redisFleet } from '@keyturn/redis';
import { Redis } from 'ioredis';
import type { ReceiverConfig } from './config.ts';

const config = JSON.parse(process.env['DRILL_RECEIVER'] ?? '{}') as ReceiverConfig;
const out = (line: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ at: Date.now(), ...line }) + '\n');

async function openStore(): Promise<{ store: KeyStore; close(): Promise<void> }> {
  const s = config.store;
  if (s.kind === 'env-file') {
    const { envFileKeyStore } = await import('@keyturn/store-env/file');
    return { store: envFileKeyStore({ path: s.path }), close: async () => undefined };
  }
  if (s.kind === 'aws') {
    const { awsSecretsManagerStore } = await import('@keyturn/store-aws');
    const store = awsSecretsManagerStore({
      clientConfig: {
        region: s.region,
        endpoint: s.endpoint,
        credentials: { accessKeyId: 'drill', secretAccessKey: 'drill' },
        maxAttempts: 2,
      },
    });
    return { store, close: async () => store.dispose() };
  }
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  const grpc = await import('@grpc/grpc-js');
  const { gcpSecretManagerStore } = await import('@keyturn/store-gcp');
  const client = new SecretManagerServiceClient({
    apiEndpoint: '127.0.0.1',
    port: s.port,
    sslCreds: grpc.credentials.createInsecure(),
    projectId: s.project,
    universeDomain: 'googleapis.com',
  } as never);
  const store = gcpSecretManagerStore({ client: client as never, mode: 'aliases' });
  return { store, close: async () => (await store.dispose?.(), await client.close()) };
}

const redis = new Redis({
  host: '127.0.0.1',
  port: config.redisPort,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: () => 100,
  lazyConnect: true,
});
redis.on('error', () => undefined);
// An instance may start while Redis is down (the drill restarts a receiver around the Redis restart):
// it verifies from the store at once, and ioredis keeps reconnecting (the fleet resyncs when it is back).
await redis.connect().catch(() => undefined);
const fleet = redisFleet({ client: redis, prefix: config.prefix, instance: config.name, ...config.fleet });
const { store, close } = await openStore();

const secretId = config.secretId;
const onEvent = (e: KeyturnEvent): void => {
  switch (e.type) {
    case 'load-start':
      out({ t: 'load-start', reason: e.reason });
      break;
    case 'load-success':
      out({ t: 'load-success', reason: e.reason, versions: verifier.status(secretId).versions.map((v) => v.id) });
      break;
    case 'load-failure':
      out({ t: 'load-failure', reason: e.reason, retryable: e.retryable });
      break;
    case 'fleet-notice':
      out({ t: 'fleet-notice', notice: e.notice, held: e.held });
      break;
    case 'rotation-fence':
      out({ t: 'fence', state: e.state });
      break;
    case 'fleet-resync':
      out({ t: 'resync', secrets: e.secrets });
      break;
    case 'fleet-error':
      out({ t: 'fleet-error', operation: e.operation, pending: e.pending });
      break;
    case 'fleet-notice-ignored':
      out({ t: 'notice-ignored', reason: e.reason });
      break;
    case 'replay-store-error':
      out({ t: 'replay-error', outcome: e.outcome });
      break;
    default:
  }
};

const verifier = createVerifier({
  provider: providers.dataspike(),
  keys: store,
  secretId,
  fleet,
  replay: { store: fleet.replayStore({ commandTimeoutMs: 1_000 }) },
  onEvent,
});
await verifier.warm();

const codes = new Map<string, number>();
const server = createServer(
  createNodeHandler(
    verifier,
    (_req, res, { result }) => {
      out({ t: 'processed', id: result.eventId, key: result.keyId });
      res.writeHead(204).end();
    },
    {
      onError: (err) => {
        const code = (err as { code?: string }).code ?? err.name;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      },
    },
  ),
);
server.keepAliveTimeout = 30_000;
server.listen(config.port, '127.0.0.1', () =>
  out({ t: 'ready', port: (server.address() as { port: number }).port, instance: fleet.instanceId }),
);

// Rejection codes, once a second (a line per rejection would be a line per 503 during an outage).
setInterval(() => {
  if (codes.size > 0) out({ t: 'rejections', codes: Object.fromEntries(codes) });
  codes.clear();
}, 1_000).unref();

async function shutdown(): Promise<void> {
  server.close();
  await verifier.dispose();
  await fleet.close();
  await close();
  redis.disconnect();
  out({ t: 'stopped' });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
