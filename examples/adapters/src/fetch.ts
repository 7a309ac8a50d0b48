// The Fetch adapter: one module that `bun run`, `deno serve` and Cloudflare Workers serve as is.
import { createVerifier, providers } from '@keyturn/core';
import { withVerification } from '@keyturn/core/adapters/fetch';
import { envKeyStore } from '@keyturn/store-env';

const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

const smartcar = withVerification(verifier, async (request, { result }) => {
  const event = result.event; // typed: SmartcarEvent (and request.json() still works: the body is unread)
  const type = 'eventType' in event ? event.eventType : event.eventName; // a v4.0 or a v2.0 payload
  console.log(type, 'signed with', result.keyId, result.keyRole);
  return new Response(null, { status: 204 });
});

export default {
  fetch(request: Request): Promise<Response> | Response {
    const { pathname } = new URL(request.url);
    if (request.method === 'POST' && pathname === '/webhooks/smartcar') return smartcar(request);
    return new Response('not found', { status: 404 });
  },
};
