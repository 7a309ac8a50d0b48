import type { IncomingHttpHeaders } from 'node:http';
import { createVerifier, providers, VerificationError } from '@keyturn/core';
import { envKeyStore } from '@keyturn/store-env';

// SMARTCAR_AMT=<new token>  SMARTCAR_AMT_PREVIOUS=<old token>  SMARTCAR_AMT_PREVIOUS_NOT_AFTER=2026-12-01T00:00:00Z
const verifier = createVerifier({ provider: providers.smartcar(), keys: envKeyStore(), secretId: 'SMARTCAR_AMT' });

export async function receive(rawBody: Buffer, headers: IncomingHttpHeaders): Promise<number> {
  try {
    const { event, keyId, keyRole } = await verifier.verify({ body: rawBody, headers });
    // event: the verified body as JSON, typed (SmartcarEvent), parsed when first read
    // keyRole: 'active' | 'pending' | 'previous'
    if ('eventType' in event && event.eventType === 'VEHICLE_STATE') {
      console.log(event.data.vehicle.id, event.data.signals.length, 'signals, signed with', keyId, keyRole);
    }
    return 204;
  } catch (err) {
    if (err instanceof VerificationError) return err.status; // err.code: NO_MATCHING_KEY, KEY_EXPIRED, ...
    throw err;
  }
}
