#!/usr/bin/env node
// Writes the hand-made seeds of every target into corpus/<target>/seed-* (the committed corpus
// also holds inputs merged from long runs, named by their SHA-1). Needs the built packages.
//
//   node lib/seeds.mjs
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { providers, sign } from '@keyturn/core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const T = 1_764_000_000;
const bytes = (label, n = 32) => createHash('sha512').update(label).digest().subarray(0, n);
const UTF8 = [
  'amt-active-0f3c9a7e5b1d4c2a',
  'amt-previous-8e2b6d4f1a3c5e7b',
  'amt-pending-5c1e9a3b7d2f4e6a',
  'amt-expired-2d4f6a8c1e3b5d7f',
];
const HEX = UTF8.map((s) => `whsec_${bytes(s).toString('hex')}`);
const B64 = UTF8.map((s) => `whsec_${bytes(s).toString('base64')}`);
const STRIPE = UTF8.map((s) => `whsec_${bytes(`stripe ${s}`, 24).toString('base64url')}`);

const Z = Buffer.from([0]);
const b = (...parts) =>
  Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.isBuffer(p) ? p : Buffer.from(p, 'latin1'))));

function write(target, name, data) {
  const dir = join(root, 'corpus', target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `seed-${name}`), data);
}

const BODIES = [
  '{"eventType":"VEHICLE_STATE","eventId":"e1","data":{}}',
  '',
  'a',
  '{"id":"evt_1","object":"event"}',
  'payload=%7B%22type%22%3A%22block_actions%22%7D',
];
const profiles = {
  'header-smartcar': { profile: providers.smartcar(), secrets: UTF8 },
  'header-mobway': { profile: providers.mobway(), secrets: UTF8 },
  'header-dataspike': { profile: providers.dataspike(), secrets: HEX },
  'header-stripe': { profile: providers.stripe(), secrets: STRIPE },
  'header-standard-webhooks': { profile: providers.standardWebhooks(), secrets: B64, id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' },
  'header-github': { profile: providers.github(), secrets: UTF8, id: '72d3162e-cc78-11e3-81ab-4c9367dc0958', extra: ['x-hub-signature'] },
  'header-shopify': { profile: providers.shopify(), secrets: UTF8, id: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043' },
  'header-slack': { profile: providers.slack(), secrets: UTF8 },
};
for (const [target, p] of Object.entries(profiles)) {
  const names = [...p.profile.headerNames, ...(p.extra ?? []), 'content-type'];
  BODIES.forEach((body, i) => {
    // mutate mode, pristine: signed by the active key, then by active + previous (multi-signature schemes).
    write(target, `signed-${i}`, b(1, body, Z, 0x01, 0));
    write(target, `signed-two-${i}`, b(1 | ((i % 4) << 2), body, Z, 0x03, 0));
    // mutate mode with one operation each: flip a case, delete a char, repeat the header, drop it.
    write(target, `mutated-${i}`, b(2, body, Z, 0x01, 0, 3, 0, 10 + i, 0, 2, 0, 3 * i, 0));
    write(target, `repeated-${i}`, b(3, body, Z, 0x02, 0, 5, 0, 0, 1));
    // raw mode with the real signed headers: verifies without the mutation machinery.
    const headers = sign(p.profile, { body, secret: p.secrets[i % 3], timestamp: T, id: p.id });
    const fields = Object.entries(headers).map(([k, v]) => b(names.indexOf(k), v));
    write(target, `raw-${i}`, Buffer.concat([b(0 | ((i % 4) << 2), body, Z), ...fields.flatMap((f, j) => (j === 0 ? [f] : [Z, f]))]));
  });
  write(target, 'signed-expired-only', b(1, 'x', Z, 0x08, 0));
  write(target, 'signed-old', b(1, 'x', Z, 0x01, 201));
  write(target, 'signed-future', b(1, 'x', Z, 0x01, 255));
  write(target, 'raw-empty', b(0));
}
// header-hmac: four option bytes (encoding/algorithm, prefix, separator, template/codec) first.
for (let i = 0; i < 12; i++) {
  const opts = b((i * 37) & 0xff, i % 5, [0, 1, 3, 4][i % 4], (i * 53) & 0xff);
  write('header-hmac', `signed-${i}`, Buffer.concat([opts, b(1, BODIES[i % BODIES.length], Z, 0x03, 0)]));
  write('header-hmac', `mutated-${i}`, Buffer.concat([opts, b(2, BODIES[i % BODIES.length], Z, 0x01, 0, i % 10, 0, i, 65)]));
}

// signed-content: profile choice, body, count, secret kinds, timestamp kind, id kind.
for (let c = 0; c < 9; c++) {
  write('signed-content', `builtin-${c}`, b(c, BODIES[c % BODIES.length], Z, 0, 0, 4, 1));
  write('signed-content', `builtin-multi-${c}`, b(c | 0x10, BODIES[c % BODIES.length], Z, 2, 0, 1, 2, 4, 1));
  write('signed-content', `builtin-fuzzed-secret-${c}`, b(c, 'body', Z, 0, 170, 'my-own-secret-value', Z, 1, 10, 2, 'evt_x'));
}
write('signed-content', 'hmac-0', b(170, 0, 0, 0, 0, 'body', Z, 0, 0, 4, 1));
write('signed-content', 'hmac-1', b(171, 3, 2, 1, 0x88, 'body', Z, 1, 0, 1, 4, 1));
for (const [i, tpl] of [
  '{body}',
  '{timestamp}.{body}',
  '{id}.{timestamp}.{body}',
  'v0:{timestamp}:{body}',
  'x{id}{body}',
  '{body}{body}',
  'no body',
  '{timestamp}',
].entries()) {
  write('signed-content', `template-${i}`, b(223, tpl, Z, 'body', Z, 0, 0, 4, 1));
}
write('signed-content', 'odd-timestamp', b(8, 'x', Z, 0, 0, 3, 4, 0));
write('signed-content', 'bytes-secret', b(0, 'x', Z, 0, 230, 'raw-bytes-secret-material', Z, 0, 0));

// encoding: flags, text, slice bounds, bytes to encode.
for (const [i, s] of [
  'deadbeef',
  'DEADbeef',
  'abc',
  '',
  'AAAA',
  'AA==',
  'AQ',
  'AQ==',
  'Zm9vYmFy',
  'Zm9vYg==',
  'Zm9vYh==',
  '_-8',
  '-_-_',
  'YQ',
  'YR',
  '====',
  'a b',
  '\u00ff\u00fe',
].entries()) {
  write('encoding', `text-${i}`, b(0, s, Z, 1, 3, 'rest-bytes'));
}

// env-file: flags (bit 0: grace), document, v1, v2, grace minutes.
const docs = [
  '',
  'A=1\n',
  '# webhooks\nexport SMARTCAR_AMT=amt-current-value-1234\nSMARTCAR_AMT_PREVIOUS=amt-old-value-5678\nSMARTCAR_AMT_PREVIOUS_NOT_AFTER=2026-12-01T00:00:00Z\n',
  'Q=\'single quoted value\'\nD="double \\"quoted\\" \\\\ value"\n',
  'NO_FINAL_NEWLINE=value',
  '\n\n# only comments\n  # indented\n',
  'K=v # trailing comment\n',
  'F_FILE=s1\nG_FILE=s2\n',
  'X=1\nX=2\n',
  'not an assignment\n',
  'P=pending-test\nP_PENDING=new-pending-value\nP_PENDING_NOT_BEFORE=1700000000000\n',
];
docs.forEach((d, i) => {
  write('env-file', `doc-${i}`, b(i & 1, Buffer.from(d, 'utf8'), Z, 'new-secret-value-one', Z, 'new-secret-value-two', Z, 30));
});
write('env-file', 'bad-values', b(0, 'A=1\n', Z, ' leading-space', Z, 'has\ttab'));
write('env-file', 'same-values', b(1, 'A=1\n', Z, 'same-value-twice!!', Z, 'same-value-twice!!', Z, 1));
write('env-file', 'quote-needed', b(0, 'A=1\n', Z, "it's a #secret", Z, 'with "double" quotes', Z));

// body readers: flags, limit index, chunk count, chunks..., content-length kind, extra.
const chunks = (...cs) => Buffer.concat(cs.flatMap((c, i) => (i === 0 ? [Buffer.from(c)] : [Z, Buffer.from(c)])));
for (let f = 0; f < 7; f++) {
  write('body-node', `copy-${f}`, b(f, 0, 3, chunks('{"a":', '1', '}'), Z, 1, 1, 0));
  write('body-node', `small-limit-${f}`, b(f, 4, 2, chunks('0123456789', 'abcdef'), Z, 0, 0));
}
write('body-node', 'consumed', b(0x10, 0, 1, 'x', Z, 0));
write('body-node', 'consumed-parsed', b(0x18, 0, 1, 'x', Z, 0, 0, 1));
write('body-node', 'error', b(0x20, 0, 2, chunks('ab', 'cd'), Z, 0));
write('body-node', 'aborted', b(0x40, 0, 2, chunks('ab', 'cd'), Z, 0));
write('body-node', 'declared-over', b(0, 3, 1, 'x', Z, 2, 200));
write('body-node', 'big-chunk', b(0, 6, 1, b(251, 'xyz'), Z, 0));
for (let k = 0; k < 5; k++) {
  write('body-fetch', `kind-${k}`, b(k, 0, 3, chunks('{"a":', '1', '}'), Z, 1));
  write('body-fetch', `handler-${k}`, b(k | 0x40, 0, 2, chunks('hello ', 'world'), Z, 1));
  write('body-fetch', `consumed-${k}`, b(k | 0x20, 0, 1, 'x', Z, 0));
}
write('body-fetch', 'declared-over', b(0, 3, 1, 'x', Z, 2, 200));
write('body-fetch', 'junk-length', b(2, 0, 1, 'abc', Z, 4, 3));
console.log('seeds written');
