// @keyturn/nestjs on both Nest platforms: a Nest application built with @nestjs/testing, listening
// on 127.0.0.1, driven with real HTTP requests.
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Body, Controller, HttpCode, Inject, Injectable, Module, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createVerifier,
  memoryReplayStore,
  providers,
  type KeyRole,
  type KeyStore,
  type StaticKeysVerifierOptions,
  type Verifier,
  type VerifyResult,
} from '@keyturn/core';
import {
  KEYTURN_VERIFIER,
  KeyturnGuard,
  KeyturnHttpException,
  KeyturnModule,
  VerifiedWebhook,
  type KeyturnModuleOptions,
  type KeyturnOptionsFactory,
} from '../src/index.ts';

const AMT = 'amt';
const OLD_AMT = 'old-amt';
const sig = (body: string | Uint8Array, secret = AMT) => createHmac('sha256', secret).update(body).digest('hex');
const smartcarVerifier = (extra: Partial<StaticKeysVerifierOptions> = {}): Verifier =>
  createVerifier({
    provider: providers.smartcar(),
    keys: [
      { id: 'amt-2', secret: AMT, role: 'active' },
      { id: 'amt-1', secret: OLD_AMT, role: 'previous' },
    ],
    ...extra,
  });
const mobway = createVerifier({ provider: providers.mobway(), keys: [{ id: 'mw-1', secret: 'mobway-secret', role: 'active' }] });

let handlerCalls = 0;
let failNext = false;

@Controller('webhooks')
class WebhooksController {
  constructor(@Inject(KEYTURN_VERIFIER) private readonly verifier: Verifier) {}

  @Post('smartcar')
  @HttpCode(200)
  @UseGuards(KeyturnGuard)
  receive(@VerifiedWebhook() webhook: VerifyResult, @VerifiedWebhook('keyRole') role: KeyRole, @Body() event: unknown) {
    handlerCalls++;
    if (failNext) throw new Error('handler failed');
    return { keyId: webhook.keyId, role, event, provider: this.verifier.provider.name };
  }

  @Post('mobway')
  @HttpCode(204)
  @UseGuards(new KeyturnGuard({ verifier: mobway, onError: () => {} }))
  mobway(): void {
    handlerCalls++;
  }

  @Post('unguarded')
  unguarded(@VerifiedWebhook() webhook: VerifyResult) {
    return webhook;
  }
}

type Platform = 'express' | 'fastify';
const apps: INestApplication[] = [];
afterEach(async () => {
  while (apps.length > 0) await apps.pop()!.close();
  handlerCalls = 0;
  failNext = false;
  vi.restoreAllMocks();
});

async function start(platform: Platform, keyturnModule: ReturnType<typeof KeyturnModule.forRoot>, rawBody = true): Promise<string> {
  const moduleRef = await Test.createTestingModule({ imports: [keyturnModule], controllers: [WebhooksController] }).compile();
  const app = moduleRef.createNestApplication(platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    rawBody,
    logger: false,
  });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

const EVENT = JSON.stringify({ eventId: 'e-1', eventType: 'VEHICLE_STATE', data: { note: 'café ✓' } });

describe.each<Platform>(['express', 'fastify'])('@nestjs/platform-%s', (platform) => {
  it('passes a verified webhook to the handler: @VerifiedWebhook() result and field, @Body() event, the injected verifier', async () => {
    const url = await start(platform, KeyturnModule.forRoot({ verifier: smartcarVerifier() }));
    const ok = await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT) });
    expect(ok).toMatchObject({ status: 200, json: { keyId: 'amt-2', role: 'active', event: JSON.parse(EVENT), provider: 'smartcar' } });
    // During a rotation the previous token still verifies, and the handler is told.
    const old = await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT, OLD_AMT) });
    expect(old.json).toMatchObject({ keyId: 'amt-1', role: 'previous' });
  });

  it('answers rejections itself: the profile status and the generic body; the handler never runs; onError gets the code', async () => {
    const codes: string[] = [];
    const url = await start(
      platform,
      KeyturnModule.forRoot({ verifier: smartcarVerifier(), onError: (e) => void codes.push((e as { code: string }).code) }),
    );
    const forged = await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': '00'.repeat(32) });
    expect([forged.status, forged.json]).toEqual([401, { error: 'invalid signature' }]);
    const unsigned = await post(`${url}/webhooks/smartcar`, EVENT);
    expect([unsigned.status, unsigned.json]).toEqual([401, { error: 'invalid signature' }]);
    // A guard built for another verifier: Mobway answers 403.
    expect((await post(`${url}/webhooks/mobway`, '{}')).status).toBe(403);
    expect((await post(`${url}/webhooks/mobway`, '{"a":1}', { 'X-Signature': sig('{"a":1}', 'mobway-secret') })).status).toBe(204);
    expect(codes).toEqual(['NO_MATCHING_KEY', 'MISSING_SIGNATURE']);
    expect(handlerCalls).toBe(1);
  });

  it('answers a signed Smartcar VERIFY (v4.0 and v2.0) like the smartcar SDK, without calling the handler', async () => {
    const url = await start(platform, KeyturnModule.forRoot({ verifier: smartcarVerifier(), onError: () => {} }));
    for (const [body, challenge] of [
      [
        JSON.stringify({ eventId: 'v', eventType: 'VERIFY', data: { challenge: `nest-${platform}-v4` }, meta: { version: '4.0' } }),
        `nest-${platform}-v4`,
      ],
      [JSON.stringify({ version: '2.0', eventName: 'verify', payload: { challenge: `nest-${platform}-v2` } }), `nest-${platform}-v2`],
    ] as const) {
      const answered = await post(`${url}/webhooks/smartcar`, body, { 'SC-Signature': sig(body) });
      expect([answered.status, answered.json]).toEqual([200, { challenge: createHmac('sha256', AMT).update(challenge).digest('hex') }]);
      expect(answered.headers.get('content-type')).toMatch(/^application\/json/);
      expect((await post(`${url}/webhooks/smartcar`, body)).status).toBe(401);
    }
    expect(handlerCalls).toBe(0);
  });

  it('without rawBody: 500 (retryable) and BODY_NOT_RAW whose hint names the fix, rawBody: true', async () => {
    const errors: { code?: string; hint?: string }[] = [];
    const url = await start(
      platform,
      KeyturnModule.forRoot({ verifier: smartcarVerifier(), onError: (e) => void errors.push(e as never) }),
      false,
    );
    const res = await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT) });
    expect([res.status, res.json]).toEqual([500, { error: 'webhook receiver error' }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'BODY_NOT_RAW' });
    expect(errors[0]!.hint).toContain('NestFactory.create(AppModule, { rawBody: true })');
    expect(handlerCalls).toBe(0);
  });

  it('without onError, the missing raw body is logged once per request with the fix (a 5xx is never silent)', async () => {
    const logged: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    const url = await start(platform, KeyturnModule.forRoot({ verifier: smartcarVerifier() }), false);
    expect((await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT) })).status).toBe(500);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('BODY_NOT_RAW');
    expect(logged[0]).toContain('rawBody: true');
    expect(logged[0]).not.toContain(AMT);
  });

  it('with replay defence: a handler failure (500) releases the claim so the retry is accepted; a later duplicate is 409', async () => {
    const verifier = smartcarVerifier({ replay: { store: memoryReplayStore() } });
    const url = await start(platform, KeyturnModule.forRoot({ verifier, onError: () => {} }));
    const body = JSON.stringify({ eventId: `evt-${platform}`, eventType: 'VEHICLE_STATE' });
    failNext = true;
    expect((await post(`${url}/webhooks/smartcar`, body, { 'SC-Signature': sig(body) })).status).toBe(500);
    failNext = false;
    expect((await post(`${url}/webhooks/smartcar`, body, { 'SC-Signature': sig(body) })).status).toBe(200);
    const dup = await post(`${url}/webhooks/smartcar`, body, { 'SC-Signature': sig(body) });
    expect([dup.status, dup.json]).toEqual([409, { error: 'duplicate delivery' }]);
  });

  it('holds a raw copy to maxBodyBytes (413)', async () => {
    const url = await start(platform, KeyturnModule.forRoot({ verifier: smartcarVerifier(), maxBodyBytes: 32, onError: () => {} }));
    const res = await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT) });
    expect([res.status, res.json]).toEqual([413, { error: 'payload too large' }]);
  });

  it('@VerifiedWebhook() on a route without the guard fails loudly (500) instead of passing undefined', async () => {
    const url = await start(platform, KeyturnModule.forRoot({ verifier: smartcarVerifier() }));
    expect((await post(`${url}/webhooks/unguarded`, EVENT, { 'SC-Signature': sig(EVENT) })).status).toBe(500);
  });
});

describe('@nestjs/platform-express specifics', () => {
  it('a gzip delivery: verified on the bytes body-parser decoded (what the sender signed)', async () => {
    const url = await start('express', KeyturnModule.forRoot({ verifier: smartcarVerifier() }));
    const res = await post(`${url}/webhooks/smartcar`, gzipSync(EVENT), { 'SC-Signature': sig(EVENT), 'content-encoding': 'gzip' });
    expect(res).toMatchObject({ status: 200, json: { keyId: 'amt-2', event: JSON.parse(EVENT) } });
  });

  it('a content type Nest does not parse: the guard reads the stream itself (limits and decoding apply)', async () => {
    const url = await start('express', KeyturnModule.forRoot({ verifier: smartcarVerifier(), onError: () => {} }));
    const ok = await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT), 'content-type': 'application/octet-stream' });
    expect(ok).toMatchObject({ status: 200, json: { keyId: 'amt-2' } });
    const gz = await post(`${url}/webhooks/smartcar`, gzipSync(EVENT), {
      'SC-Signature': sig(EVENT),
      'content-type': 'application/octet-stream',
      'content-encoding': 'gzip',
    });
    expect(gz.status).toBe(200);
    const br = await post(`${url}/webhooks/smartcar`, EVENT, {
      'SC-Signature': sig(EVENT),
      'content-type': 'application/octet-stream',
      'content-encoding': 'br',
    });
    expect([br.status, br.headers.get('accept-encoding'), br.json]).toEqual([
      415,
      'gzip, deflate',
      { error: 'unsupported content encoding' },
    ]);
  });
});

describe('@nestjs/platform-fastify specifics', () => {
  it('another content type: a parser registered with app.useBodyParser() keeps its raw bytes too', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [KeyturnModule.forRoot({ verifier: smartcarVerifier() })],
      controllers: [WebhooksController],
    }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true, logger: false });
    apps.push(app);
    app.useBodyParser('text/plain');
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const ok = await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT), 'content-type': 'text/plain' });
    expect(ok).toMatchObject({ status: 200, json: { keyId: 'amt-2' } });
  });
});

describe('KeyturnModule', () => {
  @Injectable()
  class Config {
    readonly amt = AMT;
  }
  @Module({ providers: [Config], exports: [Config] })
  class ConfigModule {}

  @Injectable()
  class KeyturnConfig implements KeyturnOptionsFactory {
    constructor(@Inject(Config) private readonly config: Config) {}
    createKeyturnOptions(): KeyturnModuleOptions {
      return { verifier: { provider: providers.smartcar(), keys: [{ id: 'from-class', secret: this.config.amt, role: 'active' }] } };
    }
  }

  it('forRootAsync with useFactory and inject: verifier options from another provider; the verifier it created is disposed at shutdown', async () => {
    let disposed = 0;
    const store: KeyStore = {
      name: 'counting',
      getVersions: async () => [{ id: 'from-store', secret: AMT, role: 'active' }],
      dispose: () => void disposed++,
    };
    const url = await start(
      'fastify',
      KeyturnModule.forRootAsync({
        imports: [ConfigModule],
        inject: [Config],
        useFactory: (config: Config) => {
          expect(config.amt).toBe(AMT);
          return { verifier: { provider: providers.smartcar(), keys: store, secretId: 'SMARTCAR_AMT' } };
        },
      }),
    );
    expect((await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT) })).json).toMatchObject({ keyId: 'from-store' });
    await apps.pop()!.close();
    expect(disposed).toBe(1);
  });

  it('forRootAsync with useClass', async () => {
    const url = await start('express', KeyturnModule.forRootAsync({ imports: [ConfigModule], useClass: KeyturnConfig }));
    expect((await post(`${url}/webhooks/smartcar`, EVENT, { 'SC-Signature': sig(EVENT) })).json).toMatchObject({ keyId: 'from-class' });
  });

  it('does not dispose of a verifier it was given', async () => {
    const verifier = smartcarVerifier();
    const dispose = vi.spyOn(verifier, 'dispose');
    await start('express', KeyturnModule.forRoot({ verifier }));
    await apps.pop()!.close();
    expect(dispose).not.toHaveBeenCalled();
  });

  it('checks its options at startup, with a TypeError naming the option', async () => {
    expect(() => KeyturnModule.forRoot({} as never)).toThrow(/`verifier` must be a verifier from createVerifier\(\) or its options/);
    expect(() => KeyturnModule.forRoot({ verifier: smartcarVerifier(), maxBodyBytes: -1 })).toThrow(
      /KeyturnGuard: maxBodyBytes must be a positive integer/,
    );
    expect(() => KeyturnModule.forRoot({ verifier: { provider: {} as never, keys: [] } })).toThrow(
      /createVerifier\(\): `provider` must be a provider profile/,
    );
    expect(() => KeyturnModule.forRootAsync({ useFactory: () => ({ verifier: smartcarVerifier() }), useClass: KeyturnConfig })).toThrow(
      /exactly one of/,
    );
    expect(() => new KeyturnGuard({} as never)).toThrow(/KeyturnGuard: pass \{ verifier \}/);
    // forRootAsync checks when the factory has run: the application does not start.
    const moduleRef = Test.createTestingModule({
      imports: [KeyturnModule.forRootAsync({ useFactory: () => ({ verifier: smartcarVerifier(), bodyTimeoutMs: 0 }) })],
      controllers: [WebhooksController],
    }).compile();
    await expect(moduleRef).rejects.toThrow(/bodyTimeoutMs must be a finite positive number/);
  });

  it('KeyturnHttpException carries the code for exception filters, and never the secret or the expected signature', () => {
    const e = new KeyturnHttpException(401, { error: 'invalid signature' }, 'NO_MATCHING_KEY');
    expect([e.getStatus(), e.getResponse(), e.code, e.message]).toEqual([
      401,
      { error: 'invalid signature' },
      'NO_MATCHING_KEY',
      'Webhook not accepted (NO_MATCHING_KEY).',
    ]);
  });
});
