// The runtime-neutral smoke app: replays the shared vectors through the Fetch adapter of the BUILT
// package. Each runtime entry (bun.mjs, deno.mjs, worker.mjs) passes in the modules it resolved with
// its own export conditions, so the test also proves which crypto backend each runtime gets.
//
// Routes:
//   GET  /backend              -> { backend, hasSyncHmac }
//   POST /vector/<file>/<i>    -> vector i of test/vectors/<file>.json through withVerification()
//   POST /smartcar             -> Smartcar profile, secret "amt" (VERIFY answered by the adapter)
//   POST /limited              -> /smartcar with maxBodyBytes 1024 and bodyTimeoutMs 400
//   GET  /inprocess            -> statuses of oversized in-process Requests without Content-Length
//                                 (a byte body, an open stream) through /limited's handler
//   POST /hono/smartcar        -> a real Hono app with the keyturn() middleware (@keyturn/core/adapters/hono),
//                                 Smartcar secret "amt"; the handler reads c.get('keyturn') and c.req.json()

/**
 * @param {{ core: any, fetchAdapter: any, honoAdapter: any, Hono: any, crypto: { backendName: string, hasSyncHmac: boolean }, vectors: Record<string, any[]> }} deps
 * @returns {(request: Request) => Promise<Response>}
 */
export function createApp({ core, fetchAdapter, honoAdapter, Hono, crypto, vectors }) {
  const { createVerifier, providers } = core;
  const { withVerification } = fetchAdapter;
  const handlers = new Map();

  const handler = async (request, { result, body }) => {
    // The body must still be readable after verification, and identical to what was verified.
    const again = new Uint8Array(await request.arrayBuffer());
    const same = again.length === body.length && again.every((b, i) => b === body[i]);
    return Response.json({ ok: true, keyId: result.keyId, keyRole: result.keyRole, bodyReadable: same, backend: crypto.backendName });
  };

  function forVector(file, index) {
    const key = `${file}/${index}`;
    let h = handlers.get(key);
    if (h === undefined) {
      const v = vectors[file]?.[index];
      if (v === undefined) return undefined;
      const verifier = createVerifier({
        provider: providers[v.provider](v.options ?? {}),
        keys: [{ id: 'vector-key', secret: v.secret, role: 'active' }],
        now: () => v.now ?? Date.now(),
      });
      h = withVerification(verifier, handler, { onError: () => {} });
      handlers.set(key, h);
    }
    return h;
  }

  const smartcar = withVerification(
    createVerifier({ provider: providers.smartcar(), keys: [{ id: 'amt', secret: 'amt', role: 'active' }] }),
    handler,
    { onError: () => {} },
  );

  const limited = withVerification(
    createVerifier({ provider: providers.smartcar(), keys: [{ id: 'amt', secret: 'amt', role: 'active' }] }),
    handler,
    { maxBodyBytes: 1024, bodyTimeoutMs: 400, onError: () => {} },
  );

  // Oversized bodies the runtime itself builds, so no Content-Length header is set: a byte body
  // and a stream that never closes. Both must be answered 413 at once.
  const inprocess = async () => {
    const bytes = new Request('http://127.0.0.1/limited', { method: 'POST', body: new Uint8Array(4096) });
    const open = new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(2048));
      },
    });
    const stream = new Request('http://127.0.0.1/limited', { method: 'POST', body: open, duplex: 'half' });
    const [a, b] = await Promise.all([limited(bytes), limited(stream)]);
    return Response.json({ bytes: a.status, stream: b.status, declared: bytes.headers.get('content-length') });
  };

  // The Hono middleware, in a real Hono app on this runtime.
  const hono = new Hono();
  hono.post(
    '/hono/smartcar',
    honoAdapter.keyturn(createVerifier({ provider: providers.smartcar(), keys: [{ id: 'amt', secret: 'amt', role: 'active' }] }), {
      onError: () => {},
    }),
    async (c) => {
      const result = c.get('keyturn');
      return c.json({ ok: true, keyId: result.keyId, event: await c.req.json(), backend: crypto.backendName });
    },
  );

  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/hono/')) return hono.fetch(request);
    if (url.pathname === '/backend') return Response.json({ backend: crypto.backendName, hasSyncHmac: crypto.hasSyncHmac });
    if (url.pathname === '/smartcar') return smartcar(request);
    if (url.pathname === '/limited') return limited(request);
    if (url.pathname === '/inprocess') return inprocess();
    const m = /^\/vector\/([a-z0-9-]+)\/(\d+)$/.exec(url.pathname);
    const h = m && forVector(m[1], Number(m[2]));
    if (!h) return new Response('not found', { status: 404 });
    return h(request);
  };
}
