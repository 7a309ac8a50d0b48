// Express 5: verify Smartcar webhooks on POST /webhooks/smartcar.
import express from 'express';
import { createVerifier, providers } from '@keyturn/core';
import { createExpressMiddleware } from '@keyturn/core/adapters/express';
import { envKeyStore } from '@keyturn/store-env';

// SMARTCAR_AMT=<token>; during a rotation also SMARTCAR_AMT_PREVIOUS=<old token>.
const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

export const app = express();

// The webhook route comes BEFORE app.use(express.json()): the middleware needs the raw body.
app.post('/webhooks/smartcar', createExpressMiddleware(verifier), (req, res) => {
  const event = JSON.parse((req.body as Buffer).toString('utf8')); // req.body is the raw Buffer
  console.log(event.eventType, 'signed with', req.keyturn?.keyId, req.keyturn?.keyRole);
  res.sendStatus(204);
});

app.use(express.json()); // for every other route

// app.listen(3000);
