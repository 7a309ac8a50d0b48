#!/usr/bin/env node
// `pnpm check`: Biome (format + lint, the root biome.json) and the import-cycle check, as CI runs them.
// While .ci/biome-scope.txt exists, Biome checks only the files it lists (the ones already formatted,
// so that engineers mid-change are not handed a reformatted tree); `pnpm format` formats everything,
// after which the scope file is deleted and Biome checks the whole repository.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const scopeFile = join(root, '.ci', 'biome-scope.txt');
const scope = existsSync(scopeFile)
  ? readFileSync(scopeFile, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
  : ['.'];
const biome = join(root, 'node_modules', '.bin', 'biome');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
let failed = 0;
console.log(`biome ci ${scope.length === 1 ? scope[0] : `(${scope.length} paths from .ci/biome-scope.txt)`}`);
failed |= run(biome, ['ci', '--colors=off', ...scope]);
failed |= run(process.execPath, [join(root, 'scripts', 'check-cycles.mjs')]);
process.exit(failed === 0 ? 0 : 1);
