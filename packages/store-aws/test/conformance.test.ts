import { runKeyStoreConformance } from '@keyturn/core/testing';
import { afterAll, beforeAll } from 'vitest';
import { awsSecretsManagerStore } from '../src/index.ts';
import { startSecretsManagerServer, type SecretsManagerServer } from '../src/testing/index.ts';

let server: SecretsManagerServer;
let n = 0;
beforeAll(async () => {
  server = await startSecretsManagerServer();
});
afterAll(async () => {
  await server.close();
});

const store = () => awsSecretsManagerStore({ clientConfig: server.clientConfig(), acceptPending: true });

runKeyStoreConformance({
  name: 'awsSecretsManagerStore (real SDK client, local awsJson1_1 server)',
  capabilities: { pending: true, binary: true },
  async setup({ active, previous, pending, binary }) {
    const secretId = `conformance/secret-${++n}`;
    server.createSecret(secretId, previous);
    server.putSecretValue(secretId, binary ?? active); // AWSCURRENT moves here, AWSPREVIOUS onto the first version
    if (pending !== undefined) server.putSecretValue(secretId, pending, { stages: ['AWSPENDING'] });
    return { store: store(), secretId };
  },
  async terminalFailure() {
    return { store: store(), secretId: 'conformance/does-not-exist' };
  },
  async retryableFailure() {
    const secretId = `conformance/throttled-${++n}`;
    server.createSecret(secretId, 'value-never-read');
    server.inject({ kind: 'throttle' }, { times: 10 });
    return { store: store(), secretId, cleanup: async () => server.clearFaults() };
  },
  async hanging() {
    const secretId = `conformance/hanging-${++n}`;
    server.createSecret(secretId, 'value-never-read');
    server.inject({ kind: 'hang' }, { times: 10 });
    return { store: store(), secretId, cleanup: async () => server.clearFaults() };
  },
});
