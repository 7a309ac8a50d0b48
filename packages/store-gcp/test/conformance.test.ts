import { runKeyStoreConformance, type ConformanceFixture } from '@keyturn/core/testing';
import { gcpSecretManagerStore } from '../src/index.ts';
import { harness, type Transport } from './helpers.ts';

const NAME = 'projects/test-project/secrets/webhook';

async function seeded(mode: 'aliases' | 'versions', transport: Transport, fixture: ConformanceFixture) {
  const h = await harness(transport);
  const m = h.fake.model;
  m.createSecret(NAME);
  m.addVersion(NAME, fixture.previous);
  m.addVersion(NAME, fixture.binary ?? fixture.active);
  const aliases: Record<string, number> = { previous: 1, current: 2 };
  if (fixture.pending !== undefined) aliases.next = m.addVersion(NAME, fixture.pending).number;
  if (mode === 'aliases') m.updateSecret({ name: NAME, versionAliases: aliases }, ['version_aliases']);
  return { store: gcpSecretManagerStore({ client: h.client, mode }), secretId: NAME, cleanup: h.close };
}

for (const [mode, transport] of [
  ['aliases', 'grpc'],
  ['versions', 'grpc'],
  ['aliases', 'rest'],
] as const) {
  runKeyStoreConformance({
    name: `gcpSecretManagerStore (mode: ${mode}, ${transport})`,
    capabilities: { pending: mode === 'aliases', binary: true },
    setup: (fixture) => seeded(mode, transport, fixture),
    async terminalFailure() {
      const h = await harness(transport);
      return {
        store: gcpSecretManagerStore({ client: h.client, mode }),
        secretId: 'projects/test-project/secrets/missing',
        cleanup: h.close,
      };
    },
    async retryableFailure() {
      const h = await harness(transport);
      h.fake.model.createSecret(NAME);
      h.fake.model.injectFault({ status: 'UNAVAILABLE', times: Infinity });
      return { store: gcpSecretManagerStore({ client: h.client, mode }), secretId: NAME, cleanup: h.close };
    },
    async hanging() {
      const h = await harness(transport);
      h.fake.model.createSecret(NAME);
      h.fake.model.injectFault({ hang: true, times: Infinity });
      return { store: gcpSecretManagerStore({ client: h.client, mode, callTimeoutMs: 60_000 }), secretId: NAME, cleanup: h.close };
    },
  });
}
