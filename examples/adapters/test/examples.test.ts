// Every complete example of docs/adapters.md, run: each app is served on 127.0.0.1 and receives a
// signed Smartcar event (new and previous token), a signed VERIFY handshake and a forgery.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Secrets as an operator would set them (random: a guessable one would be warned about).
const AMT = randomBytes(24).toString('hex');
const OLD_AMT = randomBytes(24).toString('hex');
const sign = (body: string, secret = AMT) => ({
  'SC-Signature': createHmac('sha256', secret).update(body).digest('hex'),
  'content-type': 'application/json',
});

async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** How each example is served: what a user does with the module (listen, serve, bootstrap). */
const examples: Record<string, () => Promise<{ url: string; close: () => Promise<void> }>> = {
  express: async () => listen(createServer((await import('../src/express.ts')).app)),
  fastify: async () => {
    const { app } = await import('../src/fastify.ts');
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
  'node-http': async () => listen((await import('../src/node-http.ts')).server),
  fetch: async () => listen(createAdaptorServer({ fetch: (await import('../src/fetch.ts')).default.fetch }) as Server),
  hono: async () => listen(createAdaptorServer({ fetch: (await import('../src/hono.ts')).default.fetch }) as Server),
  nestjs: async () => {
    Logger.overrideLogger(false); // the example keeps Nest's startup log; the test does not need it
    const app = await (await import('../src/nestjs.ts')).bootstrap(0);
    return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), close: () => app.close() };
  },
};

beforeAll(() => {
  vi.stubEnv('SMARTCAR_AMT', AMT);
  vi.stubEnv('SMARTCAR_AMT_PREVIOUS', OLD_AMT);
  vi.stubEnv('SMARTCAR_AMT_PREVIOUS_NOT_AFTER', new Date(Date.now() + 86_400_000).toISOString());
});
afterAll(() => void vi.unstubAllEnvs());

describe.each(Object.keys(examples))('docs/adapters.md example: %s', (name) => {
  let served: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    served = await examples[name]!();
  });
  afterAll(async () => {
    await served?.close();
  });

  it('accepts an event signed with the token or the previous one, and the handler sees which', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const event = JSON.stringify({ eventId: `e-${name}`, eventType: 'VEHICLE_STATE', data: {} });
      expect((await fetch(`${served.url}/webhooks/smartcar`, { method: 'POST', body: event, headers: sign(event) })).status).toBe(204);
      expect((await fetch(`${served.url}/webhooks/smartcar`, { method: 'POST', body: event, headers: sign(event, OLD_AMT) })).status).toBe(
        204,
      );
      expect(log.mock.calls).toEqual([
        ['VEHICLE_STATE', 'signed with', expect.stringMatching(/^SMARTCAR_AMT@/), 'active'],
        ['VEHICLE_STATE', 'signed with', expect.stringMatching(/^SMARTCAR_AMT@/), 'previous'],
      ]);
    } finally {
      log.mockRestore();
    }
  });

  it('answers a signed VERIFY with the HMAC of its challenge, and refuses forgeries with 401', async () => {
    const verify = JSON.stringify({ eventId: 'v', eventType: 'VERIFY', data: { challenge: `c-${name}` }, meta: { version: '4.0' } });
    const answered = await fetch(`${served.url}/webhooks/smartcar`, { method: 'POST', body: verify, headers: sign(verify) });
    expect([answered.status, await answered.json()]).toEqual([
      200,
      { challenge: createHmac('sha256', AMT).update(`c-${name}`).digest('hex') },
    ]);
    const forged = await fetch(`${served.url}/webhooks/smartcar`, { method: 'POST', body: verify, headers: sign(verify, 'not-the-token') });
    expect([forged.status, await forged.json()]).toEqual([401, { error: 'invalid signature' }]);
  });
});

describe("README.md's first example", () => {
  it('verifies with the token or the previous one, reads the typed event, and answers a forgery with the profile status', async () => {
    const { receive } = await import('../src/readme.ts');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const event = JSON.stringify({
        eventId: 'e-readme',
        eventType: 'VEHICLE_STATE',
        data: { vehicle: { id: 'veh-1' }, signals: [{ code: 'odometer-traveleddistance' }] },
        meta: { version: '4.0' },
      });
      const body = Buffer.from(event);
      expect(await receive(body, sign(event))).toBe(204);
      expect(await receive(body, sign(event, OLD_AMT))).toBe(204);
      expect(await receive(body, sign(event, 'not-the-token'))).toBe(401);
      expect(log.mock.calls).toEqual([
        ['veh-1', 1, 'signals, signed with', expect.stringMatching(/^SMARTCAR_AMT@/), 'active'],
        ['veh-1', 1, 'signals, signed with', expect.stringMatching(/^SMARTCAR_AMT@/), 'previous'],
      ]);
    } finally {
      log.mockRestore();
    }
  });
});
