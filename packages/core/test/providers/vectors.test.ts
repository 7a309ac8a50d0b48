/**
 * The published / official-library vectors of the popular profiles: the committed JSON equals what
 * the official libraries produce today, and every case verifies (or fails) as recorded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVerifier, providers, VerificationError, type ProviderProfile } from '../../src/index.ts';
import { buildVectors, VECTOR_DIR, type Vector } from './vectors.ts';

const built = await buildVectors();

describe.each(Object.keys(built))('%s', (file) => {
  const committed = JSON.parse(readFileSync(join(VECTOR_DIR, file), 'utf8')) as Vector[];

  it('is exactly what the published examples and official libraries give (regenerate: npx tsx test/providers/vectors.ts --write)', () => {
    expect(committed).toEqual(built[file]);
  });

  it.each(committed.map((v) => [v.description, v] as const))('%s', async (_d, v) => {
    const factory = (providers as unknown as Record<string, (o?: unknown) => ProviderProfile>)[v.provider]!;
    const verifier = createVerifier({
      provider: factory(v.options),
      keys: [{ id: 'k1', secret: v.secret, role: 'active' }],
      now: () => v.now,
    });
    const body = v.bodyBase64 !== undefined ? Buffer.from(v.bodyBase64, 'base64') : (v.body ?? '');
    const outcome = await verifier.verify({ body, headers: v.headers }).then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    if (v.expect.ok) {
      expect(outcome.ok, outcome.ok ? '' : String((outcome as { e: unknown }).e)).toBe(true);
      return;
    }
    expect(outcome.ok).toBe(false);
    const e = (outcome as { e: unknown }).e;
    expect(e).toBeInstanceOf(VerificationError);
    expect((e as VerificationError).code).toBe(v.expect.code);
    if (v.expect.status !== undefined) expect((e as VerificationError).status).toBe(v.expect.status);
  });
});
