/**
 * The HTTPS front of the offline Key Vault: the secrets REST API (`/secrets`, `/deletedsecrets`) with
 * challenge-based bearer authentication, and a minimal Microsoft Entra token endpoint (OpenID
 * configuration + client-credentials grant) on the same port, so the real `@azure/keyvault-secrets`
 * and `@azure/identity` clients run their whole pipeline against it.
 *
 * @module
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TestCertificates } from './certs.ts';
import {
  KeyVaultError,
  type KeyVaultCall,
  type KeyVaultModel,
  type KeyVaultOperation,
  type SecretRecord,
  type VersionRecord,
} from './model.ts';

/** Service versions the front accepts in `api-version`. */
export const SUPPORTED_API_VERSIONS: readonly string[] = ['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01', '2026-04-01'];

/** Settings of the front. */
export interface FrontOptions {
  readonly model: KeyVaultModel;
  readonly certificates: TestCertificates;
  readonly vaultHost: string;
  readonly loginHost: string;
  readonly resource: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly pageSize: number;
  readonly nextLinkApiVersion: string | undefined;
  readonly tokenLifetimeSeconds: number;
}

/** A token request the front answered (never the client secret). */
export interface TokenRequest {
  /** The requested scope. */
  readonly scope: string;
  /** The client id presented. */
  readonly clientId: string;
  /** Whether a token was issued. */
  readonly issued: boolean;
}

/** What the running front exposes. */
export interface Front {
  readonly server: Server;
  readonly port: number;
  readonly tokenRequests: TokenRequest[];
  /** 401 challenges sent (requests that came without a valid token). */
  challenges: number;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Starts the front on 127.0.0.1 (an ephemeral port). */
export async function startFront(o: FrontOptions): Promise<Front> {
  const signingKey = randomBytes(32);
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let port = 0;
  const vaultOrigin = () => `https://${o.vaultHost}:${port}`;
  const loginOrigin = () => `https://${o.loginHost}:${port}`;

  const front: Front = {
    server: undefined as unknown as Server,
    port: 0,
    tokenRequests: [],
    challenges: 0,
    async close() {
      for (const res of hanging) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => front.server.close(() => resolve()));
    },
  };

  const server = createServer({ key: o.certificates.keyPem, cert: o.certificates.certPem }, (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalServerError', message: String((err as Error)?.message ?? err) } });
      else res.destroy();
    });
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  (front as { server: Server }).server = server;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://front.invalid');
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const body = await readBody(req);
    if (host === o.loginHost) return login(req, res, url, body);
    if (host !== o.vaultHost) return sendJson(res, 404, { error: { code: 'NotFound', message: `No vault is served at ${host}.` } });
    return vault(req, res, url, body);
  }

  // --- Microsoft Entra ID (the part the client-credentials flow uses) ---

  function login(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    const parts = url.pathname.split('/').filter((p) => p.length > 0);
    const tenant = parts[0];
    if (tenant !== o.tenantId) {
      return sendJson(res, 400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenant ?? ''}' not found.` });
    }
    const rest = parts.slice(1).join('/');
    if (req.method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
      const base = `${loginOrigin()}/${o.tenantId}`;
      return sendJson(res, 200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        jwks_uri: `${loginOrigin()}/${o.tenantId}/discovery/v2.0/keys`,
        issuer: `${loginOrigin()}/${o.tenantId}/v2.0`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      });
    }
    if (req.method === 'POST' && rest === 'oauth2/v2.0/token') {
      const fault = o.model.takeFault('token', false);
      if (fault?.hang === true) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (fault !== undefined) {
        return sendJson(res, fault.status ?? 503, {
          error: fault.code ?? 'temporarily_unavailable',
          error_description: fault.message ?? 'AADSTS90033: A transient error has occurred. Please try again.',
        });
      }
      const form = new URLSearchParams(body);
      const scope = form.get('scope') ?? '';
      const clientId = form.get('client_id') ?? '';
      const secretOk = safeEqual(form.get('client_secret') ?? '', o.clientSecret);
      const record = (issued: boolean) => front.tokenRequests.push({ scope, clientId, issued });
      if (form.get('grant_type') !== 'client_credentials') {
        record(false);
        return sendJson(res, 400, {
          error: 'unsupported_grant_type',
          error_description: 'AADSTS70003: The app requested an unsupported grant type.',
        });
      }
      if (clientId !== o.clientId || !secretOk) {
        record(false);
        return sendJson(res, 401, {
          error: 'invalid_client',
          error_description:
            'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
          error_codes: [7000215],
        });
      }
      const resource = scope.endsWith('/.default') ? scope.slice(0, -'/.default'.length) : '';
      if (resource.length === 0) {
        record(false);
        return sendJson(res, 400, {
          error: 'invalid_scope',
          error_description: `AADSTS70011: The provided value for the input parameter 'scope' is not valid.`,
        });
      }
      record(true);
      const iat = Math.floor(Date.now() / 1000);
      const token = jwt({
        aud: resource,
        iss: `${loginOrigin()}/${o.tenantId}/`,
        iat,
        nbf: iat,
        exp: iat + o.tokenLifetimeSeconds,
        appid: clientId,
        tid: o.tenantId,
        oid: randomUUID(),
      });
      return sendJson(res, 200, {
        token_type: 'Bearer',
        expires_in: o.tokenLifetimeSeconds,
        ext_expires_in: o.tokenLifetimeSeconds,
        access_token: token,
      });
    }
    return sendJson(res, 404, { error: 'not_found', error_description: `No endpoint ${req.method} ${url.pathname}` });
  }

  function jwt(claims: Record<string, unknown>): string {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const head = `${enc({ typ: 'JWT', alg: 'HS256' })}.${enc(claims)}`;
    return `${head}.${createHmac('sha256', signingKey).update(head).digest('base64url')}`;
  }

  /** Why a bearer token is refused, or `undefined` when it is good for this vault. */
  function tokenProblem(header: string | undefined): string | undefined {
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(header ?? '');
    if (m === null) return 'AKV10000: Request is missing a Bearer or PoP token.';
    const [, h, p, s] = m as unknown as [string, string, string, string];
    const expected = createHmac('sha256', signingKey).update(`${h}.${p}`).digest('base64url');
    if (!safeEqual(s, expected)) return 'AKV10032: Invalid issuer or signature.';
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { aud?: string; exp?: number; tid?: string };
    if (claims.aud !== o.resource && claims.aud !== `${o.resource}/`)
      return `AKV10022: Invalid audience. Expected ${o.resource}, found: ${claims.aud ?? ''}.`;
    if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(Date.now() / 1000)) return 'AKV10012: Token has expired.';
    if (claims.tid !== o.tenantId) return 'AKV10032: Invalid issuer.';
    return undefined;
  }

  // --- Key Vault secrets ---

  async function vault(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> {
    const problem = tokenProblem(req.headers.authorization);
    if (problem !== undefined) {
      front.challenges += 1;
      res.setHeader('WWW-Authenticate', `Bearer authorization="${loginOrigin()}/${o.tenantId}", resource="${o.resource}"`);
      return sendJson(res, 401, { error: { code: 'Unauthorized', message: problem } });
    }
    const route = routeOf(req.method ?? 'GET', url.pathname);
    if (route === undefined)
      return sendJson(res, 404, { error: { code: 'NotFound', message: `No operation ${req.method} ${url.pathname}` } });
    const apiVersion = url.searchParams.get('api-version') ?? '';
    const continuation = url.searchParams.has('$skiptoken');
    const call: KeyVaultCall = { op: route.op, name: route.name, version: route.version, apiVersion, continuation, status: 0 };
    o.model.calls.push(call);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      if (status === 204) {
        res.writeHead(204).end();
        return;
      }
      sendJson(res, status, payload);
    };
    if (apiVersion === '')
      return send(400, {
        error: { code: 'BadParameter', message: 'The api-version query parameter (?api-version=) is required for all requests.' },
      });
    if (!SUPPORTED_API_VERSIONS.includes(apiVersion)) {
      return send(400, {
        error: {
          code: 'BadParameter',
          message: `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (${SUPPORTED_API_VERSIONS.at(-1)}).`,
        },
      });
    }
    const fault = o.model.takeFault(route.op, continuation);
    if (fault !== undefined) {
      if (fault.hang === true) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (fault.reset === true) {
        req.socket.destroy();
        return;
      }
      if (fault.rawBody !== undefined) {
        call.status = 200;
        res.writeHead(200, { 'content-type': JSON_TYPE }).end(fault.rawBody);
        return;
      }
      const status = fault.status ?? 503;
      const code = fault.code ?? defaultCode(status);
      const error: Record<string, unknown> = { code, message: fault.message ?? defaultMessage(status) };
      if (fault.innerCode !== undefined) error['innererror'] = { code: fault.innerCode };
      return send(status, { error }, fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) });
    }
    try {
      const [status, payload] = serve(route, url, body);
      return send(status, payload);
    } catch (err) {
      if (err instanceof KeyVaultError) {
        const error: Record<string, unknown> = { code: err.code, message: err.message };
        if (err.innerCode !== undefined) error['innererror'] = { code: err.innerCode };
        return send(err.status, { error });
      }
      throw err;
    }
  }

  function serve(route: Route, url: URL, rawBody: string): [number, unknown] {
    const m = o.model;
    const name = route.name as string;
    switch (route.op) {
      case 'setSecret': {
        const b = parseJson(rawBody);
        if (typeof b['value'] !== 'string') throw new KeyVaultError(400, 'BadParameter', 'Property "value" is required.');
        const attrs = attributesOf(b['attributes']);
        const rec = m.setSecret(
          name,
          b['value'],
          {
            ...(attrs.enabled === undefined ? {} : { enabled: attrs.enabled }),
            ...(attrs.nbf === undefined || attrs.nbf === null ? {} : { nbf: attrs.nbf }),
            ...(attrs.exp === undefined || attrs.exp === null ? {} : { exp: attrs.exp }),
          },
          tagsOf(b['tags']),
          typeof b['contentType'] === 'string' ? b['contentType'] : undefined,
        );
        return [200, bundle(m.secrets.get(name.toLowerCase()) as SecretRecord, rec, true)];
      }
      case 'getSecret': {
        const { secret, record } = m.getSecret(name, route.version);
        return [200, bundle(secret, record, true)];
      }
      case 'updateSecret': {
        const b = parseJson(rawBody);
        const { secret, record } = m.updateSecret(
          name,
          route.version,
          attributesOf(b['attributes']),
          tagsOf(b['tags']),
          typeof b['contentType'] === 'string' ? b['contentType'] : undefined,
        );
        return [200, bundle(secret, record, false)];
      }
      case 'getSecretVersions': {
        const { secret, records } = m.listVersions(name);
        return [
          200,
          page(
            url,
            `/secrets/${name}/versions`,
            records.map((r) => item(secret as SecretRecord, r, true)),
          ),
        ];
      }
      case 'getSecrets': {
        const all = [...m.secrets.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
        return [
          200,
          page(
            url,
            '/secrets',
            all.map((s) => item(s, s.versions[s.versions.length - 1] as VersionRecord, false)),
          ),
        ];
      }
      case 'deleteSecret':
        return [200, deletedBundle(m.deleteSecret(name))];
      case 'getDeletedSecret':
        return [200, deletedBundle(m.getDeletedSecret(name))];
      case 'getDeletedSecrets': {
        const all = [...m.deleted.values()].sort((a, b) => (a.secret.name < b.secret.name ? -1 : 1));
        return [
          200,
          page(
            url,
            '/deletedsecrets',
            all.map((d) => deletedItem(d)),
          ),
        ];
      }
      case 'recoverDeletedSecret': {
        const secret = m.recoverDeletedSecret(name);
        return [200, bundle(secret, secret.versions[secret.versions.length - 1] as VersionRecord, false)];
      }
      case 'purgeDeletedSecret':
        m.purgeDeletedSecret(name);
        return [204, undefined];
      case 'token':
        throw new KeyVaultError(404, 'NotFound', 'The token endpoint is not a vault operation.');
    }
  }

  /** One page of a list, with a `nextLink` (absolute, with `$skiptoken`) when more items follow. */
  function page(url: URL, path: string, items: unknown[]): { value: unknown[]; nextLink: string | null } {
    const max = url.searchParams.get('maxresults');
    let size = o.pageSize;
    if (max !== null) {
      const n = Number(max);
      if (!/^\d+$/.test(max) || n < 1 || n > 25)
        throw new KeyVaultError(400, 'BadParameter', 'Invalid maxresults: it must be between 1 and 25.');
      size = Math.min(size, n);
    }
    let offset = 0;
    const token = url.searchParams.get('$skiptoken');
    if (token !== null) {
      try {
        offset = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { NextMarker: number }).NextMarker;
      } catch {
        offset = Number.NaN;
      }
      if (!Number.isInteger(offset) || offset < 0) throw new KeyVaultError(400, 'BadParameter', 'The skip token is not valid.');
    }
    const value = items.slice(offset, offset + size);
    if (offset + size >= items.length) return { value, nextLink: null };
    const next = Buffer.from(JSON.stringify({ NextMarker: offset + size, TargetLocation: 0 })).toString('base64');
    const apiVersion = o.nextLinkApiVersion ?? url.searchParams.get('api-version');
    const tail = max === null ? '' : `&maxresults=${max}`;
    return { value, nextLink: `${vaultOrigin()}${path}?api-version=${apiVersion}&$skiptoken=${encodeURIComponent(next)}${tail}` };
  }

  function attributes(r: VersionRecord): Record<string, unknown> {
    const a: Record<string, unknown> = { enabled: r.enabled };
    if (r.nbf !== undefined) a['nbf'] = r.nbf;
    if (r.exp !== undefined) a['exp'] = r.exp;
    a['created'] = r.created;
    a['updated'] = r.updated;
    a['recoveryLevel'] = o.model.recoveryLevel;
    a['recoverableDays'] = o.model.recoverableDays;
    return a;
  }

  function bundle(s: SecretRecord, r: VersionRecord, withValue: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (withValue) out['value'] = r.value;
    out['id'] = `${vaultOrigin()}/secrets/${s.name}/${r.version}`;
    if (r.contentType !== undefined) out['contentType'] = r.contentType;
    out['attributes'] = attributes(r);
    if (r.tags !== undefined) out['tags'] = r.tags;
    return out;
  }

  function item(s: SecretRecord, r: VersionRecord, withVersion: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: `${vaultOrigin()}/secrets/${s.name}${withVersion ? `/${r.version}` : ''}`,
      attributes: attributes(r),
    };
    if (r.tags !== undefined) out['tags'] = r.tags;
    if (r.contentType !== undefined) out['contentType'] = r.contentType;
    return out;
  }

  function deletedBundle(d: { secret: SecretRecord; deletedDate: number; scheduledPurgeDate: number }): Record<string, unknown> {
    const newest = d.secret.versions[d.secret.versions.length - 1] as VersionRecord;
    return {
      recoveryId: `${vaultOrigin()}/deletedsecrets/${d.secret.name}`,
      deletedDate: d.deletedDate,
      scheduledPurgeDate: d.scheduledPurgeDate,
      ...bundle(d.secret, newest, false),
    };
  }

  function deletedItem(d: { secret: SecretRecord; deletedDate: number; scheduledPurgeDate: number }): Record<string, unknown> {
    const newest = d.secret.versions[d.secret.versions.length - 1] as VersionRecord;
    return {
      recoveryId: `${vaultOrigin()}/deletedsecrets/${d.secret.name}`,
      deletedDate: d.deletedDate,
      scheduledPurgeDate: d.scheduledPurgeDate,
      ...item(d.secret, newest, false),
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  (front as { port: number }).port = port;
  return front;
}

interface Route {
  op: KeyVaultOperation;
  name: string | undefined;
  version: string | undefined;
}

function routeOf(method: string, pathname: string): Route | undefined {
  const parts = pathname.split('/').filter((p, i) => i > 0 && (p.length > 0 || i === 3));
  // Collapse the empty segments the SDK produces for an absent version (`/secrets/name/`).
  const [kind, a, b, c] = parts.map((p) => decodeURIComponent(p)) as (string | undefined)[];
  const route = (op: KeyVaultOperation, name?: string, version?: string): Route => ({
    op,
    name,
    version: version === '' ? undefined : version,
  });
  if (kind === 'secrets') {
    if (a === undefined || a === '') return method === 'GET' ? route('getSecrets') : undefined;
    if (b === 'versions' && c === undefined && method === 'GET') return route('getSecretVersions', a);
    if (c !== undefined) return undefined;
    if (method === 'PUT' && (b === undefined || b === '')) return route('setSecret', a);
    if (method === 'DELETE' && (b === undefined || b === '')) return route('deleteSecret', a);
    if (method === 'GET') return route('getSecret', a, b);
    if (method === 'PATCH') return route('updateSecret', a, b);
    return undefined;
  }
  if (kind === 'deletedsecrets') {
    if (a === undefined || a === '') return method === 'GET' ? route('getDeletedSecrets') : undefined;
    if (b === 'recover' && method === 'POST') return route('recoverDeletedSecret', a);
    if (b !== undefined && b !== '') return undefined;
    if (method === 'GET') return route('getDeletedSecret', a);
    if (method === 'DELETE') return route('purgeDeletedSecret', a);
  }
  return undefined;
}

function attributesOf(v: unknown): { enabled?: boolean; nbf?: number | null; exp?: number | null } {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new KeyVaultError(400, 'BadParameter', 'Property "attributes" must be an object.');
  const a = v as Record<string, unknown>;
  const out: { enabled?: boolean; nbf?: number | null; exp?: number | null } = {};
  if (a['enabled'] !== undefined && a['enabled'] !== null) {
    if (typeof a['enabled'] !== 'boolean') throw new KeyVaultError(400, 'BadParameter', 'Property "enabled" must be a boolean.');
    out.enabled = a['enabled'];
  }
  for (const key of ['nbf', 'exp'] as const) {
    const t = a[key];
    if (t === undefined) continue;
    if (t !== null && (typeof t !== 'number' || !Number.isInteger(t)))
      throw new KeyVaultError(400, 'BadParameter', `Property "${key}" must be an integer (seconds since the epoch).`);
    out[key] = t as number | null;
  }
  return out;
}

function tagsOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new KeyVaultError(400, 'BadParameter', 'Property "tags" must be an object.');
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(v as Record<string, unknown>)) {
    if (typeof t !== 'string' || k.length > 512 || t.length > 256)
      throw new KeyVaultError(400, 'BadParameter', 'Tag names are at most 512 and values at most 256 characters.');
    out[k] = t;
  }
  if (Object.keys(out).length > 15) throw new KeyVaultError(400, 'BadParameter', 'A secret has at most 15 tags.');
  return out;
}

function parseJson(raw: string): Record<string, unknown> {
  try {
    const v = JSON.parse(raw.length === 0 ? '{}' : raw) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new KeyVaultError(400, 'BadParameter', 'The request body is not a JSON object.');
  }
}

function defaultCode(status: number): string {
  if (status === 429) return 'Throttled';
  if (status === 401) return 'Unauthorized';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'NotFound';
  if (status === 409) return 'Conflict';
  if (status >= 500) return status === 503 ? 'ServiceUnavailable' : 'InternalServerError';
  return 'BadParameter';
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached';
  if (status === 403) return "The user, group or application does not have secrets get permission on key vault 'test-vault'.";
  if (status >= 500) return 'The service is temporarily unavailable.';
  return 'The request failed.';
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-ms-request-id': randomUUID(),
    'x-ms-keyvault-service-version': '1.9.0.0',
  });
  res.end(text);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1_048_576) throw new KeyVaultError(413, 'RequestTooLarge', 'The request body is too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
