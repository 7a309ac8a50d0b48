'use strict';
/**
 * Makes Jazzer.js's prebuilt libFuzzer addon load on glibc < 2.38 (Debian 12 has 2.36).
 *
 * `@jazzer.js/fuzzer@4.0.0` ships `prebuilds/fuzzer-linux-x64.node` inside the npm package (no
 * download, no source), but it was linked against glibc 2.38 / GCC 13, so on this machine
 * `dlopen` fails with "GLIBC_2.38 not found". Exactly three imports are the cause:
 *
 * - `__isoc23_strtol` and `__isoc23_strtoul` (GLIBC_2.38): the C23 variants glibc 2.38's headers
 *   pick; they differ from `strtol` / `strtoul` (GLIBC_2.2.5) only in also reading a `0b` prefix
 *   with base 0 or 2. libFuzzer uses them to read its own decimal `-flag=N` options.
 * - `std::ios_base_library_init()` (GLIBCXX_3.4.32): a symbol GCC 13's `<iostream>` names with a
 *   bare `.globl` so the new libstdc++ is required; nothing calls it (no relocation refers to it).
 *
 * The fix, applied to a copy (never to the file in the pnpm store): those two functions import
 * `strtol` / `strtoul` @ GLIBC_2.2.5 instead (the name is the suffix of the old one in `.dynstr`, so
 * no string is written), the unused symbol loses its version, and the two version requirements
 * nothing needs any more are unlinked from `.gnu.version_r`. Everything else is byte-identical.
 * The patch only runs for the one file whose SHA-256 is pinned below; anything else is loaded as is.
 *
 * Require this file before `@jazzer.js/core` (the runner does): it wraps `process.dlopen` so the
 * addon's own `require()` gets the patched copy when the original cannot load.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const PINNED = {
  // @jazzer.js/fuzzer@4.0.0 prebuilds/fuzzer-linux-x64.node
  '59ffc0d22ea37c5edcf3d8b9b76b1d964940461a9337d0b14068e378e7703ac9': true,
};

const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;

/** The SysV ELF hash (what `vna_hash` holds). */
function elfHash(name) {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    h = ((h << 4) + name.charCodeAt(i)) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h &= ~g >>> 0;
  }
  return h >>> 0;
}

/** Returns a patched copy of the ELF64 shared object `input` (a Buffer). */
function patchElf(input) {
  const buf = Buffer.from(input);
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) throw new Error('not a little-endian ELF64 file');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      type: buf.readUInt32LE(o + 4),
      offset: Number(buf.readBigUInt64LE(o + 0x18)),
      size: Number(buf.readBigUInt64LE(o + 0x20)),
      link: buf.readUInt32LE(o + 0x28),
      entsize: Number(buf.readBigUInt64LE(o + 0x38)),
    });
  }
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  const versym = sections.find((s) => s.type === SHT_GNU_VERSYM);
  const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED);
  if (!dynsym || !versym || !verneed) throw new Error('no dynamic symbol versioning sections');
  const strtab = sections[dynsym.link];
  const str = (off) => {
    const start = strtab.offset + off;
    return buf.toString('latin1', start, buf.indexOf(0, start));
  };

  // Version requirements: index (vna_other) → { file, name, offset of the entry, of its predecessor }.
  const needs = [];
  for (let vn = verneed.offset; ; ) {
    const cnt = buf.readUInt16LE(vn + 2);
    const file = str(buf.readUInt32LE(vn + 4));
    let prev;
    let aux = vn + buf.readUInt32LE(vn + 8);
    for (let i = 0; i < cnt; i++) {
      needs.push({ file, vn, aux, prev, other: buf.readUInt16LE(aux + 6), name: str(buf.readUInt32LE(aux + 8)) });
      prev = aux;
      const next = buf.readUInt32LE(aux + 12);
      if (next === 0) break;
      aux += next;
    }
    const next = buf.readUInt32LE(vn + 12);
    if (next === 0) break;
    vn += next;
  }
  const need = (file, name) => needs.find((n) => n.file === file && n.name === name);
  const base = need('libc.so.6', 'GLIBC_2.2.5');
  if (!base) throw new Error('no GLIBC_2.2.5 requirement to fall back to');

  const retired = new Set();
  const count = dynsym.size / dynsym.entsize;
  let changed = 0;
  for (let i = 0; i < count; i++) {
    const sym = dynsym.offset + i * dynsym.entsize;
    const name = str(buf.readUInt32LE(sym));
    const vs = versym.offset + i * 2;
    const ver = needs.find((n) => n.other === (buf.readUInt16LE(vs) & 0x7fff));
    if ((name === '__isoc23_strtol' || name === '__isoc23_strtoul') && ver?.name === 'GLIBC_2.38') {
      buf.writeUInt32LE(buf.readUInt32LE(sym) + '__isoc23_'.length, sym); // → "strtol" / "strtoul"
      buf.writeUInt16LE(base.other, vs);
      retired.add(ver);
      changed++;
    } else if (name === '_ZSt21ios_base_library_initv' && ver?.name === 'GLIBCXX_3.4.32') {
      buf.writeUInt16LE(1, vs); // VER_NDX_GLOBAL: unversioned (never bound: no relocation names it)
      retired.add(ver);
      changed++;
    }
  }
  if (changed === 0) throw new Error('nothing to patch');
  // Unlink the requirements no symbol uses any more.
  for (const r of retired) {
    const stillUsed = Array.from({ length: count }, (_, i) => buf.readUInt16LE(versym.offset + i * 2) & 0x7fff).includes(r.other);
    if (stillUsed) throw new Error(`version ${r.name} is still used`);
    const next = buf.readUInt32LE(r.aux + 12);
    if (r.prev !== undefined) {
      buf.writeUInt32LE(next === 0 ? 0 : buf.readUInt32LE(r.prev + 12) + next, r.prev + 12);
    } else {
      if (next === 0) throw new Error('cannot unlink the only requirement of a file');
      buf.writeUInt32LE(buf.readUInt32LE(r.vn + 8) + next, r.vn + 8);
    }
    for (const n of needs) if (n.prev === r.aux) n.prev = r.prev;
    buf.writeUInt16LE(buf.readUInt16LE(r.vn + 2) - 1, r.vn + 2);
  }
  void elfHash; // kept for reference: vna_hash values are unchanged (no requirement is renamed)
  return buf;
}

/** Where the patched copy is kept. */
function cachePath(digest) {
  return path.join(__dirname, '..', 'node_modules', '.cache', 'keyturn-fuzz', `fuzzer-${digest.slice(0, 16)}.node`);
}

const originalDlopen = process.dlopen;
process.dlopen = function dlopen(module, filename, ...rest) {
  try {
    return originalDlopen.call(this, module, filename, ...rest);
  } catch (err) {
    if (!/GLIBC(XX)?_[0-9.]+' not found/.test(String(err && err.message)) || !/fuzzer-linux-x64\.node$/.test(filename)) throw err;
    const bytes = fs.readFileSync(filename);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (!PINNED[digest]) {
      err.message += ` (keyturn fuzz: no glibc patch known for this build, sha256 ${digest})`;
      throw err;
    }
    const target = cachePath(digest);
    if (!fs.existsSync(target)) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const tmp = `${target}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, patchElf(bytes));
      fs.renameSync(tmp, target);
    }
    return originalDlopen.call(this, module, target, ...rest);
  }
};

module.exports = { patchElf, elfHash };
