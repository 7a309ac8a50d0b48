#!/usr/bin/env node
// tsc rewrites the `.ts` extensions of relative imports in the JavaScript it emits
// (`rewriteRelativeImportExtensions`) but not in the declaration files, so dist/*.d.ts would say
// `from './verifier.ts'`: a path that does not exist in the published package, which TypeScript
// consumers only resolve by luck (and older versions not at all). Run after tsc in every package's
// build: rewrites relative `.ts`/`.mts`/`.cts` specifiers in dist/**/*.d.ts to `.js`/`.mjs`/`.cjs`.
//
//   node ../../scripts/dts-js-extensions.mjs dist
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/dts-js-extensions.mjs <dist dir>');
  process.exit(2);
}
// A relative specifier after `from`, `import(` or `import`/`export … from`, ending in a TS extension.
const SPECIFIER = /((?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"])(\.{1,2}\/[^'"]*?)(?<!\.d)\.([mc]?)ts(['"])/g;

let files = 0;
let rewritten = 0;
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.d\.[mc]?ts$/.test(e.name)) {
      const src = readFileSync(p, 'utf8');
      let n = 0;
      const out = src.replace(SPECIFIER, (_, pre, path, m, quote) => {
        n++;
        return `${pre}${path}.${m}js${quote}`;
      });
      files++;
      if (n > 0) {
        rewritten += n;
        writeFileSync(p, out);
      }
    }
  }
};
walk(dir);
if (process.env.KEYTURN_VERBOSE === '1') console.log(`dts-js-extensions: ${rewritten} specifiers in ${files} declaration files`);
