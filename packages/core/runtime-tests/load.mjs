// Shared by the Bun and Deno entries (workerd gets its vectors bundled by esbuild).
import { readdir, readFile } from 'node:fs/promises';

const vectorsDir = new URL('../test/vectors/', import.meta.url);

/** Every test/vectors/*.json file, by name without extension. */
export async function loadVectors() {
  const out = {};
  for (const name of (await readdir(vectorsDir)).sort()) {
    if (!name.endsWith('.json')) continue;
    out[name.slice(0, -5)] = JSON.parse(await readFile(new URL(name, vectorsDir), 'utf8'));
  }
  return out;
}

/** The crypto backend this runtime resolved through the `#crypto` import conditions. */
export async function cryptoBackend() {
  // dist/lib/crypto.js re-exports from '#crypto': the runtime picks the file by its conditions.
  const m = await import('../dist/lib/crypto.js');
  return { backendName: m.backendName, hasSyncHmac: m.hasSyncHmac };
}
