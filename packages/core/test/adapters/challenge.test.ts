// Handshake ordering (issue 12 item 3): under challengeSignature 'required' (the default) the
// signature is checked first and only a verified body is JSON-parsed. Counted, not timed: every
// JSON.parse of the request body is recorded, in the shared core and through each adapter.
import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createExpressMiddleware } from '../../src/adapters/express.ts';
import { keyturnFastify } from '../../src/adapters/fastify.ts';
import { withVerification } from '../../src/adapters/fetch.ts';
import { createNodeHandler } from '../../src/adapters/node.ts';
import { MAX_UNSIGNED_CHALLENGE_BYTES, processWebhook, resolveAdapterOptions } from '../../src/adapters/shared.ts';
import type { Verifier } from '../../src/index.ts';
// @ts-expect-error -- plain ESM helper without type declarations
import { fetchServer } from '../../runtime-tests/node-bridge.mjs';
import { AMT, hashChallenge, listen, post, signSmartcar, smartcarVerifier } from './helpers.ts';

/** A 1 MiB body of nested `[` that mentions "challenge": the costly-to-parse forgery of the report. */
const NESTED = `{"eventType":"VERIFY","data":{"challenge":"x"},"pad":${'['.repeat(1_048_576 - 60)}`;
const VERIFY = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'c-1' } });

let events: string[] = [];
const parse = JSON.parse;
beforeEach(() => {
  events = [];
  vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    // Only the request bodies count (not, say, the test client reading the answer).
    if (text === NESTED) events.push('parse:nested');
    else if (text === VERIFY) events.push('parse:verify');
    return parse.call(JSON, text, reviver);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The Smartcar verifier, recording when verification starts and ends. */
function recording(): Verifier {
  const v = smartcarVerifier();
  return {
    ...v,
    async verify(request) {
      events.push('verify:start');
      try {
        return await v.verify(request);
      } finally {
        events.push('verify:end');
      }
    },
  };
}

const settings = resolveAdapterOptions({}, 'test');

describe('processWebhook: verify first, parse only what verified', () => {
  it('a forged 1 MiB nested body mentioning "challenge" is rejected without being parsed', async () => {
    const forged = processWebhook(recording(), NESTED, { 'sc-signature': '00'.repeat(32) }, settings, undefined);
    await expect(forged).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
    const unsigned = processWebhook(recording(), NESTED, {}, settings, undefined);
    await expect(unsigned).rejects.toMatchObject({ code: 'MISSING_SIGNATURE' });
    expect(events).toEqual(['verify:start', 'verify:end', 'verify:start', 'verify:end']);
  });

  it('a signed VERIFY is parsed once, after verification, and answered with the key that verified it', async () => {
    const outcome = await processWebhook(recording(), VERIFY, signSmartcar(VERIFY), settings, undefined);
    expect(outcome).toEqual({ kind: 'challenge', response: { challenge: hashChallenge(AMT, 'c-1') } });
    expect(events).toEqual(['verify:start', 'verify:end', 'parse:verify']);
  });

  it("'optional': an unsigned body is parsed only when it is small enough to be a handshake", async () => {
    const optional = resolveAdapterOptions({ challengeSignature: 'optional' }, 'test');
    await expect(processWebhook(recording(), NESTED, {}, optional, undefined)).rejects.toMatchObject({ code: 'MISSING_SIGNATURE' });
    expect(events).toEqual(['verify:start', 'verify:end']);
    events = [];
    const outcome = await processWebhook(recording(), VERIFY, {}, optional, undefined);
    expect(outcome).toEqual({ kind: 'challenge', response: { challenge: hashChallenge(AMT, 'c-1') } });
    expect(events).toEqual(['parse:verify']);
    // Just over the cap: not parsed, so not answered.
    const padded = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'c-1' }, pad: ' '.repeat(MAX_UNSIGNED_CHALLENGE_BYTES) });
    events = [];
    await expect(processWebhook(recording(), padded, {}, optional, undefined)).rejects.toMatchObject({ code: 'MISSING_SIGNATURE' });
    expect(events).toEqual(['verify:start', 'verify:end']);
  });
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});
async function served(server: ReturnType<typeof createServer>): Promise<string> {
  const s = await listen(server);
  closers.push(s.close);
  return s.url;
}

const adapters: Record<string, (v: Verifier) => Promise<string>> = {
  node: (v) => served(createServer(createNodeHandler(v, (_q, res) => res.end('handler'), { onError: () => {} }))),
  express: (v) => {
    const app = express();
    app.post('/', createExpressMiddleware(v, { onError: () => {} }), (_q, res) => void res.send('handler'));
    return served(createServer(app));
  },
  fastify: async (v) => {
    const app = Fastify();
    closers.push(() => app.close());
    await app.register(async (scope) => {
      await scope.register(keyturnFastify, { verifier: v, onError: () => {} });
      scope.post('/', async () => 'handler');
    });
    return app.listen({ port: 0, host: '127.0.0.1' });
  },
  fetch: (v) => served(fetchServer(withVerification(v, () => new Response('handler'), { onError: () => {} }))),
};

describe.each(Object.keys(adapters))('%s adapter', (name) => {
  it('never parses a forged or unsigned body; parses a signed VERIFY after verifying it', async () => {
    const url = await adapters[name]!(recording());
    expect((await post(url, NESTED, { 'SC-Signature': '00'.repeat(32) })).status).toBe(401);
    expect((await post(url, NESTED)).status).toBe(401);
    expect(events).toEqual(['verify:start', 'verify:end', 'verify:start', 'verify:end']);
    events = [];
    expect((await post(url, VERIFY, signSmartcar(VERIFY))).json).toEqual({ challenge: hashChallenge(AMT, 'c-1') });
    expect(events).toEqual(['verify:start', 'verify:end', 'parse:verify']);
  });
});
