/**
 * Fuzz target: the env-file reader and writer, through the public `envFileKeyStore` on a real
 * file (in /dev/shm when there is one, so fsync costs nothing).
 *
 * Input: a document (bytes), two new secret values, a grace flag.
 *
 * Properties:
 * 1. `getVersions` (for every secret the document names, and one it does not) resolves or rejects
 *    with a `KeyStoreError` of this store, and nothing it exposes contains a value of the document;
 *    no version id contains its secret; no process warning the store emits contains one either.
 * 2. Write → read: after `rotate(FZ, v1)`, `getVersions(FZ)` gives back exactly `v1` as active;
 *    after `rotate(FZ, v2)`, `v2` active and `v1` previous (ending at now + grace when one is given).
 *    Rejections are `KeyStoreError` / the documented `TypeError`, with neither value in them.
 * 3. Byte for byte: rotating a secret the document does not mention appends its line and changes
 *    nothing else — the file is the document's bytes, a newline if the document had no final one,
 *    the new line and the document's line ending. `rotate(FZ, v1)` again writes nothing; rotating
 *    an existing secret of the document keeps every line of other secrets unchanged and in order;
 *    `retirePrevious(FZ)` after the second rotation gives back the file of the first one with only
 *    FZ's value changed.
 *
 * `*_FILE` variables are read only when they name a plain file in the sandbox directory (two are
 * there): the harness must not read /dev/zero or the machine's files.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecretVersion } from '@keyturn/core';
import { envFileKeyStore } from '@keyturn/store-env/file';
import { check, describe, expectKeyStoreError, expectNoLeak, expectTypeError } from '../lib/checks.ts';
import { Input } from '../lib/input.ts';

const base = (() => {
  try {
    mkdirSync('/dev/shm', { recursive: true });
    return mkdtempSync('/dev/shm/keyturn-fuzz-env-');
  } catch {
    return mkdtempSync(join(tmpdir(), 'keyturn-fuzz-env-'));
  }
})();
writeFileSync(join(base, 's1'), 'file-secret-value-one\n');
writeFileSync(join(base, 's2'), 'file-secret-value-two');
const path = join(base, 'fuzz.env');
const NOW = Date.UTC(2026, 0, 15, 12);
const store = envFileKeyStore({ path, now: () => NOW, lockTimeoutMs: 2_000 });
const signal = new AbortController().signal;
const ASSIGNMENT = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(.*)$/;
const SUFFIX = /_(PREVIOUS|PENDING)(_NOT_BEFORE|_NOT_AFTER|_FILE)?$|_(NOT_BEFORE|NOT_AFTER|FILE)$/;

/** New secret values that need every kind of quoting (and none). */
const VALUES = [
  'plain-value-0123456789',
  'with space inside 01234',
  "it's single-quoted #1",
  'both \' and " quotes 22',
  'hash#inside-the-value-3',
  'back\\slash\\value-4444',
  'dollar$HOME-and-${X}-55',
  'ünïcödé-välüe-666666',
  'emoji-🙂-value-77777777',
  '=equals=at=the=start=8',
];

/** Lines with their terminators (`\n`, `\r\n` or none for the last). */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function names(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = ASSIGNMENT.exec(line);
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** Every secret-like value of the document, for the leak checks (window ends and paths are not secret). */
function valuesOf(vars: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [key, raw] of vars) {
    if (/_(NOT_BEFORE|NOT_AFTER|FILE)$/.test(key)) continue;
    out.push(raw);
    const trimmed = raw.trim().replace(/^['"]|['"]$/g, '');
    out.push(trimmed);
  }
  return out;
}

/** A `*_FILE` value the harness lets the store read. */
const SAFE_FILE = /^['"]?(s1|s2|fuzz\.env|missing)['"]?$/;

async function versions(id: string, leaks: string[]): Promise<SecretVersion[] | undefined> {
  try {
    const vs = await store.getVersions(id, { signal });
    for (const v of vs) {
      check(typeof v.id === 'string' && v.id.length > 0, 'a version without an id');
      check(['active', 'previous', 'pending'].includes(v.role), () => `a version with role ${String(v.role)}`);
      const secret = typeof v.secret === 'string' ? v.secret : Buffer.from(v.secret).toString('latin1');
      check(secret.length > 0, 'an empty secret was returned');
      if (secret.length >= 8) check(!v.id.includes(secret), 'a version id contains its secret');
    }
    return vs;
  } catch (err) {
    expectKeyStoreError(err, 'env-file');
    expectNoLeak(err, leaks, 'document value', 12);
    return undefined;
  }
}

async function rotate(id: string, value: string, grace: number | undefined, leaks: string[]): Promise<boolean> {
  try {
    await store.rotate(id, value, grace === undefined ? { signal } : { signal, previousGraceMs: grace });
    return true;
  } catch (err) {
    if (err instanceof TypeError) expectTypeError(err);
    else expectKeyStoreError(err, 'env-file');
    expectNoLeak(err, [...leaks, value], 'secret', 12);
    return false;
  }
}

const read = (): Buffer => readFileSync(path);

// Process warnings the store emits (a guessable secret, a file readable by others) are logs too.
const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

export async function fuzz(data: Buffer): Promise<void> {
  try {
    await run(data);
  } finally {
    await new Promise((r) => setImmediate(r));
    const emitted = warnings.splice(0);
    const doc = names(Buffer.from(new Input(data).field()).toString('utf8'));
    for (const w of emitted) expectNoLeak(new Error(w), valuesOf(doc), 'document value (in a process warning)', 12);
  }
}

async function run(data: Buffer): Promise<void> {
  const input = new Input(data);
  const flags = input.byte();
  const doc = Buffer.from(input.field());
  // Key ids are PBKDF2 (100 000 iterations, ~50 ms, remembered per secret): most inputs rotate to
  // values from a fixed set, so the fuzzer spends its time in the reader and writer, not in PBKDF2.
  const t1 = input.text(true);
  const t2 = input.text(true);
  const fixed = (flags & 6) !== 0;
  const v1 = fixed ? (VALUES[t1.length % VALUES.length] as string) : t1;
  const v2 = fixed ? (VALUES[(t2.length + 1) % VALUES.length] as string) : t2;
  const grace = (flags & 1) !== 0 ? input.byte() * 60_000 : undefined;
  const text = doc.toString('utf8');
  const vars = names(text);
  // The harness reads no file outside its sandbox.
  for (const [k, v] of vars) if (k.endsWith('_FILE') && !SAFE_FILE.test(v.trim())) return;
  const leaks = valuesOf(vars);

  writeFileSync(path, doc);
  // 1. Reading.
  const ids = new Set([...vars.keys()].map((k) => k.replace(SUFFIX, '')));
  const readable = new Map<string, SecretVersion[] | undefined>();
  for (const id of [...ids].slice(0, 4)) readable.set(id, await versions(id, leaks));
  await versions('FZ_ABSENT', leaks);
  check(read().equals(doc), 'reading changed the file');

  // 2 and 3, on a secret the document does not mention.
  let fz = 'FZ';
  while ([...vars.keys()].some((k) => k === fz || k.startsWith(`${fz}_`))) fz += 'X';
  const ok1 = await rotate(fz, v1, grace, leaks);
  if (!ok1) {
    check(read().equals(doc), 'a failed rotate changed the file');
    return;
  }
  const after1 = read();
  // The document's bytes, then the new line (with the document's line ending).
  const crlf = text.endsWith('\r\n');
  const ending = crlf ? '\r\n' : '\n';
  const docText = text;
  const afterText = after1.toString('utf8');
  check(
    after1.subarray(0, doc.length).equals(doc),
    () =>
      `rotate(${fz}) changed the document's bytes: ${JSON.stringify(docText.slice(0, 200))} → ${JSON.stringify(afterText.slice(0, 200))}`,
  );
  const added = afterText.slice(docText.length);
  const expectedShape =
    doc.length === 0 || text.endsWith('\n')
      ? new RegExp(`^${fz}=[^\\r\\n]*${ending === '\r\n' ? '\\r\\n' : '\\n'}$`)
      : new RegExp(`^\\r?\\n${fz}=[^\\r\\n]*$`);
  check(
    expectedShape.test(added),
    () => `rotate(${fz}) added ${JSON.stringify(added)} to a document ending ${JSON.stringify(docText.slice(-4))}`,
  );
  const vs1 = await versions(fz, leaks);
  check(vs1 !== undefined, () => `the file rotate(${fz}) wrote cannot be read back`);
  const active1 = vs1.find((v) => v.role === 'active');
  check(active1?.secret === v1, () => `wrote ${JSON.stringify(v1)}, read back ${JSON.stringify(active1?.secret)}`);
  check(vs1.length === 1, () => `a fresh secret has ${vs1.length} versions`);

  // Idempotent: the same value again writes nothing.
  check(await rotate(fz, v1, grace, leaks), 'rotate with the active value failed');
  check(read().equals(after1), 'rotate with the active value rewrote the file');

  // Second rotation: v2 active, v1 previous.
  const ok2 = await rotate(fz, v2, grace, leaks);
  if (ok2 && v2 !== v1) {
    const vs2 = await versions(fz, leaks);
    check(vs2 !== undefined, 'the file of the second rotation cannot be read back');
    const a = vs2.find((v) => v.role === 'active');
    const p = vs2.find((v) => v.role === 'previous');
    check(a?.secret === v2, () => `second rotation: active ${JSON.stringify(a?.secret)}, wrote ${JSON.stringify(v2)}`);
    check(p?.secret === v1, () => `second rotation: previous ${JSON.stringify(p?.secret)}, was ${JSON.stringify(v1)}`);
    check(
      p.notAfter === (grace === undefined ? undefined : NOW + grace),
      () => `previous ends at ${String(p.notAfter)}, grace ${String(grace)}`,
    );
    const after2 = read().toString('utf8');
    check(read().subarray(0, doc.length).equals(doc), "the second rotation changed the document's bytes");

    // retirePrevious: the file of the first rotation, with only FZ's value changed.
    const retired = await store.retirePrevious(fz).catch((err: unknown) => {
      expectKeyStoreError(err, 'env-file');
      throw new Error(`PROPERTY: retirePrevious failed after a rotation: ${describe(err)}`);
    });
    check(retired.retiredId === p.id, 'retirePrevious retired another key');
    const after3 = read().toString('utf8');
    const isFz = (l: string): boolean => l.startsWith(`${fz}=`);
    const content = (l: string): string => l.replace(/\r?\n$/, '');
    const newFz = content(splitLines(after2).find(isFz) as string);
    const expected3 = splitLines(afterText)
      .map((l) => (isFz(l) ? newFz + l.slice(content(l).length) : l))
      .join('');
    check(
      after3 === expected3,
      () => `retirePrevious left ${JSON.stringify(after3.slice(-120))}, expected ${JSON.stringify(expected3.slice(-120))}`,
    );
  }

  // 3b. Rotating a secret the document has: other secrets' lines unchanged and in order.
  const existing = [...readable.entries()].find(([, v]) => v !== undefined && v.some((x) => x.role === 'active'))?.[0];
  if (existing !== undefined && !vars.has(`${existing}_FILE`) && !vars.has(`${existing}_PREVIOUS_FILE`)) {
    writeFileSync(path, doc);
    if (await rotate(existing, v1, grace, leaks)) {
      const family = (line: string): boolean => {
        const m = ASSIGNMENT.exec(line.replace(/\r?\n$/, ''));
        return m !== null && (m[1] === existing || (m[1] as string).startsWith(`${existing}_`));
      };
      const strip = (l: string): string => l.replace(/\r?\n$/, '');
      const before = splitLines(text)
        .filter((l) => !family(l))
        .map(strip);
      const afterLines = splitLines(read().toString('utf8'))
        .filter((l) => !family(l))
        .map(strip);
      check(JSON.stringify(before) === JSON.stringify(afterLines), () => `rotate(${existing}) changed other lines`);
      const vs = await versions(existing, leaks);
      check(vs?.find((v) => v.role === 'active')?.secret === v1, () => `rotate(${existing}) did not read back`);
    }
  }
}
