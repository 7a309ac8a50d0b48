// Pages Router: POST /api/pages-router/smartcar (in a Pages Router app, pages/api/webhooks/smartcar.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNodeHandler } from '@keyturn/core/adapters/node';
import { verifierFor } from '../../../lib/verifiers';

// Next.js must not parse the body: keyturn verifies the raw bytes.
export const config = { api: { bodyParser: false } };

let handler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;

export default function smartcarWebhook(req: IncomingMessage, res: ServerResponse): Promise<void> {
  handler ??= createNodeHandler(verifierFor('smartcar')!, (_req, res, { result, body }) => {
    const event = JSON.parse(body.toString('utf8'));
    console.log('smartcar event signed with', result.keyId, result.keyRole, Object.keys(event).length, 'fields');
    res.statusCode = 204;
    res.end();
  });
  return handler(req, res);
}
