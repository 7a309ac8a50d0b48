// docs/adapters.md shows each framework's complete example, and the README its first one; this keeps
// the pages and the files that examples.test.ts (and examples/nextjs) run identical: a code block that
// follows `<!-- example: <path from the repository root> -->` must be that file, byte for byte.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const examplesOf = (page: string) =>
  [...page.matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)].map((m) => ({ path: m[1]!, code: m[2]! }));
const marked = examplesOf(readFileSync(join(root, 'docs', 'adapters.md'), 'utf8'));
const readme = examplesOf(readFileSync(join(root, 'README.md'), 'utf8'));

/** One complete example per framework (and the Next.js route handlers, Node and Edge, and the Pages Router). */
const REQUIRED = [
  'examples/adapters/src/express.ts',
  'examples/adapters/src/fastify.ts',
  'examples/adapters/src/node-http.ts',
  'examples/adapters/src/fetch.ts',
  'examples/adapters/src/hono.ts',
  'examples/adapters/src/nestjs.ts',
  'examples/nextjs/app/api/webhooks/[provider]/route.ts',
  'examples/nextjs/app/api/edge/webhooks/[provider]/route.ts',
  'examples/nextjs/pages/api/pages-router/smartcar.ts',
  'examples/nextjs/lib/verifiers.ts',
];

describe('docs/adapters.md', () => {
  it('shows every required example', () => {
    expect(marked.map((m) => m.path)).toEqual(expect.arrayContaining(REQUIRED));
  });

  it.each(marked.map((m) => [m.path, m.code] as const))('%s is the file, byte for byte', (path, code) => {
    expect(code + '\n').toBe(readFileSync(join(root, path), 'utf8'));
  });
});

describe('README.md', () => {
  it('opens with the example examples.test.ts runs (the typed event), byte for byte', () => {
    expect(readme[0]?.path).toBe('examples/adapters/src/readme.ts');
    expect(readme[0]!.code + '\n').toBe(readFileSync(join(root, readme[0]!.path), 'utf8'));
  });
});
