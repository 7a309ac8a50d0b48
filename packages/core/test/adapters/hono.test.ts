// The Hono middleware (`@keyturn/core/adapters/hono`): in process through app.request(), and over
// real HTTP through @hono/node-server (the conformance suite runs it too).
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { keyturn, type AdapterError, type KeyturnEnv } from '../../src/adapters/hono.ts';
import { createVerifier, memoryReplayStore, providers, type VerifyResult } from '../../src/index.ts';
import {
  AMT,
  OLD_AMT,
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

const req = (body: BodyInit | null, headers: Record<string, string> = {}, path = '/hook') =>
  new Request(`http://127.0.0.1${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

describe('keyturn() Hono middleware', () => {
  it('sets c.get("keyturn") (typed) and leaves the body readable for the handler', async () => {
    const app = new Hono();
    app.post('/hook', keyturn(smartcarVerifier()), async (c) => {
      const result = c.get('keyturn');
      expectTypeOf(result).toEqualTypeOf<VerifyResult>();
      return c.json({ keyId: result.keyId, keyRole: result.keyRole, event: await c.req.json() });
    });
    const ok = await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }));
    expect([ok.status, await ok.json()]).toEqual([200, { keyId: 'amt-2', keyRole: 'active', event: { pizza: 'pasta' } }]);
    // The previous token still verifies during the rotation, and says so.
    const old = await app.request(req(PIZZA, signSmartcar(PIZZA, OLD_AMT)));
    expect(await old.json()).toMatchObject({ keyId: 'amt-1', keyRole: 'previous' });
  });

  it('types c.get("keyturn") app-wide with Hono<KeyturnEnv>, and refuses unknown variables', () => {
    const app = new Hono<KeyturnEnv>();
    app.use('/hooks/*', keyturn(smartcarVerifier()));
    app.post('/hooks/smartcar', (c) => {
      expectTypeOf(c.get('keyturn').keyId).toEqualTypeOf<string>();
      // @ts-expect-error -- not a variable the middleware sets
      c.get('keyturnn');
      return c.body(null, 204);
    });
    expect(app.routes.length).toBe(2);
  });

  it('answers rejections itself with the profile status and a generic body; the reason goes to onError', async () => {
    const errors: AdapterError[] = [];
    let called = 0;
    const app = new Hono();
    const onError = (e: AdapterError) => void errors.push(e);
    app.post('/smartcar', keyturn(smartcarVerifier(), { onError }), (c) => (called++, c.body(null, 204)));
    app.post('/mobway', keyturn(mobwayVerifier(), { onError }), (c) => (called++, c.body(null, 204)));
    const forged = await app.request(req(PIZZA, { 'SC-Signature': '00'.repeat(32) }, '/smartcar'));
    expect([forged.status, await forged.json()]).toEqual([401, { error: 'invalid signature' }]);
    const unsigned = await app.request(req('{}', {}, '/mobway'));
    expect([unsigned.status, await unsigned.json()]).toEqual([403, { error: 'invalid signature' }]);
    const good = await app.request(req('{"id":1}', signMobway('{"id":1}'), '/mobway'));
    expect(good.status).toBe(204);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['NO_MATCHING_KEY', 'MISSING_SIGNATURE']);
    expect(called).toBe(1);
  });

  it('answers a signed Smartcar VERIFY (v4.0 and v2.0) like the smartcar SDK, without calling the handler', async () => {
    let called = 0;
    const app = new Hono();
    app.post('/hook', keyturn(smartcarVerifier(), { onError: () => {} }), (c) => (called++, c.body(null, 204)));
    for (const body of [
      JSON.stringify({ eventId: 'e', eventType: 'VERIFY', data: { challenge: 'hono-v4' }, meta: { version: '4.0' } }),
      JSON.stringify({ version: '2.0', eventName: 'verify', payload: { challenge: 'hono-v2' } }),
    ]) {
      const res = await app.request(req(body, signSmartcar(body)));
      const challenge = JSON.parse(body) as { data?: { challenge: string }; payload?: { challenge: string } };
      expect([res.status, await res.json()]).toEqual([
        200,
        { challenge: hashChallenge(AMT, (challenge.data ?? challenge.payload)!.challenge) },
      ]);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      // Unsigned: refused (the default challengeSignature: 'required').
      expect((await app.request(req(body))).status).toBe(401);
    }
    expect(called).toBe(0);
  });

  it('a compressed delivery: verified on the decoded bytes, and c.req.json() reads them', async () => {
    const app = new Hono();
    app.post('/hook', keyturn(smartcarVerifier()), async (c) =>
      c.json({ event: await c.req.json(), encoding: c.req.header('content-encoding') ?? null }),
    );
    const res = await app.request(req(gzipSync(PIZZA), { 'SC-Signature': PIZZA_SIG, 'content-encoding': 'gzip' }));
    expect([res.status, await res.json()]).toEqual([200, { event: { pizza: 'pasta' }, encoding: null }]);
  });

  it("uses the bytes an earlier middleware read through Hono's body cache (json, text, arrayBuffer); a body consumed outside it is BODY_NOT_RAW with the fix", async () => {
    const codes: string[] = [];
    const hints: (string | undefined)[] = [];
    const onError = (e: AdapterError) => {
      codes.push((e as { code?: string }).code ?? e.message);
      hints.push((e as { hint?: string }).hint);
    };
    const app = new Hono();
    app.post(
      '/text',
      async (c, next) => (await c.req.text(), next()),
      keyturn(smartcarVerifier(), { onError }),
      async (c) => c.json(await c.req.json()),
    );
    app.post(
      '/bytes',
      async (c, next) => (await c.req.arrayBuffer(), next()),
      keyturn(smartcarVerifier(), { onError }),
      (c) => c.body(null, 204),
    );
    // Hono's c.req.json() caches the text it parsed: the exact bytes are still there.
    app.post(
      '/json',
      async (c, next) => (await c.req.json(), next()),
      keyturn(smartcarVerifier(), { onError }),
      (c) => c.body(null, 204),
    );
    app.post(
      '/raw',
      async (c, next) => (await c.req.raw.json(), next()),
      keyturn(smartcarVerifier(), { onError }),
      (c) => c.body(null, 204),
    );
    expect(await (await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }, '/text'))).json()).toEqual({ pizza: 'pasta' });
    expect((await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }, '/bytes'))).status).toBe(204);
    expect((await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }, '/json'))).status).toBe(204);
    const parsed = await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }, '/raw'));
    expect([parsed.status, await parsed.json()]).toEqual([500, { error: 'webhook receiver error' }]);
    expect(codes).toEqual(['BODY_NOT_RAW']);
    expect(hints[0]).toMatch(/before any middleware that reads the body/);
    // A cached copy is held to maxBodyBytes like a streamed one.
    const small = new Hono();
    small.post(
      '/',
      async (c, next) => (await c.req.text(), next()),
      keyturn(smartcarVerifier(), { maxBodyBytes: 8, onError }),
      (c) => c.body(null, 204),
    );
    expect((await small.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }, '/'))).status).toBe(413);
  });

  it('releases a replay reservation when the handler throws (onError answers) or answers 5xx', async () => {
    const { verifier, released } = withRelease(smartcarVerifier());
    let mode = 'throw';
    const app = new Hono();
    app.post('/hook', keyturn(verifier), (c) => {
      if (mode === 'throw') throw new Error('boom');
      return c.body(null, mode === '500' ? 500 : 204);
    });
    app.onError((_err, c) => c.text('handled', 200));
    expect((await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }))).status).toBe(200);
    expect(released()).toBe(1);
    mode = '500';
    expect((await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }))).status).toBe(500);
    expect(released()).toBe(2);
    mode = 'ok';
    expect((await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }))).status).toBe(204);
    expect(released()).toBe(2);
  });

  it('with real replay defence: a retry after a 503 is accepted, a duplicate after success is 409', async () => {
    const verifier = createVerifier({
      provider: providers.smartcar(),
      keys: [{ id: 'amt-2', secret: AMT, role: 'active' }],
      replay: { store: memoryReplayStore() },
    });
    let status: 204 | 503 = 503;
    const app = new Hono();
    app.post('/hook', keyturn(verifier, { onError: () => {} }), (c) => c.body(null, status));
    const body = JSON.stringify({ eventId: 'evt-hono', eventType: 'VEHICLE_STATE' });
    expect((await app.request(req(body, signSmartcar(body)))).status).toBe(503);
    status = 204;
    expect((await app.request(req(body, signSmartcar(body)))).status).toBe(204);
    const dup = await app.request(req(body, signSmartcar(body)));
    expect([dup.status, await dup.json()]).toEqual([409, { error: 'duplicate delivery' }]);
  });

  it('picks the secret per request (multi-tenant) and checks its options when created', async () => {
    const verifier = createVerifier({
      provider: providers.mobway(),
      keys: [{ id: 'acme-1', secret: 'acme-secret', role: 'active' }],
      secretId: 'acme',
    });
    const seen: (string | undefined)[] = [];
    const app = new Hono();
    app.post(
      '/hooks/:tenant',
      keyturn(verifier, { secretId: (c) => (seen.push(c.req.param('tenant')), c.req.param('tenant')), onError: () => {} }),
      (c) => c.json({ secretId: c.get('keyturn').secretId }),
    );
    const body = '{"n":1}';
    const acme = { 'x-signature': createHmac('sha256', 'acme-secret').update(body).digest('hex') };
    const ok = await app.request(req(body, acme, '/hooks/acme'));
    expect([ok.status, await ok.json()]).toEqual([200, { secretId: 'acme' }]);
    // Static keys serve every secret id: the id reported is the one the route picked.
    expect(await (await app.request(req(body, acme, '/hooks/globex'))).json()).toEqual({ secretId: 'globex' });
    expect(seen).toEqual(['acme', 'globex']);

    expect(() => keyturn(verifier, { maxBodyBytes: 0 })).toThrow(/keyturn: maxBodyBytes must be a positive integer/);
    expect(() => keyturn(verifier, { secretId: 'acme' as never })).toThrow(/keyturn: secretId must be a function/);
    expect(() => keyturn(undefined as never)).toThrow(TypeError);
  });

  it('over real HTTP with @hono/node-server: verifies, answers VERIFY, and leaves the body to the handler', async () => {
    const app = new Hono();
    app.post('/webhooks/smartcar', keyturn(smartcarVerifier(), { onError: () => {} }), async (c) =>
      c.json({ keyId: c.get('keyturn').keyId, event: await c.req.json() }),
    );
    const server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
    closers.push(server.close);
    const ok = await post(`${server.url}/webhooks/smartcar`, PIZZA, { 'SC-Signature': PIZZA_SIG });
    expect([ok.status, ok.json]).toEqual([200, { keyId: 'amt-2', event: { pizza: 'pasta' } }]);
    const verify = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'node-server' } });
    const answered = await post(`${server.url}/webhooks/smartcar`, verify, signSmartcar(verify));
    expect([answered.status, answered.json]).toEqual([200, { challenge: hashChallenge(AMT, 'node-server') }]);
    const forged = await post(`${server.url}/webhooks/smartcar`, PIZZA, { 'SC-Signature': '11'.repeat(32) });
    expect([forged.status, forged.json]).toEqual([401, { error: 'invalid signature' }]);
  });
});
