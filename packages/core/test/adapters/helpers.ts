import type { AddressInfo } from 'node:net';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { createVerifier, KeyStoreError, providers, sign, type KeyStore, type Verifier } from '../../src/index.ts';

export const AMT = 'amt';
export const OLD_AMT = 'old-amt-secret';
/** The published Smartcar vector. */
export const PIZZA = '{"pizza":"pasta"}';
export const PIZZA_SIG = '4c05a8da471f05156ad717baa4017acd13a3a809850b9ca7d3301dcaaa854f70';

/** Smartcar's own SDK: the independent oracle for the VERIFY answer. */
const smartcarSdk = createRequire(import.meta.url)('smartcar') as { hashChallenge(amt: string, challenge: string): string };
export const hashChallenge = (amt: string, challenge: string): string => smartcarSdk.hashChallenge(amt, challenge);

export function smartcarVerifier(): Verifier {
  return createVerifier({
    provider: providers.smartcar(),
    keys: [
      { id: 'amt-2', secret: AMT, role: 'active' },
      { id: 'amt-1', secret: OLD_AMT, role: 'previous' },
    ],
  });
}

export function mobwayVerifier(): Verifier {
  return createVerifier({ provider: providers.mobway(), keys: [{ id: 'mw-1', secret: 'mobway-secret', role: 'active' }] });
}

export const signSmartcar = (body: string | Uint8Array, secret = AMT): Record<string, string> =>
  sign(providers.smartcar(), { body, secret });
export const signMobway = (body: string | Uint8Array): Record<string, string> =>
  sign(providers.mobway(), { body, secret: 'mobway-secret' });

/** A verifier whose results carry a `release` (what replay defence adds), counting calls. */
export function withRelease(verifier: Verifier): { verifier: Verifier; released: () => number } {
  let released = 0;
  const wrapped: Verifier = {
    ...verifier,
    verify: (async (request: Parameters<Verifier['verify']>[0]) => {
      const result = await verifier.verify(request);
      return Object.defineProperty(result, 'release', { value: async () => void released++ });
    }) as Verifier['verify'],
  };
  return { verifier: wrapped, released: () => released };
}

/** A verifier over a store that is down (retryable failures). */
export function downVerifier(): Verifier {
  const store: KeyStore = {
    name: 'down',
    async getVersions() {
      throw new KeyStoreError('store is down', { retryable: true, store: 'down', reason: 'UNAVAILABLE', code: 'ServiceUnavailable' });
    },
  };
  return createVerifier({ provider: providers.mobway(), keys: store, secretId: 'mobway', cache: { loadTimeoutMs: 200 } });
}

export async function listen(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body: body as BodyInit, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** What {@link upload} resolves to: the answer, and when the server closed the connection. */
export interface UploadAnswer {
  status: number;
  text: string;
  headers: IncomingHttpHeaders;
  /** Resolves when the connection is closed (by the server: the client never closes it first). */
  closed: Promise<void>;
  /** Closes the connection from the client side (cleanup). */
  destroy: () => void;
}

/**
 * A raw node:http upload that sends `first` and then, unless `end`, nothing more while keeping the
 * request open: without a `content-length` header it is chunked with no end; with a larger declared
 * length it is a stalled sender. Resolves as soon as the answer has arrived.
 */
export function upload(url: string, first: Uint8Array, headers: Record<string, string> = {}, end = false): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers, closed, destroy: () => void req.destroy() }));
    });
    const closed = new Promise<void>((r) => req.once('close', () => r()));
    req.on('error', reject);
    req.write(first);
    if (end) req.end();
  });
}
