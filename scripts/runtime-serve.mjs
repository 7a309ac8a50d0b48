#!/usr/bin/env node
// Serves the runtime smoke app (built @keyturn/core + Fetch adapter + shared vectors) on one runtime,
// for debugging what packages/core/test/runtimes/runtime-smoke.test.ts checks.
//
//   node scripts/runtime-serve.mjs bun|deno|workerd
//   curl -s http://127.0.0.1:<port>/backend
//   curl -s -X POST http://127.0.0.1:<port>/smartcar -H 'SC-Signature: 4c05a8da…' -d '{"pizza":"pasta"}'
import { ensureBuilt, startRuntime } from '../packages/core/runtime-tests/runtimes.mjs';

const runtime = process.argv[2];
if (!['bun', 'deno', 'workerd'].includes(runtime)) {
  console.error('usage: node scripts/runtime-serve.mjs bun|deno|workerd');
  process.exit(2);
}
console.log(`@keyturn/core dist: ${ensureBuilt()}`);
const server = await startRuntime(runtime);
console.log(`${runtime} (${server.bin}) serving on ${server.url}  (Ctrl-C to stop)`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
