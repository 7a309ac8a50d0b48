#!/usr/bin/env node
// Runs a command on a supported Node. The published packages need Node >= 22.13 (the root
// package.json's `engines`, the same in every package); the README's commands must still work on a
// machine that has only an older Node (20) and npm. So: on a supported Node the command runs as is;
// on an older one, the Node named in `.node-version` (24, the primary runtime) is installed from npm
// (scripts/node-bin.mjs, cached outside the repository) and put first on PATH for the command and
// everything it starts (pnpm, turbo, tsc, vitest all run on it).
//
//   node scripts/with-node.mjs <command> [args...]
//
// Also turns off turbo's telemetry (and its first-run banner) for the command.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode, nodePackageName } from './node-bin.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/with-node.mjs <command> [args...]');
  process.exit(2);
}

/** `>=22.12` → [22, 12, 0] */
const floorOf = (range) => {
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!m) throw new Error(`with-node: cannot read the Node floor from engines.node "${range}" (expected ">=X.Y")`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
};
const atLeast = (version, floor) => {
  const v = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((v[i] ?? 0) !== floor[i]) return (v[i] ?? 0) > floor[i];
  return true;
};

const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node;
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: process.env.DO_NOT_TRACK ?? '1' };
if (!atLeast(process.versions.node, floorOf(range))) {
  const spec = readFileSync(join(root, '.node-version'), 'utf8').trim();
  let node;
  try {
    node = ensureNode(spec, { log: (l) => console.error(l) });
  } catch (e) {
    console.error(
      `${e.message}\nwith-node: keyturn needs Node ${range}; this is ${process.version}. Install Node ${spec} (or any ${range}) and retry.`,
    );
    process.exit(1);
  }
  console.error(
    `keyturn: Node ${process.version} is older than the supported ${range}; running on Node ${node.version} (npm ${nodePackageName()}@${spec}).`,
  );
  env.PATH = `${dirname(node.bin)}${delimiter}${env.PATH ?? ''}`;
}

const child = spawn(cmd, args, { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('error', (e) => {
  console.error(`with-node: could not start ${cmd}: ${e.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
