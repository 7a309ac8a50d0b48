/**
 * Cases that `main.ts` runs in a child process, printing the results of one body size as JSON:
 *
 * - `--suite=web`: started with `--conditions=workerd`, so `@keyturn/core` resolves its `#crypto`
 *   import to the WebCrypto backend, exactly as a Workers bundle does;
 * - `--suite=cold`: the cloud SDKs and test servers, kept out of the main process so its heap stays
 *   small and the full GC before each measurement stays cheap.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { createVerifier, providers, VerificationError } from '@keyturn/core';
import { coldCases } from './cold.ts';
import { runSize } from './run.ts';
import { secret, signatureHex, signHeaders, unixNow, type SchemeName } from './schemes.ts';
import { assert, type CaseDef } from './types.ts';

const short = { smartcar: 'sc', dataspike: 'ds' } as const;
const encoder = new TextEncoder();

/** Raw `crypto.subtle.sign` with a cached `CryptoKey` over the signed content, hex decode, compare. */
function webFloor(scheme: SchemeName): CaseDef {
  const id = `floor-web-${short[scheme]}`;
  return {
    id,
    group: 'webcrypto',
    what: `WebCrypto floor (${scheme}): \`await crypto.subtle.sign\` with a cached CryptoKey over ${scheme === 'smartcar' ? 'the body' : '`"{t}."` + body (encoded and concatenated per call)'} + hex decode + compare`,
    floor: id,
    async prepare(fx) {
      const s = secret(scheme, 1);
      const key = await crypto.subtle.importKey('raw', new Uint8Array(s.key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      let t = unixNow();
      let sigHex = '';
      const op = async (body: Uint8Array): Promise<boolean> => {
        let data = body;
        if (scheme === 'dataspike') {
          const prefix = encoder.encode(`${t}.`);
          data = new Uint8Array(prefix.length + body.length);
          data.set(prefix, 0);
          data.set(body, prefix.length);
        }
        const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, data as Uint8Array<ArrayBuffer>));
        const sig = Buffer.from(sigHex, 'hex');
        return sig.length === mac.length && timingSafeEqual(mac, sig);
      };
      return {
        fn: () => op(fx.bytes),
        refresh() {
          t = unixNow();
          sigHex = signatureHex(scheme, signHeaders(scheme, s, fx.bytes, t));
        },
        async check() {
          assert((await op(fx.bytes)) === true, `${id} valid`);
          assert((await op(fx.tampered)) === false, `${id} tampered`);
        },
      };
    },
  };
}

function webKeyturn(scheme: SchemeName): CaseDef {
  const id = `kt-web-${short[scheme]}-verify`;
  return {
    id,
    group: 'webcrypto',
    what: `keyturn \`await verify\` (${scheme}) on the WebCrypto backend (\`--conditions=workerd\`), static key`,
    floor: `floor-web-${short[scheme]}`,
    async prepare(fx) {
      const s = secret(scheme, 1);
      const verifier = createVerifier({
        provider: scheme === 'smartcar' ? providers.smartcar() : providers.dataspike(),
        keys: [{ id: s.id, secret: s.stored, role: 'active' }],
      });
      let request = { body: fx.bytes, headers: signHeaders(scheme, s, fx.bytes, unixNow()) };
      return {
        fn: () => verifier.verify(request),
        refresh() {
          request = { body: fx.bytes, headers: signHeaders(scheme, s, fx.bytes, unixNow()) };
        },
        async check() {
          // The WebCrypto backend has no synchronous HMAC: proof that this is the web build.
          let syncError: unknown;
          try {
            verifier.verifySync(request);
          } catch (err) {
            syncError = err;
          }
          assert(syncError instanceof VerificationError && syncError.code === 'KEYSTORE_UNAVAILABLE', `${id}: not the WebCrypto backend`);
          assert((await verifier.verify(request)).keyId === s.id, `${id} valid`);
          let rejected: unknown;
          try {
            await verifier.verify({ body: fx.tampered, headers: request.headers });
          } catch (err) {
            rejected = err;
          }
          assert(rejected instanceof VerificationError && rejected.code === 'NO_MATCHING_KEY', `${id} tampered`);
        },
      };
    },
  };
}

const args = new Map(
  process.argv
    .slice(2)
    .map((a) => /^--([^=]+)(?:=(.*))?$/.exec(a)!)
    .map((m) => [m[1]!, m[2] ?? 'true'] as const),
);
const size = Number(args.get('size') ?? 1024);
const suite = args.get('suite') ?? 'web';
const cases =
  suite === 'web' ? [webFloor('smartcar'), webKeyturn('smartcar'), webFloor('dataspike'), webKeyturn('dataspike')] : coldCases();
const results = await runSize(
  cases,
  size,
  {
    quick: args.has('quick'),
    rounds: Number(args.get('rounds') ?? 8),
    chunks: Number(args.get('chunks') ?? 4),
    chunkMs: Number(args.get('chunk-ms') ?? 50),
    mem: !args.has('no-mem'),
    time: true,
  },
  suite === 'web' ? ' (WebCrypto child, --conditions=workerd)' : ' (cold-path child)',
);
process.stdout.write(JSON.stringify(results));
