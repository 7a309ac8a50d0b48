/**
 * Fuzz target: the node and Express adapters' body reader (`readNodeBody`), on real
 * `http.IncomingMessage` streams: chunks pushed before and after the read starts, any
 * `Content-Length`, limits from 0 to the default, a raw copy a body parser kept (`req.rawBody`,
 * `req.body` as Buffer, Uint8Array view or string), a parsed object, an already-consumed stream, a
 * stream that errors or is aborted half-way.
 *
 * Properties (a reference model of what a correct reader answers):
 * 1. A raw copy is used as is (413 when over the limit); else a consumed stream → `BODY_NOT_RAW`
 *    (with the Express hint when asked); else a declared `Content-Length` over the limit, or more
 *    bytes than the limit → `BodyTooLargeError` (413, the limit); else exactly the bytes sent.
 * 2. A stream error rejects with that error (or 413 if the limit was crossed first), an abort with
 *    the abort error — never a body. Nothing else is ever thrown, and the answer comes at once.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { EXPRESS_PARSED_HINT } from '@keyturn/core/adapters/express';
import { readNodeBody } from '@keyturn/core/adapters/node';
import { check, describe } from '../lib/checks.ts';
import { concat, effective, expectNotRaw, expectTooLarge, readBodyCase, withinTime } from '../lib/body-model.ts';
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
  const failure = (flags >> 5) % 4; // 0 none, 1 error, 2 abort, 3 none
  const before = input.int(c.chunks.length + 1); // chunks pushed before the read starts
  const express = input.bool();

  const req = new IncomingMessage(new Socket());
  req.headers = c.contentLength === undefined ? {} : { 'content-length': c.contentLength };
  const sent = concat(c.chunks);
  let captured: Buffer | undefined;
  const r = req as IncomingMessage & { rawBody?: unknown; body?: unknown };
  if (copy === 3) r.rawBody = captured = Buffer.from(sent);
  else if (copy === 4) r.body = captured = Buffer.from(sent);
  else if (copy === 5) {
    const backing = new Uint8Array(sent.length + 4);
    backing.set(sent, 2);
    r.body = backing.subarray(2, 2 + sent.length);
    captured = Buffer.from(sent);
  } else if (copy === 6) {
    const text = new TextDecoder().decode(sent);
    r.body = text;
    captured = Buffer.from(text, 'utf8');
  } else if (parsedObject) r.body = { parsed: true };

  if (consumed) {
    req.push(null);
    req.resume();
    await new Promise((resolve) => req.once('end', resolve));
  }
  const error = new Error('fuzz: the stream failed');
  const feed = async (from: number): Promise<void> => {
    for (let i = from; i < c.chunks.length; i++) {
      if (failure === 1 && i === c.chunks.length - 1) {
        req.destroy(error);
        return;
      }
      if (failure === 2 && i === c.chunks.length - 1) {
        req.emit('aborted');
        return;
      }
      req.push(c.chunks[i]);
      if (i >= before) await tick();
    }
    if (failure === 1 && c.chunks.length === 0) req.destroy(error);
    else if (failure === 2 && c.chunks.length === 0) req.emit('aborted');
    else req.push(null);
  };
  if (!consumed) for (let i = 0; i < before && i < c.chunks.length - (failure === 0 || failure === 3 ? 0 : 1); i++) req.push(c.chunks[i]);
  const pushedBefore = consumed ? 0 : Math.min(before, c.chunks.length - (failure === 0 || failure === 3 ? 0 : 1));
  const options = { ...(c.limit === undefined ? {} : { maxBodyBytes: c.limit }), ...(express ? { hint: EXPRESS_PARSED_HINT } : {}) };
  const reading = readNodeBody(req, options);
  const fed = consumed ? Promise.resolve() : feed(Math.max(pushedBefore, 0));
  const result = await withinTime(reading, 2_000, `readNodeBody (${sent.length} bytes, limit ${limit})`);
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
    const hint = (result.error as { hint?: string }).hint;
    if (express) check(hint === EXPRESS_PARSED_HINT, 'the Express hint was not used');
    return;
  }
  const declaredOver = c.declared !== undefined && c.declared > limit;
  if (declaredOver) return expectTooLarge(result.error, c, 'declared Content-Length over the limit');
  if (failure === 1 || failure === 2) {
    check(result.error !== undefined, 'a failed stream produced a body');
    if (result.error instanceof Error && (result.error === error || /aborted/.test(result.error.message))) return;
    const delivered = c.chunks.slice(0, -1).reduce((a, x) => a + x.length, 0);
    check(delivered > limit, () => `a failed stream rejected with ${describe(result.error)}`);
    return expectTooLarge(result.error, c, 'over the limit before the stream failed');
  }
  if (sent.length > limit) return expectTooLarge(result.error, c, 'body over the limit');
  check(result.error === undefined, () => `readNodeBody rejected a valid body: ${describe(result.error)}`);
  check(Buffer.isBuffer(result.value), 'readNodeBody did not resolve to a Buffer');
  check((result.value as Buffer).equals(sent), 'readNodeBody returned other bytes than were sent');
}
