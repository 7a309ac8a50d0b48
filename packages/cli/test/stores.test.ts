/**
 * `keyturn keys` and `keyturn rotate dataspike` on the AWS and GCP stores, through the real
 * client libraries and the offline servers their packages ship.
 */
import { startDataspikeTestServer } from '@keyturn/rotation/testing';
import { startSecretsManagerServer } from '@keyturn/store-aws/testing';
import { startFakeSecretManager } from '@keyturn/store-gcp/testing';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/index.ts';

const OLD = `whsec_${'0123456789abcdef'.repeat(4)}`;
const WEBHOOK = '01827ed4-c928-7a3c-9a30-7ab7cc169d11';

async function run(argv: string[], cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => new Uint8Array(),
    env,
    cwd,
    now: Date.now,
  };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe.each(['aws', 'gcp'] as const)('keyturn on the %s store', (kind) => {
  it('rotate dataspike → keys list shows active + previous → keys add is idempotent → retire removes the previous key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyturn-cli-store-'));
    const ds = await startDataspikeTestServer({ apiKey: 'k-1', webhooks: { [WEBHOOK]: OLD } });
    let flags: string[];
    let secretId: string;
    let close: () => Promise<void>;
    const env: Record<string, string> = { DATASPIKE_API_KEY: 'k-1' };
    if (kind === 'aws') {
      const server = await startSecretsManagerServer();
      const config = server.clientConfig();
      secretId = 'prod/webhooks/dataspike';
      server.createSecret(secretId, OLD);
      flags = ['--store', 'aws', '--aws-region', config.region, '--aws-endpoint', config.endpoint];
      env['AWS_ACCESS_KEY_ID'] = config.credentials.accessKeyId;
      env['AWS_SECRET_ACCESS_KEY'] = config.credentials.secretAccessKey;
      close = () => server.close();
    } else {
      const fake = await startFakeSecretManager();
      secretId = 'projects/test-project/secrets/dataspike-webhook';
      fake.model.createSecret(secretId, { versionAliases: { current: 1 } });
      fake.model.addVersion(secretId, OLD);
      flags = ['--store', 'gcp', '--gcp-project', 'test-project', '--gcp-endpoint', `127.0.0.1:${fake.grpcPort}`];
      close = () => fake.close();
    }
    try {
      const rotated = await run(
        ['rotate', 'dataspike', '--webhook-id', WEBHOOK, '--base-url', ds.url, ...flags, '--secret-id', secretId, '--grace', '2h'],
        dir,
        env,
      );
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(`${rotated.stdout}${rotated.stderr}`).not.toContain(ds.currentSecret(WEBHOOK).slice(6));

      const listed = await run(['keys', 'list', ...flags, '--secret-id', secretId, '--json'], dir, env);
      expect(listed.code, listed.stderr).toBe(0);
      const keys = JSON.parse(listed.stdout).keys as { id: string; role: string }[];
      expect(keys.map((k) => k.role)).toEqual(['active', 'previous']);

      await writeFile(join(dir, 'secret'), ds.currentSecret(WEBHOOK));
      const again = await run(['keys', 'add', ...flags, '--secret-id', secretId, '--secret-file', 'secret'], dir, env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('already active');

      const previous = keys.find((k) => k.role === 'previous')!.id;
      const wrongKey = await run(['keys', 'retire', ...flags, '--secret-id', secretId, '--force', '--key-id', keys[0]!.id], dir, env);
      expect(wrongKey).toMatchObject({ code: 32, stderr: expect.stringContaining('nothing was retired') });
      const retire = await run(['keys', 'retire', ...flags, '--secret-id', secretId, '--force', '--key-id', previous], dir, env);
      expect(retire, retire.stderr).toMatchObject({ code: 0, stdout: `${secretId}: retired ${previous}\n` });
      const after = await run(['keys', 'list', ...flags, '--secret-id', secretId, '--json'], dir, env);
      expect((JSON.parse(after.stdout).keys as { role: string }[]).map((k) => k.role)).toEqual(['active']);
    } finally {
      await ds.close();
      await close();
    }
  }, 30_000);
});
