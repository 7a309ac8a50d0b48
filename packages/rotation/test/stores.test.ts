/**
 * The Dataspike rotation story on the cloud stores, each through its real client library talking
 * to the offline server its package ships (awsJson1_1 over HTTP; Secret Manager over gRPC).
 */
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { awsSecretsManagerStore } from '@keyturn/store-aws';
import { startSecretsManagerServer } from '@keyturn/store-aws/testing';
import { gcpSecretManagerStore, type SecretManagerClientLike } from '@keyturn/store-gcp';
import { startFakeSecretManager } from '@keyturn/store-gcp/testing';
import { describe, expect, it } from 'vitest';
import { rotateDataspikeSecret } from '../src/index.ts';
import { startDataspikeTestServer } from '../src/testing/index.ts';
import { dataspikeRotationStory, INITIAL, STORY_GRACE_MS } from './story.ts';

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

describe('GCP Secret Manager: a concurrent change during the store write', () => {
  it('a stale etag (FAILED_PRECONDITION) is a retryable CONFLICT: the workflow retries and stores the secret, with one version added', async () => {
    const fake = await startFakeSecretManager();
    const client = new SecretManagerServiceClient(fake.grpcClientOptions() as never) as unknown as SecretManagerClientLike;
    const secretId = 'projects/test-project/secrets/dataspike-webhook';
    fake.model.createSecret(secretId, { versionAliases: { current: 1 } });
    fake.model.addVersion(secretId, INITIAL);
    const store = gcpSecretManagerStore({ client });
    const ds = await startDataspikeTestServer({ apiKey: 'k', webhooks: { w: INITIAL } });
    try {
      // Another writer touches the secret before each of the first four guarded updates: the store's
      // own three re-reads are used up, the workflow's second attempt gets through.
      let edits = 0;
      fake.model.injectFault({
        method: 'UpdateSecret',
        times: 4,
        onCall: () => fake.model.updateSecret({ name: secretId, labels: { edit: String(++edits) } }, ['labels']),
      });
      const progress: string[] = [];
      const result = await rotateDataspikeSecret({
        apiKey: 'k',
        baseUrl: ds.url,
        webhookId: 'w',
        store,
        secretId,
        graceMs: STORY_GRACE_MS,
        sleep: async () => undefined,
        onProgress: (e) => progress.push(e.step),
      });
      expect(result).toMatchObject({
        attempts: 2,
        confirmed: true,
        activeId: `${secretId}/versions/2`,
        previousId: `${secretId}/versions/1`,
        previousUnbounded: false,
      });
      expect(progress).toContain('store-write-retry');
      expect(fake.model.callsOf('AddSecretVersion')).toHaveLength(1);
      expect(fake.model.getSecret(secretId).versionAliases).toEqual({ current: 2, previous: 1 });
      const versions = await store.getVersions(secretId, { signal: new AbortController().signal });
      expect(versions.map((v) => [v.role, new TextDecoder().decode(v.secret as Uint8Array)])).toEqual([
        ['active', ds.currentSecret('w')],
        ['previous', INITIAL],
      ]);
    } finally {
      await ds.close();
      await store.dispose?.();
      await client.close?.();
      await fake.close();
    }
  });
});
