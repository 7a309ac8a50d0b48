import { describe, expect, it } from 'vitest';
import { createVerifier, providers, sign } from '../../src/index.ts';
import { memoryReplayStore } from '../../src/replay/index.ts';

const T0 = Date.UTC(2026, 10, 24, 12);

describe('replay keys only on signed ids', () => {
  it.each([
    ['github', () => providers.github(), 'x-github-delivery'],
    ['shopify', () => providers.shopify(), 'x-shopify-webhook-id'],
  ] as const)('%s: changing the unsigned delivery id does not get a replay through', async (_name, make, idHeader) => {
    const verifier = createVerifier({
      provider: make(),
      keys: [{ id: 'k', secret: 'app-secret', role: 'active' }],
      now: () => T0,
      replay: { store: memoryReplayStore({ max: 100 }) },
    });
    const body = '{"action":"opened","number":1}';
    const headers = { ...sign(make(), { body, secret: 'app-secret', id: 'delivery-1' }), [idHeader]: 'delivery-1' };
    const first = await verifier.verify({ body, headers });
    expect(first.eventId).toBe('delivery-1'); // still reported, for logs
    await expect(verifier.verify({ body, headers: { ...headers, [idHeader]: 'delivery-2' } })).rejects.toMatchObject({ code: 'REPLAYED' });
  });

  it('standard webhooks: the signed webhook-id keys the claim', async () => {
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const verifier = createVerifier({
      provider: providers.standardWebhooks(),
      keys: [{ id: 'k', secret, role: 'active' }],
      now: () => T0,
      replay: { store: memoryReplayStore({ max: 100 }) },
    });
    const body = '{"type":"invoice.paid"}';
    const a = sign(providers.standardWebhooks(), { body, secret, id: 'msg_1', timestamp: T0 / 1000 });
    const b = sign(providers.standardWebhooks(), { body, secret, id: 'msg_2', timestamp: T0 / 1000 });
    expect((await verifier.verify({ body, headers: a })).replayKey).toContain('msg_1');
    // Same body, a different signed id: a distinct delivery, accepted.
    expect((await verifier.verify({ body, headers: b })).eventId).toBe('msg_2');
    await expect(verifier.verify({ body, headers: a })).rejects.toMatchObject({ code: 'REPLAYED' });
  });
});
