import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runKeyStoreConformance } from '@keyturn/core/testing';
import { httpKvStore } from '../src/http-kv-store.ts';

/** A tiny Vault-KV-style server on 127.0.0.1 holding one secret's versions. */
async function kvServer(versions: string[], mode: 'ok' | 'forbidden' | 'unavailable' | 'hang' = 'ok') {
  const server: Server = createServer((req, res) => {
    if (mode === 'hang') return; // never answers
    if (req.headers['x-vault-token'] !== 'test-token' || mode === 'forbidden') return void res.writeHead(403).end();
    if (mode === 'unavailable') return void res.writeHead(503).end();
    const url = new URL(req.url ?? '/', 'http://x');
    const created = (n: number) => new Date(Date.UTC(2026, 0, n)).toISOString();
    if (url.pathname.startsWith('/v1/secret/metadata/')) {
      const meta = {
        current_version: versions.length,
        versions: Object.fromEntries(
          versions.map((_, i) => [String(i + 1), { created_time: created(i + 1), destroyed: false, deletion_time: '' }]),
        ),
      };
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: meta }));
    }
    if (url.pathname.startsWith('/v1/secret/data/')) {
      const secret = versions[Number(url.searchParams.get('version')) - 1];
      if (secret === undefined) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { data: { secret } } }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function subject(mode: Parameters<typeof kvServer>[1], versions = ['old-secret', 'new-secret']) {
  const srv = await kvServer(versions, mode);
  return { store: httpKvStore({ baseUrl: srv.baseUrl, token: 'test-token' }), secretId: 'webhooks/acme', cleanup: srv.close };
}

runKeyStoreConformance({
  name: 'httpKvStore (third-party example)',
  setup: async ({ active, previous }) => subject('ok', [previous, active]),
  terminalFailure: () => subject('forbidden'),
  retryableFailure: () => subject('unavailable'),
  hanging: () => subject('hang'),
});
