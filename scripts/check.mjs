#!/usr/bin/env node
// `pnpm check`: Biome (format + lint over the whole repository, the root biome.json) and the
// import-cycle check, as CI runs them. `pnpm format` applies Biome's formatting and safe fixes.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const biome = join(root, 'node_modules', '.bin', 'biome');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
let failed = 0;
console.log('biome ci .');
failed |= run(biome, ['ci', '--colors=off', '.']);
failed |= run(process.execPath, [join(root, 'scripts', 'check-cycles.mjs')]);
process.exit(failed === 0 ? 0 : 1);
