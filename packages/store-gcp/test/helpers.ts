import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { SecretManagerClientLike } from '../src/index.ts';
import { startFakeSecretManager, type FakeSecretManager, type FakeSecretManagerOptions } from '../src/testing/index.ts';

export type Transport = 'grpc' | 'rest';

export interface Harness {
  fake: FakeSecretManager;
  client: SecretManagerClientLike;
  close(): Promise<void>;
}

/** A fake server plus a real client pointed at it over the given transport. */
export async function harness(transport: Transport = 'grpc', options: FakeSecretManagerOptions = {}): Promise<Harness> {
  const fake = await startFakeSecretManager({ ...options, rest: transport === 'rest' || options.rest === true });
  const clientOptions = transport === 'grpc' ? fake.grpcClientOptions() : fake.restClientOptions();
  const client: SecretManagerClientLike = new SecretManagerServiceClient(clientOptions as never);
  return {
    fake,
    client,
    close: async () => {
      await client.close?.();
      await fake.close();
    },
  };
}

export const text = (bytes: string | Uint8Array): string => (typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));
export const signal = (): AbortSignal => new AbortController().signal;
