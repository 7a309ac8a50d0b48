/**
 * Fuzz target: the signed-content builders, through `sign()` — every profile's `signedPrefix`,
 * `formatHeaders` and `decodeSecret`, and `hmac()`'s `signedContent` templates.
 *
 * Input: a profile (a built-in one, a fuzzed `hmac({...})` configuration, or a fuzzed template),
 * a body (string or bytes), one to four secrets (the profile's own, or fuzzed text or bytes), a
 * timestamp (none, near now, any integer, or a value a caller should not pass: NaN, ±Infinity,
 * negative, fractional, beyond 2^53, a string) and an id (none, fixed or fuzzed).
 *
 * Properties:
 * 1. `hmac()` with a fuzzed template throws only `TypeError`, exactly when the template does not
 *    end with one `{body}` or names a header it was not given; otherwise `signedPrefix` is the
 *    template's text before `{body}` with `{timestamp}` and `{id}` substituted (checked here).
 * 2. `sign()` throws only `TypeError` or `VerificationError` `INVALID_SECRET` (status 500), and
 *    never with a secret in anything the error exposes.
 * 3. What `sign()` returns parses back: one signature per secret, in order, each the HMAC
 *    (node:crypto, computed here) of `signedPrefix(ctx)` + body with that secret's decoded key;
 *    the parsed prefix, timestamp and id are the ones signed.
 * 4. With the profile's own keys, the verifier accepts it with a key that signed (or reports
 *    `KEY_EXPIRED` when only the expired key signed).
 */
import { createHmac } from 'node:crypto';
import { providers, sign, type ProviderProfile } from '@keyturn/core';
import { check, describe, expectNoLeak, expectTypeError, expectVerificationError } from '../lib/checks.ts';
import { T, prepare, type HeaderSpec } from '../lib/headers.ts';
import { pickHmacSpec } from '../lib/hmac-options.ts';
import { Input, latin1 } from '../lib/input.ts';
import * as S from '../lib/secrets.ts';

const BUILT_IN: HeaderSpec[] = [
  { profile: providers.smartcar(), secrets: S.UTF8_SECRETS, keyBytes: S.utf8Key },
  { profile: providers.mobway(), secrets: S.UTF8_SECRETS, keyBytes: S.utf8Key },
  { profile: providers.dataspike(), secrets: S.WHSEC_HEX_SECRETS, keyBytes: S.whsecHexKey },
  { profile: providers.stripe(), secrets: S.STRIPE_SECRETS, keyBytes: S.utf8Key },
  { profile: providers.standardWebhooks(), secrets: S.WHSEC_BASE64_SECRETS, keyBytes: S.whsecBase64Key },
  {
    profile: providers.standardWebhooks({ senderHeaders: 'svix', strictKeyLength: false, name: 'svix' }),
    secrets: S.WHSEC_BASE64_SECRETS,
    keyBytes: S.whsecBase64Key,
  },
  { profile: providers.github(), secrets: S.UTF8_SECRETS, keyBytes: S.utf8Key },
  { profile: providers.shopify(), secrets: S.UTF8_SECRETS, keyBytes: S.utf8Key },
  { profile: providers.slack(), secrets: S.UTF8_SECRETS, keyBytes: S.utf8Key },
];
const prepared = new Map<HeaderSpec, ReturnType<typeof prepare>>();
const preparedFor = (spec: HeaderSpec): ReturnType<typeof prepare> => {
  let p = prepared.get(spec);
  if (p === undefined) prepared.set(spec, (p = prepare(spec)));
  return p;
};

const ODD_TIMESTAMPS: unknown[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  1.5,
  -0,
  2 ** 53,
  1e21,
  '1700000000',
  null,
];
const KEY_IDS = ['k-active', 'k-previous', 'k-pending', 'k-expired'];

/** What hmac() makes of a template: the prefix builder, or the reason it must refuse it. */
function referencePrefix(
  template: string,
  hasTs: boolean,
  hasId: boolean,
  ts: string | undefined,
  id: string | undefined,
): { refuse: boolean; prefix?: string | undefined } {
  if (!template.endsWith('{body}') || template.indexOf('{body}') !== template.length - 6) return { refuse: true };
  const head = template.slice(0, -6);
  if ((head.includes('{timestamp}') && !hasTs) || (head.includes('{id}') && !hasId)) return { refuse: true };
  if (head.length === 0) return { refuse: false, prefix: undefined };
  // Split first, so substituted text is never substituted again.
  const parts = head.split(/(\{timestamp\}|\{id\})/);
  return { refuse: false, prefix: parts.map((p) => (p === '{timestamp}' ? (ts ?? '') : p === '{id}' ? (id ?? '') : p)).join('') };
}

export function fuzz(data: Buffer): void {
  const input = new Input(data);
  const choice = input.byte();
  let spec: HeaderSpec;
  let templateCase: { template: string; hasTs: boolean; hasId: boolean } | undefined;
  if (choice < 160) {
    spec = BUILT_IN[choice % BUILT_IN.length] as HeaderSpec;
  } else if (choice < 220) {
    const picked = pickHmacSpec(input);
    if (picked instanceof TypeError) return;
    spec = picked;
  } else {
    const template = input.text(true);
    const hasTs = (choice & 1) !== 0;
    const hasId = (choice & 2) !== 0;
    let profile: ProviderProfile;
    const expected = referencePrefix(template, hasTs, hasId, undefined, undefined);
    try {
      profile = providers.hmac({
        name: 'fuzz-template',
        header: 'X-Fuzz-Signature',
        encoding: 'hex',
        signedContent: template,
        ...(hasTs ? { timestampHeader: 'X-Fuzz-Timestamp' } : {}),
        ...(hasId ? { idHeader: 'X-Fuzz-Id' } : {}),
      });
    } catch (err) {
      expectTypeError(err);
      check(expected.refuse, () => `hmac() refused template ${JSON.stringify(template)}: ${describe(err)}`);
      return;
    }
    check(!expected.refuse, () => `hmac() accepted template ${JSON.stringify(template)}`);
    spec = { profile, secrets: S.UTF8_SECRETS, keyBytes: S.utf8Key };
    templateCase = { template, hasTs, hasId };
  }
  const { profile } = spec;

  // Body, secrets, timestamp, id.
  const bodyBytes = input.field();
  const body: string | Uint8Array = (choice & 0x10) !== 0 ? new TextDecoder().decode(bodyBytes) : bodyBytes;
  const count = 1 + input.int(4);
  const secrets: (string | Uint8Array)[] = [];
  const own: number[] = [];
  for (let i = 0; i < count; i++) {
    const kind = input.byte();
    if (kind < 160) {
      own.push(kind % 4);
      secrets.push(spec.secrets[kind % 4] as string);
    } else if (kind < 220) secrets.push(input.text(true));
    else secrets.push(input.field().slice());
  }
  const allOwn = own.length === secrets.length;
  const tsKind = input.byte() % 5;
  let timestamp: unknown;
  if (tsKind === 1) timestamp = T + (input.byte() - 128);
  else if (tsKind === 2)
    timestamp = input.byte() * 2 ** 32 + (((input.byte() << 24) | (input.byte() << 16) | (input.byte() << 8) | input.byte()) >>> 0);
  else if (tsKind === 3) timestamp = ODD_TIMESTAMPS[input.int(ODD_TIMESTAMPS.length)];
  else if (tsKind === 4) timestamp = T;
  const idKind = input.byte() % 3;
  const id = idKind === 0 ? undefined : idKind === 1 ? 'evt_fuzz_0001' : input.text(true);

  // 1. The template's prefix, checked independently.
  if (templateCase !== undefined && (typeof timestamp === 'number' || timestamp === undefined)) {
    const ts = timestamp === undefined ? undefined : String(timestamp);
    const expected = referencePrefix(templateCase.template, templateCase.hasTs, templateCase.hasId, ts, id);
    const actual = profile.signedPrefix({ timestamp: timestamp as number | undefined, id });
    check(actual === expected.prefix, () => `signedPrefix ${JSON.stringify(actual)} ≠ template's ${JSON.stringify(expected.prefix)}`);
  }

  // 2. sign(): typed errors only, no secret in them.
  let headers: Record<string, string>;
  const before = Date.now();
  try {
    headers = sign(profile, {
      body,
      secret: secrets.length === 1 ? (secrets[0] as string) : secrets,
      timestamp: timestamp as number,
      ...(id === undefined ? {} : { id }),
    });
  } catch (err) {
    const texts = secrets.map((s) => (typeof s === 'string' ? s : latin1(s)));
    texts.push(...secrets.filter((s): s is Uint8Array => typeof s !== 'string').map((s) => new TextDecoder().decode(s)));
    expectNoLeak(err, texts, 'secret');
    if (err instanceof TypeError) return;
    expectVerificationError(err, ['INVALID_SECRET'], { status: 500, provider: profile.name });
    return;
  }

  // 3. What sign() returns parses back to exactly what was signed.
  let parsed: ReturnType<ProviderProfile['parse']>;
  try {
    parsed = profile.parse(headers);
  } catch (err) {
    throw new Error(
      `PROPERTY: parse rejects sign()'s own headers ${JSON.stringify(headers)} (timestamp ${String(timestamp)}): ${describe(err)}`,
    );
  }
  const usedTs = profile.timestampTolerance === undefined ? undefined : timestamp === undefined ? parsed.timestamp : timestamp;
  if (timestamp === undefined && usedTs !== undefined) {
    check(
      typeof usedTs === 'number' && usedTs * 1000 >= before - 1000 && usedTs * 1000 <= Date.now() + 1000,
      'sign() without a timestamp did not sign now',
    );
  }
  check(parsed.timestamp === usedTs, () => `parsed timestamp ${String(parsed.timestamp)}, signed ${String(usedTs)}`);
  const ctx = { timestamp: usedTs as number | undefined, id };
  const prefix = profile.signedPrefix(ctx);
  check(parsed.prefix === prefix, () => `parsed prefix ${JSON.stringify(parsed.prefix)}, signed ${JSON.stringify(prefix)}`);
  check(parsed.signatures.length === secrets.length, () => `${secrets.length} secrets, ${parsed.signatures.length} signatures`);
  secrets.forEach((s, i) => {
    const key = profile.decodeSecret(s);
    if (typeof s === 'string' && own.includes(spec.secrets.indexOf(s))) {
      check(Buffer.from(key).equals(Buffer.from(spec.keyBytes(s))), 'decodeSecret disagrees with the codec decoded here');
    }
    const h = createHmac(profile.algorithm, key);
    if (prefix !== undefined) h.update(prefix, 'utf8');
    const expected = h.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body).digest();
    check(expected.equals(Buffer.from(parsed.signatures[i] as Uint8Array)), `signature ${i} is not HMAC(key ${i}, signedPrefix + body)`);
  });

  // 4. The verifier accepts it (with the profile's own keys).
  if (allOwn && typeof usedTs !== 'string' && (usedTs === undefined || usedTs === T)) {
    const p = preparedFor(spec);
    const ids = new Set(own.map((i) => KEY_IDS[i]));
    try {
      const result = p.verifier.verifySync({ body, headers });
      check(
        ids.has(result.keyId) && result.keyId !== 'k-expired',
        () => `verified with ${result.keyId}, signed with ${[...ids].join(',')}`,
      );
    } catch (err) {
      const e = expectVerificationError(err, ['KEY_EXPIRED', 'TIMESTAMP_TOO_OLD', 'TIMESTAMP_IN_FUTURE']);
      if (e.code === 'KEY_EXPIRED')
        check(
          own.every((i) => i === 3),
          'KEY_EXPIRED although a key in its window signed',
        );
      else check(timestamp === undefined, () => `${e.code} for a request signed at the verifier's now`);
    }
  }
}
