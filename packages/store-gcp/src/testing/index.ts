/**
 * An offline Secret Manager for tests: the real `@google-cloud/secret-manager` client talks to it
 * over gRPC (insecure, 127.0.0.1) or over REST (`fallback: true`, plain HTTP). Needs the optional
 * peer dependencies `@grpc/grpc-js` and `@grpc/proto-loader`.
 *
 * @example
 * ```ts
 * import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
 * import { startFakeSecretManager } from '@keyturn/store-gcp/testing';
 *
 * const fake = await startFakeSecretManager({ rest: true });
 * fake.model.createSecret('projects/p/secrets/webhook', { versionAliases: { current: 1 } });
 * fake.model.addVersion('projects/p/secrets/webhook', 'whsec_00ff');
 * const client = new SecretManagerServiceClient(fake.grpcClientOptions());
 * // ...
 * await client.close();
 * await fake.close();
 * ```
 *
 * **Experimental**: public so you can test your own rotation code offline, but no production emulator;
 * its API may change in a minor release. What it models and what not: docs/store-gcp.md.
 *
 * @experimental
 * @module
 */
import type { Server as HttpServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { startGrpcFront } from './grpc-front.ts';
import { SecretManagerModel, type SecretManagerModelOptions } from './model.ts';
import { startRestFront } from './rest-front.ts';

export {
  SecretManagerModel,
  FakeStatusError,
  type SecretManagerModelOptions,
  type FakeFault,
  type FakeCall,
  type FakeMethod,
  type VersionStateName,
  type SecretView,
  type VersionView,
  type AccessView,
  type ListView,
  type SeedSecretOptions,
  type SeedVersionOptions,
} from './model.ts';

/** Options of {@link startFakeSecretManager}. */
export interface FakeSecretManagerOptions extends SecretManagerModelOptions {
  /** Also serve the REST (HTTP/JSON) API for `fallback: true` clients. @default false */
  rest?: boolean | undefined;
  /** Project id put into the client options (keeps google-auth-library from probing the metadata server). @default 'test-project' */
  projectId?: string | undefined;
}

/** Client options for a gRPC client pointed at the fake. */
export interface FakeGrpcClientOptions {
  apiEndpoint: string;
  port: number;
  sslCreds: grpc.ChannelCredentials;
  projectId: string;
  /** Set so google-auth-library does not probe the GCE metadata server for it. */
  universeDomain: string;
}

/** Client options for a REST (`fallback`) client pointed at the fake. */
export interface FakeRestClientOptions {
  fallback: true;
  protocol: 'http';
  apiEndpoint: string;
  port: number;
  projectId: string;
  /** A credential-free auth client: no tokens, plain `fetch`. */
  authClient: {
    getRequestHeaders(): Promise<Headers>;
    fetch(
      url: string | URL,
      init: { method?: string; headers?: HeadersInit; body?: string | Uint8Array; signal?: AbortSignal },
    ): Promise<Response>;
  };
}

/** A running fake Secret Manager. */
export interface FakeSecretManager {
  /** The in-memory service: seed secrets and versions, inject faults, read the call log. */
  readonly model: SecretManagerModel;
  /** Port of the gRPC front on 127.0.0.1. */
  readonly grpcPort: number;
  /** Port of the REST front on 127.0.0.1, when started with `rest: true`. */
  readonly restPort: number | undefined;
  /** Options for `new SecretManagerServiceClient(...)` over gRPC. */
  grpcClientOptions(): FakeGrpcClientOptions;
  /** Options for `new SecretManagerServiceClient(...)` over REST. Throws unless started with `rest: true`. */
  restClientOptions(): FakeRestClientOptions;
  /** Stops both fronts at once (`forceShutdown`, open HTTP connections closed). */
  close(): Promise<void>;
}

/** Starts the fake: a gRPC server (and optionally a REST server) on 127.0.0.1 over one model. */
export async function startFakeSecretManager(options: FakeSecretManagerOptions = {}): Promise<FakeSecretManager> {
  const model = new SecretManagerModel(options);
  const projectId = options.projectId ?? 'test-project';
  const grpcFront = await startGrpcFront(model);
  let rest: { server: HttpServer; port: number } | undefined;
  try {
    rest = options.rest === true ? await startRestFront(model) : undefined;
  } catch (err) {
    grpcFront.server.forceShutdown();
    throw err;
  }
  return {
    model,
    grpcPort: grpcFront.port,
    restPort: rest?.port,
    grpcClientOptions: () => ({
      apiEndpoint: '127.0.0.1',
      port: grpcFront.port,
      sslCreds: grpc.credentials.createInsecure(),
      projectId,
      universeDomain: 'googleapis.com',
    }),
    restClientOptions: () => {
      if (rest === undefined) throw new Error('startFakeSecretManager(): start with { rest: true } to get REST client options');
      return {
        fallback: true,
        protocol: 'http',
        apiEndpoint: '127.0.0.1',
        port: rest.port,
        projectId,
        authClient: {
          getRequestHeaders: async () => new Headers(),
          fetch: (url, init) =>
            fetch(url, {
              method: init.method,
              headers: init.headers,
              body: init.body,
              signal: init.signal,
            } as RequestInit),
        },
      };
    },
    close: async () => {
      grpcFront.server.forceShutdown();
      if (rest !== undefined) {
        const server = rest.server;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
