// Hono: the keyturn() middleware, on any runtime Hono runs on.
import { Hono } from 'hono';
import { createVerifier, providers } from '@keyturn/core';
import { keyturn } from '@keyturn/core/adapters/hono';
import { envKeyStore } from '@keyturn/store-env';

const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

const app = new Hono();

app.post('/webhooks/smartcar', keyturn(verifier), async (c) => {
  const { event, keyId, keyRole } = c.get('keyturn'); // typed through Hono's Variables: event is a SmartcarEvent
  const type = 'eventType' in event ? event.eventType : event.eventName; // a v4.0 or a v2.0 payload
  console.log(type, 'signed with', keyId, keyRole); // (and c.req.json() still works: the body is unread)
  return c.body(null, 204);
});

export default app; // Bun, Deno (deno serve) and Workers serve this; on Node: serve(app) from @hono/node-server
