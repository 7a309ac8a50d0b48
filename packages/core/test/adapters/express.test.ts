import { createServer } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressMiddleware, EXPRESS_PARSED_HINT, type AdapterError } from '../../src/adapters/express.ts';
import type { VerificationError } from '../../src/index.ts';
import {
  AMT,
  PIZZA,
  PIZZA_SIG,
  hashChallenge,
  listen,
  mobwayVerifier,
  post,
  signMobway,
  signSmartcar,
  smartcarVerifier,
  withRelease,
} from './helpers.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function serve(app: express.Express) {
  const s = await listen(createServer(app));
  closers.push(s.close);
  return s.url;
}

const echo: express.RequestHandler = (req, res) => {
  res.json({
    keyId: req.keyturn?.keyId,
    keyRole: req.keyturn?.keyRole,
    locals: res.locals['keyturn']?.keyId,
    raw: Buffer.isBuffer(req.body),
    body: JSON.parse((req.body as Buffer).toString('utf8')),
  });
};

describe('express 5 adapter', () => {
  it('reads the stream itself when nothing consumed it; sets req.keyturn, res.locals.keyturn and req.body = raw Buffer', async () => {
    const app = express();
    app.post('/hook', createExpressMiddleware(smartcarVerifier()), echo);
    app.use(express.json());
    app.post('/other', (req, res) => res.json(req.body));
    const url = await serve(app);
    const r = await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ keyId: 'amt-2', keyRole: 'active', locals: 'amt-2', raw: true, body: { pizza: 'pasta' } });
    // The JSON parser still works for the rest of the app.
    expect((await post(`${url}/other`, '{"a":1}')).json).toEqual({ a: 1 });
  });

  it('uses the Buffer from express.raw()', async () => {
    const app = express();
    app.post('/hook', express.raw({ type: '*/*' }), createExpressMiddleware(smartcarVerifier()), echo);
    const url = await serve(app);
    expect((await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG })).json).toMatchObject({ keyId: 'amt-2' });
    expect((await post(`${url}/hook`, PIZZA + '\n', { 'SC-Signature': PIZZA_SIG })).status).toBe(401);
  });

  it('a gzip delivery verifies the same whether express.raw() inflated it or the middleware read the stream', async () => {
    const { gzipSync } = await import('node:zlib');
    const app = express();
    app.post('/raw', express.raw({ type: '*/*' }), createExpressMiddleware(smartcarVerifier()), echo);
    app.post('/stream', createExpressMiddleware(smartcarVerifier()), echo);
    const url = await serve(app);
    for (const path of ['/raw', '/stream']) {
      const r = await post(`${url}${path}`, gzipSync(PIZZA), { 'SC-Signature': PIZZA_SIG, 'content-encoding': 'gzip' });
      expect([path, r.status, r.json]).toMatchObject([path, 200, { keyId: 'amt-2', body: { pizza: 'pasta' } }]);
    }
  });

  it('uses req.rawBody kept by express.json({ verify })', async () => {
    const app = express();
    app.use(express.json({ verify: (req, _res, buf) => void ((req as { rawBody?: Buffer }).rawBody = buf) }));
    app.post('/hook', createExpressMiddleware(smartcarVerifier()), (req, res) => res.json({ keyId: req.keyturn?.keyId }));
    const url = await serve(app);
    // Whitespace that JSON.stringify(req.body) would lose: the raw copy still verifies.
    const body = '{ "pizza" :  "pasta" }';
    expect((await post(`${url}/hook`, body, signSmartcar(body))).json).toEqual({ keyId: 'amt-2' });
  });

  it('fails with BODY_NOT_RAW (500) and the exact fix when express.json() consumed the body', async () => {
    const errors: AdapterError[] = [];
    let called = 0;
    const app = express();
    app.use(express.json());
    app.post('/hook', createExpressMiddleware(smartcarVerifier(), { onError: (e) => errors.push(e) }), (_q, res) => (called++, res.end()));
    const url = await serve(app);
    const r = await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG });
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error: 'webhook receiver error' });
    expect(called).toBe(0);
    const err = errors[0] as VerificationError;
    expect(err.code).toBe('BODY_NOT_RAW');
    expect(err.hint).toBe(EXPRESS_PARSED_HINT);
    expect(err.hint).toContain('express.raw({ type: "*/*" })');
    expect(err.hint).toContain('before app.use(express.json())');
  });

  it('answers Mobway rejections with 403 and a generic body', async () => {
    const app = express();
    app.post('/hook', createExpressMiddleware(mobwayVerifier(), { onError: () => {} }), (_q, res) => res.send('ok'));
    const url = await serve(app);
    const body = '{"id":"m1"}';
    expect((await post(`${url}/hook`, body, signMobway(body))).text).toBe('ok');
    const bad = await post(`${url}/hook`, body, { 'X-Signature': '00'.repeat(32) });
    expect(bad.status).toBe(403);
    expect(bad.json).toEqual({ error: 'invalid signature' });
    expect((await post(`${url}/hook`, body)).status).toBe(403);
  });

  it('enforces maxBodyBytes (413) when reading the stream and when express.raw() captured it', async () => {
    const app = express();
    app.post('/a', createExpressMiddleware(smartcarVerifier(), { maxBodyBytes: 10, onError: () => {} }), (_q, res) => res.end());
    app.post(
      '/b',
      express.raw({ type: '*/*' }),
      createExpressMiddleware(smartcarVerifier(), { maxBodyBytes: 10, onError: () => {} }),
      (_q, res) => res.end(),
    );
    const url = await serve(app);
    expect((await post(`${url}/a`, PIZZA, { 'SC-Signature': PIZZA_SIG })).status).toBe(413);
    expect((await post(`${url}/b`, PIZZA, { 'SC-Signature': PIZZA_SIG })).status).toBe(413);
  });

  it('answers a signed VERIFY (smartcar SDK oracle) and refuses an unsigned one', async () => {
    const app = express();
    app.post('/hook', createExpressMiddleware(smartcarVerifier(), { onError: () => {} }), (_q, res) => res.send('handler'));
    const url = await serve(app);
    const body = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'c-42' } });
    expect((await post(`${url}/hook`, body, signSmartcar(body))).json).toEqual({ challenge: hashChallenge(AMT, 'c-42') });
    expect((await post(`${url}/hook`, body)).status).toBe(401);
  });

  it('releases a replay reservation when a later handler throws (Express answers 500)', async () => {
    const { verifier, released } = withRelease(smartcarVerifier());
    const app = express();
    app.post('/hook', createExpressMiddleware(verifier), () => {
      throw new Error('boom');
    });
    app.use(((_err, _req, res, _next) => void res.status(500).end()) as express.ErrorRequestHandler);
    const url = await serve(app);
    expect((await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG })).status).toBe(500);
    await expect.poll(released).toBe(1);
  });
});
