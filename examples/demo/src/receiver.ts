/**
 * The receiving side: a plain node:http server that verifies Smartcar, Dataspike and Mobway
 * webhooks with keyturn, keys from environment variables (envKeyStore).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVerifier, providers, VerificationError, type Verifier } from '@keyturn/core';
import { envKeyStore } from '@keyturn/store-env';

export interface Receiver {
  readonly url: string;
  readonly verifiers: Readonly<Record<'smartcar' | 'dataspike' | 'mobway', Verifier>>;
  close(): Promise<void>;
}

async function rawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the receiver on 127.0.0.1 with a random port. */
export async function startReceiver(env: Record<string, string | undefined>, now: () => number): Promise<Receiver> {
  const store = envKeyStore({ env });
  const common = { keys: store, now, windowLeewayMs: 0 } as const;
  const verifiers = {
    smartcar: createVerifier({ ...common, provider: providers.smartcar(), secretId: 'SMARTCAR_AMT' }),
    dataspike: createVerifier({ ...common, provider: providers.dataspike(), secretId: 'DATASPIKE_WEBHOOK_SECRET' }),
    mobway: createVerifier({ ...common, provider: providers.mobway(), secretId: 'MOBWAY_WEBHOOK_SECRET' }),
  };

  const server: Server = createServer(async (req, res) => {
    const name = (req.url ?? '').slice(1) as keyof typeof verifiers;
    const verifier = verifiers[name];
    if (req.method !== 'POST' || verifier === undefined) {
      res.writeHead(404).end();
      return;
    }
    const body = await rawBody(req);
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };
    try {
      const result = await verifier.verify({ body, headers: req.headers });
      // Smartcar's VERIFY handshake: answer with HMAC(active token, challenge).
      if (verifier.isChallenge(body)) {
        reply(200, { ...(await verifier.answerChallenge(body, { keyId: result.keyId })), keyId: result.keyId, keyRole: result.keyRole });
        return;
      }
      reply(200, { ok: true, keyId: result.keyId, keyRole: result.keyRole });
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      // The sender gets the profile's status and a generic body; the code is for our logs.
      reply(err.status, { error: 'webhook rejected', code: err.code, keyId: err.keyId });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    verifiers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
