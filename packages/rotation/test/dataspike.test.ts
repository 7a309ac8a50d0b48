import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, parseEnv } from 'node:util';
import { KeyStoreError, type KeyStore } from '@keyturn/core';
import { envFileKeyStore } from '@keyturn/store-env/file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addActiveKey,
  dataspikeClient,
  ProviderApiError,
  rotateDataspikeSecret,
  RotationError,
  writeRecoveryFile,
  type ProgressEvent,
} from '../src/index.ts';
import { startDataspikeTestServer, type DataspikeTestServer } from '../src/testing/index.ts';
import { dataspikeRotationStory, INITIAL } from './story.ts';

const API_KEY = 'ds-test-api-key-1234';
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';
const instant = async (): Promise<void> => undefined;
const signal = new AbortController().signal;

async function envFile(initial: string, clock?: () => number): Promise<{ store: ReturnType<typeof envFileKeyStore>; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-rotation-'));
  const path = join(dir, 'app.env');
  await writeFile(path, `# app\nDATASPIKE_WEBHOOK_SECRET=${initial}\n`, { mode: 0o600 });
  return { store: envFileKeyStore({ path, now: clock }), path };
}

dataspikeRotationStory('env-file store', async (initial, clock) => ({
  ...(await envFile(initial, clock)),
  secretId: 'DATASPIKE_WEBHOOK_SECRET',
}));

/** A local port nothing listens on (connection refused: the request never leaves the machine). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Wraps a real store and makes its writes fail on command. */
function flaky(store: KeyStore, plan: { failures: number; retryable?: boolean; landThenFail?: boolean }): KeyStore & { writes: number } {
  const wrapper = {
    name: store.name,
    writes: 0,
    getVersions: store.getVersions.bind(store),
    async rotate(...args: Parameters<NonNullable<KeyStore['rotate']>>) {
      wrapper.writes++;
      if (plan.failures > 0) {
        plan.failures--;
        if (plan.landThenFail === true) await store.rotate!(...args);
        throw new KeyStoreError('injected: ThrottlingException', {
          retryable: plan.retryable ?? true,
          store: store.name,
          reason: 'THROTTLED',
          code: 'ThrottlingException',
        });
      }
      return store.rotate!(...args);
    },
  };
  return wrapper;
}

describe('rotateDataspikeSecret', () => {
  let ds: DataspikeTestServer;
  beforeEach(async () => {
    ds = await startDataspikeTestServer({ apiKey: API_KEY, webhooks: { [WEBHOOK]: INITIAL } });
  });
  afterEach(async () => ds.close());

  const base = () => ({
    apiKey: API_KEY,
    baseUrl: ds.url,
    webhookId: WEBHOOK,
    secretId: 'DATASPIKE_WEBHOOK_SECRET',
    graceMs: 3_600_000,
    sleep: instant,
  });

  it('retries the store write with backoff and reports progress', async () => {
    const { store, path } = await envFile(INITIAL);
    const wrapped = flaky(store, { failures: 2 });
    const events: ProgressEvent[] = [];
    const result = await rotateDataspikeSecret({ ...base(), store: wrapped, onProgress: (e) => events.push(e) });
    expect(result).toMatchObject({ attempts: 3, confirmed: true });
    expect(wrapped.writes).toBe(3);
    expect(parseEnv(await readFile(path, 'utf8'))['DATASPIKE_WEBHOOK_SECRET']).toBe(ds.currentSecret(WEBHOOK));
    expect(events.map((e) => e.step)).toEqual([
      'store-read',
      'provider-rotate',
      'provider-rotated',
      'store-write',
      'store-write-retry',
      'store-write',
      'store-write-retry',
      'store-write',
      'store-confirm',
    ]);
    expect(JSON.stringify(events)).not.toContain(ds.currentSecret(WEBHOOK).slice(6));
  });

  it('a write that landed but whose answer was lost is not repeated, so the previous key is not demoted', async () => {
    const { store, path } = await envFile(INITIAL);
    const wrapped = flaky(store, { failures: 1, landThenFail: true });
    const result = await rotateDataspikeSecret({ ...base(), store: wrapped });
    expect(result).toMatchObject({ alreadyActive: true, attempts: 1 });
    const env = parseEnv(await readFile(path, 'utf8'));
    expect(env['DATASPIKE_WEBHOOK_SECRET']).toBe(ds.currentSecret(WEBHOOK));
    expect(env['DATASPIKE_WEBHOOK_SECRET_PREVIOUS']).toBe(INITIAL);
  });

  it('never loses the new secret: the error carries it redacted, a 0600 recovery file and the command finish the write', async () => {
    const { store, path } = await envFile(INITIAL);
    const written: string[] = [];
    const err = await rotateDataspikeSecret({
      ...base(),
      store: flaky(store, { failures: 99 }),
      storeWrite: { attempts: 4 },
      recoveryCommand:
        'keyturn keys add --store env-file --store-file app.env --secret-id DATASPIKE_WEBHOOK_SECRET --secret-file <secret-file> --grace 1h',
      onSecret: async (s) => void written.push(await writeRecoveryFile(join(path, '..', 'ahead.secret'), s)),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RotationError);
    const rotationError = err as RotationError;
    expect(rotationError).toMatchObject({ code: 'STORE_WRITE_FAILED', attempts: 4, secretId: 'DATASPIKE_WEBHOOK_SECRET' });
    const newSecret = ds.currentSecret(WEBHOOK);
    expect(rotationError.recovery?.secret.reveal()).toBe(newSecret);
    expect(rotationError.recovery?.command).toContain('--secret-file <secret-file>');
    // Never printed in clear anywhere.
    const hex = newSecret.slice(6);
    for (const view of [
      rotationError.message,
      String(rotationError.stack),
      String(rotationError),
      inspect(rotationError, { depth: 5 }),
      JSON.stringify(rotationError),
    ]) {
      expect(view).not.toContain(hex);
    }
    // The write-ahead file exists with mode 0600 and holds exactly the secret.
    expect(written).toHaveLength(1);
    expect(await readFile(written[0]!, 'utf8')).toBe(newSecret);
    expect((await stat(written[0]!)).mode & 0o777).toBe(0o600);
    await expect(writeRecoveryFile(written[0]!, rotationError.recovery!.secret)).rejects.toMatchObject({ code: 'EEXIST' });
    // The file still holds the old secret; the recovery finishes the write, and is idempotent.
    expect(parseEnv(await readFile(path, 'utf8'))['DATASPIKE_WEBHOOK_SECRET']).toBe(INITIAL);
    const done = await addActiveKey({
      store,
      secretId: 'DATASPIKE_WEBHOOK_SECRET',
      secret: rotationError.recovery!.secret,
      graceMs: 3_600_000,
    });
    expect(done.alreadyActive).toBe(false);
    const again = await addActiveKey({
      store,
      secretId: 'DATASPIKE_WEBHOOK_SECRET',
      secret: await readFile(written[0]!, 'utf8'),
      graceMs: 3_600_000,
    });
    expect(again).toMatchObject({ alreadyActive: true, activeId: done.activeId, previousId: done.previousId });
    const env = parseEnv(await readFile(path, 'utf8'));
    expect([env['DATASPIKE_WEBHOOK_SECRET'], env['DATASPIKE_WEBHOOK_SECRET_PREVIOUS']]).toEqual([newSecret, INITIAL]);
  });

  it('a terminal store error stops retrying at once and still yields the recovery', async () => {
    const { store } = await envFile(INITIAL);
    const wrapped = flaky(store, { failures: 99, retryable: false });
    const err = (await rotateDataspikeSecret({ ...base(), store: wrapped }).catch((e: unknown) => e)) as RotationError;
    expect(err.code).toBe('STORE_WRITE_FAILED');
    expect(wrapped.writes).toBe(1);
    // The attempts made, not the configured maximum (6).
    expect(err.attempts).toBe(1);
    expect(err.toJSON()).toMatchObject({ attempts: 1 });
    expect(err.message).toContain('after 1 attempt (');
    expect(err.recovery?.secret.reveal()).toBe(ds.currentSecret(WEBHOOK));
  });

  it('Dataspike rotated but the answer was lost: it rotates again and stores the secret Dataspike now uses', async () => {
    const { store, path } = await envFile(INITIAL);
    ds.failNext({ respond: 'drop', afterRotate: true });
    const result = await rotateDataspikeSecret({ ...base(), store });
    expect(result.confirmed).toBe(true);
    expect(ds.calls.map((c) => [c.status, c.rotated])).toEqual([
      [0, true],
      [200, true],
    ]);
    const env = parseEnv(await readFile(path, 'utf8'));
    expect(env['DATASPIKE_WEBHOOK_SECRET']).toBe(ds.currentSecret(WEBHOOK));
    expect(env['DATASPIKE_WEBHOOK_SECRET_PREVIOUS']).toBe(INITIAL);
    expect(ds.history(WEBHOOK)).toHaveLength(3);
  });

  it('503, 503, then a dropped connection after Dataspike rotated: PROVIDER_MAY_HAVE_ROTATED with the steps to take, never "nothing changed"', async () => {
    const { store, path } = await envFile(INITIAL);
    ds.failNext({ respond: 503 }, { respond: 503 }, { respond: 'drop', afterRotate: true });
    const err = (await rotateDataspikeSecret({ ...base(), store, rerunCommand: 'keyturn rotate dataspike --webhook-id W …' }).catch(
      (e: unknown) => e,
    )) as RotationError;
    expect(err).toBeInstanceOf(RotationError);
    expect(err.code).toBe('PROVIDER_MAY_HAVE_ROTATED');
    expect(err.message).toContain(`Dataspike may have rotated the secret of webhook ${WEBHOOK}`);
    expect(err.message).toContain('3 attempts: HTTP 503, HTTP 503, connection lost');
    expect(err.message).toContain('still holds the previous secret');
    expect(err.message).toContain('rotate again: keyturn rotate dataspike --webhook-id W …');
    expect(err.message).not.toContain('nothing changed');
    expect(err.cause).toMatchObject({ mayHaveRotated: true });
    expect(err.toJSON()).toMatchObject({ code: 'PROVIDER_MAY_HAVE_ROTATED' });
    // It did rotate (the lost answer), and the store still has the old secret.
    expect(ds.history(WEBHOOK)).toHaveLength(2);
    expect(parseEnv(await readFile(path, 'utf8'))['DATASPIKE_WEBHOOK_SECRET']).toBe(INITIAL);
    // Step 1 of the message: rotating again fixes it.
    const again = await rotateDataspikeSecret({ ...base(), store });
    expect(again.confirmed).toBe(true);
    const env = parseEnv(await readFile(path, 'utf8'));
    expect([env['DATASPIKE_WEBHOOK_SECRET'], env['DATASPIKE_WEBHOOK_SECRET_PREVIOUS']]).toEqual([ds.currentSecret(WEBHOOK), INITIAL]);
  });

  it('an ambiguous first attempt keeps the whole call ambiguous, even if the last answer is a clear refusal', async () => {
    const { store } = await envFile(INITIAL);
    ds.failNext({ respond: 'drop', afterRotate: true }, { respond: 429 }, { respond: 429 });
    const err = (await rotateDataspikeSecret({ ...base(), store }).catch((e: unknown) => e)) as RotationError;
    expect(err.code).toBe('PROVIDER_MAY_HAVE_ROTATED');
    expect(err.message).toContain('connection lost, HTTP 429, HTTP 429');
  });

  it('when Dataspike certainly did nothing (401, 429s, unreachable): PROVIDER_ROTATE_FAILED, "nothing changed"', async () => {
    const { store } = await envFile(INITIAL);
    const refused = (await rotateDataspikeSecret({ ...base(), apiKey: 'bad-key', store }).catch((e: unknown) => e)) as RotationError;
    expect(refused).toMatchObject({ code: 'PROVIDER_ROTATE_FAILED', cause: { mayHaveRotated: false } });
    expect(refused.message).toContain('nothing changed');
    ds.failNext({ respond: 429 }, { respond: 429 }, { respond: 429 });
    const limited = (await rotateDataspikeSecret({ ...base(), store }).catch((e: unknown) => e)) as RotationError;
    expect(limited).toMatchObject({ code: 'PROVIDER_ROTATE_FAILED' });
    const unreachable = (await rotateDataspikeSecret({ ...base(), baseUrl: `http://127.0.0.1:${await closedPort()}`, store }).catch(
      (e: unknown) => e,
    )) as RotationError;
    expect(unreachable).toMatchObject({ code: 'PROVIDER_ROTATE_FAILED', cause: { code: 'NETWORK', mayHaveRotated: false } });
    expect(ds.history(WEBHOOK)).toEqual([INITIAL]);
  });

  it('nothing rotates when the store cannot be read or cannot write', async () => {
    const missing = envFileKeyStore({ path: join(await mkdtemp(join(tmpdir(), 'keyturn-rotation-')), 'absent.env') });
    await expect(rotateDataspikeSecret({ ...base(), store: missing })).rejects.toMatchObject({ code: 'STORE_READ_FAILED' });
    const readOnly: KeyStore = { name: 'static', getVersions: async () => [] };
    await expect(rotateDataspikeSecret({ ...base(), store: readOnly })).rejects.toMatchObject({ code: 'STORE_NOT_WRITABLE' });
    expect(ds.calls).toHaveLength(0);
    // First setup: allowMissing creates the secret.
    const created = await rotateDataspikeSecret({ ...base(), store: missing, allowMissing: true });
    expect(created.previousId).toBeUndefined();
  });

  it('a refused API key fails without rotating and without echoing the key', async () => {
    const { store } = await envFile(INITIAL);
    const err = (await rotateDataspikeSecret({ ...base(), apiKey: 'wrong-key-xyz', store }).catch((e: unknown) => e)) as RotationError;
    expect(err).toMatchObject({ code: 'PROVIDER_ROTATE_FAILED' });
    expect(err.cause).toMatchObject({ code: 'UNAUTHORIZED', status: 401, retryable: false });
    expect(`${inspect(err, { depth: 5 })} ${JSON.stringify(err)}`).not.toContain('wrong-key-xyz');
    expect(ds.calls.map((c) => c.authorized)).toEqual([false]);
    expect(ds.history(WEBHOOK)).toEqual([INITIAL]);
  });
});

describe('dataspikeClient', () => {
  let ds: DataspikeTestServer;
  beforeEach(async () => {
    ds = await startDataspikeTestServer({ apiKey: API_KEY, webhooks: { [WEBHOOK]: INITIAL } });
  });
  afterEach(async () => ds.close());

  it('posts to the documented path with the ds-api-token header and returns a redacted secret', async () => {
    const secret = await dataspikeClient({ apiKey: API_KEY, baseUrl: `${ds.url}/` }).rotateWebhookSecret(WEBHOOK);
    expect(String(secret)).toBe('[redacted secret]');
    expect(secret.reveal()).toBe(ds.currentSecret(WEBHOOK));
    expect(ds.calls).toEqual([
      {
        method: 'POST',
        path: `/api/v3/organization/webhooks/${WEBHOOK}/hmac/rotate`,
        webhookId: WEBHOOK,
        authorized: true,
        status: 200,
        rotated: true,
      },
    ]);
  });

  it('honours Retry-After on 429, retries 5xx, gives up after `attempts`', async () => {
    const sleeps: number[] = [];
    const client = dataspikeClient({
      apiKey: API_KEY,
      baseUrl: ds.url,
      attempts: 3,
      retryDelayMs: 100,
      sleep: async (ms) => void sleeps.push(ms),
    });
    ds.failNext({ respond: 429, retryAfterSeconds: 2 }, { respond: 503 });
    await client.rotateWebhookSecret(WEBHOOK);
    expect(sleeps).toEqual([2000, 200]);
    ds.failNext({ respond: 500 }, { respond: 500 }, { respond: 500 });
    await expect(client.rotateWebhookSecret(WEBHOOK)).rejects.toMatchObject({ code: 'SERVER_ERROR', status: 500 });
  });

  it('maps 404 and a response without the secret', async () => {
    const client = dataspikeClient({ apiKey: API_KEY, baseUrl: ds.url, sleep: instant });
    await expect(client.rotateWebhookSecret('no-such-webhook')).rejects.toMatchObject({ code: 'NOT_FOUND', retryable: false });
    const odd = dataspikeClient({ apiKey: API_KEY, baseUrl: ds.url, fetch: async () => new Response('{"secret":"x"}', { status: 200 }) });
    await expect(odd.rotateWebhookSecret(WEBHOOK)).rejects.toBeInstanceOf(ProviderApiError);
    await expect(odd.rotateWebhookSecret(WEBHOOK)).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
  });

  it('a network failure is retryable and reported without the key', async () => {
    const client = dataspikeClient({ apiKey: API_KEY, baseUrl: 'http://127.0.0.1:9', attempts: 2, sleep: instant });
    const err = (await client.rotateWebhookSecret(WEBHOOK).catch((e: unknown) => e)) as ProviderApiError;
    expect(err).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(inspect(err)).not.toContain(API_KEY);
  });
});

void signal;

describe('a previous key with no window end is never silent', () => {
  it('a store that records no window: previousUnbounded and a warning', async () => {
    const versions: { id: string; secret: string; role: 'active' | 'previous' }[] = [{ id: 'k1', secret: 'one', role: 'active' }];
    const store: KeyStore = {
      name: 'custom',
      getVersions: async () => versions,
      async rotate(_secretId, secret) {
        versions.splice(
          0,
          versions.length,
          { id: 'k2', secret: secret as string, role: 'active' },
          { id: 'k1', secret: 'one', role: 'previous' },
        );
        return { activeId: 'k2', previousId: 'k1' }; // no previousNotAfter, no flag: says nothing
      },
    };
    const result = await addActiveKey({ store, secretId: 'S', secret: 'two', graceMs: 3_600_000 });
    expect(result).toMatchObject({ previousId: 'k1', previousNotAfter: undefined, previousUnbounded: true });
    expect(result.warnings).toEqual([expect.stringContaining('the previous key k1 has no window end')]);
    // Already active, previous still open-ended: said again.
    const again = await addActiveKey({ store, secretId: 'S', secret: 'two', graceMs: 3_600_000 });
    expect(again).toMatchObject({ alreadyActive: true, previousUnbounded: true });
    expect(again.warnings).toEqual([expect.stringContaining('no window end')]);
  });

  it('a bounded previous key: previousUnbounded false and no warning', async () => {
    const { store } = await envFile(INITIAL);
    const result = await addActiveKey({
      store,
      secretId: 'DATASPIKE_WEBHOOK_SECRET',
      secret: `whsec_${'ab'.repeat(32)}`,
      graceMs: 3_600_000,
    });
    expect(result).toMatchObject({ previousUnbounded: false, warnings: [] });
  });
});
