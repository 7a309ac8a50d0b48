// Serves a Fetch handler ((Request) => Promise<Response>) on node:http, the way Node hosts of the
// Fetch adapter do (Next.js on Node, Hono's node server): the request body is handed over as a
// streaming ReadableStream, never buffered first, so an open upload reaches the adapter as one.
import { createServer } from 'node:http';

/**
 * A web ReadableStream over an IncomingMessage, with backpressure. Cancelling it stops listening
 * and lets the rest drain (so the answer can still be written); it never destroys the socket.
 * @param {import('node:http').IncomingMessage} req
 */
function bodyStream(req) {
  let done = false;
  return new ReadableStream(
    {
      start(controller) {
        req.on('data', (chunk) => {
          if (done) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.on('end', () => {
          if (done) return;
          done = true;
          controller.close();
        });
        req.on('error', (err) => {
          if (done) return;
          done = true;
          controller.error(err);
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        done = true;
        req.resume();
      },
    },
    { highWaterMark: 65_536, size: (chunk) => chunk.byteLength },
  );
}

/**
 * @param {(request: Request) => Promise<Response>} handler
 * @returns {import('node:http').Server}
 */
export function fetchServer(handler) {
  return createServer(async (req, res) => {
    try {
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
        method: req.method,
        headers,
        ...(hasBody ? { body: bodyStream(req), duplex: 'half' } : {}),
      });
      const response = await handler(request);
      const out = {};
      response.headers.forEach((value, name) => {
        out[name] = value;
      });
      // An upload that was not read to its end: answer, then close the connection.
      if (hasBody && !req.complete) out['connection'] = 'close';
      res.writeHead(response.status, out);
      if (response.body !== null) for await (const chunk of response.body) res.write(chunk);
      res.end();
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  });
}
