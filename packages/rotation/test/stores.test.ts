/**
 * The Dataspike rotation story on the cloud stores, each through its real client library talking
 * to the offline server its package ships (awsJson1_1 over HTTP; Secret Manager over gRPC).
 */
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { awsSecretsManagerStore } from '@keyturn/store-aws';
import { startSecretsManagerServer } from '@keyturn/store-aws/testing';
import { gcpSecretManagerStore, type SecretManagerClientLike } from '@keyturn/store-gcp';
import { startFakeSecretManager } from '@keyturn/store-gcp/testing';
import { describe } from 'vitest';
import { dataspikeRotationStory } from './story.ts';

describe('AWS Secrets Manager', () => {
  dataspikeRotationStory('aws store', async (initial, clock) => {
    const server = await startSecretsManagerServer({ now: clock });
    const secretId = 'prod/webhooks/dataspike';
    server.createSecret(secretId, initial);
    // The store keeps its 24 h default: rotate() records the story's grace with the secret, and
    // readers enforce the recorded window (the story checks reported == read back).
    const store = awsSecretsManagerStore({ clientConfig: server.clientConfig(), now: clock });
    return {
      store,
      secretId,
      cleanup: async () => {
        store.dispose();
        await server.close();
      },
    };
  });
});

describe('GCP Secret Manager', () => {
  dataspikeRotationStory('gcp store', async (initial, clock) => {
    const fake = await startFakeSecretManager({ now: clock });
    const client = new SecretManagerServiceClient(fake.grpcClientOptions() as never) as unknown as SecretManagerClientLike;
    const secretId = 'projects/test-project/secrets/dataspike-webhook';
    fake.model.createSecret(secretId, { versionAliases: { current: 1 } });
    fake.model.addVersion(secretId, initial);
    const store = gcpSecretManagerStore({ client, mode: 'aliases', now: clock });
    return {
      store,
      secretId,
      cleanup: async () => {
        await store.dispose?.();
        await client.close?.();
        await fake.close();
      },
    };
  });
});
