/**
 * Fuzz target: the node and Express adapters' body reader (`readNodeBody`), on real
 * `http.IncomingMessage` streams: chunks pushed before and after the read starts, any
 * `Content-Length` and `Content-Encoding` (gzip and deflate really compressed, unsupported codings,
 * a declared coding the bytes do not have), limits from 1 byte to the default and invalid ones, a
 * raw copy a body parser kept (`req.rawBody`, `req.body` as Buffer, Uint8Array view or string), a
 * parsed object, an already-consumed stream, a stream that errors or whose client goes away.
 *
 * Properties (a reference model of what a correct reader answers, lib/body-model.ts):
 * 1. An invalid `maxBodyBytes` → the documented `TypeError`. A raw copy is used as is (413 when
 *    over the limit); else a consumed stream → `BODY_NOT_RAW` (with the Express hint when asked);
 *    else 415 for an unsupported coding, 413 for a declared length, the bytes as sent or the bytes
 *    decoded over the limit, 400 for a body that is not in its declared coding; otherwise exactly the
 *    bytes sent, decoded.
 * 2. A stream error rejects with that error, a client that went away with an error (or 413 if the
 *    limit was crossed first) — never a body. Nothing else is thrown, and the answer comes at once
 *    (2 s is a hang).
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { BodyTooLargeError } from '@keyturn/core/adapters/node';
import { EXPRESS_PARSED_HINT } from '@keyturn/core/adapters/express';
import { readNodeBody } from '@keyturn/core/adapters/node';
import { check, describe, expectTypeError } from '../lib/checks.ts';
import {
  concat,
  effective,
  encodeBody,
  expectNotRaw,
  expectRead,
  expectTooLarge,
  readBodyCase,
  rechunk,
  validLimit,
  withinTime,
} from '../lib/body-model.ts';
import { Input } from '../lib/input.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function fuzz(data: Buffer): Promise<void> {
  const input = new Input(data);
  const flags = input.byte();
  const c = readBodyCase(input);
  const limit = effective(c);
  const copy = flags % 7; // 0-2 stream; 3 rawBody Buffer; 4 body Buffer; 5 body Uint8Array view; 6 body string
  const parsedObject = (flags & 0x08) !== 0;
  const consumed = (flags & 0x10) !== 0;
  const failure = (flags >> 5) % 4; // 0 none, 1 error, 2 client gone, 3 none
  const before = input.int(c.chunks.length + 1); // chunks pushed before the read starts
  const express = input.bool();
  const plain = concat(c.chunks);
  const encoded = encodeBody(plain, input.byte());
  const chunks = encoded.kind === 'compressed' ? rechunk(encoded.wire, c.chunks.length) : c.chunks.map((x) => Buffer.from(x));

  const req = new IncomingMessage(new Socket());
  req.headers = {
    ...(c.contentLength === undefined ? {} : { 'content-length': c.contentLength }),
    ...(encoded.coding === undefined ? {} : { 'content-encoding': encoded.coding }),
  };
  let captured: Buffer | undefined;
  const r = req as IncomingMessage & { rawBody?: unknown; body?: unknown };
  if (copy === 3) r.rawBody = captured = Buffer.from(plain);
  else if (copy === 4) r.body = captured = Buffer.from(plain);
  else if (copy === 5) {
    const backing = new Uint8Array(plain.length + 4);
    backing.set(plain, 2);
    r.body = backing.subarray(2, 2 + plain.length);
    captured = Buffer.from(plain);
  } else if (copy === 6) {
    const text = new TextDecoder().decode(plain);
    r.body = text;
    captured = Buffer.from(text, 'utf8');
  } else if (parsedObject) r.body = { parsed: true };

  const options = { ...(c.limit === undefined ? {} : { maxBodyBytes: c.limit }), ...(express ? { hint: EXPRESS_PARSED_HINT } : {}) };
  if (!validLimit(c.limit)) {
    try {
      await readNodeBody(req, options);
    } catch (err) {
      expectTypeError(err);
      req.destroy();
      return;
    }
    throw new Error(`PROPERTY: readNodeBody accepted maxBodyBytes ${String(c.limit)}`);
  }

  if (consumed) {
    req.push(null);
    req.resume();
    await new Promise((resolve) => req.once('end', resolve));
  }
  const error = new Error('fuzz: the stream failed');
  const fails = failure === 1 || failure === 2;
  const last = fails ? chunks.length - 1 : chunks.length; // the chunk that is replaced by the failure
  const finish = (): void => {
    if (failure === 1) req.destroy(error);
    else if (failure === 2) {
      // What node:http does when the client goes away mid-body.
      req.emit('aborted');
      req.destroy();
    } else req.push(null);
  };
  const early = consumed ? 0 : Math.max(0, Math.min(before, last));
  for (let i = 0; i < early; i++) req.push(chunks[i]);
  const reading = readNodeBody(req, options);
  const fed = consumed
    ? Promise.resolve()
    : (async () => {
        for (let i = early; i < last; i++) {
          req.push(chunks[i]);
          await tick();
        }
        finish();
      })();
  const result = await withinTime(reading, 2_000, `readNodeBody (${plain.length} bytes, limit ${limit})`);
  await fed;
  req.destroy();

  if (captured !== undefined) {
    if (captured.length > limit) return expectTooLarge(result.error, c, 'a raw copy over the limit');
    check(result.error === undefined, () => `a raw copy was rejected: ${describe(result.error)}`);
    check(Buffer.from(result.value as Buffer).equals(captured), 'the raw copy was not returned as is');
    return;
  }
  if (consumed) {
    expectNotRaw(result.error);
    if (express) check((result.error as { hint?: string }).hint === EXPRESS_PARSED_HINT, 'the Express hint was not used');
    return;
  }
  if (fails && encoded.kind !== 'unsupported' && !(c.declared !== undefined && c.declared > limit)) {
    check(result.error !== undefined, 'a failed stream produced a body');
    if (result.error === error || (failure === 2 && result.error instanceof Error && /abort/i.test(result.error.message))) return;
    const sentBefore = chunks.slice(0, last).reduce((a, x) => a + x.length, 0);
    if (result.error instanceof BodyTooLargeError)
      return check(sentBefore > limit || plain.length > limit, 'a 413 for a failed stream under the limit');
    // A compressed body cut short is malformed; a malformed one is reported as such.
    if ((result.error as { code?: string }).code === 'MALFORMED_CONTENT_ENCODING' && encoded.kind !== 'identity') return;
    throw new Error(`PROPERTY: a failed stream rejected with ${describe(result.error)}`);
  }
  check(Buffer.isBuffer(result.value) || result.error !== undefined, 'readNodeBody did not resolve to a Buffer');
  expectRead(result, c, encoded, plain, c.declared);
}
