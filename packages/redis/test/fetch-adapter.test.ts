/**
 * End to end through the core Fetch adapter (real WHATWG Request/Response): a handler that throws or
 * answers 5xx releases the claim, so the sender's retry — on any instance — is accepted.
 */
import { withVerification } from '@keyturn/core/adapters/fetch';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { delivery, inspector, instance, type Instance } from './helpers.ts';
import { startRedis, type RedisServer } from './redis-server.ts';

let server: RedisServer;
let a: Instance;
let b: Instance;
beforeAll(async () => {
  server = await startRedis();
  a = await instance('ioredis', server.port, { prefix: 'fetch:' });
  b = await instance('node-redis', server.port, { prefix: 'fetch:' });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await server?.stop();
});

const post = (req: ReturnType<typeof delivery>) =>
  new Request('http://127.0.0.1/webhooks', { method: 'POST', body: req.body, headers: req.headers });

it('throw → release → retry accepted elsewhere; 503 → release; duplicate → 409', async () => {
  const processed: string[] = [];
  let mode: 'throw' | '503' | 'ok' = 'throw';
  const handler = async (_: Request, { result }: { result: { eventId?: string | undefined } }) => {
    if (mode === 'throw') throw new Error('database down');
    if (mode === '503') return new Response('busy', { status: 503 });
    processed.push(String(result.eventId));
    return new Response('ok');
  };
  const onError = () => undefined;
  const appA = withVerification(a.verifier, handler, { onError });
  const appB = withVerification(b.verifier, handler, { onError });
  const req = delivery('evt_fetch');

  await expect(appA(post(req))).rejects.toThrow('database down');
  mode = '503';
  expect((await appB(post(req))).status).toBe(503);
  mode = 'ok';
  expect((await appA(post(req))).status).toBe(200);
  const dup = await appB(post(req));
  expect(dup.status).toBe(409);
  expect(processed).toEqual(['evt_fetch']);
  const raw = await inspector(server.port);
  expect(await raw.exists('fetch:dataspike:default:evt_fetch')).toBe(1);
  raw.disconnect();
});
