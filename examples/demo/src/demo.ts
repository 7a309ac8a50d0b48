/**
 * The whole story: a sender posts signed Smartcar (including VERIFY), Dataspike and Mobway
 * webhooks to a real local receiver through a secret rotation.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { providers, sign } from '@keyturn/core';
import { startReceiver, type Provider } from './receiver.ts';

export interface DemoLine {
  readonly phase: string;
  readonly provider: string;
  readonly request: string;
  readonly status: number;
  readonly keyId: string | undefined;
  readonly keyRole: string | undefined;
  readonly code: string | undefined;
}

const VARS: Record<Provider, string> = {
  smartcar: 'SMARTCAR_AMT',
  dataspike: 'DATASPIKE_WEBHOOK_SECRET',
  mobway: 'MOBWAY_WEBHOOK_SECRET',
};

export interface DemoOptions {
  /** Called once per request. */
  readonly onLine?: (line: DemoLine) => void;
}

/** Runs the demo; resolves to every request's outcome and the receivers' usage reports. */
export async function runDemo(options: DemoOptions = {}) {
  let now = Date.now();
  const clock = () => now;
  const oldKeys: Record<Provider, string> = {
    smartcar: randomUUID(),
    dataspike: `whsec_${randomBytes(32).toString('hex')}`,
    mobway: randomBytes(24).toString('base64url'),
  };
  const newKeys: Record<Provider, string> = {
    smartcar: randomUUID(),
    dataspike: `whsec_${randomBytes(32).toString('hex')}`,
    mobway: randomBytes(24).toString('base64url'),
  };
  // What a deployment would have in its environment before the rotation: only the old secrets.
  const env: Record<string, string | undefined> = {};
  for (const p of Object.keys(VARS) as Provider[]) env[VARS[p]] = oldKeys[p];

  const receiver = await startReceiver(env, clock);
  const lines: DemoLine[] = [];
  const profiles = { smartcar: providers.smartcar(), dataspike: providers.dataspike(), mobway: providers.mobway() };

  async function post(phase: string, provider: Provider, request: string, body: string, headers: Record<string, string>) {
    const logged = receiver.log.length;
    const res = await fetch(`${receiver.url}/${provider}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    // The sender only gets a generic answer; which key matched, or why not, is in the receiver's log.
    const json = (await res.json()) as { challenge?: string };
    const entry = receiver.log[logged];
    const line: DemoLine = {
      phase,
      provider,
      request,
      status: res.status,
      keyId: entry?.keyId,
      keyRole: entry?.keyRole,
      code: entry?.code,
    };
    lines.push(line);
    options.onLine?.(line);
    return json;
  }

  const event = (provider: Provider, n: number) =>
    provider === 'smartcar'
      ? JSON.stringify({ eventId: randomUUID(), eventType: 'VEHICLE_STATE', data: { vehicle: { make: 'Škoda' }, n } })
      : provider === 'dataspike'
        ? JSON.stringify({ id: randomUUID(), event_type: 'AML_SCREENING', payload: { name: 'Zoë Ångström', n } })
        : JSON.stringify({ id: n, type: 'payment.updated', amount: '12.50', currency: 'EUR', note: 'café' });

  async function send(phase: string, provider: Provider, which: 'old' | 'new' | 'forged', n: number) {
    const body = event(provider, n);
    const secret =
      which === 'old'
        ? oldKeys[provider]
        : which === 'new'
          ? newKeys[provider]
          : profiles[provider] === profiles.dataspike
            ? `whsec_${randomBytes(32).toString('hex')}`
            : 'not-the-secret';
    const headers = sign(profiles[provider], { body, secret, timestamp: Math.floor(now / 1000) });
    return post(phase, provider, `event signed with ${which} key`, body, headers);
  }

  async function verifyChallenge(phase: string, expected: 'old' | 'new') {
    const challenge = randomBytes(16).toString('hex');
    const body = JSON.stringify({ eventId: randomUUID(), eventType: 'VERIFY', data: { challenge } });
    // Smartcar signs the VERIFY request with the token it currently has (the new one after a rotation).
    const headers = sign(profiles.smartcar, { body, secret: newOrOld(expected) });
    const json = await post(phase, 'smartcar', 'VERIFY challenge', body, headers);
    const want = createHmac('sha256', newOrOld(expected)).update(challenge).digest('hex');
    if (json.challenge !== want) throw new Error('VERIFY answered with the wrong token');
  }
  const newOrOld = (which: 'old' | 'new') => (which === 'old' ? oldKeys.smartcar : newKeys.smartcar);

  try {
    // 1. Before the rotation: old keys only.
    let phase = '1 old key only';
    await verifyChallenge(phase, 'old');
    for (const p of ['smartcar', 'dataspike', 'mobway'] as const) await send(phase, p, 'old', 1);

    // 2. Rotation: new secrets become active; old ones stay accepted as previous for one hour.
    phase = '2 rotation window';
    const windowEnd = new Date(now + 3_600_000).toISOString();
    for (const p of Object.keys(VARS) as Provider[]) {
      env[VARS[p]] = newKeys[p];
      env[`${VARS[p]}_PREVIOUS`] = oldKeys[p];
      env[`${VARS[p]}_PREVIOUS_NOT_AFTER`] = windowEnd;
      receiver.verifiers[p].invalidate(VARS[p]); // what a config-reload signal would do
    }
    now += 1_000;
    await verifyChallenge(phase, 'new');
    for (const p of ['smartcar', 'dataspike', 'mobway'] as const) {
      await send(phase, p, 'new', 2);
      await send(phase, p, 'old', 3); // a sender (or a retried delivery) still on the old key
    }

    // 3. One hour later the window has ended: the old key is refused, forgeries too.
    phase = '3 window ended';
    now += 3_600_000;
    for (const p of ['smartcar', 'dataspike', 'mobway'] as const) {
      await send(phase, p, 'new', 4);
      await send(phase, p, 'old', 5);
      await send(phase, p, 'forged', 6);
    }
    const usage = Object.values(receiver.verifiers).flatMap((v) => v.usage());
    return { lines, usage, now };
  } finally {
    await receiver.close();
  }
}
