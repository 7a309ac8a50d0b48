// The Next.js example's handlers, called the way Next.js calls them, in process (the quick test
// command). The real `next build` + `next start` run is next.e2e.ts (CI).
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const AMT = randomBytes(24).toString('hex');
const OLD_AMT = randomBytes(24).toString('hex');
const DATASPIKE = `whsec_${randomBytes(32).toString('hex')}`;
const smartcarHeaders = (body: string, secret = AMT) => ({
  'content-type': 'application/json',
  'sc-signature': createHmac('sha256', secret).update(body).digest('hex'),
});

beforeAll(() => {
  vi.stubEnv('SMARTCAR_AMT', AMT);
  vi.stubEnv('SMARTCAR_AMT_PREVIOUS', OLD_AMT);
  vi.stubEnv('DATASPIKE_WEBHOOK_SECRET', DATASPIKE);
});
afterAll(() => void vi.unstubAllEnvs());

const EVENT = JSON.stringify({ eventId: 'e-1', eventType: 'VEHICLE_STATE', data: {} });
const context = (provider: string) => ({ params: Promise.resolve({ provider }) });
const request = (body: BodyInit, headers: Record<string, string>) =>
  new Request('http://127.0.0.1/api/webhooks/x', { method: 'POST', body, headers });

type Route = { POST: (r: Request, c: ReturnType<typeof context>) => Promise<Response>; runtime: string };
const routes: Record<string, () => Promise<Route>> = {
  'app/api/webhooks/[provider]/route.ts': () => import('../app/api/webhooks/[provider]/route.ts'),
  'app/api/edge/webhooks/[provider]/route.ts': () => import('../app/api/edge/webhooks/[provider]/route.ts'),
};

describe.each(Object.keys(routes))('%s', (file) => {
  it('verifies each provider with its own profile and secret, answers VERIFY, refuses forgeries and unknown providers', async () => {
    const route = await routes[file]!();
    expect(route.runtime).toBe(file.includes('/edge/') ? 'edge' : 'nodejs');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect((await route.POST(request(EVENT, smartcarHeaders(EVENT)), context('smartcar'))).status).toBe(204);
      expect((await route.POST(request(EVENT, smartcarHeaders(EVENT, OLD_AMT)), context('smartcar'))).status).toBe(204);
      expect(
        (await route.POST(request(gzipSync(EVENT), { ...smartcarHeaders(EVENT), 'content-encoding': 'gzip' }), context('smartcar'))).status,
      ).toBe(204);
      const t = Math.floor(Date.now() / 1000);
      const ds = JSON.stringify({
        id: 'd-1',
        webhook_id: 'w',
        event_type: 'AML_SCREENING',
        timestamp: new Date().toISOString(),
        payload: {},
      });
      const dsSig = createHmac('sha256', Buffer.from(DATASPIKE.slice(6), 'hex'))
        .update(`${t}.${ds}`)
        .digest('hex');
      expect((await route.POST(request(ds, { 'x-webhook-signature': `t=${t},v1=${dsSig}` }), context('dataspike'))).status).toBe(204);
      expect(log.mock.calls.map((c) => c.slice(0, 4))).toEqual([
        ['smartcar', 'event signed with', 'SMARTCAR_AMT:current', 'active'],
        ['smartcar', 'event signed with', 'SMARTCAR_AMT:previous', 'previous'],
        ['smartcar', 'event signed with', 'SMARTCAR_AMT:current', 'active'],
        ['dataspike', 'event signed with', 'DATASPIKE_WEBHOOK_SECRET:current', 'active'],
      ]);
    } finally {
      log.mockRestore();
    }
    const verify = JSON.stringify({ eventType: 'VERIFY', data: { challenge: 'next' } });
    const answered = await route.POST(request(verify, smartcarHeaders(verify)), context('smartcar'));
    expect([answered.status, await answered.json()]).toEqual([200, { challenge: createHmac('sha256', AMT).update('next').digest('hex') }]);
    const forged = await route.POST(request(EVENT, smartcarHeaders(EVENT, 'nope')), context('smartcar'));
    expect([forged.status, await forged.json()]).toEqual([401, { error: 'invalid signature' }]);
    for (const provider of ['nope', 'constructor', '__proto__']) {
      expect((await route.POST(request(EVENT, smartcarHeaders(EVENT)), context(provider))).status).toBe(404);
    }
  });
});

describe('pages/api/pages-router/smartcar.ts (Pages Router, bodyParser: false)', () => {
  it('turns Next.js body parsing off and verifies the raw stream', async () => {
    const page = (await import('../pages/api/pages-router/smartcar.ts')) as typeof import('../pages/api/pages-router/smartcar.ts');
    expect(page.config).toEqual({ api: { bodyParser: false } });
    const server = createServer((req, res) => void page.default(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect((await fetch(url, { method: 'POST', body: EVENT, headers: smartcarHeaders(EVENT) })).status).toBe(204);
      expect(log.mock.calls[0]?.slice(0, 3)).toEqual(['smartcar event signed with', 'SMARTCAR_AMT:current', 'active']);
      const forged = await fetch(url, { method: 'POST', body: EVENT, headers: smartcarHeaders(EVENT, 'nope') });
      expect([forged.status, await forged.json()]).toEqual([401, { error: 'invalid signature' }]);
    } finally {
      log.mockRestore();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
