// node:http: a server that only receives Smartcar webhooks.
import { createServer } from 'node:http';
import { createVerifier, providers } from '@keyturn/core';
import { createNodeHandler } from '@keyturn/core/adapters/node';
import { envKeyStore } from '@keyturn/store-env';

const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

export const server = createServer(
  createNodeHandler(
    verifier,
    (req, res, { result }) => {
      const event = result.event; // the verified body as JSON, typed: SmartcarEvent (the raw bytes: context.body)
      const type = 'eventType' in event ? event.eventType : event.eventName; // a v4.0 or a v2.0 payload
      console.log(type, 'signed with', result.keyId, result.keyRole);
      res.writeHead(204).end();
    },
    { maxBodyBytes: 256 * 1024, bodyTimeoutMs: 5_000 },
  ),
);

// server.listen(3000);
