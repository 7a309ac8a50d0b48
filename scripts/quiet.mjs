#!/usr/bin/env node
// Runs a command and shows its output only if it fails (the build step of `pnpm demo` / `pnpm test`:
// a newcomer sees keyturn's output, not turbo's task summary). KEYTURN_VERBOSE=1 shows it always.
//
//   node scripts/quiet.mjs <command> [args...]
import { spawn } from 'node:child_process';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/quiet.mjs <command> [args...]');
  process.exit(2);
}
const verbose = process.env.KEYTURN_VERBOSE === '1';
const child = spawn(cmd, args, {
  stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
});
const chunks = [];
child.stdout?.on('data', (d) => chunks.push(d));
child.stderr?.on('data', (d) => chunks.push(d));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (e) => {
  console.error(`quiet: could not start ${cmd}: ${e.message}`);
  process.exit(127);
});
child.on('close', (code, signal) => {
  if (code !== 0) {
    process.stderr.write(Buffer.concat(chunks));
    console.error(`\n${[cmd, ...args].join(' ')} failed (${signal ?? `exit ${code}`})`);
  }
  process.exit(code ?? 1);
});
