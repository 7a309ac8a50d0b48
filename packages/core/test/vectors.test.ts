import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVerifier, providers, VerificationError } from '../src/index.ts';
import type { ProviderProfile } from '../src/providers/types.ts';
import type { Vector } from './providers/vectors.ts';

const dir = join(import.meta.dirname, 'vectors');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe.each(files)('vectors %s', (file) => {
  const vectors = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Vector[];
  it.each(vectors.map((v) => [v.description, v] as const))('%s', async (_d, v) => {
    const factory = (providers as unknown as Record<string, (o?: unknown) => ProviderProfile>)[v.provider];
    expect(factory, `unknown provider ${v.provider}`).toBeTypeOf('function');
    const verifier = createVerifier({
      provider: factory!(v.options),
      keys: [{ id: 'k1', secret: v.secret, role: 'active' }],
      now: () => v.now,
    });
    const body = v.bodyBase64 !== undefined ? Buffer.from(v.bodyBase64, 'base64') : Buffer.from(v.body ?? '', 'utf8');
    for (const input of [body, new Uint8Array(body), body.toString('utf8')]) {
      if (typeof input === 'string' && v.bodyBase64 !== undefined) continue;
      const outcome = await verifier.verify({ body: input, headers: v.headers }).then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      if (v.expect.ok) {
        expect(outcome.ok, outcome.ok ? '' : String((outcome as { e: unknown }).e)).toBe(true);
      } else {
        expect(outcome.ok).toBe(false);
        const e = (outcome as { e: unknown }).e as VerificationError;
        expect(e).toBeInstanceOf(VerificationError);
        expect(e.code).toBe(v.expect.code);
        if (v.expect.status !== undefined) expect(e.status).toBe(v.expect.status);
      }
    }
  });
});
