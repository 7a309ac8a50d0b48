// The typed event (`result.event`), the one-line setup (`keys: secret`) and the one-object sign():
// behaviour here, types in event.test-d.ts-style assertions below (checked by `tsc`, which the
// typecheck command runs over test/).
import { inspect } from 'node:util';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  createVerifier,
  EventParseError,
  memoryReplayStore,
  providers,
  SecretMaterial,
  sign,
  signAsync,
  type DataspikeEvent,
  type GitHubEvent,
  type KeyStore,
  type SmartcarEvent,
  type StandardWebhooksEvent,
  type StripeEvent,
  type Verifier,
  type VerifyResult,
} from '../src/index.ts';
import { withVerification } from '../src/adapters/fetch.ts';
import { keyturn } from '../src/adapters/hono.ts';
import { createNodeHandler } from '../src/adapters/node.ts';

const AMT = 'amt-token-for-tests';
const EVENT = {
  eventId: 'e-1',
  eventType: 'VEHICLE_STATE',
  data: { vehicle: { id: 'v-1' }, signals: [] },
  meta: { version: '4.0', webhookId: 'w', deliveryId: 'd', deliveredAt: 1 },
};
const BODY = JSON.stringify(EVENT);
const smartcar = () => createVerifier({ provider: providers.smartcar(), keys: AMT });
const signed = (body: string | Uint8Array) => sign({ provider: providers.smartcar(), body, secret: AMT });

afterEach(() => vi.restoreAllMocks());

describe('result.event', () => {
  it('is the verified body as JSON, parsed on first read only (never by verify()), then the same object', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    const result = await smartcar().verify({ body: BODY, headers: signed(BODY) });
    expect(parse).not.toHaveBeenCalled();
    const event = result.event;
    expect(event).toEqual(EVENT);
    expect(parse).toHaveBeenCalledTimes(1);
    expect(result.event).toBe(event);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('is never parsed for a rejected request, whatever it contains', async () => {
    const parse = vi.spyOn(JSON, 'parse');
    const verifier = smartcar();
    await expect(verifier.verify({ body: BODY, headers: { 'sc-signature': '00'.repeat(32) } })).rejects.toMatchObject({
      code: 'NO_MATCHING_KEY',
    });
    await expect(verifier.verify({ body: BODY, headers: {} })).rejects.toMatchObject({ code: 'MISSING_SIGNATURE' });
    expect(parse).not.toHaveBeenCalled();
  });

  it('reads bytes, ArrayBuffers and strings alike; verifySync and safeVerify results have it too', async () => {
    const verifier = smartcar();
    const bytes = new TextEncoder().encode(BODY);
    expect((await verifier.verify({ body: Buffer.from(BODY), headers: signed(BODY) })).event).toEqual(EVENT);
    expect((await verifier.verify({ body: bytes.buffer, headers: signed(BODY) })).event).toEqual(EVENT);
    expect(verifier.verifySync({ body: bytes, headers: signed(BODY) }).event).toEqual(EVENT);
    const safe = await verifier.safeVerify({ body: BODY, headers: signed(BODY) });
    expect(safe.ok && safe.event).toEqual(EVENT);
  });

  it('a verified body that is not JSON: verify() accepts it; reading event throws EventParseError (EVENT_NOT_JSON), log-safe', async () => {
    const verifier = smartcar();
    const text = 'name=Zoë&secret-looking=hunter2';
    const result = await verifier.verify({ body: text, headers: signed(text) });
    expect(result.keyId).toBe('default');
    let error: unknown;
    try {
      void result.event;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EventParseError);
    expect(error).toMatchObject({
      code: 'EVENT_NOT_JSON',
      provider: 'smartcar',
      secretId: 'default',
      keyId: 'default',
      bodyLength: text.length,
    });
    expect(String((error as Error).message)).not.toContain('hunter2');
    expect(JSON.stringify(error)).not.toContain('hunter2');
    // Not UTF-8 at all.
    const binary = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const r2 = await verifier.verify({ body: binary, headers: signed(binary) });
    expect(() => r2.event).toThrow(/not UTF-8/);
  });

  it('keeps the body out of JSON.stringify, util.inspect and spread copies; with replay defence the claim is still released', async () => {
    const verifier = createVerifier({ provider: providers.smartcar(), keys: AMT, replay: { store: memoryReplayStore() } });
    const result = await verifier.verify({ body: BODY, headers: signed(BODY) });
    expect(JSON.parse(JSON.stringify(result))).toEqual({
      provider: 'smartcar',
      secretId: 'default',
      keyId: 'default',
      keyRole: 'active',
      eventId: 'e-1',
    });
    expect(inspect(result)).not.toContain('VEHICLE_STATE');
    expect({ ...result }).not.toHaveProperty('event');
    expect(result.event).toEqual(EVENT);
    await result.release!();
    expect((await verifier.verify({ body: BODY, headers: signed(BODY) })).event).toEqual(EVENT); // released: accepted again
    const safe = await verifier.safeVerify({ body: BODY, headers: signed(BODY) });
    expect(safe.ok).toBe(false); // a duplicate now
  });

  it('reaches the adapters typed: withVerification, createNodeHandler and the Hono middleware hand it over', async () => {
    const verifier = smartcar();
    const fetchHandler = withVerification(verifier, (_request, { result }) => {
      expectTypeOf(result.event).toEqualTypeOf<SmartcarEvent>();
      return Response.json({ type: 'eventType' in result.event ? result.event.eventType : result.event.eventName });
    });
    const res = await fetchHandler(new Request('http://x/', { method: 'POST', body: BODY, headers: signed(BODY) }));
    expect(await res.json()).toEqual({ type: 'VEHICLE_STATE' });
    createNodeHandler(verifier, (_req, res2, { result }) => {
      expectTypeOf(result.event).toEqualTypeOf<SmartcarEvent>();
      res2.end();
    });
    const middleware = keyturn(verifier);
    expectTypeOf(middleware).parameter(0).toHaveProperty('get');
  });
});

describe('one-line setup: createVerifier({ provider, keys: secret })', () => {
  it('one string or SecretMaterial is one active key, id "default", secret id "default"', async () => {
    for (const keys of [AMT, new SecretMaterial(AMT), new SecretMaterial(new TextEncoder().encode(AMT))]) {
      const result = await createVerifier({ provider: providers.smartcar(), keys }).verify({ body: BODY, headers: signed(BODY) });
      expect([result.secretId, result.keyId, result.keyRole]).toEqual(['default', 'default', 'active']);
    }
    const named = createVerifier({ provider: providers.smartcar(), keys: AMT, secretId: 'SMARTCAR_AMT' });
    expect((await named.verify({ body: BODY, headers: signed(BODY) })).secretId).toBe('SMARTCAR_AMT');
  });

  it('checks the secret now: an unset variable or an unusable secret is a TypeError that never shows it', () => {
    const env: Record<string, string | undefined> = {};
    // @ts-expect-error -- process.env values are string | undefined: the types ask for a check (or `!`)
    expect(() => createVerifier({ provider: providers.smartcar(), keys: env['SMARTCAR_AMT'] })).toThrow(
      /`keys` is undefined: pass the signing secret .* is it set\?/,
    );
    expect(() => createVerifier({ provider: providers.smartcar(), keys: '' })).toThrow(/not a usable smartcar secret: .*empty/);
    expect(() => createVerifier({ provider: providers.smartcar(), keys: ' padded-secret ' })).toThrow(/whitespace/);
    const bad = 'whsec_zz-not-hex-secret';
    let message = '';
    try {
      createVerifier({ provider: providers.dataspike(), keys: bad });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/not a usable dataspike secret/);
    expect(message).not.toContain(bad.slice(6));
  });
});

describe('sign({ provider, body, secret })', () => {
  it('is sign(provider, { body, secret }) in one object, sync and async', async () => {
    const p = providers.dataspike();
    const input = { body: BODY, secret: 'whsec_' + 'ab'.repeat(16), timestamp: 1_700_000_000 };
    expect(sign({ provider: p, ...input })).toEqual(sign(p, input));
    expect(await signAsync({ provider: p, ...input })).toEqual(sign(p, input));
    expect(sign({ provider: p, ...input, secret: new SecretMaterial(input.secret) })).toEqual(sign(p, input));
  });

  it('fails with a TypeError that says what to pass, never "Cannot read properties of undefined", never showing a secret', () => {
    const p = providers.smartcar();
    const cases: [() => unknown, RegExp][] = [
      [() => (sign as (...a: unknown[]) => unknown)(), /sign\(\): pass \{ provider, body, secret \}.*got undefined/],
      [
        () => sign({ body: BODY, secret: AMT } as never),
        /`provider` must be a provider profile such as providers.smartcar\(\) \(got undefined\)/,
      ],
      [() => sign({ provider: 'smartcar', body: BODY, secret: AMT } as never), /`provider` must be a provider profile .*got a string/],
      [() => (sign as (...a: unknown[]) => unknown)(p), /the second argument is undefined/],
      [() => (sign as (...a: unknown[]) => unknown)(p, BODY, AMT), /the second argument is a string/],
      [
        () => sign({ provider: p, body: EVENT as never, secret: AMT }),
        /`body` must be the raw body, a string or a Uint8Array \(got an object\)/,
      ],
      [() => sign({ provider: p, body: BODY } as never), /`secret` must be the secret as stored .*got undefined/],
      [() => sign({ provider: p, body: BODY, secret: [AMT, 42] as never }), /`secret` must be .*got a number/],
      [
        () => (sign as (...a: unknown[]) => unknown)({ provider: p, body: BODY, secret: AMT }, { body: BODY, secret: AMT }),
        /the first argument is not a provider profile/,
      ],
    ];
    for (const [call, message] of cases) {
      let thrown: unknown;
      try {
        call();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, String(message)).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain(AMT);
      expect((thrown as Error).message).not.toMatch(/Cannot read properties/);
    }
  });
});

describe('types', () => {
  it('each profile types result.event; verify<MyEvent>() names your own; secretId is required with a store', async () => {
    const sc = smartcar();
    expectTypeOf(sc).toEqualTypeOf<Verifier<SmartcarEvent>>();
    const r = await sc.verify({ body: BODY, headers: signed(BODY) });
    expectTypeOf(r).toEqualTypeOf<VerifyResult<SmartcarEvent>>();
    const e = r.event;
    if ('eventType' in e && e.eventType === 'VERIFY') expectTypeOf(e.data.challenge).toEqualTypeOf<string>();
    if ('eventName' in e && e.eventName === 'verify') expectTypeOf(e.payload.challenge).toEqualTypeOf<string>();
    // @ts-expect-error -- not a field of any Smartcar envelope
    void e.vehicle_id;

    expectTypeOf(createVerifier({ provider: providers.dataspike(), keys: 'whsec_00' })).toEqualTypeOf<Verifier<DataspikeEvent>>();
    expectTypeOf<VerifyResult<DataspikeEvent>['event']['event_type']>().toEqualTypeOf<string>();
    expectTypeOf(createVerifier({ provider: providers.stripe(), keys: 'whsec_x' })).toEqualTypeOf<Verifier<StripeEvent>>();
    expectTypeOf(createVerifier({ provider: providers.github(), keys: 'x' })).toEqualTypeOf<Verifier<GitHubEvent>>();
    expectTypeOf(createVerifier({ provider: providers.standardWebhooks(), keys: 'whsec_' + 'A'.repeat(32) })).toEqualTypeOf<
      Verifier<StandardWebhooksEvent>
    >();
    interface Invoice {
      readonly type: 'invoice.paid';
      readonly data: { readonly amount: number };
    }
    expectTypeOf(
      createVerifier({ provider: providers.standardWebhooks<Invoice>({ name: 'svix' }), keys: 'whsec_' + 'A'.repeat(32) }),
    ).toEqualTypeOf<Verifier<Invoice>>();
    expectTypeOf(createVerifier({ provider: providers.mobway(), keys: 'x' })).toEqualTypeOf<Verifier<unknown>>();
    expectTypeOf(createVerifier({ provider: providers.hmac<Invoice>({ header: 'X-Sig', encoding: 'hex' }), keys: 'x' })).toEqualTypeOf<
      Verifier<Invoice>
    >();

    interface MyEvent {
      readonly kind: 'mine';
    }
    const mine = await sc.verify<MyEvent>({ body: BODY, headers: signed(BODY) });
    expectTypeOf(mine.event).toEqualTypeOf<MyEvent>();
    expectTypeOf((await sc.safeVerify<MyEvent>({ body: BODY, headers: signed(BODY) })) as { ok: true; event: MyEvent }).toHaveProperty(
      'event',
    );

    const store: KeyStore = { name: 'memory', getVersions: async () => [] };
    // @ts-expect-error -- a store needs secretId
    void (() => createVerifier({ provider: providers.smartcar(), keys: store }));
    expectTypeOf(createVerifier({ provider: providers.smartcar(), keys: store, secretId: 'SMARTCAR_AMT' })).toEqualTypeOf<
      Verifier<SmartcarEvent>
    >();
    expectTypeOf(createVerifier({ provider: providers.smartcar(), keys: store, secretId: (req) => String(req.secretId) })).toEqualTypeOf<
      Verifier<SmartcarEvent>
    >();
    // Static keys keep secretId optional; a verifier of any event type is a Verifier.
    const anyVerifier: Verifier = createVerifier({ provider: providers.smartcar(), keys: [{ id: 'k', secret: AMT, role: 'active' }] });
    expect(anyVerifier.provider.name).toBe('smartcar');
  });
});
