/**
 * Replays every committed seed (and, with FUZZ_REPLAY_WORK_CORPUS=1, the local work corpus of
 * `pnpm fuzz`) through each target in-process, without the fuzzer: a fast regression test that
 * runs on the TypeScript sources, and the measure of source coverage (`pnpm fuzz --coverage`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { targets } from '../targets.mjs';

const root = resolve(import.meta.dirname, '..');
const dirs = (name: string): string[] => [
  join(root, 'corpus', name),
  ...(process.env['FUZZ_REPLAY_WORK_CORPUS'] === '1' ? [join(root, '.corpus', name)] : []),
];

describe.each(targets)('$name seeds', (target) => {
  it('every seed satisfies the properties', async () => {
    const { fuzz } = (await import(join(root, target.file))) as { fuzz: (data: Buffer) => unknown };
    const files = dirs(target.name).flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : []));
    expect(files.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const file of files) {
      try {
        await fuzz(readFileSync(file));
      } catch (err) {
        failures.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
