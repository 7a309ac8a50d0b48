/**
 * Fuzz target: the Fetch adapter's body reader (`readRequestBody`) and `withVerification`, on real
 * `Request` objects: a streamed body (closed, or left open after more than the limit), a byte or
 * string body, no body, an already-read body; any `Content-Length` and `Content-Encoding` (gzip and
 * deflate really compressed, unsupported codings, a declared coding the bytes do not have); limits
 * from 1 byte to the default, and invalid ones.
 *
 * Properties (a reference model of what a correct reader answers, lib/body-model.ts):
 * 1. An invalid `maxBodyBytes` → the documented `TypeError`; an already-read body → `BODY_NOT_RAW`;
 *    415 / 413 / 400 as for the node reader; otherwise exactly the bytes sent, decoded. Nothing else
 *    is thrown, and the answer comes at once — an open stream over the limit included (2 s is a hang).
 * 2. The request's own body is still readable afterwards and holds the bytes as sent.
 * 3. Through `withVerification` with a signed request: the same statuses; else the handler runs with
 *    exactly the decoded bytes, can still read the request body (decoded when it was compressed, as
 *    sent otherwise), and answers 204.
 */
import { createVerifier, providers, sign } from '@keyturn/core';
import { readRequestBody, withVerification } from '@keyturn/core/adapters/fetch';
import { check, describe, expectTypeError } from '../lib/checks.ts';
import {
  concat,
  effective,
  encodeBody,
  expectNotRaw,
  expectRead,
  readBodyCase,
  rechunk,
  validLimit,
  withinTime,
} from '../lib/body-model.ts';
import { Input } from '../lib/input.ts';
import { UTF8_SECRETS } from '../lib/secrets.ts';

const profile = providers.mobway();
const verifier = createVerifier({ provider: profile, keys: [{ id: 'k', secret: UTF8_SECRETS[0], role: 'active' }] });
const KINDS = ['closed', 'open', 'bytes', 'string', 'none'] as const;

export async function fuzz(data: Buffer): Promise<void> {
  const input = new Input(data);
  const flags = input.byte();
  const c = readBodyCase(input);
  const limit = effective(c);
  let kind: (typeof KINDS)[number] = KINDS[flags % 5] as (typeof KINDS)[number];
  const plainSent = concat(c.chunks);
  let encoded = encodeBody(plainSent, input.byte());
  if (kind === 'string' || kind === 'none')
    encoded = {
      wire: plainSent,
      coding: encoded.kind === 'unsupported' ? encoded.coding : undefined,
      kind: encoded.kind === 'unsupported' ? 'unsupported' : 'identity',
    };
  // An open stream is only left open once more than the limit was sent (else it is just not finished).
  if (kind === 'open' && encoded.wire.length <= limit) kind = 'closed';
  // Reading a request without a body leaves bodyUsed false: there is nothing to lose.
  const consumed = (flags & 0x20) !== 0 && kind !== 'none';
  if (consumed && kind === 'open') kind = 'closed'; // an open stream cannot be read to its end first
  const viaHandler = (flags & 0x40) !== 0;

  let wire: Buffer;
  let plain: Buffer;
  let body: BodyInit | null;
  if (kind === 'none') {
    wire = plain = Buffer.alloc(0);
    body = null;
  } else if (kind === 'string') {
    const text = new TextDecoder().decode(plainSent);
    wire = plain = Buffer.from(text, 'utf8');
    body = text;
  } else {
    wire = encoded.wire;
    plain = plainSent;
    if (kind === 'bytes') body = new Uint8Array(wire);
    else {
      const chunks = encoded.kind === 'compressed' ? rechunk(wire, c.chunks.length) : c.chunks.map((x) => Buffer.from(x));
      const open = kind === 'open';
      body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next !== undefined) controller.enqueue(new Uint8Array(next));
          else if (!open) controller.close();
        },
      });
    }
  }
  const headers = new Headers(sign(profile, { body: plain, secret: UTF8_SECRETS[0] }));
  try {
    if (c.contentLength !== undefined) headers.set('content-length', c.contentLength);
    if (encoded.coding !== undefined) headers.set('content-encoding', encoded.coding);
  } catch {
    return; // not a header value a runtime would deliver
  }
  const request = new Request('http://127.0.0.1/webhook', {
    method: 'POST',
    headers,
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  if (consumed) await request.arrayBuffer();
  const options = c.limit === undefined ? {} : { maxBodyBytes: c.limit };
  // What the runtime delivers (Headers trims whitespace around values).
  const delivered = headers.get('content-length');
  const declared = delivered !== null && /^\d{1,15}$/.test(delivered) ? Number(delivered) : undefined;
  const what = `${kind}, ${encoded.kind}, ${wire.length} bytes, limit ${limit}`;

  if (!viaHandler) {
    if (!validLimit(c.limit)) {
      const r = await withinTime(readRequestBody(request, options), 2_000, `readRequestBody (${what})`);
      return void expectTypeError(r.error);
    }
    const r = await withinTime(readRequestBody(request, options), 2_000, `readRequestBody (${what})`);
    if (consumed) return expectNotRaw(r.error);
    expectRead(r, c, { ...encoded, wire }, plain, declared);
    if (r.error === undefined) {
      check(!request.bodyUsed, 'readRequestBody consumed the request body');
      const again = Buffer.from(await request.arrayBuffer());
      check(again.equals(wire), 'the request body is not readable afterwards with the same bytes');
    }
    return;
  }

  let seen: Buffer | undefined;
  let readAfter: Buffer | undefined;
  let handler: (request: Request) => Promise<Response>;
  try {
    handler = withVerification(
      verifier,
      async (req, verified) => {
        seen = Buffer.from(verified.body);
        readAfter = Buffer.from(await req.arrayBuffer());
        return new Response(null, { status: 204 });
      },
      { ...options, onError: () => undefined },
    );
  } catch (err) {
    check(!validLimit(c.limit), () => `withVerification refused valid options: ${describe(err)}`);
    return void expectTypeError(err);
  }
  check(validLimit(c.limit), () => `withVerification accepted maxBodyBytes ${String(c.limit)}`);
  const r = await withinTime(handler(request), 2_000, `withVerification (${what})`);
  check(r.error === undefined, () => `withVerification threw ${describe(r.error)}`);
  const status = (r.value as Response).status;
  if (consumed) return check(status === 500, () => `an already-read body answered ${status}, expected 500`);
  const expected =
    encoded.kind === 'unsupported'
      ? [415]
      : declared !== undefined && declared > limit
        ? [413]
        : encoded.kind === 'malformed'
          ? wire.length > limit
            ? [400, 413]
            : [400]
          : wire.length > limit || plain.length > limit
            ? [413]
            : [204];
  check(expected.includes(status), () => `${what}: answered ${status}, expected ${expected.join(' or ')}`);
  if (status !== 204) return;
  check(seen?.equals(plain) === true, 'the handler saw other bytes than were sent');
  // A decoded body reaches the handler decoded (a rebuilt request), any other as sent.
  const forHandler = encoded.kind === 'compressed' && body !== null ? plain : wire;
  check(
    readAfter?.equals(forHandler) === true,
    () => `the handler read ${readAfter?.length} bytes from the request, expected ${forHandler.length} (${encoded.kind})`,
  );
}
