import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import { readRequestBody, verifyRequest, withVerification, type AdapterError } from '../../src/adapters/fetch.ts';
import { createVerifier, memoryReplayStore, providers, VerificationError } from '../../src/index.ts';
import {
  AMT,
  PIZZA,
  PIZZA_SIG,
  hashChallenge,
  mobwayVerifier,
  signMobway,
  signSmartcar,
  smartcarVerifier,
  withRelease,
} from './helpers.ts';

const req = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request('http://127.0.0.1/hook', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('fetch adapter', () => {
  it('verifyRequest leaves the body readable for the handler', async () => {
    const request = req(PIZZA, { 'SC-Signature': PIZZA_SIG });
    const { result, body } = await verifyRequest(smartcarVerifier(), request);
    expect(result).toMatchObject({ keyId: 'amt-2', keyRole: 'active' });
    expect(new TextDecoder().decode(body)).toBe(PIZZA);
    expect(request.bodyUsed).toBe(false);
    expect(await request.json()).toEqual({ pizza: 'pasta' });
  });

  it('verifyRequest throws typed errors with the status to answer', async () => {
    const e = await verifyRequest(mobwayVerifier(), req('{}', { 'X-Signature': 'ab'.repeat(32) })).catch((x) => x);
    expect(e).toBeInstanceOf(VerificationError);
    expect(e).toMatchObject({ code: 'NO_MATCHING_KEY', status: 403 });
    const used = req(PIZZA, { 'SC-Signature': PIZZA_SIG });
    await used.text();
    await expect(verifyRequest(smartcarVerifier(), used)).rejects.toMatchObject({ code: 'BODY_NOT_RAW', status: 500 });
  });

  it('readRequestBody enforces maxBodyBytes on streamed bodies without a declared length', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(40));
        c.enqueue(new Uint8Array(40));
        c.close();
      },
    });
    const r = new Request('http://127.0.0.1/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    await expect(readRequestBody(r, { maxBodyBytes: 64 })).rejects.toMatchObject({ code: 'BODY_TOO_LARGE', status: 413 });
    expect((await readRequestBody(req('x'.repeat(64)), { maxBodyBytes: 64 })).length).toBe(64);
  });

  it('answers an oversized body without Content-Length at once, a byte body (Node) or an open stream, and cancels the upload', async () => {
    // Cancelling one branch of request.clone()'s tee waits for the other: awaiting it hung these forever.
    let cancelled = 0;
    const open = () =>
      new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(new Uint8Array(100)), // and never closes
        cancel: () => void cancelled++,
      });
    const bodies = [() => new Uint8Array(100), open];
    const codes: string[] = [];
    const h = withVerification(smartcarVerifier(), () => new Response('handler'), {
      maxBodyBytes: 64,
      onError: (e) => void codes.push((e as { code: string }).code),
    });
    for (const body of bodies) {
      const make = () => new Request('http://127.0.0.1/', { method: 'POST', body: body(), duplex: 'half' } as RequestInit);
      expect(make().headers.get('content-length')).toBeNull();
      await expect(readRequestBody(make(), { maxBodyBytes: 64 })).rejects.toMatchObject({ code: 'BODY_TOO_LARGE', status: 413 });
      const res = await h(make());
      expect([res.status, await res.json()]).toEqual([413, { error: 'payload too large' }]);
    }
    // Both tee branches were cancelled, so the source (the upload) was cancelled too.
    expect(cancelled).toBe(2);
    expect(codes).toEqual(['BODY_TOO_LARGE', 'BODY_TOO_LARGE']);
  }, 5_000);

  it('a compressed delivery: verifyRequest returns the decoded body; withVerification hands the handler a decoded request', async () => {
    const { gzipSync } = await import('node:zlib');
    const gz = () => req(gzipSync(PIZZA), { 'SC-Signature': PIZZA_SIG, 'content-encoding': 'gzip' });
    const { body } = await verifyRequest(smartcarVerifier(), gz());
    expect(new TextDecoder().decode(body)).toBe(PIZZA);
    const h = withVerification(smartcarVerifier(), async (request) =>
      Response.json({
        event: await request.json(),
        encoding: request.headers.get('content-encoding'),
        url: request.url,
        method: request.method,
      }),
    );
    expect(await (await h(gz())).json()).toEqual({
      event: { pizza: 'pasta' },
      encoding: null,
      url: 'http://127.0.0.1/hook',
      method: 'POST',
    });
  });

  it('a compressed delivery through a wrapped request (Next.js hands route handlers a Proxy of its NextRequest) reaches the handler decoded', async () => {
    const { gzipSync } = await import('node:zlib');
    // What Next.js does: getters run on the target, methods are bound to it; `new Request(proxy)` throws.
    // It throws because undici keeps a Request's state in private fields (Node 24+), which a Proxy cannot
    // reach. Node 22's undici keeps it under symbol keys, which the trap would forward: hiding them gives
    // the same failure on every Node version (the well-known symbols stay, so the proxy still reads).
    const wellKnown = new Set<PropertyKey>(Object.values(Object.getOwnPropertyDescriptors(Symbol)).map((d) => d.value));
    const wrap = (target: Request): Request =>
      new Proxy(target, {
        get(t, p) {
          if (typeof p === 'symbol' && !wellKnown.has(p)) return undefined;
          const v = Reflect.get(t, p) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        },
      });
    expect(() => new Request(wrap(req('x')), { body: 'y' })).toThrow(TypeError);
    const h = withVerification(smartcarVerifier(), async (request) =>
      Response.json({ event: await request.json(), method: request.method, url: request.url }),
    );
    const res = await h(wrap(req(gzipSync(PIZZA), { 'SC-Signature': PIZZA_SIG, 'content-encoding': 'gzip' })));
    expect([res.status, await res.json()]).toEqual([200, { event: { pizza: 'pasta' }, method: 'POST', url: 'http://127.0.0.1/hook' }]);
  });

  it('a runtime whose DecompressionStream throws (the Next.js Edge Runtime): a compressed delivery is 415 with the fix, not a 500', async () => {
    const { gzipSync } = await import('node:zlib');
    const errors: AdapterError[] = [];
    vi.stubGlobal(
      'DecompressionStream',
      class {
        constructor() {
          throw new Error('A Node.js API is used (DecompressionStream) which is not supported in the Edge Runtime.');
        }
      },
    );
    try {
      const h = withVerification(smartcarVerifier(), () => new Response('handler must not run'), { onError: (e) => void errors.push(e) });
      const res = await h(req(gzipSync(PIZZA), { 'SC-Signature': PIZZA_SIG, 'content-encoding': 'gzip' }));
      expect([res.status, res.headers.get('accept-encoding'), await res.json()]).toEqual([
        415,
        'gzip, deflate',
        { error: 'unsupported content encoding' },
      ]);
      expect(errors[0]).toMatchObject({ code: 'UNSUPPORTED_CONTENT_ENCODING' });
      expect((errors[0] as { hint: string }).hint).toMatch(/Next.js Edge Runtime/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('withVerification inside Hono: handler reads c.req.json(); rejections are generic; VERIFY is answered', async () => {
    const errors: AdapterError[] = [];
    const app = new Hono();
    const handler = withVerification(
      smartcarVerifier(),
      async (request, { result }) => Response.json({ key: result.keyId, event: await request.json() }),
      { onError: (e) => errors.push(e) },
    );
    app.post('/hook', (c) => handler(c.req.raw));
    const ok = await app.request(req(PIZZA, { 'SC-Signature': PIZZA_SIG }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ key: 'amt-2', event: { pizza: 'pasta' } });

    const bad = await app.request(req(PIZZA, { 'SC-Signature': '00'.repeat(32) }));
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'invalid signature' });
    expect((errors[0] as VerificationError).code).toBe('NO_MATCHING_KEY');

    const verify = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'hono' } });
    const ch = await app.request(req(verify, signSmartcar(verify)));
    expect(await ch.json()).toEqual({ challenge: hashChallenge(AMT, 'hono') });
    expect((await app.request(req(verify))).status).toBe(401);
  });

  it('withVerification passes extra arguments through (Workers env/ctx, Next.js context) and answers Mobway 403', async () => {
    const h = withVerification(mobwayVerifier(), (_r, { result }, env: { NAME: string }) => new Response(`${env.NAME}:${result.keyId}`), {
      onError: () => {},
    });
    const body = '{"id":"x"}';
    expect(await (await h(req(body, signMobway(body)), { NAME: 'env' })).text()).toBe('env:mw-1');
    expect((await h(req(body), { NAME: 'env' })).status).toBe(403);
  });

  it('releases a replay reservation when the handler throws or answers 5xx', async () => {
    const { verifier, released } = withRelease(smartcarVerifier());
    let mode = 'throw';
    const h = withVerification(verifier, () => {
      if (mode === 'throw') throw new Error('boom');
      return new Response(null, { status: mode === '500' ? 500 : 204 });
    });
    await expect(h(req(PIZZA, { 'SC-Signature': PIZZA_SIG }))).rejects.toThrow('boom');
    expect(released()).toBe(1);
    mode = '500';
    expect((await h(req(PIZZA, { 'SC-Signature': PIZZA_SIG }))).status).toBe(500);
    expect(released()).toBe(2);
    mode = 'ok';
    expect((await h(req(PIZZA, { 'SC-Signature': PIZZA_SIG }))).status).toBe(204);
    expect(released()).toBe(2);
  });

  it('with real replay defence: a 5xx from the handler releases the claim; duplicateStatus 200 acknowledges duplicates', async () => {
    const verifier = createVerifier({
      provider: providers.smartcar(),
      keys: [{ id: 'amt-2', secret: AMT, role: 'active' }],
      replay: { store: memoryReplayStore(), duplicateStatus: 200 },
    });
    let status = 503;
    const h = withVerification(verifier, () => new Response(null, { status }));
    const body = JSON.stringify({ eventId: 'evt-9', eventType: 'VEHICLE_STATE' });
    expect((await h(req(body, signSmartcar(body)))).status).toBe(503);
    status = 204;
    expect((await h(req(body, signSmartcar(body)))).status).toBe(204);
    const dup = await h(req(body, signSmartcar(body)));
    expect([dup.status, await dup.json()]).toEqual([200, { duplicate: true }]);
  });
});

describe('VERIFY during a Smartcar token rotation', () => {
  it('answers with the key that signed the handshake, even when it is still pending', async () => {
    // The operator added the new token as pending; Smartcar already signs with it.
    const verifier = createVerifier({
      provider: providers.smartcar(),
      keys: [
        { id: 'old', secret: 'old-token', role: 'active' },
        { id: 'new', secret: 'new-token', role: 'pending' },
      ],
    });
    const body = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'rotating' } });
    const handler = withVerification(verifier, () => new Response('handler must not run', { status: 500 }));
    const res = await handler(req(body, signSmartcar(body, 'new-token')));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: hashChallenge('new-token', 'rotating') });
    // The verifier-level API does the same when told which key verified.
    expect(await verifier.answerChallenge(body, { keyId: 'new' })).toEqual({ challenge: hashChallenge('new-token', 'rotating') });
    expect(await verifier.answerChallenge(body)).toEqual({ challenge: hashChallenge('old-token', 'rotating') });
    await expect(verifier.answerChallenge(body, { keyId: 'nope' })).rejects.toMatchObject({ code: 'NO_KEYS' });
  });
});
