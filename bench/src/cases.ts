/**
 * Every benchmark case: the floors, keyturn (static keys, warm cache, rotation, rejections) and
 * the peers on the same job. Each case verifies a valid request and rejects a tampered one before
 * it is timed.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { verify as octokitVerify, verifyWithFallback as octokitVerifyWithFallback } from '@octokit/webhooks-methods';
import type { KeyStore, SecretVersion, Verifier } from '@keyturn/core';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import { assert, type CaseDef } from './types.ts';
import { asReceived, prefixOf, rotation, secret, signatureHex, signHeaders, unixNow, type SchemeName } from './schemes.ts';

/**
 * keyturn as built (`dist`), or another build of it for A/B runs: `KEYTURN_BENCH_CORE=/path/to/core.mjs`
 * (for example an esbuild bundle of a working tree's `packages/core/src/index.ts`).
 */
const core: typeof import('@keyturn/core') = await import(process.env['KEYTURN_BENCH_CORE'] ?? '@keyturn/core');
const { createVerifier, providers, VerificationError } = core;

/** The floors every case is paired with. */
export type FloorId = 'floor-sc-sync' | 'floor-sc-async' | 'floor-ds-sync' | 'floor-ds-async';

const short = { smartcar: 'sc', dataspike: 'ds' } as const;
const provider = (scheme: SchemeName) => (scheme === 'smartcar' ? providers.smartcar() : providers.dataspike());

async function rejects(op: () => unknown, message: string, code?: string): Promise<void> {
  let error: unknown;
  let result: unknown;
  try {
    result = await op();
  } catch (err) {
    error = err;
  }
  if (error === undefined) {
    assert(result === false, `${message}: accepted a tampered request`);
    return;
  }
  if (code !== undefined) {
    assert(error instanceof VerificationError && error.code === code, `${message}: expected ${code}, got ${String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Floors: one node:crypto HMAC over the signed content + hex decode + timingSafeEqual.

function floorCase(scheme: SchemeName, mode: 'sync' | 'async'): CaseDef {
  const id = `floor-${short[scheme]}-${mode}` as FloorId;
  const content = scheme === 'smartcar' ? 'body' : '`"{t}."` + body (2 × update)';
  return {
    id,
    group: 'floor',
    what: `node:crypto floor (${scheme}): HMAC over ${content} + hex decode + timingSafeEqual${mode === 'async' ? ', in an async function, awaited' : ''}`,
    // The sync floor is paired with itself (the noise row); the async floor with the sync one
    // (the cost of an await alone).
    floor: `floor-${short[scheme]}-sync`,
    async prepare(fx) {
      const s = secret(scheme, 1);
      const key = s.key;
      let prefix: string | undefined;
      let sigHex = '';
      const sync =
        scheme === 'smartcar'
          ? (body: Buffer): boolean => {
              const digest = createHmac('sha256', key).update(body).digest();
              const sig = Buffer.from(sigHex, 'hex');
              return sig.length === digest.length && timingSafeEqual(digest, sig);
            }
          : (body: Buffer): boolean => {
              const digest = createHmac('sha256', key)
                .update(prefix as string)
                .update(body)
                .digest();
              const sig = Buffer.from(sigHex, 'hex');
              return sig.length === digest.length && timingSafeEqual(digest, sig);
            };
      const asyncOp = async (body: Buffer): Promise<boolean> => sync(body);
      const op = mode === 'sync' ? sync : asyncOp;
      const body = fx.bytes;
      return {
        fn: () => op(body),
        refresh() {
          const t = unixNow();
          prefix = prefixOf(scheme, t);
          sigHex = signatureHex(scheme, signHeaders(scheme, s, body, t));
        },
        async check() {
          assert((await op(fx.bytes)) === true, `${id} rejected a valid request`);
          assert((await op(fx.tampered)) === false, `${id} accepted a tampered request`);
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// keyturn

function memoryStore(versions: readonly SecretVersion[]): KeyStore {
  return { name: 'memory', getVersions: async () => versions.map((v) => ({ ...v })) };
}

interface KeyturnSpec {
  scheme: SchemeName;
  keys: 'static' | 'cache';
  n: number;
  signer: 'newest' | 'oldest';
  mode: 'verify' | 'sync';
}

function keyturnCase(spec: KeyturnSpec): CaseDef {
  const { scheme, keys, n, signer, mode } = spec;
  const where = n === 1 ? keys : `rot${n}-${signer === 'newest' ? 'new' : 'old'}`;
  const id = `kt-${short[scheme]}-${where}-${mode}`;
  const call = mode === 'verify' ? '`await verify`' : '`verifySync`';
  const how =
    n === 1
      ? keys === 'static'
        ? 'static key'
        : 'warm cache over a store'
      : `rotation, ${n} keys, sender on the ${signer} key (steady state, matched key first)`;
  return {
    id,
    group: 'keyturn',
    what: `keyturn ${call} (${scheme}), ${how}`,
    floor: `floor-${short[scheme]}-${mode === 'verify' ? 'async' : 'sync'}`,
    async prepare(fx) {
      const { versions, newest, oldest } = rotation(scheme, n, Date.now());
      const sender = signer === 'newest' ? newest : oldest;
      const verifier: Verifier = createVerifier({
        provider: provider(scheme),
        keys: keys === 'static' ? versions : memoryStore(versions),
        secretId: 'bench',
      });
      if (keys === 'cache') await verifier.warm();
      let request = { body: fx.bytes, headers: signHeaders(scheme, sender, fx.bytes, unixNow()) };
      const fn = mode === 'verify' ? () => verifier.verify(request) : () => verifier.verifySync(request);
      return {
        fn,
        refresh() {
          request = { body: fx.bytes, headers: signHeaders(scheme, sender, fx.bytes, unixNow()) };
        },
        async check() {
          const headers = signHeaders(scheme, sender, fx.bytes, unixNow());
          const result =
            mode === 'verify' ? await verifier.verify({ body: fx.bytes, headers }) : verifier.verifySync({ body: fx.bytes, headers });
          assert(result.keyId === sender.id, `${id} matched ${result.keyId}, expected ${sender.id}`);
          const bad = { body: fx.tampered, headers };
          await rejects(() => (mode === 'verify' ? verifier.verify(bad) : verifier.verifySync(bad)), id, 'NO_MATCHING_KEY');
          // Leave it in steady state: the sender's key is the last matched one.
          assert(verifier.verifySync({ body: fx.bytes, headers }).keyId === sender.id, `${id}: steady state`);
        },
        dispose: () => verifier.dispose(),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The fleet ledger on the hot path: the same warm-cache verifier with `fleet: redisFleet(...)`, paired
// with the one without (its `floor` is the no-fleet case), so the ratio is the ledger's own cost. The
// fleet is the real `redisFleet` (flush every second, heartbeat, batch building) on an in-process
// adapter that answers at once, so no network time is counted, only what the process does.

function instantRedis(): import('@keyturn/redis').RedisFleetCommands {
  return {
    eval: async (script) => (script.includes("'GET'") ? '0' : -2),
    publish: async () => 0,
    subscribe: async () => ({ close: async () => undefined }),
  };
}

function fleetCase(scheme: SchemeName, mode: 'verify' | 'sync'): CaseDef {
  const id = `kt-${short[scheme]}-fleet-${mode}`;
  const call = mode === 'verify' ? '`await verify`' : '`verifySync`';
  return {
    id,
    group: 'fleet',
    what: `keyturn ${call} (${scheme}), warm cache, with \`fleet: redisFleet()\` (the usage ledger: counted in memory, flushed every second), vs the same without a fleet`,
    floor: `kt-${short[scheme]}-cache-${mode}`,
    async prepare(fx) {
      const { redisFleet } = await import('@keyturn/redis');
      const { versions, newest } = rotation(scheme, 1, Date.now());
      const fleet = redisFleet({ client: instantRedis(), flushIntervalMs: 1_000 });
      const verifier: Verifier = createVerifier({ provider: provider(scheme), keys: memoryStore(versions), secretId: 'bench', fleet });
      await verifier.warm();
      let request = { body: fx.bytes, headers: signHeaders(scheme, newest, fx.bytes, unixNow()) };
      const fn = mode === 'verify' ? () => verifier.verify(request) : () => verifier.verifySync(request);
      return {
        fn,
        refresh() {
          request = { body: fx.bytes, headers: signHeaders(scheme, newest, fx.bytes, unixNow()) };
        },
        async check() {
          const headers = signHeaders(scheme, newest, fx.bytes, unixNow());
          const result =
            mode === 'verify' ? await verifier.verify({ body: fx.bytes, headers }) : verifier.verifySync({ body: fx.bytes, headers });
          assert(result.keyId === newest.id, `${id} matched ${result.keyId}`);
          await rejects(
            () =>
              mode === 'verify' ? verifier.verify({ body: fx.tampered, headers }) : verifier.verifySync({ body: fx.tampered, headers }),
            id,
            'NO_MATCHING_KEY',
          );
          await fleet.flush();
          const pending = fleet.pendingKeys;
          assert(pending === 0, `${id}: the ledger flushed (${pending} keys pending)`);
        },
        async dispose() {
          await verifier.dispose();
          await fleet.close();
        },
      };
    },
  };
}

type RejectKind = 'forged' | 'stale' | 'malformed';

function rejectCase(scheme: SchemeName, kind: RejectKind, n: number): CaseDef {
  const id = `kt-${short[scheme]}-${kind}${kind === 'forged' ? n : ''}-sync`;
  const code = { forged: 'NO_MATCHING_KEY', stale: 'TIMESTAMP_TOO_OLD', malformed: 'MALFORMED_SIGNATURE' }[kind];
  const what = {
    forged: `a forged signature (right shape), ${n} keys in their windows: rejected after ${n} HMACs`,
    stale: 'a timestamp 1 h old: rejected before any HMAC',
    malformed: 'a signature that is not 64 hex characters: rejected before any HMAC',
  }[kind];
  return {
    id,
    group: 'reject',
    what: `keyturn \`verifySync\` (${scheme}), ${what} (${code}), error caught`,
    floor: `floor-${short[scheme]}-sync`,
    async prepare(fx) {
      const { versions, newest } = rotation(scheme, n, Date.now());
      const verifier = createVerifier({ provider: provider(scheme), keys: versions, secretId: 'bench' });
      const forgedKey = { ...secret(scheme, 999), key: randomBytes(32) };
      const makeHeaders = (): Record<string, string> => {
        if (kind === 'forged') return signHeaders(scheme, forgedKey, fx.bytes, unixNow());
        if (kind === 'stale') return signHeaders(scheme, newest, fx.bytes, unixNow() - 3600);
        const h = signHeaders(scheme, newest, fx.bytes, unixNow());
        const name = Object.keys(h)[0]!;
        return { [name]: asReceived(h[name]!.slice(0, -2) + 'zz') };
      };
      let request = { body: fx.bytes, headers: makeHeaders() };
      return {
        fn: () => {
          try {
            return verifier.verifySync(request);
          } catch (err) {
            return err;
          }
        },
        refresh() {
          request = { body: fx.bytes, headers: makeHeaders() };
        },
        async check() {
          const ok = verifier.verifySync({ body: fx.bytes, headers: signHeaders(scheme, newest, fx.bytes, unixNow()) });
          assert(ok.keyId === newest.id, `${id}: the valid request`);
          await rejects(() => verifier.verifySync({ body: fx.bytes, headers: makeHeaders() }), id, code);
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Peers on the same job.

function stripeCase(): CaseDef {
  return {
    id: 'peer-stripe-verifyheader',
    group: 'peer',
    what: 'stripe 23.1.0 `webhooks.signature.verifyHeader` (Buffer body; `t=…,v1=…` over `"{t}." + body`, like dataspike)',
    floor: 'floor-ds-sync',
    async prepare(fx) {
      const signature = new Stripe('sk_test_keyturn_bench').webhooks.signature;
      assert(signature !== null, 'stripe.webhooks.signature is set');
      const whsec = `whsec_${randomBytes(24).toString('base64url')}`;
      const key = Buffer.from(whsec, 'utf8');
      const header = (body: Buffer) => {
        const t = unixNow();
        return asReceived(`t=${t},v1=${createHmac('sha256', key).update(`${t}.`).update(body).digest('hex')}`);
      };
      let h = header(fx.bytes);
      return {
        fn: () => signature.verifyHeader(fx.bytes, h, whsec, 300),
        refresh() {
          h = header(fx.bytes);
        },
        async check() {
          assert(signature.verifyHeader(fx.bytes, header(fx.bytes), whsec, 300) === true, 'stripe valid');
          await rejects(() => signature.verifyHeader(fx.tampered, header(fx.bytes), whsec, 300), 'stripe');
        },
      };
    },
  };
}

function standardWebhooksCase(lib: 'svix' | 'standardwebhooks'): CaseDef {
  const label =
    lib === 'svix' ? 'svix 2.5.0 `Webhook.verify` (no JSON.parse)' : 'standardwebhooks 1.1.1 `Webhook.verify` (default: JSON.parse)';
  return {
    id: `peer-${lib === 'svix' ? 'svix' : 'stdwh'}-verify`,
    group: 'peer',
    what: `${label}, Buffer body; base64 HMAC over \`"{id}.{t}." + body\``,
    floor: 'floor-ds-sync',
    async prepare(fx) {
      const raw = randomBytes(32);
      const whsec = `whsec_${raw.toString('base64')}`;
      const wh = lib === 'svix' ? new SvixWebhook(whsec) : new StandardWebhook(whsec);
      const p = lib === 'svix' ? 'svix' : 'webhook';
      const headers = (body: Buffer): Record<string, string> => {
        const t = unixNow();
        const id = 'msg_2mYv8Qb1nJ3kZp0XfG4hT6wR9cE';
        const sig = createHmac('sha256', raw).update(`${id}.${t}.`).update(body).digest('base64');
        return { [`${p}-id`]: asReceived(id), [`${p}-timestamp`]: asReceived(String(t)), [`${p}-signature`]: asReceived(`v1,${sig}`) };
      };
      let h = headers(fx.bytes);
      return {
        fn: () => wh.verify(fx.bytes, h),
        refresh() {
          h = headers(fx.bytes);
        },
        async check() {
          wh.verify(fx.bytes, headers(fx.bytes)); // throws if invalid
          await rejects(() => wh.verify(fx.tampered, headers(fx.bytes)), lib);
        },
      };
    },
  };
}

function octokitCase(fallback: boolean): CaseDef {
  return {
    id: fallback ? 'peer-octokit-fallback' : 'peer-octokit-verify',
    group: 'peer',
    what: fallback
      ? '@octokit/webhooks-methods 6.0.0 `verifyWithFallback`, 2 secrets, sender on the fallback (string body, async)'
      : '@octokit/webhooks-methods 6.0.0 `verify` (string body, `sha256=<hex>` of the body, async)',
    floor: 'floor-sc-sync',
    async prepare(fx) {
      const current = randomBytes(20).toString('hex');
      const old = randomBytes(20).toString('hex');
      const signer = fallback ? old : current;
      const sig = (body: Buffer) => asReceived(`sha256=${createHmac('sha256', signer).update(body).digest('hex')}`);
      const s = sig(fx.bytes);
      const op = fallback
        ? (payload: string, signature: string) => octokitVerifyWithFallback(current, payload, signature, [old])
        : (payload: string, signature: string) => octokitVerify(current, payload, signature);
      return {
        fn: () => op(fx.text, s),
        refresh() {},
        async check() {
          assert((await op(fx.text, s)) === true, 'octokit valid');
          assert((await op(fx.tamperedText, s)) === false, 'octokit tampered');
        },
      };
    },
  };
}

/** Every case, in table order. */
export function allCases(): CaseDef[] {
  const cases: CaseDef[] = [];
  for (const scheme of ['smartcar', 'dataspike'] as const) {
    cases.push(floorCase(scheme, 'sync'), floorCase(scheme, 'async'));
  }
  for (const scheme of ['smartcar', 'dataspike'] as const) {
    for (const mode of ['verify', 'sync'] as const) {
      cases.push(keyturnCase({ scheme, keys: 'static', n: 1, signer: 'newest', mode }));
      cases.push(keyturnCase({ scheme, keys: 'cache', n: 1, signer: 'newest', mode }));
      for (const n of [2, 8]) {
        for (const signer of ['newest', 'oldest'] as const) cases.push(keyturnCase({ scheme, keys: 'static', n, signer, mode }));
      }
    }
  }
  for (const scheme of ['smartcar', 'dataspike'] as const)
    for (const mode of ['sync', 'verify'] as const) cases.push(fleetCase(scheme, mode));
  cases.push(rejectCase('smartcar', 'forged', 8), rejectCase('dataspike', 'forged', 8));
  cases.push(rejectCase('dataspike', 'stale', 8), rejectCase('smartcar', 'malformed', 8));
  cases.push(stripeCase(), standardWebhooksCase('svix'), standardWebhooksCase('standardwebhooks'), octokitCase(false), octokitCase(true));
  return cases;
}
