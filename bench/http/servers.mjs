/**
 * Child of bench/http/run.mjs: starts two servers of one framework on 127.0.0.1 — keyturn's adapter
 * over a (counting) store, and the same framework with a hand-written floor check on the raw body
 * (`createHmac` + `timingSafeEqual`) — and prints `{ keyturn, floor }` ports on stdout. On a line
 * `calls` on stdin it prints the store calls so far.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { createVerifier, providers } from '@keyturn/core';

const framework = process.argv[2];
const SECRET = process.env.SECRET;
let storeCalls = 0;
const store = {
  name: 'bench',
  async getVersions() {
    storeCalls++;
    return [{ id: 'k1', secret: SECRET, role: 'active' }];
  },
};
const verifier = createVerifier({ provider: providers.smartcar(), keys: store, secretId: 'smartcar' });
const floorOk = (body, header) => {
  const mac = createHmac('sha256', SECRET).update(body).digest();
  const sig = typeof header === 'string' ? Buffer.from(header, 'hex') : Buffer.alloc(0);
  return sig.length === mac.length && timingSafeEqual(mac, sig);
};
const listen = (server) => new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));

async function nodeHttp() {
  const { createNodeHandler } = await import('@keyturn/core/adapters/node');
  const kt = createServer(
    createNodeHandler(verifier, (_req, res) => {
      res.statusCode = 204;
      res.end();
    }),
  );
  const floor = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.statusCode = floorOk(Buffer.concat(chunks), req.headers['sc-signature']) ? 204 : 401;
      res.end();
    });
  });
  return { keyturn: await listen(kt), floor: await listen(floor) };
}
async function express() {
  const { default: express } = await import('express');
  const { createExpressMiddleware } = await import('@keyturn/core/adapters/express');
  const kt = express();
  kt.post('/hook', createExpressMiddleware(verifier), (_req, res) => res.sendStatus(204));
  const floor = express();
  floor.post('/hook', express.raw({ type: '*/*' }), (req, res) =>
    res.sendStatus(floorOk(req.body, req.headers['sc-signature']) ? 204 : 401),
  );
  return { keyturn: await listen(createServer(kt)), floor: await listen(createServer(floor)) };
}
async function fastify() {
  const { default: Fastify } = await import('fastify');
  const { keyturnFastify } = await import('@keyturn/core/adapters/fastify');
  const kt = Fastify();
  await kt.register(async (w) => {
    await w.register(keyturnFastify, { verifier });
    w.post('/hook', async (_request, reply) => reply.code(204).send());
  });
  const floor = Fastify();
  floor.removeAllContentTypeParsers();
  floor.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  floor.post('/hook', async (request, reply) => reply.code(floorOk(request.body, request.headers['sc-signature']) ? 204 : 401).send());
  await kt.listen({ port: 0, host: '127.0.0.1' });
  await floor.listen({ port: 0, host: '127.0.0.1' });
  return { keyturn: kt.server.address().port, floor: floor.server.address().port };
}
async function hono() {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const { keyturn } = await import('@keyturn/core/adapters/hono');
  const kt = new Hono();
  kt.post('/hook', keyturn(verifier), (c) => c.body(null, 204));
  const floor = new Hono();
  floor.post('/hook', async (c) => c.body(null, floorOk(Buffer.from(await c.req.arrayBuffer()), c.req.header('sc-signature')) ? 204 : 401));
  const start = (app) =>
    new Promise((r) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => r(info.port));
      void s;
    });
  return { keyturn: await start(kt), floor: await start(floor) };
}

const ports = await { 'node:http': nodeHttp, express, fastify, hono }[framework]();
process.stdout.write(`${JSON.stringify(ports)}\n`);
process.stdin.setEncoding('utf8');
process.stdin.on('end', () => process.exit(0)); // the parent went away
process.stdin.on('data', (d) => {
  if (d.includes('calls')) process.stdout.write(`${storeCalls}\n`);
  if (d.includes('exit')) process.exit(0);
});
