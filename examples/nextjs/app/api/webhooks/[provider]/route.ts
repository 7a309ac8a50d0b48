// App Router: POST /api/webhooks/smartcar, /api/webhooks/dataspike, ...
import { withVerification } from '@keyturn/core/adapters/fetch';
import { verifierFor } from '../../../../lib/verifiers';

// 'nodejs' verifies with node:crypto; 'edge' works as well (WebCrypto). No body-parser setting is
// needed: route handlers get the raw Request, and keyturn reads a clone of its body.
export const runtime = 'nodejs';

const handlers = new Map<string, (request: Request) => Promise<Response>>();

export async function POST(request: Request, context: { params: Promise<{ provider: string }> }): Promise<Response> {
  const { provider } = await context.params;
  let handler = handlers.get(provider);
  if (handler === undefined) {
    const verifier = verifierFor(provider);
    if (verifier === undefined) return Response.json({ error: 'unknown provider' }, { status: 404 });
    handler = withVerification(verifier, async (request, { result }) => {
      const event = await request.json(); // still readable
      console.log(provider, 'event signed with', result.keyId, result.keyRole, Object.keys(event).length, 'fields');
      return new Response(null, { status: 204 });
    });
    handlers.set(provider, handler);
  }
  return handler(request);
}
