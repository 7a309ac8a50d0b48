// Fastify 5: verify Smartcar webhooks on POST /webhooks/smartcar.
import Fastify from 'fastify';
import { createVerifier, providers } from '@keyturn/core';
import { keyturnFastify } from '@keyturn/core/adapters/fastify';
import { envKeyStore } from '@keyturn/store-env';

const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

export const app = Fastify({ requestTimeout: 30_000, connectionTimeout: 30_000 });

await app.register(async (webhooks) => {
  // Applies to this scope only: the rest of the app keeps its JSON parser.
  await webhooks.register(keyturnFastify, { verifier });
  webhooks.post('/webhooks/smartcar', async (request, reply) => {
    const event = JSON.parse((request.body as Buffer).toString('utf8')); // the raw Buffer
    console.log(event.eventType, 'signed with', request.keyturn?.keyId, request.keyturn?.keyRole);
    return reply.code(204).send();
  });
});

// await app.listen({ port: 3000 });
