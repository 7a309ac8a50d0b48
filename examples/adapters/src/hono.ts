// Hono: the keyturn() middleware, on any runtime Hono runs on.
import { Hono } from 'hono';
import { createVerifier, providers } from '@keyturn/core';
import { keyturn } from '@keyturn/core/adapters/hono';
import { envKeyStore } from '@keyturn/store-env';

const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

const app = new Hono();

app.post('/webhooks/smartcar', keyturn(verifier), async (c) => {
  const { keyId, keyRole } = c.get('keyturn'); // typed through Hono's Variables
  const event = await c.req.json(); // the body is still readable
  console.log(event.eventType, 'signed with', keyId, keyRole);
  return c.body(null, 204);
});

export default app; // Bun, Deno (deno serve) and Workers serve this; on Node: serve(app) from @hono/node-server
