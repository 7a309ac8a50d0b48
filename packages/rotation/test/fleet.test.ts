/**
 * The workflows tell the verifiers: `verifier` (this process) is fenced before Dataspike's rotate call
 * and reloaded after the store write; `fleet` hears "rotation started" before the call and "key
 * changed" (with the new active id) after every store write. Deliveries that race the write get 503,
 * never 401; a fleet that cannot hear the fence stops the rotation before Dataspike is called
 * (FENCE_UNAVAILABLE, unless requireFence: false); a fleet unreachable later only adds a warning.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVerifier, providers, type Fleet, type KeyturnEvent, type UsageSnapshot } from '@keyturn/core';
import { envFileKeyStore } from '@keyturn/store-env/file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addActiveKey, retirePreviousKey, rotateDataspikeSecret, RotationError } from '../src/index.ts';
import { startDataspikeTestServer, type DataspikeTestServer } from '../src/testing/index.ts';
import { INITIAL } from './story.ts';

const API_KEY = 'ds-test-api-key-1234';
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';
const SECRET_ID = 'DATASPIKE_WEBHOOK_SECRET';
const instant = async (): Promise<void> => undefined;

async function envFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyturn-rotation-fleet-'));
  const path = join(dir, 'app.env');
  await writeFile(path, `${SECRET_ID}=${INITIAL}\n`, { mode: 0o600 });
  return path;
}

/** A fleet that records what the workflow told it, and when (how many rotations Dataspike had done then). */
function recordingFleet(ds: () => DataspikeTestServer, fail: boolean | 'publish' = false) {
  const log: string[] = [];
  const at = () => ds().calls.filter((c) => c.rotated).length;
  const fleet: Pick<Fleet, 'announceRotation' | 'publishChange' | 'endRotation' | 'usage'> & { snapshot?: UsageSnapshot } = {
    async announceRotation(secretId, o) {
      log.push(`announce ${secretId} ttl=${o?.ttlMs} rotated=${at()}`);
      if (fail === true) throw new Error('ECONNREFUSED');
    },
    async publishChange(secretId, o) {
      log.push(`change ${secretId} version=${o?.versionId} rotated=${at()}`);
      if (fail) throw new Error('ECONNREFUSED');
    },
    async endRotation(secretId) {
      log.push(`end ${secretId}`);
    },
    async usage() {
      return fleet.snapshot as UsageSnapshot;
    },
  };
  return { fleet, log };
}

describe('workflows tell the verifiers', () => {
  let ds: DataspikeTestServer;
  beforeEach(async () => {
    ds = await startDataspikeTestServer({ apiKey: API_KEY, webhooks: { [WEBHOOK]: INITIAL } });
  });
  afterEach(async () => ds.close());

  it('rotateDataspikeSecret({ verifier }): a delivery signed with the new secret before the store write gets 503, and verifies right after', async () => {
    const path = await envFile();
    const events: KeyturnEvent[] = [];
    const verifier = createVerifier({
      provider: providers.dataspike(),
      keys: envFileKeyStore({ path }),
      secretId: SECRET_ID,
      onEvent: (e) => events.push(e),
    });
    await verifier.warm();
    const body = '{"id":"evt_race"}';
    let raced: unknown;
    const result = await rotateDataspikeSecret({
      apiKey: API_KEY,
      baseUrl: ds.url,
      webhookId: WEBHOOK,
      store: envFileKeyStore({ path }),
      secretId: SECRET_ID,
      graceMs: 3_600_000,
      sleep: instant,
      verifier,
      // Dataspike already signs with the new secret; the store write has not happened yet.
      onSecret: async () => {
        raced = await verifier.safeVerify({ body, headers: ds.sign(WEBHOOK, body) });
      },
    });
    expect(raced).toMatchObject({ ok: false, error: { code: 'KEY_ROTATION_IN_PROGRESS', status: 503 } });
    // The workflow waited for the reload: the new key is held before any delivery asks for it.
    expect(verifier.status(SECRET_ID).versions.map((v) => v.id)).toContain(result.activeId);
    const retry = await verifier.verify({ body, headers: ds.sign(WEBHOOK, body) });
    expect(retry).toMatchObject({ keyId: result.activeId, keyRole: 'active' });
    expect(events.filter((e) => e.type === 'rotation-fence').map((e) => (e as { state: string }).state)).toEqual(['started', 'ended']);
    const forged = await verifier.safeVerify({ body, headers: ds.sign(WEBHOOK, body, { secret: 'whsec_' + 'ee'.repeat(32) }) });
    expect(!forged.ok && forged.error.code).toBe('NO_MATCHING_KEY');
    await verifier.dispose();
  });

  it('rotateDataspikeSecret({ fleet }): the fence is announced before the rotate call, the change (with the new id) after the store write', async () => {
    const path = await envFile();
    const { fleet, log } = recordingFleet(() => ds);
    const result = await rotateDataspikeSecret({
      apiKey: API_KEY,
      baseUrl: ds.url,
      webhookId: WEBHOOK,
      store: envFileKeyStore({ path }),
      secretId: SECRET_ID,
      graceMs: 60_000,
      sleep: instant,
      fleet,
      fenceTtlMs: 90_000,
    });
    expect(log).toEqual([`announce ${SECRET_ID} ttl=90000 rotated=0`, `change ${SECRET_ID} version=${result.activeId} rotated=1`]);
    expect(result.warnings).toEqual([]);
  });

  it('a failed rotate call ends the fence; a fleet unreachable after the fence only adds a warning', async () => {
    const path = await envFile();
    const a = recordingFleet(() => ds);
    ds.failNext({ respond: 401 });
    await expect(
      rotateDataspikeSecret({
        apiKey: API_KEY,
        baseUrl: ds.url,
        webhookId: WEBHOOK,
        store: envFileKeyStore({ path }),
        secretId: SECRET_ID,
        graceMs: 60_000,
        sleep: instant,
        fleet: a.fleet,
      }),
    ).rejects.toMatchObject({ code: 'PROVIDER_ROTATE_FAILED' });
    expect(a.log).toEqual([`announce ${SECRET_ID} ttl=120000 rotated=0`, `end ${SECRET_ID}`]);

    const b = recordingFleet(() => ds, 'publish');
    const result = await rotateDataspikeSecret({
      apiKey: API_KEY,
      baseUrl: ds.url,
      webhookId: WEBHOOK,
      store: envFileKeyStore({ path }),
      secretId: SECRET_ID,
      graceMs: 60_000,
      sleep: instant,
      fleet: b.fleet,
    });
    expect(result.confirmed).toBe(true);
    expect(result.warnings.join('\n')).toMatch(/could not tell the fleet that DATASPIKE_WEBHOOK_SECRET changed \(ECONNREFUSED\)/);
  });

  it('a fence that cannot be announced stops the rotation before Dataspike is called: FENCE_UNAVAILABLE, store unchanged, local fences lifted', async () => {
    const path = await envFile();
    const before = await readFile(path, 'utf8');
    const verifier = createVerifier({ provider: providers.dataspike(), keys: envFileKeyStore({ path }), secretId: SECRET_ID });
    await verifier.warm();
    const { fleet, log } = recordingFleet(() => ds, true);
    const err = await rotateDataspikeSecret({
      apiKey: API_KEY,
      baseUrl: ds.url,
      webhookId: WEBHOOK,
      store: envFileKeyStore({ path }),
      secretId: SECRET_ID,
      graceMs: 60_000,
      sleep: instant,
      fleet,
      verifier,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RotationError);
    expect(err).toMatchObject({ code: 'FENCE_UNAVAILABLE', secretId: SECRET_ID, provider: 'dataspike' });
    expect((err as Error).message).toMatch(
      /ECONNREFUSED[\s\S]*nothing was changed at Dataspike or in the store[\s\S]*run the rotation again[\s\S]*requireFence: false/,
    );
    // Dataspike's rotate endpoint was never called; the store holds what it held; the partial fence is ended.
    expect(ds.calls).toEqual([]);
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(log).toEqual([`announce ${SECRET_ID} ttl=120000 rotated=0`, `end ${SECRET_ID}`]);
    // The verifier in this process is not left fenced: a delivery signed with the (unchanged) secret verifies.
    const body = '{"id":"evt_after_refusal"}';
    expect(await verifier.verify({ body, headers: ds.sign(WEBHOOK, body) })).toMatchObject({ keyRole: 'active' });
    await verifier.dispose();
  });

  it('requireFence: false rotates without the fence, with a warning', async () => {
    const path = await envFile();
    const before = await readFile(path, 'utf8');
    const { fleet, log } = recordingFleet(() => ds, true);
    const result = await rotateDataspikeSecret({
      apiKey: API_KEY,
      baseUrl: ds.url,
      webhookId: WEBHOOK,
      store: envFileKeyStore({ path }),
      secretId: SECRET_ID,
      graceMs: 60_000,
      sleep: instant,
      fleet,
      requireFence: false,
    });
    expect(result.confirmed).toBe(true);
    expect(ds.calls.filter((c) => c.rotated)).toHaveLength(1);
    expect(await readFile(path, 'utf8')).not.toBe(before);
    expect(result.warnings.join('\n')).toMatch(
      /could not announce the rotation to the fleet \(ECONNREFUSED\)[\s\S]*could not tell the fleet/,
    );
    expect(log).toEqual([`announce ${SECRET_ID} ttl=120000 rotated=0`, `change ${SECRET_ID} version=${result.activeId} rotated=1`]);
    await expect(
      rotateDataspikeSecret({
        apiKey: API_KEY,
        baseUrl: ds.url,
        webhookId: WEBHOOK,
        store: envFileKeyStore({ path }),
        secretId: SECRET_ID,
        graceMs: 60_000,
        sleep: instant,
        fleet,
        requireFence: 'no' as never,
      }),
    ).rejects.toThrow(TypeError);
  });

  it('refuses a verifier or fleet that is not one, and a fence TTL out of range', async () => {
    const path = await envFile();
    const base = {
      apiKey: API_KEY,
      baseUrl: ds.url,
      webhookId: WEBHOOK,
      store: envFileKeyStore({ path }),
      secretId: SECRET_ID,
      graceMs: 60_000,
      sleep: instant,
    };
    await expect(rotateDataspikeSecret({ ...base, verifier: {} as never })).rejects.toThrow(TypeError);
    await expect(rotateDataspikeSecret({ ...base, fleet: {} as never })).rejects.toThrow(TypeError);
    await expect(rotateDataspikeSecret({ ...base, fenceTtlMs: 0 })).rejects.toThrow(TypeError);
    await expect(rotateDataspikeSecret({ ...base, fenceTtlMs: Number.NaN })).rejects.toThrow(TypeError);
    expect(ds.calls).toEqual([]);
  });

  it('addActiveKey and retirePreviousKey publish after their write and reload the verifiers; retire reads the fleet ledger', async () => {
    const path = await envFile();
    const verifier = createVerifier({ provider: providers.dataspike(), keys: envFileKeyStore({ path }), secretId: SECRET_ID });
    await verifier.warm();
    const { fleet, log } = recordingFleet(() => ds);
    const next = `whsec_${'fedcba9876543210'.repeat(4)}`;
    const added = await addActiveKey({
      store: envFileKeyStore({ path }),
      secretId: SECRET_ID,
      secret: next,
      graceMs: 60_000,
      verifier,
      fleet,
    });
    expect(log).toEqual([`change ${SECRET_ID} version=${added.activeId} rotated=0`]);
    expect(verifier.status(SECRET_ID).versions.map((v) => v.id)).toEqual([added.activeId, added.previousId]);

    // The fleet's ledger says the previous key matched a minute ago: not safe.
    const now = Date.now();
    fleet.snapshot = {
      version: 1,
      instances: ['a', 'b'],
      since: now - 86_400_000,
      takenAt: now,
      keys: [
        {
          secretId: SECRET_ID,
          keyId: added.activeId,
          keyRole: 'active',
          matches: 10,
          lastMatchedAt: now - 1_000,
          notBefore: undefined,
          notAfter: undefined,
          lastSeenAt: now,
        },
        {
          secretId: SECRET_ID,
          keyId: added.previousId!,
          keyRole: 'previous',
          matches: 3,
          lastMatchedAt: now - 60_000,
          notBefore: undefined,
          notAfter: undefined,
          lastSeenAt: now,
        },
      ],
    };
    const store = envFileKeyStore({ path });
    await expect(
      retirePreviousKey({ store, secretId: SECRET_ID, fleet, verifier, readiness: { quietMs: 3_600_000 } }),
    ).rejects.toBeInstanceOf(RotationError);
    // Quiet for long enough across the fleet: retired, and everyone told.
    const retired = await retirePreviousKey({ store, secretId: SECRET_ID, fleet, verifier, readiness: { quietMs: 30_000 } });
    expect(retired.retiredId).toBe(added.previousId);
    expect(log.at(-1)).toBe(`change ${SECRET_ID} version=undefined rotated=0`);
    expect(verifier.status(SECRET_ID).versions.map((v) => v.id)).toEqual([added.activeId]);
    expect(retired.warnings).toEqual([]);
    await verifier.dispose();
  });

  it('retirePreviousKey says when the fleet could not be told (the key is gone from the store either way)', async () => {
    const path = await envFile();
    const next = `whsec_${'00112233445566778899aabbccddeeff'.repeat(2)}`;
    const added = await addActiveKey({ store: envFileKeyStore({ path }), secretId: SECRET_ID, secret: next, graceMs: 60_000 });
    const { fleet } = recordingFleet(() => ds, true);
    const retired = await retirePreviousKey({ store: envFileKeyStore({ path }), secretId: SECRET_ID, fleet, force: true });
    expect(retired.retiredId).toBe(added.previousId);
    expect(retired.warnings).toEqual([expect.stringMatching(/could not tell the fleet that .* changed \(ECONNREFUSED\)/)]);
  });
});
