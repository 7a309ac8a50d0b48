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
import { dataspikeRotationStory, STORY_GRACE_MS } from './story.ts';

describe('AWS Secrets Manager', () => {
  dataspikeRotationStory('aws store', async (initial, clock) => {
    const server = await startSecretsManagerServer({ now: clock });
    const secretId = 'prod/webhooks/dataspike';
    server.createSecret(secretId, initial);
    // In the raw format readers derive the AWSPREVIOUS window from the store's previousGraceMs
    // (CreatedDate + grace), so the store is configured with the grace the rotation asks for.
    const store = awsSecretsManagerStore({ clientConfig: server.clientConfig(), now: clock, previousGraceMs: STORY_GRACE_MS });
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
