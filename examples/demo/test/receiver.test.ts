// The demo receiver (issue 12 item 20): unknown paths, including Object.prototype member names, are
// 404s and never crash it; the sender gets generic answers, the details stay in the receiver's log.
import { randomUUID } from 'node:crypto';
import { providers, sign } from '@keyturn/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../src/receiver.ts';

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${receiver!.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, text: await res.text() };
};

describe('demo receiver', () => {
  it('answers 404 for Object.prototype member names and keeps serving', async () => {
    const amt = randomUUID();
    receiver = await startReceiver({ SMARTCAR_AMT: amt }, Date.now);
    for (const path of [
      '/constructor',
      '/__proto__',
      '/toString',
      '/hasOwnProperty',
      '/valueOf',
      '/__defineGetter__',
      '/',
      '/smartcar/x',
    ]) {
      expect([path, (await post(path, '{}')).status]).toEqual([path, 404]);
    }
    const body = JSON.stringify({ eventId: 'e-1', eventType: 'VEHICLE_STATE' });
    const ok = await post('/smartcar', body, sign(providers.smartcar(), { body, secret: amt }));
    expect(ok).toEqual({ status: 200, text: '{"ok":true}' });
    expect(receiver.log).toEqual([{ provider: 'smartcar', status: 200, keyId: expect.any(String), keyRole: 'active' }]);
  });

  it('tells the sender neither the error code nor a key id; logs them locally', async () => {
    const now = Date.now();
    const [active, previous] = [randomUUID(), randomUUID()];
    receiver = await startReceiver(
      { SMARTCAR_AMT: active, SMARTCAR_AMT_PREVIOUS: previous, SMARTCAR_AMT_PREVIOUS_NOT_AFTER: new Date(now - 60_000).toISOString() },
      () => now,
    );
    const body = JSON.stringify({ eventId: 'e-2', eventType: 'VEHICLE_STATE' });
    const expired = await post('/smartcar', body, sign(providers.smartcar(), { body, secret: previous }));
    const forged = await post('/smartcar', body, sign(providers.smartcar(), { body, secret: 'not-the-amt' }));
    const ok = await post('/smartcar', body, sign(providers.smartcar(), { body, secret: active }));
    expect([expired, forged]).toEqual([
      { status: 401, text: '{"error":"invalid signature"}' },
      { status: 401, text: '{"error":"invalid signature"}' },
    ]);
    expect(receiver.log.map(({ status, code }) => [status, code])).toEqual([
      [401, 'KEY_EXPIRED'],
      [401, 'NO_MATCHING_KEY'],
      [200, undefined],
    ]);
    const keyIds = receiver.log.map((e) => e.keyId).filter((k): k is string => k !== undefined);
    expect(keyIds).toHaveLength(2); // the expired key that matched, and the active one
    for (const answer of [expired, forged, ok]) for (const keyId of keyIds) expect(answer.text).not.toContain(keyId);
  });
});
