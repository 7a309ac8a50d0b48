// Runs the demo end to end against the built packages (what `pnpm demo` runs) and checks the story.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo.ts';

describe('demo', () => {
  it('shows the rotation: old only → both accepted and reported by key → old expired, forgeries refused', async () => {
    const { lines, usage } = await runDemo();
    const by = (phase: string) => lines.filter((l) => l.phase.startsWith(phase));

    expect(by('1').every((l) => l.status === 200 && l.keyRole === 'active')).toBe(true);

    const rotation = by('2');
    for (const provider of ['smartcar', 'dataspike', 'mobway']) {
      const newLine = rotation.find((l) => l.provider === provider && l.request.includes('new key'));
      const oldLine = rotation.find((l) => l.provider === provider && l.request.includes('old key'));
      expect(newLine).toMatchObject({ status: 200, keyRole: 'active' });
      expect(oldLine).toMatchObject({ status: 200, keyRole: 'previous' });
      expect(oldLine!.keyId).not.toBe(newLine!.keyId);
    }
    expect(rotation.find((l) => l.request === 'VERIFY challenge')).toMatchObject({ status: 200, keyRole: 'active' });

    const after = by('3');
    for (const provider of ['smartcar', 'dataspike', 'mobway']) {
      const reject = provider === 'mobway' ? 403 : 401;
      expect(after.find((l) => l.provider === provider && l.request.includes('new key'))).toMatchObject({ status: 200 });
      expect(after.find((l) => l.provider === provider && l.request.includes('old key'))).toMatchObject({
        status: reject,
        code: 'KEY_EXPIRED',
      });
      expect(after.find((l) => l.provider === provider && l.request.includes('forged'))).toMatchObject({
        status: reject,
        code: 'NO_MATCHING_KEY',
      });
    }

    // The old key kept its id through the rotation; its matches are counted.
    const old = usage.filter((u) => u.keyRole === 'previous');
    expect(old).toHaveLength(3);
    // smartcar: VERIFY + one event before the rotation, one event during it; the others: two events.
    expect(Object.fromEntries(old.map((u) => [u.secretId, u.matches]))).toEqual({
      SMARTCAR_AMT: 3,
      DATASPIKE_WEBHOOK_SECRET: 2,
      MOBWAY_WEBHOOK_SECRET: 2,
    });
  });
});
