#!/usr/bin/env node
// Fails when a package's source files import each other in a cycle (type-only imports count: a
// type cycle is still two files that cannot be read apart), or when workspace packages depend on
// each other in a cycle. Reads `import`/`export … from` specifiers as text: relative ones (`./x.ts`)
// and the package's own `#imports` (resolved through its package.json, `@keyturn/source` condition).
//
//   node scripts/check-cycles.mjs            # every packages/*/src
//   node scripts/check-cycles.mjs packages/core
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2).map((p) => resolve(p));
const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir)
  .map((name) => join(packagesDir, name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .filter((dir) => only.length === 0 || only.includes(dir));

const SPECIFIER = /(?:^|[\s;}])(?:import|export)\s(?:[^'"`;]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(?:[cm]?ts|[cm]?js)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** The `@keyturn/source` target of a package `#import`, or the first string target. */
function importTarget(entry) {
  if (typeof entry === 'string') return entry;
  if (entry === null || typeof entry !== 'object') return undefined;
  if (typeof entry['@keyturn/source'] === 'string') return entry['@keyturn/source'];
  for (const value of Object.values(entry)) {
    const target = importTarget(value);
    if (target !== undefined) return target;
  }
  return undefined;
}

/** Strongly connected components with more than one node, or a node importing itself (Tarjan). */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const found = [];
  const visit = (v) => {
    meta.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!meta.has(w)) {
        visit(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).onStack) {
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
      }
    }
    if (meta.get(v).low === meta.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? new Set()).has(v)) found.push(component.reverse());
    }
  };
  for (const v of graph.keys()) if (!meta.has(v)) visit(v);
  return found;
}

let failed = false;
const packageGraph = new Map();
for (const dir of packages) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const deps = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies };
  packageGraph.set(manifest.name, new Set(Object.keys(deps).filter((d) => d.startsWith('@keyturn/'))));
  const src = join(dir, 'src');
  if (!existsSync(src)) continue;
  const graph = new Map();
  for (const file of sourceFiles(src)) {
    const edges = new Set();
    for (const m of stripComments(readFileSync(file, 'utf8')).matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2];
      let target;
      if (spec.startsWith('.')) target = resolve(dirname(file), spec);
      else if (spec.startsWith('#')) {
        const mapped = importTarget(manifest.imports?.[spec]);
        if (mapped !== undefined) target = resolve(dir, mapped);
      }
      if (target !== undefined) edges.add(target);
    }
    graph.set(file, edges);
  }
  for (const cycle of cycles(graph)) {
    failed = true;
    console.error(`import cycle in ${manifest.name}: ${cycle.map((f) => relative(dir, f)).join(' -> ')} -> ${relative(dir, cycle[0])}`);
  }
}
for (const cycle of cycles(packageGraph)) {
  failed = true;
  console.error(`package dependency cycle: ${cycle.join(' -> ')} -> ${cycle[0]}`);
}
if (failed) process.exit(1);
console.log(`no import cycles (${packages.length} packages)`);
