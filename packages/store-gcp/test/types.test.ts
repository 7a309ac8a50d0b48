import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { expect, it } from 'vitest';
import { gcpSecretManagerStore } from '../src/index.ts';

it('accepts a real SecretManagerServiceClient without casts (type-level)', async () => {
  const client = new SecretManagerServiceClient({
    projectId: 'p',
    universeDomain: 'googleapis.com',
    fallback: true,
    authClient: { getRequestHeaders: async () => new Headers() } as never,
  });
  const store = gcpSecretManagerStore({ client });
  expect(store.name).toBe('gcp-secret-manager');
  await client.close();
});
