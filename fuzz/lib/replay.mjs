#!/usr/bin/env node
// Runs a target's bundle (no fuzzer) on input files, or on hex given with --hex, and prints what
// each one does: the quickest way to reproduce a finding.
//
//   node lib/replay.mjs <target> <file|dir ...>
//   node lib/replay.mjs <target> --hex 0202020001000000
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { targets } from '../targets.mjs';
import { bundle } from './runner.mjs';

const [name, ...args] = process.argv.slice(2);
const target = targets.find((t) => t.name === name);
if (!target) {
  console.error(`usage: node lib/replay.mjs <target> <file|dir ...> | --hex HEX\ntargets: ${targets.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const file = await bundle(target);
const { fuzz } = createRequire(import.meta.url)(file);
const inputs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--hex') inputs.push([`hex ${args[i + 1]}`, Buffer.from(args[++i], 'hex')]);
  else if (statSync(args[i]).isDirectory())
    for (const f of readdirSync(args[i])) inputs.push([join(args[i], f), readFileSync(join(args[i], f))]);
  else inputs.push([args[i], readFileSync(args[i])]);
}
let failed = 0;
for (const [label, data] of inputs) {
  try {
    await fuzz(data);
    console.log(`ok      ${label}`);
  } catch (err) {
    failed++;
    console.log(`FAILED  ${label}\n        ${err instanceof Error ? err.message : String(err)}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
