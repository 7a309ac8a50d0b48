/**
 * `@keyturn/rotation/testing`: a local Dataspike management API for tests. It speaks the rotate
 * endpoint over real HTTP on 127.0.0.1, records every call, signs deliveries with whatever secret
 * it currently holds (as Dataspike does), and can be told to fail — including after it rotated.
 *
 * @example
 * ```ts
 * const ds = await startDataspikeTestServer({ apiKey: 'test-key', webhooks: { [webhookId]: 'whsec_00…' } });
 * await rotateDataspikeSecret({ apiKey: 'test-key', baseUrl: ds.url, webhookId, store, secretId, graceMs });
 * const headers = ds.sign(webhookId, body); // signed with the secret Dataspike uses now
 * await ds.close();
 * ```
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { providers, sign } from '@keyturn/core';

/** One recorded call. */
export interface DataspikeTestCall {
  /** HTTP method. */
  readonly method: string;
  /** Request path. */
  readonly path: string;
  /** Webhook id from the path, when the route matched. */
  readonly webhookId: string | undefined;
  /** Whether the `ds-api-token` header held the right key. */
  readonly authorized: boolean;
  /** Status answered (`0` when the connection was dropped). */
  readonly status: number;
  /** Whether this call rotated the secret. */
  readonly rotated: boolean;
}

/** A programmed failure for the next rotate call(s). */
export interface DataspikeTestFailure {
  /** HTTP status to answer with, or `'drop'` to destroy the connection without an answer. */
  readonly respond: number | 'drop';
  /** Whether the secret rotates before the failure (the answer carrying the new secret is lost). */
  readonly afterRotate?: boolean;
  /** `Retry-After` seconds for a 429. */
  readonly retryAfterSeconds?: number;
}

/** Options of {@link startDataspikeTestServer}. */
export interface DataspikeTestServerOptions {
  /** The API key the server accepts. */
  apiKey: string;
  /** Webhook id → current secret (`whsec_<hex>`). */
  webhooks: Record<string, string>;
}

/** A running local Dataspike API. */
export interface DataspikeTestServer {
  /** Base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** Every call so far. */
  readonly calls: readonly DataspikeTestCall[];
  /** The secret Dataspike signs with now. */
  currentSecret(webhookId: string): string;
  /** Every secret the webhook has had, oldest first. */
  history(webhookId: string): readonly string[];
  /** Queues failures for the next rotate calls, in order. */
  failNext(...failures: DataspikeTestFailure[]): void;
  /** Signs a delivery the way Dataspike does, with the current secret. */
  sign(webhookId: string, body: string, options?: { timestamp?: number; secret?: string }): Record<string, string>;
  /** Stops the server. */
  close(): Promise<void>;
}

const ROUTE = /^\/api\/v3\/organization\/webhooks\/([^/]+)\/hmac\/rotate$/;

/** Starts a local Dataspike management API on 127.0.0.1 (random port). */
export async function startDataspikeTestServer(options: DataspikeTestServerOptions): Promise<DataspikeTestServer> {
  const secrets = new Map<string, string[]>(Object.entries(options.webhooks).map(([id, s]) => [id, [s]]));
  const calls: DataspikeTestCall[] = [];
  const failures: DataspikeTestFailure[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const match = ROUTE.exec(path);
    const webhookId = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const authorized = req.headers['ds-api-token'] === options.apiKey;
    const record = (status: number, rotated: boolean): void => {
      calls.push({ method: req.method ?? '', path, webhookId, authorized, status, rotated });
    };
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record(status, status === 200);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (match === null || webhookId === undefined) return json(404, { error: 'not found' });
    if (req.method !== 'POST') return json(405, { error: 'method not allowed' });
    if (!authorized) return json(401, { error: 'unauthorized' });
    const history = secrets.get(webhookId);
    if (history === undefined) return json(404, { error: 'webhook not found' });
    const failure = failures.shift();
    let rotated = false;
    if (failure === undefined || failure.afterRotate === true) {
      history.push(`whsec_${randomBytes(32).toString('hex')}`);
      rotated = true;
    }
    if (failure !== undefined) {
      if (failure.respond === 'drop') {
        record(0, rotated);
        res.socket?.destroy();
        return;
      }
      record(failure.respond, rotated);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
      res.writeHead(failure.respond, headers);
      res.end(JSON.stringify({ error: 'injected failure' }));
      return;
    }
    record(200, true);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ hmac_signing_secret: history[history.length - 1] }));
  };

  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const profile = providers.dataspike();

  const current = (webhookId: string): string => {
    const history = secrets.get(webhookId);
    if (history === undefined) throw new Error(`unknown webhook ${webhookId}`);
    return history[history.length - 1] as string;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    currentSecret: current,
    history: (webhookId) => [...(secrets.get(webhookId) ?? [])],
    failNext: (...f) => void failures.push(...f),
    sign: (webhookId, body, o = {}) => sign(profile, { body, secret: o.secret ?? current(webhookId), timestamp: o.timestamp }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
