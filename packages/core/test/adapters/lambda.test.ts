// The Lambda adapter on the event shapes AWS documents (test/adapters/lambda-events/*.json, one per
// event source): kind detection, exact body bytes (base64 straight to bytes, UTF-8 otherwise), headers
// merged case-insensitively, answers shaped per source, VERIFY, replay release, fleet flush.
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib';
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createLambdaHandler,
  decodeBase64Strict,
  LambdaEventError,
  type LambdaHttpEvent,
  type LambdaHttpResult,
  type LambdaWebhook,
} from '../../src/adapters/lambda.ts';
import { encodeBase64 } from '../../src/adapters/lambda-events.ts';
import type { AdapterError } from '../../src/adapters/shared.ts';
import { createVerifier, memoryReplayStore, providers, sign, type Verifier } from '../../src/index.ts';

const XSIG = providers.hmac({ header: 'x-sig', encoding: 'hex' });
import { AMT, hashChallenge, mobwayVerifier, signMobway, signSmartcar, smartcarVerifier } from './helpers.ts';

const load = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./lambda-events/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

const DOCUMENTED = {
  'rest-api': 'api-gateway-v1',
  'http-api-v1': 'api-gateway-v1',
  'http-api-v2': 'api-gateway-v2',
  'function-url': 'function-url',
  alb: 'alb',
  'alb-multi-value': 'alb',
} as const;
type Documented = keyof typeof DOCUMENTED;

/** Whether a documented event carries its headers as multi-value (v1 and ALB multi-value). */
const isMulti = (e: Record<string, unknown>) => e['multiValueHeaders'] !== undefined && e['multiValueHeaders'] !== null;

/**
 * The documented event `name` carrying `body` (bytes or text) and `headers`, added in the event's own
 * header form: both maps for REST / HTTP API 1.0, `headers` only for 2.0 and plain ALB,
 * `multiValueHeaders` only for multi-value ALB.
 */
function eventWith(
  name: Documented | 'alb-health-check',
  body: string | Uint8Array,
  headers: Record<string, string | string[]>,
  base64 = typeof body !== 'string',
): LambdaHttpEvent {
  const e = load(name);
  const single = { ...(e['headers'] as Record<string, string> | undefined) };
  const multi = { ...(e['multiValueHeaders'] as Record<string, string[]> | undefined) };
  for (const [k, v] of Object.entries(headers)) {
    const values = Array.isArray(v) ? v : [v];
    single[k] = values.at(-1)!;
    multi[k] = values;
  }
  const kind = name === 'alb-health-check' ? 'alb' : DOCUMENTED[name];
  if (kind === 'api-gateway-v1') Object.assign(e, { headers: single, multiValueHeaders: multi });
  else if (kind === 'alb' && isMulti(e)) e['multiValueHeaders'] = multi;
  else {
    // 2.0: one value per name, repeated ones comma-joined (as API Gateway does).
    const joined: Record<string, string> = { ...(e['headers'] as Record<string, string>) };
    for (const [k, v] of Object.entries(headers)) joined[k] = Array.isArray(v) ? v.join(',') : v;
    e['headers'] = joined;
  }
  e['httpMethod'] = e['httpMethod'] === undefined ? undefined : 'POST';
  e['isBase64Encoded'] = base64;
  e['body'] = typeof body === 'string' ? (base64 ? Buffer.from(body).toString('base64') : body) : Buffer.from(body).toString('base64');
  return e as LambdaHttpEvent;
}

/** A Smartcar event whose bytes include every value from 0x80 to 0xff (invalid UTF-8: binary media). */
const BINARY = Uint8Array.from([
  ...Buffer.from('{"eventId":"b-1","raw":"'),
  ...Array.from({ length: 128 }, (_, i) => 0x80 + i),
  ...Buffer.from('"}'),
]);
const TEXT = JSON.stringify({ eventId: 'e-1', eventType: 'VEHICLE_STATE', data: { note: 'café ✓ 🚗 ß' } });

type Seen = Pick<LambdaWebhook, 'kind' | 'headers' | 'result'> & { body: Uint8Array };

function echoHandler(verifier: Verifier = smartcarVerifier(), options = {}) {
  const seen: Seen[] = [];
  const codes: string[] = [];
  const handler = createLambdaHandler(
    verifier,
    (w) => {
      seen.push({ kind: w.kind, headers: w.headers, result: w.result, body: w.body });
      return { key: w.result.keyId, bytes: w.body.length };
    },
    { onError: (e: AdapterError) => void codes.push((e as { code?: string }).code ?? e.message), ...options },
  );
  return { handler, seen, codes };
}

const parsed = (r: LambdaHttpResult) => JSON.parse(r.body ?? '') as unknown;

describe('the documented events', () => {
  it.each(Object.keys(DOCUMENTED) as Documented[])('%s: detected, verified on the exact bytes, answered in its shape', async (name) => {
    const { handler, seen, codes } = echoHandler();
    for (const [body, base64] of [
      [TEXT, false],
      [new TextEncoder().encode(TEXT), true],
      [BINARY, true],
    ] as const) {
      const result = await handler(eventWith(name, body, signSmartcar(body)), { awsRequestId: 'r-1' });
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
      expect([result.statusCode, parsed(result)]).toEqual([200, { key: 'amt-2', bytes: bytes.length }]);
      const contentType = name === 'alb-multi-value' ? result.multiValueHeaders?.['content-type']?.[0] : result.headers?.['content-type'];
      expect(contentType).toBe('application/json; charset=utf-8');
      if (DOCUMENTED[name] === 'alb') expect(result.statusDescription).toBe('200 OK');
      const last = seen.at(-1)!;
      expect(last.kind).toBe(DOCUMENTED[name]);
      expect(Buffer.from(last.body).equals(Buffer.from(bytes))).toBe(true);
      expect(base64 || typeof body === 'string').toBe(true);
    }
    expect(codes).toEqual([]);
    // The documented headers are all there, lowercase, merged.
    const h = seen[0]!.headers;
    if (name === 'rest-api')
      expect([h['x-forwarded-for'], h['host'], h['']]).toEqual([
        '54.240.196.186, 54.182.214.83',
        'gy415nuibc.execute-api.us-east-1.amazonaws.com',
        undefined,
      ]);
    if (name === 'http-api-v2') expect([h['header2'], h['cookie']]).toEqual(['value1,value2', 'cookie1; cookie2']);
    if (name === 'http-api-v1') expect(h['header2']).toBe('value1, value2');
    if (name === 'alb-multi-value') expect(h['cookie']).toBe('name1=value1, name2=value2');
  });

  it('the documented bodies themselves reach the handler byte for byte (signed with a plain hmac profile)', async () => {
    const seen: Uint8Array[] = [];
    const verifier = createVerifier({ provider: XSIG, keys: [{ id: 'k', secret: 's', role: 'active' }] });
    const handler = createLambdaHandler(verifier, (w) => void seen.push(w.body));
    for (const name of Object.keys(DOCUMENTED) as Documented[]) {
      const e = load(name);
      const body = (e['body'] as string) ?? '';
      const signed = eventWith(name, body, { 'X-Sig': sign(XSIG, { body, secret: 's' })['x-sig']! }, false);
      const r = await handler(signed);
      expect([name, r.statusCode]).toEqual([name, 204]);
      expect(new TextDecoder().decode(seen.at(-1))).toBe(body);
    }
  });

  it('the ALB health check (no signature) is an ordinary rejection, answered in the ALB shape', async () => {
    const { handler, codes } = echoHandler();
    const r = await handler(load('alb-health-check') as LambdaHttpEvent);
    expect(r).toEqual({
      statusCode: 401,
      statusDescription: '401 Unauthorized',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"error":"invalid signature"}',
      isBase64Encoded: false,
    });
    expect(codes).toEqual(['MISSING_SIGNATURE']);
  });

  it('@types/aws-lambda events are accepted as they are', async () => {
    const rest = createLambdaHandler<APIGatewayProxyEvent>(smartcarVerifier(), (w) => ({ path: w.event.path }));
    const v2 = createLambdaHandler<APIGatewayProxyEventV2>(smartcarVerifier(), (w) => ({ path: w.event.rawPath }));
    const alb = createLambdaHandler<ALBEvent>(smartcarVerifier(), (w) => ({ path: w.event.path }));
    expect(parsed(await rest(eventWith('rest-api', TEXT, signSmartcar(TEXT)) as unknown as APIGatewayProxyEvent))).toEqual({
      path: '/hello/world',
    });
    expect(parsed(await v2(eventWith('http-api-v2', TEXT, signSmartcar(TEXT)) as unknown as APIGatewayProxyEventV2))).toEqual({
      path: '/my/path',
    });
    expect(parsed(await alb(eventWith('alb', TEXT, signSmartcar(TEXT)) as unknown as ALBEvent))).toEqual({ path: '/lambda' });
  });
});

describe('body bytes', () => {
  it('a binary body is decoded straight to bytes; the usual mistake (base64 → UTF-8 string → bytes) would not verify', async () => {
    const { handler } = echoHandler();
    const event = eventWith('http-api-v2', BINARY, signSmartcar(BINARY));
    expect((await handler(event)).statusCode).toBe(200);
    // What peers' users do: Buffer.from(body, 'base64').toString() — every byte ≥ 0x80 becomes U+FFFD.
    const corrupted = Buffer.from(Buffer.from(event.body!, 'base64').toString('utf8'));
    expect(corrupted.equals(Buffer.from(BINARY))).toBe(false);
    expect((await handler({ ...event, body: corrupted.toString('utf8'), isBase64Encoded: false })).statusCode).toBe(401);
  });

  it.each([
    ['a character outside the alphabet', 'eyJh*Q=='],
    ['missing padding', 'eyJhIjoxfQ'],
    ['whitespace', 'eyJhIjox\nfQ=='],
    ['the URL-safe alphabet', 'eyJh_-=='],
    ['padding in the middle', 'ey==IjoxfQ=='],
    ['non-zero bits after the last byte', 'eyJhIjoxfR=='],
    ['too much padding', 'eyJhIjox===='],
  ])('isBase64Encoded with %s: 400 INVALID_BASE64_BODY, never verified', async (_what, body) => {
    let verified = 0;
    const verifier = smartcarVerifier();
    const counting: Verifier = { ...verifier, verify: (r) => (verified++, verifier.verify(r)) };
    const { handler, codes } = echoHandler(counting);
    const e = eventWith('http-api-v2', 'x', signSmartcar('x'));
    const r = await handler({ ...e, body, isBase64Encoded: true });
    expect([r.statusCode, r.body]).toEqual([400, '{"error":"invalid base64 body"}']);
    expect(codes).toEqual(['INVALID_BASE64_BODY']);
    expect(verified).toBe(0);
  });

  it('strict base64: round-trips every byte string, agrees with Buffer on canonical input, refuses everything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(encodeBase64(bytes)).toBe(text);
        expect(Buffer.from(decodeBase64Strict(text)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'AQgw+/=-_ \nZz09é'.split('')), maxLength: 24 }), (text) => {
        let out: Uint8Array | undefined;
        try {
          out = decodeBase64Strict(text);
        } catch (error) {
          expect((error as { code?: string }).code).toBe('INVALID_BASE64_BODY');
        }
        // Accepted only when it is exactly the canonical encoding of what it decodes to.
        if (out !== undefined) expect(Buffer.from(out).toString('base64')).toBe(text);
        else
          expect(
            Buffer.from(Buffer.from(text, 'base64').toString('base64')).toString() === text &&
              /^[A-Za-z0-9+/]*={0,2}$/.test(text) &&
              text.length % 4 === 0,
          ).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('strict base64: the Node fast path and the portable decoder (no Buffer) accept and refuse the same texts', () => {
    const NodeBuffer = Buffer;
    const outcome = (text: string): string => {
      try {
        return `ok ${NodeBuffer.from(decodeBase64Strict(text)).toString('hex')}`;
      } catch (error) {
        return `refused ${(error as { code?: string }).code}`;
      }
    };
    const portable = (text: string): string => {
      const saved = globalThis.Buffer;
      (globalThis as { Buffer?: unknown }).Buffer = undefined;
      try {
        return outcome(text);
      } finally {
        globalThis.Buffer = saved;
      }
    };
    const texts = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => NodeBuffer.from(b).toString('base64')),
      fc.string({ unit: fc.constantFrom(...'AQgw+/=-_ \nZz09é'.split('')), maxLength: 24 }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        expect(outcome(text)).toBe(portable(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('413 for a body over maxBodyBytes, before it is decoded (text or base64)', async () => {
    const { handler, codes } = echoHandler(smartcarVerifier(), { maxBodyBytes: 100 });
    const big = 'x'.repeat(101);
    expect((await handler(eventWith('http-api-v2', big, signSmartcar(big), false))).statusCode).toBe(413);
    expect((await handler(eventWith('rest-api', big, signSmartcar(big), true))).statusCode).toBe(413);
    const fits = 'y'.repeat(100);
    expect((await handler(eventWith('rest-api', fits, signSmartcar(fits), true))).statusCode).toBe(200);
    expect(codes).toEqual(['BODY_TOO_LARGE', 'BODY_TOO_LARGE']);
  });

  it('an absent or null body is the empty body', async () => {
    const { handler, seen } = echoHandler();
    const e = eventWith('rest-api', '', signSmartcar(''));
    expect((await handler({ ...e, body: null })).statusCode).toBe(200);
    expect(seen[0]!.body.length).toBe(0);
  });
});

describe('Content-Encoding', () => {
  it('gzip and deflate bodies (base64, as API Gateway sends compressed binary) are verified on the decoded bytes', async () => {
    const { handler, seen } = echoHandler();
    for (const [coding, wire] of [
      ['gzip', gzipSync(TEXT)],
      ['deflate', deflateSync(TEXT)],
    ] as const) {
      const r = await handler(eventWith('http-api-v2', wire, { ...signSmartcar(TEXT), 'content-encoding': coding }));
      expect([coding, r.statusCode]).toEqual([coding, 200]);
      expect(new TextDecoder().decode(seen.at(-1)!.body)).toBe(TEXT);
      expect(seen.at(-1)!.headers['content-encoding']).toBeUndefined();
    }
  });

  it('a REST API that already decompressed the body (payload compression) but kept Content-Encoding: verified as it is', async () => {
    const { handler, seen } = echoHandler();
    const r = await handler(eventWith('rest-api', TEXT, { ...signSmartcar(TEXT), 'Content-Encoding': 'gzip' }, false));
    expect(r.statusCode).toBe(200);
    expect(new TextDecoder().decode(seen[0]!.body)).toBe(TEXT);
    expect(seen[0]!.headers['content-encoding']).toBeUndefined();
  });

  it('br is 415 with Accept-Encoding; a gzip bomb stops at maxBodyBytes (413); a truncated gzip stream is 400', async () => {
    const { handler, codes } = echoHandler(smartcarVerifier(), { maxBodyBytes: 10_000 });
    const br = await handler(eventWith('http-api-v2', brotliCompressSync(TEXT), { ...signSmartcar(TEXT), 'content-encoding': 'br' }));
    expect([br.statusCode, br.headers?.['accept-encoding']]).toEqual([415, 'gzip, deflate']);
    const bomb = gzipSync(Buffer.alloc(5_000_000));
    expect((await handler(eventWith('alb', bomb, { ...signSmartcar('x'), 'content-encoding': 'gzip' }))).statusCode).toBe(413);
    const truncated = gzipSync(TEXT).subarray(0, 20);
    expect((await handler(eventWith('function-url', truncated, { ...signSmartcar(TEXT), 'content-encoding': 'gzip' }))).statusCode).toBe(
      400,
    );
    expect(codes).toEqual(['UNSUPPORTED_CONTENT_ENCODING', 'BODY_TOO_LARGE', 'MALFORMED_CONTENT_ENCODING']);
  });
});

describe('headers', () => {
  it('names differing only in case are one header, in event order (REST: both maps; 2.0: headers)', async () => {
    const seen: Record<string, string>[] = [];
    const verifier = createVerifier({ provider: XSIG, keys: [{ id: 'k', secret: 's', role: 'active' }] });
    const handler = createLambdaHandler(verifier, (w) => void seen.push({ ...w.headers }));
    const sig = sign(XSIG, { body: TEXT, secret: 's' })['x-sig']!;
    const e = eventWith('rest-api', TEXT, {}, false) as Record<string, unknown>;
    e['headers'] = { ...(e['headers'] as object), 'X-Sig': sig, 'x-trace': 'a', 'X-Trace': 'b' };
    e['multiValueHeaders'] = { ...(e['multiValueHeaders'] as object), 'X-Sig': [sig], 'x-trace': ['a'], 'X-TRACE': ['b', 'c'] };
    expect((await handler(e as LambdaHttpEvent)).statusCode).toBe(204);
    expect(seen[0]!['x-trace']).toBe('a, b, c');
    expect(seen[0]!['x-sig']).toBe(sig);
  });

  it('a duplicated signature header is treated as the node adapter treats it (joined), whatever the event source', async () => {
    const good = signSmartcar(TEXT)['sc-signature']!;
    const bad = signSmartcar(TEXT, 'forged')['sc-signature']!;
    const direct = await smartcarVerifier()
      .verify({ body: TEXT, headers: { 'sc-signature': `${bad}, ${good}` } })
      .then(
        () => 200,
        (e: { status: number }) => e.status,
      );
    for (const name of ['rest-api', 'http-api-v1', 'alb-multi-value'] as const) {
      const { handler } = echoHandler();
      const r = await handler(eventWith(name, TEXT, { 'SC-Signature': [bad, good] }, false));
      expect([name, r.statusCode]).toEqual([name, direct]);
    }
    // Payload 2.0 joins with "," (no space) before the function sees it.
    const viaV2 = await smartcarVerifier()
      .verify({ body: TEXT, headers: { 'sc-signature': `${bad},${good}` } })
      .then(
        () => 200,
        (e: { status: number }) => e.status,
      );
    const { handler } = echoHandler();
    expect((await handler(eventWith('http-api-v2', TEXT, { 'sc-signature': [bad, good] }, false))).statusCode).toBe(viaV2);
  });
});

describe('answers', () => {
  it('a forgery gets the profile status and the same body as the other adapters (Smartcar 401, Mobway 403)', async () => {
    const { handler, codes } = echoHandler();
    const r = await handler(eventWith('http-api-v2', TEXT, signSmartcar(TEXT, 'forged')));
    expect(r).toEqual({
      statusCode: 401,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"error":"invalid signature"}',
      isBase64Encoded: false,
    });
    const mobway = createLambdaHandler(mobwayVerifier(), () => ({ ok: true }));
    expect((await mobway(eventWith('rest-api', TEXT, { ...signMobway(TEXT), 'x-signature': 'ff'.repeat(32) }, false))).statusCode).toBe(
      403,
    );
    expect((await mobway(eventWith('rest-api', TEXT, signMobway(TEXT), false))).statusCode).toBe(200);
    expect(codes).toEqual(['NO_MATCHING_KEY']);
  });

  it('ALB with multi-value headers: answers carry multiValueHeaders and a statusDescription', async () => {
    const { handler } = echoHandler();
    const r = await handler(eventWith('alb-multi-value', TEXT, signSmartcar(TEXT, 'forged')));
    expect(r).toEqual({
      statusCode: 401,
      statusDescription: '401 Unauthorized',
      multiValueHeaders: { 'content-type': ['application/json; charset=utf-8'] },
      body: '{"error":"invalid signature"}',
      isBase64Encoded: false,
    });
    const ok = await createLambdaHandler(smartcarVerifier(), () => ({ statusCode: 201, headers: { 'x-a': '1' }, body: 'made' }))(
      eventWith('alb-multi-value', TEXT, signSmartcar(TEXT)),
    );
    expect(ok).toEqual({
      statusCode: 201,
      statusDescription: '201 Created',
      multiValueHeaders: { 'x-a': ['1'] },
      body: 'made',
      isBase64Encoded: false,
    });
  });

  it('handler results: a Lambda result as it is, a plain value as JSON 200, undefined as 204, bytes as binary, a bad statusCode as 500', async () => {
    const e = eventWith('http-api-v2', TEXT, signSmartcar(TEXT));
    const run = (value: unknown) => createLambdaHandler(smartcarVerifier(), () => value, { onError: () => {} })(e);
    const custom = { statusCode: 202, headers: { 'x-y': 'z' }, body: 'queued', cookies: ['a=b'] };
    expect(await run(custom)).toEqual(custom);
    expect(await run('text')).toMatchObject({ statusCode: 200, body: '"text"' });
    expect(await run(null)).toMatchObject({ statusCode: 200, body: 'null' });
    expect(await run(undefined)).toEqual({ statusCode: 204, body: '', isBase64Encoded: false });
    expect(await run(new Uint8Array([0xff, 0x00]))).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: '/wA=',
      isBase64Encoded: true,
    });
    expect(await run({ statusCode: '200' })).toMatchObject({ statusCode: 500, body: '{"error":"webhook handler failed"}' });
    expect(await run(Promise.resolve({ later: true }))).toMatchObject({ statusCode: 200, body: '{"later":true}' });
  });

  it('the handler gets text(), json(), headers, result, event and context', async () => {
    let got: LambdaWebhook | undefined;
    const context = { awsRequestId: 'req-9', functionName: 'fn' };
    const event = eventWith('function-url', TEXT, signSmartcar(TEXT));
    await createLambdaHandler(smartcarVerifier(), (w) => void (got = w))(event, context);
    expect(got!.text()).toBe(TEXT);
    expect(got!.json()).toEqual(JSON.parse(TEXT));
    expect(got!.event).toBe(event);
    expect(got!.context).toBe(context);
    expect([got!.result.keyId, got!.result.keyRole, got!.kind, got!.headers['header1']]).toEqual([
      'amt-2',
      'active',
      'function-url',
      'value1',
    ]);
  });

  it('Smartcar VERIFY is answered (signed, with the key that verified it); the handler is not called', async () => {
    let calls = 0;
    const handler = createLambdaHandler(smartcarVerifier(), () => void calls++);
    const verify = JSON.stringify({ eventId: 'v-1', eventType: 'VERIFY', data: { challenge: 'ch-✓' }, meta: { version: '4.0' } });
    for (const name of ['rest-api', 'http-api-v2', 'function-url', 'alb'] as const) {
      const r = await handler(eventWith(name, verify, signSmartcar(verify), name === 'alb'));
      expect([name, r.statusCode, parsed(r)]).toEqual([name, 200, { challenge: hashChallenge(AMT, 'ch-✓') }]);
    }
    expect(calls).toBe(0);
    const unsigned = await handler(eventWith('http-api-v2', verify, {}));
    expect(unsigned.statusCode).toBe(401);
  });
});

describe('events that are not HTTP requests', () => {
  const sqs = { Records: [{ messageId: 'm', eventSource: 'aws:sqs', body: 'x' }] };
  const websocket = {
    requestContext: { connectionId: 'c-1', routeKey: '$default', eventType: 'MESSAGE' },
    body: 'x',
    isBase64Encoded: false,
  };
  it.each([
    ['an SQS event', sqs],
    ['a WebSocket event', websocket],
    ['an empty object', {}],
    ['null', null],
    ['a string', 'hello'],
    ['a 2.0 event without requestContext.http', { version: '2.0', headers: {}, requestContext: {} }],
  ])('%s: the invocation fails with UNSUPPORTED_EVENT, never a 401', async (_what, event) => {
    const { handler, seen } = echoHandler();
    const error = await handler(event as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LambdaEventError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_EVENT' });
    expect((error as Error).message).not.toContain('x"');
    expect(seen).toEqual([]);
  });
});

describe('replay claims and the fleet', () => {
  function replayVerifier() {
    return createVerifier({
      provider: providers.smartcar(),
      keys: [{ id: 'amt-2', secret: AMT, role: 'active' }],
      replay: { store: memoryReplayStore() },
    });
  }

  it('a handler that throws (500) or answers 5xx releases the claim: the retry is accepted, a replay after success is 409', async () => {
    const verifier = replayVerifier();
    let mode: 'throw' | '503' | 'ok' = 'throw';
    const codes: string[] = [];
    const handler = createLambdaHandler(
      verifier,
      () => {
        if (mode === 'throw') throw new Error('db down');
        if (mode === '503') return { statusCode: 503, body: 'later' };
        return { done: true };
      },
      { onError: (e) => void codes.push((e as { code?: string }).code ?? e.message) },
    );
    const event = eventWith('http-api-v2', TEXT, signSmartcar(TEXT));
    expect(await handler(event)).toMatchObject({ statusCode: 500, body: '{"error":"webhook handler failed"}' });
    mode = '503';
    expect((await handler(event)).statusCode).toBe(503);
    mode = 'ok';
    expect((await handler(event)).statusCode).toBe(200);
    expect(await handler(event)).toMatchObject({ statusCode: 409, body: '{"error":"duplicate delivery"}' });
    expect(codes).toEqual(['db down', 'REPLAYED']);
  });

  it('the fleet is flushed before every answer is returned: accepted, rejected, failed; a failing flush changes nothing', async () => {
    const log: string[] = [];
    let fail = false;
    const fleet = {
      async flush() {
        log.push('flush-start');
        await new Promise((r) => setImmediate(r));
        log.push('flush-end');
        if (fail) throw new Error('fleet down');
      },
    };
    const handler = createLambdaHandler(
      smartcarVerifier(),
      (w) => {
        log.push('handler');
        if (w.json<{ eventId: string }>().eventId === 'boom') throw new Error('boom');
        return { ok: true };
      },
      { fleet, onError: () => {} },
    );
    const run = async (body: string, sign = AMT) => {
      const r = await handler(eventWith('http-api-v2', body, signSmartcar(body, sign)));
      log.push(`answer ${r.statusCode}`);
    };
    await run(TEXT);
    await run(TEXT, 'forged');
    await run('{"eventId":"boom"}');
    fail = true;
    await run(TEXT);
    expect(log).toEqual([
      'handler',
      'flush-start',
      'flush-end',
      'answer 200',
      'flush-start',
      'flush-end',
      'answer 401',
      'handler',
      'flush-start',
      'flush-end',
      'answer 500',
      'handler',
      'flush-start',
      'flush-end',
      'answer 200',
    ]);
  });

  it('options are checked when the handler is created', () => {
    const v = smartcarVerifier();
    expect(() => createLambdaHandler(v, () => 1, { maxBodyBytes: 0 })).toThrow(TypeError);
    expect(() => createLambdaHandler(v, () => 1, { fleet: {} as never })).toThrow(/fleet/);
    expect(() => createLambdaHandler(v, () => 1, { secretId: 'x' as never })).toThrow(/secretId/);
    expect(() => createLambdaHandler(v, 'nope' as never)).toThrow(/handler/);
  });

  it('secretId(event) picks the secret per delivery', async () => {
    const verifier = createVerifier({
      provider: providers.smartcar(),
      keys: {
        name: 'tenants',
        getVersions: async (id: string) => [{ id: `${id}-k`, secret: id === 'acme' ? AMT : 'other', role: 'active' as const }],
      },
      secretId: 'default',
    });
    const handler = createLambdaHandler(verifier, (w) => ({ key: w.result.keyId }), {
      secretId: (e) =>
        (e as { pathParameters?: Record<string, string> }).pathParameters?.['parameter1'] === 'value1' ? 'acme' : 'default',
    });
    expect(parsed(await handler(eventWith('http-api-v2', TEXT, signSmartcar(TEXT))))).toEqual({ key: 'acme-k' });
  });
});
