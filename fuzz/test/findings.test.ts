/**
 * Open findings (lib/known-issues.ts): each reproducer in findings/<target>/ must still fail with
 * the harness's suppression off. When one passes, its bug was fixed: this test fails so that the
 * suppression goes and the reproducer moves to corpus/<target>/ as a regression seed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN, setSuppression } from '../lib/known-issues.ts';
import { targets } from '../targets.mjs';

const root = resolve(import.meta.dirname, '..');
const cases = targets.flatMap((t) => {
  const dir = join(root, 'findings', t.name);
  return existsSync(dir) ? readdirSync(dir).map((f) => ({ target: t, name: f, file: join(dir, f) })) : [];
});

describe('open findings still reproduce', () => {
  beforeAll(() => setSuppression(false));
  afterAll(() => setSuppression(true));
  it('every suppression in lib/known-issues.ts has a reproducer (none open is fine)', () => {
    expect(cases.length).toBeGreaterThanOrEqual(Object.keys(KNOWN).length);
  });
  it.each(cases)('$target.name/$name', async ({ target, file }) => {
    const { fuzz } = (await import(join(root, target.file))) as { fuzz: (data: Buffer) => unknown };
    let error: unknown;
    try {
      await fuzz(readFileSync(file));
    } catch (err) {
      error = err;
    }
    expect(
      error,
      'this finding no longer reproduces: remove its suppression in lib/known-issues.ts and move the file to corpus/',
    ).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^PROPERTY:/);
  });
});
