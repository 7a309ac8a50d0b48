import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeHandler, verifyNodeRequest, type AdapterError } from '../../src/adapters/node.ts';
import { createVerifier, memoryReplayStore, providers, type VerificationError } from '../../src/index.ts';
import {
  AMT,
  OLD_AMT,
  PIZZA,
  PIZZA_SIG,
  downVerifier,
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

async function serve(handler: Parameters<typeof createServer>[1]) {
  const s = await listen(createServer(handler));
  closers.push(s.close);
  return s.url;
}

describe('node:http adapter', () => {
  it('accepts the published Smartcar vector and hands key id, role and raw body to the handler', async () => {
    const seen: unknown[] = [];
    const url = await serve(
      createNodeHandler(smartcarVerifier(), (_req, res, { result, body }) => {
        seen.push({ keyId: result.keyId, keyRole: result.keyRole, body: body.toString('utf8') });
        res.writeHead(204).end();
      }),
    );
    const r = await post(url, PIZZA, { 'SC-Signature': PIZZA_SIG });
    expect(r.status).toBe(204);
    expect(seen).toEqual([{ keyId: 'amt-2', keyRole: 'active', body: PIZZA }]);
  });

  it('reports the previous key during a rotation', async () => {
    let role: string | undefined;
    const url = await serve(createNodeHandler(smartcarVerifier(), (_q, res, { result }) => ((role = result.keyRole), res.end('ok'))));
    const body = '{"eventType":"VEHICLE_STATE","eventId":"e-1"}';
    expect((await post(url, body, signSmartcar(body, OLD_AMT))).status).toBe(200);
    expect(role).toBe('previous');
  });

  it('rejects a tampered body and a missing header with 401 and a generic body; details only reach onError', async () => {
    const errors: AdapterError[] = [];
    let called = 0;
    const url = await serve(createNodeHandler(smartcarVerifier(), (_q, res) => (called++, res.end()), { onError: (e) => errors.push(e) }));
    const tampered = await post(url, PIZZA.replace('pasta', 'pizza'), { 'SC-Signature': PIZZA_SIG });
    expect(tampered.status).toBe(401);
    expect(tampered.json).toEqual({ error: 'invalid signature' });
    const missing = await post(url, PIZZA);
    expect(missing.status).toBe(401);
    expect(missing.text).not.toMatch(/SC-Signature|MISSING/);
    expect(errors.map((e) => (e as VerificationError).code)).toEqual(['NO_MATCHING_KEY', 'MISSING_SIGNATURE']);
    expect(called).toBe(0);
  });

  it('answers Mobway rejections with 403', async () => {
    const url = await serve(createNodeHandler(mobwayVerifier(), (_q, res) => res.end(), { onError: () => {} }));
    const body = '{"id":1}';
    expect((await post(url, body, signMobway(body))).status).toBe(200);
    expect((await post(url, body + ' ', signMobway(body))).status).toBe(403);
  });

  it('answers a key store outage with 503, not a signature rejection', async () => {
    const errors: AdapterError[] = [];
    const url = await serve(createNodeHandler(downVerifier(), (_q, res) => res.end(), { onError: (e) => errors.push(e) }));
    const body = '{"id":1}';
    const r = await post(url, body, signMobway(body));
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ error: 'webhook receiver error' });
    expect((errors[0] as VerificationError).code).toBe('KEYSTORE_UNAVAILABLE');
  });

  it('enforces maxBodyBytes with 413, for a declared length and for a chunked body', async () => {
    let called = 0;
    const errors: AdapterError[] = [];
    const url = await serve(
      createNodeHandler(smartcarVerifier(), (_q, res) => (called++, res.end()), { maxBodyBytes: 64, onError: (e) => errors.push(e) }),
    );
    const big = 'x'.repeat(65);
    expect((await post(url, big, signSmartcar(big))).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode('y'.repeat(20)));
        c.close();
      },
    });
    const res = await fetch(url, { method: 'POST', body: chunked, duplex: 'half', headers: signSmartcar('y'.repeat(100)) } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'payload too large' });
    expect(errors.map((e) => (e as { code: string }).code)).toEqual(['BODY_TOO_LARGE', 'BODY_TOO_LARGE']);
    expect(called).toBe(0);
    // Exactly at the limit is fine.
    const ok = 'z'.repeat(64);
    expect((await post(url, ok, signSmartcar(ok))).status).toBe(200);
  });

  it('answers a signed Smartcar VERIFY itself, matching the smartcar SDK oracle; never calls the handler', async () => {
    let called = 0;
    const url = await serve(createNodeHandler(smartcarVerifier(), (_q, res) => (called++, res.end())));
    for (const challenge of ['challenge', 'b1f0c3e2-7a7c-4f2c-9a55-3f0f3e0b9c21', 'ünïcödé ✓']) {
      for (const body of [
        JSON.stringify({ eventId: 'e', eventType: 'VERIFY', data: { challenge }, meta: { version: '4.0' } }),
        JSON.stringify({ version: '2.0', webhookId: 'w', eventName: 'verify', payload: { challenge } }),
      ]) {
        const r = await post(url, body, signSmartcar(body));
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toMatch(/^application\/json/);
        expect(r.json).toEqual({ challenge: hashChallenge(AMT, challenge) });
      }
    }
    expect(called).toBe(0);
  });

  it('refuses an unsigned or badly signed VERIFY by default (no signing oracle)', async () => {
    const url = await serve(createNodeHandler(smartcarVerifier(), (_q, res) => res.end(), { onError: () => {} }));
    const body = JSON.stringify({ eventType: 'VERIFY', data: { challenge: '{"eventType":"VEHICLE_STATE"}' } });
    expect((await post(url, body)).status).toBe(401);
    expect((await post(url, body, signSmartcar(body, 'wrong'))).status).toBe(401);
    const plain = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'abc123' } });
    expect((await post(url, plain)).status).toBe(401);
  });

  it("challengeSignature: 'optional' answers unsigned handshakes, except JSON-looking challenges", async () => {
    const url = await serve(
      createNodeHandler(smartcarVerifier(), (_q, res) => res.end(), { challengeSignature: 'optional', onError: () => {} }),
    );
    const plain = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'abc123' } });
    expect((await post(url, plain)).json).toEqual({ challenge: hashChallenge(AMT, 'abc123') });
    const sneaky = JSON.stringify({ eventType: 'VERIFY', data: { challenge: ' {"eventType":"VEHICLE_STATE"}' } });
    expect((await post(url, sneaky)).status).toBe(401);
    // A present but wrong signature is still rejected.
    expect((await post(url, plain, signSmartcar(plain, 'wrong'))).status).toBe(401);
  });

  it('answerChallenges: false hands the VERIFY event to the handler like any webhook', async () => {
    let got = '';
    const url = await serve(
      createNodeHandler(smartcarVerifier(), (_q, res, { body }) => ((got = body.toString()), res.end('mine')), { answerChallenges: false }),
    );
    const body = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'c' } });
    expect((await post(url, body, signSmartcar(body))).text).toBe('mine');
    expect(got).toBe(body);
  });

  it('releases a replay reservation when the handler throws or answers 5xx, not on success', async () => {
    const { verifier, released } = withRelease(smartcarVerifier());
    let mode = 'ok';
    const url = await serve(
      createNodeHandler(
        verifier,
        (_q, res) => {
          if (mode === 'throw') throw new Error('db down');
          res.statusCode = mode === '503' ? 503 : 200;
          res.end();
        },
        { onError: () => {} },
      ),
    );
    expect((await post(url, PIZZA, { 'SC-Signature': PIZZA_SIG })).status).toBe(200);
    expect(released()).toBe(0);
    mode = 'throw';
    const thrown = await post(url, PIZZA, { 'SC-Signature': PIZZA_SIG });
    expect(thrown.status).toBe(500);
    expect(thrown.text).not.toContain('db down');
    await expect.poll(released).toBe(1);
    mode = '503';
    expect((await post(url, PIZZA, { 'SC-Signature': PIZZA_SIG })).status).toBe(503);
    await expect.poll(released).toBe(2);
  });

  it('verifyNodeRequest returns the result and body, and throws typed errors', async () => {
    const outcomes: unknown[] = [];
    const url = await serve(async (req, res) => {
      try {
        const { result, body } = await verifyNodeRequest(smartcarVerifier(), req);
        outcomes.push([result.keyId, body.length]);
      } catch (e) {
        outcomes.push((e as VerificationError).code);
      }
      res.end();
    });
    await post(url, PIZZA, { 'SC-Signature': PIZZA_SIG });
    await post(url, PIZZA, { 'SC-Signature': 'zz' });
    expect(outcomes).toEqual([['amt-2', PIZZA.length], 'MALFORMED_SIGNATURE']);
  });

  it('writes server-side failures to console.error when no onError is given, without secrets', async () => {
    const lines: string[] = [];
    const orig = console.error;
    console.error = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      const url = await serve(createNodeHandler(downVerifier(), (_q, res) => res.end()));
      await post(url, '{}', signMobway('{}'));
    } finally {
      console.error = orig;
    }
    expect(lines.join('\n')).toContain('KEYSTORE_UNAVAILABLE');
    expect(lines.join('\n')).not.toContain('mobway-secret');
  });

  it('reads the stream when req.body is only a placeholder (Express 4 body-parser sets {} when it skips)', async () => {
    const handler = createNodeHandler(smartcarVerifier(), (_q, res, { result }) => res.end(result.keyId));
    const url = await serve((req, res) => {
      (req as { body?: unknown }).body = {};
      void handler(req, res);
    });
    expect((await post(url, PIZZA, { 'SC-Signature': PIZZA_SIG })).text).toBe('amt-2');
  });

  it('with real replay defence: a failed handler releases the claim, the retry is accepted, a later duplicate gets 409', async () => {
    const verifier = createVerifier({
      provider: providers.smartcar(),
      keys: [{ id: 'amt-2', secret: AMT, role: 'active' }],
      replay: memoryReplayStore(),
    });
    let fail = true;
    const url = await serve(
      createNodeHandler(
        verifier,
        (_q, res, { result }) => {
          if (fail) throw new Error('db down');
          res.end(result.eventId);
        },
        { onError: () => {} },
      ),
    );
    const body = JSON.stringify({ eventId: 'evt-7', eventType: 'VEHICLE_STATE', data: {} });
    expect((await post(url, body, signSmartcar(body))).status).toBe(500);
    fail = false;
    const retry = await post(url, body, signSmartcar(body));
    expect([retry.status, retry.text]).toEqual([200, 'evt-7']);
    const dup = await post(url, body, signSmartcar(body));
    expect([dup.status, dup.json]).toEqual([409, { error: 'duplicate delivery' }]);
  });
});
