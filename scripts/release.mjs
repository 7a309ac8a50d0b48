#!/usr/bin/env node
// Builds, packs and checks every public package exactly as it would be published, then (without
// --dry-run) publishes those same tarballs.
//
//   pnpm release --dry-run      build + pack into .release/ + check each tarball; publishes nothing
//   pnpm release                the same, then `npm publish <tarball>` for each version not yet on
//                               the registry (dependencies first) and `changeset tag`
//
// Options: --skip-build (use the current dist/), --out <dir> (default .release), --json (print the report)
//
// Versions and changelogs come from changesets (`pnpm changeset` to describe a change,
// `pnpm version-packages` to apply them); this script never changes a version.
//
// What is checked in each tarball (the packed package.json, with workspace: ranges already replaced):
//   - publint (strict) on the tarball's own file list;
//   - @arethetypeswrong/cli with the esm-only profile: types resolve for every entry point under
//     node16/nodenext (ESM) and bundler (CommonJS resolution is reported, not failed: the packages
//     are ESM-only and require() works through require(esm), see the README);
//   - no export/import condition named `source` (a consumer's customConditions would pick it up),
//     and every path an export/import/bin names is in the tarball;
//   - no declaration file imports a `.ts` path; no `workspace:` range is left;
//   - LICENSE, README.md; the README has no relative links (they break on the registry page);
//   - license, repository (with directory), homepage, bugs, engines.node equal to the root's,
//     publishConfig.access public.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const dryRun = args.includes('--dry-run');
const skipBuild = args.includes('--skip-build');
const asJson = args.includes('--json');
const outDir = join(root, args.includes('--out') ? args[args.indexOf('--out') + 1] : '.release');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// The pnpm running this script (pnpm release), else the pinned one through npx.
const PNPM =
  process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath)
    ? [process.execPath, [process.env.npm_execpath]]
    : ['npx', ['--yes', rootPkg.packageManager]];

const run = (cmd, argv, opts = {}) => {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { status: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '', error: r.error };
};
const pnpm = (argv, opts) => run(PNPM[0], [...PNPM[1], ...argv], opts);
const bin = (name) => join(root, 'node_modules', '.bin', name);

// ---- the public packages, dependencies first ----
function publicPackages() {
  const pkgs = readdirSync(join(root, 'packages'))
    .map((d) => join(root, 'packages', d))
    .filter((d) => existsSync(join(d, 'package.json')))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => !pkg.private);
  const names = new Set(pkgs.map((p) => p.pkg.name));
  const deps = (p) => Object.keys({ ...p.pkg.dependencies, ...p.pkg.peerDependencies }).filter((n) => names.has(n) && n !== p.pkg.name);
  const ordered = [];
  const seen = new Set();
  const visit = (p, stack = []) => {
    if (seen.has(p.pkg.name)) return;
    if (stack.includes(p.pkg.name)) throw new Error(`release: dependency cycle ${[...stack, p.pkg.name].join(' → ')}`);
    for (const d of deps(p))
      visit(
        pkgs.find((q) => q.pkg.name === d),
        [...stack, p.pkg.name],
      );
    seen.add(p.pkg.name);
    ordered.push(p);
  };
  for (const p of pkgs.sort((a, b) => a.pkg.name.localeCompare(b.pkg.name))) visit(p);
  return ordered;
}

// ---- a minimal tar reader (npm tarballs: ustar, gzip) ----
function readTarball(file) {
  const buf = gunzipSync(readFileSync(file));
  const files = new Map();
  let off = 0;
  let longName;
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const str = (a, b) => header.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    let name = str(0, 100);
    const prefix = str(345, 500);
    if (prefix) name = `${prefix}/${name}`;
    const size = parseInt(str(124, 136).trim() || '0', 8);
    const type = str(156, 157);
    const body = buf.subarray(off + 512, off + 512 + size);
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '') {
      files.set((longName ?? name).replace(/^package\//, ''), body);
      longName = undefined;
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

// ---- checks ----
function targets(value, path, out) {
  if (typeof value === 'string') out.push({ path, target: value });
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) targets(v, [...path, i], out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) targets(v, [...path, k], out);
  return out;
}

async function checkTarball(tgz, sourcePkg) {
  const problems = [];
  const files = readTarball(tgz);
  const manifest = JSON.parse(files.get('package.json').toString('utf8'));
  const info = { files: files.size, unpacked: [...files.values()].reduce((n, b) => n + b.length, 0) };

  // publint on the tarball's file list
  const { publint } = await import(join(root, 'node_modules', 'publint', 'src', 'index-node.js'));
  const { formatMessage } = await import(join(root, 'node_modules', 'publint', 'src', 'utils.js'));
  const tarball = readFileSync(tgz);
  const lint = await publint({
    pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
    strict: true,
    level: 'suggestion',
  });
  const lintMessages = lint.messages.map((m) => `${m.type}: ${formatMessage(m, lint.pkg, { color: false })}`);
  info.publint = lintMessages.length === 0 ? 'clean (strict, all levels)' : lintMessages.join('; ');
  if (lint.messages.some((m) => m.type !== 'suggestion')) problems.push(`publint: ${lintMessages.join('; ')}`);

  // attw
  const attw = run(bin('attw'), [tgz, '--profile', 'esm-only', '--format', 'json']);
  let attwJson;
  try {
    attwJson = JSON.parse(attw.stdout);
  } catch {
    problems.push(`attw did not run: ${attw.out.slice(0, 2000)}`);
  }
  if (attwJson) {
    const analysis = attwJson.analysis;
    const entrypoints = Object.keys(analysis.entrypoints);
    const byKind = {};
    for (const kind of ['node16-esm', 'bundler', 'node16-cjs', 'node10']) {
      const ps = analysis.problems.filter((p) => p.resolutionKind === kind);
      const resolved = entrypoints.filter(
        (e) =>
          analysis.entrypoints[e].resolutions[kind]?.resolution?.isTypeScript ||
          analysis.entrypoints[e].resolutions[kind]?.resolution?.isJson,
      );
      byKind[kind] =
        ps.length === 0
          ? `ok (${resolved.length}/${entrypoints.length} entry points typed)`
          : [...new Set(ps.map((p) => p.kind))].join(', ');
    }
    info.attw = byKind;
    if (attw.status !== 0) problems.push(`attw (esm-only profile) failed: ${JSON.stringify(attwJson.problems)}`);
    for (const kind of ['node16-esm', 'bundler']) {
      const missing = entrypoints.filter(
        (e) => e !== './package.json' && !analysis.entrypoints[e].resolutions[kind]?.resolution?.isTypeScript,
      );
      if (missing.length > 0) problems.push(`attw: no types under ${kind} for ${missing.join(', ')}`);
    }
  }

  // export conditions and targets
  for (const field of ['exports', 'imports']) {
    for (const { path, target } of targets(manifest[field], [field], [])) {
      if (path.includes('source'))
        problems.push(
          `${path.join('.')}: a "source" condition is published (a consumer's customConditions: ["source"] would resolve keyturn's .ts sources)`,
        );
      if (target.startsWith('./') && !target.includes('*') && !files.has(target.slice(2)))
        problems.push(`${path.join('.')}: ${target} is not in the tarball`);
    }
  }
  const bins = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [name, target] of Object.entries(bins))
    if (!files.has(target.replace(/^\.\//, ''))) problems.push(`bin.${name}: ${target} is not in the tarball`);

  // declaration files
  const tsImport = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]*?(?<!\.d)\.[mc]?ts)['"]/g;
  for (const [name, body] of files) {
    if (!/\.d\.[mc]?ts$/.test(name)) continue;
    for (const m of body.toString('utf8').matchAll(tsImport)) problems.push(`${name} imports ${m[1]} (a .ts path)`);
  }
  // no workspace: ranges
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {}))
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${dep} is still ${range}`);
  }
  // metadata
  if (!files.has('LICENSE')) problems.push('no LICENSE in the tarball');
  if (!files.has('README.md')) problems.push('no README.md in the tarball');
  else {
    const readme = files.get('README.md').toString('utf8');
    for (const m of readme.matchAll(/\]\(([^)\s]+)[^)]*\)/g)) {
      if (!/^(https?:|mailto:|#)/.test(m[1])) problems.push(`README.md links to ${m[1]} (relative: broken on the registry page)`);
    }
  }
  if (manifest.license !== 'MIT') problems.push(`license is ${manifest.license}`);
  if (!manifest.repository?.url || manifest.repository.directory !== relative(root, sourcePkg.dir))
    problems.push('repository.url / repository.directory missing or wrong');
  if (!manifest.homepage) problems.push('no homepage');
  if (!manifest.bugs?.url) problems.push('no bugs.url');
  if (manifest.engines?.node !== rootPkg.engines.node)
    problems.push(`engines.node is ${manifest.engines?.node}, the root says ${rootPkg.engines.node}`);
  if (manifest.publishConfig?.access !== 'public') problems.push('publishConfig.access is not public');
  if (manifest.type !== 'module') problems.push('not "type": "module"');
  return { manifest, problems, info };
}

// ---- main ----
const packages = publicPackages();
if (!skipBuild) {
  const b = pnpm(['exec', 'turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'], {
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (b.status !== 0) {
    console.error(b.out);
    console.error('release: build failed');
    process.exit(1);
  }
}
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const report = [];
let failed = false;
for (const p of packages) {
  const packed = pnpm(['pack', '--pack-destination', outDir], { cwd: p.dir });
  const tgzName = `${p.pkg.name.replace(/^@/, '').replace('/', '-')}-${p.pkg.version}.tgz`;
  const tgz = join(outDir, tgzName);
  if (packed.status !== 0 || !existsSync(tgz)) {
    console.error(`release: pnpm pack failed for ${p.pkg.name}:\n${packed.out}`);
    failed = true;
    continue;
  }
  const { problems, info } = await checkTarball(tgz, p);
  const entry = { name: p.pkg.name, version: p.pkg.version, tarball: relative(root, tgz), packed: statSync(tgz).size, ...info, problems };
  report.push(entry);
  if (problems.length > 0) failed = true;
}
writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
if (process.env.KEYTURN_REPORT_DIR) {
  // Counted by .ci/summary.mjs like a vitest report: one "test" per package.
  const bad = report.filter((r) => r.problems.length > 0).length + (report.length < packages.length ? packages.length - report.length : 0);
  mkdirSync(process.env.KEYTURN_REPORT_DIR, { recursive: true });
  writeFileSync(
    join(process.env.KEYTURN_REPORT_DIR, 'tarballs.json'),
    `${JSON.stringify({ numPassedTests: packages.length - bad, numFailedTests: bad, report }, null, 2)}\n`,
  );
}

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
if (asJson) console.log(JSON.stringify(report, null, 2));
else {
  for (const r of report) {
    console.log(
      `${r.problems.length === 0 ? 'ok  ' : 'FAIL'} ${r.name}@${r.version}  ${kb(r.packed)} packed, ${kb(r.unpacked)} unpacked, ${r.files} files`,
    );
    console.log(`       publint: ${r.publint}`);
    if (r.attw)
      console.log(
        `       attw: ${Object.entries(r.attw)
          .map(([k, v]) => `${k} ${v}`)
          .join(' · ')}`,
      );
    for (const pr of r.problems) console.log(`       ✗ ${pr}`);
  }
}
if (failed) {
  console.error(`release: ${report.filter((r) => r.problems.length > 0).length} package(s) failed the tarball checks; nothing published.`);
  process.exit(1);
}
if (dryRun) {
  console.log(
    `release --dry-run: ${report.length} tarballs in ${relative(root, outDir)}/ are exactly what would be published; nothing was published.`,
  );
  process.exit(0);
}

// ---- publish the checked tarballs ----
const dirty = run('git', ['status', '--porcelain']);
if (dirty.out.trim() !== '') {
  console.error('release: the working tree has uncommitted changes; commit them (and the version bump) first.');
  process.exit(1);
}
for (const r of report) {
  const exists = run('npm', ['view', `${r.name}@${r.version}`, 'version'], { cwd: outDir });
  if (exists.status === 0 && exists.stdout.trim() === r.version) {
    console.log(`release: ${r.name}@${r.version} is already published; skipped`);
    continue;
  }
  const pub = run('npm', ['publish', join(root, r.tarball), '--access', 'public'], { cwd: outDir, stdio: 'inherit' });
  if (pub.status !== 0) {
    console.error(
      `release: npm publish ${r.tarball} failed; the packages before it are published, fix and re-run (published versions are skipped).`,
    );
    process.exit(1);
  }
}
const tag = run(bin('changeset'), ['tag'], { stdio: 'inherit' });
process.exit(tag.status);
