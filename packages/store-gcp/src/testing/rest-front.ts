/**
 * The REST (HTTP/JSON) front of the fake, for clients built with `fallback: true`. Encodes proto3
 * JSON by hand (camelCase, int64 as strings, bytes as base64, RFC 3339 timestamps, enums as numbers
 * when `$alt=json;enum-encoding=int` asks for them): an implementation independent of the client's.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusName } from '../status.ts';
import { dispatch, type IncomingCall } from './dispatch.ts';
import type { FakeMethod, SecretManagerModel, SecretView, VersionView } from './model.ts';

const HTTP_STATUS: Record<StatusName, number> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

const STATE_NUMBER = { ENABLED: 1, DISABLED: 2, DESTROYED: 3 } as const;

type Json = Record<string, unknown>;

function rfc3339(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function secretJson(s: SecretView): Json {
  return {
    name: s.name,
    replication: { automatic: {} },
    createTime: rfc3339(s.createTime),
    etag: s.etag,
    versionAliases: Object.fromEntries(Object.entries(s.versionAliases).map(([k, v]) => [k, String(v)])),
    annotations: { ...s.annotations },
    labels: { ...s.labels },
    ...(s.expireTime === undefined ? {} : { expireTime: rfc3339(s.expireTime) }),
  };
}

function versionJson(v: VersionView, intEnums: boolean): Json {
  return {
    name: v.name,
    createTime: rfc3339(v.createTime),
    ...(v.destroyTime === undefined ? {} : { destroyTime: rfc3339(v.destroyTime) }),
    state: intEnums ? STATE_NUMBER[v.state] : v.state,
    etag: v.etag,
    clientSpecifiedPayloadChecksum: v.clientSpecifiedPayloadChecksum,
  };
}

function numberMap(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value as Json)) out[k] = Number(v);
  return out;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value as Json)) out[k] = String(v);
  return out;
}

const SECRET = 'projects/[^/:]+(?:/locations/[^/:]+)?/secrets/[^/:]+';
const PARENT = 'projects/[^/:]+(?:/locations/[^/:]+)?';

interface Route {
  method: FakeMethod;
  name: string;
  run: () => Json;
}

function route(
  model: SecretManagerModel,
  verb: string,
  path: string,
  query: URLSearchParams,
  body: Json,
  intEnums: boolean,
): Route | undefined {
  let m: RegExpExecArray | null;
  if (verb === 'GET' && (m = new RegExp(`^/v1/(${SECRET})$`).exec(path))) {
    const name = m[1] as string;
    return { method: 'GetSecret', name, run: () => secretJson(model.getSecret(name)) };
  }
  if (verb === 'GET' && (m = new RegExp(`^/v1/(${SECRET})/versions$`).exec(path))) {
    const parent = m[1] as string;
    return {
      method: 'ListSecretVersions',
      name: parent,
      run: () => {
        const pageSize = query.get('pageSize');
        const page = model.listVersions(parent, {
          pageSize: pageSize === null ? undefined : Number(pageSize),
          pageToken: query.get('pageToken') ?? undefined,
          filter: query.get('filter') ?? undefined,
        });
        return {
          versions: page.versions.map((v) => versionJson(v, intEnums)),
          ...(page.nextPageToken === '' ? {} : { nextPageToken: page.nextPageToken }),
          totalSize: page.totalSize,
        };
      },
    };
  }
  if (verb === 'GET' && (m = new RegExp(`^/v1/(${SECRET}/versions/[^/:]+):access$`).exec(path))) {
    const name = m[1] as string;
    return {
      method: 'AccessSecretVersion',
      name,
      run: () => {
        const a = model.access(name);
        return { name: a.name, payload: { data: Buffer.from(a.data).toString('base64'), dataCrc32c: String(a.dataCrc32c) } };
      },
    };
  }
  if (verb === 'GET' && (m = new RegExp(`^/v1/(${SECRET}/versions/[^/:]+)$`).exec(path))) {
    const name = m[1] as string;
    return { method: 'GetSecretVersion', name, run: () => versionJson(model.getVersion(name), intEnums) };
  }
  if (verb === 'POST' && (m = new RegExp(`^/v1/(${SECRET}):addVersion$`).exec(path))) {
    const parent = m[1] as string;
    return {
      method: 'AddSecretVersion',
      name: parent,
      run: () => {
        const payload = (body.payload ?? {}) as { data?: string; dataCrc32c?: string | number };
        const data = Buffer.from(payload.data ?? '', 'base64');
        return versionJson(
          model.addVersion(parent, data, { dataCrc32c: payload.dataCrc32c === undefined ? undefined : Number(payload.dataCrc32c) }),
          intEnums,
        );
      },
    };
  }
  if (verb === 'POST' && (m = new RegExp(`^/v1/(${SECRET}/versions/[^/:]+):(enable|disable|destroy)$`).exec(path))) {
    const name = m[1] as string;
    const action = m[2] as 'enable' | 'disable' | 'destroy';
    const method = ({ enable: 'EnableSecretVersion', disable: 'DisableSecretVersion', destroy: 'DestroySecretVersion' } as const)[action];
    return {
      method,
      name,
      run: () => versionJson(model.setState(name, action, typeof body.etag === 'string' ? body.etag : undefined), intEnums),
    };
  }
  if (verb === 'PATCH' && (m = new RegExp(`^/v1/(${SECRET})$`).exec(path))) {
    const name = m[1] as string;
    const mask = (query.get('updateMask') ?? '').split(',').filter((p) => p !== '');
    return {
      method: 'UpdateSecret',
      name,
      run: () =>
        secretJson(
          model.updateSecret(
            {
              name,
              etag: typeof body.etag === 'string' ? body.etag : undefined,
              versionAliases: numberMap(body.versionAliases),
              annotations: stringMap(body.annotations),
              labels: stringMap(body.labels),
              expireTime: parseTime(body.expireTime),
            },
            mask,
          ),
        ),
    };
  }
  if (verb === 'POST' && (m = new RegExp(`^/v1/(${PARENT})/secrets$`).exec(path))) {
    const parent = m[1] as string;
    return {
      method: 'CreateSecret',
      name: parent,
      run: () =>
        secretJson(
          model.createSecretIn(parent, query.get('secretId') ?? '', {
            versionAliases: numberMap(body.versionAliases),
            annotations: stringMap(body.annotations),
            expireTime: parseTime(body.expireTime),
          }),
        ),
    };
  }
  return undefined;
}

function send(res: ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: StatusName, message: string): void {
  send(res, HTTP_STATUS[status], { error: { code: HTTP_STATUS[status], message, status } });
}

async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return {};
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? {} : (JSON.parse(text) as Json);
}

/** Starts the REST front on 127.0.0.1 and resolves to the bound port and the server. */
export async function startRestFront(model: SecretManagerModel): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      // gax sends `$alt=json;enum-encoding=int` as one parameter.
      const alt = url.searchParams.get('$alt') ?? '';
      const intEnums = alt.includes('enum-encoding=int');
      let body: Json;
      try {
        body = await readBody(req);
      } catch {
        sendError(res, 'INVALID_ARGUMENT', 'Invalid JSON body.');
        return;
      }
      const path = decodeURIComponent(url.pathname);
      const found = route(model, req.method ?? 'GET', path, url.searchParams, body, intEnums);
      if (found === undefined) {
        sendError(res, 'UNIMPLEMENTED', `No route for ${req.method} ${path}`);
        return;
      }
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      const routing = req.headers['x-goog-request-params'];
      const incoming: IncomingCall = {
        method: found.method,
        name: found.name,
        transport: 'rest',
        routing: Array.isArray(routing) ? routing[0] : routing,
        signal: controller.signal,
      };
      const outcome = await dispatch(model, incoming, found.run);
      if (outcome === undefined) return;
      if (!outcome.ok) {
        sendError(res, outcome.error.status, outcome.error.message);
        return;
      }
      let value = outcome.value;
      if (outcome.corruptCrc32c && found.method === 'AccessSecretVersion') {
        const payload = value.payload as { data: string; dataCrc32c: string };
        value = { ...value, payload: { ...payload, dataCrc32c: String((Number(payload.dataCrc32c) ^ 1) >>> 0) } };
      }
      send(res, 200, value);
    })();
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return { server, port };
}
