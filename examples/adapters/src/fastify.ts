// Fastify 5: verify Smartcar webhooks on POST /webhooks/smartcar.
import Fastify from 'fastify';
import { createVerifier, providers, type SmartcarEvent, type VerifyResult } from '@keyturn/core';
import { keyturnFastify } from '@keyturn/core/adapters/fastify';
import { envKeyStore } from '@keyturn/store-env';

const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

export const app = Fastify({ requestTimeout: 30_000, connectionTimeout: 30_000 });

await app.register(async (webhooks) => {
  // Applies to this scope only: the rest of the app keeps its JSON parser.
  await webhooks.register(keyturnFastify, { verifier });
  webhooks.post('/webhooks/smartcar', async (request, reply) => {
    // request.keyturn is typed for every profile; name this one's event type. (request.body is the raw Buffer.)
    const { event, keyId, keyRole } = request.keyturn as VerifyResult<SmartcarEvent>;
    const type = 'eventType' in event ? event.eventType : event.eventName; // a v4.0 or a v2.0 payload
    console.log(type, 'signed with', keyId, keyRole);
    return reply.code(204).send();
  });
});

// await app.listen({ port: 3000 });
