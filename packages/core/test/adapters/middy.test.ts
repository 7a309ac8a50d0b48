// The Middy middleware with the real @middy/core and @middy/http-json-body-parser: order, early
// answers, the parser after it (also on a compressed delivery), replay release, fleet flush.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { describe, expect, it } from 'vitest';
import { keyturnMiddy, type KeyturnMiddyContext } from '../../src/adapters/middy.ts';
import type { LambdaHttpEvent, LambdaHttpResult } from '../../src/adapters/lambda.ts';
import { createVerifier, memoryReplayStore, providers } from '../../src/index.ts';
import { AMT, hashChallenge, signSmartcar, smartcarVerifier } from './helpers.ts';

const TEXT = JSON.stringify({ eventId: 'm-1', eventType: 'VEHICLE_STATE', data: { note: 'naïve ✓' } });

function v2(body: string | Uint8Array, headers: Record<string, string>): LambdaHttpEvent {
  const e = JSON.parse(readFileSync(new URL('./lambda-events/http-api-v2.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  e['headers'] = { 'content-type': 'application/json', ...headers };
  e['isBase64Encoded'] = typeof body !== 'string';
  e['body'] = typeof body === 'string' ? body : Buffer.from(body).toString('base64');
  return e as LambdaHttpEvent;
}

type Event = LambdaHttpEvent & { body: unknown };

describe('keyturnMiddy', () => {
  it('first in the chain: verifies the raw body, then http-json-body-parser parses it; context.keyturn has the result', async () => {
    const seen: { body: unknown; key: string | undefined; raw: number }[] = [];
    const handler = middy<Event, LambdaHttpResult, Error, KeyturnMiddyContext>()
      .use(keyturnMiddy(smartcarVerifier()))
      .use(httpJsonBodyParser())
      .handler(async (event, context) => {
        seen.push({ body: event.body, key: context.keyturn.result.keyId, raw: context.keyturn.body.length });
        return { statusCode: 200, body: 'ok' };
      });
    const r = await handler(v2(TEXT, signSmartcar(TEXT)) as never, {} as never);
    expect(r).toEqual({ statusCode: 200, body: 'ok' });
    expect(seen).toEqual([{ body: JSON.parse(TEXT), key: 'amt-2', raw: Buffer.byteLength(TEXT) }]);
  });

  it('a compressed delivery: the parser after it reads the decoded body (the coding headers are gone)', async () => {
    let parsedBody: unknown;
    const event = v2(gzipSync(TEXT), { ...signSmartcar(TEXT), 'content-encoding': 'gzip' });
    const handler = middy()
      .use(keyturnMiddy(smartcarVerifier()))
      .use(httpJsonBodyParser())
      .handler(async (e: { body?: unknown }) => {
        parsedBody = e.body;
        return { statusCode: 204 };
      });
    expect(await handler(event as never, {} as never)).toEqual({ statusCode: 204 });
    expect(parsedBody).toEqual(JSON.parse(TEXT));
    expect((event.headers as Record<string, string>)['content-encoding']).toBeUndefined();
  });

  it('a forgery is answered early (401, the generic body): the parser and the handler never run', async () => {
    let ran = 0;
    const handler = middy()
      .use(keyturnMiddy(smartcarVerifier(), { onError: () => {} }))
      .use({ before: () => void ran++ })
      .handler(async () => void ran++);
    const r = (await handler(v2(TEXT, signSmartcar(TEXT, 'forged')) as never, {} as never)) as LambdaHttpResult;
    expect([r.statusCode, r.body]).toEqual([401, '{"error":"invalid signature"}']);
    expect(ran).toBe(0);
  });

  it('registered after a body parser: 500 BODY_NOT_RAW, whose hint says to register keyturn first', async () => {
    const errors: { code?: string; hint?: string }[] = [];
    const handler = middy()
      .use(httpJsonBodyParser())
      .use(keyturnMiddy(smartcarVerifier(), { onError: (e) => void errors.push(e as never) }))
      .handler(async () => ({ statusCode: 200 }));
    const r = (await handler(v2(TEXT, signSmartcar(TEXT)) as never, {} as never)) as LambdaHttpResult;
    expect([r.statusCode, r.body]).toEqual([500, '{"error":"webhook receiver error"}']);
    expect(errors[0]?.code).toBe('BODY_NOT_RAW');
    expect(errors[0]?.hint).toMatch(/before any body parser/);
  });

  it('Smartcar VERIFY is answered by the middleware', async () => {
    const verify = JSON.stringify({ eventId: 'v', eventType: 'VERIFY', data: { challenge: 'c1' }, meta: { version: '4.0' } });
    const handler = middy()
      .use(keyturnMiddy(smartcarVerifier()))
      .handler(async () => ({ statusCode: 500 }));
    const r = (await handler(v2(verify, signSmartcar(verify)) as never, {} as never)) as LambdaHttpResult;
    expect([r.statusCode, JSON.parse(r.body!)]).toEqual([200, { challenge: hashChallenge(AMT, 'c1') }]);
  });

  it('a handler that throws or answers 5xx releases the claim; the fleet is flushed on every path', async () => {
    const verifier = createVerifier({
      provider: providers.smartcar(),
      keys: [{ id: 'amt-2', secret: AMT, role: 'active' }],
      replay: { store: memoryReplayStore() },
    });
    let flushes = 0;
    const fleet = { flush: async () => void flushes++ };
    let mode: 'throw' | '502' | 'ok' = 'throw';
    const handler = middy()
      .use(keyturnMiddy(verifier, { fleet, onError: () => {} }))
      .use(httpJsonBodyParser())
      .handler(async () => {
        if (mode === 'throw') throw new Error('handler failed');
        return mode === '502' ? { statusCode: 502 } : { statusCode: 200, body: 'done' };
      });
    const event = () => v2(TEXT, signSmartcar(TEXT)) as never;
    await expect(handler(event(), {} as never)).rejects.toThrow('handler failed');
    mode = '502';
    expect(await handler(event(), {} as never)).toEqual({ statusCode: 502 });
    mode = 'ok';
    expect(await handler(event(), {} as never)).toEqual({ statusCode: 200, body: 'done' });
    const dup = (await handler(event(), {} as never)) as LambdaHttpResult;
    expect(dup.statusCode).toBe(409);
    expect(flushes).toBe(4);
  });
});
