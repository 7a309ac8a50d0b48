/**
 * The receiving side: a plain node:http server that verifies Smartcar, Dataspike and Mobway
 * webhooks with keyturn's node adapter, keys from environment variables (envKeyStore).
 *
 * What the sender gets back is generic (`{"ok":true}`, `{"error":"invalid signature"}`, the VERIFY
 * answer): which key matched, or why a request was refused, is logged here, on the receiver, and
 * never sent to whoever posted the request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVerifier, providers, type Verifier } from '@keyturn/core';
import { createNodeHandler, type AdapterError } from '@keyturn/core/adapters/node';
import { envKeyStore } from '@keyturn/store-env';

export type Provider = 'smartcar' | 'dataspike' | 'mobway';

/** One request as the receiver logged it. */
export interface ReceiverLogEntry {
  readonly provider: Provider;
  /** The status the sender got. */
  readonly status: number;
  /** The key that verified the request. */
  readonly keyId?: string | undefined;
  readonly keyRole?: string | undefined;
  /** Why the request was refused. */
  readonly code?: string | undefined;
}

export interface Receiver {
  readonly url: string;
  readonly verifiers: Readonly<Record<Provider, Verifier>>;
  /** What the receiver logged, one entry per webhook request, in order. */
  readonly log: readonly ReceiverLogEntry[];
  close(): Promise<void>;
}

/** Starts the receiver on 127.0.0.1 with a random port. */
export async function startReceiver(env: Record<string, string | undefined>, now: () => number): Promise<Receiver> {
  const store = envKeyStore({ env });
  const common = { keys: store, now, windowLeewayMs: 0 } as const;
  const verifiers: Record<Provider, Verifier> = {
    smartcar: createVerifier({ ...common, provider: providers.smartcar(), secretId: 'SMARTCAR_AMT' }),
    dataspike: createVerifier({ ...common, provider: providers.dataspike(), secretId: 'DATASPIKE_WEBHOOK_SECRET' }),
    mobway: createVerifier({ ...common, provider: providers.mobway(), secretId: 'MOBWAY_WEBHOOK_SECRET' }),
  };
  const log: ReceiverLogEntry[] = [];

  const handlers = new Map(
    (Object.keys(verifiers) as Provider[]).map((provider) => {
      const verifier = verifiers[provider];
      const handler = createNodeHandler(
        verifier,
        async (_req, res, { result, body }) => {
          // Smartcar's VERIFY handshake, answered with the key that verified it (so a sender already
          // on a new token gets an answer it accepts). Only a verified body gets here to be parsed.
          const answer = verifier.isChallenge(body)
            ? JSON.stringify(await verifier.answerChallenge(body, { keyId: result.keyId }))
            : '{"ok":true}';
          log.push({ provider, status: 200, keyId: result.keyId, keyRole: result.keyRole });
          res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
        },
        {
          answerChallenges: false,
          // The details of a refusal stay here; the sender gets the generic body.
          onError: (error: AdapterError) => {
            const { status = 500, code, keyId } = error as { status?: number; code?: string; keyId?: string };
            log.push({ provider, status, code: code ?? error.name, keyId });
          },
        },
      );
      return [provider, handler] as const;
    }),
  );

  const server: Server = createServer((req, res) => {
    // A Map lookup, not a property lookup: `/constructor` or `/__proto__` find no provider.
    const handler = req.method === 'POST' ? handlers.get((req.url ?? '').slice(1) as Provider) : undefined;
    if (handler === undefined) {
      res.writeHead(404).end();
      return;
    }
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    verifiers,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
