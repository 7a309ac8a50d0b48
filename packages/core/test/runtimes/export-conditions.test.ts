/**
 * Which crypto backend each runtime's export conditions select, checked by resolving the built
 * package's `#crypto` import with esbuild under each runtime's condition set.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM helper without type declarations
import { coreDir, ensureBuilt } from '../../runtime-tests/runtimes.mjs';

beforeAll(() => {
  ensureBuilt();
}, 60_000);

async function backendFor(conditions: string[]): Promise<string> {
  const result = await build({
    entryPoints: [join(coreDir as string, 'dist', 'lib', 'crypto.js')],
    bundle: true,
    write: false,
    platform: 'neutral',
    conditions,
    external: ['node:*'],
    metafile: true,
    logLevel: 'silent',
  });
  const files = Object.keys(result.metafile.inputs).filter((f) => /crypto-(node|web)\.js$/.test(f));
  expect(files).toHaveLength(1);
  return (files[0] as string).endsWith('crypto-web.js') ? 'web' : 'node';
}

describe('#crypto export conditions (built package)', () => {
  it.each([
    ['node (Node.js)', ['node'], 'node'],
    ['bun', ['bun', 'node'], 'node'],
    ['deno', ['deno', 'node'], 'node'],
    ['workerd (wrangler)', ['workerd', 'worker', 'browser'], 'web'],
    ['workerd with nodejs_compat-style node condition', ['workerd', 'worker', 'browser', 'node'], 'web'],
    ['edge-light (Vercel Edge)', ['edge-light', 'worker', 'browser'], 'web'],
    ['edge-light with node', ['edge-light', 'node'], 'web'],
    ['browser', ['browser'], 'web'],
    ['web worker', ['worker'], 'web'],
    ['bun bundling for the browser', ['browser'], 'web'],
    ['unknown runtime (default)', [], 'web'],
  ])('%s → %s', async (_name, conditions, expected) => {
    expect(await backendFor(conditions as string[])).toBe(expected);
  });
});
