#!/usr/bin/env node
// Runs the store suites against the LOWEST end of each cloud SDK's peer range. The newest end is what
// the workspace installs (the devDependencies: the newest releases), so the main test run covers it;
// this is the one extra run, on the floor Node major, over the store projects only:
//
//   @aws-sdk/client-secrets-manager   peer range of @keyturn/store-aws   → its lower bound
//   @google-cloud/secret-manager      peer range of @keyturn/store-gcp   → its lower bound (6.0.0)
//
// The lowest versions are installed with npm into a cache outside the repository (with the
// @grpc/grpc-js their google-gax brings, which the tests' gRPC credentials must share), and the
// vitest projects resolve those packages there (vitest.shared.ts `peerOverride`). The script checks
// from the resolution log that every import of them really went to that install.
//
//   node scripts/peer-ends.mjs [--node <spec>]      (default: the floor's major, 22)
// Env: KEYTURN_REPORT_DIR  a vitest JSON report is written there (peers-lowest.json)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode } from './node-bin.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const readJson = (p) => JSON.parse(readFileSync(join(root, p), 'utf8'));
const floorMajor = /^>=\s*(\d+)/.exec(readJson('package.json').engines.node)[1];
const nodeSpec = process.argv.includes('--node') ? process.argv[process.argv.indexOf('--node') + 1] : floorMajor;

/** Store package → the SDK whose peer range it declares. */
const SDKS = [
  { store: 'packages/store-aws', project: 'store-aws', sdk: '@aws-sdk/client-secrets-manager' },
  { store: 'packages/store-gcp', project: 'store-gcp', sdk: '@google-cloud/secret-manager' },
];

/** `^3.600.0` → 3.600.0, `^6 || ^7` → 6.0.0, `>=1.2` → 1.2.0 */
function lowerBound(range) {
  const first = range.split('||')[0].trim();
  const m = /^(?:\^|~|>=)?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(first);
  if (!m) throw new Error(`peer-ends: cannot read a lower bound from "${range}"`);
  return `${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`;
}

// Every package that declares one of these peers must declare the same range.
const ranges = new Map();
for (const dir of ['packages/cli', 'packages/rotation', ...SDKS.map((s) => s.store)]) {
  const pkgPath = join(dir, 'package.json');
  if (!existsSync(join(root, pkgPath))) continue;
  const peers = readJson(pkgPath).peerDependencies ?? {};
  for (const { sdk } of SDKS) {
    if (!(sdk in peers)) continue;
    if (ranges.has(sdk) && ranges.get(sdk).range !== peers[sdk]) {
      throw new Error(
        `peer-ends: ${sdk} is "${ranges.get(sdk).range}" in ${ranges.get(sdk).dir} but "${peers[sdk]}" in ${dir}; keep one range`,
      );
    }
    ranges.set(sdk, { range: peers[sdk], dir });
  }
}

const lowest = SDKS.map(({ sdk }) => `${sdk}@${lowerBound(ranges.get(sdk).range)}`);
const cacheRoot = process.env.KEYTURN_PEER_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keyturn', 'peers');
const dir = join(cacheRoot, lowest.join('+').replaceAll('/', '__'));
if (!existsSync(join(dir, 'node_modules', '.complete'))) {
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot, '.install-'));
  console.log(`peer-ends: installing ${lowest.join(' ')} into ${dir} (once)…`);
  const r = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      tmp,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--loglevel=error',
      ...lowest,
    ],
    {
      cwd: tmp,
      encoding: 'utf8',
      env: { ...process.env, npm_config_update_notifier: 'false' },
    },
  );
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    console.error(`peer-ends: npm install failed:\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
  spawnSync('touch', [join(tmp, 'node_modules', '.complete')]);
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, 'node_modules', '.complete'))) throw e;
  }
}

const installed = (name) => {
  const p = join(dir, 'node_modules', name, 'package.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')).version : undefined;
};
// google-gax checks `instanceof ChannelCredentials` against its own @grpc/grpc-js: the tests' copy must be the same.
const overridden = [...SDKS.map((s) => s.sdk), ...(installed('@grpc/grpc-js') ? ['@grpc/grpc-js'] : [])];
const node = ensureNode(nodeSpec, { log: (l) => console.error(l) });
const workspaceVersion = (sdk, store) => {
  try {
    return JSON.parse(readFileSync(join(root, store, 'node_modules', sdk, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
};
for (const { sdk, store } of SDKS) {
  console.log(
    `peer-ends: ${sdk} "${ranges.get(sdk).range}": lowest ${installed(sdk)} here on node ${node.version}; newest ${workspaceVersion(sdk, store)} in the main run`,
  );
}
console.log(`peer-ends: @grpc/grpc-js ${installed('@grpc/grpc-js') ?? '-'} (the lowest google-gax's)`);

const log = join(dir, `resolutions-${process.pid}.log`);
const reportDir = process.env.KEYTURN_REPORT_DIR;
const env = {
  ...process.env,
  PATH: `${dirname(node.bin)}:${process.env.PATH}`,
  KEYTURN_PEER_DIR: dir,
  KEYTURN_PEER_PACKAGES: overridden.join(','),
  KEYTURN_PEER_LOG: log,
  ...(reportDir ? { KEYTURN_VITEST_REPORT: join(reportDir, 'peers-lowest.json') } : {}),
};
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const projects = SDKS.flatMap((s) => ['--project', s.project]);
const run = spawnSync(node.bin, [vitest, 'run', ...projects], { cwd: root, env, stdio: 'inherit' });

// Every import of an overridden package must have resolved inside the lowest install.
let ok = run.status === 0;
const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
rmSync(log, { force: true });
for (const { sdk } of SDKS) {
  const hits = lines.filter((l) => l.startsWith(`${sdk}\t`));
  const outside = hits.filter((l) => !l.split('\t')[1].startsWith(dir));
  if (hits.length === 0 || outside.length > 0) {
    ok = false;
    console.error(
      `peer-ends: ${sdk} was ${hits.length === 0 ? 'never imported through the override' : `resolved outside ${dir}:\n${outside.join('\n')}`}`,
    );
  }
}
console.log(`peer-ends: lowest ends (${lowest.join(', ')}) on node ${node.version}: ${ok ? 'passed' : 'FAILED'}`);
process.exit(ok ? 0 : 1);
