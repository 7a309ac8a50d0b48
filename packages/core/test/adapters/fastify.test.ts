import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { keyturnFastify, FASTIFY_PARSED_HINT, type AdapterError } from '../../src/adapters/fastify.ts';
import type { VerificationError, Verifier } from '../../src/index.ts';
import {
  AMT,
  PIZZA,
  PIZZA_SIG,
  hashChallenge,
  mobwayVerifier,
  post,
  signMobway,
  signSmartcar,
  smartcarVerifier,
  withRelease,
} from './helpers.ts';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  while (apps.length > 0) await apps.pop()!.close();
});

async function start(
  verifier: Verifier,
  extra: Record<string, unknown> = {},
  handler?: (req: FastifyRequest, reply: FastifyReply) => unknown,
) {
  const app = Fastify();
  apps.push(app);
  await app.register(async (scope) => {
    await scope.register(keyturnFastify, { verifier, onError: () => {}, ...extra });
    scope.post(
      '/hook',
      handler ??
        (async (request) => ({
          keyId: request.keyturn?.keyId,
          keyRole: request.keyturn?.keyRole,
          body: JSON.parse((request.body as Buffer).toString('utf8')),
        })),
    );
  });
  app.post('/json', async (request) => ({ parsed: request.body }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return url;
}

describe('fastify 5 adapter', () => {
  it('verifies raw bytes in its scope and leaves the JSON parser of the rest of the app alone', async () => {
    const url = await start(smartcarVerifier());
    const r = await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ keyId: 'amt-2', keyRole: 'active', body: { pizza: 'pasta' } });
    expect((await post(`${url}/json`, '{"a":1}')).json).toEqual({ parsed: { a: 1 } });
  });

  it('rejects tampered (401) and missing signatures; Mobway answers 403', async () => {
    const errors: AdapterError[] = [];
    const url = await start(smartcarVerifier(), { onError: (e: AdapterError) => errors.push(e) });
    const t = await post(`${url}/hook`, PIZZA.replace('a', 'A'), { 'SC-Signature': PIZZA_SIG });
    expect(t.status).toBe(401);
    expect(t.json).toEqual({ error: 'invalid signature' });
    expect((await post(`${url}/hook`, PIZZA)).status).toBe(401);
    expect(errors.map((e) => (e as VerificationError).code)).toEqual(['NO_MATCHING_KEY', 'MISSING_SIGNATURE']);

    const mw = await start(mobwayVerifier());
    const body = '{"id":7}';
    expect((await post(`${mw}/hook`, body, signMobway(body))).status).toBe(200);
    expect((await post(`${mw}/hook`, body, { 'X-Signature': 'ab'.repeat(32) })).status).toBe(403);
  });

  it('verifies any content type byte-exactly (text/plain, octet-stream)', async () => {
    const url = await start(smartcarVerifier(), {}, async (request: FastifyRequest) => ({
      keyId: request.keyturn?.keyId,
      len: (request.body as Buffer).length,
    }));
    const bytes = new Uint8Array([0xff, 0x00, 0xc3, 0x28, 0x7b]); // not valid UTF-8
    const r = await post(`${url}/hook`, bytes, { ...signSmartcar(bytes), 'content-type': 'application/octet-stream' });
    expect(r.json).toEqual({ keyId: 'amt-2', len: 5 });
    expect((await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG, 'content-type': 'text/plain' })).status).toBe(200);
  });

  it('enforces maxBodyBytes with 413', async () => {
    const url = await start(smartcarVerifier(), { maxBodyBytes: 8 });
    expect((await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG })).status).toBe(413);
  });

  it('answers a signed VERIFY with the smartcar SDK oracle value', async () => {
    let called = 0;
    const url = await start(smartcarVerifier(), {}, async () => (called++, 'handler'));
    const body = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'fz' } });
    const r = await post(`${url}/hook`, body, signSmartcar(body));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ challenge: hashChallenge(AMT, 'fz') });
    expect((await post(`${url}/hook`, body)).status).toBe(401);
    expect(called).toBe(0);
  });

  it('fails with BODY_NOT_RAW and the fix when a JSON parser is added after it in the scope', async () => {
    const errors: AdapterError[] = [];
    const app = Fastify();
    apps.push(app);
    await app.register(async (scope) => {
      await scope.register(keyturnFastify, { verifier: smartcarVerifier(), onError: (e) => errors.push(e) });
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, b, done) => done(null, JSON.parse(b as string)));
      scope.post('/hook', async () => 'handler');
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const r = await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG });
    expect(r.status).toBe(500);
    expect((errors[0] as VerificationError).code).toBe('BODY_NOT_RAW');
    expect((errors[0] as VerificationError).hint).toBe(FASTIFY_PARSED_HINT);
  });

  it('releases a replay reservation when the route answers 5xx', async () => {
    const { verifier, released } = withRelease(smartcarVerifier());
    const url = await start(verifier, {}, async (_req: FastifyRequest, reply: FastifyReply) => reply.code(503).send('later'));
    expect((await post(`${url}/hook`, PIZZA, { 'SC-Signature': PIZZA_SIG })).status).toBe(503);
    await expect.poll(released).toBe(1);
  });
});
