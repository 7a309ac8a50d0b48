import { runKeyStoreConformance, type ConformanceFixture } from '@keyturn/core/testing';
import { harness, HOUR } from './helpers.ts';

const NAME = 'webhook';

async function seeded(fixture: ConformanceFixture) {
  const h = await harness();
  const m = h.vault.model;
  const t = Date.now();
  m.addVersion(NAME, fixture.previous, { created: t - 2 * HOUR });
  m.addVersion(NAME, fixture.active, { created: t - HOUR });
  if (fixture.pending !== undefined) m.addVersion(NAME, fixture.pending, { created: t - 1000, notBefore: t + HOUR });
  return { store: h.store(), secretId: NAME, cleanup: h.close };
}

runKeyStoreConformance({
  name: 'azureKeyVaultStore (real SecretClient + ClientSecretCredential over HTTPS)',
  capabilities: { pending: true, binary: false },
  setup: seeded,
  async terminalFailure() {
    const h = await harness();
    return { store: h.store(), secretId: 'missing', cleanup: h.close };
  },
  async retryableFailure() {
    const h = await harness();
    h.vault.model.addVersion(NAME, 'x');
    h.vault.model.injectFault({ op: 'getSecretVersions', status: 503, times: Infinity });
    return { store: h.store(), secretId: NAME, cleanup: h.close };
  },
  async hanging() {
    const h = await harness();
    h.vault.model.addVersion(NAME, 'x');
    h.vault.model.injectFault({ op: 'getSecretVersions', hang: true, times: Infinity });
    return { store: h.store({ callTimeoutMs: 60_000 }), secretId: NAME, cleanup: h.close };
  },
});
