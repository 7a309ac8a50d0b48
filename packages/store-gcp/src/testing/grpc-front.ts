/**
 * The gRPC front of the fake: `google.cloud.secretmanager.v1.SecretManagerService`, built with
 * `@grpc/proto-loader` from the `protos.json` shipped inside `@google-cloud/secret-manager`.
 *
 * @module
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { statusCode } from '../status.ts';
import { dispatch, type Outcome } from './dispatch.ts';
import type { FakeMethod, SecretManagerModel, SecretView, VersionView } from './model.ts';

type Wire = Record<string, unknown>;

function timestamp(ms: number | undefined): Wire | undefined {
  if (ms === undefined) return undefined;
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

function fromTimestamp(value: unknown): number | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const t = value as { seconds?: unknown; nanos?: unknown };
  return Number(t.seconds ?? 0) * 1000 + Math.floor(Number(t.nanos ?? 0) / 1_000_000);
}

/** Secret → wire object (camelCase, as in the shipped protos.json). */
export function secretToWire(s: SecretView): Wire {
  return {
    name: s.name,
    replication: { automatic: {} },
    createTime: timestamp(s.createTime),
    etag: s.etag,
    versionAliases: Object.fromEntries(Object.entries(s.versionAliases).map(([k, v]) => [k, String(v)])),
    annotations: { ...s.annotations },
    labels: { ...s.labels },
    ...(s.expireTime === undefined ? {} : { expireTime: timestamp(s.expireTime) }),
  };
}

/** SecretVersion → wire object. */
export function versionToWire(v: VersionView): Wire {
  return {
    name: v.name,
    createTime: timestamp(v.createTime),
    ...(v.destroyTime === undefined ? {} : { destroyTime: timestamp(v.destroyTime) }),
    state: v.state,
    etag: v.etag,
    clientSpecifiedPayloadChecksum: v.clientSpecifiedPayloadChecksum,
  };
}

function aliasesFromWire(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = Number(v);
  }
  return out;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = String(v);
  }
  return out;
}

/** Loads the service definition from the client package's protos.json. */
export function loadServiceDefinition(): grpc.ServiceDefinition {
  const require = createRequire(import.meta.url);
  const json = require('@google-cloud/secret-manager/build/protos/protos.json') as protoLoader.Options & object;
  const definition = protoLoader.fromJSON(json as never, {
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { secretmanager: { v1: { SecretManagerService: { service: grpc.ServiceDefinition } } } } };
  };
  return loaded.google.cloud.secretmanager.v1.SecretManagerService.service;
}

type Handler = (request: Wire) => { name: string; run: () => Wire };

function handlers(model: SecretManagerModel): Record<FakeMethod, Handler> {
  return {
    GetSecret: (r) => ({ name: String(r.name ?? ''), run: () => secretToWire(model.getSecret(String(r.name ?? ''))) }),
    CreateSecret: (r) => ({
      name: String(r.parent ?? ''),
      run: () => {
        const secret = (r.secret ?? {}) as Wire;
        return secretToWire(
          model.createSecretIn(String(r.parent ?? ''), String(r.secretId ?? ''), {
            versionAliases: aliasesFromWire(secret.versionAliases),
            annotations: stringMap(secret.annotations),
            expireTime: fromTimestamp(secret.expireTime),
          }),
        );
      },
    }),
    UpdateSecret: (r) => {
      const secret = (r.secret ?? {}) as Wire;
      const mask = ((r.updateMask ?? {}) as { paths?: string[] }).paths ?? [];
      return {
        name: String(secret.name ?? ''),
        run: () =>
          secretToWire(
            model.updateSecret(
              {
                name: String(secret.name ?? ''),
                etag: typeof secret.etag === 'string' ? secret.etag : undefined,
                versionAliases: aliasesFromWire(secret.versionAliases),
                annotations: stringMap(secret.annotations),
                labels: stringMap(secret.labels),
                expireTime: fromTimestamp(secret.expireTime),
              },
              mask,
            ),
          ),
      };
    },
    ListSecretVersions: (r) => ({
      name: String(r.parent ?? ''),
      run: () => {
        const page = model.listVersions(String(r.parent ?? ''), {
          pageSize: r.pageSize === undefined ? undefined : Number(r.pageSize),
          pageToken: typeof r.pageToken === 'string' ? r.pageToken : undefined,
          filter: typeof r.filter === 'string' ? r.filter : undefined,
        });
        return { versions: page.versions.map(versionToWire), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
      },
    }),
    GetSecretVersion: (r) => ({ name: String(r.name ?? ''), run: () => versionToWire(model.getVersion(String(r.name ?? ''))) }),
    AccessSecretVersion: (r) => ({
      name: String(r.name ?? ''),
      run: () => {
        const a = model.access(String(r.name ?? ''));
        return { name: a.name, payload: { data: Buffer.from(a.data), dataCrc32c: String(a.dataCrc32c) } };
      },
    }),
    AddSecretVersion: (r) => ({
      name: String(r.parent ?? ''),
      run: () => {
        const payload = (r.payload ?? {}) as { data?: Uint8Array; dataCrc32c?: string | number };
        return versionToWire(
          model.addVersion(String(r.parent ?? ''), payload.data ?? new Uint8Array(), {
            dataCrc32c: payload.dataCrc32c === undefined ? undefined : Number(payload.dataCrc32c),
          }),
        );
      },
    }),
    EnableSecretVersion: (r) => stateHandler(model, r, 'enable'),
    DisableSecretVersion: (r) => stateHandler(model, r, 'disable'),
    DestroySecretVersion: (r) => stateHandler(model, r, 'destroy'),
  };
}

function stateHandler(model: SecretManagerModel, r: Wire, action: 'enable' | 'disable' | 'destroy'): { name: string; run: () => Wire } {
  const name = String(r.name ?? '');
  return { name, run: () => versionToWire(model.setState(name, action, typeof r.etag === 'string' ? r.etag : undefined)) };
}

/** Corrupts the checksum of an access response (fault `corruptCrc32c`). */
export function corrupt(value: Wire): Wire {
  const payload = value.payload as { data: Buffer; dataCrc32c: string };
  return { ...value, payload: { ...payload, dataCrc32c: String((Number(payload.dataCrc32c) ^ 0x1) >>> 0) } };
}

/** Starts the gRPC front on 127.0.0.1 and resolves to the bound port and the server. */
export async function startGrpcFront(model: SecretManagerModel): Promise<{ server: grpc.Server; port: number }> {
  const service = loadServiceDefinition();
  const table = handlers(model);
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const key of Object.keys(service)) {
    const method = key as FakeMethod;
    const handler = table[method];
    implementation[key] = (call: grpc.ServerUnaryCall<Wire, Wire>, callback: grpc.sendUnaryData<Wire>) => {
      if (handler === undefined) {
        callback({ code: grpc.status.UNIMPLEMENTED, details: `${key} is not implemented by the fake` });
        return;
      }
      const controller = new AbortController();
      call.on('cancelled', () => controller.abort());
      const { name, run } = handler(call.request);
      const routingValue = call.metadata.get('x-goog-request-params')[0];
      void dispatch(
        model,
        {
          method,
          name,
          transport: 'grpc',
          routing: routingValue === undefined ? undefined : String(routingValue),
          signal: controller.signal,
        },
        run,
      ).then((outcome: Outcome<Wire> | undefined) => {
        if (outcome === undefined) return; // cancelled: nobody is listening
        if (!outcome.ok) {
          callback({ code: statusCode(outcome.error.status), details: outcome.error.message });
          return;
        }
        callback(null, outcome.corruptCrc32c && method === 'AccessSecretVersion' ? corrupt(outcome.value) : outcome.value);
      });
    };
  }
  const server = new grpc.Server();
  server.addService(service, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return { server, port };
}
