// Express 5: verify Smartcar webhooks on POST /webhooks/smartcar.
import express from 'express';
import { createVerifier, providers, type SmartcarEvent, type VerifyResult } from '@keyturn/core';
import { createExpressMiddleware } from '@keyturn/core/adapters/express';
import { envKeyStore } from '@keyturn/store-env';

// SMARTCAR_AMT=<token>; during a rotation also SMARTCAR_AMT_PREVIOUS=<old token>.
const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

export const app = express();

// The webhook route comes BEFORE app.use(express.json()): the middleware needs the raw body.
app.post('/webhooks/smartcar', createExpressMiddleware(verifier), (req, res) => {
  // req.keyturn is typed for every profile; name this one's event type. (req.body is the raw Buffer.)
  const { event, keyId, keyRole } = req.keyturn as VerifyResult<SmartcarEvent>;
  const type = 'eventType' in event ? event.eventType : event.eventName; // a v4.0 or a v2.0 payload
  console.log(type, 'signed with', keyId, keyRole);
  res.sendStatus(204);
});

app.use(express.json()); // for every other route

// app.listen(3000);
