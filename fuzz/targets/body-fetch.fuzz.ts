/**
 * Fuzz target: the Fetch adapter's body reader (`readRequestBody`) and `withVerification`, on real
 * `Request` objects: a streamed body (closed, or left open after more than the limit), a byte or
 * string body, no body, an already-read body; any `Content-Length`; limits from 0 to the default.
 *
 * Properties (a reference model of what a correct reader answers):
 * 1. An already-read body → `BODY_NOT_RAW`; a declared `Content-Length` over the limit, or more
 *    bytes than the limit → `BodyTooLargeError` (413, the limit); otherwise exactly the bytes sent.
 *    Nothing else is ever thrown, and the answer comes at once (an open stream included: 2 s is a hang).
 * 2. The request's own body is still readable afterwards and holds the same bytes.
 * 3. Through `withVerification` with a signed request: 413 / 500 for the cases above, else the
 *    handler runs with exactly those bytes and the request body still readable (204).
 */
import { createVerifier, providers, sign } from '@keyturn/core';
import { readRequestBody, withVerification } from '@keyturn/core/adapters/fetch';
import { check, describe } from '../lib/checks.ts';
import { concat, effective, expectNotRaw, expectTooLarge, readBodyCase, withinTime } from '../lib/body-model.ts';
import { Input } from '../lib/input.ts';
import { KNOWN } from '../lib/known-issues.ts';
import { UTF8_SECRETS } from '../lib/secrets.ts';

const profile = providers.mobway();
const verifier = createVerifier({ provider: profile, keys: [{ id: 'k', secret: UTF8_SECRETS[0], role: 'active' }] });

export async function fuzz(data: Buffer): Promise<void> {
  const input = new Input(data);
  const flags = input.byte();
  const c = readBodyCase(input);
  const limit = effective(c);
  let kind = flags % 5; // 0 closed stream, 1 open stream, 2 bytes, 3 string, 4 none
  if (kind === 1 && c.total <= limit) kind = 0; // an open stream under the limit is just not finished yet
  // Reading a request without a body leaves bodyUsed false: there is nothing to lose.
  const consumed = (flags & 0x20) !== 0 && kind !== 4;
  if (consumed && kind === 1) kind = 0; // an open stream cannot be read to its end first
  const viaHandler = (flags & 0x40) !== 0;

  let sent: Buffer;
  let body: BodyInit | null;
  if (kind === 4) {
    sent = Buffer.alloc(0);
    body = null;
  } else if (kind === 3) {
    const text = new TextDecoder().decode(concat(c.chunks));
    sent = Buffer.from(text, 'utf8');
    body = text;
  } else if (kind === 2) {
    sent = concat(c.chunks);
    body = new Uint8Array(sent);
  } else {
    sent = concat(c.chunks);
    const chunks = c.chunks.map((x) => x.slice());
    const open = kind === 1;
    body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next !== undefined) controller.enqueue(next);
        else if (!open) controller.close();
      },
    });
  }
  const headers = new Headers(sign(profile, { body: sent, secret: UTF8_SECRETS[0] }));
  if (c.contentLength !== undefined) {
    try {
      headers.set('content-length', c.contentLength);
    } catch {
      return; // not a header value a runtime would deliver
    }
  }
  const request = new Request('http://127.0.0.1/webhook', { method: 'POST', headers, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
  if (consumed) await request.arrayBuffer();
  const options = c.limit === undefined ? {} : { maxBodyBytes: c.limit };
  // What the runtime delivers (Headers trims whitespace around values).
  const delivered = headers.get('content-length');
  const declared = delivered !== null && /^\d{1,15}$/.test(delivered) ? Number(delivered) : undefined;
  const declaredOver = declared !== undefined && declared > limit;
  const tooLarge = !consumed && (declaredOver || sent.length > limit);
  const kindName = (['closed', 'open', 'bytes', 'string', 'none'] as const)[kind] as 'closed';
  if (!consumed && KNOWN.fetchOverLimitHangs(kindName, sent.length > limit, declaredOver)) return;

  if (!viaHandler) {
    const r = await withinTime(readRequestBody(request, options), 2_000, `readRequestBody (${kind === 1 ? 'open stream' : 'closed'}, ${sent.length} bytes, limit ${limit})`);
    if (consumed) return expectNotRaw(r.error);
    if (tooLarge) return expectTooLarge(r.error, c, declaredOver ? 'declared Content-Length over the limit' : 'body over the limit');
    check(r.error === undefined, () => `readRequestBody rejected a valid body: ${describe(r.error)}`);
    check(Buffer.from(r.value as Uint8Array).equals(sent), 'readRequestBody returned other bytes than were sent');
    check(!request.bodyUsed, 'readRequestBody consumed the request body');
    const again = Buffer.from(await request.arrayBuffer());
    check(again.equals(sent), 'the request body is not readable afterwards with the same bytes');
    return;
  }

  let seen: Buffer | undefined;
  let readAfter: Buffer | undefined;
  const handler = withVerification(
    verifier,
    async (req, verified) => {
      seen = Buffer.from(verified.body);
      readAfter = Buffer.from(await req.arrayBuffer());
      return new Response(null, { status: 204 });
    },
    { ...options, onError: () => undefined },
  );
  const r = await withinTime(handler(request), 2_000, `withVerification (${kind === 1 ? 'open stream' : 'closed'}, ${sent.length} bytes, limit ${limit})`);
  check(r.error === undefined, () => `withVerification threw ${describe(r.error)}`);
  const status = (r.value as Response).status;
  if (consumed) return check(status === 500, () => `an already-read body answered ${status}, expected 500`);
  if (tooLarge) return check(status === 413, () => `an oversized body answered ${status}, expected 413`);
  check(status === 204, () => `a signed body within the limit answered ${status}`);
  check(seen?.equals(sent) === true, 'the handler saw other bytes than were sent');
  check(readAfter?.equals(sent) === true, 'the handler could not read the request body');
}
