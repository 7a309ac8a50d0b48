// One behaviour, every adapter: the same requests over real HTTP (127.0.0.1) against node:http,
// Express 5, Fastify 5, the Fetch adapter (served on node:http through a streaming Request
// bridge) and the Hono middleware (served by @hono/node-server), with the same answers. A new adapter joins by adding one entry to `adapters`.
import { createServer } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import express from 'express';
import Fastify from 'fastify';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressMiddleware } from '../../src/adapters/express.ts';
import { keyturnFastify } from '../../src/adapters/fastify.ts';
import { withVerification } from '../../src/adapters/fetch.ts';
import { keyturn } from '../../src/adapters/hono.ts';
import { createNodeHandler } from '../../src/adapters/node.ts';
import type { AdapterError, AdapterOptions } from '../../src/adapters/shared.ts';
import type { Verifier } from '../../src/index.ts';
// @ts-expect-error -- plain ESM helper without type declarations
import { fetchServer } from '../../runtime-tests/node-bridge.mjs';
import { listen, post, signSmartcar, smartcarVerifier, upload } from './helpers.ts';

type Serve = (verifier: Verifier, options: AdapterOptions) => Promise<string>;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});
const served = async (server: ReturnType<typeof createServer>) => {
  const s = await listen(server);
  closers.push(s.close);
  return s.url;
};

/** Each adapter, answering an accepted webhook with the key and the body its handler reads the usual way. */
const adapters: Record<string, Serve> = {
  node: (verifier, options) =>
    served(
      createServer(
        createNodeHandler(
          verifier,
          (_q, res, { result, body }) => res.end(JSON.stringify({ keyId: result.keyId, body: body.toString() })),
          options,
        ),
      ),
    ),
  express: (verifier, options) => {
    const app = express();
    app.post(
      '/',
      createExpressMiddleware(verifier, options),
      (req, res) => void res.json({ keyId: req.keyturn?.keyId, body: (req.body as Buffer).toString() }),
    );
    return served(createServer(app));
  },
  fastify: async (verifier, options) => {
    const app = Fastify();
    closers.push(() => app.close());
    await app.register(async (scope) => {
      await scope.register(keyturnFastify, { verifier, ...options });
      scope.post('/', async (request) => ({ keyId: request.keyturn?.keyId, body: (request.body as Buffer).toString() }));
    });
    return app.listen({ port: 0, host: '127.0.0.1' });
  },
  fetch: (verifier, options) =>
    served(
      fetchServer(
        withVerification(
          verifier,
          async (request, { result }) => Response.json({ keyId: result.keyId, body: await request.text() }),
          options,
        ),
      ) as ReturnType<typeof createServer>,
    ),
  hono: (verifier, options) => {
    const app = new Hono();
    app.post('/', keyturn(verifier, options), async (c) => c.json({ keyId: c.get('keyturn').keyId, body: await c.req.text() }));
    return served(createAdaptorServer({ fetch: app.fetch }) as ReturnType<typeof createServer>);
  },
};

const EVENT = JSON.stringify({ eventId: 'e-1', eventType: 'VEHICLE_STATE', data: { note: 'café ✓ '.repeat(40) } });

describe.each(Object.keys(adapters))('%s adapter', (name) => {
  const serve = async (options: AdapterOptions = {}) => {
    const codes: string[] = [];
    const url = await adapters[name]!(smartcarVerifier(), {
      onError: (e: AdapterError) => void codes.push((e as { code?: string }).code ?? e.message),
      ...options,
    });
    return { url, codes };
  };

  it('verifies gzip, x-gzip and deflate deliveries on the decoded bytes (what the sender signed); the handler reads them', async () => {
    const { url, codes } = await serve();
    for (const [coding, wire] of [
      ['gzip', gzipSync(EVENT)],
      ['x-gzip', gzipSync(EVENT)],
      ['deflate', deflateSync(EVENT)],
      ['identity', Buffer.from(EVENT)],
    ] as const) {
      const r = await post(url, wire, { ...signSmartcar(EVENT), 'content-encoding': coding });
      expect([coding, r.status, r.json]).toEqual([coding, 200, { keyId: 'amt-2', body: EVENT }]);
    }
    // A forged compressed delivery is an ordinary signature rejection.
    const forged = await post(url, gzipSync(EVENT), { ...signSmartcar(EVENT, 'not-the-amt'), 'content-encoding': 'gzip' });
    expect([forged.status, forged.json]).toEqual([401, { error: 'invalid signature' }]);
    expect(codes).toEqual(['NO_MATCHING_KEY']);
  });

  it('stops a gzip bomb at maxBodyBytes of decoded output (413)', async () => {
    const { url, codes } = await serve({ maxBodyBytes: 65_536 });
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)); // 8 MiB of spaces in about 8 KiB
    const r = await post(url, bomb, { ...signSmartcar(' '), 'content-encoding': 'gzip' });
    expect([r.status, r.json]).toEqual([413, { error: 'payload too large' }]);
    expect(codes).toEqual(['BODY_TOO_LARGE']);
  });

  it('answers other codings with 415, Accept-Encoding and a hint; a body that is not what its coding says with 400', async () => {
    const { url, codes } = await serve();
    const br = await post(url, brotliCompressSync(EVENT), { ...signSmartcar(EVENT), 'content-encoding': 'br' });
    expect([br.status, br.headers.get('accept-encoding'), br.json]).toEqual([
      415,
      'gzip, deflate',
      { error: 'unsupported content encoding' },
    ]);
    const stacked = await post(url, gzipSync(gzipSync(EVENT)), { ...signSmartcar(EVENT), 'content-encoding': 'gzip, gzip' });
    expect(stacked.status).toBe(415);
    const lying = await post(url, EVENT, { ...signSmartcar(EVENT), 'content-encoding': 'gzip' });
    expect([lying.status, lying.json]).toEqual([400, { error: 'malformed content encoding' }]);
    expect(codes).toEqual(['UNSUPPORTED_CONTENT_ENCODING', 'UNSUPPORTED_CONTENT_ENCODING', 'MALFORMED_CONTENT_ENCODING']);
  });

  it('answers an oversized upload without Content-Length at once (413) although it never ends, and closes the connection', async () => {
    const { url, codes } = await serve({ maxBodyBytes: 1024 });
    const r = await upload(url, new Uint8Array(4096), signSmartcar('x'));
    expect([r.status, r.text, r.headers.connection]).toEqual([413, '{"error":"payload too large"}', 'close']);
    await r.closed;
    expect(codes).toEqual(['BODY_TOO_LARGE']);
  });

  it('answers a sender slower than bodyTimeoutMs with 408 and closes the connection', async () => {
    const { url, codes } = await serve({ bodyTimeoutMs: 150 });
    // 5 of 200 declared bytes, then silence (a 1-byte-per-300 ms sender never gets further).
    const r = await upload(url, new TextEncoder().encode('{"a":'), { ...signSmartcar('x'), 'content-length': '200' });
    expect([r.status, r.text, r.headers.connection]).toEqual([408, '{"error":"request timeout"}', 'close']);
    await r.closed;
    expect(codes).toEqual(['BODY_TIMEOUT']);
  });
});
