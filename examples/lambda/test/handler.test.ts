// The example handler, called in process as Lambda would call it, with the AWS documentation's example
// events (packages/core/test/adapters/lambda-events) and a DynamoDB table on dynalite; then the fleet
// drill's replay scenario: 100 parallel copies of one delivery over 4 containers, exactly one processed.
import { readFileSync } from 'node:fs';
import { providers, sign } from '@keyturn/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET, startTable } from './env.ts';

type Handler = (event: unknown, context?: unknown) => Promise<{ statusCode: number; body?: string }>;
interface Container {
  handler: Handler;
  verifier: { dispose(): Promise<void> };
  fleet: { close(): Promise<void> };
}
const started: Container[] = [];

const docEvent = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../packages/core/test/adapters/lambda-events/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

let env: Awaited<ReturnType<typeof startTable>>;
let containers = 0;
/** A fresh container: the handler module evaluated once more (its own verifier, fleet and client). */
async function container(): Promise<Handler> {
  const mod = (await import(/* @vite-ignore */ `../src/handler.mjs?container=${++containers}`)) as Container;
  started.push(mod);
  return mod.handler;
}

beforeAll(async () => {
  env = await startTable();
  Object.assign(process.env, {
    DATASPIKE_WEBHOOK_SECRET: SECRET,
    KEYTURN_TABLE: env.table,
    DYNAMODB_ENDPOINT: env.endpoint,
    KEYTURN_DYNAMODB_TIMEOUT_MS: '5000',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});
afterAll(async () => {
  for (const c of started) {
    await c.verifier.dispose();
    await c.fleet.close();
  }
  await env.close();
});

const profile = providers.dataspike();

function signed(kind: string, body: string, extra: Record<string, string> = {}) {
  const e = docEvent(kind);
  const headers = { 'content-type': 'application/json', ...sign(profile, { body, secret: SECRET }), ...extra };
  if (e['multiValueHeaders'] !== undefined)
    e['multiValueHeaders'] = {
      ...(e['multiValueHeaders'] as object),
      ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    };
  if (e['headers'] !== undefined || e['multiValueHeaders'] === undefined) e['headers'] = { ...(e['headers'] as object), ...headers };
  return { ...e, httpMethod: e['httpMethod'] === undefined ? undefined : 'POST', body, isBase64Encoded: false };
}

describe('the example handler', () => {
  it.each(['rest-api', 'http-api-v1', 'http-api-v2', 'function-url', 'alb', 'alb-multi-value'])(
    '%s: accepted once, processed once, a replay is 409',
    async (kind) => {
      const handler = await container();
      const id = `evt_${kind}_${Date.now()}`;
      const body = JSON.stringify({ id, type: 'check.completed', note: 'Zoë ✓' });
      const r = await handler(signed(kind, body), { awsRequestId: 'r' });
      expect([r.statusCode, JSON.parse(r.body!).received]).toEqual([200, id]);
      expect((await handler(signed(kind, body))).statusCode).toBe(409);
      expect(await env.processed(id)).toBe(1);
    },
  );

  it('a forged delivery is 401 and is not processed', async () => {
    const handler = await container();
    const body = JSON.stringify({ id: 'evt_forged', type: 'x' });
    const r = await handler(signed('http-api-v2', body, sign(profile, { body, secret: `whsec_${'00'.repeat(32)}` })));
    expect([r.statusCode, r.body]).toEqual([401, '{"error":"invalid signature"}']);
    expect(await env.processed('evt_forged')).toBe(0);
  });

  it('the fleet drill on Lambda: 100 parallel copies of one delivery over 4 containers (a 503 is retried, as senders do), exactly one processed', async () => {
    const four = await Promise.all([container(), container(), container(), container()]);
    const body = JSON.stringify({ id: `evt_drill_${Date.now()}`, type: 'check.completed' });
    const event = signed('http-api-v2', body);
    let retried = 0;
    const send = async (i: number): Promise<number> => {
      for (let attempt = 0; ; attempt++) {
        const { statusCode } = await four[(i + attempt) % 4]!({ ...event });
        if (statusCode !== 503 || attempt === 5) return statusCode;
        retried++;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => send(i)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(99);
    expect(await env.processed(JSON.parse(body).id)).toBe(1);
    console.log(`[drill] 100 copies over 4 containers: 1 processed, 99 answered 409, ${retried} retries after a 503`);
  });
});
